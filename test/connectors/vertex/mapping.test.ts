import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { LOC, PROJECT, V1, auditEntry, normOne } from './samples.js';

/**
 * How Cloud Audit Log entries map onto the fields the rules and the SOC read: outcome, actor,
 * approvals, deployed versions, evaluation scores, images, project and region. Each case is a
 * fact a regression in connectors/vertex/{audit,facts,logentry}.ts would silently change.
 */

const one = normOne;

const MODEL = `${LOC}/models/4242`;

describe('outcome without a status', () => {
  it('is unknown when the entry has neither a status nor any authorization decision', () => {
    const ev = one(auditEntry({ method: `${V1}ModelService.GetModel`, resourceName: MODEL, status: null, authorizationInfo: [] }));
    expect(ev.outcome).toBe('unknown');
    expect(ev.error).toBeUndefined();
    // With every authorization granted it is a success.
    expect(one(auditEntry({ method: `${V1}ModelService.GetModel`, resourceName: MODEL, status: null })).outcome).toBe('success');
  });
});

describe('actor from principalSubject alone', () => {
  it('`user:` and `serviceAccount:` subjects are the account they name: one principal, one actor id', () => {
    const user = one(auditEntry({ method: `${V1}ModelService.DeleteModel`, resourceName: MODEL, authInfo: { principalSubject: 'user:bob@example.com' } }));
    expect(user.actor).toMatchObject({ id: 'bob@example.com', email: 'bob@example.com', type: 'user' });
    expect(user.details?.principal_subject).toBe('user:bob@example.com');
    const withEmail = one(auditEntry({ method: `${V1}ModelService.DeleteModel`, resourceName: MODEL, principal: 'bob@example.com' }));
    expect(withEmail.actor?.id).toBe(user.actor?.id);
    const sa = one(auditEntry({ method: `${V1}ModelService.DeleteModel`, resourceName: MODEL, authInfo: { principalSubject: `serviceAccount:deployer@${PROJECT}.iam.gserviceaccount.com` } }));
    expect(sa.actor).toMatchObject({ id: `deployer@${PROJECT}.iam.gserviceaccount.com`, type: 'service' });
  });

  it('a workforce-federated `principal://` subject is a user named by its subject', () => {
    const subject = 'principal://iam.googleapis.com/locations/global/workforcePools/corp/subject/bob';
    const ev = one(auditEntry({ method: `${V1}ModelService.DeleteModel`, resourceName: MODEL, authInfo: { principalSubject: subject } }));
    expect(ev.actor).toMatchObject({ id: subject, type: 'user' });
    expect(ev.actor?.email).toBeUndefined();
  });
});

