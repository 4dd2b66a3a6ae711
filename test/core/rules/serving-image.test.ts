import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { isTrustedImage, repositoryOf } from '../../../core/rules/kinds/images.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { auditEvent, ctx as kfCtx } from '../../connectors/kubeflow/helpers.js';
import { ctRecord, normOne as smOne } from '../../connectors/sagemaker/helpers.js';
import { LOC, V1, auditEntry, normOne as vxOne } from '../../connectors/vertex/samples.js';

/**
 * serving.unverified_image: the images a model is served with, from each platform's own records through
 * its connector, judged like training images (digest, registry allow list), the platforms' prebuilt
 * serving containers accepted by tag.
 */

const RULE = 'serving.unverified_image';
const DIGEST = `sha256:${'b'.repeat(64)}`;
const alertsOf = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);

/** A KServe object written by alice in her profile, as the apiserver logs it at RequestResponse. */
function kserveWrite(resource: string, verb: string, requestObject: unknown, over: Record<string, unknown> = {}): NormalizedEvent {
  const name = 'fraud';
  const cluster = resource.startsWith('cluster');
  const record = auditEvent({
    level: 'RequestResponse', verb,
    requestURI: `/apis/serving.kserve.io/v1beta1/${cluster ? '' : 'namespaces/kubeflow-user-alice/'}${resource}${verb === 'create' ? '' : `/${name}`}`,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource, ...(cluster ? {} : { namespace: 'kubeflow-user-alice' }), name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject,
    ...over,
  });
  const out = kubeflowConnector.normalize!(record, kfCtx());
  expect(out.rejected).toEqual([]);
  return NormalizedEvent.parse(out.events[0]);
}
const isvc = (spec: Record<string, unknown>) => ({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'fraud' }, spec });

describe('KServe: the connector extracts the serving images, the rule judges them', () => {
  it('predictor, transformer and explainer containers, a framework spec image: each in ml.deployment.images, the offenders named', () => {
    const ev = kserveWrite('inferenceservices', 'create', isvc({
      predictor: { sklearn: { storageUri: 'gs://models/fraud/5', image: `ghcr.io/acme/sklearn@${DIGEST}` } },
      transformer: { containers: [{ name: 'kserve-container', image: 'docker.io/mallory/feast-transformer:latest' }] },
      explainer: { art: { type: 'SquareAttack', image: 'kserve/art-explainer:v0.14.0' } },
    }));
    expect(ev.ml?.deployment).toMatchObject({ endpoint: 'kubeflow-user-alice/fraud', model_uri: 'gs://models/fraud/5' });
    expect(ev.ml?.deployment?.images).toEqual([`ghcr.io/acme/sklearn@${DIGEST}`, 'docker.io/mallory/feast-transformer:latest', 'kserve/art-explainer:v0.14.0']);
    const [a, ...more] = alertsOf([ev]);
    expect(more).toEqual([]);
    expect(a!.entity).toMatchObject({ type: 'endpoint', id: 'kubeflow-user-alice/fraud' });
    // The pinned ghcr.io image fails the registry list only; the Docker Hub transformer both checks; KServe's own explainer neither.
    expect(a!.details?.images).toEqual([`ghcr.io/acme/sklearn@${DIGEST}`, 'docker.io/mallory/feast-transformer:latest']);
    expect(a!.details?.reasons).toEqual(['registry ghcr.io is not on the allow list', 'image docker.io/mallory/feast-transformer:latest is not pinned by digest', 'registry docker.io is not on the allow list']);
  });

  it('a framework predictor naming only a runtimeVersion names no image; KServe runtimes by tag pass', () => {
    const ev = kserveWrite('inferenceservices', 'create', isvc({ predictor: { sklearn: { storageUri: 'gs://models/fraud/5', runtimeVersion: 'v0.14.0' } } }));
    expect(ev.ml?.deployment?.images).toBeUndefined();
    const runtime = kserveWrite('clusterservingruntimes', 'create', { kind: 'ClusterServingRuntime', metadata: { name: 'kserve-sklearnserver' }, spec: { supportedModelFormats: [{ name: 'sklearn' }], containers: [{ name: 'kserve-container', image: 'kserve/sklearnserver:v0.14.0' }] } });
    expect(runtime.ml?.deployment).toEqual({ images: ['kserve/sklearnserver:v0.14.0'] });
    expect(alertsOf([ev, runtime])).toEqual([]);
  });

  it('a ServingRuntime of an untrusted image alerts on the runtime, namespace-qualified', () => {
    const ev = kserveWrite('servingruntimes', 'create', { kind: 'ServingRuntime', metadata: { name: 'fraud' }, spec: { containers: [{ name: 'kserve-container', image: 'quay.io/mallory/server:1' }] } });
    const [a] = alertsOf([ev]);
    expect(a?.entity).toMatchObject({ type: 'servingruntimes', id: 'kubeflow-user-alice/fraud' });
    // The writer is the alert's person (`deployer`, as the SIEM formats read it).
    expect(a?.details?.deployer).toBe('alice@example.com');
  });

  it('a JSON patch replacing the predictor image counts; a label merge patch names none; a refused write alerts nothing', () => {
    const jp = kserveWrite('inferenceservices', 'patch', [{ op: 'replace', path: '/spec/predictor/containers/0/image', value: 'ghcr.io/mallory/predictor:2' }]);
    expect(jp.ml?.deployment?.images).toEqual(['ghcr.io/mallory/predictor:2']);
    expect(alertsOf([jp])).toHaveLength(1);
    const labels = kserveWrite('inferenceservices', 'patch', { metadata: { labels: { team: 'a' } } });
    expect(labels.ml?.deployment?.images).toBeUndefined();
    const refused = kserveWrite('inferenceservices', 'create', isvc({ predictor: { containers: [{ name: 'c', image: 'ghcr.io/mallory/predictor:2' }] } }), {
      responseStatus: { metadata: {}, code: 403, reason: 'Forbidden' }, annotations: { 'authorization.k8s.io/decision': 'forbid' },
    });
    expect(alertsOf([refused])).toEqual([]);
  });
});

