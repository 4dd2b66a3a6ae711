import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { normalizeCommand } from '../../../bridge/cli/normalize.js';
import { outputSchemas } from '../../../core/formats/validate.js';
import { describeZodError } from '../../../core/schema/index.js';
import { fixturePath } from '../../helpers/fixtures.js';

/** `mltrail normalize --format …` (in process) prints records that pass each schema's validator. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await normalizeCommand(args, { stdout, stderr, stdin: new PassThrough(), env: {} });
  return { code, out, err };
}

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
    await expect(run(['--format', 'leef', inputs[0]!])).rejects.toThrow(/expected one of core, ocsf, ecs, udm, cim/);
  });
});
