import type { StateStore } from '../state/index.js';
import type { ResolvedRule } from './config.js';

/**
 * Windowed statistical baselines per rule and entity, kept in the StateStore
 * (namespace `rules.baseline`). Values are aggregated per window (default
 * 1 h); at each window close the value is compared with the robust baseline
 * (median and MAD) of earlier windows in the same seasonal bucket (weekday /
 * weekend × hour by default), so weekly rhythm is not an anomaly. Counts fill
 * empty windows with 0 (up to a week after the series' last event: a longer silence
 * is an outage, not data, whether or not other series kept the clock moving — except
 * in the hours where silence is the series' norm);
 * metric series skip windows without a value (missing is not zero), and so do
 * ratios (failures per request) in windows without a request.
 */
export const BASELINE_NS = 'rules.baseline';
const MAX_FILL_WINDOWS = 168;
const MAX_EVIDENCE = 20;
const RETIRE_AFTER_MS = 35 * 86_400_000;

/** `ratio`: a window's value is the sum of the values over the sum of their `per` (failures over requests). */
export type Agg = 'count' | 'sum' | 'mean' | 'max' | 'ratio';

/**
 * What set a judged window's σ: the baseline's own spread, or the floor that replaced a smaller one —
 * Poisson noise of a count (also of a ratio's numerator, and of a metric that only ever had whole numbers),
 * the resolution of a fraction, the rule's `min_sigma`, or 1 % of the median.
 */
export type SigmaFrom = 'spread' | 'poisson' | 'fraction' | 'min_sigma' | 'relative';

/**
 * σ floor of a metric whose values all lie in [0, 1] and are not all whole numbers (a rate or fraction with
 * no request count known): a tenth of a percentage point. Below the spread real monitors show, so it only
 * replaces a spread of nothing (an always-0 error rate), where it keeps the first small value from a z of 1e9.
 */
const FRACTION_SIGMA = 0.001;

export interface Entity {
  type: string;
  id: string;
  name?: string;
  platform?: string;
}

interface OpenWindow {
  start: number;
  value: number;
  n: number;
  /** A ratio's denominator so far (requests). */
  per?: number;
  evidence: string[];
  lastTime: string;
}

interface Series {
  rule: string;
  label: string;
  entity: Entity;
  agg: Agg;
  first: number;
  /** Windows still accepting values (at most a few: the allowed lateness is short). */
  open: OpenWindow[];
  lastClosed?: number;
  /**
   * Start of the latest window that had a value (or of the window a resumed rule counts again from): windows
   * more than MAX_FILL_WINDOWS after it are a silence, skipped rather than judged or learned as 0.
   */
  lastData?: number;
  buckets: Record<string, number[]>;
  streak: number;
  streakEvidence: string[];
  streakFirst?: string;
  streakSign?: number;
  /** Typical value per event of a `sum` series (bytes or rows per event), for its Poisson floor. */
  unit?: number;
  lastDetail?: Record<string, unknown>;
}

