import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { useAuditorHarness } from './auditor-harness.js';

/**
 * The MLflow auditor reads a version's run at registration; MLflow shows each metric's value of the highest step,
 * and a client may log any step under any timestamp. At an approval the run is read again: values logged or
 * overwritten since are evidence rewritten after registration.
 */

const T0 = 1755680000000;
const h = useAuditorHarness('mltrail-mlflow-metrics-approval-', T0);
const artifactOf = (run: string) => `s3://mlflow-artifacts/1/${run}/artifacts/model`;
const files = (w: string) => ({ MLmodel: 'flavors: {}', 'model.pkl': w });
type RunJson = { data: { metrics: Array<{ key: string; value: number; timestamp: number; step: number }> } };

/** Log a metric as `log_metric(key, value, step, timestamp)` does: `runs/get` then shows the value of the highest step. */
function logMetric(run: string, key: string, value: number, step: number, timestamp: number): void {
  const r = h.fake.runs.get(run) as RunJson;
  const had = r.data.metrics.find((m) => m.key === key);
  if (had && (had.step > step || (had.step === step && had.timestamp > timestamp))) return;
  r.data.metrics = [...r.data.metrics.filter((m) => m.key !== key), { key, value, timestamp, step }];
}

const rules = { rules: RulesConfig.parse({}) };
const findings = (events: NormalizedEvent[]) => replayEvents(events, rules).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');

async function registerThenApprove(change: () => void, info: Record<string, unknown> = {}): Promise<{ all: NormalizedEvent[]; reread: NormalizedEvent[] }> {
  h.fake.addModel('fraud', T0);
  h.fake.addRun('run1', { user: 'alice@corp.example', metrics: { accuracy: 0.91, log_loss: 0.3 }, info });
  const a = h.auditor();
  expect(await a.runOnce()).toBe(true); // first poll: the registry as it is
  h.clock.now += 60_000;
  h.fake.addVersion('fraud', '1', h.clock.now - 1000, files('w1'), { run_id: 'run1', source: artifactOf('run1'), user_id: 'alice@corp.example' });
  await a.runOnce(); // the version seen, its run read
  h.clock.now += 60_000;
  change();
  h.fake.models.get('fraud')!.aliases = { champion: '1' };
  await a.runOnce(); // the approval seen
  const all = h.events();
  return { all, reread: all.filter((e) => e.details?.metrics_changed_after_registration) };
}

describe('registry auditor: the run read again at approval', () => {
  it('a metric overwritten after registration under a higher step and an older timestamp is reported before the approval, and is a finding', async () => {
    const { all, reread } = await registerThenApprove(() => logMetric('run1', 'accuracy', 0.97, 5, 1755680300000));
    expect(reread).toHaveLength(1);
    const ev = reread[0]!;
    expect(ev).toMatchObject({ action: 'evaluation.metrics', stage: 'evaluation', operation: 'runs/get', ml: { model: { name: 'fraud', version: '1', run_id: 'run1' }, metrics: { accuracy: 0.97, log_loss: 0.3 } } });
    expect(ev.details?.metrics_changed_after_registration).toEqual([{ key: 'accuracy', value: 0.97, step: 5, timestamp: 1755680300000, registered_value: 0.91, registered_step: 0, registered_timestamp: 1755680400000, backdated: true }]);
    expect(ev.details).toMatchObject({ registered_run_status: 'FINISHED' });
    // Committed before the approval: the rules judge the approval on the values as they are now.
    const approve = all.findIndex((e) => e.action === 'model_version.approve');
    expect(approve).toBeGreaterThan(all.indexOf(ev));
    const f = findings(all);
    expect(f.map((a) => [a.entity.id, a.details.change])).toEqual([['fraud/1', 'evaluation_metrics_rewritten_before_approval']]);
    expect(f[0]!.summary).toMatch(/accuracy 0\.91 → 0\.97.*timestamp from before the registration read/);
  });

  it('a key first logged after registration with a current timestamp (mlflow.evaluate into the same run) is taken in, no finding; nothing changed, no event', async () => {
    const { all, reread } = await registerThenApprove(() => logMetric('run1', 'f1_score', 0.88, 0, T0 + 3_600_000 + 90_000));
    expect(reread.map((e) => (e.details!.metrics_changed_after_registration as Array<{ key: string }>).map((m) => m.key))).toEqual([['f1_score']]);
    expect(reread[0]!.ml?.metrics).toMatchObject({ f1_score: 0.88, accuracy: 0.91 });
    expect(findings(all)).toEqual([]);
  });

  it('nothing changed: no event', async () => {
    const { all, reread } = await registerThenApprove(() => {});
    expect(reread).toEqual([]);
    expect(all.some((e) => e.action === 'model_version.approve')).toBe(true);
    expect(findings(all)).toEqual([]);
  });

  it('a run still RUNNING at registration logs on: its changes are taken in, no finding', async () => {
    const { all, reread } = await registerThenApprove(() => {
      (h.fake.runs.get('run1') as { info: { status: string } }).info.status = 'FINISHED';
      logMetric('run1', 'accuracy', 0.93, 1, T0 + 3_600_000 + 90_000);
    }, { status: 'RUNNING' });
    expect(reread).toHaveLength(1);
    expect(reread[0]!.details).toMatchObject({ registered_run_status: 'RUNNING' });
    expect(findings(all)).toEqual([]);
  });
});
