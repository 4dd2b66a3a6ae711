import type { StateStore } from '../state/index.js';
import { MIXED_KINDS, STATISTICAL_KINDS, resolveRules } from './config.js';
import { STATS_NS, Z_BINS, type DayStats, type RulesConfig } from './engine.js';

export interface TuneRow {
  rule_id: string;
  kind: string;
  mode: 'observe' | 'alert';
  days: number;
  /** Judged windows (statistical parts) and the spread of their z-scores. */
  windows: number;
  z_mean?: number;
  z_sd?: number;
  detections: number;
  observe_alerts: number;
  alerts: number;
  suppressed: number;
  below_n: number;
  current: { k?: number; n: number };
  suggested: { k?: number; n: number };
  note: string;
}

/** Anomalous-window rate a suggested k aims for (one window in 200). */
const TARGET_WINDOW_RATE = 0.005;
/** Runs of N consecutive anomalous windows a suggested N allows per 30 days. */
const TARGET_RUNS_PER_30D = 1;

/**
 * Per rule: what fired (in observe and alert mode), the observed variance of
 * its baselines, and a suggested k / N, from the engine's daily statistics in
 * the StateStore since `sinceDay` (YYYY-MM-DD).
 *
 * @example
 * tuneReport(cfg.rules, spool.state, '2026-02-01')
 */
export function tuneReport(cfg: RulesConfig, state: StateStore, sinceDay: string): TuneRow[] {
  const rows: TuneRow[] = [];
  for (const r of resolveRules(cfg)) {
    const days = state.list<DayStats>(STATS_NS, `${r.id}|`).filter((d) => d.key.slice(r.id.length + 1) >= sinceDay);
    const agg = { windows: 0, n: 0, sum: 0, sumsq: 0, zhist: new Array<number>(Z_BINS).fill(0), detections: 0, observe: 0, alerts: 0, suppressed: 0, below_n: 0, streaks: {} as Record<string, number> };
    for (const { value: d } of days) {
      agg.windows += d.windows;
      agg.n += d.z.n;
      agg.sum += d.z.sum;
      agg.sumsq += d.z.sumsq;
      // z in the rule's direction: windows the other way (a quiet holiday for an `above` rule) are never
      // detections, at any k, and must not raise the k suggested.
      (d.zhist_dir ?? d.zhist).forEach((c, i) => (agg.zhist[i]! += c));
      agg.detections += d.detections;
      agg.observe += d.observe;
      agg.alerts += d.alerts;
      agg.suppressed += d.suppressed;
      agg.below_n += d.below_n;
      for (const [k, v] of Object.entries(d.streaks)) agg.streaks[k] = (agg.streaks[k] ?? 0) + v;
    }
    const windowed = STATISTICAL_KINDS.has(r.kind) || MIXED_KINDS.has(r.kind);
    const row: TuneRow = {
      rule_id: r.id, kind: r.kind, mode: r.mode, days: days.length, windows: agg.windows,
      detections: agg.detections, observe_alerts: agg.observe, alerts: agg.alerts, suppressed: agg.suppressed, below_n: agg.below_n,
      current: windowed ? { k: r.stat.k, n: r.stat.n } : { n: r.n }, suggested: windowed ? { k: r.stat.k, n: r.stat.n } : { n: r.n }, note: '',
    };
    if (agg.n > 0) {
      const mean = agg.sum / agg.n;
      row.z_mean = round(mean);
      row.z_sd = round(Math.sqrt(Math.max(0, agg.sumsq / agg.n - mean * mean)));
    }
    if (windowed) {
      if (agg.windows < 168) {
        row.note = `only ${agg.windows} judged window(s): keep the defaults until a week of baselines exists`;
      } else {
        // Smallest k (≥ 2, 0.5 steps) at which at most TARGET_WINDOW_RATE of windows exceed it.
        let k = 2;
        for (; k < Z_BINS / 2; k += 0.5) {
          const above = agg.zhist.slice(Math.floor(k * 2)).reduce((a, b) => a + b, 0);
          if (above <= agg.windows * TARGET_WINDOW_RATE) break;
        }
        // Smallest N at which runs of N anomalous windows occur at most TARGET_RUNS_PER_30D per 30 days.
        const span = Math.max(1, days.length);
        let n = 1;
        for (; n < 6; n++) if (((agg.streaks[String(n)] ?? 0) * 30) / span <= TARGET_RUNS_PER_30D) break;
        row.suggested = { k, n: Math.max(n, 2) };
        row.note = `${pct(agg.zhist.slice(Math.floor(r.stat.k * 2)).reduce((a, b) => a + b, 0), agg.windows)} of windows beyond k=${r.stat.k}; ${agg.observe} observe-mode alert(s)`;
      }
    } else {
      row.note = agg.detections
        ? `${agg.detections} detection(s), ${agg.suppressed} suppressed repeat(s): per-event rule, keep N=1 and tune allow lists instead`
        : 'no detections';
    }
    rows.push(row);
  }
  return rows;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
function pct(a: number, b: number): string {
  return b ? `${((a / b) * 100).toFixed(2)}%` : '0%';
}