/** One closed window, with its verdict. */
export interface WindowResult {
  rule: string;
  entity: Entity;
  label: string;
  windowStart: string;
  windowEnd: string;
  time: string;
  value: number;
  baseline?: { median: number; sigma: number; samples: number };
  /** What set `baseline.sigma` (the σ the z was judged with). */
  sigmaFrom?: SigmaFrom;
  /** A ratio's numerator and denominator in this window (its value is their quotient). */
  ratio?: { numerator: number; denominator: number };
  z?: number;
  anomalous: boolean;
  /** Consecutive anomalous windows including this one. */
  streak: number;
  evidence: string[];
  /** True while the series is inside its learning period. */
  learning: boolean;
  firstSeen: string;
  /** End of the first window of the anomalous run this window continues (when anomalous). */
  streakFirst?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** True when every sample is 0 (the baseline of a series silent in that hour): its median and MAD are 0, no sort needed. */
function allZero(xs: number[]): boolean {
  for (let i = 0; i < xs.length; i++) if (xs[i] !== 0) return false;
  return true;
}

/**
 * Window bounds as ISO strings, remembered: each hour every series of a rule judges the same window (the silent
 * ones a 0), and their start, end and first-seen times are a few hundred distinct instants. Profiled: building
 * these strings was most of a zero window's judgement on a multi-week workload. Strings are immutable, so one
 * string serves every result.
 */
const ISO_SLOTS = 4096;
const isoMs = new Float64Array(ISO_SLOTS).fill(Number.NaN);
const isoStr: string[] = new Array<string>(ISO_SLOTS).fill('');
function iso(ms: number): string {
  // Direct-mapped by minute (a Map keyed by these non-small integers was itself a tenth of a zero window's cost).
  const i = Math.floor(ms / 60_000) & (ISO_SLOTS - 1);
  if (isoMs[i] === ms) return isoStr[i]!;
  const s = new Date(ms).toISOString();
  isoMs[i] = ms;
  isoStr[i] = s;
  return s;
}

/** The seasonal bucket keys by UTC weekday (0 = Sunday) and hour, built once (seasonKey runs for every window judged). */
const HOUR_OF_WEEK = Array.from({ length: 7 }, (_, day) => Array.from({ length: 24 }, (_, hour) => `${day}-${hour}`));
const WEEKDAY_HOUR = Array.from({ length: 7 }, (_, day) => Array.from({ length: 24 }, (_, hour) => `${day === 0 || day === 6 ? 'we' : 'wd'}-${hour}`));

function seasonKey(startMs: number, seasonality: ResolvedRule['stat']['seasonality'], windowMs: number): string {
  if (seasonality === 'none' || windowMs >= 86_400_000) return 'all';
  let day: number;
  let hour: number;
  if (startMs >= 0 && startMs <= 8.64e15) {
    // The UTC weekday and hour by arithmetic (1970-01-01 was a Thursday): what getUTCDay/getUTCHours say, without a Date.
    const days = Math.floor(startMs / 86_400_000);
    day = (days + 4) % 7;
    hour = Math.floor((startMs - days * 86_400_000) / 3_600_000);
  } else {
    const d = new Date(startMs);
    day = d.getUTCDay();
    hour = d.getUTCHours();
  }
  const table = (seasonality === 'hour_of_week' ? HOUR_OF_WEEK : WEEKDAY_HOUR)[day]?.[hour];
  if (table !== undefined) return table;
  // Not a valid time (NaN): as the keys were always built.
  if (seasonality === 'hour_of_week') return `${day}-${hour}`;
  return `${day === 0 || day === 6 ? 'we' : 'wd'}-${hour}`;
}

/**
 * A series as it is written: without what its key already says — the rule, the entity's type and id, the label
 * (`<rule>|<type>|<id>|<label>`) — nor a streak of nothing and no open window (0, [], []). The hourly windows of
 * every series close together, so each is written again every hour (in the bench, each second's flush): these
 * fields were a third of every write. A key whose rule, type or label holds a `|` does not say them exactly: that
 * series is written whole. Series written whole (by earlier versions) read as before and are written compact.
 */
type StoredSeries = Omit<Series, 'rule' | 'label' | 'entity' | 'open' | 'streak' | 'streakEvidence'> & Partial<Pick<Series, 'rule' | 'label' | 'open' | 'streak' | 'streakEvidence'>> & { entity?: Partial<Entity> };

/** Fields of a series its compact form leaves out or writes only when not empty. */
const NOT_COPIED = new Set(['rule', 'label', 'entity', 'open', 'streak', 'streakEvidence']);

function compactSeries(this: Series): StoredSeries {
  const { rule, label, entity } = this;
  const out: Record<string, unknown> = {};
  if (rule.includes('|') || entity.type.includes('|') || label.includes('|')) {
    out.rule = rule;
    out.label = label;
    out.entity = entity;
  } else {
    let more: Record<string, unknown> | undefined;
    for (const k in entity) if (k !== 'type' && k !== 'id' && entity[k as keyof Entity] !== undefined) (more ??= {})[k] = entity[k as keyof Entity];
    if (more) out.entity = more;
  }
  // Built field by field: measured faster than a rest-spread copy, and it keeps fields added to Series later.
  for (const k in this) if (!NOT_COPIED.has(k)) out[k] = this[k as keyof Series];
  if (this.open.length) out.open = this.open;
  if (this.streak) out.streak = this.streak;
  if (this.streakEvidence.length) out.streakEvidence = this.streakEvidence;
  return out as StoredSeries;
}

/** Give a series its compact JSON form (non-enumerable, so it is not written itself). */
function withCompactJson(s: Series): Series {
  Object.defineProperty(s, 'toJSON', { value: compactSeries, enumerable: false, writable: true, configurable: true });
  return s;
}

/**
 * A series as read from the store, whole again (in place: the write-back cache holds this object, so it is done once
 * per load): what its key says put back, the omitted empty fields restored.
 */
function loadSeries(key: string, stored: StoredSeries): Series {
  const s = stored as Series & StoredSeries;
  if (Object.prototype.hasOwnProperty.call(s, 'toJSON')) return s;
  if (s.rule === undefined) {
    const a = key.indexOf('|');
    const b = key.indexOf('|', a + 1);
    const c = key.lastIndexOf('|');
    s.rule = key.slice(0, a);
    s.label = key.slice(c + 1);
    s.entity = { type: key.slice(a + 1, b), id: key.slice(b + 1, c), ...(s.entity as Omit<Entity, 'type' | 'id'> | undefined) };
  }
  s.open ??= [];
  s.streak ??= 0;
  s.streakEvidence ??= [];
  return withCompactJson(s);
}

/**
 * @example
 * const b = new Baselines(state);
 * b.add(rule, 'events', { type: 'data_source', id: 's3://raw' }, 'count', ev.time, 1, ev.id, clock - grace);
 * b.advance(rule, clock - grace).filter((w) => w.anomalous)
 */
export class Baselines {
  /** Each rule's `<rule>|#closed` key, built once: advance() looks it up for every windowed rule on every event. */
  private readonly markKeys = new Map<string, string>();

