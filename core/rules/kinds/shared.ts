import type { NormalizedEvent } from '../../schema/index.js';
import { endpointKey, modelRefOf, parseMlflowModelUri, scopedName, serverScopeOf, versionKey, type ModelRef } from '../facts.js';
import type { VersionRec } from '../registry.js';
import { waited, type RuleContext } from './context.js';

/**
 * Helpers the model kinds share across their modules: which actions create a version and which versions an
 * event is about, and the bookkeeping of what waits (approvals for evidence, deployments for their config):
 * one sweep period and one way to forget, so both kinds age their waiting entries alike.
 */

export const CREATES = /^(model_version|model)\.(create|upload)$/;

/** The version(s) an event is about: the named one, else versions linked by artifact, hash or run. */
export function versionsOf(ev: NormalizedEvent, ctx: RuleContext): { named?: VersionRec; all: VersionRec[] } {
  const ref = modelRefOf(ev, ctx.cfg);
  if (!ref) return { all: [] };
  const { named, linked } = ctx.reg.resolve(ref);
  const all = [...(named ? [named] : []), ...linked.filter((l) => l.key !== named?.key)];
  // A create/upload without a number is a new version (Vertex UploadModel with parentModel), not the newest known one.
  if (!named && ref.name && !ref.version && !CREATES.test(ev.action)) {
    const latest = ctx.reg.versionsOf(ref.platform, ref.name, ref.scope).at(-1);
    if (latest) all.unshift(latest);
  }
  // Only a run id (a KFP metrics artifact): the versions registered from that run.
  const runId = ref.runId ?? ev.ml?.provenance?.run_id;
  if (!all.length && runId) all.push(...ctx.reg.versionsForRun(runId));
  return { named, all };
}

/**
 * A model reference as alert details show it (`details.deployed`), in snake_case like every other details key.
 * `mlflowServer` and `runId` are the rules' own field names that reached alerts before: kept beside `mlflow_server`
 * and `run_id` (deprecated, README) so SIEM searches on them keep working. The MLflow doubt is the alert's own keys
 * (`reason`, `mlflow_registry_uri`, `mlflow_env_unverifiable`), not repeated here; `hideServer` leaves out a server
 * that is no configured one (an unwatched registry's placeholder scope).
 */
export function deployedDetails(ref: ModelRef | undefined, hideServer = false): Record<string, unknown> | undefined {
  if (!ref) return undefined;
  // An improper URI's reason is the alert's `unresolved` (Registry.resolveModelUri), not repeated here either.
  const { mlflowDoubt: _doubt, improperUri: _improper, mlflowServer, runId, ...shown } = ref;
  const server = hideServer ? undefined : mlflowServer;
  return { ...shown, run_id: runId, mlflow_server: server, runId, mlflowServer: server };
}

/** A live stage deployment's id in rule state: the endpoint, in its platform and cluster (or account and region): one model URI per endpoint. */
export const stageWatchId = (ev: Pick<NormalizedEvent, 'platform' | 'cloud'>, ep: string) => `${ev.platform}|${endpointKey(ev, ep)}`;

/**
 * Whether a deployment's reference is resolved by the registry when its predictor starts, not when it was deployed: a
 * `models:/<name>/<stage>` or `/latest` URI, or a `models:/<name>@<alias>` one (MLflow serving looks the alias up at
 * load time; a Vertex `…/models/55@production` names the version it was deployed with, so it is not).
 */
export function resolvesAtLoad(ev: Pick<NormalizedEvent, 'ml'>, ref: ModelRef): boolean {
  if (ref.version || ref.improperUri) return false;
  if (ref.stage) return true;
  const uri = ev.ml?.deployment?.model_uri;
  const parsed = ref.alias && typeof uri === 'string' ? parseMlflowModelUri(uri) : undefined;
  return !!parsed && 'alias' in parsed && parsed.alias === ref.alias;
}

