import { describe, expect, it } from 'vitest';
import { normalizeInput } from '../../../bridge/normalize.js';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixture, readFixtureJson } from '../../helpers/fixtures.js';
import { LOC, PROJECT, V1, auditEntry, normOne } from './samples.js';

/**
 * One identity per thing: a model named with the project number or the project id, a principal logged by
 * email or by subject, is one model / one actor; a GCS object whose path contains `models/` is an object.
 */

const one = normOne;

const alertsOf = (events: NormalizedEvent[], rule: string) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

/** The same location as LOC, written with the project NUMBER as Vertex's own names are. */
const NUM_LOC = 'projects/123456/locations/us-central1';

const approve = (modelAt: string, timestamp: string) =>
  auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: modelAt, request: { name: modelAt, versionAliases: ['production'] }, principal: 'carol@example.com', timestamp });
const deploy = (modelAt: string, timestamp: string) =>
  auditEntry({
    method: `${V1}EndpointService.DeployModel`,
    resourceName: `${LOC}/endpoints/42`,
    request: { endpoint: `${LOC}/endpoints/42`, deployedModel: { model: modelAt } },
    principal: 'bob@example.com',
    timestamp,
  });

describe('a Vertex resource named with the project number is the one named with the project id', () => {
  it('canonicalizes resourceName, resource.id and ml.model to the entry project id, keeping the logged name', () => {
    const ev = one(approve(`${NUM_LOC}/models/901@1`, '2026-11-23T10:02:00Z'));
    expect(ev.ml?.model).toMatchObject({ name: `${LOC}/models/901`, version: '1', approval: 'approved' });
    expect(ev.resource).toMatchObject({ id: `${LOC}/models/901@1`, name: '901', version: '1' });
    expect(ev.details?.resource_name_logged).toBe(`${NUM_LOC}/models/901@1`);
    expect(ev.cloud?.project).toBe(PROJECT);
  });

  it('deployment refs written with the number (SDK resource_name) are canonical too', () => {
    const ev = one(
      auditEntry({
        method: `${V1}EndpointService.DeployModel`,
        resourceName: `${NUM_LOC}/endpoints/42`,
        request: { endpoint: `${NUM_LOC}/endpoints/42`, deployedModel: { model: `${NUM_LOC}/models/901@1` } },
      }),
    );
    expect(ev.ml?.model).toMatchObject({ name: `${LOC}/models/901`, version: '1' });
    expect(ev.ml?.deployment).toMatchObject({ endpoint: `${LOC}/endpoints/42`, model_uri: `${LOC}/models/901@1` });
  });

  it('approval logged with the number, deployment with the id: linked, no unapproved_deployment', () => {
    const events = [approve(`${NUM_LOC}/models/901@1`, '2026-11-23T10:02:00Z'), deploy(`${LOC}/models/901@1`, '2026-11-23T10:03:00Z')].map(one);
    expect(alertsOf(events, 'registry.unapproved_deployment')).toEqual([]);
  });

  it('UploadModel named only by its operation (project number) approves the model a later deploy names by id', () => {
    const upload = auditEntry({
      method: `${V1}ModelService.UploadModel`,
      resourceName: LOC,
      request: { parent: LOC, model: { displayName: 'm', artifactUri: 'gs://models/m/1/', versionAliases: ['production'] } },
      response: { '@type': 'type.googleapis.com/google.longrunning.Operation', name: `${NUM_LOC}/models/888/operations/999` },
      timestamp: '2026-11-22T10:00:00Z',
    });
    const up = one(upload);
    expect(up.ml?.model).toMatchObject({ name: `${LOC}/models/888`, version: '1', approval: 'approved' });
    expect(alertsOf([up, one(deploy(`${LOC}/models/888@1`, '2026-11-22T10:05:00Z'))], 'registry.unapproved_deployment')).toEqual([]);
  });

  it('a genuinely different project stays different: by id, and by another number than the entry pins', () => {
    // The approval is of project ml-prod-123's model 901; a deploy of other-proj's model 901 is not approved.
    const events = [approve(`${NUM_LOC}/models/901@1`, '2026-11-23T10:02:00Z'), deploy('projects/other-proj/locations/us-central1/models/901@1', '2026-11-23T10:03:00Z')].map(one);
    expect(alertsOf(events, 'registry.unapproved_deployment')).toHaveLength(1);
    // The entry's own number (123456, from resourceName) is known: 999 is another project's, kept as written.
    const copy = one(
      auditEntry({
        method: `${V1}ModelService.CopyModel`,
        resourceName: NUM_LOC,
        request: { parent: NUM_LOC, sourceModel: 'projects/999/locations/us-central1/models/5' },
      }),
    );
    expect(copy.ml?.model?.name).toBe('projects/999/locations/us-central1/models/5');
    expect(copy.resource?.id).toBe(LOC);
  });

  it('Model Monitoring names the job with the project number: canonical to the log project id', () => {
    const ev = one(readFixtureJson('vertex', 'vertex-model-monitoring-anomaly-doc-example.json'));
    expect(ev.resource?.id).toBe('projects/model-monitoring-demo/locations/us-central1/modelDeploymentMonitoringJobs/6680511704087920640');
  });
});