  constructor(private readonly state: StateStore) {}

  private key(rule: string, label: string, entity: Entity): string {
    return `${rule}|${entity.type}|${entity.id}|${label}`;
  }

  /**
   * Add one observation to the window containing `time`, then close the
   * series' windows that ended at or before `closeBefore` (the engine's clock
   * minus the allowed lateness). A value for a window already judged is late
   * and ignored: a baseline never rewrites a verdict. A `ratio` series adds `value` to its numerator and
   * `per` to its denominator.
   */
  add(rule: ResolvedRule, label: string, entity: Entity, agg: Agg, time: string, value: number, evidence: string, closeBefore: number, per = 1): WindowResult[] {
    const t = Date.parse(time);
    const w = rule.stat.windowMs;
    const start = Math.floor(t / w) * w;
    const k = this.key(rule.id, label, entity);
    const stored = this.state.get<StoredSeries>(BASELINE_NS, k);
    const s: Series = stored ? loadSeries(k, stored) : withCompactJson({ rule: rule.id, label, entity, agg, first: start, open: [], buckets: {}, streak: 0, streakEvidence: [] });
    if (s.lastClosed !== undefined && start <= s.lastClosed) return [];
    if (s.lastClosed === undefined) s.first = Math.min(s.first, start);
    let c = s.open.find((o) => o.start === start);
    if (!c) {
      c = { start, value: agg === 'max' ? -Infinity : 0, n: 0, evidence: [], lastTime: time };
      s.open.push(c);
      s.open.sort((a, b) => a.start - b.start);
    }
    c.n++;
    if (agg === 'count') c.value += 1;
    else if (agg === 'sum') c.value += value;
    else if (agg === 'max') c.value = Math.max(c.value, value);
    else if (agg === 'mean') c.value += (value - c.value) / c.n;
    else {
      c.value += value;
      c.per = (c.per ?? 0) + per;
    }
    // Keep the latest ids: the alert's time is its last evidence's time.
    c.evidence.push(evidence);
    if (c.evidence.length > MAX_EVIDENCE) c.evidence.shift();
    if (time > c.lastTime) c.lastTime = time;
    const out: WindowResult[] = [];
    this.closeUpTo(rule, s, closeBefore, out);
    this.state.set(BASELINE_NS, k, s);
    return out;
  }

  /**
   * The rule runs again after a time it did not (turned off, then on): each series drops the windows it
   * had open and counts again from the window after the one holding `atMs`; its streak starts over.
   */
  resume(rule: ResolvedRule, atMs: number): void {
    const w = rule.stat.windowMs;
    const current = Math.floor(atMs / w) * w;
    const markKey = `${rule.id}|#closed`;
    for (const { key, value } of this.state.list<StoredSeries>(BASELINE_NS, `${rule.id}|`)) {
      if (key === markKey) continue;
      const s = loadSeries(key, value);
      s.open = [];
      if (s.lastClosed === undefined || s.lastClosed < current) s.lastClosed = current;
      // What the source did while the rule was off is unknown: its silence is counted from here.
      if (s.lastData === undefined || s.lastData < current) s.lastData = current;
      s.streak = 0;
      s.streakEvidence = [];
      this.state.set(BASELINE_NS, key, s);
    }
  }