describe('approvals through UpdateModel', () => {
  it('an approval alias set with a camelCase update mask (versionAliases) approves the version', () => {
    const ev = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${MODEL}@3`, request: { model: { name: `${MODEL}@3`, versionAliases: ['production'] }, updateMask: 'versionAliases' } }));
    expect([ev.stage, ev.action]).toEqual(['registry', 'model_version.approve']);
    expect(ev.ml?.model).toMatchObject({ name: MODEL, version: '3', approval: 'approved', aliases: ['production'] });
    const snake = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${MODEL}@3`, request: { model: { versionAliases: ['production'] }, updateMask: { paths: ['version_aliases'] } } }));
    expect(snake.action).toBe('model_version.approve');
  });

  it('an approval logged on the model (resourceName without @) names the version its request names: a deployment of that version is approved', () => {
    const NUM = 'projects/123456/locations/us-central1/models/4242';
    const approval = auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: NUM, request: { name: `${MODEL}@1`, versionAliases: ['production'] }, principal: 'carol@example.com', timestamp: '2026-11-20T09:10:00Z' });
    const approve = one(approval);
    expect(approve.ml?.model).toMatchObject({ name: MODEL, version: '1', approval: 'approved' });
    expect(approve.details?.resource_name_logged).toBe(NUM);
    const modelLevel = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: MODEL, request: { model: { name: `${MODEL}@-`, displayName: 'fraud' }, updateMask: 'displayName' } }));
    expect(modelLevel.ml?.model?.version).toBeUndefined();
    const events = [
      auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v1/', labels: { adv_score: '0.9' } } }, response: { name: `${MODEL}/operations/1` }, principal: 'ci@example.com', timestamp: '2026-11-20T09:00:00Z' }),
      approval,
      auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: `${LOC}/endpoints/77`, request: { endpoint: `${LOC}/endpoints/77`, deployedModel: { model: `${MODEL}@1` }, trafficSplit: { '0': 100 } }, principal: 'bob@example.com', timestamp: '2026-11-20T09:20:00Z' }),
    ].map(one);
    expect(replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });

  it('an update of the version addressed by its alias, or with versionAliases outside the mask, sets no alias and approves nothing', () => {
    const byAlias = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${MODEL}@production`, request: { model: { name: `${MODEL}@production`, labels: { owner: 'mallory' } }, updateMask: 'labels' } }));
    expect(byAlias.action).toBe('model_version.update');
    expect(byAlias.ml?.model?.aliases).toBeUndefined();
    expect(byAlias.ml?.model?.approval).toBeUndefined();
    expect(byAlias.resource).toMatchObject({ id: `${MODEL}@production`, version: 'production' });
    const unmasked = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${MODEL}@2`, request: { model: { name: `${MODEL}@2`, versionAliases: ['production'], labels: { owner: 'mallory' } }, updateMask: 'labels' } }));
    expect(unmasked.action).toBe('model_version.update');
    expect(unmasked.ml?.model?.aliases).toBeUndefined();
    expect(unmasked.ml?.model?.approval).toBeUndefined();
  });

  it('labels of the approved version changed through its alias (UpdateModel on …@production) is registry.approved_model_modified', () => {
    const at = (m: number) => `2026-11-20T09:${String(m).padStart(2, '0')}:00Z`;
    const events = [
      auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v1/', labels: { adv_score: '0.9' } } }, response: { name: `${MODEL}/operations/1` }, principal: 'ci@example.com', timestamp: at(0) }),
      auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${MODEL}@1`, request: { name: `${MODEL}@1`, versionAliases: ['production'] }, principal: 'carol@example.com', timestamp: at(10) }),
      auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${MODEL}@production`, request: { model: { name: `${MODEL}@production`, labels: { adv_score: '0.99' } }, updateMask: 'labels' }, principal: 'mallory@example.com', timestamp: at(20) }),
    ].map(one);
    const alerts = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toMatchObject({ type: 'model_version', name: MODEL });
    expect(alerts[0]!.summary).toContain('v1');
  });
});

describe('CopyModel into an existing model', () => {
  it('is a new version of the parent model, whatever the source', () => {
    const ev = one(auditEntry({
      method: `${V1}ModelService.CopyModel`,
      resourceName: LOC,
      request: { parent: LOC, parentModel: MODEL, sourceModel: 'projects/other-proj/locations/us-central1/models/99' },
      response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CopyModelResponse', model: MODEL, modelVersionId: '5' },
    }));
    expect([ev.stage, ev.action]).toEqual(['registry', 'model_version.create']);
    expect(ev.ml?.model).toMatchObject({ name: MODEL, version: '5' });
  });
});

