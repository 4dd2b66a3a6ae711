import type { Action } from '../../core/schema/actions.js';
import type { Actor, NormalizedEventInput, Outcome, Stage } from '../../core/schema/index.js';
import { redactSecretText } from '../../core/secrets.js';
import { bigqueryExport } from './bigquery.js';
import { workbenchScriptDetails } from './workbench.js';

/** An error message as the event shows it: a secret it echoes hidden, as in raw (redactJobSecrets). */
const redactMessage = (m: string | undefined): string | undefined => (m === undefined ? m : redactSecretText(m));
import { crossProjectCopy } from './copies.js';
import { bucketShareOf, publicShareOf, type BucketLists } from './sharing.js';
import { collectFacts, digestOf, evaluationMetrics, isPinned, maskPaths, parseModelRef, type SecurityFacts } from './facts.js';
import { auditLogKind, isObj, locationOf, str, type Json, type LogEntry } from './logentry.js';
import { agentDeploy } from './agent.js';
import { hubModelOfEnv, type HubModel } from '../../core/integrity/hub.js';
import { gardenDeploy } from './garden.js';
import { tunedModelOf, tuningRequestOf } from './tuning.js';
import { sinkChange } from './logsink.js';
import { monitoredEndpointOf, pubsubFeedChange, requestLoggingOf } from './feeds.js';
import { auditConfigDeltasOf, auditConfigNarrowing } from './auditconfig.js';
import { isVertexMethod, mapOtherMethod, mapVertexMethod, splitMethod } from './methods.js';
import { canonicalNames, type Canon } from './names.js';

/** google.rpc.Code names (google/rpc/code.proto). */
export const RPC_CODES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The event body an audit entry contributes (id, time, channel… are added by the caller). */
export type AuditFields = Pick<NormalizedEventInput, 'stage' | 'action' | 'operation' | 'service' | 'outcome' | 'error' | 'actor' | 'resource' | 'ml' | 'details'> & {
  region?: string;
};

const VERTEX_SERVICE = 'aiplatform.googleapis.com';

/**
 * Outcome of an audited call. proto3 JSON omits a zero `code`, so a present
 * `status` without code is OK; only an absent status falls back on
 * authorizationInfo[].granted (any denial → failure, all granted → success).
 */
export function auditOutcome(pp: Json): { outcome: Outcome; error?: { code?: string; message?: string } } {
  const status = pp.status;
  if (isObj(status)) {
    const code = Number(status.code ?? 0);
    if (!Number.isFinite(code) || code === 0) return { outcome: 'success' };
    return { outcome: 'failure', error: { code: RPC_CODES[code] ?? String(code), message: redactMessage(str(status.message)) } };
  }
  const authz = Array.isArray(pp.authorizationInfo) ? pp.authorizationInfo.filter(isObj) : [];
  if (authz.some((a) => a.granted === false)) return { outcome: 'failure', error: { code: 'PERMISSION_DENIED', message: 'authorization not granted' } };
  if (authz.length > 0 && authz.every((a) => a.granted === true)) return { outcome: 'success' };
  return { outcome: 'unknown' };
}

function actorType(email: string | undefined, subject: string | undefined): Actor['type'] {
  const id = email ?? subject ?? '';
  if (!id) return 'unknown';
  if (id === 'system@google.com' || id.startsWith('system:') || /^service-\d+@.*\.iam\.gserviceaccount\.com$/.test(id)) return 'system';
  if (subject?.startsWith('serviceAccount:') || /\.gserviceaccount\.com$/.test(id)) return 'service';
  if (subject?.startsWith('user:') || /@/.test(id)) return 'user';
  if (subject?.startsWith('principal://')) return 'user';
  return 'unknown';
}

/**
 * The principal a subject names, spelled as its principalEmail is: `user:a@x` and `serviceAccount:sa@p.iam…`
 * are the accounts `a@x` and `sa@p.iam…` (IAM member syntax); federated `principal://…` and other subjects
 * have no email and stay as written.
 */
function principalOfSubject(subject: string | undefined): string | undefined {
  const m = subject ? /^(?:user|serviceAccount):(.+@.+)$/.exec(subject) : null;
  return m ? m[1] : subject;
}

/**
 * Actor from authenticationInfo + requestMetadata (spec §7: principalEmail, else principalSubject), so one
 * principal has one `actor.id` whether an entry logs its email, its subject or both; the subject itself is
 * kept in `details.principal_subject`. The delegation chain is kept in its logged order.
 */
export function auditActor(pp: Json): Actor | undefined {
  const auth = isObj(pp.authenticationInfo) ? pp.authenticationInfo : {};
  const meta = isObj(pp.requestMetadata) ? pp.requestMetadata : {};
  const subject = str(auth.principalSubject);
  const fromSubject = principalOfSubject(subject);
  const email = str(auth.principalEmail) ?? (fromSubject !== subject ? fromSubject : undefined);
  const chain: string[] = [];
  if (Array.isArray(auth.serviceAccountDelegationInfo)) {
    for (const d of auth.serviceAccountDelegationInfo) {
      if (!isObj(d)) continue;
      const first = isObj(d.firstPartyPrincipal) ? str(d.firstPartyPrincipal.principalEmail) : undefined;
      const third = isObj(d.thirdPartyPrincipal) && isObj(d.thirdPartyPrincipal.thirdPartyClaims) ? str(d.thirdPartyPrincipal.thirdPartyClaims.principal ?? d.thirdPartyPrincipal.thirdPartyClaims.sub) : undefined;
      const who = first ?? principalOfSubject(str(d.principalSubject)) ?? third;
      if (who) chain.push(who);
    }
  }
  let type = actorType(email, subject);
  if (type === 'unknown' && !email && !subject && isObj(auth.thirdPartyPrincipal)) type = 'user';
  const actor: Actor = {
    id: email ?? subject,
    email: email && email.includes('@') ? email : undefined,
    name: email && !email.includes('@') ? email : undefined,
    type,
    ip: str(meta.callerIp),
    user_agent: str(meta.callerSuppliedUserAgent),
    chain: chain.length ? chain : undefined,
    key_id: str(auth.serviceAccountKeyName),
  };
  return Object.values(actor).some((v) => v !== undefined && v !== 'unknown') ? actor : undefined;
}

