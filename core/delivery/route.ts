import type { SinkCommonConfig } from '../sink.js';
import type { SpoolRecord } from '../spool/index.js';

const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

/** Fields routing looks at, read from the record body once. */
interface RoutingView {
  stage?: string;
  platform?: string;
  severity?: keyof typeof SEVERITY_RANK;
  mode?: string;
  entity?: { platform?: string };
}

/**
 * Build the predicate that decides whether a spooled record goes to a sink.
 *
 * @example
 * const wanted = routePredicate(cfg.route); batch.filter(wanted)
 */
export function routePredicate(route: SinkCommonConfig['route']): (r: SpoolRecord) => boolean {
  const kinds = new Set(route.kinds);
  const stages = new Set<string>(route.stages);
  const platforms = new Set<string>(route.platforms);
  const minRank = SEVERITY_RANK[route.min_severity];
  // Events need their body read only when filtering by stage or platform; alerts (rare) always are.
  const eventsNeedBody = stages.size > 0 || platforms.size > 0;
  return (r) => {
    if (!kinds.has(r.kind)) return false;
    if (r.kind === 'event' && !eventsNeedBody) return true;
    const v = JSON.parse(r.leanBody ?? r.body) as RoutingView; // routing reads no `raw`
    if (stages.size && !stages.has(v.stage ?? '')) return false;
    const platform = r.kind === 'event' ? v.platform : v.entity?.platform;
    if (platforms.size && platform && !platforms.has(platform)) return false;
    if (r.kind === 'alert') {
      if (!route.observe_alerts && v.mode === 'observe') return false;
      if (SEVERITY_RANK[v.severity ?? 'low'] < minRank) return false;
    }
    return true;
  };
}

/** Split records into batches bounded by count and bytes (a lone oversize record gets its own batch). */
export function splitBatches(records: SpoolRecord[], maxEvents: number, maxBytes: number): SpoolRecord[][] {
  const out: SpoolRecord[][] = [];
  let cur: SpoolRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const b = r.size ?? Buffer.byteLength(r.body);
    if (cur.length && (cur.length >= maxEvents || bytes + b > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += b;
  }
  if (cur.length) out.push(cur);
  return out;
}
