import { describe, expect, it } from 'vitest';
import { isIP } from 'node:net';
import { ecsAlert, ecsEvent } from '../../../core/formats/ecs/index.js';
import * as setup from '../../../bridge/sinks/elastic/setup.js';
import { cloudTrailEvent, emptyStringsEvent, gcpEvent, syntheticAlerts, syntheticEvents } from './synthetic.js';

/**
 * The ECS documents must index under the template `mltrail setup elastic`
 * installs: a value whose type the explicit mapping cannot take would be a
 * per-item mapping error at _bulk time (dead-lettered). Walks every leaf of
 * every mapped document and checks it against the mapped type.
 */

type Mapping = { type?: string; enabled?: boolean; properties?: Record<string, Mapping> };

function mappingAt(root: Mapping, path: string[]): Mapping | undefined {
  let m: Mapping | undefined = root;
  for (const p of path) {
    if (!m) return undefined;
    if (m.type === 'flattened' || m.enabled === false) return m;
    m = m.properties?.[p];
  }
  return m;
}

function leaves(v: unknown, path: string[] = [], out: Array<[string[], unknown]> = []): Array<[string[], unknown]> {
  if (Array.isArray(v)) for (const x of v) leaves(x, path, out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out);
  else out.push([path, v]);
  return out;
}

const ok: Record<string, (v: unknown) => boolean> = {
  keyword: (v) => ['string', 'number', 'boolean'].includes(typeof v),
  constant_keyword: (v) => typeof v === 'string',
  match_only_text: (v) => typeof v === 'string',
  ip: (v) => typeof v === 'string' && isIP(v) !== 0,
  date: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  long: (v) => Number.isInteger(v),
  float: (v) => typeof v === 'number',
  double: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  flattened: () => true,
};

const ecsMappings = (setup as { ecsMappings?: () => Mapping }).ecsMappings;

describe.skipIf(!ecsMappings)('ECS documents fit the Elastic index template', () => {
  it('every mapped leaf has a value the mapping accepts', () => {
    const root = ecsMappings!();
    // The walk reaches typed mappings (so the check below can fail).
    expect([mappingAt(root, ['@timestamp'])?.type, mappingAt(root, ['source', 'ip'])?.type, mappingAt(root, ['event', 'severity'])?.type]).toEqual(['date', 'ip', 'long']);
    expect(ok.ip!('private')).toBe(false);
    const docs = [...syntheticEvents(), cloudTrailEvent, gcpEvent, emptyStringsEvent].map(ecsEvent).concat(syntheticAlerts().map(ecsAlert));
    const bad: string[] = [];
    for (const d of docs) {
      for (const [path, value] of leaves(d)) {
        const m = mappingAt(root, path);
        if (!m || m.enabled === false || m.type === undefined) continue; // dynamic or not indexed
        if (path[0] === 'mltrail' && path[1] === 'ml' && path[2] === 'metrics') continue;
        if (!(ok[m.type] ?? (() => true))(value)) bad.push(`${path.join('.')}=${JSON.stringify(value)} (mapped ${m.type})`);
      }
    }
    expect([...new Set(bad)]).toEqual([]);
  });
});