  /** Close every window of the rule's series that ended at or before `upToMs`. */
  advance(rule: ResolvedRule, upToMs: number): WindowResult[] {
    const boundary = Math.floor(upToMs / rule.stat.windowMs) * rule.stat.windowMs;
    let markKey = this.markKeys.get(rule.id);
    if (markKey === undefined) this.markKeys.set(rule.id, (markKey = `${rule.id}|#closed`));
    const mark = this.state.get<number>(BASELINE_NS, markKey) ?? 0;
    if (boundary <= mark) return [];
    this.state.set(BASELINE_NS, markKey, boundary);
    const out: WindowResult[] = [];
    for (const { key, value: stored } of this.state.list<StoredSeries>(BASELINE_NS, `${rule.id}|`)) {
      if (key === markKey) continue;
      const value = loadSeries(key, stored);
      const { lastClosed, lastData } = value;
      const open = value.open.length;
      const before = out.length;
      this.closeUpTo(rule, value, boundary, out);
      const judged = out.length - before;
      // An entity silent for longer than the baseline history is retired (a new one starts learning afresh).
      if (!value.open.length && value.lastClosed !== undefined && boundary - value.lastClosed > RETIRE_AFTER_MS) this.state.delete(BASELINE_NS, key);
      // Written only when closing changed it: every change closing makes judges a window or moves lastClosed,
      // lastData or the open windows (a series with nothing to close, already closed by its own last value, or a
      // metric's without a value, was written again unchanged: a tenth of the baselines' writes in the bench).
      else if (judged || value.lastClosed !== lastClosed || value.lastData !== lastData || value.open.length !== open) this.state.set(BASELINE_NS, key, value);
    }
    return out;
  }

  /** Close the series' windows ended by `upToMs`, appending their results to `out` (in order). */
  private closeUpTo(rule: ResolvedRule, s: Series, upToMs: number, out: WindowResult[]): void {
    const w = rule.stat.windowMs;
    const boundary = Math.floor(upToMs / w) * w;
    const fills = s.agg === 'count' || s.agg === 'sum';
    while (s.open.length && s.open[0]!.start + w <= boundary) {
      const c = s.open.shift()!;
      if (fills && s.lastClosed !== undefined) this.fillZeros(rule, s, c.start, out);
      // A ratio without requests has no value (not 0): skipped like a metric window without one.
      if (s.agg !== 'ratio') out.push(this.judge(rule, s, c.start, c.value, c.evidence, c.lastTime, c.n));
      else if (c.per) out.push(this.judge(rule, s, c.start, c.value / c.per, c.evidence, c.lastTime, c.n, { numerator: c.value, denominator: c.per }));
      s.lastClosed = c.start;
      s.lastData = c.start;
    }
    if (fills && s.lastClosed !== undefined) this.fillZeros(rule, s, Math.min(boundary, s.open[0]?.start ?? boundary), out);
  }

  /** Judge empty windows (value 0) between the last closed window and `until`, appending their results to `out`. */
  private fillZeros(rule: ResolvedRule, s: Series, until: number, out: WindowResult[]): void {
    const w = rule.stat.windowMs;
    let next = s.lastClosed! + w;
    if ((until - next) / w > MAX_FILL_WINDOWS) {
      // A long silence (outage, retired source): skip it rather than learn or flag a week of zeros.
      s.lastClosed = until - w;
      s.streak = 0;
      s.streakEvidence = [];
      return;
    }
    // Series kept before `lastData` existed count their silence from here.
    s.lastData ??= s.lastClosed!;
    // Up to a week after the series' last value its empty windows count 0 (a source gone quiet is a drop).
    // After that, an empty window where this series usually has values (its bucket's median above 0) is an
    // outage, as when the whole input went quiet: skipped, neither judged nor learned, so the source's
    // baseline is as it was when it went quiet (weeks of zeros learned made its usual traffic an anomaly when
    // it came back). Where silence is the norm (a healthy endpoint's failures) it still counts 0, so the
    // baseline a later burst is judged against keeps growing.
    const quietFrom = s.lastData + (MAX_FILL_WINDOWS + 1) * w;
    for (; next + w <= until; next += w) {
      if (next >= quietFrom) {
        const samples = s.buckets[seasonKey(next, rule.stat.seasonality, w)];
        if (samples?.length && !allZero(samples) && median(samples) > 0) {
          s.lastClosed = next;
          s.streak = 0;
          s.streakEvidence = [];
          continue;
        }
      }
      out.push(this.judge(rule, s, next, 0, [], iso(next + w), 0));
      s.lastClosed = next;
    }
  }

