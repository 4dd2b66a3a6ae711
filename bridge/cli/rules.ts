import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIo } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { durationMs, type Kind } from '../../core/rules/config.js';
import { KIND_DEFAULTS } from '../../core/rules/defaults.js';
import { createRuleEngine } from '../../core/rules/engine.js';
import { tuneReport } from '../../core/rules/tune.js';
import { Spool } from '../../core/spool/index.js';
import { MemoryStateStore } from '../../core/state/index.js';
import { loadConfig } from '../config.js';
import { common, parse } from './args.js';

export const rulesUsage = `mltrail rules list [--config FILE] [--json]
mltrail rules tune [--since 30d] [--config FILE] [--data-dir DIR] [--json]

list  print the rule catalogue with the current settings.
tune  per rule, from the bridge's data directory: what fired in observe mode,
      the observed variance of its baselines (z-scores), and a suggested k/N.`;

/**
 * `mltrail rules list|tune`.
 *
 * @example
 * await rulesCommand(['tune', '--since', '14d'], io);
 */
/** Settings every rule has, shown in their own columns by `rules list`; the rest are the rule's own. */
const COMMON_SETTINGS = new Set(['enabled', 'severity', 'custom', 'mode', 'suppress', 'suppress_ms', 'window', 'window_ms', 'grace', 'grace_ms', 'quiet_grace', 'quiet_grace_ms', 'k', 'direction', 'n', 'learning', 'learning_ms', 'min_samples', 'seasonality', 'event_n', 'event_learning_ms', 'kind', 'stage', 'id', 'description']);

export async function rulesCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, since: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help || positionals.length === 0) return (io.stdout.write(`${rulesUsage}\n`), values.help ? 0 : 2);
  const sub = positionals[0];
  const cfg = loadConfig({ file: values.config, env: io.env, overrides: values['data-dir'] ? { data_dir: values['data-dir'] } : {} });
  if (sub === 'list') {
    const rules = createRuleEngine(cfg.rules, new MemoryStateStore()).catalogue();
    if (values.json) {
      for (const r of rules) io.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    }
    const w = Math.max(...rules.map((r) => r.id.length));
    for (const r of rules) {
      const s = r.settings as Record<string, unknown>;
      const stat = s.k !== undefined ? ` window=${fmtMs(s.window_ms as number)} k=${s.k} ${s.direction} N=${s.n} learning=${fmtMs(s.learning_ms as number)} grace=${fmtMs(s.grace_ms as number)}` : '';
      const ev = s.event_n !== undefined ? ` ${s.k !== undefined ? 'event-N' : 'N'}=${s.event_n}` : '';
      // The rule's own settings where the config changes them (lookback, production_endpoints, threshold, where…), after the
      // common ones; `--json` shows every one with its default.
      const defaults = KIND_DEFAULTS[r.kind as Kind] as Record<string, unknown>;
      const own = Object.entries(s)
        .filter(([k, v]) => !COMMON_SETTINGS.has(k) && v !== undefined && JSON.stringify(v) !== JSON.stringify(defaults[k]))
        .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join('');
      io.stdout.write(`${r.id.padEnd(w)}  ${r.stage.padEnd(13)} ${(s.enabled ? r.mode : 'off').padEnd(7)} ${String(s.severity).padEnd(8)}${stat}${ev} suppress=${fmtMs(s.suppress_ms as number)}${own}${s.custom ? ' (custom)' : ''}\n`);
      io.stdout.write(`${' '.repeat(w)}  ${r.description}\n`);
    }
    return 0;
  }
  if (sub === 'tune') {
    const since = values.since ?? '30d';
    let sinceMs: number;
    try {
      sinceMs = durationMs(since);
    } catch {
      throw new MltrailError('USAGE', `--since takes a duration such as 7d or 30d, got "${since}"`);
    }
    const dir = resolve(cfg.data_dir);
    if (!existsSync(resolve(dir, 'spool.db'))) throw new MltrailError('USAGE', `no spool at ${dir} (set --data-dir or MLTRAIL_DATA_DIR)`);
    const spool = Spool.open({ dir });
    try {
      // "Since" counts back from the newest event the rules have seen (event time), not the wall clock, so a replayed month tunes too.
      const watermark = spool.state.get<number>('rules.engine', 'watermark') ?? Date.now();
      const sinceDay = new Date(watermark - sinceMs).toISOString().slice(0, 10);
      const rows = tuneReport(cfg.rules, spool.state, sinceDay);
      const observed = spool.listAlerts({ since: new Date(watermark - sinceMs).toISOString(), mode: 'observe', limit: 100_000 }) as Array<{ rule_id: string; entity: { id: string } }>;
      for (const row of rows) {
        const mine = observed.filter((a) => a.rule_id === row.rule_id);
        const out = { ...row, observe_alerts_logged: mine.length, observe_entities: [...new Set(mine.map((a) => a.entity.id))].slice(0, 10) };
        if (values.json) io.stdout.write(`${JSON.stringify(out)}\n`);
        else {
          const k = row.current.k !== undefined ? ` k ${row.current.k}→${row.suggested.k}` : '';
          io.stdout.write(
            `${row.rule_id}: mode=${row.mode} windows=${row.windows}${row.z_sd !== undefined ? ` z(mean=${row.z_mean}, sd=${row.z_sd})` : ''} detections=${row.detections} observe=${mine.length} alerts=${row.alerts} suppressed=${row.suppressed}${k} N ${row.current.n}→${row.suggested.n}\n  ${row.note}\n`,
          );
        }
      }
      io.stderr.write(`rules tune: since ${sinceDay} (event time), data dir ${dir}\n`);
      return 0;
    } finally {
      spool.close();
    }
  }
  throw new MltrailError('USAGE', `unknown rules subcommand "${sub}" (list, tune)`);
}

function fmtMs(ms: number): string {
  if (ms === 0) return '0';
  for (const [u, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}
