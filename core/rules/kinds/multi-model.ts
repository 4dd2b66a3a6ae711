import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, deployedModelNames, identityOf, isCarriedOut, namedEntity, scopeOf, scopedName, UNIDENTIFIED } from '../facts.js';
import { setting, type KindImpl, type RuleContext } from './context.js';
import { approvalVerdict } from './served.js';
import { learnStudioRoles, studioRoleOwnership } from './studio-roles.js';

/**
 * A SageMaker multi-model endpoint (a Model whose container has `Mode: MultiModel`) serves every object under its
 * `ModelDataUrl` prefix: `InvokeEndpoint` with `TargetModel: x.tar.gz` loads `<prefix>x.tar.gz` on first call. An S3
 * write under the prefix is therefore a new deployable model that passed no registry step and no deploy call.
 * The deploy pipeline writes there too (the approved versions it copies in), so a write is a finding only when it is
 * not the pipeline's: a copy of an approved version's artifact passes, and so does a write by `mme_writers` (identity
 * or principal ARN globs) or, with none listed, by the principal that created the Model (the same IAM role, any
 * session; else the same identity). A role whose sessions are people (an Identity Center permission-set role
 * `AWSReservedSSO_*`, a Studio execution role `AmazonSageMaker-ExecutionRole-*`, or a creating session that is a
 * person's: a console or MFA session, an email as session name) is shared by every user of it: there only the creating
 * person is trusted (see sharedByPeople).
 */

/** A multi-model Model's prefix, as its CreateModel said it. */
interface MmePrefix {
  prefix: string;
  model: string;
  /** `<account>:<region>` of the Model. */
  scope?: string;
  /** The principal that created it: its role (`session_issuer`) when an assumed role, else its identity. */
  creator?: string;
  creatorShown?: string;
  /**
   * The creator's role is shared by people (sharedByPeople): only writes of the same role by `creatorPerson` are the
   * creator's; with no person known (a Studio `SageMaker` session with no source identity), none are.
   */
  creatorShared?: boolean;
  creatorPerson?: string;
  /**
   * A Studio role's creating `SageMaker` session with no person in it, the role being one user profile's own
   * (studioRoleOwnership, `<account>:<region>:<domain>/<profile>`): the same role's Studio sessions are that profile's
   * while it still is.
   */
  creatorProfile?: string;
  /** When the Model was created: a creator profile deleted after it no longer vouches for writes (studioRoleOwnership). */
  creatorProfileAt?: string;
  event: string;
  /** An endpoint config was seen naming the Model: an endpoint may serve the prefix, whatever becomes of the Model. */
  served?: boolean;
  /** When a DeleteModel was seen for a served Model: the endpoint keeps loading from the prefix (DeleteModel leaves it). */
  deleted?: string;
}

/** Prefixes kept at once (oldest forgotten beyond it). */
const MAX_PREFIXES = 500;
const KEY = 'mme-prefixes';

/** Whose write it is: the IAM role behind an assumed-role session (all its sessions are one principal), else the identity. */
function principalOf(ev: NormalizedEvent, ctx: RuleContext): string | undefined {
  const issuer = (ev.actor as { session_issuer?: unknown } | undefined)?.session_issuer;
  if (typeof issuer === 'string' && issuer) return issuer.toLowerCase();
  return identityOf(ev.actor, ctx.cfg) ?? ev.actor?.id;
}