/**
 * Who started a delegation chain, as logged: the first serviceAccountDelegationInfo entry (Cloud Audit Logs sort them
 * in the order the delegations happened) that is not a service account or service agent — a person, or a workload
 * identity federation subject (`principal://…/subject/repo:corp/ml-deploy:ref:refs/heads/main`: which repository
 * and branch of a CI system). A chain of service accounts only has none.
 */
function originalDelegator(pp: Json): string | undefined {
  return auditActor(pp)?.chain?.find((x) => !/\.gserviceaccount\.com$/i.test(x));
}

interface AliasChange {
  added: string[];
  removed: string[];
}

function aliasChange(aliases: unknown): AliasChange {
  const list = Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === 'string' && a.length > 0) : [];
  return { added: list.filter((a) => !a.startsWith('-')), removed: list.filter((a) => a.startsWith('-')).map((a) => a.slice(1)) };
}

/** Refine the table mapping with what the request says (aliases, traffic split, versions). */
function refine(
  rpc: string,
  base: { stage: Stage; action: Action },
  req: Json,
  resourceName: string | undefined,
  approvalAliases: readonly string[],
): { stage: Stage; action: Action; approval?: 'approved'; aliases?: AliasChange } {
  const versioned = !!resourceName && /\/models\/[^/]+@[^/]+$/.test(resourceName);
  switch (rpc) {
    case 'MergeVersionAliases': {
      const change = aliasChange(req.versionAliases);
      const approves = change.added.some((a) => approvalAliases.includes(a));
      const action: Action = approves ? 'model_version.approve' : change.added.length ? 'model_version.alias_set' : change.removed.length ? 'model_version.alias_delete' : 'model_version.alias_set';
      return { stage: 'registry', action, approval: approves ? 'approved' : undefined, aliases: change };
    }
    case 'UpdateEndpoint':
    case 'UpdateEndpointLongRunning': {
      const paths = maskPaths(req.updateMask);
      const ep = isObj(req.endpoint) ? req.endpoint : {};
      const traffic = paths.some((p) => /^traffic_?split$/i.test(p)) || (!paths.length && isObj(ep.trafficSplit) && Object.keys(ep.trafficSplit).length > 0);
      return traffic ? { stage: 'serving', action: 'endpoint.traffic_change' } : base;
    }
    case 'UpdateModel': {
      // Aliases set through UpdateModel (update mask version_aliases) approve like MergeVersionAliases.
      const model = isObj(req.model) ? req.model : {};
      const masked = maskPaths(req.updateMask).some((p) => /^version_?aliases$/i.test(p));
      // Only aliases the mask names are set: `versionAliases` in the body without it are ignored by the service, and
      // a version addressed by its alias (`…/models/55@production`) is not given that alias again (no approval).
      const change = masked ? aliasChange(model.versionAliases) : { added: [], removed: [] };
      if (change?.added.some((a) => approvalAliases.includes(a))) return { stage: 'registry', action: 'model_version.approve', approval: 'approved', aliases: change };
      return versioned ? { stage: 'registry', action: 'model_version.update', aliases: change } : { ...base, aliases: change };
    }
    case 'ExportModel':
      return versioned ? { stage: 'registry', action: 'model_version.export' } : base;
    case 'CopyModel':
      // Into an existing model (`parentModel`): a new version of it, numbered like an upload's.
      if (str(req.parentModel)) return { stage: 'registry', action: 'model_version.create' };
      return /@/.test(String(req.sourceModel ?? '')) ? { stage: 'registry', action: 'model_version.copy' } : base;
    case 'UploadModel': {
      // A version uploaded already carrying an approval alias skips review: keep the upload action, mark it approved.
      const model = isObj(req.model) ? req.model : {};
      const change = aliasChange(model.versionAliases);
      const approves = change.added.some((a) => approvalAliases.includes(a));
      const action: Action = str(req.parentModel) ? 'model_version.create' : base.action;
      return { stage: 'registry', action, approval: approves ? 'approved' : undefined, aliases: change.added.length ? change : undefined };
    }
    default:
      return base;
  }
}

/**
 * The model (and version) an UploadModel creates. The audit entry is written when the call is accepted:
 * `response` is then the long-running Operation `…/models/{id}/operations/{op}` (the model's id, even for a new
 * model), and carries the UploadModelResponse `{model, modelVersionId}` only once done. A new version of
 * `parentModel` has no known version id before that; a new model's first version is always `1`.
 */
export function uploadedModel(req: Json, resp: unknown): { name?: string; version?: string } {
  const op = isObj(resp) ? resp : {};
  const done = isObj(op.response) ? op.response : op;
  const parentModel = parseModelRef(str(req.parentModel)).name;
  const modelId = str(req.modelId);
  const parent = str(req.parent);
  const opModel = /^(.*\/models\/[^/@]+)\/operations\/[^/]+$/.exec(str(op.name) ?? '')?.[1];
  const respModel = parseModelRef(str(done.model));
  const name = parentModel ?? (parent && modelId && !/[/@]/.test(modelId) ? `${parent}/models/${modelId}` : undefined) ?? respModel.name ?? opModel;
  const versionId = str(done.modelVersionId) ?? respModel.version;
  const version = versionId && /^\d+$/.test(versionId) ? versionId : !parentModel && name ? '1' : undefined;
  return { name, version };
}

