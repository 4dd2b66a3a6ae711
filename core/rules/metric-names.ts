/**
 * How `evaluation.score_drop` reads a logged metric name: which metric of its catalogue it is. Shared by the
 * kind and the config check of its per-metric `thresholds`, so a key that names no metric is an error, not
 * a threshold that never applies.
 */

/** A metric name as spelled loosely: case and separators do not make another metric (`Test-Accuracy` = `test_accuracy`). */
export const looseName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '_');

/**
 * Long names of catalogue metrics, as scikit-learn's functions and MLflow's built-in regressor evaluator
 * (`mlflow.evaluate(model_type="regressor")`) log them: `root_mean_squared_error` is rmse; and Keras's short `acc`.
 * Loosely spelled.
 */
const LONG_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['root_mean_squared_log_error', 'rootmeansquaredlogerror'],
  ['root_mean_squared_error', 'rmse'],
  ['mean_absolute_percentage_error', 'mape'],
  ['mean_squared_error', 'mse'],
  ['mean_absolute_error', 'mae'],
  // Keras (`metrics=["acc"]`: `acc`, `val_acc`) and PyTorch Lightning / torchmetrics logs (`val/acc`) shorten accuracy.
  ['acc', 'accuracy'],
];

/** The catalogue metric a name is, exact or as a separated suffix (`test_accuracy` is accuracy). */
function catalogued(name: string, metrics: Record<string, 'higher' | 'lower'>): { metric: string; dir: 'higher' | 'lower' } | undefined {
  const n = name.toLowerCase();
  if (metrics[n]) return { metric: n, dir: metrics[n] };
  const hit = Object.keys(metrics)
    .sort((a, b) => b.length - a.length)
    .find((m) => n.endsWith(m.toLowerCase()) && /[^a-z0-9]/.test(n.charAt(n.length - m.length - 1)));
  return hit ? { metric: hit.toLowerCase(), dir: metrics[hit]! } : undefined;
}

/**
 * The catalogue metric a logged name is (exact, else a `_`/`-`/`.`-separated suffix: `test_accuracy` is accuracy).
 * Names scikit-learn and MLflow's built-in evaluators log count as the metric they score: a `_score` suffix is
 * dropped (`accuracy_score`, `recall_score`, `r2_score`, `val_roc_auc_score`) and a long name is its short one
 * (`mean_squared_error` is mse) — a name the catalogue holds as written (`f1_score`) stays itself. Trailing words naming
 * the data split or the averaging are read past (`accuracy_val`, `f1_macro`, `loss_test`). Without this,
 * `mlflow.evaluate`'s own metrics (`accuracy_score`, `root_mean_squared_error`) were no metric at all.
 *
 * @example
 * metricOf('test_accuracy', { accuracy: 'higher' }) // { metric: 'accuracy', dir: 'higher' }
 * metricOf('accuracy_score', { accuracy: 'higher' }) // { metric: 'accuracy', dir: 'higher' }
 * metricOf('neg_mean_squared_error', { mse: 'lower' }) // { metric: 'mse', dir: 'higher' }
 */
export function metricOf(name: string, metrics: Record<string, 'higher' | 'lower'>): { metric: string; dir: 'higher' | 'lower' } | undefined {
  const kind = catalogueKind(name, metrics);
  // scikit-learn's `neg_*` scorers (`neg_mean_squared_error`, `neg_log_loss`) negate a loss so that higher is better.
  return kind && isNegated(name) ? { metric: kind.metric, dir: kind.dir === 'higher' ? 'lower' : 'higher' } : kind;
}

/** A negated score (`neg_mean_squared_error`, `cv_neg_rmse`): its sign is the opposite of the metric's (paired with it only with the sign flipped). */
export const isNegated = (name: string) => /(?:^|_)neg_/.test(looseName(name));

/**
 * Words a metric name may end with that say on what data or how it was averaged, not what it measures: Keras-style
 * and hand-written `accuracy_val`, `loss_test`, scikit-learn's averaging `f1_macro`, `precision_weighted`.
 */
const SPLIT_WORDS = ['train', 'training', 'val', 'valid', 'validation', 'test', 'eval', 'evaluation', 'holdout'];
const AVERAGING_WORDS = ['macro', 'micro', 'weighted', 'samples', 'binary'];

/** A name without its trailing split / averaging words (`f1_macro_val` → `f1`); never emptied (`val` stays `val`). */
function withoutQualifiers(loose: string): string {
  let words = loose.split('_');
  while (words.length > 1 && [...SPLIT_WORDS, ...AVERAGING_WORDS].includes(words[words.length - 1]!)) words = words.slice(0, -1);
  return words.join('_');
}

/**
 * How a metric was averaged over classes, as its name says (`f1_macro`, `weighted_f1`): `macro` and `weighted` F1 are
 * two measurements, so a version renaming one to the other is not compared as a drop.
 *
 * @example
 * averagingOf('f1_macro') // 'macro'
 * averagingOf('val_f1') // undefined
 */
export function averagingOf(name: string): string | undefined {
  return looseName(name).split('_').find((w) => AVERAGING_WORDS.includes(w));
}

function catalogueKind(name: string, metrics: Record<string, 'higher' | 'lower'>): { metric: string; dir: 'higher' | 'lower' } | undefined {
  const direct = catalogued(name, metrics);
  if (direct) return direct;
  const stripped = withoutQualifiers(looseName(name));
  if (stripped !== looseName(name)) {
    const bare = catalogued(stripped, metrics);
    if (bare) return bare;
  }
  let loose = stripped;
  // `…_score`: the score of the metric before it (scikit-learn's `accuracy_score`), never a bare `score`.
  if (/._score$/.test(loose)) loose = loose.slice(0, -'_score'.length);
  for (const [long, short] of LONG_NAMES) {
    if (loose === long || loose.endsWith(`_${long}`)) {
      loose = loose.slice(0, loose.length - long.length) + short;
      break;
    }
  }
  return loose === looseName(name) ? undefined : catalogued(loose, metrics);
}

/**
 * The metric a catalogue entry pairs with across versions: an entry kept as written with a `_score` suffix
 * (`f1_score`, as mlflow.evaluate logs it) is the same measurement as its short form (`f1`) when the catalogue
 * holds both, so a version renaming `eval_f1` to `test_f1_score` is still compared with its predecessor.
 *
 * @example
 * pairingKind('f1_score', { f1: 'higher', f1_score: 'higher' }) // 'f1'
 */
export function pairingKind(metric: string, metrics: Record<string, 'higher' | 'lower'>): string {
  const short = metric.endsWith('_score') ? metric.slice(0, -'_score'.length) : undefined;
  return short && Object.keys(metrics).some((m) => m.toLowerCase() === short) ? short : metric;
}