  private judge(rule: ResolvedRule, s: Series, start: number, value: number, evidence: string[], lastTime: string, events: number, ratio?: WindowResult['ratio']): WindowResult {
    const st = rule.stat;
    const bucketKey = seasonKey(start, st.seasonality, st.windowMs);
    const samples = s.buckets[bucketKey] ?? [];
    const res: WindowResult = {
      rule: rule.id, entity: s.entity, label: s.label,
      windowStart: iso(start), windowEnd: iso(start + st.windowMs),
      time: lastTime, value, anomalous: false, streak: 0, evidence,
      learning: start < s.first + st.learningMs, firstSeen: iso(s.first),
    };
    if (ratio) res.ratio = ratio;
    if (samples.length >= st.minSamples) {
      // An all-0 baseline (a silent hour's) has median, MAD and standard deviation 0: what the sorts below find.
      const zero = allZero(samples);
      const med = zero ? 0 : median(samples);
      const mad = zero ? 0 : median(samples.map((x) => Math.abs(x - med)));
      let sigma = 1.4826 * mad;
      if (zero) sigma = 0;
      else if (sigma === 0) {
        // Discrete or near-constant data: MAD collapses to 0, fall back to the standard deviation.
        const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
        sigma = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
      }
      let from: SigmaFrom = 'spread';
      const floor = st.minSigma !== undefined ? { sigma: st.minSigma, from: 'min_sigma' as const } : sigmaFloor(s, samples, med, value, ratio);
      if (floor && floor.sigma > sigma) ({ sigma, from } = floor);
      if (Math.abs(med) * 0.01 > sigma) {
        sigma = Math.abs(med) * 0.01;
        from = 'relative';
      }
      // A constant metric with no unit to go by (always exactly 2.5) keeps a σ of almost 0: any change from it is news.
      sigma = Math.max(sigma, 1e-9);
      const z = (value - med) / sigma;
      const dirOk = st.direction === 'both' || (st.direction === 'above' ? z > 0 : z < 0);
      res.baseline = { median: med, sigma, samples: samples.length };
      res.sigmaFrom = from;
      res.z = z;
      res.anomalous = dirOk && Math.abs(z) > st.k && Math.abs(value - med) >= st.minDelta;
    }
    if (s.agg === 'sum' && events > 0) s.unit = s.unit ? 0.9 * s.unit + 0.1 * (value / events) : value / events;
    samples.push(value);
    if (samples.length > st.history) samples.shift();
    s.buckets[bucketKey] = samples;
    if (res.anomalous) {
      // A run is one direction: above, below, above is three separate blips, not a persisting condition.
      const sign = Math.sign(res.z!);
      if (s.streak > 0 && s.streakSign !== sign) {
        s.streak = 0;
        s.streakEvidence = [];
      }
      s.streakSign = sign;
      if (s.streak === 0) s.streakFirst = lastTime;
      s.streak++;
      s.streakEvidence = [...s.streakEvidence, ...evidence].slice(-3 * MAX_EVIDENCE);
      res.evidence = s.streakEvidence;
      res.streakFirst = s.streakFirst;
    } else {
      s.streak = 0;
      s.streakEvidence = [];
    }
    res.streak = s.streak;
    return res;
  }
}

/**
 * The smallest σ a series' noise allows, when its baseline shows less (an always-0 series shows none):
 * counts are at least Poisson-noisy, sums Poisson in units of their typical event, a ratio Poisson in its
 * numerator at this window's denominator (one failure in 40 requests is 1/40 ± 1/40, not a spike). A metric
 * that only ever had whole numbers is a count reported as a metric (CloudWatch's `Invocation5XXErrors`); one
 * within [0, 1] is a fraction (FRACTION_SIGMA). Other metrics have no unit to go by: `min_sigma` gives one.
 */
function sigmaFloor(s: Series, samples: number[], med: number, value: number, ratio: WindowResult['ratio']): { sigma: number; from: SigmaFrom } | undefined {
  const poisson = (sigma: number) => ({ sigma, from: 'poisson' as const });
  if (s.agg === 'count') return poisson(Math.sqrt(Math.max(Math.abs(med), 1)));
  if (s.agg === 'sum') return s.unit ? poisson(s.unit * Math.sqrt(Math.max(Math.abs(med) / s.unit, 1))) : undefined;
  if (s.agg === 'ratio') return ratio ? poisson(Math.sqrt(Math.max(Math.abs(med) * ratio.denominator, 1)) / ratio.denominator) : undefined;
  if (Number.isInteger(value) && samples.every(Number.isInteger)) return poisson(Math.sqrt(Math.max(Math.abs(med), 1)));
  if (value >= 0 && value <= 1 && samples.every((x) => x >= 0 && x <= 1)) return { sigma: FRACTION_SIGMA, from: 'fraction' };
  return undefined;
}
