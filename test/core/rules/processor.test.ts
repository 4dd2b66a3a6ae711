import { describe, expect, it } from 'vitest';
import { main } from '../../../bridge/cli/main.js';
import { replayEvents } from '../../../bridge/replay.js';
import { silentLogger } from '../../../core/log.js';
import { BUILTIN_RULES } from '../../../core/rules/config.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { RuleProcessor } from '../../../core/rules/processor.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';
import { allScenarios } from '../../rules/scenarios.js';
import { diurnal, hourly, ingestionEvent } from './generate.js';

/** Run events the way `serve` does: a file spool, the rule processor as a consumer, restarts in between. */
function serveInChunks(dir: string, events: NormalizedEvent[], chunks: number, rules = RulesConfig.parse({})): Alert[] {
  const size = Math.ceil(events.length / chunks);
  for (let i = 0; i < events.length; i += size) {
    const spool = Spool.open({ dir, synchronous: 'OFF' });
    const proc = RuleProcessor.forConfig(spool, rules, silentLogger());
    spool.transaction(() => spool.appendInTx(events.slice(i, i + size).map((e) => ({ kind: 'event' as const, id: e.id, body: JSON.stringify(e) }))));
    proc.drainNow();
    spool.close();
  }
  const spool = Spool.open({ dir });
  const alerts = spool.listAlerts({ limit: 100_000 }) as Alert[];
  spool.close();
  return alerts;
}

const month = () =>
  hourly(35, 11, (t) => diurnal(t, 6, 2, 1), ingestionEvent('clicks'), [
    { day: 10, hour: 10, hours: 3, count: 40 },
    { day: 30, hour: 10, hours: 3, count: 40 },
  ]);

describe('serve and replay agree', () => {
  it('state persists across restarts and the alerts (ids included) equal the replay', () => {
    const events = [...month(), ...allScenarios().find((s) => s.rule === 'cross-platform')!.events.map((e) => ({ ...e, time: e.time.replace('2026-03-02', '2026-03-20'), received_time: e.time.replace('2026-03-02', '2026-03-20') }))].sort((a, b) => a.time.localeCompare(b.time));
    const rules = RulesConfig.parse({ artifact_mirrors: [{ from: 's3://models/', to: 'gs://mirror/' }] });
    const served = serveInChunks(tmpDir(), events, 7, rules);
    const replayed = replayEvents(events, { rules }).alerts;
    expect(served.map((a) => a.id)).toEqual(replayed.map((a) => a.id));
    expect(served.map((a) => [a.rule_id, a.mode])).toEqual([
      ['ingestion.volume_anomaly', 'observe'],
      ['evaluation.self_approval', 'alert'],
      ['registry.unapproved_deployment', 'alert'],
      ['serving.hash_mismatch', 'alert'],
      ['ingestion.volume_anomaly', 'alert'],
    ]);
  });
});

describe('event time in serve', () => {
  it('events arriving late (CloudTrail minutes behind a webhook source) count in their window: same alerts as the replay', () => {
    const clicks = month(); // arrives 12 minutes after its event time
    const orders = hourly(35, 4, (t) => diurnal(t, 5, 2, 1), ingestionEvent('orders'), [{ day: 31, hour: 14, hours: 3, count: 35 }]);
    const arrival = (e: NormalizedEvent, delay: number) => ({ e: { ...e, received_time: new Date(Date.parse(e.time) + delay).toISOString() }, at: Date.parse(e.time) + delay });
    const arriving = [...clicks.map((e) => arrival(e, 12 * 60_000)), ...orders.map((e) => arrival(e, 0))].sort((a, b) => a.at - b.at).map((x) => x.e);
    const served = serveInChunks(tmpDir(), arriving, 5);
    const replayed = replayEvents(arriving, { rules: RulesConfig.parse({}) }).alerts;
    expect(served.map((a) => [a.entity.id, a.mode, a.details.value])).toEqual(replayed.map((a) => [a.entity.id, a.mode, a.details.value]));
    expect(served.map((a) => a.id)).toEqual(replayed.map((a) => a.id));
    expect(served.map((a) => [a.entity.id, a.mode])).toEqual([['dataset:clicks', 'observe'], ['dataset:clicks', 'alert'], ['dataset:orders', 'alert']]);
  });

  it('a sender\'s own received_time cannot vouch for an event time far ahead: the bridge\'s receipt bounds the clock', () => {
    // Live: each event reaches the bridge when it happens. Halfway, one for another source claims 2099, and so does its received_time.
    const run = (bogus: boolean) => {
      let clock = 0;
      const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF', now: () => clock });
      const proc = RuleProcessor.forConfig(spool, RulesConfig.parse({}), silentLogger());
      const events = month().map((e) => ({ ...e, received_time: e.time }));
      const far = '2099-01-01T00:00:00.000Z';
      if (bogus) events.splice(events.length / 2, 0, { ...ingestionEvent('ds2')(Date.parse(events[events.length / 2]!.time), '2099'), id: 'from-2099', time: far, received_time: far });
      for (const e of events) {
        clock = Math.min(Date.parse(e.time), Date.parse(events[events.indexOf(e) - 1]?.time ?? e.time) + 60_000);
        spool.transaction(() => spool.appendInTx([{ kind: 'event', id: e.id, body: JSON.stringify(e) }]));
        proc.drainNow();
      }
      const alerts = (spool.listAlerts({ limit: 1000 }) as Alert[]).filter((a) => a.rule_id === 'ingestion.volume_anomaly');
      spool.close();
      return alerts.map((a) => [a.entity.id, a.mode, a.time]);
    };
    const clean = run(false);
    expect(clean.map(([id, mode]) => [id, mode])).toEqual([['dataset:clicks', 'observe'], ['dataset:clicks', 'alert']]);
    expect(run(true)).toEqual(clean);
  });

  it('an event stamped days ahead of its receipt does not blind the baseline of its series', () => {
    const events = month();
    const bogus = { ...events[100]!, id: 'from-the-future', time: '2026-04-30T00:00:00.000Z' };
    const alerts = replayEvents([...events, bogus], { rules: RulesConfig.parse({}) }).alerts;
    expect(alerts.map((a) => a.mode)).toEqual(['observe', 'alert']);
  });
});

