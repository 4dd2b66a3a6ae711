import { imageDigestOf } from '../integrity/image.js';
import { redactUrlSecrets } from '../secrets.js';
import { MLFLOW_DEFAULT_WORKSPACE, workspaceScope, type NormalizedEvent } from '../schema/index.js';
import type { RulesConfigParsed } from './config.js';
import type { Party, VersionRec } from './registry.js';

/**
 * Platform-independent facts the rules need, read from normalized events:
 * who (identity), which model version, is it an approval, a deployment, etc.
 * One place, so every rule agrees on what "an approval" is on every platform.
 */

/** One UTF-16 unit compared without case (ASCII by arithmetic; others as their lower case). */
function sameUnit(a: number, b: number): boolean {
  if (a === b) return true;
  if (a < 128 && b < 128) return (a >= 65 && a <= 90 ? a + 32 : a) === (b >= 65 && b <= 90 ? b + 32 : b);
  return String.fromCharCode(a).toLowerCase() === String.fromCharCode(b).toLowerCase();
}

/**
 * Case-insensitive glob match (`*` any run, `?` one character).
 * Matched by walking both strings, going back only to the last `*`: time grows with
 * value × glob length at worst, never exponentially like a backtracking `.*` regex
 * (a 300 KB image host against `*.dkr.ecr.*.amazonaws.com` took seconds there).
 *
 * @example
 * globMatch('*.dkr.ecr.*.amazonaws.com', '1.dkr.ecr.us-east-1.amazonaws.com') // true
 */
export function globMatch(glob: string, value: string): boolean {
  const gl = glob.length;
  const vl = value.length;
  let gi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < vl) {
    if (gi < gl) {
      const g = glob.charCodeAt(gi);
      if (g === 42) {
        star = gi++;
        mark = vi;
        continue;
      }
      if (g === 63 || sameUnit(g, value.charCodeAt(vi))) {
        gi++;
        vi++;
        continue;
      }
    }
    if (star === -1) return false;
    gi = star + 1;
    vi = ++mark;
  }
  while (gi < gl && glob.charCodeAt(gi) === 42) gi++;
  return gi === gl;
}

export const anyGlob = (globs: readonly string[] | undefined, value: string | undefined): boolean =>
  !!value && !!globs?.some((g) => globMatch(g, value));

