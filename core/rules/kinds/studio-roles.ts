import type { NormalizedEvent } from '../../schema/index.js';
import { identityOf, scopeOf, scopedName } from '../facts.js';
import type { RuleContext } from './context.js';

/**
 * Which SageMaker Studio user profile an execution role is the own role of, learned from the writes that give roles
 * out and take them back. Two rules read it (each keeps its own copy, under its own state): a multi-model prefix
 * written by the creating profile's `SageMaker` session (registry.unapproved_deployment) and an approval made in a
 * dedicated approver profile's role (evaluation.self_approval).
 */

/** What is known of Studio execution roles and the roles notebook instances run as (ARNs in lower case). */
export interface StudioRoles {
  /** `<account>:<region>:<domain>/<profile>` → the profile's own execution role. */
  profiles: Record<string, string>;
  /** `<account>:<region>:<domain>` → its default user and space roles, the last MAX_DOMAIN_DEFAULTS set. */
  domains: Record<string, string[]>;
  /** Domains that set more default roles than are kept: how many were dropped (an old default may still be a profile's). */
  evicted?: Record<string, number>;
  /** `<account>:<region>:<instance>` → the role a notebook instance runs as (its sessions are `SageMaker` too). */
  notebooks?: Record<string, string>;
  /**
   * Profile (or domain) keys deleted: when, and the role the profile had. A prefix a profile made before is no longer
   * its, even if a profile of that name is made again (maybe for someone else).
   */
  deleted?: Record<string, { at: string; role?: string }>;
  /**
   * `<account>:<region>:<domain>/<profile>` → who gave the profile its role (the Create/UpdateUserProfile caller): a
   * profile its own user made is no one else's review of what that user trained.
   */
  makers?: Record<string, string>;
}

export const STUDIO_KEY = 'studio-roles';
/** User profiles, notebook instances and deletions kept (the oldest forgotten beyond it). */
const MAX_PROFILES = 2000;
/**
 * Default roles kept per domain. A domain has two defaults at a time; older ones are kept because profiles made while
 * they were the default may still run as them. Ten changes is years of a domain's life; past it, the domain is marked
 * (`evicted`) and no role of it is any profile's own (fail closed: an evicted default may be every user's role).
 */
export const MAX_DOMAIN_DEFAULTS = 10;

function bound(map: Record<string, unknown>): void {
  const keys = Object.keys(map);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_PROFILES))) delete map[k];
}

const lower = (x: unknown) => (typeof x === 'string' && x ? x.toLowerCase() : undefined);

/**
 * Learns from one event: a domain's default roles and a user profile's own role (`details.studio_execution_roles`), a
 * notebook instance's role (Create/UpdateNotebookInstance `details.role_arn`; DeleteNotebookInstance forgets it), and
 * deletions (`details.studio_deleted`: a user profile forgotten and marked deleted; a domain's defaults and profiles
 * too; a space has no role of its own). Failed calls teach nothing. Returns whether the event was one of these.
 */
