import { isIP } from 'node:net';
import { packageSourcesHeldSecrets, redactPackageSourceSecrets } from '../../core/integrity/packages.js';
import { redactJobSecrets, redactSecretText, redactTagList, redactTagMap } from '../../core/secrets.js';

/** An error message as the event shows it: a secret it echoes hidden, as in raw (redactJobSecrets). */
const redactMessage = (m: string | undefined): string | undefined => (m === undefined ? m : redactSecretText(m));
import type { Action } from '../../core/schema/actions.js';
import { contentId, makeEvent, stableId, toRfc3339, type Actor, type EventDraft, type Ml, type NormalizedEvent, type Stage } from '../../core/schema/index.js';
import type { SagemakerConfig } from './config.js';
import { modelPackageFromArn, packageGroupName, packageMetadata, packageModelMetrics, sagemakerMl, tagMap } from './facts.js';
import { accessPointBucket, accessPointCall, accessPointObject, bucketBehind, copySourceOf, isAccessPoint } from './access-points.js';
import { versionRollbackOf } from './versions.js';
import { replicationDestinations, soleAccount } from './replication.js';
import { classifySagemakerOperation, promotedVariants, snake, splitOperation } from './operations.js';
import { evaluationStepOf } from './evaluation-step.js';
import { aclGrantees, bucketOwner, policyGrantees } from './sharing.js';
import { classifyFeed } from './feeds.js';
import { monitoringDetails } from './monitoring.js';
import { classifyTrail } from './trail.js';
import { notebookDetails, studioLifecycleArnsOf } from './notebooks.js';
import { namedBucketDestinations, predictionDestinations } from './prediction-destinations.js';
import { arr, bool, get, isObj, mergeDefined, str, uniq, type Obj } from './util.js';

/** One normalized CloudTrail record, or why it was skipped / rejected. */
export type RecordResult = { event: NormalizedEvent } | { skip: string } | { reject: string; field?: string };

export interface RecordContext {
  channel: string;
  receivedTime: string;
  keepRaw: boolean;
  config: SagemakerConfig;
}

/**
 * True when the object has the shape of a CloudTrail record (not an S3 event notification record).
 *
 * @example
 * looksLikeCloudTrailRecord({ eventSource: 'sagemaker.amazonaws.com', eventName: 'CreateModel', eventTime: '2026-01-01T00:00:00Z' }) // true
 */
export function looksLikeCloudTrailRecord(r: unknown): r is Obj {
  if (!isObj(r)) return false;
  if (r.eventSource === 'aws:s3') return false;
  if (r.eventType === 'AwsCloudTrailInsight') return true;
  return typeof r.eventSource === 'string' && typeof r.eventName === 'string' && (typeof r.eventTime === 'string' || isObj(r.userIdentity));
}

