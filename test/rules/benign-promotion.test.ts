import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { connectorByName } from '../../connectors/index.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { T0, actors, at, ev } from './events.js';

/**
 * Ordinary promotions a black-box false-positive hunt ran through the default rules: each raised
 * high-severity alerts a SOC would close. Near misses keep the real violations in the same flows.
 */

const P = 'projects/ml-prod/locations/us-central1';
let n = 0;
/** A Vertex AI audit entry (Cloud Audit Logs, as the Pub/Sub push and pull routes receive it). */
function audit(method: string, time: string, who: string, request: Record<string, unknown>, resourceName = P): Record<string, unknown> {
  return {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', status: {}, authenticationInfo: { principalEmail: who },
      serviceName: 'aiplatform.googleapis.com', methodName: `google.cloud.aiplatform.v1.${method}`, resourceName, request, response: {},
    },
    insertId: `bp-${n++}`, resource: { type: 'audited_resource', labels: { project_id: 'ml-prod' } }, timestamp: time,
    logName: 'projects/ml-prod/logs/cloudaudit.googleapis.com%2Factivity',
  };
}
const PIPELINE = 'pipeline-runner@ml-prod.iam.gserviceaccount.com';
const DEPLOYER = 'cicd-deployer@ml-prod.iam.gserviceaccount.com';
const REVIEWER = 'dana@corp.example';
const model = `${P}/models/4455`;

function vertex(records: Record<string, unknown>[]): NormalizedEvent[] {
  const plugin = connectorByName('vertex')!;
  const ctx = { channel: 'test.vertex', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({}) } as never;
  return records.flatMap((r) => plugin.normalize!(r, ctx).events);
}
const fired = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.map((a) => `${a.rule_id} ${a.entity.id}`);

// Last night's version 3 is known (its evaluation was imported); tonight's retrain uploads a new version of the
// model with the SDK's defaults: `default` alias, adversarial score as a label. Its number is not logged.
const v3Evaluated = audit('ModelService.ImportModelEvaluation', '2026-11-19T02:45:00Z', PIPELINE, { parent: `${model}@3`, modelEvaluation: { metrics: { auRoc: 0.93 } } }, `${model}@3`);
const upload = (aliases: string[] = ['default']) =>
  audit('ModelService.UploadModel', '2026-11-20T02:40:00Z', PIPELINE, { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: 'gs://b/run-20/model', labels: { adv_robustness: '0.82' }, versionAliases: aliases } });
const review = audit('ModelService.MergeVersionAliases', '2026-11-20T10:00:00Z', REVIEWER, { name: `${model}@4`, versionAliases: ['champion'] }, `${model}@4`);
const deploy = (target: string) =>
  audit('EndpointService.DeployModel', '2026-11-20T11:00:00Z', DEPLOYER, { endpoint: `${P}/endpoints/9988`, deployedModel: { model: target }, trafficSplit: { '0': 100 } }, `${P}/endpoints/9988`);