function mlFacts(
  f: SecurityFacts,
  stage: Stage,
  resourceType: string,
  resourceName: string | undefined,
  req: Json,
  canon: Canon,
  vertex: boolean,
  approval?: string,
  aliases?: AliasChange,
  uploaded?: { name?: string; version?: string },
  resp?: unknown,
) {
  const images = f.images;
  // The job-level image names the offender: the first unpinned image when any (image_pinned is a verdict
  // over all of them, and a pinned sidecar must not stand for a `:latest` miner in another worker pool).
  const image = images.find((i) => !isPinned(i)) ?? images[0];
  const job =
    images.length || f.serviceAccounts.length || f.networks.length || f.kmsKeys.length || f.privateServiceConnect || f.webAccess || f.packageSources.length || f.hiddenPackageSources.length || f.codeUris.length
      ? {
          type: ['training', 'preprocessing'].includes(stage) ? resourceType : undefined,
          name: f.displayNames[0],
          image,
          image_digest: image ? digestOf(image) : undefined,
          image_pinned: images.length ? images.every(isPinned) : undefined,
          images: images.length ? images : undefined,
          role: f.serviceAccounts[0],
          vpc: f.networks[0] ?? (f.privateServiceConnect ? true : undefined),
          kms_key: f.kmsKeys[0],
          web_access: f.webAccess || undefined,
          package_sources: f.packageSources.length ? f.packageSources : undefined,
          package_sources_unverifiable: f.hiddenPackageSources.length ? f.hiddenPackageSources : undefined,
          code_uris: f.codeUris.length ? f.codeUris : undefined,
        }
      : undefined;
  // Model identity: the resource itself for registry calls, else the model a deployment points at. Only
  // aiplatform names are Vertex models (a GCS object `…/objects/models/fraud/model.pkl` is not).
  const modelRef = vertex && /\/models\/[^/]+/.test(resourceName ?? '') && !/\/publishers\//.test(resourceName ?? '') ? resourceName : f.models[0];
  const parsed = parseModelRef(modelRef);
  const ref = uploaded?.name ? { ...parsed, name: uploaded.name, version: uploaded.version } : parsed;
  const deployed = isObj(req.deployedModel) ? req.deployedModel : undefined;
  // DeployedModel.modelVersionId is output only: the server ignores it in a request (the deployed version is
  // the one `model` names, else the default), so only the done operation's DeployModelResponse says it — also
  // when that done operation is logged in an entry of its own, with the response and no request.
  // CreateBatchPredictionJob: `batchPredictionJob.model` may name a version (`@2`), an alias (`@champion`) or
  // neither (the default version); the job the call returns says which version it runs (`modelVersionId`).
  const batch = isObj(req.batchPredictionJob) ? req.batchPredictionJob : undefined;
  const versionId = deployed || stage === 'serving' ? (deployedVersionOf(resp) ?? (batch ? batchVersionOf(resp) : undefined)) : undefined;
  // The alias a batch job names is not one it sets: the registry must not move it to the version the job runs.
  const modelAliases = aliases ? aliases.added : f.versionAliases.length ? f.versionAliases : ref.alias && !batch ? [ref.alias] : undefined;
  // An approval (or alias) is kept even when the model has no name yet (UploadModel of a new model names it
  // only when its operation completes): dropping ml.model would drop the approval with it.
  const model =
    ref.name || f.modelArtifactUris.length || approval || (aliases && modelAliases?.length)
      ? {
          name: ref.name,
          version: ref.version ?? versionId,
          aliases: modelAliases && modelAliases.length ? modelAliases : undefined,
          approval: approval as 'approved' | undefined,
          artifact_uri: f.modelArtifactUris[0],
          // The serving container an UploadModel names (Vertex copies it then; serving.unverified_image judges it).
          image: servingImageOf(req),
          // A Model's labels are its tags (UploadModel, UpdateModel): where evaluation evidence is recorded.
          tags: modelLabels(req),
        }
      : undefined;
  const endpoint = /\/endpoints\/[^/]+$/.test(resourceName ?? '') ? resourceName : canon(str(req.endpoint));
  const deployment = batch && str(batch.model)
    // The model a batch job runs, as a DeployModel names it (the rules resolve its `@version` / `@alias` alike).
    ? { model_uri: canon(str(batch.model)) }
    : stage === 'serving' && (endpoint || f.trafficSplit || deployed)
      ? {
          endpoint,
          traffic: f.trafficSplit,
          model_uri: deployed ? canon(str(deployed.model)) : undefined,
          variant: f.deployedModelIds[0],
          service_account: deployed ? str(deployed.serviceAccount) : undefined,
          container_logging_disabled: f.containerLoggingDisabled || undefined,
        }
      : undefined;
  const inputs = f.inputUris.length ? f.inputUris : undefined;
  const outputs = f.outputUris.length ? f.outputUris : undefined;
  const data = inputs || outputs ? { uris: [...(inputs ?? []), ...(outputs ?? [])], inputs, outputs } : undefined;
  // A batch job is named by its displayName (its resource name is a number): what the SOC reads and what a rule
  // groups its runs by.
  return { job: batch && !job?.name && str(batch.displayName) ? { ...job, name: str(batch.displayName) } : job, model, deployment, data };
}

/** The checkpoint a DeployModel serves: `deployedModel.checkpointId` of the request, else of the done DeployModelResponse. */
function deployedCheckpointOf(req: Json, resp: unknown): string | undefined {
  const asked = isObj(req.deployedModel) ? str(req.deployedModel.checkpointId) : undefined;
  if (asked) return asked;
  const op = isObj(resp) ? resp : {};
  const done = isObj(op.response) ? op.response : op;
  return isObj(done.deployedModel) ? str(done.deployedModel.checkpointId) : undefined;
}