/** A role session named by an email: a person's (IdP federation and the console name sessions so). */
const PERSON_SESSION = /^[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+$/;

/**
 * Actor from `userIdentity`, `sourceIPAddress`, `userAgent` (spec §1.2).
 *
 * @example
 * cloudTrailActor(record) // { id: 'arn:aws:sts::…:assumed-role/R/s', name: 'R/s', type: 'user', mfa: true, … }
 */
export function cloudTrailActor(r: Obj): Actor | undefined {
  const ui = isObj(r.userIdentity) ? r.userIdentity : {};
  const type = str(ui.type);
  const issuer = isObj(get(ui, 'sessionContext.sessionIssuer')) ? (get(ui, 'sessionContext.sessionIssuer') as Obj) : {};
  const mfa = bool(get(ui, 'sessionContext.attributes.mfaAuthenticated'));
  const invokedBy = str(ui.invokedBy);
  const source = str(r.sourceIPAddress);
  const arn = str(ui.arn);
  const principal = str(ui.principalId);
  const sessionName = principal?.includes(':') ? principal.slice(principal.indexOf(':') + 1) : arn?.split('/').slice(2).join('/') || undefined;
  const issuerArn = str(issuer.arn);
  const issuerName = str(issuer.userName) ?? issuerArn?.split('/').pop();
  // IAM Identity Center users (type IdentityCenterUser) carry no arn/principalId: they are named by
  // `onBehalfOf` {userId, identityStoreArn}, the user id being unique within its identity store.
  const idcUser = type === 'IdentityCenterUser' ? identityCenterUser(ui) : undefined;

  let actorType: Actor['type'] = 'unknown';
  // Service events (eventType AwsServiceEvent) may carry only accountId + invokedBy.
  if (type === 'AWSService' || (!type && invokedBy)) actorType = 'service';
  else if (type && ['IAMUser', 'Root', 'FederatedUser', 'SAMLUser', 'WebIdentityUser', 'IdentityCenterUser', 'Directory'].includes(type)) actorType = 'user';
  else if (type === 'AssumedRole' || type === 'Role') {
    // invokedBy alone does not make the caller a service: CloudFormation without a stack role (and any service
    // making forward-access calls) calls with the caller's own session, `assumed-role/DataScientist/alice@corp.example`
    // + invokedBy — the person is the actor, invoked_by says through which service. Only a session the service
    // itself holds (a service-linked role, an instance, a session name the service gives its role's sessions) is one.
    if (/^AWSServiceRole/i.test(issuerName ?? '') || /aws-service-role\//.test(issuerArn ?? '') || /^i-[0-9a-f]+$/.test(sessionName ?? '')) actorType = 'service';
    else if (mfa || bool(r.sessionCredentialFromConsole) || /^AWSReservedSSO_/.test(issuerName ?? '')) actorType = 'user';
    else if (invokedBy && !PERSON_SESSION.test(sessionName ?? '')) actorType = 'service';
    else if (invokedBy) actorType = 'user';
  }
  const name =
    actorType === 'service' && (type === 'AWSService' || !type)
      ? invokedBy ?? source
      : str(ui.userName) ?? (issuerName && sessionName ? `${issuerName}/${sessionName}` : issuerName ?? sessionName) ?? (idcUser ? str(get(r, 'additionalEventData.UserName')) ?? idcUser.userId : undefined);
  const actor: Actor = {
    id: arn ?? principal ?? invokedBy ?? idcUser?.id,
    name,
    type: actorType,
    ip: source && isIP(source) ? source : undefined,
    user_agent: str(r.userAgent),
    mfa,
    session_issuer: issuerArn,
    // The access key the call was signed with, where a Vertex AI event names its service-account key: one field for
    // the credential across platforms (also `details.access_key_id`, as before). An id, never a secret.
    key_id: str(ui.accessKeyId),
    // A role session made for an Identity Center user (an identity-enhanced session: SageMaker Studio and Q in an
    // Identity Center domain call with the execution role, session `SageMaker`): that user goes in the chain too.
    chain: actorChain(sourceIdentityOf(ui), arn, issuerArn, idcUser ? undefined : identityCenterUser(ui)?.id),
  };
  return Object.values(actor).some((v) => v !== undefined && v !== 'unknown') ? actor : undefined;
}

/**
 * The source identity of a role session (`sessionContext.sourceIdentity`, IAM user guide "Monitor and control actions
 * taken with assumed roles"): set once by whoever first assumed a role — a person through their IdP, a CI job —, it
 * stays on every session chained from it and cannot be changed, so it names who is behind a shared pipeline role
 * whatever the session is called. Only a value of the shape STS accepts (2–64 of `[\w+=,.@-]`) is read.
 *
 * @example
 * sourceIdentityOf({ sessionContext: { sourceIdentity: 'alice@corp.example' } }) // 'alice@corp.example'
 */
export function sourceIdentityOf(ui: Obj): string | undefined {
  const v = str(get(ui, 'sessionContext.sourceIdentity'));
  return v && /^[\w+=,.@-]{2,64}$/.test(v) ? v : undefined;
}

/**
 * The delegation chain, outermost first: the source identity (the person or job behind the session), the Identity
 * Center user the session was made for (`<identityStoreArn>/<userId>`), the session's ARN, the role it is a session of.
 */
function actorChain(sourceIdentity: string | undefined, arn: string | undefined, issuerArn: string | undefined, identityCenter?: string): string[] | undefined {
  const role = issuerArn && arn && issuerArn !== arn ? [arn, issuerArn] : undefined;
  const people = [sourceIdentity, identityCenter].filter((x): x is string => !!x);
  if (!people.length) return role;
  return [...people, ...(role ?? (arn ? [arn] : issuerArn ? [issuerArn] : []))];
}

/**
 * The Identity Center user a request was made for (`userIdentity.onBehalfOf`, CloudTrail user guide):
 * id = `<identityStoreArn>/<userId>` (the bare userId when the store is not given).
 *
 * @example
 * identityCenterUser({ onBehalfOf: { userId: 'u1', identityStoreArn: 'arn:aws:identitystore::1:identitystore/d-1' } }) // { id: 'arn:aws:identitystore::1:identitystore/d-1/u1', userId: 'u1' }
 */
export function identityCenterUser(ui: Obj): { id: string; userId: string } | undefined {
  const userId = str(get(ui, 'onBehalfOf.userId'));
  if (!userId) return undefined;
  const store = str(get(ui, 'onBehalfOf.identityStoreArn'));
  return { id: store ? `${store}/${userId}` : userId, userId };
}

/**
 * Lower-cased name inside SageMaker ARNs (spec §2.0); `scope` is the parent a name lives in
 * (a user profile's domain id: `user-profile/<domainId>/<name>`).
 */
function sagemakerArn(r: Obj, arnType: string, name: string | undefined, scope?: string): string | undefined {
  const region = str(r.awsRegion);
  const account = str(r.recipientAccountId) ?? str(get(r, 'userIdentity.accountId'));
  if (!name || !region || !account) return undefined;
  if (name.startsWith('arn:')) return name;
  const partition = /^arn:(aws[a-z-]*):/.exec(str(get(r, 'userIdentity.arn')) ?? '')?.[1] ?? 'aws';
  return `arn:${partition}:sagemaker:${region}:${account}:${arnType}/${scope ? `${scope.toLowerCase()}/` : ''}${name.toLowerCase()}`;
}

/**
 * The string values of a request parameter: `a.b`, or `a[].b` for every element of array `a`
 * (BatchGetRecord names its feature groups in `identifiers[].featureGroupName`).
 *
 * @example
 * paramValues({ identifiers: [{ featureGroupName: 'fg' }] }, 'identifiers[].featureGroupName') // ['fg']
 */
function paramValues(params: Obj, key: string): string[] {
  const at = key.indexOf('[].');
  if (at < 0) return uniq([str(get(params, key))]);
  return uniq(arr(get(params, key.slice(0, at))).map((el) => str(get(el, key.slice(at + 3)))));
}

/** The first SageMaker ARN in the response (…Arn keys; one of ARN type `want` first), else in the request, else in resources[]. */
function findArn(r: Obj, params: Obj, want: string): string | undefined {
  const pick = (o: unknown): string | undefined => {
    if (!isObj(o)) return undefined;
    // `…Arn` keys, and a bare `arn` (MLflow Apps are named by it in requests and responses).
    const arns = Object.entries(o).filter(([k, v]) => /(?:^a|A)rn$/.test(k) && typeof v === 'string' && v.includes(':sagemaker:')).map(([, v]) => v as string);
    return arns.find((a) => a.includes(`:${want}/`)) ?? arns[0];
  };
  const fromResources = arr(r.resources).filter(isObj).map((x) => str(x.ARN) ?? str(x.arn)).find((a) => a?.includes(':sagemaker:'));
  return pick(r.responseElements) ?? pick(params) ?? fromResources;
}

interface Classified {
  stage: Stage;
  action: Action;
  resource?: NormalizedEvent['resource'];
  ml?: Ml;
  details?: Record<string, unknown>;
}

function classifySagemaker(r: Obj, eventName: string, params: Obj, cfg?: SagemakerConfig): Classified {
  const op = classifySagemakerOperation(eventName, params);
  const response = isObj(r.responseElements) ? r.responseElements : {};
  // Every resource the request names under its first present name key (several only for batch calls).
  const named = op.nameKeys.map((k) => paramValues(params, k)).find((v) => v.length) ?? [];
  const nameParam = named[0];
  // Many SageMaker name parameters accept an ARN too (DeleteModelPackage's versioned package ARN): that is the id, not the name.
  const name = nameParam?.startsWith('arn:') ? undefined : nameParam;
  const resourceArn = str(params.resourceArn);
  // The package group a request names (by name or ARN): the resource of group operations without
  // their own name key (Put/Get/DeleteModelPackageGroupPolicy), the name of a package not yet known.
  const groupParam = str(params.modelPackageGroupName);
  const group = packageGroupName(groupParam);
  const groupArn = op.resourceType === 'model_package_group' && !nameParam ? groupParam : undefined;
  const arn =
    findArn(r, params, op.arnType) ??
    (resourceArn?.includes(':sagemaker:') ? resourceArn : undefined) ??
    sagemakerArn(r, op.arnType, nameParam ?? groupArn, op.arnScope ? str(params[op.arnScope]) : undefined);
  const ml = sagemakerMl(eventName, params, response);
  const details: Record<string, unknown> = {};
  // An evaluation step stays judged as the processing job it is (its code, packages, network): the rules read this.
  const evaluationStep = eventName === 'CreateProcessingJob' ? evaluationStepOf(params) : undefined;
  if (evaluationStep) details.evaluation_step = evaluationStep;
  // A failed call changed nothing: the approval status it asked for is not the version's state
  // (rules read ml.model.approval as what the version now is), so it is kept only as the request.
  if (str(r.errorCode) && ml.model?.approval_status) {
    details.requested_approval = ml.model.approval;
    details.requested_approval_status = ml.model.approval_status;
    delete ml.model.approval;
    delete ml.model.approval_status;
  }
  // Secret-named tags' values hidden, as in raw (redactJobSecrets).
  if (eventName === 'AddTags' || eventName === 'DeleteTags') details.tags = Array.isArray(params.tags) ? redactTagList(params.tags) : params.tags ?? params.tagKeys;
  if (named.length > 1) details.resource_names = named;
  // A presigned Studio URL opens one user's (or one shared space's) apps in the domain: who was opened, not just where.
  if (eventName === 'CreatePresignedDomainUrl') {
    details.domain_id = str(params.domainId);
    details.user_profile_name = str(params.userProfileName);
    details.space_name = str(params.spaceName);
    details.user_profile_arn = sagemakerArn(r, 'user-profile', str(params.userProfileName), str(params.domainId));
    details.expires_in_seconds = params.expiresInSeconds;
  }
  // Which Studio execution role a domain gives every user and space by default, or a user profile as its own: a role
  // one user profile alone has is that person's, though every Studio session of it is named `SageMaker`.
  const studioRoles = studioExecutionRoles(eventName, params, response);
  if (studioRoles) details.studio_execution_roles = studioRoles;
  const studioGone = studioDeleted(eventName, params);
  if (studioGone) details.studio_deleted = studioGone;
  // A Studio app started: whose (a user profile's or a shared space's), and which, for the lifecycle configuration it runs.
  if (eventName === 'CreateApp') {
    for (const k of ['domainId', 'userProfileName', 'spaceName', 'appType', 'appName'] as const) if (str(params[k])) details[snake(k)] = str(params[k]);
  }
  // SageMaker managed MLflow (tracking servers, MLflow Apps): where its runs' artifacts and registered models' weights
  // go, and whether its registered models are copied into the SageMaker Model Registry as packages.
  if (/^(?:Create|Update)Mlflow(?:TrackingServer|App)$/.test(eventName)) {
    Object.assign(details, mlflowServerDetails(params));
    // A store in a bucket neither list names, once buckets are listed: the weights of the models registered from then
    // on are written where the S3 events are not read (platform.audit_log_tampering judges the move).
    const storeBucket = typeof details.artifact_store_uri === 'string' ? /^s3:\/\/([^/]+)/.exec(details.artifact_store_uri)?.[1] : undefined;
    const lists = cfg ? [...cfg.model_buckets, ...cfg.training_buckets] : [];
    if (storeBucket && lists.length && !lists.some((b) => b === storeBucket || b === `s3://${storeBucket}`)) details.artifact_store_unwatched = true;
  }
  // Create/UpdateModelPackage customerMetadataProperties: where evaluation evidence (adversarial_*) is recorded.
  if (op.resourceType === 'model_package') details.metadata = packageMetadata(params);
  // The evaluation reports registered with the package (ModelMetrics): the link an auditor needs between the version
  // and its evaluation, and objects a later write would rewrite (registry.approved_model_modified). A refused create registered none.
  if (eventName === 'CreateModelPackage' && !str(r.errorCode)) {
    const reports = packageModelMetrics(params);
    if (reports.length) details.model_metrics = reports;
  }
  // What an UpdateModelPackage changes besides its approval status: a call that approves and swaps the
  // artifact (inferenceSpecification), sourceUri or metadata in one go is still a change of the version.
  if (eventName === 'UpdateModelPackage') {
    const changed = Object.keys(params).filter((k) => k !== 'modelPackageArn' && k !== 'modelApprovalStatus' && k !== 'approvalDescription' && params[k] !== undefined);
    if (changed.length) details.changed_fields = changed;
  }
  if (eventName === 'PutModelPackageGroupPolicy') {
    details.resource_policy = params.resourcePolicy;
    // Who the policy lets read the group's versions (cross-account registry sharing): `platform.artifact_shared`.
    const grantees = policyGrantees(params.resourcePolicy);
    if (grantees.length) Object.assign(details, { share_of: 'model', grantees });
  }
  // The variants a stopped shadow test promotes to production: the rules resolve them to the models its Create named.
  if (eventName === 'StopInferenceExperiment' && promotedVariants(params).length) details.promoted_variants = promotedVariants(params);
  if (/LifecycleConfig$/.test(eventName)) details.lifecycle_scripts = true;
  // What a monitoring schedule or job definition watches and runs (serving.monitoring_disabled).
  Object.assign(details, monitoringDetails(eventName, params));
  // Where predictions go, where the request shows the destination's account (platform.artifact_exported: another account's).
  const predictions = predictionDestinations(eventName, params);
  if (predictions.length) details.prediction_destinations = predictions;
  // And those named by bucket alone (owner not in the record): judged only against a configured prediction_buckets.
  const byName = namedBucketDestinations(eventName, params);
  if (byName.length) details.prediction_buckets = byName;
  // What a lifecycle script fetches and runs, and how a notebook instance is exposed: read from the request here, as
  // raw keeps the scripts only when they hold no credential (redactJobSecrets).
  if (/NotebookInstance|LifecycleConfig$/.test(eventName)) Object.assign(details, notebookDetails(eventName, params));
  // The Studio lifecycle configurations a domain's defaults, a user profile or a space attach: run at every start of its apps.
  const studioLcs = studioLifecycleArnsOf(eventName, params);
  if (studioLcs.length) details.studio_lifecycle_config_arns = studioLcs;
  const ifEnabled = (k: string) => (params[k] !== undefined ? params[k] : undefined);
  for (const k of ['directInternetAccess', 'rootAccess', 'appNetworkAccessType', 'sessionExpirationDurationInSeconds']) if (ifEnabled(k) !== undefined) details[snake(k)] = params[k];
  // Tag operations act on another resource: name it by its ARN's type.
  const taggedType = op.resourceType === 'tags' && resourceArn ? /:sagemaker:[^:]*:[^:]*:([a-z-]+)\//.exec(resourceArn)?.[1]?.replace(/-/g, '_') : undefined;
  const pkg = op.resourceType === 'model_package' || taggedType === 'model_package' ? modelPackageFromArn(arn) : {};
  const registryTags = taggedType === 'model_package' || taggedType === 'model_package_group' ? registryTagging(eventName, taggedType, pkg, params) : undefined;
  if (registryTags) {
    if (registryTags.model) ml.model = registryTags.model;
    if (registryTags.tagKeys) details.tag_keys = registryTags.tagKeys;
  }
  return {
    stage: registryTags?.stage ?? op.stage,
    action: registryTags?.action ?? op.action,
    resource: { type: taggedType ?? op.resourceType, id: arn, name: name ?? pkg.name ?? (taggedType ? undefined : group) ?? arn?.split('/').pop(), version: pkg.version },
    ml,
    details,
  };
}

/**
 * AddTags / DeleteTags on a model package (version) or package group are registry writes:
 * `model_version.tag_set|tag_delete` with `ml.model` {name (group), version, tags}, or
 * `registered_model.tag_*` for a group, so tagging an approved version is seen as a change of it
 * and tags like `adv_*` count as its evidence.
 */
function registryTagging(eventName: string, type: string, pkg: { name?: string; version?: string }, params: Obj): { stage: Stage; action: Action; model?: Ml['model']; tagKeys?: string[] } | undefined {
  const verb = eventName === 'AddTags' ? 'tag_set' : eventName === 'DeleteTags' ? 'tag_delete' : undefined;
  if (!verb) return undefined;
  const tagKeys = verb === 'tag_delete' ? uniq(arr(params.tagKeys).map(str)) : undefined;
  const family = type === 'model_package' ? 'model_version' : 'registered_model';
  return {
    stage: 'registry',
    action: `${family}.${verb}` as Action,
    model: type === 'model_package' && pkg.name ? { name: pkg.name, version: pkg.version, tags: verb === 'tag_set' ? redactTagMap(tagMap(params.tags)) : undefined } : undefined,
    tagKeys: tagKeys?.length ? tagKeys : undefined,
  };
}

/**
 * The objects a DeleteObjects removes, as `s3://bucket/key` (at most 1000, S3's own limit per request), with the
 * version each one names. CloudTrail's record of the call lists none (`delete: ""`, an `AWS::S3::Object` resource
 * with only an `ARNPrefix`: the request body can outgrow an event); since mid-2025 it adds a DeleteObject event per
 * object. Keys in the request (`delete.Object[].Key`/`VersionId`) or object ARNs are read when a sender has them;
 * else `scope` is what the record names: the bucket, or the prefix `ARNPrefix` narrows it to.
 */
function deletedObjects(r: Obj, params: Obj, bucket: string): { uris: string[]; versions: Record<string, string>; scope?: string } {
  const del = isObj(params.delete) ? params.delete : isObj(params.Delete) ? params.Delete : {};
  const versions: Record<string, string> = {};
  const fromKeys: string[] = [];
  for (const o of arr(del.Object ?? del.Objects).filter(isObj)) {
    const k = str(o.Key) ?? str(o.key);
    if (!k) continue;
    const uri = `s3://${bucket}/${k}`;
    fromKeys.push(uri);
    const v = str(o.VersionId) ?? str(o.versionId);
    if (v) versions[uri] = v;
  }
  const objects = arr(r.resources).filter(isObj).filter((x) => x.type === 'AWS::S3::Object');
  const s3Uri = (a: string | undefined) => (a?.startsWith('arn:aws:s3:::') ? [`s3://${a.slice(13)}`] : []);
  const fromResources = objects.flatMap((x) => s3Uri(str(x.ARN) ?? str(x.arn)));
  const uris = uniq([...fromKeys, ...fromResources]).slice(0, 1000);
  if (uris.length) return { uris, versions };
  const prefix = objects.flatMap((x) => s3Uri(str(x.ARNPrefix))).map((u) => u.replace(/\/+$/, '')).find((u) => u === `s3://${bucket}` || u.startsWith(`s3://${bucket}/`));
  return { uris, versions, scope: prefix ?? `s3://${bucket}` };
}

/** S3 object and bucket operations (spec §2.1): stage from the configured bucket lists (a copy's source counts too). */
/**
 * The bytes of object data an S3 call moved (`ml.data.bytes`, what ingestion.volume_anomaly sums per source): CloudTrail's
 * `additionalEventData.bytesTransferredIn` for an upload (`PutObject`, `UploadPart`: the request body is the data),
 * `bytesTransferredOut` for a download (the response body). Other calls move no object data through the request — a
 * copy is made inside S3, its response, like a completion's or a delete's, is a small XML document — so they carry none:
 * read as data, a CopyObject's 224-byte `CopyObjectResult` counted as ingested volume while uploads counted nothing.
 */
function objectBytes(r: Obj, eventName: string): number | undefined {
  const field = eventName === 'PutObject' || eventName === 'UploadPart' ? 'bytesTransferredIn' : eventName === 'GetObject' ? 'bytesTransferredOut' : undefined;
  const n = field ? get(r, `additionalEventData.${field}`) : undefined;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function classifyS3(r: Obj, eventName: string, params: Obj, cfg: SagemakerConfig): Classified | { skip: string } {
  // CreateAccessPoint names the bucket in its body; PutAccessPointPolicy names none (kept when it grants anyone).
  const apCall = accessPointCall(r, eventName, params);
  const apGrantees = eventName === 'PutAccessPointPolicy' && apCall ? policyGrantees(apCall.policy) : [];
  const named = str(params.bucketName) ?? str(params.bucket) ?? apCall?.bucket;
  const key = str(params.key);
  // A copy reads its source: copying out of a listed bucket (to anywhere) is that bucket's data leaving it.
  const source = copySourceOf(str(params['x-amz-copy-source']));
  // Through an access point, the bucket is the one resources[] names (for a copy, the one that is not the other side's).
  const bucket = bucketBehind(r, named, isAccessPoint(source?.bucket) ? undefined : source?.bucket);
  const sourceBucket = source ? bucketBehind(r, source.bucket, isAccessPoint(named) ? undefined : named) : undefined;
  const copySource = sourceBucket ? `s3://${sourceBucket}${source!.key ? `/${source!.key}` : ''}` : undefined;
  const accessPoint = [named, source?.bucket].find(isAccessPoint);
  const listed = (bk: string | undefined, list: string[]) => !!bk && list.some((b) => b === bk || b === `s3://${bk}`);
  const inList = (list: string[]) => listed(bucket, list);
  let stage: Stage = 'platform';
  if (inList(cfg.training_buckets)) stage = 'ingestion';
  else if (inList(cfg.model_buckets)) stage = 'registry';
  else if (listed(sourceBucket, cfg.training_buckets) || listed(sourceBucket, cfg.model_buckets)) {
    // Kept, as `platform` (it writes nothing a model is trained on): `ml.data.inputs` names what left.
  } else if (!apGrantees.length && !(apCall && eventName !== 'PutAccessPointPolicy') && !(isAccessPoint(named) && !bucket)) {
    // Kept whatever the lists say: an access point's creation or deletion (which bucket it fronts, which the rules
    // learn), and a request through one whose record names no bucket (the rules may know it from the creation).
    const anyListed = cfg.training_buckets.length + cfg.model_buckets.length > 0;
    const mode = cfg.s3_unlisted_buckets === 'auto' ? (anyListed ? 'skip' : 'normalize') : cfg.s3_unlisted_buckets;
    if (mode === 'skip') return { skip: `S3 ${eventName} on bucket ${bucket ?? '(none)'} is not a listed training/model bucket` };
  }
  let action: Action;
  if (/^(GetObject|HeadObject|SelectObjectContent|GetObjectAttributes)$/.test(eventName)) action = 'data_object.read';
  else if (/^(PutObject|CompleteMultipartUpload|CreateMultipartUpload|UploadPart|RestoreObject|PutObjectTagging|PutObjectRetention|PutObjectLegalHold)$/.test(eventName)) action = 'data_object.write';
  else if (/^(CopyObject|UploadPartCopy)$/.test(eventName)) action = 'data_object.copy';
  else if (/^(DeleteObject|DeleteObjects|DeleteObjectTagging)$/.test(eventName)) action = 'data_object.delete';
  else if (/^(PutBucketPolicy|DeleteBucketPolicy|PutBucketAcl|PutObjectAcl|PutBucketPublicAccessBlock|DeletePublicAccessBlock|DeleteBucketPublicAccessBlock|PutBucketOwnershipControls|PutAccessPointPolicy|DeleteAccessPointPolicy)$/.test(eventName)) action = 'permission.change';
  else action = genericAction(eventName);
  // Through an access point, the object as an artifact named through it is (asS3Uri): the bucket's object when the
  // record tells the bucket, else the access point's object alone (compared with artifacts named the same way).
  const apObject = accessPointObject(named, key);
  const uri = bucket ? `s3://${bucket}${key ? `/${key}` : ''}` : apObject;
  // DeleteObjects names its keys in the request (`delete.Object[].Key`) or as object resources, not in `key`.
  const deleted = eventName === 'DeleteObjects' && bucket ? deletedObjects(r, params, bucket) : undefined;
  const recipient = str(r.recipientAccountId);
  const foreign = uniq(arr(r.resources).filter(isObj).map((x) => str(x.accountId))).filter((a) => recipient && a !== recipient);
  const artifact = (bk: string | undefined) => (listed(bk, cfg.training_buckets) ? 'dataset' : listed(bk, cfg.model_buckets) ? 'model' : undefined);
  const exported: { of: 'model' | 'dataset'; account?: string; inputs?: string[]; outputs?: string[] } | undefined = exportOf(r, action, artifact(sourceBucket), artifact(bucket), bucket, recipient) ?? (eventName === 'PutBucketReplication' ? replicationExport(params, bucket, artifact) : undefined);
  // An earlier version put back in place (registry.approved_model_modified, ingestion.unfamiliar_writer name it).
  const rollback = versionRollbackOf(eventName, params, copySource, uri, deleted?.versions);
  const grantees = action === 'permission.change' && artifact(bucket) ? (eventName === 'PutBucketPolicy' ? policyGrantees(params.bucketPolicy) : /Acl$/.test(eventName) ? aclGrantees(params) : []) : [];
  return {
    stage,
    action,
    resource: apCall ? { type: 's3_access_point', id: apCall.arn, name: apCall.arn.split('/').pop(), uri } : { type: key ? 's3_object' : 's3_bucket', id: uri, name: key ?? bucket, uri },
    ml: {
      data: {
        uris: deleted?.uris.length ? deleted.uris : deleted?.scope ? [deleted.scope] : uri ? [uri] : undefined,
        inputs: copySource ? [copySource] : exported?.inputs,
        outputs: copySource && uri ? [uri] : exported?.outputs,
        bytes: objectBytes(r, eventName),
      },
    },
    details: {
      bucket, key, copy_source: str(params['x-amz-copy-source']), access_point: apCall?.arn ?? accessPoint, other_accounts: foreign.length ? foreign : undefined,
      access_point_object: bucket && apObject ? apObject : undefined,
      // A multipart upload's parts and its completion name the same upload (the `uploadId` query parameter): the
      // rules carry what a part copy put back to the CompleteMultipartUpload that makes it the object.
      upload_id: /MultipartUpload$|^UploadPart/.test(eventName) ? str(params.uploadId) : undefined,
      // An access point made on a model or training bucket: what a later policy on it shares (platform.artifact_shared).
      access_point_of: eventName === 'CreateAccessPoint' && apCall ? artifact(bucket) : undefined,
      // Which bucket an access point fronts, as this record tells it (its creation, or a request through it whose
      // resources[] name the bucket): the rules judge an object reached one way against an artifact named the other.
      access_point_bucket: eventName === 'CreateAccessPoint' && apCall?.bucket ? { arn: apCall.arn, alias: apCall.alias, bucket: apCall.bucket } : apCall ? undefined : accessPointBucket(r, named, bucket),
      export_of: exported?.of, destination_account: exported?.account, version_rollback: rollback,
      // A DeleteObjects whose record names no object: every object under `ml.data.uris` may be gone.
      objects_not_named: deleted?.scope ? true : undefined,
      share_of: grantees.length ? artifact(bucket) : undefined, grantees: grantees.length ? grantees : apGrantees.length ? apGrantees : undefined,
    },
  };
}

/**
 * When an S3 call takes a model or dataset out of the buckets that hold them (`platform.artifact_exported`):
 * a copy from a listed bucket to one that is not (the destination bucket's owner, when the record names it),
 * or a read of a listed bucket by a principal of another account than the bucket's (`anonymous` for a
 * public read). Copies between listed buckets, and the owner's own reads, stay where they were.
 */
function exportOf(r: Obj, action: Action, from: 'model' | 'dataset' | undefined, to: 'model' | 'dataset' | undefined, bucket: string | undefined, recipient: string | undefined): { of: 'model' | 'dataset'; account?: string } | undefined {
  if (action === 'data_object.copy') return from && !to ? { of: from, account: bucketOwner(r, bucket) } : undefined;
  // An AWS service acting on its own (replication, inventory), or SageMaker loading a model for an endpoint or job
  // of that account, takes nothing out; a foreign principal reading through a query service (Athena, Glue, EMR:
  // `invokedBy` set, the caller still theirs) does.
  if (action !== 'data_object.read' || !to || str(get(r, 'userIdentity.type')) === 'AWSService' || /sagemaker\.amazonaws\.com/.test(str(get(r, 'userIdentity.invokedBy')) ?? '')) return undefined;
  const caller = str(get(r, 'userIdentity.accountId'));
  const owner = bucketOwner(r, bucket) ?? recipient;
  return caller && owner && caller !== owner ? { of: to, account: caller } : undefined;
}

/**
 * A replication of a model or training bucket to a bucket outside the lists: every object written there from
 * then on is copied out (an export, as a CopyObject out of it is, but standing). The destinations are the
 * enabled rules' buckets under the prefixes they copy; their owner is `Destination.Account` when every rule
 * names the same one. Replication between listed buckets (a second region's model bucket) stays inside.
 */
function replicationExport(params: Obj, bucket: string | undefined, artifact: (bk: string | undefined) => 'model' | 'dataset' | undefined): { of: 'model' | 'dataset'; account?: string; inputs: string[]; outputs: string[] } | undefined {
  const of = artifact(bucket);
  if (!of) return undefined;
  const out = replicationDestinations(params).filter((d) => !artifact(d.bucket));
  if (!out.length) return undefined;
  return { of, account: soleAccount(out), inputs: [`s3://${bucket}/`], outputs: uniq(out.map((d) => `s3://${d.bucket}/${d.prefix ?? ''}`)) };
}

/** Whether an STS/IAM role operation concerns a SageMaker role (name or configured ARN). */
function isSagemakerRole(roleArnOrName: string | undefined, r: Obj, cfg: SagemakerConfig): boolean {
  if (!roleArnOrName) return false;
  if (/sagemaker/i.test(roleArnOrName)) return true;
  if (/sagemaker\.amazonaws\.com/.test(str(get(r, 'userIdentity.invokedBy')) ?? '') || /sagemaker\.amazonaws\.com/.test(str(r.sourceIPAddress) ?? '')) return true;
  const name = roleArnOrName.split('/').pop()!;
  return cfg.role_arns.some((a) => a === roleArnOrName || a.split('/').pop() === name);
}

function genericAction(eventName: string): Action {
  const { verb } = splitOperation(eventName);
  if (/^(Describe|Get|Head|BatchGet|BatchDescribe)$/.test(verb)) return 'resource.read';
  if (/^(List|Search|Query)$/.test(verb)) return 'resource.list';
  if (/^(Create|Register|Import)$/.test(verb)) return 'resource.create';
  if (/^(Update|Put|Modify|Set|Add|Associate|Attach|Enable|Disable)$/.test(verb) || /^(Set|Modify|Attach)/.test(eventName)) return 'resource.update';
  if (/^(Delete|Remove|Deregister|BatchDelete|Detach)$/.test(verb) || /^(Detach|Revoke)/.test(eventName)) return 'resource.delete';
  if (verb === 'Invoke') return 'resource.invoke';
  return 'resource.other';
}

function classifyOther(r: Obj, source: string, eventName: string, params: Obj, cfg: SagemakerConfig): Classified | { skip: string } {
  const response = isObj(r.responseElements) ? r.responseElements : {};
  if (source === 'sts.amazonaws.com') {
    if (!/^AssumeRole/.test(eventName)) return { skip: `sts ${eventName} is not a role assumption` };
    const roleArn = str(params.roleArn);
    if (!isSagemakerRole(roleArn, r, cfg)) return { skip: `AssumeRole of ${roleArn ?? 'an unnamed role'} is not a SageMaker role (add it to connectors.sagemaker.role_arns)` };
    return {
      stage: 'platform',
      action: 'role.assume',
      resource: { type: 'iam_role', id: roleArn, name: roleArn?.split('/').pop() },
      ml: { job: { role: roleArn } },
      // The session's access key: the calls made with it name it (userIdentity.accessKeyId), so who assumed
      // this very session is known even when someone else assumes the same role under the same name.
      details: { role_session_name: str(params.roleSessionName), assumed_role_arn: str(get(response, 'assumedRoleUser.arn')), assumed_access_key_id: str(get(response, 'credentials.accessKeyId')), source_identity: str(params.sourceIdentity) },
    };
  }
  if (source === 'iam.amazonaws.com') {
    const roleName = str(params.roleName);
    if (!roleName || !isSagemakerRole(roleName, r, cfg)) return { skip: `iam ${eventName} does not touch a SageMaker role` };
    const action: Action = /Policy/.test(eventName) && !/^(Get|List)/.test(eventName)
      ? 'permission.change'
      : /^CreateRole$/.test(eventName) ? 'role.create' : /^DeleteRole$/.test(eventName) ? 'role.delete' : /^(Get|List)/.test(eventName) ? 'role.read' : 'role.update';
    return {
      stage: 'platform',
      action,
      resource: { type: 'iam_role', name: roleName, id: str(get(response, 'role.arn')) },
      details: { policy_arn: str(params.policyArn), policy_name: str(params.policyName) },
    };
  }
  if (source === 'ecr.amazonaws.com') {
    const repo = str(params.repositoryName);
    const digest = str(get(response, 'image.imageId.imageDigest')) ?? str(params.imageDigest);
    const tag = str(params.imageTag) ?? str(get(response, 'image.imageId.imageTag'));
    const registry = str(params.registryId) ?? str(get(response, 'image.registryId'));
    const image = repo && registry && r.awsRegion ? `${registry}.dkr.ecr.${String(r.awsRegion)}.amazonaws.com/${repo}` : repo;
    let action: Action = genericAction(eventName);
    if (eventName === 'PutImage') action = 'image.push';
    else if (eventName === 'BatchDeleteImage') action = 'image.delete';
    else if (/^(BatchGetImage|GetDownloadUrlForLayer)$/.test(eventName)) action = 'image.pull';
    else if (/RepositoryPolicy|RegistryPolicy/.test(eventName) && !/^Get/.test(eventName)) action = 'permission.change';
    return {
      stage: 'platform',
      action,
      resource: { type: 'ecr_repository', name: repo, id: arr(r.resources).filter(isObj).map((x) => str(x.ARN) ?? str(x.arn))[0], version: tag },
      ml: image ? { job: { image: digest ? `${image}@${digest}` : image, image_digest: digest } } : undefined,
      details: { image_tag: tag, image_digest: digest },
    };
  }
  if (cfg.extra_event_sources.includes(source)) {
    return { stage: 'platform', action: genericAction(eventName), resource: { type: snake(source.split('.')[0] ?? source), id: arr(r.resources).filter(isObj).map((x) => str(x.ARN))[0] } };
  }
  return { skip: `eventSource ${source} is not ML-relevant (add it to connectors.sagemaker.extra_event_sources)` };
}

/**
 * Normalize one CloudTrail record (any eventVersion 1.x). The event id is
 * derived from `eventID`, so the same record arriving by EventBridge,
 * Firehose and S3 is one event.
 *
 * @example
 * const r = normalizeCloudTrailRecord(record, { channel: 'file', receivedTime, keepRaw: true, config })
 */
export function normalizeCloudTrailRecord(r: unknown, ctx: RecordContext): RecordResult {
  if (!isObj(r)) return { reject: 'CloudTrail record is not a JSON object' };
  if (r.eventType === 'AwsCloudTrailInsight') return { skip: 'CloudTrail Insight record' };
  const eventName = str(r.eventName);
  const source = str(r.eventSource);
  if (!eventName) return { reject: 'CloudTrail record has no eventName', field: 'eventName' };
  if (!source) return { reject: 'CloudTrail record has no eventSource', field: 'eventSource' };
  const time = toRfc3339(r.eventTime);
  if (!time) return { reject: `CloudTrail record has no valid eventTime (${JSON.stringify(r.eventTime ?? null)})`, field: 'eventTime' };
  const version = str(r.eventVersion);
  if (version && !/^1\.\d+$/.test(version)) return { reject: `unsupported CloudTrail eventVersion ${version} (expected 1.x)`, field: 'eventVersion' };
  if (r.requestParameters !== undefined && r.requestParameters !== null && !isObj(r.requestParameters)) {
    return { reject: 'requestParameters is neither an object nor null', field: 'requestParameters' };
  }
  const params = isObj(r.requestParameters) ? r.requestParameters : {};

  let c: Classified | { skip: string };
  if (source === 'sagemaker.amazonaws.com' || source === 'api.sagemaker.amazonaws.com' || source === 'runtime.sagemaker.amazonaws.com') c = classifySagemaker(r, eventName, params, ctx.config);
  else if (source === 's3.amazonaws.com') c = classifyS3(r, eventName, params, ctx.config);
  else c = (source === 'cloudtrail.amazonaws.com' ? classifyTrail(eventName, params, isObj(r.responseElements) ? r.responseElements : {}, ctx.config) : undefined)
    ?? classifyFeed(source, eventName, params, ctx.config.feed_names ?? ['*mltrail*'], isObj(r.responseElements) ? r.responseElements : {})
    ?? classifyOther(r, source, eventName, params, ctx.config);
  if ('skip' in c) return c;

  const errorCode = str(r.errorCode);
  const account = str(r.recipientAccountId) ?? str(get(r, 'userIdentity.accountId'));
  const eventId = str(r.eventID);
  // Only defined values, no spread into the wide literal: same result as
  // `{...base, ...c.details}` once makeEvent prunes it, without the slow paths.
  const details = mergeDefined({
    event_type: str(r.eventType),
    event_category: str(r.eventCategory),
    read_only: bool(r.readOnly),
    management_event: bool(r.managementEvent),
    request_id: str(r.requestID),
    event_id: eventId,
    shared_event_id: str(r.sharedEventID),
    event_version: version,
    source_ip_address: str(r.sourceIPAddress),
    invoked_by: str(get(r, 'userIdentity.invokedBy')),
    identity_type: str(get(r, 'userIdentity.type')),
    access_key_id: str(get(r, 'userIdentity.accessKeyId')),
    caller_account: str(get(r, 'userIdentity.accountId')),
    cross_account: account && str(get(r, 'userIdentity.accountId')) && account !== str(get(r, 'userIdentity.accountId')) ? true : undefined,
    source_identity: str(get(r, 'userIdentity.sessionContext.sourceIdentity')),
    // The Identity Center user behind the call (also on role sessions that carry one).
    on_behalf_of: isObj(r.userIdentity) ? identityCenterUser(r.userIdentity)?.id : undefined,
    console_session: bool(r.sessionCredentialFromConsole),
    vpc_endpoint_id: str(r.vpcEndpointId),
    tls_version: str(get(r, 'tlsDetails.tlsVersion')),
    addendum_reason: str(get(r, 'addendum.reason')),
  }, c.details);
  const event = makeEvent(
    mergeDefined({
      id: eventId ? stableId('sagemaker', 'cloudtrail', eventId) : contentId('sagemaker', r),
      time,
      received_time: ctx.receivedTime,
      platform: 'sagemaker',
      channel: ctx.channel,
      stage: c.stage,
      action: c.action,
      operation: eventName,
      service: source,
      outcome: errorCode ? 'failure' : 'success',
      error: errorCode ? { code: errorCode, message: redactMessage(str(r.errorMessage)) } : undefined,
      actor: cloudTrailActor(r),
      resource: c.resource,
      cloud: { provider: 'aws', account, region: str(r.awsRegion) },
      ml: c.ml,
      details,
    }) as unknown as EventDraft,
    { raw: ctx.keepRaw === false ? undefined : rawRecord(r, c.ml), keepRaw: ctx.keepRaw },
  );
  return { event };
}

/**
 * The record as kept in `raw`: a job's or model's env, hyperparameters and container arguments are logged as sent
 * (spec: "NOT sensitive"), so their secrets are hidden (redactJobSecrets), and an index URL's credentials as in
 * ml.job.package_sources. The record itself when there is nothing to hide.
 */
function rawRecord(r: Obj, ml: Ml | undefined): Obj {
  const raw = redactJobSecrets(r);
  return packageSourcesHeldSecrets(ml?.job?.package_sources) ? redactPackageSourceSecrets(raw) : raw;
}

/**
 * What a Create/UpdateMlflowTrackingServer or Create/UpdateMlflowApp request sets: `artifact_store_uri` (the S3
 * location its runs' artifacts and registered models' weights are written to), `model_registration` (`enabled` /
 * `disabled`: whether MLflow registered models are synced into the SageMaker Model Registry, from a tracking server's
 * `automaticModelRegistration` or an App's `modelRegistrationMode`), the server's `mlflow_version` and `role_arn`.
 * Only what the request names: an update leaves the rest as it was.
 *
 * @example
 * mlflowServerDetails({ artifactStoreUri: 's3://b/x', automaticModelRegistration: false }) // { artifact_store_uri: 's3://b/x', model_registration: 'disabled' }
 */
export function mlflowServerDetails(params: Obj): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const store = str(params.artifactStoreUri);
  if (store) out.artifact_store_uri = store;
  const auto = params.automaticModelRegistration;
  const mode = str(params.modelRegistrationMode);
  if (typeof auto === 'boolean') out.model_registration = auto ? 'enabled' : 'disabled';
  else if (mode === 'AutoModelRegistrationEnabled' || mode === 'AutoModelRegistrationDisabled') out.model_registration = mode === 'AutoModelRegistrationEnabled' ? 'enabled' : 'disabled';
  const version = str(params.mlflowVersion);
  if (version) out.mlflow_version = version;
  const role = str(params.roleArn);
  if (role) out.role_arn = role;
  return out;
}

/**
 * The Studio execution roles a domain or user profile write sets (CreateDomain / UpdateDomain
 * `defaultUserSettings.executionRole` and `defaultSpaceSettings.executionRole`, Create/UpdateUserProfile
 * `userSettings.executionRole`), with the domain id (the request's, else CreateDomain's response `domainArn`) and the
 * profile name. Undefined when the call sets none.
 *
 * @example
 * studioExecutionRoles('CreateUserProfile', { domainId: 'd-abc', userProfileName: 'alice', userSettings: { executionRole: 'arn:aws:iam::111122223333:role/A' } }, {})
 * // { domain_id: 'd-abc', user_profile: 'alice', user_profile_role: 'arn:aws:iam::111122223333:role/A' }
 */
export function studioExecutionRoles(eventName: string, params: Obj, response: Obj): Record<string, string> | undefined {
  if (!/^(Create|Update)(Domain|UserProfile)$/.test(eventName)) return undefined;
  const domain = str(params.domainId) ?? /:domain\/([^/]+)$/.exec(str(response.domainArn) ?? '')?.[1];
  const roles: Record<string, string | undefined> = /Domain$/.test(eventName)
    ? { default_user_role: str(get(params, 'defaultUserSettings.executionRole')), default_space_role: str(get(params, 'defaultSpaceSettings.executionRole')) }
    : { user_profile: str(params.userProfileName), user_profile_role: str(get(params, 'userSettings.executionRole')) };
  if (!domain || (!roles.default_user_role && !roles.default_space_role && !roles.user_profile_role)) return undefined;
  return Object.fromEntries(Object.entries({ domain_id: domain, ...roles }).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/**
 * What a Studio deletion removes (DeleteDomain `DomainId`; DeleteUserProfile `DomainId` + `UserProfileName`;
 * DeleteSpace `DomainId` + `SpaceName`), so the rules forget the execution roles they learned for it: a deleted
 * profile's role is no longer that profile's own. Undefined for other calls or when the request names no domain.
 *
 * @example
 * studioDeleted('DeleteUserProfile', { domainId: 'd-abc', userProfileName: 'alice' }) // { domain_id: 'd-abc', user_profile: 'alice' }
 */
export function studioDeleted(eventName: string, params: Obj): Record<string, string> | undefined {
  if (!/^Delete(Domain|UserProfile|Space)$/.test(eventName)) return undefined;
  const domain = str(params.domainId);
  if (!domain) return undefined;
  if (eventName === 'DeleteDomain') return { domain_id: domain };
  const name = str(eventName === 'DeleteUserProfile' ? params.userProfileName : params.spaceName);
  return name ? { domain_id: domain, [eventName === 'DeleteUserProfile' ? 'user_profile' : 'space']: name } : undefined;
}