export function learnStudioRoles(ev: NormalizedEvent, ctx: RuleContext): boolean {
  if (ev.outcome === 'failure') return false;
  const d = ev.details ?? {};
  const r = d.studio_execution_roles as Record<string, unknown> | undefined;
  const gone = d.studio_deleted as Record<string, unknown> | undefined;
  const notebook = ev.resource?.type === 'notebook_instance' && /^notebook\.(create|update|delete)$/.test(ev.action) && ev.resource.name ? ev.resource.name : undefined;
  if (!r && !gone && !(notebook && (ev.action === 'notebook.delete' || typeof d.role_arn === 'string'))) return false;
  const scope = scopeOf(ev);
  const known = ctx.get<StudioRoles>(STUDIO_KEY) ?? { profiles: {}, domains: {} };
  if (notebook) {
    const notebooks = { ...(known.notebooks ?? {}) };
    const key = scopedName(notebook, scope);
    delete notebooks[key];
    if (ev.action !== 'notebook.delete' && typeof d.role_arn === 'string') notebooks[key] = d.role_arn.toLowerCase();
    bound(notebooks);
    known.notebooks = notebooks;
  }
  if (r && typeof r.domain_id === 'string') {
    const domain = scopedName(r.domain_id, scope);
    const defaults = [lower(r.default_user_role), lower(r.default_space_role)].filter((x): x is string => !!x);
    // An UpdateDomain naming one default leaves the other as it was.
    if (defaults.length) {
      const all = [...new Set([...(known.domains[domain] ?? []).filter((x) => !defaults.includes(x)), ...defaults])];
      const dropped = Math.max(0, all.length - MAX_DOMAIN_DEFAULTS);
      if (dropped) known.evicted = { ...(known.evicted ?? {}), [domain]: (known.evicted?.[domain] ?? 0) + dropped };
      known.domains[domain] = all.slice(-MAX_DOMAIN_DEFAULTS);
    }
    const profileRole = lower(r.user_profile_role);
    if (profileRole && typeof r.user_profile === 'string') {
      const key = `${domain}/${r.user_profile}`;
      delete known.profiles[key];
      known.profiles[key] = profileRole;
      bound(known.profiles);
      const makers = { ...(known.makers ?? {}) };
      delete makers[key];
      const maker = identityOf(ev.actor, ctx.cfg);
      if (maker) makers[key] = maker;
      bound(makers);
      known.makers = makers;
    }
  }
  if (gone && typeof gone.domain_id === 'string') {
    const domain = scopedName(gone.domain_id, scope);
    const deleted = { ...(known.deleted ?? {}) };
    if (typeof gone.user_profile === 'string') {
      const key = `${domain}/${gone.user_profile}`;
      const role = known.profiles[key];
      delete known.profiles[key];
      if (known.makers) delete known.makers[key];
      delete deleted[key];
      deleted[key] = { at: ev.time, ...(role ? { role } : {}) };
    } else if (!gone.space) {
      // DeleteDomain: AWS refuses it while profiles remain, but their deletions may not have been read.
      for (const key of Object.keys(known.profiles).filter((k) => k.startsWith(`${domain}/`))) {
        const role = known.profiles[key];
        delete known.profiles[key];
        if (known.makers) delete known.makers[key];
        delete deleted[key];
        deleted[key] = { at: ev.time, ...(role ? { role } : {}) };
      }
      delete known.domains[domain];
      if (known.evicted) delete known.evicted[domain];
      delete deleted[domain];
      deleted[domain] = { at: ev.time };
    }
    bound(deleted);
    known.deleted = deleted;
  }
  ctx.set(STUDIO_KEY, known);
  return true;
}

/** Why a role is no user profile's own, as alerts say it (`details.studio_role_owner_unknown`). */
export type UnownedWhy = 'no_studio_writes_seen' | 'domain_default' | 'notebook_instance' | 'several_profiles' | 'no_profile' | 'domain_unseen' | 'domain_defaults_evicted' | 'profile_deleted';

/**
 * The user profile a Studio execution role is the own role of (`<account>:<region>:<domain>/<profile>`), so that its
 * `SageMaker` sessions, which name no person, are that profile's: exactly one profile seen having it, its domain's
 * defaults seen (CreateDomain / UpdateDomain: a domain whose default user or space role is unknown may give it to
 * everyone) and all still kept, naming it for no domain, and no notebook instance seen running as it (a notebook
 * instance's sessions are `SageMaker` sessions of the role too). With `since`, a profile deleted after that time is
 * not the owner, even if made again under the same name (another person's, maybe). Otherwise why not.
 */
export function studioRoleOwnership(role: string, ctx: RuleContext, since?: string): { owner?: string; why?: UnownedWhy } {
  const known = ctx.get<StudioRoles>(STUDIO_KEY);
  if (!known) return { why: 'no_studio_writes_seen' };
  const r = role.toLowerCase();
  if (Object.values(known.domains).some((d) => d.includes(r))) return { why: 'domain_default' };
  if (Object.values(known.notebooks ?? {}).includes(r)) return { why: 'notebook_instance' };
  const owners = Object.entries(known.profiles).filter(([, x]) => x === r).map(([p]) => p);
  if (owners.length > 1) return { why: 'several_profiles' };
  const owner = owners[0];
  if (!owner) return { why: Object.values(known.deleted ?? {}).some((x) => x.role === r) ? 'profile_deleted' : 'no_profile' };
  const domain = owner.slice(0, owner.lastIndexOf('/'));
  if (!known.domains[domain]) return { why: 'domain_unseen' };
  if (known.evicted?.[domain]) return { why: 'domain_defaults_evicted' };
  const deletedAt = known.deleted?.[owner]?.at;
  if (since && deletedAt && Date.parse(deletedAt) >= Date.parse(since)) return { why: 'profile_deleted' };
  return { owner };
}

/** Who gave a user profile (`<account>:<region>:<domain>/<profile>`) its role, if seen. */
export function studioProfileMaker(owner: string, ctx: RuleContext): string | undefined {
  return ctx.get<StudioRoles>(STUDIO_KEY)?.makers?.[owner];
}