/** `model.defaultCheckpointId` an UploadModel gives, or an UpdateModel sets (its mask naming it, or no mask). */
function defaultCheckpointOf(rpc: string, req: Json): string | undefined {
  const model = isObj(req.model) ? req.model : undefined;
  const id = model ? str(model.defaultCheckpointId) : undefined;
  if (!id || (rpc !== 'UploadModel' && rpc !== 'UpdateModel')) return undefined;
  const paths = maskPaths(req.updateMask);
  return rpc === 'UploadModel' || !paths.length || paths.some((p) => /^default_?checkpoint_?id$/i.test(p)) ? id : undefined;
}

/** The version a created BatchPredictionJob runs (`modelVersionId`, output only), when the call's response carries it. */
function batchVersionOf(resp: unknown): string | undefined {
  const v = isObj(resp) ? str(resp.modelVersionId) : undefined;
  return v && /^\d+$/.test(v) ? v : undefined;
}

/**
 * The version a DeployModel served, as the service reports it: `deployedModel.modelVersionId` of a
 * DeployModelResponse, bare or in the done long-running Operation's `response`.
 */
function deployedVersionOf(resp: unknown): string | undefined {
  const op = isObj(resp) ? resp : {};
  const done = isObj(op.response) ? op.response : op;
  const dm = isObj(done.deployedModel) ? done.deployedModel : undefined;
  const v = dm ? str(dm.modelVersionId) : undefined;
  return v && /^\d+$/.test(v) ? v : undefined;
}

/**
 * A model call logged on the model (`…/models/55`) whose request names one version of it (`name:
 * …/models/55@2`, the form MergeVersionAliases requires; UpdateModel's `model.name`) acts on that version:
 * the request's name is the target (`@-`, UpdateModel's "the model itself", is not a version).
 */
function versionedTarget(resourceName: string | undefined, req: Json, canon: Canon): string | undefined {
  if (!resourceName || !/\/models\/[^/@]+$/.test(resourceName)) return resourceName;
  const model = isObj(req.model) ? req.model : {};
  for (const n of [str(req.name), str(model.name)]) {
    const named = canon(n);
    const at = named?.startsWith(`${resourceName}@`) ? named.slice(resourceName.length + 1) : undefined;
    if (at && at !== '-' && /^[^/@]+$/.test(at)) return named;
  }
  return resourceName;
}

/**
 * The created resource's name when the response carries it (sync creates), else the logged resourceName. Compared
 * with names made canonical: the response names the resource with the project number, resourceName (the caller's
 * parent) often with the project id (a CreateTuningJob's or CreateCustomJob's job was named by its parent).
 */