describe('Vertex: a retrain uploaded with the SDK defaults, reviewed, then deployed', () => {
  it('raises nothing: `default` is not an approval, the upload\'s label is the new version\'s evidence, the review approves it', () => {
    for (const target of [`${model}@default`, model, `${model}@champion`, `${model}@4`]) {
      expect(fired(vertex([v3Evaluated, upload(), review, deploy(target)]))).toEqual([]);
    }
  });

  it('near miss: deployed by its default alias (or no version) without review, the new version is unapproved either way', () => {
    for (const target of [`${model}@default`, model]) {
      expect(fired(vertex([v3Evaluated, upload(), deploy(target)]))).toEqual([`registry.unapproved_deployment ${P}/endpoints/9988`]);
    }
  });

  it('an approval alias set at upload is the new version\'s, not pinned on version 3 (no self-approval of v3 by its evaluator)', () => {
    const alerts = fired(vertex([v3Evaluated, upload(['champion'])]));
    expect(alerts.filter((a) => a.includes('/4455/3'))).toEqual([]);
    // …and version 3 itself was never approved: deploying it is still the alert.
    expect(fired(vertex([v3Evaluated, upload(['champion']), deploy(`${model}@3`)]))).toContain(`registry.unapproved_deployment ${P}/endpoints/9988`);
  });

  it('an approval alias set at upload by the one who trained the new artifact is still self-approval (of the new version)', () => {
    const trained = ev({ id: 'train-20', time: '2026-11-20T01:00:00.000Z', platform: 'vertex', stage: 'training', action: 'training_job.create', actor: { email: PIPELINE, type: 'service' }, resource: { type: 'custom_job', name: 'run-20' }, ml: { job: { name: 'run-20', network_isolation: true }, data: { outputs: ['gs://b/run-20/model'] } } });
    const alerts = replayEvents([trained, ...vertex([v3Evaluated, upload(['champion'])])], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'evaluation.self_approval');
    expect(alerts.map((a) => [a.entity.id, a.details?.roles])).toEqual([[`${model}/new`, ['trained']]]);
  });

  it('an approval alias set at the upload is judged for adversarial evidence on the new version: its labels, or an evaluation of the version it becomes', () => {
    const adv = (records: Record<string, unknown>[]) => fired(vertex(records)).filter((a) => a.startsWith('evaluation.adversarial_failure'));
    const bare = (aliases: string[]) => audit('ModelService.UploadModel', '2026-11-20T02:40:00Z', PIPELINE, { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: 'gs://b/run-20/model', versionAliases: aliases } });
    const evaluated = audit('ModelService.ImportModelEvaluation', '2026-11-20T03:00:00Z', PIPELINE, { parent: `${model}@4`, modelEvaluation: { metrics: { adv_robust_accuracy: 0.8 } } }, `${model}@4`);
    const later = audit('ModelService.GetModel', '2026-11-20T06:00:00Z', REVIEWER, { name: `${model}@4` }, `${model}@4`);
    expect(adv([v3Evaluated, upload(['champion']), later])).toEqual([]);
    expect(adv([v3Evaluated, bare(['champion']), evaluated, later])).toEqual([]);
    // Near miss: no evidence anywhere is the alert, on the new version.
    expect(adv([v3Evaluated, bare(['champion']), later])).toEqual([`evaluation.adversarial_failure ${model}/new`]);
  });

  it('two uploads in a row are two new versions, in order: the second one\'s unreviewed artifact, deployed by default, is the alert', () => {
    const mallory = audit('ModelService.UploadModel', '2026-11-20T02:41:00Z', 'mallory@corp.example', { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: 'gs://evil/model', versionAliases: ['default'] } });
    for (const target of [model, `${model}@default`]) {
      const alerts = fired(vertex([v3Evaluated, upload(), mallory, review, deploy(target)]));
      // v4 (the pipeline's, its label on record, reviewed) is quiet; v5 (mallory's, holding default) is not approved.
      expect(alerts).toEqual([`registry.unapproved_deployment ${P}/endpoints/9988`]);
    }
    expect(fired(vertex([v3Evaluated, upload(), mallory, review, deploy(`${model}@4`)]))).toEqual([]);
  });

  it('uploads in a row get their numbers in order, whichever version is seen first; a version first named by its deployment is judged by its upload', () => {
    const second = (who: string, uri: string, aliases = ['default']) => audit('ModelService.UploadModel', '2026-11-20T02:41:00Z', who, { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: uri, labels: { adv_robustness: '0.9' }, versionAliases: aliases } });
    const get = (n: number, min: number) => audit('ModelService.GetModel', `2026-11-20T03:0${min}:00Z`, REVIEWER, { name: `${model}@${n}` }, `${model}@${n}`);
    const approve = (n: number) => audit('ModelService.MergeVersionAliases', '2026-11-20T10:00:00Z', REVIEWER, { name: `${model}@${n}`, versionAliases: ['champion'] }, `${model}@${n}`);
    // Version 3 seen being made (an upload whose response names it): the numbers after it are sure.
    const v3Made = { ...audit('ModelService.UploadModel', '2026-11-19T02:40:00Z', PIPELINE, { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: 'gs://b/run-19/model' } }), };
    (v3Made.protoPayload as Record<string, unknown>).response = { response: { model, modelVersionId: '3' } };
    // v5 (mallory's) seen before v4 (the pipeline's, champion at upload): deploying v5 is still the alert.
    const championA = upload(['default', 'champion']);
    expect(fired(vertex([v3Made, championA, second('mallory@corp.example', 'gs://evil/model'), get(5, 0), deploy(`${model}@5`)]))).toEqual([`registry.unapproved_deployment ${P}/endpoints/9988`]);
    // Benign, out of order: v5 seen first, the reviewer approves v4 (or v5), deploying the approved one is quiet.
    expect(fired(vertex([v3Evaluated, upload(), second(PIPELINE, 'gs://b/run-21/model'), get(5, 0), get(4, 1), approve(4), deploy(`${model}@4`)]))).toEqual([]);
    expect(fired(vertex([v3Evaluated, upload(), second(PIPELINE, 'gs://b/run-21/model'), get(5, 0), get(4, 1), approve(5), deploy(model)]))).toEqual([]);
    // An upload with champion deployed by `@4` before anything else named v4 (the SDK's Model.deploy): quiet.
    expect(fired(vertex([v3Made, championA, deploy(`${model}@4`)]))).toEqual([]);
  });

  it('a number that is not sure (v3 known only from an evaluation: a copy or an older version may sit above it) carries no approval', () => {
    // mallory copies a model into 4455 (CopyModel with parentModel: v4, not read as a new version); the pipeline's
    // upload with champion becomes v5. Counting from v3 would give the pipeline's approval to mallory's v4.
    const copy = audit('ModelService.CopyModel', '2026-11-20T02:39:00Z', 'mallory@corp.example', { parent: P, sourceModel: `${P}/models/777`, parentModel: model });
    expect(fired(vertex([v3Evaluated, copy, upload(['default', 'champion']), deploy(`${model}@4`)]))).toEqual([`registry.unapproved_deployment ${P}/endpoints/9988`]);
    // Without the copy on record too: the upload probably became v4, but what sits above v3 is not known, so its
    // approval is not handed to whatever v4 turns out to be — named first by the deployment, or seen before it.
    const seen4 = audit('ModelService.GetModel', '2026-11-20T03:00:00Z', REVIEWER, { name: `${model}@4` }, `${model}@4`);
    expect(fired(vertex([v3Evaluated, upload(['default', 'champion']), deploy(`${model}@4`)]))).toEqual([`registry.unapproved_deployment ${P}/endpoints/9988`]);
    expect(fired(vertex([v3Evaluated, upload(['default', 'champion']), seen4, deploy(`${model}@4`)]))).toEqual([`registry.unapproved_deployment ${P}/endpoints/9988`]);
    // Once CopyModel into the model is read as a new version, even sure numbers count it: the copy is v4, the upload v5.
    const v3Made = audit('ModelService.UploadModel', '2026-11-19T02:40:00Z', PIPELINE, { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: 'gs://b/run-19/model' } });
    (v3Made.protoPayload as Record<string, unknown>).response = { response: { model, modelVersionId: '3' } };
    expect(fired(vertex([v3Made, copy, upload(['default', 'champion']), deploy(`${model}@4`)]))).toEqual([`registry.unapproved_deployment ${P}/endpoints/9988`]);
    expect(fired(vertex([v3Made, copy, upload(['default', 'champion']), deploy(`${model}@5`)]))).toEqual([]);
    // Near miss, benign: the reviewer approves the version by number; deploying it, unversioned or by alias, is quiet.
    const approve4 = audit('ModelService.MergeVersionAliases', '2026-11-20T10:00:00Z', REVIEWER, { name: `${model}@4`, versionAliases: ['champion'] }, `${model}@4`);
    for (const target of [`${model}@4`, model, `${model}@champion`]) expect(fired(vertex([v3Evaluated, upload(), approve4, deploy(target)]))).toEqual([]);
  });

  it('with roles [registered], setting an approval alias in one\'s own upload is self-approval, as setting it afterwards is', () => {
    const rules = RulesConfig.parse({ 'evaluation.self_approval': { roles: ['trained', 'evaluated', 'registered'] } });
    const own = audit('ModelService.UploadModel', '2026-11-20T02:41:00Z', 'mallory@corp.example', { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: 'gs://evil/model', labels: { adv_robustness: '0.9' }, versionAliases: ['default', 'champion'] } });
    const alerts = replayEvents(vertex([v3Evaluated, own]), { rules }).alerts.filter((a) => a.rule_id === 'evaluation.self_approval');
    expect(alerts.map((a) => [a.entity.id, a.details?.roles, a.details?.identity])).toEqual([[`${model}/new`, ['registered'], 'mallory@corp.example']]);
    // Near miss: with the default roles it is not (registering is not a role unless configured).
    expect(fired(vertex([v3Evaluated, own])).filter((a) => a.startsWith('evaluation.self_approval'))).toEqual([]);
  });

  it('near miss: with no adversarial label on the upload, the reviewer\'s approval is the documented alert', () => {
    const bare = audit('ModelService.UploadModel', '2026-11-20T02:40:00Z', PIPELINE, { parent: P, parentModel: model, model: { displayName: 'churn', artifactUri: 'gs://b/run-20/model', versionAliases: ['default'] } });
    expect(fired(vertex([v3Evaluated, bare, review]))).toEqual([`evaluation.adversarial_failure ${model}/4`]);
  });
});

