import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/log.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { RuleProcessor } from '../../../core/rules/processor.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { tmpDir } from '../../helpers/bridge.js';
import { CT_ACCOUNT, cloudTrailRecord, normalizeSageMaker as normalize } from './cloudtrail.js';
import { diurnal, hourly, ingestionEvent } from './generate.js';

/**
 * A quiet bridge still judges what the next event would have: a deployment of a model never seen, and a
 * source gone silent, are alerts an hour (or the window's grace) later even when nothing else arrives —
 * the night an insider deploys, or the day someone switches the audit trail off.
 */

const MIN = 60_000;
/** Where ct() records happen: SageMaker alert entities are named in their account and region. */
const AT = `${CT_ACCOUNT}:us-east-1:`;
const ct = (eventName: string, time: string, req: Record<string, unknown>) => cloudTrailRecord(eventName, time, req);

// alice points an endpoint at a model created before mltrail watched (never seen), at night, then nothing else
// happens. CloudTrail delivers the endpoint before its config (out of order), so the model's absence is only
// known to be final an hour later.
const deployment = () =>
  normalize([
    ct('CreateEndpoint', '2026-03-02T02:01:00Z', { endpointName: 'fraud-prod', endpointConfigName: 'night' }),
    ct('CreateEndpointConfig', '2026-03-02T02:00:30Z', { endpointConfigName: 'night', productionVariants: [{ variantName: 'A', modelName: 'unseen', initialInstanceCount: 1, instanceType: 'ml.m5.large' }] }),
  ]);
const receiptOf = (events: NormalizedEvent[]) => Math.max(...events.map((e) => Date.parse(e.time)));
const deployAlerts = (alerts: Alert[]) => alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('RuleEngine.tick: an idle bridge judges by the clock', () => {
  it('a deployment of a model never seen is an alert an hour later with no other event, the one the next event would raise', () => {
    const events = deployment();
    const last = receiptOf(events);
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    expect(deployAlerts(events.flatMap((e) => engine.process(e, last)))).toEqual([]);
    expect(deployAlerts(engine.tick(last + 30 * MIN))).toEqual([]);
    const ticked = deployAlerts(engine.tick(last + 75 * MIN));
    expect(ticked.map((a) => [a.entity.id, a.details?.models, a.time])).toEqual([[`${AT}fraud-prod`, ['unseen'], '2026-03-02T02:01:00.000Z']]);

    // The same alert (same id) a later event would have raised.
    const other = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const later = normalize([ct('DescribeEndpoint', '2026-03-02T03:20:00Z', { endpointName: 'other' })]);
    const byEvent = deployAlerts([...events, ...later].flatMap((e) => other.process(e, Math.max(last, Date.parse(e.time)))));
    expect(byEvent).toHaveLength(1);
    expect(ticked.map((a) => a.id)).toEqual(byEvent.map((a) => a.id));
    // Raised once: later ticks have nothing left to judge.
    expect(deployAlerts(engine.tick(last + 3 * 60 * MIN))).toEqual([]);
  });

  it('a backfill keeps its own clock: records a month old wait an hour of receipt too, then are judged', () => {
    const events = deployment();
    const receipt = Date.parse('2026-04-02T12:00:00Z');
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    expect(deployAlerts(events.flatMap((e) => engine.process({ ...e, received_time: new Date(receipt).toISOString() }, receipt)))).toEqual([]);
    expect(deployAlerts(engine.tick(receipt + 30 * MIN))).toEqual([]);
    expect(deployAlerts(engine.tick(receipt + 75 * MIN)).map((a) => a.entity.id)).toEqual([`${AT}fraud-prod`]);
  });

  it('a deployment whose config came is judged, not forgotten, when the next look is more than a day later', () => {
    const events = deployment();
    const last = receiptOf(events);
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    for (const e of events) engine.process(e, last);
    // Nothing for two days (a long weekend), then one event: it used to drop the deployment unjudged.
    const monday = normalize([ct('DescribeEndpoint', '2026-03-04T09:00:00Z', { endpointName: 'other' })])[0]!;
    expect(deployAlerts(engine.process(monday, Date.parse(monday.time))).map((a) => [a.entity.id, a.time])).toEqual([[`${AT}fraud-prod`, '2026-03-02T02:01:00.000Z']]);
  });

  it('near miss: a tick before any event, or with rules disabled, raises nothing', () => {
    expect(createRuleEngine(RulesConfig.parse({}), new MemoryStateStore()).tick(Date.now())).toEqual([]);
    const off = createRuleEngine(RulesConfig.parse({ enabled: false }), new MemoryStateStore());
    for (const e of deployment()) off.process(e, Date.parse('2026-03-02T02:01:00Z'));
    expect(off.tick(Date.parse('2026-03-03T00:00:00Z'))).toEqual([]);
  });

  it('a source that goes silent (the audit trail switched off) is a volume drop once its windows close, with nothing arriving', () => {
    // 30 days of hourly imports, then nothing from anyone after Tuesday 31 March 09:00 (office hours).
    const events = hourly(30, 11, (t) => diurnal(t, 6, 2, 1), ingestionEvent('clicks')).concat(
      hourly(31, 11, (t) => diurnal(t, 6, 2, 1), ingestionEvent('clicks')).filter((e) => e.time >= '2026-04-01T00:00' && e.time < '2026-04-01T09:00'),
    );
    const last = Date.parse(events.at(-1)!.time);
    const drops = (alerts: Alert[]) => alerts.filter((a) => a.rule_id === 'ingestion.volume_anomaly' && a.mode === 'alert');
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    expect(drops(events.flatMap((e) => engine.process(e, Date.parse(e.time))))).toEqual([]);
    const raised: Alert[] = [];
    for (let t = last + MIN; t <= last + 8 * 60 * MIN; t += 10 * MIN) raised.push(...engine.tick(t));
    expect(drops(raised).map((a) => [a.entity.id, (a.details.z as number) < 0])).toEqual([['dataset:clicks', true]]);
  });
});