describe('ImportModelEvaluation metrics', () => {
  const model = `${LOC}/models/777`;
  const upload = (version: string, timestamp: string) =>
    auditEntry({
      method: `${V1}ModelService.UploadModel`,
      resourceName: model,
      request: { parent: LOC, ...(version === '1' ? {} : { parentModel: model }), model: { displayName: 'm', artifactUri: `gs://models/m/${version}/` } },
      response: { model, modelVersionId: version },
      timestamp,
    });
  const importEval = (parent: string, metrics: unknown, opts: { timestamp?: string; resourceName?: string; status?: Record<string, unknown>; response?: Record<string, unknown> } = {}) =>
    auditEntry({
      method: `${V1}ModelService.ImportModelEvaluation`,
      resourceName: opts.resourceName ?? parent,
      request: {
        parent,
        modelEvaluation: { metricsSchemaUri: 'gs://google-cloud-aiplatform/schema/modelevaluation/classification_metrics_1.0.0.yaml', metrics },
      },
      response: opts.response,
      status: opts.status,
      timestamp: opts.timestamp,
    });

  it('keeps the numeric leaves with flat names, leaves tables (arrays) out, attaches them to the version', () => {
    const ev = one(
      importEval(`${model}@2`, {
        auRoc: 0.97,
        logLoss: 0.21,
        confidenceMetrics: [{ confidenceThreshold: 0.5, recall: 0.9 }],
        confusionMatrix: { annotationSpecs: [{ id: '1', displayName: 'fraud' }], rows: [[90, 10], [5, 95]] },
        nested: { deeper: { score: 0.5 } },
        label: 'x',
        bad: 'NaN',
      }),
    );
    expect(ev.stage).toBe('evaluation');
    expect(ev.ml?.model).toMatchObject({ name: model, version: '2' });
    expect(ev.ml?.metrics).toEqual({ auRoc: 0.97, logLoss: 0.21, 'nested.deeper.score': 0.5 });
    expect(ev.details?.metrics_schema_uri).toMatch(/classification_metrics/);
  });

  it('bounds the number of metrics a caller-written body can add', () => {
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`m${i}`, i]));
    const ev = one(importEval(`${model}@1`, many));
    expect(Object.keys(ev.ml?.metrics ?? {})).toHaveLength(200);
    expect(ev.details?.metrics_omitted).toBe(100);
  });

  it('a refused import records no metrics', () => {
    const ev = one(importEval(`${model}@1`, { accuracy: 0.1 }, { status: { code: 7, message: 'denied' } }));
    expect(ev.outcome).toBe('failure');
    expect(ev.ml?.metrics).toBeUndefined();
  });

  it('the version comes from parent or the evaluation name when resourceName names the model only', () => {
    const ev = one(importEval(`${NUM_LOC}/models/777@3`, { accuracy: 0.9 }, { resourceName: model }));
    expect(ev.ml?.model).toMatchObject({ name: model, version: '3' });
  });

  it('evaluation.score_drop fires for accuracy 0.95 (v1) → 0.60 (v2), auRoc too', () => {
    const events = [
      upload('1', '2026-11-21T10:01:00Z'),
      importEval(`${model}@1`, { accuracy: 0.95, auRoc: 0.97 }, { timestamp: '2026-11-21T10:02:00Z' }),
      upload('2', '2026-11-21T10:03:00Z'),
      importEval(`${model}@2`, { accuracy: 0.6, auRoc: 0.65 }, { timestamp: '2026-11-21T10:04:00Z' }),
    ].map(one);
    const drops = alertsOf(events, 'evaluation.score_drop');
    // accuracy, and auRoc (Vertex's own name, in score_drop's catalogue).
    expect(drops.map((d) => d.details?.metric).sort()).toEqual(['accuracy', 'auRoc']);
    expect(drops.find((d) => d.details?.metric === 'accuracy')!.details).toMatchObject({ value: 0.6, baseline: 0.95, baseline_version: '1' });
  });
});