describe('mltrail rules tune', () => {
  it('reports per rule what fired in observe mode, the observed variance and a suggested k/N from the data dir', async () => {
    const dir = tmpDir();
    serveInChunks(dir, month(), 3);
    let out = '';
    const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: () => true }, stdin: process.stdin, env: {} } as never;
    expect(await main(['rules', 'tune', '--since', '60d', '--data-dir', dir, '--json'], io)).toBe(0);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(rows).toHaveLength(BUILTIN_RULES.length);
    const vol = rows.find((r) => r.rule_id === 'ingestion.volume_anomaly')!;
    expect(vol.windows).toBeGreaterThan(400);
    expect(vol.z_sd).toBeGreaterThan(0);
    expect(vol.observe_alerts).toBe(1);
    expect(vol.observe_alerts_logged).toBe(1);
    expect(vol.alerts).toBe(1);
    expect(vol.observe_entities).toEqual(['dataset:clicks']);
    expect(vol.suggested.k).toBeGreaterThanOrEqual(2);
    expect(vol.suggested.n).toBeGreaterThanOrEqual(2);
    // --since counts back from the newest event time: a 1-day range holds no detections.
    out = '';
    await main(['rules', 'tune', '--since', '1d', '--data-dir', dir, '--json'], io);
    expect(JSON.parse(out.split('\n')[0]!)).toMatchObject({ rule_id: 'ingestion.volume_anomaly', detections: 0 });
    expect(await main(['rules', 'tune', '--since', 'fortnight', '--data-dir', dir], io)).toBe(2);
    expect(await main(['rules', 'tune', '--data-dir', tmpDir()], io)).toBe(2);
  });
});

describe('state written with the cursor at most every stateEveryMs', () => {
  it('a crash before the state write re-evaluates from the cursor: the re-raised alerts are duplicates, none is lost or doubled', async () => {
    const events = [...month(), ...allScenarios().flatMap((s) => s.events)].sort((a, b) => a.time.localeCompare(b.time));
    const rules = RulesConfig.parse({});
    const clean = serveInChunks(tmpDir(), events, 1, rules).map((a) => a.id).sort();
    expect(clean.length).toBeGreaterThan(10);
    const alertIds = (s: Spool) => (s.db.prepare("SELECT id FROM records WHERE kind = 'alert' ORDER BY id").all() as Array<{ id: string }>).map((r) => r.id);

    const dir = tmpDir();
    let spool = Spool.open({ dir, synchronous: 'OFF' });
    spool.transaction(() => spool.appendInTx(events.map((e) => ({ kind: 'event' as const, id: e.id, body: JSON.stringify(e) }))));
    // Evaluate every chunk with commits an hour apart (the first chunk commits: nothing was written yet),
    // then "crash": the pending alerts and the cached state die with the process.
    const crashed = RuleProcessor.forConfig(spool, rules, silentLogger());
    const internals = crashed as unknown as { stateEveryMs: number; processChunk(limit: number): number };
    internals.stateEveryMs = 3_600_000;
    for (let done = 0; done < events.length; ) done += internals.processChunk(200);
    expect(spool.cursor('rules')).toBe(200); // only the first chunk's alerts, state and cursor are on disk
    expect(alertIds(spool).length).toBeLessThan(clean.length);
    expect(clean).toEqual(expect.arrayContaining(alertIds(spool)));
    spool.close();

    spool = Spool.open({ dir, synchronous: 'OFF' });
    const again = RuleProcessor.forConfig(spool, rules, silentLogger());
    again.drainNow();
    expect(spool.cursor('rules')).toBeGreaterThanOrEqual(events.length);
    expect(alertIds(spool)).toEqual(clean);
    spool.close();
  });
});
