import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { VertexConfig } from '../../../connectors/vertex/config.js';
import { vertexConnector } from '../../../connectors/vertex/index.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { T0, actors, at, ev } from '../../rules/events.js';

/**
 * What an alert tells the analyst paged at 3 am without opening the events: who, what, where, when and why,
 * and an entity that groups the alerts of one incident.
 */

const rules = RulesConfig.parse({});
const MODEL = 'projects/fraud-ml-prod/locations/us-central1/models/4242';

describe('registry.approved_model_modified names what an update changed', () => {
  it('a Vertex UpdateModel on the approved version names the fields of its update mask (labels), not just "update"', () => {
    const approve = ev({ id: 'approve', time: at(T0), platform: 'vertex', stage: 'registry', action: 'model_version.approve', operation: 'MergeVersionAliases', actor: actors.aliceGcp, resource: { type: 'model_version', id: `${MODEL}@1`, name: '4242', version: '1' }, ml: { model: { name: MODEL, version: '1', aliases: ['production'] } } });
    const update = ev({ id: 'update', time: at(T0 + 86_400_000), platform: 'vertex', stage: 'registry', action: 'model_version.update', operation: 'UpdateModel', actor: actors.mallory, resource: { type: 'model', id: `${MODEL}@1`, name: '4242', version: '1' }, ml: { model: { name: MODEL, version: '1', tags: { owner: 'mallory' } } }, details: { update_mask: ['labels'] } });
    const [alert] = replayEvents([approve, update], { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(alert!.summary).toBe(`${MODEL} v1 was approved at ${at(T0)} and then changed (update: labels) by mallory@corp.example`);
    expect(alert!.details.fields).toEqual(['labels']);
  });

  it('a SageMaker UpdateModelPackage on the approved package names the request fields it sets', () => {
    const pkg = { type: 'model_package', id: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/1', name: 'fraud', version: '1' };
    const approve = ev({ id: 'approve', time: at(T0), platform: 'sagemaker', stage: 'registry', action: 'model_version.approve', operation: 'UpdateModelPackage', actor: actors.aliceAws, resource: pkg, ml: { model: { name: 'fraud', version: '1', approval: 'approved' } } });
    const update = ev({ id: 'update', time: at(T0 + 3_600_000), platform: 'sagemaker', stage: 'registry', action: 'model_version.update', operation: 'UpdateModelPackage', actor: actors.aliceAwsDeploy, resource: pkg, ml: { model: { name: 'fraud', version: '1' } }, details: { changed_fields: ['sourceUri'] } });
    const [alert] = replayEvents([approve, update], { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(alert!.summary).toMatch(/then changed \(update: sourceUri\) by alice@corp\.example$/);
    expect(alert!.details.fields).toEqual(['sourceUri']);
  });
});

describe('alerts about one job share its entity', () => {
  it('a nightly run without network isolation and with an unpinned image: network_egress and unverified_dependency both name the job family, details.job the run', () => {
    const run = ev({ id: 'run-16', time: at(T0), platform: 'sagemaker', stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', actor: actors.aliceAws, resource: { type: 'training_job', name: 'churn-nightly-16' }, ml: { job: { name: 'churn-nightly-16', image: 'python:3.11', image_pinned: false, network_isolation: false } } });
    const alerts = replayEvents([run], { rules }).alerts.filter((a) => a.rule_id === 'training.network_egress' || a.rule_id === 'training.unverified_dependency');
    expect(alerts.map((a) => [a.rule_id, a.entity, a.details.job]).sort()).toEqual([
      ['training.network_egress', { type: 'job', id: 'churn-nightly', platform: 'sagemaker' }, 'churn-nightly-16'],
      ['training.unverified_dependency', { type: 'job', id: 'churn-nightly', platform: 'sagemaker' }, 'churn-nightly-16'],
    ]);
  });
});

describe('monitor findings name the features over their thresholds', () => {
  const vertex = (record: unknown): NormalizedEvent[] =>
    vertexConnector.normalize!(record, { channel: 'test', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: false, config: VertexConfig.parse({}) }).events as NormalizedEvent[];
  const anomaly = readFixtureJson<{ jsonPayload: Record<string, unknown> }>('vertex', 'vertex-model-monitoring-anomaly-doc-example.json');

  it('a Vertex skew anomaly (preprocessing.distribution_shift) keeps the features in details.findings and names them with deviation and threshold', () => {
    const [alert] = replayEvents(vertex(anomaly), { rules }).alerts.filter((a) => a.rule_id === 'preprocessing.distribution_shift');
    expect(alert!.summary).toContain('(age deviation 0.9 > threshold 0.7, education deviation 0.6 > threshold 0.3)');
    expect(alert!.details.findings).toEqual([
      { feature: 'age', deviation: 0.9, threshold: 0.7, exceeded: true },
      { feature: 'education', deviation: 0.6, threshold: 0.3, exceeded: true },
    ]);
  });

  it('a Vertex prediction-drift anomaly (serving.behavioral_drift) names them the same way, leaving out a feature under its threshold', () => {
    const drift = { ...anomaly, jsonPayload: { ...anomaly.jsonPayload, anomalyObjective: 'FEATURE_ATTRIBUTION_DRIFT', featureAnomalies: [{ featureDisplayName: 'age', deviation: 0.9, threshold: 0.7 }, { featureDisplayName: 'income', deviation: 0.1, threshold: 0.3 }] } };
    const [alert] = replayEvents(vertex(drift), { rules }).alerts.filter((a) => a.rule_id === 'serving.behavioral_drift');
    expect(alert!.summary).toBe('FEATURE_ATTRIBUTION_DRIFT (age deviation 0.9 > threshold 0.7) on 6680511704087920640');
  });
});

describe('alerts say where and by whom as the platform logged it', () => {
  const SM = { provider: 'aws' as const, account: '111122223333', region: 'us-east-1' };
  const bobArn = 'arn:aws:sts::111122223333:assumed-role/MLDeployer/bob@corp.example';

  it('a 3 am SageMaker training job: account, region and the caller ARN beside the identity mltrail resolved', () => {
    const job = ev({ id: 'job', time: at(T0), platform: 'sagemaker', stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', actor: { id: bobArn, type: 'user' }, cloud: SM, resource: { type: 'training_job', name: 'fraud-retrain-7' }, ml: { job: { name: 'fraud-retrain-7', image: 'python:3.11', image_pinned: false, network_isolation: false } } });
    const alerts = replayEvents([job], { rules }).alerts;
    expect(alerts.map((a) => a.rule_id).sort()).toEqual(['training.network_egress', 'training.unverified_dependency']);
    for (const a of alerts) expect([a.details.cloud, a.details.actor_id, a.details.actor]).toEqual([SM, bobArn, 'bob@corp.example']);
  });

  it('a deployment judged when its endpoint config arrives, and an approval judged an hour later, name the account of the deployment / approval', () => {
    const pkg = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/2';
    const deploy = ev({ id: 'deploy', time: at(T0), platform: 'sagemaker', stage: 'serving', action: 'endpoint.update', operation: 'UpdateEndpoint', actor: { id: bobArn, type: 'user' }, cloud: SM, resource: { type: 'endpoint', name: 'fraud-prod' }, ml: { deployment: { endpoint: 'fraud-prod', endpoint_config: 'fraud-prod-cfg-2' } } });
    const config = ev({ id: 'config', time: at(T0 + 60_000), platform: 'sagemaker', stage: 'serving', action: 'endpoint_config.create', operation: 'CreateEndpointConfig', actor: actors.ci, cloud: SM, resource: { type: 'endpoint_config', name: 'fraud-prod-cfg-2' }, ml: { deployment: { endpoint_config: 'fraud-prod-cfg-2', variants: [{ model: 'fraud-v2' }] } } });
    const model = ev({ id: 'model', time: at(T0 + 120_000), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', actor: actors.ci, cloud: SM, resource: { type: 'model', name: 'fraud-v2' }, ml: { model: { source_package: pkg } } });
    const [dep] = replayEvents([deploy, config, model], { rules }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect([dep!.details.deployer, dep!.details.actor_id, dep!.details.cloud]).toEqual(['bob@corp.example', bobArn, SM]);

    const gcp = { provider: 'gcp' as const, project: 'fraud-ml-prod', region: 'us-central1' };
    const approve = ev({ id: 'approve', time: at(T0), platform: 'vertex', stage: 'registry', action: 'model_version.approve', operation: 'MergeVersionAliases', actor: actors.aliceGcp, cloud: gcp, resource: { type: 'model_version', id: `${MODEL}@1`, name: '4242', version: '1' }, ml: { model: { name: MODEL, version: '1', aliases: ['production'] } } });
    const [adv] = replayEvents([approve], { rules }).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure');
    expect([adv!.details.approver, adv!.details.actor_id, adv!.details.cloud]).toEqual(['alice@corp.example', 'alice@corp.example', gcp]);
  });

  it('a KServe InferenceService: the namespace and the Kubernetes user', () => {
    const isvc = ev({ id: 'isvc', time: at(T0), platform: 'kubeflow', stage: 'serving', action: 'endpoint.create', operation: 'create inferenceservices', actor: { id: 'mallory@corp.example', name: 'mallory@corp.example', type: 'user' }, resource: { type: 'inferenceservices', name: 'fraud', namespace: 'fraud-prod' }, ml: { deployment: { endpoint: 'fraud-prod/fraud', model_uri: 's3://scratch/fraud/v2' } } });
    const [dep] = replayEvents([isvc], { rules }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect([dep!.details.namespace, dep!.details.actor_id]).toEqual(['fraud-prod', 'mallory@corp.example']);
  });
});

describe('registry.unapproved_deployment says which finding and which version', () => {
  const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/2';
  const SM = { provider: 'aws' as const, account: '111122223333', region: 'us-east-1' };
  const sm = (d: Parameters<typeof ev>[0]) => ev({ cloud: SM, actor: actors.aliceAwsDeploy, ...d });
  const create = sm({ id: 'pkg', time: at(T0), platform: 'sagemaker', stage: 'registry', action: 'model_version.create', operation: 'CreateModelPackage', resource: { type: 'model_package', id: PKG, name: 'fraud', version: '2' }, ml: { model: { name: 'fraud', version: '2', approval: 'pending', artifact_uri: 's3://models/fraud/v2/model.tar.gz' } } });
  const reject = sm({ id: 'reject', time: at(T0 + 60_000), platform: 'sagemaker', stage: 'registry', action: 'model_version.reject', operation: 'UpdateModelPackage', resource: { type: 'model_package', id: PKG, name: 'fraud', version: '2' }, ml: { model: { name: 'fraud', version: '2', approval: 'rejected' } } });
  const model = sm({ id: 'model', time: at(T0 + 120_000), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', resource: { type: 'model', name: 'fraud-v2' }, ml: { model: { name: 'fraud-v2', source_package: PKG } } });
  const config = sm({ id: 'config', time: at(T0 + 180_000), platform: 'sagemaker', stage: 'serving', action: 'endpoint_config.create', operation: 'CreateEndpointConfig', resource: { type: 'endpoint_config', name: 'fraud-prod-cfg-2' }, ml: { deployment: { endpoint_config: 'fraud-prod-cfg-2', variants: [{ model: 'fraud-v2' }] } } });
  const deploy = sm({ id: 'deploy', time: at(T0 + 240_000), platform: 'sagemaker', stage: 'serving', action: 'endpoint.update', operation: 'UpdateEndpoint', resource: { type: 'endpoint', name: 'fraud-prod' }, ml: { deployment: { endpoint: 'fraud-prod', endpoint_config: 'fraud-prod-cfg-2' } } });
  const deployed = (events: ReturnType<typeof ev>[]) => replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

  it('a SageMaker model resource names the package version it serves, as the model_version alerts name it', () => {
    const [alert] = deployed([create, model, config, deploy]);
    expect(alert!.summary).toBe('alice@corp.example deployed fraud-v2 (fraud v2) to fraud-prod (sagemaker); it was never approved');
    expect(alert!.details.model_versions).toEqual(['111122223333:us-east-1:fraud/2']);
    expect(alert!.title).toBe('registry.unapproved_deployment: Deployment of a model version that was never approved');
  });

  it('a rejected version is titled as rejected, not as never approved', () => {
    const [alert] = deployed([create, reject, model, config, deploy]);
    expect([alert!.details.reason, alert!.title]).toEqual(['rejected', 'registry.unapproved_deployment: Deployment of a rejected model version']);
  });
});