describe('the version a deployment serves', () => {
  it('CreateBatchPredictionJob: the model as named (version, alias or none) in ml.deployment.model_uri, the version the returned job runs, its input and output', () => {
    const job = (model: string, modelVersionId?: string) =>
      one(auditEntry({
        method: `${V1}JobService.CreateBatchPredictionJob`, resourceName: LOC, principal: 'mallory@example.com',
        request: { parent: LOC, batchPredictionJob: { displayName: 'fraud-nightly', model, inputConfig: { instancesFormat: 'bigquery', bigquerySource: { inputUri: 'bq://ml-prod-123.payments.transactions' } }, outputConfig: { predictionsFormat: 'bigquery', bigqueryDestination: { outputUri: 'bq://ml-prod-123.scores' } } } },
        response: { name: `${LOC}/batchPredictionJobs/8841`, displayName: 'fraud-nightly', model, ...(modelVersionId ? { modelVersionId } : {}), state: 'JOB_STATE_PENDING' },
      }));
    const byAlias = job(`${MODEL}@production`, '3');
    expect([byAlias.stage, byAlias.action]).toEqual(['serving', 'transform_job.create']);
    expect(byAlias.ml).toMatchObject({ model: { name: MODEL, version: '3' }, deployment: { model_uri: `${MODEL}@production` }, job: { name: 'fraud-nightly' }, data: { inputs: ['bq://ml-prod-123.payments.transactions'], outputs: ['bq://ml-prod-123.scores'] } });
    // The alias it names is not one it sets (the registry would move it to version 3).
    expect(byAlias.ml?.model?.aliases).toBeUndefined();
    expect(job(MODEL, '2').ml?.model).toMatchObject({ name: MODEL, version: '2' });
    expect(job(`${MODEL}@5`).ml).toMatchObject({ model: { name: MODEL, version: '5' }, deployment: { model_uri: `${MODEL}@5` } });
  });

  it('DeployModel of a model whose done operation reports deployedModel.modelVersionId names that version', () => {
    const ev = one(auditEntry({
      method: `${V1}EndpointService.DeployModel`,
      resourceName: `${LOC}/endpoints/77`,
      request: { endpoint: `${LOC}/endpoints/77`, deployedModel: { model: MODEL, displayName: 'fraud' }, trafficSplit: { '0': 100 } },
      response: { name: `${LOC}/endpoints/77/operations/5`, done: true, response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse', deployedModel: { id: '61', model: MODEL, modelVersionId: '3' } } },
    }));
    expect([ev.stage, ev.action]).toEqual(['serving', 'endpoint.deploy']);
    expect(ev.ml?.model).toMatchObject({ name: MODEL, version: '3' });
    expect(ev.ml?.deployment).toMatchObject({ endpoint: `${LOC}/endpoints/77`, model_uri: MODEL });
  });

  it('a modelVersionId the caller wrote in the request is not the deployed version (output only: the server ignores it)', () => {
    const deploy = (request: Record<string, unknown>) => one(auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: `${LOC}/endpoints/77`, request: { endpoint: `${LOC}/endpoints/77`, trafficSplit: { '0': 100 }, ...request } }));
    const bare = deploy({ deployedModel: { model: MODEL, modelVersionId: '1' } });
    expect(bare.ml?.model?.version).toBeUndefined();
    const aliased = deploy({ deployedModel: { model: `${MODEL}@staging`, modelVersionId: '1' } });
    expect(aliased.ml?.model?.version).toBeUndefined();
    expect(aliased.ml?.model?.aliases).toEqual(['staging']);
  });

  it('an unapproved default version deployed by the bare model name, with a forged modelVersionId of the approved one, is an unapproved_deployment', () => {
    const at = (m: number) => `2026-11-20T09:${String(m).padStart(2, '0')}:00Z`;
    const op = (n: number) => ({ name: `${MODEL}/operations/${n}` });
    const events = [
      auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v1/' } }, response: op(1), principal: 'ci@example.com', timestamp: at(0) }),
      auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${MODEL}@1`, request: { name: `${MODEL}@1`, versionAliases: ['production'] }, principal: 'carol@example.com', timestamp: at(10) }),
      auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, parentModel: MODEL, model: { displayName: 'fraud', artifactUri: 'gs://elsewhere/x/' } }, response: op(2), principal: 'mallory@example.com', timestamp: at(20) }),
      auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${MODEL}@2`, request: { name: `${MODEL}@2`, versionAliases: ['default'] }, principal: 'mallory@example.com', timestamp: at(30) }),
      auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: `${LOC}/endpoints/77`, request: { endpoint: `${LOC}/endpoints/77`, deployedModel: { model: MODEL, modelVersionId: '1' }, trafficSplit: { '0': 100 } }, principal: 'mallory@example.com', timestamp: at(40) }),
    ].map(one);
    const alerts = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', deployer: 'mallory@example.com' });
  });

  it('the done operation logged in an entry of its own (response, no request) keeps the version the service deployed: the approved one, not the default', () => {
    const at = (m: number) => `2026-11-20T09:${String(m).padStart(2, '0')}:00Z`;
    const op = (n: number) => ({ name: `${MODEL}/operations/${n}` });
    const events = [
      auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v1/' } }, response: op(1), principal: 'ci@example.com', timestamp: at(0) }),
      auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${MODEL}@1`, request: { name: `${MODEL}@1`, versionAliases: ['production'] }, principal: 'carol@example.com', timestamp: at(10) }),
      auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, parentModel: MODEL, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v2/', versionAliases: ['default'] } }, response: op(2), principal: 'ci@example.com', timestamp: at(20) }),
      auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: `${LOC}/endpoints/77`, request: { endpoint: `${LOC}/endpoints/77`, deployedModel: { model: `${MODEL}@1` }, trafficSplit: { '0': 100 } }, response: { name: `${LOC}/endpoints/77/operations/9` }, principal: 'dave@example.com', timestamp: at(30) }),
      auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: `${LOC}/endpoints/77`, response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse', deployedModel: { id: '61', model: MODEL, modelVersionId: '1' } }, principal: 'dave@example.com', timestamp: at(45) }),
    ].map(one);
    expect(events.at(-1)!.ml?.model).toMatchObject({ name: MODEL, version: '1' });
    expect(replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });
});

describe('a refused evaluation import', () => {
  it('records no scores for the version (a failed call is no baseline)', () => {
    const request = { parent: `${MODEL}@2`, modelEvaluation: { metricsSchemaUri: 'gs://google-cloud-aiplatform/schema/modelevaluation/classification_metrics_1.0.0.yaml', metrics: { auRoc: 0.99, logLoss: 0.01 } } };
    const ok = one(auditEntry({ method: `${V1}ModelService.ImportModelEvaluation`, resourceName: `${MODEL}@2`, request }));
    expect(ok.ml?.metrics).toEqual({ auRoc: 0.99, logLoss: 0.01 });
    const refused = one(auditEntry({ method: `${V1}ModelService.ImportModelEvaluation`, resourceName: `${MODEL}@2`, request, status: { code: 7, message: 'denied' } }));
    expect(refused.outcome).toBe('failure');
    expect(refused.error?.code).toBe('PERMISSION_DENIED');
    expect(refused.ml?.metrics).toBeUndefined();
  });
});

describe('publisher (Model Garden) models', () => {
  it('are not registry models: a call on one sets no ml.model', () => {
    const ev = one(auditEntry({ method: `${V1}PredictionService.Predict`, resourceName: `${LOC}/publishers/google/models/gemini-1.5-pro`, log: 'data_access', request: {} }));
    expect(ev.ml?.model).toBeUndefined();
  });

  it('Model Garden Deploy of a publisher or Hugging Face model names the model it deploys, and is judged as a deployment', () => {
    const garden = (request: Record<string, unknown>) =>
      one(auditEntry({
        method: 'google.cloud.aiplatform.v1beta1.ModelGardenService.Deploy',
        resourceName: LOC,
        request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1beta1.DeployRequest', destination: LOC, endpointConfig: { endpointDisplayName: 'llm' }, ...request },
        response: { name: `${LOC}/operations/31` },
        principal: 'mallory@example.com',
      }));
    const published = garden({ publisherModelName: 'publishers/google/models/gemma2@gemma-2-2b-it', modelConfig: { acceptEula: true } });
    const hf = garden({ huggingFaceModelId: 'evilcorp/backdoored-llm', modelConfig: { acceptEula: true, containerSpec: { imageUri: 'docker.io/evilcorp/serve:latest' } } });
    expect(published.action).toBe('endpoint.deploy');
    expect(published.ml?.model).toMatchObject({ name: 'publishers/google/models/gemma2' });
    expect(hf.ml?.model).toMatchObject({ name: 'publishers/hf-evilcorp/models/backdoored-llm' });
    for (const ev of [published, hf]) {
      const alerts = replayEvents([ev], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', deployer: 'mallory@example.com' });
    }
  });
});

describe('container images and job facts', () => {
  it('a python-package worker pool names its executor image; a short digest is not a pin', () => {
    const ev = one(auditEntry({
      method: `${V1}JobService.CreateCustomJob`,
      resourceName: LOC,
      request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { workerPoolSpecs: [{ pythonPackageSpec: { executorImageUri: 'us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-12:latest', packageUris: ['gs://code/trainer.tar.gz'], pythonModule: 'trainer.task' } }] } } },
    }));
    expect(ev.ml?.job).toMatchObject({ image: 'us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-12:latest', image_pinned: false });

    const short = one(auditEntry({
      method: `${V1}JobService.CreateCustomJob`,
      resourceName: LOC,
      request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { workerPoolSpecs: [{ containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/trainer@sha256:abcd' } }] } } },
    }));
    expect(short.ml?.job?.image_pinned).toBe(false);
    expect(short.ml?.job?.image_digest).toBeUndefined();
  });

  it('a Docker Hub official image named without a registry (`python:3.9`, KFP\'s default base image) is an image, and an unverified dependency', () => {
    const pipeline = one(auditEntry({
      method: `${V1}PipelineService.CreatePipelineJob`,
      resourceName: LOC,
      request: {
        parent: LOC,
        pipelineJob: {
          displayName: 'train-pipeline',
          network: 'projects/123456/global/networks/vpc',
          pipelineSpec: { pipelineInfo: { name: 'train-pipeline' }, deploymentSpec: { executors: { 'exec-train': { container: { image: 'python:3.9', command: ['python3'] } } } }, schemaVersion: '2.1.0' },
          // A pipeline parameter that happens to be called `image` is not a container image.
          runtimeConfig: { parameterValues: { image: 'cat.png' } },
        },
      },
    }));
    expect(pipeline.ml?.job).toMatchObject({ image: 'python:3.9', images: ['python:3.9'], image_pinned: false });
    const job = one(auditEntry({
      method: `${V1}JobService.CreateCustomJob`,
      resourceName: LOC,
      request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { network: 'projects/123456/global/networks/vpc', workerPoolSpecs: [{ containerSpec: { imageUri: 'ubuntu' } }] } } },
    }));
    expect(job.ml?.job).toMatchObject({ image: 'ubuntu', image_pinned: false });
    for (const ev of [pipeline, job]) {
      const alerts = replayEvents([ev], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.summary).toContain('registry docker.io is not on the allow list');
    }
  });

  it('a job with its dashboard open (enableDashboardAccess) has web access', () => {
    const ev = one(auditEntry({
      method: `${V1}JobService.CreateCustomJob`,
      resourceName: LOC,
      request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { enableDashboardAccess: true, workerPoolSpecs: [{ containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/trainer:1' } }] } } },
    }));
    expect((ev.ml?.job as { web_access?: boolean }).web_access).toBe(true);
  });

  it('a batch prediction job names the directory it wrote (outputInfo.gcsOutputDirectory) as an output', () => {
    const ev = one(auditEntry({
      method: `${V1}JobService.CreateBatchPredictionJob`,
      resourceName: LOC,
      request: { parent: LOC, batchPredictionJob: { displayName: 'bp', model: MODEL, inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: ['gs://in/data.jsonl'] } } } },
      response: { name: `${LOC}/batchPredictionJobs/9`, outputInfo: { gcsOutputDirectory: 'gs://out/prediction-bp-2026' } },
    }));
    expect(ev.ml?.data?.inputs).toEqual(['gs://in/data.jsonl']);
    expect(ev.ml?.data?.outputs).toEqual(['gs://out/prediction-bp-2026']);
  });
});

describe('project and region', () => {
  it('the project is the resource\'s (resource.labels.project_id), also when the entry sits in an organization-level log', () => {
    const e = auditEntry({ method: `${V1}ModelService.DeleteModel`, resourceName: MODEL });
    e.logName = 'organizations/123456/logs/cloudaudit.googleapis.com%2Factivity';
    const ev = one(e);
    expect(ev.cloud).toMatchObject({ provider: 'gcp', project: PROJECT, region: 'us-central1' });
  });

  it('a resource logged in several locations gets no single region; in one location, that one', () => {
    const storage = (currentLocations: string[]) => {
      const e = auditEntry({ method: 'storage.objects.rewrite', resourceName: 'projects/_/buckets/models/objects/fraud/model.pkl' });
      const pp = e.protoPayload as Record<string, unknown>;
      pp.serviceName = 'storage.googleapis.com';
      pp.resourceLocation = { currentLocations };
      e.resource = { type: 'gcs_bucket', labels: { project_id: PROJECT, bucket_name: 'models' } };
      return one(e);
    };
    const single = storage(['us-central1']);
    expect(single.cloud?.region).toBe('us-central1');
    expect(single.action).toBe('data_object.copy');
    expect(single.resource).toMatchObject({ type: 'gcs_object', uri: 'gs://models/fraud/model.pkl' });
    expect(storage(['us-central1', 'europe-west4']).cloud?.region).toBeUndefined();
  });
});

describe('identity-relevant calls of other Google services', () => {
  const other = (serviceName: string, method: string, resourceName: string) => {
    const e = auditEntry({ method, resourceName });
    (e.protoPayload as Record<string, unknown>).serviceName = serviceName;
    e.resource = { type: 'audited_resource', labels: { service: serviceName, method, project_id: PROJECT } };
    return one(e);
  };
  const SA = `projects/${PROJECT}/serviceAccounts/trainer@${PROJECT}.iam.gserviceaccount.com`;

  it('service account keys created, uploaded or deleted are credential changes', () => {
    expect(other('iam.googleapis.com', 'google.iam.admin.v1.CreateServiceAccountKey', SA).action).toBe('credential.create');
    expect(other('iam.googleapis.com', 'google.iam.admin.v1.UploadServiceAccountKey', SA).action).toBe('credential.create');
    expect(other('iam.googleapis.com', 'google.iam.admin.v1.DeleteServiceAccountKey', `${SA}/keys/abc`).action).toBe('credential.delete');
  });

  it('minting tokens or signing as a service account (IAM Credentials) is service_account.token_create', () => {
    for (const rpc of ['GenerateAccessToken', 'GenerateIdToken', 'SignBlob', 'SignJwt']) {
      const ev = other('iamcredentials.googleapis.com', `google.iam.credentials.v1.IAMCredentials.${rpc}`, SA);
      expect([ev.stage, ev.action], rpc).toEqual(['platform', 'service_account.token_create']);
    }
  });

  it('a REST-style lower-case setIamPolicy (Compute Engine) is a permission change', () => {
    const ev = other('compute.googleapis.com', 'v1.compute.instances.setIamPolicy', `projects/${PROJECT}/zones/us-central1-a/instances/trainer-vm`);
    expect([ev.stage, ev.action]).toEqual(['platform', 'permission.change']);
  });
});

describe('reading a long-running prediction', () => {
  it('FetchPredictOperation reads an operation, it is not an invocation', () => {
    const ev = one(auditEntry({ method: `${V1}PredictionService.FetchPredictOperation`, resourceName: `${LOC}/endpoints/77`, log: 'data_access', request: {} }));
    expect([ev.stage, ev.action]).toEqual(['serving', 'endpoint.read']);
    expect(one(auditEntry({ method: `${V1}PredictionService.Predict`, resourceName: `${LOC}/endpoints/77`, log: 'data_access', request: {} })).action).toBe('endpoint.invoke');
  });
});
