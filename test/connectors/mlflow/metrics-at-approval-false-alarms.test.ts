import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { useAuditorHarness } from './auditor-harness.js';

/**
 * False alarms of `evaluation_metrics_rewritten_before_approval` (the run read again at approval): a value logged again
 * unchanged (autologging's end-of-run callback, a metric re-read after an MLflow upgrade that leaves out a `step` of 0)
 * is no rewrite, and an evaluation logged after registration by a client whose clock is a little behind the
 * auditor's is no backdated value.
 */
const T0 = 1755680000000;
const h = useAuditorHarness('mltrail-mlflow-metrics-approval-fa-', T0);
type Metric = { key: string; value: number; timestamp?: number; step?: number };
type RunJson = { data: { metrics: Metric[] } };
const findings = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');

async function registerThenApprove(change: (readAt: number) => void): Promise<{ all: NormalizedEvent[]; reread: NormalizedEvent[] }> {
  h.fake.addModel('fraud', T0);
  h.fake.addRun('run1', { user: 'alice@corp.example', metrics: { accuracy: 0.91, log_loss: 0.3 } });
  const a = h.auditor();
  expect(await a.runOnce()).toBe(true);
  h.clock.now += 60_000;
  h.fake.addVersion('fraud', '1', h.clock.now - 1000, { MLmodel: 'flavors: {}', 'model.pkl': 'w1' }, { run_id: 'run1', source: 's3://mlflow-artifacts/1/run1/artifacts/model', user_id: 'alice@corp.example' });
  await a.runOnce(); // the version seen, its run read (FINISHED)
  const readAt = h.clock.now;
  h.clock.now += 60_000;
  change(readAt);
  h.fake.models.get('fraud')!.aliases = { champion: '1' };
  await a.runOnce();
  const all = h.events();
  return { all, reread: all.filter((e) => e.details?.metrics_changed_after_registration) };
}
const run = () => h.fake.runs.get('run1') as RunJson;

describe('metrics read again at approval: no false alarms', () => {
  it('the same value logged again at a higher step and a later timestamp is no rewrite', async () => {
    const { all } = await registerThenApprove((readAt) => {
      run().data.metrics = run().data.metrics.map((m) => (m.key === 'accuracy' ? { ...m, step: 10, timestamp: readAt + 30_000 } : m));
    });
    expect(findings(all)).toEqual([]);
  });

  it('a step of 0 left out on the read at approval (same value, same timestamp) is no rewrite', async () => {
    const { all } = await registerThenApprove(() => {
      run().data.metrics = run().data.metrics.map(({ step: _s, ...m }) => m);
    });
    expect(findings(all)).toEqual([]);
  });

  it('an evaluation key logged after registration by a client 30 s behind the auditor is not backdated', async () => {
    const { all, reread } = await registerThenApprove((readAt) => {
      run().data.metrics.push({ key: 'f1_score', value: 0.88, step: 0, timestamp: readAt - 30_000 });
    });
    expect(reread).toHaveLength(1);
    expect(findings(all)).toEqual([]);
  });

  it('still a finding: a changed value, and a new key backdated to before the registration by more than clock skew', async () => {
    const changed = await registerThenApprove((readAt) => {
      run().data.metrics = run().data.metrics.map((m) => (m.key === 'accuracy' ? { ...m, value: 0.97, step: 5, timestamp: readAt + 30_000 } : m));
    });
    expect(findings(changed.all).map((a) => a.details.change)).toEqual(['evaluation_metrics_rewritten_before_approval']);
  });
});

describe('metrics read again at approval: a backdated new key', () => {
  it('is a finding when dated an hour before the registration read', async () => {
    const { all } = await registerThenApprove((readAt) => {
      run().data.metrics.push({ key: 'f1_score', value: 0.99, step: 0, timestamp: readAt - 3_600_000 });
    });
    expect(findings(all).map((a) => a.details.change)).toEqual(['evaluation_metrics_rewritten_before_approval']);
  });
});