/** Value at a dotted path (`ml.data.rows`). */
export function fieldAt(ev: unknown, path: string): unknown {
  let cur: unknown = ev;
  for (const p of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

// ---------------------------------------------------------------- identity

const ASSUMED_ROLE = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/;

/** The assumed-role ARN an actor acts as (`arn:aws:sts::…:assumed-role/Role/session`), lower-cased, if any. */
export function assumedRoleArnOf(actor: NormalizedEvent['actor']): string | undefined {
  const arn = [actor?.id, actor?.name].find((x) => x && ASSUMED_ROLE.test(x));
  return arn?.toLowerCase();
}
// No '/' or ':' in it: `arn:…:assumed-role/Role/alice@corp.example` is an ARN whose session name is an email.
const EMAIL = /^[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+$/;
/**
 * Session names that are tool or SDK defaults, not people (botocore-session-…, i-0abc…, numeric; GitHubActions is
 * aws-actions/configure-aws-credentials' default): each role's session of that name is someone else, so the role
 * stays part of the identity — read as a person, every CI role's `GitHubActions` session was one identity, which
 * trained, approved and deployed everything (self-approval and separation-of-duties alerts on pipelines). AWS
 * services name the sessions of the roles they assume alike: CloudFormation's stack roles are all
 * `AWSCloudFormation` (every stack of every team, CDK's `cfn-exec-role` too), Glue jobs' `GlueJobRunnerSession`.
 */
const MACHINE_SESSION = /^(botocore-session-\d+|aws-go-sdk-\d+|aws-sdk-(js|java)-\d+|i-[0-9a-f]{8,}|\d+|[0-9a-f-]{32,}|AWSCLI-Session|SageMaker|GitHubActions|AWSCloudFormation|GlueJobRunnerSession)$/i;
/**
 * Session names an AWS service gives each run of one automation, the run's id in them: CodeBuild names its project
 * role's sessions `AWSCodeBuild-<build uuid>` (one per build), CodePipeline its role's by a number (epoch
 * milliseconds, one per action run). Each run is the same automation, so the id goes (`role:<role>/awscodebuild-*`,
 * `role:<role>/*`), as `ingestion.unfamiliar_writer` names an orchestrator's runs: read per run, every build of a
 * project was a new identity (its approvals never someone else's, its writes always a stranger's).
 */
const RUN_SESSION: ReadonlyArray<[RegExp, string]> = [
  [/^AWSCodeBuild-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'awscodebuild-*'],
  [/^\d+$/, '*'],
];
/** A GCP service account or Google-managed service agent (`…@<project>.iam.gserviceaccount.com`, `…@gcp-sa-…`). */
const GCP_SERVICE_ACCOUNT = /\.gserviceaccount\.com$/i;
/** A workload identity federation principal (`principal://iam.googleapis.com/…/subject/repo:corp/app:ref:…`). */
const FEDERATED_PRINCIPAL = /^principal:\/\/\S+$/;

/**
 * The original principal of a delegation chain: the first entry (Cloud Audit Logs sort
 * serviceAccountDelegationInfo in the order the delegations happened) that is a person or a federated workload,
 * not a GCP service account — a service agent (`service-…@gcp-sa-cloudbuild…`) can come before the person who started
 * the build. Undefined when the chain holds none (service accounts only, AWS ARNs).
 */
function originalPrincipal(chain: readonly string[] | undefined): string | undefined {
  // Only GCP service accounts are passed over: a Kubernetes service account impersonating a person stays the caller.
  const first = chain?.find((x) => !GCP_SERVICE_ACCOUNT.test(x));
  return first && (EMAIL.test(first) || FEDERATED_PRINCIPAL.test(first)) ? first : undefined;
}

const K8S_SERVICE_ACCOUNT = /^system:serviceaccount:[^:\s]+:[^:\s]+$/;
/** An IAM Identity Center user as the SageMaker connector names it: `<identityStoreArn>/<userId>` (CloudTrail `onBehalfOf`). */
const IDENTITY_CENTER_USER = /^arn:aws[a-z-]*:identitystore::\d*:identitystore\/[^/\s]+\/\S+$/i;

/**
 * The person (or service) behind an actor, the same across roles and
 * platforms where the platform tells: an email, the outermost principal of a
 * delegation chain, an AWS assumed-role session name (when that is a machine's name, the Identity Center user the
 * session was made for, `<identityStoreArn>/<userId>`, where the chain has one); then configured aliases.
 *
 * @example
 * identityOf({ id: 'arn:aws:sts::111122223333:assumed-role/Deployer/alice@corp.example' }, cfg) // 'alice@corp.example'
 */
export function identityOf(actor: NormalizedEvent['actor'], cfg: Pick<RulesConfigParsed, 'identities'>): string | undefined {
  if (!actor) return undefined;
  // Who assumed this role session (the engine sets it from the AssumeRole record it saw): the session name
  // is the caller's to choose, so it cannot say who someone is.
  const assumedBy = (actor as { assumed_by?: unknown }).assumed_by;
  if (typeof assumedBy === 'string' && assumedBy) return assumedBy;
  let id: string | undefined;
  const chain0 = actor.chain?.[0];
  const original = originalPrincipal(actor.chain);
  if (original) id = original;
  else if (chain0 && EMAIL.test(chain0)) id = chain0;
  // An AWS role session's source identity (the SageMaker connector puts it first in the chain, before the ARNs):
  // who is behind the session, kept across role chaining and not changeable, so a pipeline role's sessions are
  // told apart by the person or job that started them whatever their (per-run) session names.
  else if (chain0 && actor.session_issuer && !chain0.startsWith('arn:')) id = chain0;
  else if (actor.email) id = actor.email;
  else {
    const arn = [chain0, actor.id, actor.name].find((x) => x && ASSUMED_ROLE.test(x));
    const m = arn ? ASSUMED_ROLE.exec(arn) : null;
    const run = m ? RUN_SESSION.find(([re]) => re.test(m[2]!)) : undefined;
    // A machine-named session made for an Identity Center user (`onBehalfOf`: SageMaker Studio's `SageMaker` session
    // in an Identity Center domain) is that user's: every user of the domain shares the role and the session name.
    const identityCenter = m && (run || MACHINE_SESSION.test(m[2]!)) ? actor.chain?.find((x) => IDENTITY_CENTER_USER.test(x)) : undefined;
    if (identityCenter) id = identityCenter;
    else if (m && run) id = `role:${m[1]}/${run[1]}`;
    else if (m) id = MACHINE_SESSION.test(m[2]!) ? `role:${m[1]}/${m[2]}` : m[2];
    // A Kubernetes service account is its namespace's: `default-editor` and `pipeline-runner` are in every
    // Kubeflow profile, `default` in every namespace — read by name alone, every team's (and an attacker's own
    // namespace's) were one identity, a known writer of every dataset any of them wrote.
    else if (actor.id && K8S_SERVICE_ACCOUNT.test(actor.id)) id = actor.id;
    else id = actor.name ?? actor.id;
  }
  if (!id) return undefined;
  const norm = id.trim().toLowerCase();
  for (const [person, names] of Object.entries(cfg.identities.aliases)) {
    if (person.toLowerCase() === norm || names.some((n) => n.trim().toLowerCase() === norm)) return person.toLowerCase();
  }
  return norm;
}

/**
 * The caller as an alert's summary names it: the identity, or a phrase that cannot be read as a user name (an
 * MLflow webhook carries no caller; "by unknown" read like an account called `unknown`).
 */
export function callerText(actor: NormalizedEvent['actor'], cfg: Pick<RulesConfigParsed, 'identities'>): string {
  return identityOf(actor, cfg) ?? UNIDENTIFIED;
}
export const UNIDENTIFIED = 'an unidentified caller';

/** The caller as the platform logged it (an ARN, an email, a Kubernetes user): what the SIEM's copies of the events hold. */
export function actorIdOf(actor: NormalizedEvent['actor']): string | undefined {
  return actor?.id || actor?.email || actor?.name || undefined;
}

/**
 * Where an event happened and who called, for an alert's details: the cloud account / project and region, the
 * Kubernetes namespace, and the caller's own id (`actor_id`; the person an alert names is the identity mltrail
 * resolved, `alice@corp.example` for `arn:aws:sts::…:assumed-role/Deployer/alice@corp.example`, which no field of
 * the forwarded events holds as such).
 */
export function eventScope(ev: Pick<NormalizedEvent, 'actor' | 'cloud' | 'resource'> & { details?: NormalizedEvent['details'] }): EventScope {
  const out: EventScope = {};
  if (ev.cloud && (ev.cloud.account || ev.cloud.project || ev.cloud.region)) out.cloud = ev.cloud;
  if (ev.resource?.namespace) out.namespace = ev.resource.namespace;
  const id = actorIdOf(ev.actor);
  if (id) out.actor_id = id;
  // How the change came (the AWS service that made the call, the Argo CD Application that applied it): the rules
  // that judge an event later, or keep their own details, say so too.
  const invokedBy = ev.details?.invoked_by;
  if (typeof invokedBy === 'string' && invokedBy) out.invoked_by = invokedBy;
  const app = ev.details?.gitops_application;
  if (typeof app === 'string' && app) out.gitops_application = app;
  return out;
}
type EventScope = { cloud?: NormalizedEvent['cloud']; namespace?: string; actor_id?: string; invoked_by?: string; gitops_application?: string };

/**
 * The registry key of a `model_version` entity (`<scope>:<name>/<version>`, see versionEntity): the version is after
 * the last `/` (a Vertex model's name has slashes of its own).
 *
 * @example
 * versionKeyOfEntity('sagemaker', '111122223333:us-east-1:fraud/3') // 'sagemaker|111122223333:us-east-1:fraud|3'
 */
export function versionKeyOfEntity(platform: string, id: string): string {
  const i = id.lastIndexOf('/');
  return `${platform}|${id.slice(0, i)}|${id.slice(i + 1)}`;
}

/** How many identities or runs of each kind `details.lineage.registry` names (the latest). */
const LINEAGE_LIST = 5;

/**
 * What the registry state knows of a model version's chain of custody, for an alert about it
 * (`details.lineage.registry`): its artifact and digest, the run it was logged from and the runs that produced its
 * artifact, and who created, trained, evaluated, registered and approved (or rejected) it, with the event ids.
 *
 * @example
 * registryLineage(reg.version('mlflow|fraud|3'))?.trained_by // ['alice@example.com']
 */
export function registryLineage(v: VersionRec | undefined): Record<string, unknown> | undefined {
  if (!v) return undefined;
  const who = (parties: Party[] | undefined) => {
    const ids = [...new Set((parties ?? []).map((p) => p.identity))].slice(-LINEAGE_LIST);
    return ids.length ? ids : undefined;
  };
  const out: Record<string, unknown> = {
    artifact_uri: shownUri(v.artifact),
    sha256: v.sha256,
    run_id: v.runId,
    producer_runs: v.producerRuns?.length ? v.producerRuns.slice(-LINEAGE_LIST) : undefined,
    created_by: v.created?.identity,
    trained_by: who(v.trainers),
    evaluated_by: who(v.evaluators),
    registered_by: who(v.registrants),
    approval: v.approval ? { state: v.approval.state, identity: v.approval.identity, time: v.approval.time, event: v.approval.event } : undefined,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return Object.keys(out).length ? out : undefined;
}

/** The join keys an alert copies from the event that raised it (`details.lineage`). */
export interface Lineage {
  resource?: { type: string; id: string };
  model?: { name?: string; version?: string; run_id?: string; artifact_uri?: string; sha256?: string };
  run_id?: string;
  pipeline_run?: string;
  job?: string;
  endpoint?: string;
  model_uri?: string;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
/**
 * A URI as an alert may show it: user-info, secret query values and signed-URL signatures hidden (`https://[redacted]@…`,
 * `X-Amz-Signature=[redacted]`). Connectors hide them in most fields, not all (a SageMaker package's `ModelDataUrl` may
 * be `https://…` and is kept as logged in the event), and lineage copies them into every sink.
 */
const shownUri = (v: string | undefined): string | undefined => (v === undefined ? v : redactUrlSecrets(v));

/**
 * The ids an alert needs to pivot back along the model's chain of custody, as the event that raised it holds them
 * (its resource, the model version with the run that produced it and its artifact and digest, the run and pipeline
 * run, the job, the endpoint and model URI deployed), under the events' own values: `resource.id` is what the
 * platform's records name (an ARN, `…/models/fraud@2`), where the alert's `entity.id` is mltrail's scoped key.
 * Read from the event in hand, no state: a few property reads per detection. Undefined when the event names none.
 *
 * @example
 * lineageOf({ resource: { type: 'model_version', id: 'fraud/3' }, ml: { model: { name: 'fraud', version: '3', run_id: 'r1' } } })
 * // { resource: { type: 'model_version', id: 'fraud/3' }, model: { name: 'fraud', version: '3', run_id: 'r1' } }
 */
export function lineageOf(ev: Pick<NormalizedEvent, 'resource' | 'ml'>): Lineage | undefined {
  const out: Lineage = {};
  const r = ev.resource;
  if (r?.id) out.resource = { type: r.type, id: shownUri(r.id)! };
  const m = ev.ml?.model;
  if (m) {
    const model: NonNullable<Lineage['model']> = {};
    for (const k of ['name', 'version', 'run_id', 'artifact_uri', 'sha256'] as const) {
      const v = text(m[k]);
      if (v) model[k] = k === 'artifact_uri' ? shownUri(v) : v;
    }
    if (Object.keys(model).length) out.model = model;
  }
  const run = text(ev.ml?.provenance?.run_id);
  if (run) out.run_id = run;
  const pipelineRun = text(ev.ml?.provenance?.pipeline_run);
  if (pipelineRun) out.pipeline_run = pipelineRun;
  const job = text(ev.ml?.job?.name);
  if (job) out.job = job;
  const endpoint = text(ev.ml?.deployment?.endpoint);
  if (endpoint) out.endpoint = endpoint;
  const modelUri = text(ev.ml?.deployment?.model_uri);
  if (modelUri) out.model_uri = shownUri(modelUri);
  return Object.keys(out).length ? out : undefined;
}

// ---------------------------------------------------------------- URIs

/** Normalise an artifact URI for comparison; configured mirrors map copies onto one name. */
export function normUri(uri: string, cfg: Pick<RulesConfigParsed, 'artifact_mirrors'>): string {
  let u = uri.trim().replace(/\/+$/, '');
  for (const m of cfg.artifact_mirrors) {
    const to = m.to.replace(/\/+$/, '');
    if (u === to || u.startsWith(`${to}/`)) u = m.from.replace(/\/+$/, '') + u.slice(to.length);
  }
  return u;
}

/** A region code: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-7`. */
const AWS_REGION = '[a-z]{2,4}(?:-[a-z]+)+-\\d+';
/**
 * The S3 endpoint names AWS's endpoint table and its backward-compatibility notes list, in either addressing style:
 * `s3`, `s3-fips`, each `.dualstack` or not, then `.<region>`; the global `s3`; the legacy dash forms `s3-<region>`,
 * `s3-external-1` and `s3-fips-us-gov-west-1` (a dash region). Access points (`s3-accesspoint`), S3 Express
 * (`s3express-…`), Object Lambda, website endpoints and Multi-Region Access Points (`s3-global`) are none of these.
 */
const S3_ENDPOINT = `s3(?:-fips)?(?:\\.dualstack)?\\.${AWS_REGION}|s3(?:-external-1|-${AWS_REGION})?`;
const S3_DOMAIN = 'amazonaws\\.com(?:\\.cn)?';
/**
 * The partitions with a DNS suffix of their own (the AWS SDK's endpoint partitions, `partitions.json`): ISO
 * (`c2s.ic.gov`), ISO-B (`sc2s.sgov.gov`), ISO-E (`cloud.adc-e.uk`), ISO-F (`csp.hci.ic.gov`) and the European
 * Sovereign Cloud (`amazonaws.eu`), each with its own regions (`regionRegex`). None supports dual-stack; FIPS they do.
 * Only `s3[-fips].<region>.<suffix>` is read there: the legacy dash and global forms were never theirs.
 */
const SOVEREIGN_S3 = [
  ['us-iso', 'c2s\\.ic\\.gov'], ['us-isob', 'sc2s\\.sgov\\.gov'], ['eu-isoe', 'cloud\\.adc-e\\.uk'], ['us-isof', 'csp\\.hci\\.ic\\.gov'], ['eusc-de', 'amazonaws\\.eu'],
].map(([region, suffix]) => `s3(?:-fips)?\\.${region}-[a-z]+-\\d+\\.${suffix}`).join('|');
/** An S3 endpoint host: the commercial, GovCloud and China partitions' forms, and the sovereign ones. */
const S3_HOST = `(?:${S3_ENDPOINT})\\.${S3_DOMAIN}|${SOVEREIGN_S3}`;
/** Virtual-hosted (`<bucket>.<endpoint>`, also Transfer Acceleration's `s3-accelerate[.dualstack]`) and path-style hosts. */
const S3_VIRTUAL_HOST = new RegExp(`^([a-z0-9][a-z0-9.-]*)\\.(?:${S3_HOST}|s3-accelerate(?:\\.dualstack)?\\.${S3_DOMAIN})$`);
const S3_PATH_HOST = new RegExp(`^(?:${S3_HOST})$`);

/**
 * The partition a region code is in (the AWS SDK's `partitions.json` region patterns): `cn-*` aws-cn, `us-gov-*`
 * aws-us-gov, `us-iso-*` aws-iso, `us-isob-*` aws-iso-b, `eu-isoe-*` aws-iso-e, `us-isof-*` aws-iso-f, `eusc-*`
 * aws-eusc, anything else (and no region) `aws`. Bucket names are unique in a partition, not across them.
 *
 * @example
 * partitionOfRegion('cn-north-1') // 'aws-cn'
 * partitionOfRegion(undefined) // 'aws'
 */
export function partitionOfRegion(region: string | undefined): string {
  const r = region?.toLowerCase() ?? '';
  if (r.startsWith('cn-')) return 'aws-cn';
  if (r.startsWith('us-gov-')) return 'aws-us-gov';
  if (r.startsWith('us-isob-')) return 'aws-iso-b';
  if (r.startsWith('us-isof-')) return 'aws-iso-f';
  if (r.startsWith('us-iso-')) return 'aws-iso';
  if (r.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (r.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

/**
 * An access point's object ARN (`arn:<partition>:s3:<region>:<account>:accesspoint/<name>/object/<key>`, also with
 * `accesspoint:<name>`, and as the AWS CLI takes it, `s3://arn:…:accesspoint/<name>/<key>`): its parts, else undefined.
 */
const AP_OBJECT_ARN = /^(?:s3:\/\/)?arn:(aws[a-z-]*):s3:([a-z0-9-]+):(\d{12}):accesspoint[/:]([a-z0-9-]{3,50})\/(object\/)?(.+)$/;
/**
 * An access point's `https://` host: `<name>-<account>.s3-accesspoint[-fips][.dualstack].<region>.amazonaws.com[.cn]`.
 * Multi-Region Access Points (`<alias>.mrap.accesspoint.s3-global.amazonaws.com`: no account, and one of several
 * buckets answers) and Object Lambda access points (`s3-object-lambda`: a function's output, not an object) are not.
 */
const AP_HOST = new RegExp(`^([a-z0-9-]{3,50})-(\\d{12})\\.s3-accesspoint(?:-fips)?(?:\\.dualstack)?\\.(${AWS_REGION})\\.amazonaws\\.com(\\.cn)?$`);

/** The canonical name of an object reached through an access point: its object ARN, the key literal. */
const apObject = (partition: string, region: string, account: string, name: string, key: string) => `arn:${partition}:s3:${region}:${account}:accesspoint/${name}/object/${key}`;

/**
 * An `https://` S3 object URL as the `s3://bucket/key` it names (SageMaker accepts both where it takes an S3 location,
 * e.g. `S3OutputLocation`, `^(https|s3)://`); any other URI as it is. The key is the path percent-decoded, as S3 reads
 * it, and never dot-resolved (S3 keys are literal); a URL with a query, a port or a path that does not decode, or an
 * S3 Express, Object Lambda or Multi-Region Access Point host, is left as it is (compared as written, so it vouches for
 * nothing it might not name). An object named through an access point (its `https://` host, its object ARN, the CLI's
 * `s3://<access point ARN>/<key>`) is named by its object ARN, one form for all three: which bucket the access point
 * fronts is not in the name (an S3 write record through it names both, see the connector's `access_point_object`).
 *
 * @example
 * asS3Uri('https://models.s3.us-east-1.amazonaws.com/fraud/v3') // 's3://models/fraud/v3'
 * asS3Uri('https://s3.eu-west-1.amazonaws.com/models/fraud/v3') // 's3://models/fraud/v3'
 * asS3Uri('https://models.s3-fips.dualstack.us-east-1.amazonaws.com/fraud/v3') // 's3://models/fraud/v3'
 * asS3Uri('https://models.s3.us-iso-east-1.c2s.ic.gov/fraud/v3') // 's3://models/fraud/v3'
 * asS3Uri('https://ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/fraud/v3') // 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap/object/fraud/v3'
 */
export function asS3Uri(uri: string): string {
  const arn = AP_OBJECT_ARN.exec(uri);
  // The object ARN names its key after `/object/`; the CLI's s3:// form right after the name.
  if (arn && (arn[5] || uri.startsWith('s3://'))) return apObject(arn[1]!, arn[2]!, arn[3]!, arn[4]!, arn[6]!);
  const m = /^https:\/\/([a-z0-9.-]+)(\/[^?#]*)?$/i.exec(uri);
  if (!m) return uri;
  const host = m[1]!.toLowerCase();
  let path: string;
  try {
    path = decodeURIComponent((m[2] ?? '').slice(1));
  } catch {
    return uri;
  }
  const ap = AP_HOST.exec(host);
  if (ap) return path ? apObject(ap[4] ? 'aws-cn' : partitionOfRegion(ap[3]), ap[3]!, ap[2]!, ap[1]!, path) : uri;
  const virtual = S3_VIRTUAL_HOST.exec(host);
  if (virtual) return `s3://${virtual[1]}${path ? `/${path}` : ''}`;
  if (S3_PATH_HOST.test(host) && path && !path.startsWith('/')) return `s3://${path}`;
  return uri;
}

/** The DNS suffixes of the partitions that have one of their own (see SOVEREIGN_S3), longest first. */
const PARTITION_SUFFIXES: Array<[string, string]> = [
  ['.amazonaws.com.cn', 'aws-cn'], ['.sc2s.sgov.gov', 'aws-iso-b'], ['.csp.hci.ic.gov', 'aws-iso-f'], ['.c2s.ic.gov', 'aws-iso'], ['.cloud.adc-e.uk', 'aws-iso-e'], ['.amazonaws.eu', 'aws-eusc'],
];

/**
 * The partition an S3 object's name tells, if it tells one: an ARN's (`arn:aws-cn:s3:…`), an `https://` S3 or access
 * point URL's (its DNS suffix, else its region: `s3.us-gov-west-1.amazonaws.com`; the global `s3.amazonaws.com` is
 * `aws`). An `s3://` URI names a bucket in no partition: undefined (the record naming it tells, see partitionOfVersion).
 *
 * @example
 * partitionOfUri('https://models.s3.cn-north-1.amazonaws.com.cn/m') // 'aws-cn'
 * partitionOfUri('s3://models/m') // undefined
 */
export function partitionOfUri(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const arn = /^(?:s3:\/\/)?arn:(aws[a-z-]*):s3:/.exec(uri);
  if (arn) return arn[1];
  if (!uri.startsWith('https://') || asS3Uri(uri) === uri) return undefined;
  const host = /^https:\/\/([^/?#]+)/.exec(uri)![1]!.toLowerCase();
  const suffix = PARTITION_SUFFIXES.find(([s]) => host.endsWith(s));
  if (suffix) return suffix[1];
  // A region of a partition of its own anywhere in the host (`s3.us-gov-west-1.`, the legacy `s3-fips-us-gov-west-1.`).
  return partitionOfRegion(/(?:^|[.-])((?:us-gov|cn|us-isob|us-isof|us-iso|eu-isoe|eusc)-[a-z]+(?:-[a-z]+)*-\d+)\./.exec(host)?.[1]);
}

/**
 * The partition a version's artifact is in: what its URI tells (partitionOfUri), else the region of the SageMaker
 * account it is registered in (scope `<account>:<region>`), else the one `rules.artifact_partitions` configures for
 * its platform (`mlflow:<server id>` for a configured MLflow server — the scope's server part —, else `mlflow`), else
 * unknown (undefined): an MLflow, Vertex or Kubeflow record's `s3://` artifact says no partition, and read as `aws` a
 * GovCloud or China MLflow's approved artifacts were never matched by a write there (samePartition lets an unknown
 * partition match any).
 *
 * @example
 * partitionOfVersion({ platform: 'mlflow', scope: 'gov/team-a', artifact: 's3://m/x' }, { artifact_partitions: { 'mlflow:gov': 'aws-us-gov' } }) // 'aws-us-gov'
 */
export function partitionOfVersion(v: { platform: string; scope?: string; artifact?: string }, cfg?: { artifact_partitions?: Record<string, string> }): string | undefined {
  const told = partitionOfUri(v.artifact);
  if (told) return told;
  if (v.platform === 'sagemaker') return partitionOfRegion(v.scope?.split(':')[1]);
  const configured = cfg?.artifact_partitions;
  if (!configured) return undefined;
  // An MLflow scope is `<server>`, `<server>/<workspace>` or `/<workspace>` (the default server's).
  const server = v.platform === 'mlflow' ? v.scope?.split('/')[0] : undefined;
  return (server ? configured[`${v.platform}:${server}`] : undefined) ?? configured[v.platform];
}

/**
 * The partition an AWS record happened in: its region's (`cloud.region`, CloudTrail's `awsRegion`), else the one its
 * caller's or resource's ARN names (`arn:aws-us-gov:…`), else not known (undefined, matched by any, see samePartition):
 * read as `aws`, a region-less record's write on a GovCloud or China approved artifact was dropped unjudged.
 *
 * @example
 * partitionOfEvent({ cloud: { provider: 'aws', region: 'us-gov-west-1' } }) // 'aws-us-gov'
 * partitionOfEvent({ actor: { type: 'user', id: 'arn:aws-cn:iam::1:user/a' } }) // 'aws-cn'
 * partitionOfEvent({}) // undefined
 */
export function partitionOfEvent(ev: { cloud?: { region?: string }; actor?: { id?: string }; resource?: { id?: string } }): string | undefined {
  if (ev.cloud?.region) return partitionOfRegion(ev.cloud.region);
  for (const id of [ev.actor?.id, ev.resource?.id]) {
    const arn = id ? /^arn:(aws[a-z-]*):/.exec(id) : null;
    if (arn) return arn[1];
  }
  return undefined;
}

/**
 * Whether an object named `uri` by an event in `partition` may be the same object as one named in `other`: S3
 * bucket names (and access point objects) are unique in a partition only. Other stores' URIs always may, and so does
 * a partition not known (undefined: a version whose record tells none).
 */
export const samePartition = (uri: string, partition: string | undefined, other: string | undefined): boolean =>
  partition === undefined || other === undefined || partition === other || !/^(?:s3[an]?:\/\/|arn:)/i.test(uri);

/** An artifact URI: `s3://…`, `gs://…`, and MLflow's single-slash `mlflow-artifacts:/…`, `runs:/…`, `dbfs:/…`. */
const URI_SCHEME = /^[a-z][a-z0-9+.-]*:\//i;

/** Scheme and authority (`s3://bucket`, or `mlflow-artifacts:` before a single slash), and the path after them; a bare path has no head. */
function splitUri(uri: string): [string, string] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*|[a-z][a-z0-9+.-]*:(?=\/))(.*)$/i.exec(uri);
  return m ? [m[1]!, m[2]!] : ['', uri];
}

/**
 * The URI as a lenient reader resolves it: `%2e` read as `.`, `%2f`, `%5c` and `\` as `/`
 * (WHATWG URL, Python's requests sends `%2e%2e` on as `..`), runs of `/`
 * merged (nginx), and `.`/`..` segments applied (an HTTP client, a file
 * system: `https://h/m/v5/../../x` is `https://h/x`). Object stores (S3, GCS)
 * read none of this: there the literal key is the object. Rules that vouch
 * for a location require both readings to agree (uriOverlap); rules that flag
 * one take either (uriMayOverlap).
 *
 * @example
 * resolveDotSegments('pvc://models/iris/v4/../../scratch/m') // 'pvc://models/scratch/m'
 * resolveDotSegments('https://h/m/v5/%2e%2e/x') // 'https://h/m/x'
 */
export function resolveDotSegments(uri: string): string {
  const [head, written] = splitUri(uri);
  const path = written.replace(/%2e/gi, '.').replace(/%2f|%5c/gi, '/').replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '.') continue;
    if (seg === '..') {
      // Never above the root (the leading '' of an absolute path).
      if (out.length > 1 || (out.length === 1 && out[0] !== '')) out.pop();
      continue;
    }
    out.push(seg);
  }
  return head + out.join('/').replace(/\/+$/, '');
}

/** Whether readers may disagree on where the URI points (see resolveDotSegments). */
export const readingsDiffer = (uri: string) => resolveDotSegments(uri) !== uri.replace(/\/+$/, '');

/** Object-store URIs, where a key is one object and `/` in it names no folder (`s3://`, Hadoop's `s3a://`/`s3n://`, `gs://`). */
const OBJECT_STORE = /^(?:s3[an]?|gs):\/\//i;
/** A model archive's name: a model.tar.gz is uploaded and read as one file. */
const ARCHIVE_NAME = /\.(?:tar\.gz|tgz|tar|gz|zip)$/i;

/**
 * An archive on an object store (`s3://models/fraud/v3/model.tar.gz`): one object, never a folder. The key
 * `…/model.tar.gz/evil.tar.gz` is another object, which anyone who can write the bucket may upload: not inside it.
 */
export function isArchiveObject(uri: string): boolean {
  return OBJECT_STORE.test(uri) && ARCHIVE_NAME.test(uri);
}

/** Parent "directories" of a URI as written, longest first, the URI itself first. */
function literalAncestors(uri: string): string[] {
  const out = [uri];
  // Down to the authority (`s3://bucket`), or the first segment of `mlflow-artifacts:/1/…` (never the bare scheme).
  const schemeEnd = uri.indexOf('://');
  const min = schemeEnd >= 0 ? schemeEnd + 3 : splitUri(uri)[0].length;
  let cur = uri;
  for (;;) {
    const i = cur.lastIndexOf('/');
    if (i <= min) break;
    cur = cur.slice(0, i);
    // An archive holds no other object: `…/model.tar.gz/x` is not in `…/model.tar.gz` (its folders hold both).
    if (!isArchiveObject(cur)) out.push(cur);
  }
  return out;
}

/**
 * The URI and each of its parent "directories", longest first. With `.`/`..`
 * segments, only the parents it is under both as written and as resolved: a
 * `…/approved/v5/../../uploads/x` is not under `…/approved/v5` for an HTTP
 * client, and `s3://b/x/../v5` is not under `s3://b/v5` for S3.
 */
export function uriAncestors(uri: string): string[] {
  const literal = literalAncestors(uri);
  if (!readingsDiffer(uri)) return literal;
  // A parent counts when, read leniently, it is still a parent of the leniently read URI: `…/team%2Fproj/v1`
  // holds `…/team%2Fproj/v1/model.pkl` either way; `…/v5` does not hold `…/v5/../../x`.
  const resolved = new Set(literalAncestors(resolveDotSegments(uri)));
  return [uri, ...literal.slice(1).filter((a) => resolved.has(resolveDotSegments(a)))];
}

/** Equal, or one a folder holding the other (never an archive object: see isArchiveObject). */
const overlaps = (a: string, b: string) => a === b || (a.startsWith(`${b}/`) && !isArchiveObject(b)) || (b.startsWith(`${a}/`) && !isArchiveObject(a));

/**
 * True when one URI equals the other or contains it (directory prefix), read
 * both as written and with dot segments resolved: a location vouches for
 * another only if every reader agrees.
 */
export function uriOverlap(a: string, b: string): boolean {
  if (!overlaps(a, b)) return false;
  return !(readingsDiffer(a) || readingsDiffer(b)) || overlaps(resolveDotSegments(a), resolveDotSegments(b));
}

/** True when the URIs overlap as written or as some reader resolves them (for rules that flag an overlap). */
export function uriMayOverlap(a: string, b: string): boolean {
  return overlaps(a, b) || overlaps(resolveDotSegments(a), resolveDotSegments(b));
}

// ---------------------------------------------------------------- models

export interface ModelRef {
  platform: string;
  name?: string;
  version?: string;
  artifact?: string;
  sha256?: string;
  runId?: string;
  /** The alias a deployment names instead of a version (Vertex `…/models/55@production`). */
  alias?: string;
  /**
   * What a `models:/<name>/<suffix>` URI names when the suffix is not a version (MLflow's `_parse_model_uri`): a stage
   * (`Production`: the highest version now in it, stage names case-insensitive) or `latest` (the highest version of
   * all). The registry resolves it (Registry.stageVersion); unset otherwise.
   */
  stage?: string;
  /**
   * Where a SageMaker model lives (`<account>:<region>`): a package named by ARN, that ARN's account and region (a
   * central registry account's package deployed in production), else where the call was made. Its names are unique
   * only there: the same group and version in another account is another package. Unset where the event does not say.
   */
  scope?: string;
  /**
   * The configured MLflow server, or MLflow workspace on a server (`team/a`, `/a`: workspaceScope), whose registry a
   * deployment's `models:/…` URI names (a KServe cluster's `mlflow_server` and `mlflow_workspace`, the predictor's
   * `MLFLOW_WORKSPACE`: `ml.deployment.mlflow_server`, `mlflow_workspace`): the version or alias is that registry's.
   * Unset: not said.
   */
  mlflowServer?: string;
  /**
   * Why a deployment's `models:/…` URI names no version (parseMlflowModelUri's `improper`): MLflow refuses it, so it is
   * judged as an unknown artifact, and alert details say this as `unresolved`. Unset otherwise.
   */
  improperUri?: string;
  /** Why the registry a `models:/…` URI names cannot be trusted to be the one judged (mlflowDoubtOf). */
  mlflowDoubt?: MlflowDoubt;
}

/**
 * Why the registry a KServe deployment's `models:/…` URI resolves in is not one mltrail can vouch for:
 * `unwatched_registry`, its env names a registry URI no configured MLflow server has (`registry_uri`); or
 * `artifact_endpoint_not_allowed`, its env fetches the bytes from or through an artifact endpoint or proxy the
 * cluster's `artifact_endpoints` does not list (`endpoints`: env name → value); or
 * `registry_unverifiable`, the env vars naming its registry, workspace or artifact endpoint (`env`) come from a source
 * the audit log does not show, so the cluster's settings may not be what it loads from.
 */
export type MlflowDoubt =
  | { reason: 'unwatched_registry'; registry_uri?: string }
  | { reason: 'artifact_endpoint_not_allowed'; endpoints: Record<string, string> }
  | { reason: 'registry_unverifiable'; env: string[] };

/**
 * A registry scope no server or workspace has (server ids and workspace scopes never hold `!`): a `models:/…` URI of
 * an unwatched registry is resolved there, so that no watched registry's version of the same name is named.
 */
const UNWATCHED_REGISTRY = '!unwatched';

/** The doubt (MlflowDoubt) the connector recorded on a `models:/…` deployment, if any. */
export function mlflowDoubtOf(ev: Pick<NormalizedEvent, 'details' | 'ml'>): MlflowDoubt | undefined {
  const d = ev.details;
  if (d?.mlflow_registry_unwatched === true) {
    const uri = ev.ml?.deployment?.mlflow_registry_uri;
    return { reason: 'unwatched_registry', ...(typeof uri === 'string' ? { registry_uri: uri } : {}) };
  }
  // A host known not to be allowed is a finding before one that cannot be read.
  const unlisted = Array.isArray(d?.artifact_endpoint_unlisted) ? (d.artifact_endpoint_unlisted as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const artifactEnv = (d?.artifact_env ?? {}) as Record<string, unknown>;
  const endpoints = Object.fromEntries(unlisted.map((n) => [n, typeof artifactEnv[n] === 'string' ? artifactEnv[n] as string : '']));
  if (unlisted.length) return { reason: 'artifact_endpoint_not_allowed', endpoints };
  const env = Array.isArray(d?.mlflow_env_unverifiable) ? (d.mlflow_env_unverifiable as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  return env.length ? { reason: 'registry_unverifiable', env } : undefined;
}

/**
 * The state key of a name unique only within an account and region (SageMaker): `<account>:<region>:<name>`, or the
 * bare name where the scope is not known (events without `cloud`), as before scoping. SageMaker names hold no `:`.
 */
export const scopedName = (name: string, scope: string | undefined): string => (scope ? `${scope}:${name}` : name);

/** Key of a model version in the registry state (a SageMaker package's keyed by where it lives, see ModelRef.scope). */
export const versionKey = (platform: string, name: string, version: string, scope?: string) => `${platform}|${scopedName(name, scope)}|${version}`;

/**
 * The configured MLflow server or Kubernetes cluster an alert's entity is of: its id prefixes the entity's id
 * (`team:fraud@champion` named `fraud`, `cluster-b:prod/fraud` named `prod/fraud`; scopedName), with the MLflow
 * workspace where one is named (`team/a`, `/a`: workspaceScope). Undefined for the default server's and cluster's
 * (their ids are the bare names) and for other platforms.
 */
export function entityServerOf(e: { id: string; name?: string; platform?: string }): string | undefined {
  if ((e.platform !== 'mlflow' && e.platform !== 'kubeflow') || !e.name) return undefined;
  for (let i = e.id.indexOf(':'); i > 0; i = e.id.indexOf(':', i + 1)) if (e.id.startsWith(e.name, i + 1)) return e.id.slice(0, i);
  return undefined;
}

/**
 * A summary naming what it is about where the entity is of a configured server or cluster: kinds write the bare
 * names (`fraud@champion moved…`), the same on every server, so ` (on MLflow server team)` is added unless the
 * summary already names it (`team:fraud/3: …`); a named MLflow workspace's ` (in MLflow workspace a on server
 * team)`, ` (in MLflow workspace a)` on the default server. An entity that names no server (a person) takes the
 * server of the event judged (`judged`), if any. The default server's and workspace's summaries are unchanged.
 *
 * @example
 * summaryWithServer('fraud@champion moved back', { id: 'team:fraud@champion', name: 'fraud@champion', platform: 'mlflow' })
 * // 'fraud@champion moved back (on MLflow server team)'
 */
export function summaryWithServer(summary: string, e: { id: string; name?: string; platform?: string }, judged?: { id: string; platform: string }): string {
  const own = entityServerOf(e);
  const server = own ?? judged?.id;
  if (!server || summary.includes(`${server}:`)) return summary;
  const platform = own ? e.platform : judged!.platform;
  if (platform === 'kubeflow') return `${summary} (on Kubernetes cluster ${server})`;
  const registry = mlflowRegistryName(server);
  return `${summary} (${server.includes('/') ? 'in' : 'on'} ${registry})`;
}

/**
 * An MLflow registry scope as a reader names it: `MLflow server team`; a workspace's scope (workspaceScope)
 * `MLflow workspace a on server team`, `MLflow workspace a` on the default server.
 */
export function mlflowRegistryName(scope: string): string {
  const slash = scope.indexOf('/');
  if (slash < 0) return `MLflow server ${scope}`;
  const workspace = scope.slice(slash + 1);
  return slash === 0 ? `MLflow workspace ${workspace}` : `MLflow workspace ${workspace} on server ${scope.slice(0, slash)}`;
}

/**
 * The registry a deployment's `models:/…` URI names, as a rule-state scope: the workspace's on its server
 * (`ml.deployment.mlflow_workspace` on `mlflow_server`, else on the default server: workspaceScope), the server's own
 * for its `default` workspace or none. Undefined where neither is said, or the default workspace of the default server
 * (whose scope is no scope: judged as a URI that names no server).
 */
function mlflowRegistryOf(d: { mlflow_server?: unknown; mlflow_workspace?: unknown } | undefined): string | undefined {
  const server = typeof d?.mlflow_server === 'string' && d.mlflow_server ? d.mlflow_server : undefined;
  const workspace = typeof d?.mlflow_workspace === 'string' ? d.mlflow_workspace : undefined;
  return workspace && workspace !== MLFLOW_DEFAULT_WORKSPACE ? workspaceScope(server, workspace) : server;
}

/** Split `name@version` (Vertex `…/models/123@2`). */
function splitAt(name: string): [string, string | undefined] {
  const i = name.lastIndexOf('@');
  return i > 0 ? [name.slice(0, i), name.slice(i + 1)] : [name, undefined];
}

/**
 * What a `models:/…` URI names, read as MLflow's `_parse_model_uri` reads it (mlflow/store/artifact/utils/models.py):
 * `models:/<name>/<suffix>` (a version when all digits, `latest` in any case, else a stage) or `models:/<name>@<alias>`,
 * a suffix of non-ASCII digits (`３`: Python's isdigit) a version no registry matches, a stage none of MLflow's refused,
 * split at the last `@` (`models:/a@b@c` is model `a@b`, alias `c`); a query is not part of the path. A URI MLflow
 * refuses (`_improper_model_uri_msg`: more than two path segments, as a trailing slash makes; an empty name, suffix or
 * alias) is `improper`, with why: it loads nothing by that name, so no version may vouch for it. Undefined for another
 * scheme, a URI naming its registry by authority (`models://<profile>@databricks/…`), or a bare `models:/<model_id>`
 * (MLflow 3's logged model): those name no version of a registered model here.
 *
 * @example
 * parseMlflowModelUri('models:/fraud/Production') // { name: 'fraud', stage: 'Production' }
 * parseMlflowModelUri('models:/fraud/1/') // { improper: 'more than two path segments (a trailing slash makes one)' }
 */
export function parseMlflowModelUri(uri: string): { name: string; version?: string; stage?: string; alias?: string } | { improper: string } | undefined {
  const m = /^models:(.*)$/is.exec(uri);
  if (!m) return undefined;
  // urlparse: `//authority` before the path, the query after `?` (fragments stay in the path: allow_fragments=False).
  let rest = m[1]!.replace(/\?.*$/s, '');
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    if ((slash < 0 ? rest.slice(2) : rest.slice(2, slash)) !== '') return undefined;
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  if (!rest.startsWith('/') || rest.length <= 1) return { improper: 'no model name' };
  const parts = rest.replace(/^\/+/, '').split('/');
  if (parts.length > 2) return { improper: 'more than two path segments (a trailing slash makes one)' };
  if (parts[0]!.trim() === '') return { improper: 'no model name' };
  if (parts.length === 2) {
    const [name, suffix] = parts as [string, string];
    if (suffix.trim() === '') return { improper: 'an empty version or stage (a trailing slash)' };
    if (/^\d+$/.test(suffix)) return { name, version: mlflowUriVersion(suffix) };
    // Python's str.isdigit() takes any Unicode digit (`３`, `²`): MLflow asks for that version, which no version is.
    if (isPythonDigits(suffix)) return { improper: `${suffix} is a version to MLflow (str.isdigit), and no version has that number: ${[...suffix].every((c) => /\p{Nd}/u.test(c)) ? 'its store compares the digits as written (int() only validates them)' : 'int() refuses it'}` };
    if (suffix.toLowerCase() === 'latest') return { name, stage: suffix };
    // get_latest_versions takes only MLflow's stages (get_canonical_stage, any case): another name loads nothing.
    if (!MLFLOW_STAGES.some((s) => s.toLowerCase() === suffix.toLowerCase())) return { improper: `stage ${suffix} is none of MLflow's stages (${MLFLOW_STAGES.join(', ')})` };
    return { name, stage: suffix };
  }
  if (!rest.includes('@')) return undefined;
  const at = parts[0]!.lastIndexOf('@');
  const [name, alias] = [parts[0]!.slice(0, at), parts[0]!.slice(at + 1)];
  if (alias.trim() === '') return { improper: 'an empty alias' };
  // MLflow passes an empty name on to the registry, which has no such model.
  if (name.trim() === '') return { improper: 'no model name' };
  return { name, alias };
}

/** MLflow's model version stages (mlflow/entities/model_registry/model_version_stages.py ALL_STAGES), matched in any case. */
const MLFLOW_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;

/**
 * Characters Python's str.isdigit() takes that are no decimal digit (Numeric_Type=Digit: superscripts, circled and
 * Ethiopic digits…, from Python 3.11's unicodedata): MLflow reads a suffix of them as a version, which int() refuses.
 */
const PY_DIGIT_NOT_DECIMAL = /[\u00B2\u00B3\u00B9\u1369-\u1371\u19DA\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247C\u2488-\u2490\u24EA\u24F5-\u24FD\u24FF\u2776-\u277E\u2780-\u2788\u278A-\u2792\u{10A40}-\u{10A43}\u{10E60}-\u{10E68}\u{11052}-\u{1105A}\u{1F100}-\u{1F10A}]/u;

/** Python's `s.isdigit()`: every character a Unicode decimal digit (\p{Nd}) or another digit (PY_DIGIT_NOT_DECIMAL). */
const isPythonDigits = (s: string): boolean => s.length > 0 && [...s].every((c) => /\p{Nd}/u.test(c) || PY_DIGIT_NOT_DECIMAL.test(c));

/**
 * The registered version a `models:/<name>/<digits>` URI loads: MLflow's `_parse_model_uri` takes an all-digit
 * suffix as a version and its registry matches it as an integer (`int(version)` validation, integer `version`
 * column), so `models:/fraud/03` loads version 3. Only digits get here: `-3` or `3a` is a stage name to MLflow,
 * which no version is.
 *
 * @example
 * mlflowUriVersion('03') // '3'
 */
export function mlflowUriVersion(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '');
}

/**
 * The model (version) an event is about, from ml.model, the resource, or the deployment.
 *
 * @example
 * modelRefOf(vertexDeploy, cfg) // { platform: 'vertex', name: 'projects/p/locations/l/models/123', version: '2' }
 */
export function modelRefOf(ev: NormalizedEvent, cfg: Pick<RulesConfigParsed, 'artifact_mirrors'>): ModelRef | undefined {
  const m = ev.ml?.model;
  const r = ev.resource;
  let name = m?.name;
  let version = m?.version;
  // A KServe TrainedModel's own name is no registered model's: the model is its storageUri (ml.deployment.model_uri).
  if (!name && r && /model/.test(r.type) && r.type !== 'trainedmodels') {
    name = r.name ?? r.id;
    version ??= r.version;
  }
  if (name) {
    const [n, v] = splitAt(name);
    if (v && !version && /^\d+$/.test(v)) (name = n), (version = v);
  }
  // SageMaker names are unique regardless of case and its ARNs carry them lower-cased: `FraudModel`
  // registered by name and `…/model-package/fraudmodel/1` in a later call are one model.
  if (name && ev.platform === 'sagemaker') name = name.toLowerCase();
  // A deployment's model_uri is an artifact URI (KServe storageUri, s3://…) or a model resource (Vertex `…/models/123@2`).
  // KServe's storageUri is ml.deployment.model_uri too (the Kubeflow connector sets it for every write that sets a model).
  const modelUri = ev.ml?.deployment?.model_uri;
  let artifact = m?.artifact_uri;
  let alias: string | undefined;
  // MLflow's registry URI names a version or an alias: `models:/fraud/3`, `models:/fraud@champion`; or a stage or
  // `latest` (`models:/fraud/Production`), which only the registry's state resolves (ModelRef.stage).
  const parsed = modelUri ? parseMlflowModelUri(modelUri) : undefined;
  const registryUri = parsed && 'name' in parsed ? parsed : undefined;
  // A URI MLflow refuses loads nothing: an unknown artifact, never a version of the name it seems to spell.
  const improperUri = parsed && 'improper' in parsed ? parsed.improper : undefined;
  let stage: string | undefined;
  let mlflowServer: string | undefined;
  let mlflowDoubt: MlflowDoubt | undefined;
  if (registryUri) {
    name ??= registryUri.name;
    if (name === registryUri.name) {
      if (registryUri.version) version ??= registryUri.version;
      else if (registryUri.stage) stage = registryUri.stage;
      else alias = registryUri.alias;
      mlflowDoubt = mlflowDoubtOf(ev);
      // A registry mltrail does not watch: no watched registry's version of the name is the one served.
      mlflowServer = mlflowDoubt?.reason === 'unwatched_registry' ? UNWATCHED_REGISTRY : mlflowRegistryOf(ev.ml?.deployment);
    }
  } else if (modelUri && URI_SCHEME.test(modelUri)) artifact ??= modelUri;
  else if (modelUri) {
    // `…/models/55@2` names a version; `…/models/55@production` an alias, resolved by the registry.
    const [n, v] = splitAt(modelUri);
    if (!name) name = n;
    if (v && n === name) {
      if (/^\d+$/.test(v)) version ??= v;
      else alias = v;
    }
  }
  // `generated_by` (SageMaker MetadataProperties.GeneratedBy) names the pipeline execution that produced a package.
  const ref: ModelRef = { platform: ev.platform, name, version, artifact: artifact ? normUri(artifact, cfg) : undefined, sha256: m?.sha256?.toLowerCase().replace(/^sha256:/, ''), runId: m?.run_id ?? ev.ml?.provenance?.run_id ?? (typeof m?.generated_by === 'string' ? m.generated_by : undefined), ...(alias && !version ? { alias } : {}), ...(stage && !version ? { stage } : {}), ...(mlflowServer ? { mlflowServer } : {}), ...(mlflowDoubt ? { mlflowDoubt } : {}), ...(improperUri && artifact === modelUri ? { improperUri: `not a proper models:/ URI, MLflow refuses it: ${improperUri}` } : {}) };
  // An MLflow model lives on the server that reported it; a KServe deployment names a model of a registry elsewhere.
  const home = sagemakerHomeOf(ev) ?? (ev.platform === 'mlflow' ? serverScopeOf(ev) : undefined);
  if (home) ref.scope = home;
  return ref.name || ref.artifact || ref.sha256 || ref.runId ? ref : undefined;
}

/**
 * The MLflow stage a registry event says a version is in now: a stage transition, or an approval made by one (the
 * auditor's `details.field: 'current_stage'`, a Databricks webhook's `to_stage`), or the auditor's first look at a
 * version approved or aliased before it watched (`details.baseline`). Not a transition request (it moves nothing),
 * nor a failed call.
 *
 * @example
 * currentStageOf(transitionToStaging) // 'Staging'
 */
export function currentStageOf(ev: Pick<NormalizedEvent, 'action' | 'outcome' | 'details' | 'ml'>): string | undefined {
  if (ev.outcome === 'failure') return undefined;
  const d = ev.details;
  if (d?.baseline === true) return ev.ml?.model?.stage;
  if (ev.action !== 'model_version.stage_transition' && ev.action !== 'model_version.approve') return undefined;
  if (d?.field === 'current_stage') return typeof d.new === 'string' ? d.new : undefined;
  if (typeof d?.to_stage === 'string') return d.to_stage;
  return ev.action === 'model_version.stage_transition' ? ev.ml?.model?.stage : undefined;
}

/** `arn:aws:sagemaker:r:a:model-package/group/3` → { name: 'group', version: '3' }. */
export function packageRef(arn: string | undefined): { name: string; version: string; scope?: string } | undefined {
  const m = arn ? /:model-package\/([^/]+)\/(\d+)$/.exec(arn) : null;
  if (!m) return undefined;
  // arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
  const where = /^arn:[^:]+:sagemaker:([^:]+):(\d{12}):/.exec(arn!);
  return { name: m[1]!, version: m[2]!, ...(where ? { scope: `${where[2]}:${where[1]}` } : {}) };
}

/** Where a SageMaker event happened (`<account>:<region>`), when its cloud says. */
export function sagemakerScopeOf(ev: Pick<NormalizedEvent, 'platform' | 'cloud'>): string | undefined {
  return ev.platform === 'sagemaker' && ev.cloud?.account && ev.cloud.region ? `${ev.cloud.account}:${ev.cloud.region}` : undefined;
}

/**
 * The configured MLflow tracking server or Kubernetes cluster an event came from (`cloud.account`, which the
 * connector sets from the secret or token that authenticated it, core/schema/origin.ts): their names (`fraud/3`,
 * namespace `prod`) are unique only there; an MLflow event of a named workspace (`cloud.project`) is scoped to the
 * workspace on that server (workspaceScope). Unset for the default server and for events that do not say.
 */
export function serverScopeOf(ev: Pick<NormalizedEvent, 'platform' | 'cloud'>): string | undefined {
  if (ev.platform === 'mlflow' && ev.cloud?.project) return workspaceScope(ev.cloud.account, ev.cloud.project);
  return (ev.platform === 'mlflow' || ev.platform === 'kubeflow') && ev.cloud?.account ? ev.cloud.account : undefined;
}

/** Where an event's names are unique: a SageMaker account and region, an MLflow server, a Kubernetes cluster; unset where one name is one thing. */
export function scopeOf(ev: Pick<NormalizedEvent, 'platform' | 'cloud'>): string | undefined {
  return sagemakerScopeOf(ev) ?? serverScopeOf(ev);
}

/** `<account>:<region>` of a SageMaker ARN (`arn:<partition>:sagemaker:<region>:<account>:…`), when it names both. */
function sagemakerArnScope(arn: string | undefined): string | undefined {
  if (!arn?.startsWith('arn:')) return undefined;
  const [, , service, region, account] = arn.split(':', 5);
  return service === 'sagemaker' && region && account ? `${account}:${region}` : undefined;
}

/**
 * Where the SageMaker resource an event is about lives: its ARN's account and region when the event names it by
 * one (a prod account approving a central registry's package), else where the call was made (sagemakerScopeOf).
 */
export function sagemakerHomeOf(ev: Pick<NormalizedEvent, 'platform' | 'cloud' | 'resource'>): string | undefined {
  if (ev.platform !== 'sagemaker') return undefined;
  return sagemakerArnScope(ev.resource?.id) ?? sagemakerScopeOf(ev);
}

/**
 * The state key and alert entity id of an endpoint: SageMaker's scoped to its account and region and folded to lower
 * case (CreateEndpoint: "The name is case-insensitive", so `Churn-Prod` and `churn-prod` are one endpoint), a
 * configured cluster's KServe endpoint to its cluster (`cluster-b:prod/fraud`); others as named.
 */
export function endpointKey(ev: Pick<NormalizedEvent, 'platform' | 'cloud'>, ep: string): string {
  return scopedName(ev.platform === 'sagemaker' ? ep.toLowerCase() : ep, scopeOf(ev));
}

/** The endpoint config a deployment applies (SageMaker), and the model resources a deployment or config serves. */
export function deploymentConfigOf(ev: NormalizedEvent): string | undefined {
  const d = ev.ml?.deployment as Record<string, unknown> | undefined;
  const c = d?.endpoint_config ?? d?.config;
  return typeof c === 'string' ? c : undefined;
}
export function deployedModelNames(ev: NormalizedEvent): string[] {
  const d = ev.ml?.deployment as Record<string, unknown> | undefined;
  if (!d) return [];
  const out: string[] = [];
  const add = (v: unknown) => typeof v === 'string' && v && !out.includes(v) && out.push(v);
  if (Array.isArray(d.models)) d.models.forEach(add);
  if (Array.isArray(d.variants)) for (const v of d.variants) add((v as { model?: unknown } | null)?.model);
  add(d.model);
  return out;
}

// ---------------------------------------------------------------- actions

export type ApprovalState = 'approved' | 'rejected' | 'pending' | undefined;

const APPROVAL_CARRIERS = new Set([
  'model_version.create', 'model_version.update', 'model_version.status_change', 'model_version.stage_transition',
  'model_version.alias_set', 'model_version.tag_set', 'model.upload', 'model.update',
]);

/** Tags an event sets: ml.model.tags, or the single `details.tag {key, value}` an MLflow tag webhook carries. */
export function tagsOf(ev: NormalizedEvent): Record<string, string> {
  const out: Record<string, string> = { ...(ev.ml?.model?.tags ?? {}) };
  const t = ev.details?.tag as { key?: unknown; value?: unknown } | undefined;
  if (t && typeof t.key === 'string') out[t.key] = String(t.value ?? '');
  if (typeof ev.details?.key === 'string') out[ev.details.key] = String(ev.details.value ?? '');
  return out;
}

/**
 * The tags a tag write sets: the one it names (`details.tag`, `details.key`) when it names one, else the tags it
 * carries. The MLflow auditor's report of one tag also carries the version's whole tag list: read as set by it, an
 * approval tag already there made every later tag write an approval, by whoever wrote it, at that time.
 */
function tagsSetBy(ev: NormalizedEvent): Record<string, string> {
  const t = ev.details?.tag as { key?: unknown; value?: unknown } | undefined;
  if (t && typeof t.key === 'string') return { [t.key]: String(t.value ?? '') };
  if (typeof ev.details?.key === 'string') return { [ev.details.key]: String(ev.details.value ?? '') };
  return tagsOf(ev);
}

/**
 * Whether this event approves or rejects a model version: `model_version.approve`,
 * ml.model.approval (SageMaker ModelApprovalStatus, MLflow/Vertex markers the
 * connector maps), an approval alias (MLflow alias, Vertex version alias), an
 * approval tag, or a transition to an approved stage.
 *
 * @example
 * approvalOf(aliasSetEvent, cfg) // 'approved' when the alias set is "champion"
 */
export function approvalOf(ev: NormalizedEvent, cfg: Pick<RulesConfigParsed, 'approval'>): ApprovalState {
  if (ev.outcome === 'failure') return undefined;
  if (ev.action === 'model_version.approve') return 'approved';
  if (ev.action === 'model_version.reject') return 'rejected';
  if (!ev.action.startsWith('model_version.') && !ev.action.startsWith('model.') && !ev.action.startsWith('registered_model.alias')) return undefined;
  const m = ev.ml?.model;
  // Only actions that can set the approval state carry it; a hash_mismatch naming an approved version is not an approval.
  if (APPROVAL_CARRIERS.has(ev.action) && (m?.approval === 'approved' || m?.approval === 'rejected')) return m.approval;
  // Aliases are names, compared exactly: MLflow stores them as given and PostgreSQL and SQLite resolve them so, so
  // `CHAMPION` set on another version leaves `@champion` where it was; counted as an approval, it would vouch for
  // a version the serving side never reaches by the approved alias.
  const aliases = cfg.approval.aliases;
  if (ev.action.endsWith('.alias_set')) {
    const set = [...(m?.aliases ?? []), ...(typeof ev.details?.alias === 'string' ? [ev.details.alias] : [])];
    if (set.some((a) => aliases.includes(a))) return 'approved';
  }
  // An update that sets an approval alias, or an upload that creates the version with one (Vertex UploadModel versionAliases).
  if ((ev.action === 'model_version.update' || ev.action === 'model_version.create' || ev.action === 'model.upload') && m?.aliases?.some((a) => aliases.includes(a))) return 'approved';
  // SageMaker's approval is ModelApprovalStatus: a tag on a model package (AddTags) approves nothing, or anyone
  // allowed to tag could make an unapproved package look approved to the deployment rules.
  if (ev.action === 'model_version.tag_set' && ev.platform !== 'sagemaker') {
    for (const [k, v] of Object.entries(tagsSetBy(ev))) {
      const allowed = Object.entries(cfg.approval.tags).find(([tk]) => tk.toLowerCase() === k.toLowerCase())?.[1];
      if (allowed?.some((a) => a.toLowerCase() === String(v).toLowerCase())) return 'approved';
    }
  }
  if (ev.action === 'model_version.stage_transition' && m?.stage && cfg.approval.stages.some((s) => s.toLowerCase() === m.stage!.toLowerCase())) return 'approved';
  return m?.approval === 'pending' ? 'pending' : undefined;
}

const DEPLOY_ACTIONS = new Set(['endpoint.deploy', 'endpoint.update', 'endpoint.traffic_change', 'endpoint.create']);

/**
 * A deployment: SageMaker Create/UpdateEndpoint, Vertex DeployModel / traffic split, KServe InferenceService change.
 * Not a Kubernetes audit record of the `RequestReceived` stage: it is written before authorization and admission,
 * so it says only that the request came; the same request's `ResponseComplete` (another event) says whether it was
 * carried out — a deployment refused by RBAC or an admission policy deployed nothing.
 */
export function isDeployment(ev: NormalizedEvent): boolean {
  return DEPLOY_ACTIONS.has(ev.action) && isCarriedOut(ev);
}

/**
 * A deployment the platform made by itself, with no deploy call of anyone's (a Vertex tuning job deploys its tuned
 * model to an endpoint: `ml.deployment.auto_deployed`, the endpoint and model named). Not an `isDeployment`: the
 * event is the job's; registry.unapproved_deployment judges it when `auto_deployments` is set.
 */
export function isAutoDeployment(ev: NormalizedEvent): boolean {
  return ev.ml?.deployment?.auto_deployed === true && !!ev.ml.deployment.endpoint && ev.outcome !== 'failure';
}

/** A request not known to have failed, and not a Kubernetes `RequestReceived` record (see isDeployment). */
export function isCarriedOut(ev: NormalizedEvent): boolean {
  return ev.outcome !== 'failure' && !(ev.outcome !== 'success' && ev.details?.audit_stage === 'RequestReceived');
}

/**
 * A batch-inference job started: SageMaker CreateTransformJob (`ml.deployment.model`, a SageMaker Model), Vertex
 * CreateBatchPredictionJob (`ml.deployment.model_uri`, `…/models/M[@version|@alias]`), any connector's
 * `transform_job.create`. It runs a model on a dataset as a deployment does, without an endpoint.
 */
export function isBatchInference(ev: NormalizedEvent): boolean {
  return ev.action === 'transform_job.create' && ev.outcome !== 'failure';
}

/** The endpoint an event is about. */
export function endpointOf(ev: NormalizedEvent): string | undefined {
  const d = ev.ml?.deployment?.endpoint;
  if (d) return d;
  if (ev.resource && /endpoint|inference_?service/i.test(ev.resource.type)) return ev.resource.name ?? ev.resource.id;
  return undefined;
}

const JOB_SUBMIT = new Set([
  'training_job.create', 'processing_job.create', 'tuning_job.create', 'transform_job.create',
  'pipeline_run.create', 'pipeline_run.start', 'pipeline_run.retry', 'recurring_run.create',
]);
/**
 * A job or pipeline submission (what off-hours and network policy look at). A SageMaker Ground Truth labeling job
 * (`CreateLabelingJob`, read as `resource.create` on a `labeling_job`) is one too: it is submitted as a job is, by a
 * role or a pipeline on its schedule, runs code over the data (its Lambda functions, automated labeling's training
 * and inference jobs) and writes the labels a model learns from.
 */
export const isJobSubmission = (ev: NormalizedEvent) => (JOB_SUBMIT.has(ev.action) || isLabelingJobSubmission(ev)) && ev.outcome !== 'failure';

/** A SageMaker Ground Truth labeling job created (`CreateLabelingJob`; its later state changes are not). */
export const isLabelingJobSubmission = (ev: NormalizedEvent) => ev.resource?.type === 'labeling_job' && ev.action === 'resource.create';

/**
 * SageMaker Pipelines names a step's job `pipelines-<execution id>-<StepName>-<random>` (the execution id is the last
 * part of the execution's ARN, 12 characters; the suffix 10 letters and digits): every run is a new name.
 */
const SAGEMAKER_PIPELINE_JOB = /^pipelines-[a-z0-9]{12}-(.+)-[A-Za-z0-9]{10}$/;

/** A job's family: its name without the timestamp / run-id suffix platforms append (a pipeline step's: the step). */
export function jobFamily(name: string): string {
  const step = SAGEMAKER_PIPELINE_JOB.exec(name)?.[1];
  if (step) return `pipelines-${step}`;
  return name
    .replace(/[-_]?\d{4}-?\d{2}-?\d{2}([-_T]?\d{2}-?\d{2}(-?\d{2})?(-?\d{3})?)?.*$/, '')
    .replace(/[-_][0-9a-f]{8,}$/i, '')
    .replace(/[-_]\d+$/, '') || name;
}

/**
 * The family of a job as its event links it, before its name: a SageMaker Pipelines step's job (`ml.job.pipeline_step`,
 * from the `sagemaker:pipeline-step-name` tag Pipelines sets, custom job prefix or not) is `pipelines-<pipeline>/<StepName>`,
 * its pipeline read from the execution ARN tag (a generated name without the tags, `pipelines-<StepName>`, names none); a training job a tuning job launched (`ml.job.tuning_job`) is its tuning job's family. The link
 * counts only for the job the event is about and, on SageMaker, only when the execution ARN is in the event's account
 * and region (Pipelines starts its jobs where it runs). Otherwise the name's family (jobFamily).
 */
export function jobFamilyOf(ev: Pick<NormalizedEvent, 'platform' | 'cloud' | 'ml'>, job: string): string {
  const j = ev.ml?.job;
  if (j?.name !== job) return jobFamily(job);
  const step = typeof j.pipeline_step === 'string' ? j.pipeline_step : undefined;
  const execution = typeof j.pipeline_execution === 'string' ? j.pipeline_execution : undefined;
  const here = sagemakerScopeOf(ev);
  // The execution ARN names its pipeline (`…:pipeline/<name>/execution/<id>`): step names repeat across pipelines
  // (`Preprocess`, `TrainModel`), and two pipelines' steps are no runs of one another.
  const pipeline = execution ? /:pipeline\/([^/]+)\/execution\//.exec(execution)?.[1] : undefined;
  if (step && execution && (!here || sagemakerArnScope(execution) === here)) return pipeline ? `pipelines-${pipeline}/${step}` : `pipelines-${step}`;
  const tuning = typeof j.tuning_job === 'string' ? j.tuning_job : undefined;
  return jobFamily(tuning || job);
}

/**
 * The alert entity of a job's family (`churn-nightly-16` → `churn-nightly`, see jobFamily and jobFamilyOf). SageMaker job names are
 * unique only within an account and region, so the dev and prod accounts' `churn-nightly` are two families: the id is
 * scoped as endpoints are (`111122223333:us-east-1:churn-nightly`, `name` the family as named), and so is a configured
 * cluster's (`cluster-b:churn-nightly`).
 *
 * @example
 * jobEntity({ platform: 'vertex' }, 'fraud-train-7') // { type: 'job', id: 'fraud-train', platform: 'vertex' }
 */
export function jobEntity(ev: Pick<NormalizedEvent, 'platform' | 'cloud' | 'ml'>, job: string): { type: string; id: string; name?: string; platform: string } {
  const family = jobFamilyOf(ev, job);
  return namedEntity('job', scopedName(family, scopeOf(ev)), family, ev.platform);
}

/**
 * An alert entity whose id may differ from the name as logged (scoped to an account and region, folded, namespaced):
 * `name` is kept only then, so an unscoped entity reads as before.
 *
 * @example
 * namedEntity('endpoint', '111122223333:us-east-1:churn-prod', 'churn-prod', 'sagemaker') // { …, name: 'churn-prod' }
 */
export function namedEntity(type: string, id: string, name: string, platform: string): { type: string; id: string; name?: string; platform: string } {
  return id === name ? { type, id, platform } : { type, id, name, platform };
}

/** The job name of an event. */
export function jobNameOf(ev: NormalizedEvent): string | undefined {
  const named = ev.ml?.job?.name ?? ev.ml?.provenance?.pipeline;
  if (named) return named;
  const r = ev.resource;
  // Kubernetes kinds too (Argo `workflows`, `scheduledworkflows`, `pytorchjobs`); one created with generateName has no
  // name yet: its namespace still keeps one tenant's job apart from another's.
  // Katib `experiments` and `trials` are training jobs too.
  if (!r || !/job|pipeline|run|workflow|experiment|trial/i.test(r.type)) return undefined;
  return r.name ?? r.id ?? (r.namespace ? `${r.namespace}/${r.type}` : undefined);
}

/** The data source an ingestion/preprocessing event is about. */
export function sourceOf(ev: NormalizedEvent): string {
  const r = ev.resource;
  if (r && /dataset|feature|table|source|bucket|ingest/i.test(r.type) && (r.name ?? r.id)) return `${r.type}:${r.name ?? r.id}`;
  const uri = ev.ml?.data?.uris?.[0] ?? ev.ml?.data?.inputs?.[0] ?? ev.ml?.data?.outputs?.[0];
  if (uri) {
    const m = /^([a-z0-9+.-]+:\/\/[^/]+)/i.exec(uri);
    if (m) return m[1]!;
  }
  if (r) return `${r.type}:${r.name ?? r.id ?? ''}`;
  return `${ev.platform}:${ev.channel}`;
}

/** Data URIs an event reads. */
export function inputsOf(ev: NormalizedEvent): string[] {
  return [...(ev.ml?.data?.inputs ?? []), ...(ev.ml?.provenance?.inputs ?? []), ...(ev.ml?.data?.inputs ? [] : (ev.ml?.data?.uris ?? []))];
}

/** Data URIs an event writes. */
export function outputsOf(ev: NormalizedEvent): string[] {
  return [...(ev.ml?.data?.outputs ?? []), ...(ev.ml?.provenance?.outputs ?? [])];
}

/** Numeric-aware version comparison ('10' > '9'; 'v2' > 'v1'). */
export function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b, 'en', { numeric: true });
}

/** All key/values on an event that can carry evaluation evidence (metrics, tags, details.metadata). */
export function evidenceValues(ev: NormalizedEvent): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(ev.ml?.metrics ?? {})) out.push([k, v]);
  for (const [k, v] of Object.entries(tagsOf(ev))) out.push([k, v]);
  const meta = ev.details?.metadata ?? ev.details?.properties;
  if (meta && typeof meta === 'object') for (const [k, v] of Object.entries(meta as Record<string, unknown>)) out.push([k, v]);
  return out;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && !!x);

/**
 * Artifacts a model event names beyond its first (`ml.model.artifact_uri`): its other containers' (`artifact_uris`
 * after the first) and the further weights its containers load (`additional_artifact_uris`: SageMaker's
 * additionalModelDataSources, a package container's additionalS3DataSource), as written.
 */
export function extraArtifactsOf(ev: NormalizedEvent): string[] {
  const m = ev.ml?.model as Record<string, unknown> | undefined;
  return [...new Set([...strings(m?.artifact_uris).slice(1), ...strings(m?.additional_artifact_uris)])];
}

/**
 * The artifacts of a package's additional inference specifications an event adds (`additional_inference_artifact_uris`:
 * a Neo-compiled or optimized copy the registry keeps in the package): the version's artifacts too.
 */
export function inferenceArtifactsOf(ev: NormalizedEvent): string[] {
  return strings((ev.ml?.model as Record<string, unknown> | undefined)?.additional_inference_artifact_uris);
}

/** Container images an event names for a model (`ml.model.image`, `images`, `additional_images`), as written. */
export function imagesOf(ev: NormalizedEvent): string[] {
  const m = ev.ml?.model as Record<string, unknown> | undefined;
  return [...new Set([...strings(m?.image), ...strings(m?.images), ...strings(m?.additional_images)])];
}

/**
 * Container images an event says serve a model: a model's containers (`imagesOf`: SageMaker CreateModel, a
 * model package, an inference component, a Vertex UploadModel) and a deployment's (`ml.deployment.images`:
 * KServe InferenceService and ServingRuntime containers).
 */
export function servingImagesOf(ev: NormalizedEvent): string[] {
  return [...new Set([...imagesOf(ev), ...strings(ev.ml?.deployment?.images)])];
}

/** Image digests an event names (`sha256:…`): given apart (a package's `imageDigest`) or in the image reference. */
export function imageDigestsOf(ev: NormalizedEvent): string[] {
  const m = ev.ml?.model as Record<string, unknown> | undefined;
  const given = [...strings(m?.image_digests), ...strings(m?.additional_image_digests)].map((d) => d.toLowerCase());
  return [...new Set([...given, ...imagesOf(ev).flatMap((i) => strings(imageDigestOf(i)))])];
}


/**
 * The features a monitor finding reports over their thresholds, as the Vertex connector keeps Model Monitoring's
 * `featureAnomalies` (`details.features`: feature, deviation, threshold, exceeded), worded for an alert summary:
 * `age deviation 0.9 > threshold 0.7`. At most `max`, then how many more.
 *
 * @example
 * exceededFeatures({ features: [{ feature: 'age', deviation: 0.9, threshold: 0.7, exceeded: true }] }) // ['age deviation 0.9 > threshold 0.7']
 */
export function exceededFeatures(details: Record<string, unknown> | undefined, max = 5): string[] {
  const list = Array.isArray(details?.features) ? (details.features as unknown[]) : [];
  const over = list.filter((f): f is { feature?: unknown; deviation?: unknown; threshold?: unknown; exceeded?: unknown } => !!f && typeof f === 'object' && (f as { exceeded?: unknown }).exceeded !== false);
  const words = over.map((f) => `${String(f.feature ?? 'unknown')}${typeof f.deviation === 'number' ? ` deviation ${f.deviation}` : ''}${typeof f.threshold === 'number' ? ` > threshold ${f.threshold}` : ''}`);
  return words.length > max ? [...words.slice(0, max), `${words.length - max} more`] : words;
}

/** An object put back to an earlier version (`details.version_rollback` of an S3 object call): which version went or came back. */
export interface VersionRollback {
  removed_version?: string;
  restored_version?: string;
}

/**
 * `details.version_rollback` as the SageMaker connector writes it, or undefined. A DeleteObjects names a version per
 * object (`removed_versions`): `object` picks that object's.
 */
export function versionRollbackOf(ev: NormalizedEvent, object?: string): VersionRollback | undefined {
  const v = ev.details?.version_rollback;
  if (!v || typeof v !== 'object') return undefined;
  const { removed_version: removed, restored_version: restored, removed_versions: perObject } = v as Record<string, unknown>;
  if (perObject && typeof perObject === 'object') {
    const one = object === undefined ? undefined : (perObject as Record<string, unknown>)[object];
    return typeof one === 'string' ? { removed_version: one } : undefined;
  }
  const out: VersionRollback = { ...(typeof removed === 'string' ? { removed_version: removed } : {}), ...(typeof restored === 'string' ? { restored_version: restored } : {}) };
  return out.removed_version || out.restored_version ? out : undefined;
}

/** How a rollback reads in a summary: `version X removed (the previous one is current if X was)` / `earlier version Y copied back`. */
export function versionRollbackText(r: VersionRollback): string {
  return r.restored_version ? `earlier version ${r.restored_version} copied back over it` : `version ${r.removed_version} removed (if it was the current one, the version before it is current now)`;
}