describe('MLflow: promoting the next version archives the old one', () => {
  const mv = (id: string, min: number, action: string, version: string, model: Record<string, unknown>, actor: NormalizedEvent['actor'] = actors.bob) =>
    ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', stage: 'registry', action, actor, resource: { type: 'model_version', name: 'churn', version }, ml: { model: { name: 'churn', version, ...model } } });
  const flow = [
    mv('c1', 0, 'model_version.create', '1', { artifact_uri: 's3://m/churn/1', tags: { adv_robustness: '0.9' } }, actors.aliceMlflow),
    mv('p1', 10, 'model_version.approve', '1', { stage: 'Production', approval: 'approved' }),
    mv('c2', 60, 'model_version.create', '2', { artifact_uri: 's3://m/churn/2', tags: { adv_robustness: '0.9' } }, actors.aliceMlflow),
    mv('p2', 70, 'model_version.approve', '2', { stage: 'Production', approval: 'approved' }),
  ];
  it('v1 Production → Archived (archive_existing_versions) is a demotion, not a change of what was approved', () => {
    expect(fired([...flow, mv('a1', 70.1, 'model_version.stage_transition', '1', { stage: 'Archived' })])).toEqual([]);
  });
  it('near miss: a tag written on the approved v2 afterwards is still the alert', () => {
    expect(fired([...flow, mv('t2', 90, 'model_version.tag_set', '2', { tags: { note: 'x' } }, actors.aliceMlflow)])).toEqual(['registry.approved_model_modified churn/2']);
  });
});