describe('actor.id is one per principal (spec §7: principalEmail, else principalSubject)', () => {
  const cfg = { connectors: {}, spool: { keep_raw: true } } as never;
  const fixtureActor = (file: string) => normalizeInput(readFixture('vertex', file), file, 'vertex', cfg).events[0]!;

  it('the same robot logged with email only and with email + user: subject has one id', () => {
    const emailOnly = fixtureActor('cloudevents-LogEntryData-bigqueryjobcompleted.json');
    const withSubject = fixtureActor('cloudevents-LogEntryData-monitoringCreateTimeSeries.json');
    expect(withSubject.actor?.id).toBe('robot@test-project.iam.gserviceaccount.com');
    expect(withSubject.actor?.id).toBe(emailOnly.actor?.id);
    expect(withSubject.details?.principal_subject).toBe('user:robot@test-project.iam.gserviceaccount.com');
  });

  it('a subject-only entry names the account without its IAM member prefix; federated subjects stay as written', () => {
    const sa = 'deployer@p1.iam.gserviceaccount.com';
    const id = (authInfo: Record<string, unknown>) => one(auditEntry({ method: `${V1}EndpointService.GetEndpoint`, authInfo })).actor;
    expect(id({ principalEmail: sa })?.id).toBe(sa);
    expect(id({ principalEmail: sa, principalSubject: `serviceAccount:${sa}` })?.id).toBe(sa);
    expect(id({ principalSubject: `serviceAccount:${sa}` })).toMatchObject({ id: sa, email: sa, type: 'service' });
    expect(id({ principalSubject: 'user:alice@example.com' })).toMatchObject({ id: 'alice@example.com', type: 'user' });
    const wif = 'principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/subject/repo:org/x';
    expect(id({ principalSubject: wif })).toMatchObject({ id: wif, type: 'user' });
    expect(id({ principalSubject: wif })?.email).toBeUndefined();
  });
});

describe('a Cloud Storage object is an object, whatever its path', () => {
  const gcs = (resourceName: string, methodName = 'storage.objects.get') => {
    const entry = auditEntry({ method: methodName, resourceName, log: 'data_access' }) as { protoPayload: Record<string, unknown>; resource: Record<string, unknown> };
    entry.protoPayload.serviceName = 'storage.googleapis.com';
    entry.resource = { type: 'gcs_bucket', labels: { bucket_name: 'b', project_id: PROJECT, location: 'us' } };
    return one(entry);
  };

  it('storage.objects.get on …/objects/models/fraud/model.pkl: no ml.model, named by its path and gs:// URI', () => {
    const ev = gcs('projects/_/buckets/b/objects/models/fraud/model.pkl');
    expect(ev.ml?.model).toBeUndefined();
    expect(ev.resource).toEqual({ type: 'gcs_object', id: 'projects/_/buckets/b/objects/models/fraud/model.pkl', name: 'models/fraud/model.pkl', uri: 'gs://b/models/fraud/model.pkl' });
    expect(ev.action).toBe('data_object.read');
    expect(ev.ml?.data?.uris).toEqual(['gs://b/models/fraud/model.pkl']);
  });

  it('object writes and deletes, and buckets', () => {
    expect(gcs('projects/_/buckets/b/objects/x.csv', 'storage.objects.create').action).toBe('data_object.write');
    expect(gcs('projects/_/buckets/b/objects/x.csv', 'storage.objects.delete').action).toBe('data_object.delete');
    expect(gcs('projects/_/buckets/models', 'storage.buckets.get').resource).toMatchObject({ type: 'gcs_bucket', name: 'models', uri: 'gs://models' });
  });

  it("another service's request naming its own `…/models/…` is not a Vertex model", () => {
    const entry = auditEntry({ method: 'google.cloud.bigquery.v2.JobService.InsertJob', resourceName: 'projects/p/datasets/d/models/m', request: { model: 'projects/p/datasets/d/models/m' } }) as {
      protoPayload: Record<string, unknown>;
    };
    entry.protoPayload.serviceName = 'bigquery.googleapis.com';
    const ev = one(entry);
    expect(ev.ml?.model).toBeUndefined();
    expect(ev.resource?.name).toBe('m');
  });

  it('an aiplatform model under the same kind of path is still a model', () => {
    const ev = one(auditEntry({ method: `${V1}ModelService.GetModel`, resourceName: `${LOC}/models/55@2`, log: 'data_access' }));
    expect(ev.ml?.model).toMatchObject({ name: `${LOC}/models/55`, version: '2' });
  });
});