describe('RuleEngine.tick after the bridge was down', () => {
  it('does not take its own downtime for the sources\' silence: the input that waited is counted when it comes', () => {
    const events = hourly(35, 11, () => 20, ingestionEvent('clicks'));
    const cut = events.findIndex((e) => e.time >= '2026-04-05T02:00');
    const before = events.slice(0, cut);
    const backlog = events.slice(cut, cut + 140);
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const alerts = before.flatMap((e) => engine.process(e, Date.parse(e.time)));
    // Down for 7 hours; restarted: the first tick a minute later, then the senders' resent input.
    const restart = Date.parse(before.at(-1)!.time) + 7 * 60 * MIN;
    alerts.push(...engine.tick(restart + MIN, restart));
    alerts.push(...backlog.flatMap((e) => engine.process(e, restart + 2 * MIN)));
    expect(alerts.filter((a) => a.rule_id === 'ingestion.volume_anomaly' && a.mode === 'alert')).toEqual([]);
    // Near miss: counted from the last receipt (the old clock) the same tick judged the downtime as zeros.
    const naive = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    for (const e of before) naive.process(e, Date.parse(e.time));
    const zeros = [...Array(8)].flatMap((_, i) => naive.tick(restart + MIN + i * 10 * MIN));
    expect(zeros.filter((a) => a.rule_id === 'ingestion.volume_anomaly').length).toBeGreaterThan(0);
  });
});

describe('RuleProcessor: ticks when no event has come for idleTickMs', () => {
  it('serve raises the overdue deployment alert on a quiet bridge and commits it with the state', async () => {
    let wall = Date.parse('2026-03-02T02:01:30Z');
    const dir = tmpDir();
    const spool = Spool.open({ dir, synchronous: 'OFF', now: () => wall });
    const proc = RuleProcessor.forConfig(spool, RulesConfig.parse({}), silentLogger());
    proc.start({ pollMs: 5, idleTickMs: 60_000, clock: () => wall });
    try {
      spool.transaction(() => spool.appendInTx(deployment().map((e) => ({ kind: 'event' as const, id: e.id, body: JSON.stringify(e) }))));
      const settle = () => new Promise((r) => setTimeout(r, 60));
      await settle();
      wall += 30 * MIN;
      await settle();
      expect(deployAlerts(spool.listAlerts({ limit: 100 }) as Alert[])).toEqual([]);
      wall += 45 * MIN;
      await settle();
      expect(deployAlerts(spool.listAlerts({ limit: 100 }) as Alert[]).map((a) => a.entity.id)).toEqual([`${AT}fraud-prod`]);
    } finally {
      proc.stop();
      spool.close();
    }
    // Committed: a restart does not raise it again.
    const again = Spool.open({ dir, synchronous: 'OFF', now: () => wall });
    const proc2 = RuleProcessor.forConfig(again, RulesConfig.parse({}), silentLogger());
    proc2.start({ pollMs: 5, idleTickMs: 60_000, clock: () => wall });
    wall += 60 * MIN;
    await new Promise((r) => setTimeout(r, 60));
    proc2.stop();
    expect(deployAlerts(again.listAlerts({ limit: 100 }) as Alert[])).toHaveLength(1);
    again.close();
  });
});