/** How a load-time reference is resolved, as alerts say it (`details.resolved_from`): `latest`, `stage:<stage>` or `alias:<alias>`. */
export const resolvedFrom = (ref: ModelRef): string => (ref.stage ? (ref.stage.toLowerCase() === 'latest' ? 'latest' : `stage:${ref.stage}`) : `alias:${ref.alias}`);

/** `models:/<name>/<stage>` or `models:/<name>@<alias>`, as a load-time reference is written (under `name`). */
export const loadTimeUri = (ref: ModelRef, name = ref.name): string => (ref.stage ? `models:/${name}/${ref.stage}` : `models:/${name}@${ref.alias}`);

/** Whether a registry event may move an alias (set or deleted, or set by an approval or update that lists it). */
export const movesAlias = (ev: NormalizedEvent): boolean =>
  ev.outcome !== 'failure' && /^model_version\./.test(ev.action) && (/^model_version\.alias_(set|delete)$/.test(ev.action) || !!ev.ml?.model?.aliases?.length);

/** How often (event time) the waiting deployments and approvals are looked over. */
export const SWEEP_EVERY_MS = 600_000;

/** Forget a waiting entry (`<ns>|<id>`: a deployment, a live deployment of a stage URI (judged, or followed for rollbacks), an approval, a session's approvals, a batch job, a compiled copy) and its place in `<ns>-index`. */
export function dropWaiting(ctx: RuleContext, ns: 'pending' | 'stagewait' | 'stageserve' | 'advwait' | 'sessapp' | 'batchwait' | 'copywait' | 'qualwait', id: string): void {
  ctx.delete(`${ns}|${id}`);
  const open = ctx.get<string[]>(`${ns}-index`);
  if (open?.includes(id)) ctx.set(`${ns}-index`, open.filter((x) => x !== id));
}

/**
 * Every SWEEP_EVERY_MS of the rule's clock (and on a quiet bridge's tick): each entry of the `ns` waiting list that has
 * waited `waitMs` (event time and receipt time both) is settled; an index entry whose record is gone is dropped.
 *
 * @example
 * sweepWaiting<PendingApproval>(ctx, 'advwait', ADV_GRACE_MS, (id, p) => settleApproval(ctx, id, p));
 */
export function sweepWaiting<T extends { at: number; rcv?: number }>(ctx: RuleContext, ns: 'advwait' | 'batchwait' | 'qualwait', waitMs: number, settle: (id: string, w: T) => void): void {
  const t = ctx.clock();
  if (!(t - (ctx.get<number>(`${ns}-swept`) ?? 0) >= SWEEP_EVERY_MS)) return;
  ctx.set(`${ns}-swept`, t);
  for (const id of ctx.get<string[]>(`${ns}-index`) ?? []) {
    const w = ctx.get<T>(`${ns}|${id}`);
    if (!w) dropWaiting(ctx, ns, id);
    else if (waited(ctx, w, waitMs)) settle(id, w);
  }
}

/** Whether a registry event (a rename, a model deleted) is of the registry a watched `models:/…` reference loads from. */
export const sameRegistry = (ref: ModelRef, ev: NormalizedEvent): boolean => ev.platform === 'mlflow' && (ref.mlflowServer ?? undefined) === serverScopeOf(ev);

/** A registered model renamed (the MLflow auditor's `registered_model.rename`): its old and new name, else undefined. */
export function renameOf(ev: NormalizedEvent): { from: string; to: string } | undefined {
  if (ev.action !== 'registered_model.rename' || ev.outcome === 'failure') return undefined;
  const { old_name: from, new_name: to } = (ev.details ?? {}) as { old_name?: unknown; new_name?: unknown };
  return typeof from === 'string' && typeof to === 'string' && from !== to ? { from, to } : undefined;
}

/**
 * A model renamed (`from` → `to`, in one server: scope): move the rule state a kind keeps under the old name's keys
 * (`keyOf(name, part)`, one per part: a version number, an alias) to the new name's. Renames of a swap arrive one by
 * one, as the registry's records do (Registry.renameModel): what the new name held is set aside (`sw|`), and the
 * model as a whole is marked set aside (`swm|`) — also where it had no state of this kind — so that the rename that
 * takes it on moves that and not what took its name. Returns whether the state moved was the one set aside.
 */
