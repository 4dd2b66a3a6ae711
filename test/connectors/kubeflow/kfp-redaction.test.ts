import { describe, expect, it } from 'vitest';
import { normalizeKfp } from '../../../connectors/kubeflow/kfp/normalize.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx } from './helpers.js';

/**
 * A KFP run as the KFP API returns it (the run_completed_with_spec fixture) carries its pipeline spec — executor
 * containers with env, args and an inline component's code — and its run parameters in clear: `raw` (spool, every
 * sink) and `ml.job.params` must not.
 */
type Obj = Record<string, any>;
const RUN = readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_completed_with_spec.json');

function runWithSecrets(): Obj {
  const run = structuredClone(RUN);
  const c = run.pipeline_spec.deploymentSpec.executors['exec-hello-world'].container;
  c.command[c.command.length - 1] += 'token: Dict[str, str] = {"hf": "kfp-sec-1"}\npassword = None\nHF_TOKEN = "kfp-sec-2"\n';
  c.env = [{ name: 'HF_TOKEN', value: 'kfp-sec-3' }, { name: 'LOG_LEVEL', value: 'debug' }];
  c.args = [...c.args, '--api-key', 'kfp-sec-4'];
  run.runtime_config = { ...run.runtime_config, parameters: { api_token: 'kfp-sec-5', epochs: 3 } };
  run.state = 'FAILED';
  run.error = { code: 2, message: 'step failed: token: "kfp-sec-6" was rejected' };
  return run;
}

describe('KFP run redaction (raw, ml.job.params)', () => {
  it("hides the secrets a run's pipeline spec and parameters carry (executor env, secret flags, inline code, secret-named parameters, an error message echoing one); the run as sent stays unchanged, other values readable", () => {
    const run = runWithSecrets();
    const before = JSON.stringify(run);
    const out = normalizeKfp(run, ctx({ keepRaw: true }));
    expect(out.events.length).toBeGreaterThan(0);
    expect(JSON.stringify(out.events)).not.toMatch(/kfp-sec-\d/);
    expect(JSON.stringify(run)).toBe(before);
    for (const e of out.events) {
      const c = (e.raw as Obj).pipeline_spec.deploymentSpec.executors['exec-hello-world'].container;
      expect(c.env).toEqual([{ name: 'HF_TOKEN', value: '[redacted]' }, { name: 'LOG_LEVEL', value: 'debug' }]);
      expect(c.args.slice(-2)).toEqual(['--api-key', '[redacted]']);
      expect(c.command[c.command.length - 1]).toContain('token: Dict[str, str] = {"hf": "[redacted]"}\npassword = None\nHF_TOKEN = "[redacted]"\n');
      expect(c.command[c.command.length - 1]).toContain('def hello_world():\n    print("hello world")');
      expect((e.raw as Obj).runtime_config.parameters).toEqual({ api_token: '[redacted]', epochs: 3 });
      expect((e.raw as Obj).error.message).toBe('step failed: token: "[redacted]" was rejected');
      if (e.ml?.job?.params) expect(e.ml.job.params).toEqual({ api_token: '[redacted]', epochs: 3 });
    }
    expect(out.events.some((e) => e.ml?.job?.params !== undefined)).toBe(true);
  });

  it('keeps a run without secrets as sent (===): nothing to hide is no copy', () => {
    const [e] = normalizeKfp(RUN, ctx({ keepRaw: true })).events;
    expect(e!.raw).toBe(RUN);
  });
});
