/**
 * How `evaluation.score_drop` reads a logged metric name: which metric of its catalogue it is. Shared by the
 * kind and the config check of its per-metric `thresholds`, so a key that names no metric is an error, not
 * a threshold that never applies.
 */

/** A metric name as spelled loosely: case and separators do not make another metric (`Test-Accuracy` = `test_accuracy`). */
export const looseName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '_');

/**
 * The catalogue metric a logged name is (exact, else a `_`/`-`/`.`-separated suffix: `test_accuracy` is accuracy).
 *
 * @example
 * metricOf('test_accuracy', { accuracy: 'higher' }) // { metric: 'accuracy', dir: 'higher' }
 */
export function metricOf(name: string, metrics: Record<string, 'higher' | 'lower'>): { metric: string; dir: 'higher' | 'lower' } | undefined {
  const n = name.toLowerCase();
  if (metrics[n]) return { metric: n, dir: metrics[n] };
  const hit = Object.keys(metrics)
    .sort((a, b) => b.length - a.length)
    .find((m) => n.endsWith(m.toLowerCase()) && /[^a-z0-9]/.test(n.charAt(n.length - m.length - 1)));
  return hit ? { metric: hit.toLowerCase(), dir: metrics[hit]! } : undefined;
}