export function renameModelState(
  ctx: RuleContext, ns: string, ev: { platform: string; scope: string | undefined; from: string; to: string }, parts: Iterable<string>, keyOf: (name: string, part: string) => string,
): boolean {
  const marker = (name: string) => `swm|${ns}|${ev.platform}|${scopedName(name, ev.scope)}`;
  const fromStashed = ctx.get<boolean>(marker(ev.from)) === true;
  const all = [...new Set(parts)];
  const displacedModel = ctx.reg.versionsOf(ev.platform, ev.to, ev.scope).length > 0 || all.some((p) => ctx.get<unknown>(keyOf(ev.to, p)) !== undefined);
  for (const part of all) {
    const from = keyOf(ev.from, part);
    const to = keyOf(ev.to, part);
    const source = fromStashed ? `sw|${from}` : from;
    const moving = ctx.get<unknown>(source);
    ctx.delete(source);
    const displaced = ctx.get<unknown>(to);
    if (displacedModel && displaced !== undefined) ctx.set(`sw|${to}`, displaced);
    if (moving !== undefined) ctx.set(to, moving);
    else ctx.delete(to);
  }
  if (fromStashed) ctx.delete(marker(ev.from));
  if (displacedModel) ctx.set(marker(ev.to), true);
  return fromStashed;
}

/** Where a kind lists the version numbers it keeps `<prefix>|<versionKey>` state for, per model name. */
const versionsKeptKey = (prefix: string, platform: string, name: string, scope: string | undefined) => `${prefix}-versions|${platform}|${scopedName(name, scope)}`;

/** Note that a kind keeps state under `<prefix>|<versionKey>` for a version, so that a rename of its model moves it. */
export function noteVersionState(ctx: RuleContext, prefix: string, v: Pick<VersionRec, 'key' | 'platform' | 'name' | 'version' | 'scope'>): void {
  if (v.key === versionKey(v.platform, v.name, v.version, v.scope)) listVersionState(ctx, prefix, v.platform, v.name, v.version, v.scope);
}

/** Note a version number a kind keeps state for under its model's name `listName` (renameVersionState's). */
export function listVersionState(ctx: RuleContext, prefix: string, platform: string, listName: string, version: string, scope: string | undefined): void {
  const k = versionsKeptKey(prefix, platform, listName, scope);
  const kept = ctx.get<string[]>(k) ?? [];
  if (!kept.includes(version)) ctx.set(k, [...kept, version].slice(-MAX_VERSIONS_KEPT));
}
const MAX_VERSIONS_KEPT = 500;

/**
 * A model renamed: the state a kind keeps per version of it (`<prefix>|<versionKey>`, listed by noteVersionState; or
 * under `keyOf(name, version)`, listed under `listName(name)` by listVersionState) follows it to the new name
 * (renameModelState), and the list with it. Returns whether it was the state set aside.
 */
export function renameVersionState(
  ctx: RuleContext, prefix: string, platform: string, from: string, to: string, scope: string | undefined,
  keyOf: (name: string, version: string) => string = (name, n) => `${prefix}|${versionKey(platform, name, n, scope)}`,
  listName: (name: string) => string = (name) => name,
): boolean {
  const list = (name: string) => versionsKeptKey(prefix, platform, listName(name), scope);
  const stashed = ctx.get<string[]>(`sw|${list(from)}`);
  const numbers = [...(stashed ?? ctx.get<string[]>(list(from)) ?? []), ...(ctx.get<string[]>(list(to)) ?? [])];
  // The list itself is the part '' (one key per name).
  return renameModelState(ctx, prefix, { platform, scope, from, to }, ['', ...numbers], (name, n) => (n ? keyOf(name, n) : list(name)));
}

/** The strings of a `details` list (anything else in it, or a value that is no list: none). */
export const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : []);