describe('SageMaker and Vertex model containers', () => {
  it('CreateModel with a Docker Hub container alerts; an AWS Deep Learning Container by tag does not', () => {
    const bad = smOne(ctRecord('CreateModel', { modelName: 'fraud', executionRoleArn: 'arn:aws:iam::111122223333:role/Sm', primaryContainer: { image: 'mallory/xgb:1', modelDataUrl: 's3://models/fraud.tar.gz' } }));
    const dlc = smOne(ctRecord('CreateModel', { modelName: 'fraud-dlc', executionRoleArn: 'arn:aws:iam::111122223333:role/Sm', primaryContainer: { image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310', modelDataUrl: 's3://models/fraud.tar.gz' } }));
    const alerts = alertsOf([bad, dlc]);
    expect(alerts.map((a) => a.details?.images)).toEqual([['mallory/xgb:1']]);
  });

  it('UploadModel: the containerSpec image is the model\'s (ml.model.image) and judged; Vertex prebuilt prediction containers pass', () => {
    const upload = (imageUri: string) => vxOne(auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v1/', containerSpec: { imageUri } } }, response: { name: `${LOC}/models/77/operations/1` } }));
    const custom = upload('europe-docker.pkg.dev/acme/serving/fraud:3');
    expect(custom.ml?.model?.image).toBe('europe-docker.pkg.dev/acme/serving/fraud:3');
    expect(alertsOf([custom]).map((a) => a.details?.reasons)).toEqual([['image europe-docker.pkg.dev/acme/serving/fraud:3 is not pinned by digest']]);
    expect(alertsOf([upload('us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest')])).toEqual([]);
  });
});

describe('trusted repositories', () => {
  it('match host and path apart: a `*` in the path glob never reaches the host', () => {
    const vertex = ['*-docker.pkg.dev/vertex-ai/prediction/*'];
    expect(isTrustedImage(vertex, 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-12:latest')).toBe(true);
    expect(isTrustedImage(vertex, 'evil.example/x-docker.pkg.dev/vertex-ai/prediction/y:1')).toBe(false);
    expect(isTrustedImage(['docker.io/kserve/*'], 'index.docker.io/kserve/xgbserver:v0.14.0')).toBe(true);
    expect(isTrustedImage(['docker.io/kserve/*'], 'ghcr.io/kserve/xgbserver:v0.14.0')).toBe(false);
    expect(repositoryOf('python:3.12')).toEqual({ registry: 'docker.io', path: 'library/python' });
    expect(repositoryOf(`localhost:5000/team/srv:1@${DIGEST}`)).toEqual({ registry: 'localhost', path: 'team/srv' });
  });

  it('are configurable (an empty list trusts nothing), and each must name a registry', () => {
    const ev = kserveWrite('inferenceservices', 'create', isvc({ predictor: { containers: [{ name: 'c', image: 'kserve/sklearnserver:v0.14.0' }] } }));
    expect(alertsOf([ev])).toEqual([]);
    expect(alertsOf([ev], { [RULE]: { trusted_images: [] } })).toHaveLength(1);
    expect(alertsOf([ev], { [RULE]: { trusted_images: [], require_digest: false, allowed_registries: ['docker.io'] } })).toEqual([]);
    expect(RulesConfig.safeParse({ [RULE]: { trusted_images: ['kserve'] } }).success).toBe(false);
  });
});

describe('training.unverified_dependency: the clouds prebuilt training containers', () => {
  const trainingJob = (image: string) =>
    NormalizedEvent.parse(
      smOne(ctRecord('CreateTrainingJob', { trainingJobName: 'churn-7', algorithmSpecification: { trainingImage: image, trainingInputMode: 'File' }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', enableNetworkIsolation: true }, { responseElements: { trainingJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:training-job/churn-7' } })),
    );
  const fired = (image: string, rules: Record<string, unknown> = {}) => replayEvents([trainingJob(image)], { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');

  it('an AWS Deep Learning Container by tag (what the SageMaker SDK estimators run) passes; a team image by tag still alerts', () => {
    expect(fired('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker')).toEqual([]);
    expect(fired('111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-train:latest')).toHaveLength(1);
    // An operator who wants every image pinned empties the list.
    expect(fired('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311', { 'training.unverified_dependency': { trusted_images: [] } })).toHaveLength(1);
  });
});
