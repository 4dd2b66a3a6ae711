import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { BUILTIN_RULES } from '../../core/rules/config.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { CLI, ROOT } from '../helpers/fixtures.js';
import { allScenarios, type Scenario } from './scenarios.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const write = process.env.MLTRAIL_WRITE_SCENARIOS === '1';
const scenarios = allScenarios();

function files(s: Scenario) {
  const dir = join(HERE, s.rule);
  return { dir, events: join(dir, `${s.name}.ndjson`), config: join(dir, `${s.name}.yaml`) };
}
const ndjson = (events: NormalizedEvent[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
const yamlOf = (s: Scenario) => stringify({ rules: s.config });

if (write) {
  for (const s of scenarios) {
    const f = files(s);
    mkdirSync(f.dir, { recursive: true });
    writeFileSync(f.events, ndjson(s.events));
    if (s.config) writeFileSync(f.config, yamlOf(s));
  }
}

function readEvents(path: string): NormalizedEvent[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as NormalizedEvent);
}

function check(s: Scenario, alerts: Alert[]): void {
  expect([...new Set(alerts.map((a) => a.rule_id))].sort(), JSON.stringify(alerts.map((a) => [a.rule_id, a.summary]), null, 1)).toEqual([...new Set(s.expect.map((e) => e.rule_id))].sort());
  for (const want of s.expect) {
    const got = alerts.find((a) => a.rule_id === want.rule_id && a.entity.type === want.entity.type && a.entity.id === want.entity.id);
    expect(got, `${want.rule_id} on ${want.entity.type} ${want.entity.id}; got ${JSON.stringify(alerts.map((a) => [a.rule_id, a.entity]))}`).toBeDefined();
    expect(got!.stage).toBe(BUILTIN_RULES.find((r) => r.id === want.rule_id)!.stage);
    expect(got!.mode).toBe(want.mode ?? 'alert');
    for (const id of want.evidence) expect(got!.evidence).toContain(id);
    const ev = s.events.find((e) => e.id === got!.evidence.at(-1));
    expect(got!.time, 'alert time is the event time of its last evidence').toBe(ev?.time);
  }
}

describe('rule scenarios (event files replayed in event-time order)', () => {
  it('covers every built-in rule with a firing scenario and a near-miss', () => {
    const fired = new Set(scenarios.flatMap((s) => s.expect.map((e) => e.rule_id)));
    const statistical = new Set(['ingestion.volume_anomaly', 'registry.modification_rate', 'serving.error_spike']);
    for (const r of BUILTIN_RULES) {
      if (statistical.has(r.id)) continue; // windowed rules: generated scenarios in statistical.test.ts
      expect(fired.has(r.id), `${r.id} has a firing scenario`).toBe(true);
      expect(scenarios.some((s) => s.rule === r.id && s.name === 'near-miss'), `${r.id} has a near-miss`).toBe(true);
    }
  });

  for (const s of scenarios) {
    it(`${s.rule} / ${s.name}`, () => {
      const f = files(s);
      expect(readFileSync(f.events, 'utf8'), `${f.events} is stale: rerun with MLTRAIL_WRITE_SCENARIOS=1`).toBe(ndjson(s.events));
      const cfg = { rules: RulesConfig.parse(s.config ?? {}) };
      const first = replayEvents(readEvents(f.events), cfg);
      check(s, first.alerts);
      // Same input, same alerts and ids (what serve and a later replay rely on).
      const again = replayEvents(readEvents(f.events).reverse(), cfg);
      expect(again.alerts.map((a) => a.id)).toEqual(first.alerts.map((a) => a.id));
    });
  }
});

describe('mltrail replay CLI on scenario files', () => {
  const cliReady = existsSync(CLI);
  const pick = scenarios.filter((s) => ['cross-platform', 'evaluation.self_approval', 'registry.unapproved_deployment'].includes(s.rule));
  for (const s of pick) {
    it.skipIf(!cliReady)(`replays ${s.rule}/${s.name}.ndjson`, () => {
      const f = files(s);
      const args = [CLI, 'replay', f.events];
      if (s.config) args.push('--config', f.config);
      const out = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MLTRAIL_CONFIG: '' } });
      const alerts = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);
      check(s, alerts);
      const inProcess = replayEvents(readEvents(f.events), { rules: RulesConfig.parse(s.config ?? {}) });
      expect(alerts.map((a) => a.id)).toEqual(inProcess.alerts.map((a) => a.id));
    });
  }
});

describe('alert details across rules', () => {
  it('each details key has one JSON type in every rule (a SIEM maps a field once: Elastic refuses a document whose field clashes with the mapping another rule set)', () => {
    const kinds = new Map<string, Map<string, string>>();
    const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
    for (const s of scenarios) {
      for (const a of replayEvents(s.events, { rules: RulesConfig.parse(s.config ?? {}) }).alerts) {
        for (const [k, v] of Object.entries(a.details ?? {})) {
          const t = kindOf(v);
          if (t === 'null' || t === 'undefined') continue;
          const seen = kinds.get(k) ?? new Map<string, string>();
          if (!seen.has(t)) seen.set(t, a.rule_id);
          kinds.set(k, seen);
        }
      }
    }
    const clashes = [...kinds].filter(([, seen]) => seen.size > 1).map(([k, seen]) => `${k}: ${[...seen].map(([t, rule]) => `${t} (${rule})`).join(', ')}`);
    expect(clashes).toEqual([]);
  });
});
