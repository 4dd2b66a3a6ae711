import { describe, expect, it } from 'vitest';
import { useAuditorHarness } from './auditor-harness.js';

/**
 * The auditor's runs/search at an approval (MLflow 2 evaluation runs) is an extra call per approved version: an error
 * from it (a 5xx beyond the retries, a 400 from a server that refuses the tag LIKE filter, a 403 on the experiment, a
 * proxy's 404) is logged and the approval is still reported; the search asks for one bounded page.
 */
const T0 = 1755680000000;
const h = useAuditorHarness('mltrail-mlflow-eval-runs-fs-', T0);
const UUID = '1e5c2b7a9d3f4e6a8b0c1d2e3f4a5b6c';
const mlmodel = (uuid: string) => `artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\nmodel_uuid: ${uuid}\n`;

async function approveWith(faults: Array<{ status: number; body?: string }>) {
  h.fake.addModel('fraud', T0);
  h.fake.addRun('r2', { user: 'alice@corp.example', metrics: { accuracy: 0.9 } });
  const a = h.auditor();
  expect(await a.runOnce()).toBe(true);
  h.clock.now += 60_000;
  h.fake.addVersion('fraud', '2', h.clock.now - 1000, { MLmodel: mlmodel(UUID), 'model.pkl': 'w2' }, { run_id: 'r2' });
  await a.runOnce();
  h.clock.now += 60_000;
  h.fake.addRun('ev2', { user: 'carol@corp.example', metrics: { accuracy: 0.7 }, tags: { 'mlflow.datasets': JSON.stringify([{ name: 'holdout', hash: 'h', model: UUID }]) } });
  for (const fault of faults) h.fake.faults.push({ match: /\/runs\/search$/, fault });
  h.fake.models.get('fraud')!.aliases = { champion: '2' };
  const ok = await a.runOnce();
  return { ok, all: h.events() };
}

describe('runs/search at approval fails soft', () => {
  for (const [label, faults] of [
    ['500 on every attempt', [{ status: 500 }, { status: 500 }, { status: 500 }]],
    ['400 filter refused', [{ status: 400, body: JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid filter' }) }]],
    ['403 on the experiment', [{ status: 403, body: JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'no READ' }) }]],
    ['404 from a proxy', [{ status: 404, body: 'not found' }]],
  ] as const) {
    it(`${label}: the approval is reported, no evaluation run`, async () => {
      const { all } = await approveWith([...faults]);
      expect(all.some((e) => e.action === 'model_version.approve' && e.ml?.model?.version === '2')).toBe(true);
      expect(all.filter((e) => e.operation === 'runs/search')).toEqual([]);
    });
  }

  it('reads at most 20 evaluation runs of one version (one page)', async () => {
    for (let i = 0; i < 30; i++) h.fake.addRun(`extra${i}`, { metrics: { accuracy: 0.8 + i / 1000 }, tags: { 'mlflow.datasets': JSON.stringify([{ name: 'holdout', hash: `h${i}`, model: UUID }]) } });
    const { all } = await approveWith([]);
    const linked = all.filter((e) => e.operation === 'runs/search');
    expect(linked.length).toBe(20);
    expect(all.some((e) => e.action === 'model_version.approve')).toBe(true);
  });
});