function targetName(pp: Json, canon: Canon): string | undefined {
  const resourceName = str(pp.resourceName);
  const resp = isObj(pp.response) ? pp.response : undefined;
  const created = resp ? str(resp.name) : undefined;
  if (created && resourceName && canon(created).startsWith(`${canon(resourceName)}/`) && !/\/operations\//.test(created)) return created;
  return resourceName;
}

const PIPELINE_JOB = /^projects\/[^/]+\/locations\/[^/]+\/pipelineJobs\/[^/@]+/;

/**
 * The Vertex AI pipeline run (a PipelineJob's resource name, project as the entry's other names give it) an entry
 * belongs to: the PipelineJob it is about (CreatePipelineJob, CancelPipelineJob…), or the one that produced the Model
 * it uploads or updates (`Model.pipelineJob`, "populated if the model is produced by a pipeline job").
 *
 * @example
 * pipelineRunOf('projects/p/locations/l/pipelineJobs/train-1', {}, (n) => n) // 'projects/p/locations/l/pipelineJobs/train-1'
 */
export function pipelineRunOf(resourceName: string | undefined, req: Json, canon: Canon): string | undefined {
  const own = PIPELINE_JOB.exec(resourceName ?? '')?.[0];
  if (own) return own;
  const produced = isObj(req.model) ? str(req.model.pipelineJob) : undefined;
  const name = produced ? canon(produced) : undefined;
  return name ? PIPELINE_JOB.exec(name)?.[0] : undefined;
}

/** A Git commit SHA (abbreviated or full SHA-1, or SHA-256), as opposed to a branch or tag name. */
const COMMIT_SHA = /^[0-9a-f]{7,64}$/i;

/**
 * Normalize the AuditLog payload of a LogEntry: stage/action from the method
 * table (Vertex) or a generic verb mapping (other services), actor, outcome
 * and the security facts of the request.
 *
 * @example
 * auditFields(entry, ['production']).action // 'model_version.approve' for MergeVersionAliases ['production']
 */
export function auditFields(entry: LogEntry, approvalAliases: readonly string[], buckets: BucketLists = {}): AuditFields {
  const pp = entry.protoPayload ?? {};
  const methodName = str(pp.methodName) ?? str(entry.resource?.labels?.method) ?? '';
  const serviceName = str(pp.serviceName) ?? str(entry.resource?.labels?.service);
  const vertex = serviceName === VERTEX_SERVICE || isVertexMethod(methodName);
  // One name per Vertex resource whether logged with the project number or the project id (see canonicalNames).
  const canon: Canon = vertex ? canonicalNames(entry) : (name) => name;
  const loggedName = targetName(pp, canon);
  const req = isObj(pp.request) ? pp.request : {};
  const resourceName = vertex ? versionedTarget(canon(loggedName), req, canon) : canon(loggedName);
  const rpc = methodName.split('.').pop() ?? methodName;
  let stage: Stage;
  let action: Action;
  let resourceType: string;
  let approval: 'approved' | undefined;
  let aliases: AliasChange | undefined;
  if (vertex) {
    const m = mapVertexMethod(methodName, resourceName);
    const r = refine(rpc, m, req, resourceName, approvalAliases);
    ({ stage, action } = r);
    approval = r.approval;
    aliases = r.aliases;
    resourceType = m.resource;
  } else {
    ({ stage, action, resource: resourceType } = mapOtherMethod(methodName));
  }
  const { outcome, error } = auditOutcome(pp);
  const facts = collectFacts([req, pp.response]);
  // Another service's request naming a model counts only when it names a Vertex model (`projects/P/locations/L/models/M`).
  facts.models = vertex ? facts.models.map(canon) : facts.models.filter((m) => /^projects\/[^/]+\/locations\/[^/]+\/models\/[^/]+/.test(m));
  // Model Garden deploys custom weights (a bucket, a URL, a Hugging Face id) with no upload of its own: named here, judged as deployed.
  const garden = vertex ? gardenDeploy(splitMethod(methodName).service, rpc, req, pp.response) : undefined;
  for (const m of garden?.models ?? []) if (!facts.models.includes(m)) facts.models.push(m);
  for (const a of garden?.artifacts ?? []) if (!facts.modelArtifactUris.includes(a)) facts.modelArtifactUris.push(a);
  // A tuning job's model, registered and deployed to an endpoint by the service itself (no DeployModel), and its data.
  const tuned = vertex ? tunedModelOf(splitMethod(methodName).service, req, pp.response, canon) : undefined;
  if (tuned?.inputs.length) for (const u of tuned.inputs) if (!facts.inputUris.includes(u)) facts.inputUris.push(u);
  if (tuned?.model) facts.models = [tuned.model, ...facts.models.filter((m) => m !== tuned.model)];
  // A refused upload created no version: keep the model it named, not an inferred version.
  // CopyModel into a `parentModel` makes its next version as an upload does (same request field, same response).
  const upload = vertex && (rpc === 'UploadModel' || (rpc === 'CopyModel' && str(req.parentModel))) ? uploadedModel(req, pp.response) : undefined;
  const uploaded = upload && { name: canon(upload.name), version: outcome === 'failure' ? undefined : upload.version };
  const ml: NonNullable<AuditFields['ml']> = mlFacts(facts, stage, resourceType, resourceName, req, canon, vertex, outcome === 'success' ? approval : undefined, aliases, uploaded, pp.response);
  // An imported ModelEvaluation's scores are the evaluated version's metrics (what score_drop compares). A refused
  // import recorded nothing: its numbers must not become the version's baseline.
  const evaluation = vertex && rpc === 'ImportModelEvaluation' && isObj(req.modelEvaluation) ? req.modelEvaluation : undefined;
  const scores = evaluation && outcome !== 'failure' ? evaluationMetrics(evaluation.metrics) : undefined;
  if (scores?.metrics) ml.metrics = scores.metrics;
  // The pipeline run the entry is about, or that produced the model it uploads, named as every stage's event names it.
  const pipelineRun = vertex ? pipelineRunOf(resourceName, req, canon) : undefined;
  if (pipelineRun) ml.provenance = { ...ml.provenance, pipeline_run: pipelineRun };
  // The container Model Garden serves the deployed model with (serving.unverified_image judges ml.model.image).
  if (garden?.image) ml.model = { ...ml.model, image: ml.model?.image ?? garden.image };
  // The Hub repository a Hugging Face container downloads (serving.unverified_image judges its revision and name).
  const hub = vertex ? servingHubModelOf(req) : undefined;
  if (hub) ml.model = { ...ml.model, hub_id: hub.id, hub_revision: hub.revision, hub_models: [hub] };
  // A Model Garden deploy is logged on the region (`projects/P/locations/L`): its endpoint when the call names one, else
  // the endpoint it creates is unnamed and the deploy is about the model it deploys (two deploys of two models in one
  // region are two subjects, not one `us-central1` endpoint).
  const gardenSubject = garden ? garden.endpoint ?? gardenModelSubject(facts.models[0] ?? facts.modelArtifactUris[0]) : undefined;
  if (garden?.endpoint) ml.deployment = { ...ml.deployment, endpoint: canon(garden.endpoint) };
  if (garden?.endpoint_display_name) ml.deployment = { ...ml.deployment, endpoint_display_name: garden.endpoint_display_name };
  // A deployment of one checkpoint of a version (DeployedModel.checkpointId), and a version's default checkpoint set
  // (Model.defaultCheckpointId, what a deployment naming none serves): other weights than another checkpoint's.
  const checkpoint = vertex ? deployedCheckpointOf(req, pp.response) : undefined;
  if (checkpoint && ml.deployment) ml.deployment = { ...ml.deployment, checkpoint_id: checkpoint };
  const defaultCheckpoint = vertex ? defaultCheckpointOf(rpc, req) : undefined;
  if (defaultCheckpoint && ml.model) ml.model = { ...ml.model, default_checkpoint_id: defaultCheckpoint };
  // A done tuning job names the tuned version's default checkpoint: the one on the endpoint it deployed the version to.
  if (tuned?.default_checkpoint && tuned.model && ml.model && outcome !== 'failure') ml.model = { ...ml.model, default_checkpoint_id: ml.model.default_checkpoint_id ?? tuned.default_checkpoint };
  // The tuned version is that tuning job's output: named as its producer (the rules' run record of the job, who
  // submitted it and what it read), as SageMaker's MetadataProperties.GeneratedBy names a package's.
  const tuningJobName = /\/tuningJobs\/[^/@]+$/.test(resourceName ?? '') ? resourceName : canon(str(isObj(pp.response) ? (isObj(pp.response.response) ? pp.response.response.name : pp.response.name) : undefined));
  if (tuned?.model && ml.model && outcome !== 'failure' && tuningJobName && /\/tuningJobs\/[^/@]+$/.test(tuningJobName)) ml.model = { ...ml.model, generated_by: tuningJobName };
  // The tuned model's endpoint serves it from the job's completion on: known to the rules as a deployment the service made.
  if (tuned?.endpoint && outcome !== 'failure') ml.deployment = { ...ml.deployment, endpoint: tuned.endpoint, model_uri: tuned.model, auto_deployed: true };
  // A tuning run's name (every run of one tuning shares its tunedModelDisplayName; the job's own name is a number) and
  // the model it tunes: the rules learn a family's data and base models by that name.
  const tuning = vertex ? tuningRequestOf(splitMethod(methodName).service, rpc, req, pp.response, canon) : undefined;
  if (tuning) ml.job = { ...ml.job, type: ml.job?.type ?? resourceType, name: tuning.name ?? ml.job?.name, base_model: tuning.base_model, base_checkpoint_id: tuning.base_checkpoint_id };
  // An Agent Engine deploys code (a pickle and its dependencies, source, or an image): the engine is the endpoint,
  // the pickle what it serves (registry.unapproved_deployment judges it), the image a serving image.
  // A split entry (`split`, an oversized entry's parts) may carry part of a request string: no digest of an archive.
  const agent = vertex ? agentDeploy(splitMethod(methodName).service, rpc, req, pp.response, resourceName, canon, entry.split !== undefined) : undefined;
  if (agent) {
    if (rpc === 'UpdateReasoningEngine' && !agent.code.length && !agent.image) action = 'endpoint.update';
    if (agent.pickle || agent.image) ml.model = { ...ml.model, artifact_uri: agent.pickle ?? ml.model?.artifact_uri, image: agent.image ?? ml.model?.image };
    ml.deployment = {
      ...ml.deployment,
      endpoint: agent.engine,
      code_uris: agent.code.length ? agent.code : undefined,
      python_version: agent.python_version,
      agent_framework: agent.framework,
      service_account: agent.service_account ?? ml.deployment?.service_account,
    };
    // Source from a Git repository: the revision asked for is a commit only when written as one (a branch or tag moves).
    if (agent.git) ml.code = { ...ml.code, repo: agent.git.repository, commit: COMMIT_SHA.test(agent.git.revision ?? '') ? agent.git.revision : undefined };
  }
  if (evaluation && ml.model && !ml.model.version) {
    // resourceName may name the model only; the version is then in `parent` (`…/models/M@V`) or the evaluation's name.
    const resp = isObj(pp.response) ? pp.response : {};
    for (const n of [str(req.parent), str(resp.name), str(evaluation.name)]) {
      const r = parseModelRef(canon(n));
      if (r.name === ml.model.name && r.version) {
        ml.model.version = r.version;
        break;
      }
    }
  }
  // A log sink deleted, disabled or changed (platform.audit_log_tampering), as CloudTrail's trail calls are read.
  const sink = vertex ? undefined : sinkChange(methodName, req, resourceName);
  if (sink) {
    action = sink.action;
    resourceType = 'logging_sink';
  }
  // mltrail's own Pub/Sub subscription deleted, detached or no longer pushing here (platform.audit_log_tampering).
  const feed = vertex || outcome === 'failure' ? undefined : pubsubFeedChange(methodName, req, resourceName, buckets.feed_names ?? ['*mltrail*'], buckets.pull?.subscription);
  if (feed) {
    action = feed.action;
    resourceType = feed.details.feed === 'pubsub_topic' ? 'pubsub_topic' : 'pubsub_subscription';
  }
  // What an endpoint's request-response logging and a monitoring job are now (serving.monitoring_disabled).
  const requestLogging = vertex && outcome !== 'failure' ? requestLoggingOf(rpc, req) : undefined;
  const monitoredEndpoint = vertex ? monitoredEndpointOf(req, pp.response) : undefined;
  // Data Access logging of Vertex AI / Cloud Storage switched off or an identity exempted, in an IAM policy's auditConfigs.
  const auditConfig = vertex || outcome === 'failure' ? undefined : auditConfigNarrowing(methodName, pp);
  if (auditConfig) action = 'audit_log.update';
  const auditConfigDeltas = vertex || outcome === 'failure' ? [] : auditConfigDeltasOf(methodName, pp);
  const modelRef = vertex ? parseModelRef(resourceName) : {};
  const object = vertex ? undefined : storageTarget(serviceName, resourceName);
  if (object) {
    resourceType = object.type;
    action = storageAction(methodName) ?? action;
    ml.data = { uris: [object.uri] };
  }
  // Exports the action does not say (model.export, dataset.export do): feature values written out of a
  // featurestore, a BigQuery table or model extracted to Cloud Storage. `platform.artifact_exported` reads them.
  const bqExport = vertex ? undefined : bigqueryExport(pp);
  if (bqExport) {
    const { sources, destinations } = bqExport;
    ml.data = { uris: [...sources, ...destinations], inputs: sources.length ? sources : undefined, outputs: destinations.length ? destinations : undefined };
  }
  // A model copied to another project (CopyModel, logged in the destination's): the source is what left.
  const copy = vertex && rpc === 'CopyModel' ? crossProjectCopy(req, resourceName, canon, uploadedModel(req, pp.response)) : undefined;
  if (copy) ml.data = { ...ml.data, inputs: [copy.source], outputs: [copy.destination] };
  const exportOf = bqExport?.of ?? (vertex && rpc === 'ExportFeatureValues' ? 'dataset' : copy ? 'model' : undefined);
  // A model or dataset opened to everyone, or a listed bucket granted to an outsider (platform.artifact_shared).
  const share = outcome === 'failure' ? undefined : vertex ? publicShareOf(rpc, resourceName, req, pp) : object?.type === 'gcs_bucket' ? bucketShareOf(methodName, object.name, req, pp, buckets) : undefined;
  // Creates (and lists) log the parent as resourceName: its last segment is a location or project, not the
  // resource's name. Name it by the request's displayName instead, or leave the name unset.
  const parentOnly = vertex && !!resourceName && resourceType !== 'iam_policy' && /^projects\/[^/]+(\/locations\/[^/]+)?$/.test(resourceName);
  const auth = isObj(pp.authenticationInfo) ? pp.authenticationInfo : {};
  const meta = isObj(pp.requestMetadata) ? pp.requestMetadata : {};
  const authz = Array.isArray(pp.authorizationInfo) ? pp.authorizationInfo.filter(isObj) : [];
  const callerIp = str(meta.callerIp);
  const location =
    str(entry.resource?.labels?.location) ??
    locationOf(resourceName) ??
    (isObj(pp.resourceLocation) && Array.isArray(pp.resourceLocation.currentLocations) && pp.resourceLocation.currentLocations.length === 1
      ? str(pp.resourceLocation.currentLocations[0])
      : undefined);
  const metadata = isObj(pp.metadata) ? pp.metadata : undefined;
  const policy = isObj(pp.policyViolationInfo) && isObj(pp.policyViolationInfo.orgPolicyViolationInfo) ? pp.policyViolationInfo.orgPolicyViolationInfo : undefined;
  const statusDetails = isObj(pp.status) && Array.isArray(pp.status.details) ? pp.status.details.filter(isObj) : [];
  // A Dataset or FeatureView (any ingestion or preprocessing call) filled from a BigQuery table of another project
  // than the one the entry is logged in (`bq://other-project.dataset.table`): data from outside the projects mltrail
  // watches, whose writers it cannot see. No rule judges where ingested data comes from by project, so this is said
  // in the event (`details.data_from_other_projects`) for the SOC and searches. The project is the entry's
  // `resource.labels.project_id` (a project id, as `bq://` names one; a resource name may carry the number instead).
  const ownProject = str(entry.resource?.labels?.project_id);
  const otherProjects = ownProject && (stage === 'ingestion' || stage === 'preprocessing')
    ? facts.inputUris.filter((u) => { const p = bigQueryTableProject(u); return !!p && p !== ownProject; })
    : [];
  const details: Record<string, unknown> = {
    audit_log: auditLogKind(entry.logName),
    data_from_other_projects: otherProjects.length ? otherProjects : undefined,
    method_name: methodName || undefined,
    mapping: vertex ? undefined : 'generic',
    principal_subject: str(auth.principalSubject),
    authority_selector: str(auth.authoritySelector),
    service_account_key_name: str(auth.serviceAccountKeyName),
    impersonated: Array.isArray(auth.serviceAccountDelegationInfo) && auth.serviceAccountDelegationInfo.length > 0 ? true : undefined,
    original_principal: originalDelegator(pp),
    caller_ip_redacted: callerIp === 'private' || callerIp === 'gce-internal-ip' ? callerIp : undefined,
    caller_network: str(meta.callerNetwork),
    authorization: authz.length
      ? authz.map((a) => ({ permission: str(a.permission), resource: str(a.resource), granted: typeof a.granted === 'boolean' ? a.granted : undefined, permission_type: str(a.permissionType) }))
      : undefined,
    num_response_items: pp.numResponseItems !== undefined ? Number(pp.numResponseItems) : undefined,
    request_type: str(req['@type']),
    resource_name_logged: loggedName !== resourceName ? loggedName : undefined,
    metrics_schema_uri: evaluation ? str(evaluation.metricsSchemaUri) : undefined,
    metrics_omitted: scores?.omitted ? scores.omitted : undefined,
    aliases_added: aliases?.added.length ? aliases.added : undefined,
    aliases_removed: aliases?.removed.length ? aliases.removed : undefined,
    update_mask: maskPaths(req.updateMask).length ? maskPaths(req.updateMask) : undefined,
    status_details: statusDetails.length ? statusDetails.map((d) => str(d['@type'])).filter(Boolean) : undefined,
    vpc_sc:
      metadata && /VpcServiceControlAuditMetadata$/.test(String(metadata['@type'] ?? ''))
        ? { violation_reason: str(metadata.violationReason), perimeter: isObj(metadata.securityPolicyInfo) ? str(metadata.securityPolicyInfo.servicePerimeterName) : undefined, unique_id: str(metadata.vpcServiceControlsUniqueId) }
        : undefined,
    org_policy_violations: policy && Array.isArray(policy.violationInfo) && policy.violationInfo.length ? policy.violationInfo : undefined,
    images: facts.images.length ? facts.images : undefined,
    service_accounts: facts.serviceAccounts.length ? facts.serviceAccounts : undefined,
    kms_keys: facts.kmsKeys.length ? facts.kmsKeys : undefined,
    export_of: outcome === 'failure' ? undefined : exportOf,
    destination_account: outcome === 'failure' ? undefined : copy?.project,
    share_of: share?.of,
    grantees: share?.grantees,
    tuned_checkpoints: tuned?.checkpoints.length ? tuned.checkpoints : undefined,
    trail: sink?.sink ?? feed?.subscription ?? (auditConfig ? resourceName : undefined),
    feed: feed?.details.feed,
    feed_change: feed?.details.feed_change,
    request_logging: requestLogging,
    monitored_endpoint: monitoredEndpoint ? canon(monitoredEndpoint) : undefined,
    audit_logs_off: auditConfig?.off.length ? auditConfig.off : undefined,
    audit_exemptions: auditConfig?.exempted.length ? auditConfig.exempted : undefined,
    // Every audit config change of the watched services, and where (the rule keeps what is known to log).
    audit_config_deltas: auditConfigDeltas.length ? auditConfigDeltas : undefined,
    audit_config_of: auditConfigDeltas.length ? resourceName : undefined,
    log_destination: sink?.destination ?? feed?.details.log_destination,
    log_exclusions: sink?.exclusions,
    agent_source_revision: agent?.git?.revision,
    agent_source_unverifiable: agent?.source_unverifiable,
  };
  // A Workbench instance's post-startup script (run as root after every boot): judged as a lifecycle script is.
  const workbench = vertex ? undefined : workbenchScriptDetails(serviceName, rpc, req);
  if (workbench) Object.assign(details, workbench);
  return {
    stage,
    action,
    operation: methodName || 'unknown',
    service: serviceName,
    outcome,
    error,
    actor: auditActor(pp),
    resource: object
      ? { type: object.type, id: resourceName, name: object.name, uri: object.uri }
      : gardenSubject && !garden?.endpoint
      ? { type: 'endpoint', id: resourceName, name: gardenSubject }
      : gardenSubject
      ? { type: 'endpoint', id: canon(gardenSubject), name: canon(gardenSubject)!.split('/').pop() }
      : resourceName
      ? {
          type: resourceType,
          id: resourceName,
          name: modelRef.name ? modelRef.name.split('/').pop() : parentOnly ? facts.displayNames[0] : resourceName.split('/').pop(),
          version: modelRef.version ?? modelRef.alias,
        }
      : { type: resourceType },
    ml,
    details,
    region: location,
  };
}

/**
 * The project of a BigQuery table URI, `bq://project.dataset.table` (dataset and table ids have no dots; a
 * domain-scoped project id, `example.com:proj`, has one).
 *
 * @example
 * bigQueryTableProject('bq://example.com:proj.sales.orders') // 'example.com:proj'
 */
function bigQueryTableProject(uri: string): string | undefined {
  if (!uri.startsWith('bq://')) return undefined;
  const parts = uri.slice(5).split('/')[0]!.split('.');
  return parts.length >= 3 ? parts.slice(0, -2).join('.') : undefined;
}

/** The name a Model Garden deploy to an endpoint it creates goes by: what it deploys (`model-garden:<model or weights>`). */
function gardenModelSubject(model: string | undefined): string | undefined {
  return model ? `model-garden:${model}` : undefined;
}

/**
 * A Cloud Storage audit target (`projects/_/buckets/B[/objects/PATH]`): a bucket or object, named by its
 * path and `gs://` URI (an object under `models/` is still an object, not a model).
 */
function storageTarget(serviceName: string | undefined, resourceName: string | undefined): { type: 'gcs_bucket' | 'gcs_object'; name: string; uri: string } | undefined {
  if (serviceName !== 'storage.googleapis.com' || !resourceName) return undefined;
  const m = /^projects\/[^/]+\/buckets\/([^/]+)(?:\/objects\/(.+))?$/.exec(resourceName);
  if (!m) return undefined;
  const [, bucket, path] = m;
  return path ? { type: 'gcs_object', name: path, uri: `gs://${bucket}/${path}` } : { type: 'gcs_bucket', name: bucket!, uri: `gs://${bucket}` };
}

/** Cloud Storage object methods in the data-object catalogue (as S3 object calls are), and a bucket's IAM change. */
function storageAction(methodName: string): Action | undefined {
  // A bucket's IAM policy set (Cloud Storage names the method after its permission check).
  if (methodName === 'storage.setIamPermissions') return 'permission.change';
  const m = /^storage\.objects\.(get|create|update|patch|compose|delete|copy|rewrite)$/.exec(methodName);
  if (!m) return undefined;
  const verb = m[1]!;
  return verb === 'get' ? 'data_object.read' : verb === 'delete' ? 'data_object.delete' : verb === 'copy' || verb === 'rewrite' ? 'data_object.copy' : 'data_object.write';
}

/**
 * The container spec a model is served with: an UploadModel's `model.containerSpec`, or a batch prediction job's
 * `batchPredictionJob.unmanagedContainerModel.containerSpec` (a model run with no import: no registry step ever saw
 * the image).
 */
function servingContainerSpecOf(req: Json): Json | undefined {
  const model = isObj(req.model) ? req.model : undefined;
  if (model && isObj(model.containerSpec)) return model.containerSpec;
  const unmanaged = isObj(req.batchPredictionJob) && isObj(req.batchPredictionJob.unmanagedContainerModel) ? req.batchPredictionJob.unmanagedContainerModel : undefined;
  return unmanaged && isObj(unmanaged.containerSpec) ? unmanaged.containerSpec : undefined;
}

/** `containerSpec.imageUri` of an UploadModel or an unmanaged batch model (servingContainerSpecOf): the image the model is served with. */
function servingImageOf(req: Json): string | undefined {
  const spec = servingContainerSpecOf(req);
  return spec ? str(spec.imageUri) : undefined;
}

/**
 * The Hugging Face Hub model an UploadModel's container (`model.containerSpec.env`) or a Model Garden deploy's
 * (`modelConfig.containerSpec.env`) downloads at start: Vertex's Hugging Face DLCs run TGI / TEI directly, so
 * `MODEL_ID` / `REVISION` are read besides `HF_MODEL_ID`.
 */
function servingHubModelOf(req: Json): HubModel | undefined {
  const spec = servingContainerSpecOf(req) ?? (isObj(req.modelConfig) && isObj(req.modelConfig.containerSpec) ? req.modelConfig.containerSpec : undefined);
  return spec ? hubModelOfEnv(spec.env, { bare: true }).hub : undefined;
}

/** `request.model.labels` of an UploadModel / UpdateModel, as string tags. */
function modelLabels(req: Json): Record<string, string> | undefined {
  const labels = isObj(req.model) && isObj(req.model.labels) ? req.model.labels : undefined;
  if (!labels) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return Object.keys(out).length ? out : undefined;
}
