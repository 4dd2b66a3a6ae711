import { describe, expect, it } from 'vitest';
import { normalizeCommand } from '../../../bridge/cli/normalize.js';
import { captureIo, runCli } from '../../helpers/cli.js';
import { outputSchemas } from '../../../core/formats/validate.js';
import { describeZodError } from '../../../core/schema/index.js';
import { fixturePath } from '../../helpers/fixtures.js';

/** `mltrail normalize --format …` (in process) prints records that pass each schema's validator. */
const run = (args: string[]) => runCli(['normalize', ...args]);

describe('mltrail normalize --format', () => {
  const inputs = [
    fixturePath('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json'),
    fixturePath('vertex', 'otel-auditlog-data_access.json'),
    fixturePath('kubeflow', 'k8s-audit', 'falco_exec_pod.json'),
  ];

  it.each(['ocsf', 'ecs', 'udm', 'cim'] as const)('%s: one valid record per event', async (format) => {
    const core = await run(['--format', 'core', ...inputs]);
    const r = await run(['--format', format, ...inputs]);
    const lines = r.out.trim().split('\n').filter(Boolean);
    expect(lines.length).toBe(core.out.trim().split('\n').filter(Boolean).length);
    expect(lines.length).toBeGreaterThan(0); // these connectors have landed
    for (const line of lines) {
      const v = outputSchemas[format].event.safeParse(JSON.parse(line));
      if (!v.success) throw new Error(`${format}: ${describeZodError(v.error)}`);
    }
  });

  it('names the choices for an unknown format', async () => {
    await expect(normalizeCommand(['--format', 'leef', inputs[0]!], captureIo().io)).rejects.toThrow(/expected one of core, ocsf, ecs, udm, cim/);
  });
});