const ROLE_NAME = /:role\/(?:.*\/)?([^/]+)$/;
const SESSION_NAME = /:assumed-role\/[^/]+\/(.+)$/;
/** Role names whose sessions are people: Identity Center permission sets, SageMaker Studio's default execution roles. */
const PEOPLE_ROLE = /^(AWSReservedSSO_|AmazonSageMaker-ExecutionRole-)/i;
const EMAIL = /^[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+$/;

/**
 * Whether the role behind a session is one people share, so that "any session of the creating role" would trust
 * every user of it: an Identity Center permission-set role (`AWSReservedSSO_<set>_<id>`, under
 * `aws-reserved/sso.amazonaws.com/`: one per permission set, every user assigned it), a SageMaker Studio execution
 * role (`AmazonSageMaker-ExecutionRole-*`, the one Studio makes for a domain: every user profile's apps call as it),
 * or a session that is itself a person's (a console or MFA-authenticated session, the connector's `user` type; an
 * email as session name, as SAML federation names them). A role whose sessions are tool-made (`botocore-session-…`,
 * `GitHubActions`, a CI build id) is a pipeline's and is not.
 */
function sharedByPeople(ev: NormalizedEvent): boolean {
  const issuer = (ev.actor as { session_issuer?: unknown } | undefined)?.session_issuer;
  if (typeof issuer !== 'string' || !issuer) return false;
  const role = ROLE_NAME.exec(issuer)?.[1] ?? '';
  if (PEOPLE_ROLE.test(role) || /:role\/aws-reserved\/sso\.amazonaws\.com\//i.test(issuer)) return true;
  if (ev.actor?.type === 'user') return true;
  const session = [ev.actor?.id, ev.actor?.name].map((x) => (x ? SESSION_NAME.exec(x)?.[1] : undefined)).find(Boolean);
  return !!session && EMAIL.test(session);
}

/**
 * The person behind a session of a role people share, as identityOf reads it (a source identity, the Identity Center
 * user a Studio session was made for, a person's session name); undefined when it names only the role's machine
 * session (`role:<role>/sagemaker`: every Studio user of a domain without source identities is that one session).
 */
function personOf(ev: NormalizedEvent, ctx: RuleContext): string | undefined {
  const id = identityOf(ev.actor, ctx.cfg);
  return id && !id.startsWith('role:') ? id : undefined;
}

/** Whether a session is a SageMaker Studio app's (`…:assumed-role/<role>/SageMaker`, no person in it). */
function studioSession(ev: NormalizedEvent, ctx: RuleContext): boolean {
  return !personOf(ev, ctx) && [ev.actor?.id, ev.actor?.name].some((x) => !!x && SESSION_NAME.exec(x)?.[1] === 'SageMaker');
}

/**
 * Keep at most MAX_PREFIXES: the oldest a no endpoint config was seen naming go first, so a flood of CreateModel calls
 * (free, no endpoint needed) cannot push out the prefix a live endpoint loads from.
 */
function bounded(list: MmePrefix[]): MmePrefix[] {
  const out = [...list];
  while (out.length > MAX_PREFIXES) {
    const i = out.findIndex((p) => !p.served);
    out.splice(i >= 0 ? i : 0, 1);
  }
  return out;
}

/**
 * Remember the prefixes of a multi-model Model made, mark those an endpoint config names as served, and forget them
 * when the Model is deleted, unless served: DeleteModel removes only the Model's record, an endpoint already made
 * from it goes on loading TargetModels from the prefix (so a delete would otherwise blind the rule).
 */
function remember(ev: NormalizedEvent, ctx: RuleContext): void {
  const scope = scopeOf(ev);
  const list = ctx.get<MmePrefix[]>(KEY) ?? [];
  if (ev.action === 'endpoint_config.create') {
    const models = deployedModelNames(ev);
    if (!list.some((p) => !p.served && p.scope === scope && models.includes(p.model))) return;
    ctx.set(KEY, list.map((p) => (p.scope === scope && models.includes(p.model) ? { ...p, served: true } : p)));
    return;
  }
  const name = ev.ml?.model?.name ?? ev.resource?.name;
  if (!name) return;
  const mine = (p: MmePrefix) => p.model === name && p.scope === scope;
  const others = list.filter((p) => !mine(p));
  if (ev.action === 'model.delete') {
    const kept = list.flatMap((p) => (!mine(p) ? [p] : p.served ? [{ ...p, deleted: p.deleted ?? ev.time }] : []));
    if (kept.length !== list.length || kept.some((p, i) => p !== list[i])) ctx.set(KEY, kept);
    return;
  }
  const prefixes = (ev.ml?.model as { multi_model_prefixes?: unknown } | undefined)?.multi_model_prefixes;
  if (!Array.isArray(prefixes) || !prefixes.length) return;
  const creator = principalOf(ev, ctx);
  const person = sharedByPeople(ev) ? personOf(ev, ctx) : undefined;
  const profile = sharedByPeople(ev) && !person && creator && studioSession(ev, ctx) ? studioRoleOwnership(creator, ctx).owner : undefined;
  const shared = sharedByPeople(ev) ? { creatorShared: true, creatorPerson: person, ...(profile ? { creatorProfile: profile, creatorProfileAt: ev.time } : {}) } : {};
  const added: MmePrefix[] = prefixes.filter((p): p is string => typeof p === 'string' && p.startsWith('s3://')).map((prefix) => ({ prefix, model: name, scope, creator, creatorShown: identityOf(ev.actor, ctx.cfg), ...shared, event: ev.id }));
  ctx.set(KEY, bounded([...others, ...added]));
}

/** The S3 objects a write event makes (its resource, else the data it names as output). */
function writtenObjects(ev: NormalizedEvent): string[] {
  const out = ev.ml?.data?.outputs ?? (ev.resource?.uri ? [ev.resource.uri] : ev.ml?.data?.uris ?? []);
  return [...new Set(out.filter((u) => typeof u === 'string' && u.startsWith('s3://')))];
}

/**
 * registry.unapproved_deployment, multi-model part: remembers multi-model Models' prefixes (`ml.model.multi_model_prefixes`,
 * forgotten on DeleteModel) and judges S3 writes and copies (`data_object.write` / `data_object.copy`) landing under one.
 */
export const multiModelWrite: KindImpl = (ev, ctx) => {
  if (!isCarriedOut(ev) || ev.platform !== 'sagemaker') return;
  if (ev.action === 'model.create' || ev.action === 'model.delete' || ev.action === 'endpoint_config.create') return remember(ev, ctx);
  if (learnStudioRoles(ev, ctx)) return;
  if (ev.action !== 'data_object.write' && ev.action !== 'data_object.copy') return;
  const list = ctx.get<MmePrefix[]>(KEY);
  if (!list?.length) return;
  const objects = writtenObjects(ev);
  const writer = principalOf(ev, ctx);
  const shown = identityOf(ev.actor, ctx.cfg);
  const allowed = setting<string[]>(ctx, 'mme_writers') ?? [];
  const person = personOf(ev, ctx);
  // A copy of an approved version's artifact is the pipeline putting that version on the endpoint; a copy of a
  // rejected one's is rejected weights made servable, whoever copies (the pipeline's role and mme_writers included).
  const source = ev.action === 'data_object.copy' ? ev.ml?.data?.inputs?.[0] : undefined;
  const verdict = source ? approvalVerdict(ctx, { platform: ev.platform, artifact: source }, [], ev.platform) : undefined;
  if (verdict?.approved.length) return;
  const rejected = verdict?.rejected;
  const byListed = allowed.length > 0 && [shown, ev.actor?.id, writer].some((w) => !!w && anyGlob(allowed, w));
  if (byListed && !rejected) return;
  for (const object of objects) {
    for (const p of list.filter((x) => object.startsWith(x.prefix) && object !== x.prefix)) {
      // With no writers listed, the Model's creator (its role) is the deploy pipeline; a role people share is the
      // creating person's only (another user of the SSO or Studio role is someone else).
      const sameRole = !!p.creator && writer === p.creator;
      // A Studio role one user profile has as its own: its `SageMaker` sessions are that profile's while it still is.
      const studioWrite = sameRole && !p.creatorPerson && studioSession(ev, ctx);
      const ownership = studioWrite && p.creatorShared ? studioRoleOwnership(writer!, ctx, p.creatorProfileAt) : undefined;
      const ownProfile = studioWrite && !!p.creatorProfile && ownership?.owner === p.creatorProfile;
      const creators = sameRole && (!p.creatorShared || (!!p.creatorPerson && person === p.creatorPerson) || ownProfile);
      if (!rejected && !allowed.length && creators) continue;
      const entity = namedEntity('model', scopedName(p.model, p.scope), p.model, ev.platform);
      ctx.detect({
        entity, key: `mme|${object}`, evidence: [p.event, ev.id], title: 'Model written under a multi-model endpoint prefix',
        summary: `${shown ?? UNIDENTIFIED} wrote ${object} (${ev.operation}) under ${p.prefix}, the model data prefix of multi-model Model ${p.model}: InvokeEndpoint can load it as a TargetModel with no registry approval${source ? ` (copied from ${source}, ${rejected ? `rejected ${rejected.name} v${rejected.version}'s artifact` : 'which no approved version has'})` : ''}${p.deleted ? ` (the Model was deleted at ${p.deleted}; an endpoint made from it still loads from the prefix)` : ''}${sameRole && p.creatorShared && !allowed.length ? ` (with the role that created the Model, ${p.creatorShown ?? UNIDENTIFIED}'s, which people share: only its creator is trusted)` : ''}`,
        details: { reason: 'multi_model_write', model: p.model, prefix: p.prefix, object, operation: ev.operation, writer: shown, writer_principal: writer, model_created_by: p.creatorShown, ...(sameRole && p.creatorShared && !allowed.length ? { creator_role_shared: true } : {}), ...(ownership?.why && !allowed.length ? { studio_role_owner_unknown: ownership.why } : {}), ...(source ? { copied_from: source } : {}), ...(rejected ? { copied_from_rejected: `${rejected.name}/${rejected.version}` } : {}), ...(p.deleted ? { model_deleted: true } : {}) },
      });
    }
  }
};
