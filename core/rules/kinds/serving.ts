import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, approvalOf, callerText, currentStageOf, isAutoDeployment, isCarriedOut, compareVersions, deploymentConfigOf, endpointOf, eventScope, exceededFeatures, identityOf, imagesOf, isDeployment, mlflowRegistryName, type ModelRef, modelRefOf, scopeOf, scopedName, serverScopeOf, UNIDENTIFIED, uriOverlap } from '../facts.js';
import { imageDigestOf } from '../../integrity/image.js';
import { SKEW_PATTERN } from '../defaults.js';
import { endpointEntity, setting, versionEntity, waited, waitStart, type KindImpl, type RuleContext } from './context.js';
import { isAgentDeployment, judgeAgentDeployment } from './agent.js';
import { approvalVerdict, servedParts } from './served.js';
import { CREATES, deployedDetails, dropWaiting, loadTimeUri, movesAlias, renameOf, resolvedFrom, resolvesAtLoad, sameRegistry, stageWatchId, SWEEP_EVERY_MS } from './shared.js';
import { followStageDeployment } from './stage-rollback.js';
import { FollowerFindings } from './followers.js';
import { runtimeSourceDetails } from './serving-runtime.js';

/**
 * Kinds that judge what an endpoint serves and how it behaves: a deployment of a model never approved (or
 * another artifact than the approved one), a rollback to an older version, and drift that monitors report.
 * A deployment naming a config not seen yet waits for it, since cloud audit logs arrive out of order.
 */

export const unapprovedDeployment: KindImpl = (ev, ctx) => {
  // A tuned model the service put on an endpoint by itself: judged only when asked (every tuning job does it).
  if (!isDeployment(ev) && !(isAutoDeployment(ev) && setting<boolean>(ctx, 'auto_deployments'))) return;
  // An inference component's update names only the component: the endpoint it was created on, else the component.
  const component = ev.resource?.type === 'inference_component' ? (ev.resource.name ?? ev.resource.id) : undefined;
  // SageMaker names (endpoint, config, Model, component, experiment) are unique in one account and region, KServe's in one cluster: looked up there.
  const scope = scopeOf(ev);
  const experiment = experimentOf(ev, ctx, scope);
  const ep = endpointOf(ev) ?? experiment?.endpoint ?? (component ? (ctx.reg.componentEndpoint(ev.platform, component, scope) ?? `inference-component/${component}`) : undefined);
  if (!ep || !anyGlob(setting(ctx, 'endpoints'), ep)) return;
  // An agent runtime serves code, not a registered version: judged by where the code comes from.
  if (isAgentDeployment(ev)) return judgeAgentDeployment(ev, ctx, ep);
  const direct = modelRefOf(ev, ctx.cfg);
  if (direct) keepStageWatch(ev, ctx, ep, direct);
  const ref = direct ?? ctx.reg.configRef(ev);
  const models = [...new Set([...ctx.reg.deployedModels(ev), ...(experiment?.promoted ?? [])])];
  if (!ref && !models.length) {
    // An endpoint config not seen yet (CloudTrail delivers out of order, the same second in either order):
    // judged once it and its models have arrived (judgePendingDeployments). Else nothing is named: a traffic
    // shift between models already judged.
    const cfgName = deploymentConfigOf(ev);
    if (cfgName && !ctx.reg.endpointConfig(ev.platform, cfgName, scope)) {
      const kept = { id: ev.id, time: ev.time, platform: ev.platform, actor: ev.actor, cloud: ev.cloud, resource: ev.resource, action: ev.action, ml: { deployment: ev.ml?.deployment } };
      const k = `${ev.platform}|${scopedName(cfgName, scope)}`;
      ctx.set(`pending|${k}`, { ep, ...waitStart(ev, ctx), event: kept } satisfies PendingDeploy);
      const open = ctx.get<string[]>('pending-index') ?? [];
      if (!open.includes(k)) {
        const next = [...open, k];
        ctx.set('pending-index', next.slice(-MAX_PENDING_DEPLOYS));
        // Past the bound the oldest leaves the index, which the sweep reads: judged now if its config has come,
        // else forgotten. Left in rule state, a row whose config never came stayed there for good.
        for (const old of next.slice(0, -MAX_PENDING_DEPLOYS)) pushOutPending(ctx, old);
      }
    }
    return;
  }
  judgeAll(ev, ctx, ep, direct, ref, models);
};

/** What a SageMaker inference experiment put on which endpoint, kept from its Create/Update for its Update/Stop. */
interface ExperimentRec {
  endpoint?: string;
  /** Variant name → the model it runs. */
  variants: Record<string, string>;
}

/**
 * A SageMaker inference experiment's endpoint and the models a StopInferenceExperiment promotes: its Update
 * and Stop name only the experiment (and Stop the promoted variants, `details.promoted_variants`), its Create
 * the endpoint and each variant's model. Remembered here from the calls that name them.
 */
function experimentOf(ev: NormalizedEvent, ctx: RuleContext, scope: string | undefined): { endpoint: string; promoted: string[] } | undefined {
  const name = ev.resource?.type === 'inference_experiment' ? (ev.resource.name ?? ev.resource.id) : undefined;
  if (!name) return undefined;
  const key = `experiment|${ev.platform}|${scopedName(name, scope)}`;
  const rec = ctx.get<ExperimentRec>(key) ?? { variants: {} };
  rec.endpoint = endpointOf(ev) ?? rec.endpoint;
  const variants = ev.ml?.deployment?.variants;
  for (const v of Array.isArray(variants) ? (variants as Array<{ name?: unknown; model?: unknown } | null>) : []) if (typeof v?.name === 'string' && typeof v.model === 'string') rec.variants[v.name] = v.model;
  ctx.set(key, rec);
  const promotedNames = Array.isArray(ev.details?.promoted_variants) ? (ev.details.promoted_variants as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const promoted = promotedNames.map((v) => rec.variants[v]).filter((m): m is string => !!m);
  return { endpoint: rec.endpoint ?? `inference-experiment/${name}`, promoted };
}

/** A deployment kept until its endpoint config and models arrive. */
interface PendingDeploy {
  ep: string;
  at: number;
  /** Receipt of the deployment (ms). */
  rcv?: number;
  event: Pick<NormalizedEvent, 'id' | 'time' | 'platform' | 'actor' | 'cloud' | 'resource' | 'action' | 'ml'>;
}
/** How long a deployment waits for the config and models it names. */
const PENDING_DEPLOY_MS = 86_400_000;
/** A deployment whose config has come waits this long for models never seen, then is judged without them. */
const PENDING_MODELS_MS = 3_600_000;
/** Deployments waiting at once (the oldest beyond it are no longer swept). */
const MAX_PENDING_DEPLOYS = 1000;

/**
 * After the registry took in an endpoint config or a model resource: the deployments that named it before it
 * arrived are judged now that everything they name is known (raised on arrival, as a late approval is).
 */
export const judgePendingDeployments: KindImpl = (ev, ctx) => {
  sweepPendingDeployments(ev, ctx);
  if (ev.outcome === 'failure') return;
  judgeStageWatches(ev, ctx);
  // Configs and Models are names of the account and region they were created in: they complete deployments made there.
  const scope = scopeOf(ev);
  const configs: string[] = [];
  if (ev.action === 'endpoint_config.create') {
    const name = deploymentConfigOf(ev) ?? ev.resource?.name ?? ev.resource?.id;
    if (name) configs.push(name);
  } else if (ev.action === 'model.create' || ev.action === 'model.upload') {
    const name = ev.resource?.name ?? ev.resource?.id;
    const waitKey = name ? `waiting|${ev.platform}|${scopedName(name, scope)}` : undefined;
    const waiting = waitKey ? ctx.get<string[]>(waitKey) : undefined;
    if (waiting) {
      configs.push(...waiting);
      ctx.delete(waitKey!);
    }
  }
  for (const cfgName of configs) {
    const k = `${ev.platform}|${scopedName(cfgName, scope)}`;
    const p = ctx.get<PendingDeploy>(`pending|${k}`);
    if (!p) continue;
    if (Math.abs(ctx.clock() - p.at) > PENDING_DEPLOY_MS) {
      dropPending(ctx, k);
      continue;
    }
    const config = ctx.reg.endpointConfig(ev.platform, cfgName, scope);
    if (!config) continue;
    const missing = config.models.filter((m) => !ctx.reg.hasModelResource(ev.platform, m, scope));
    if (missing.length) {
      for (const m of missing) {
        const waitKey = `waiting|${ev.platform}|${scopedName(m, scope)}`;
        const w = ctx.get<string[]>(waitKey) ?? [];
        if (!w.includes(cfgName)) ctx.set(waitKey, [...w, cfgName].slice(-20));
      }
      continue;
    }
    settlePending(ctx, k, p);
  }
};

/** The endpoint config a waiting deployment names, once seen (in the deployment's account and region). */
function configOfPending(ctx: RuleContext, p: PendingDeploy): { models: string[] } | undefined {
  const cfgName = deploymentConfigOf(p.event as NormalizedEvent);
  return cfgName ? ctx.reg.endpointConfig(p.event.platform, cfgName, scopeOf(p.event)) : undefined;
}

/** End of input: every waiting deployment whose config came is judged with what is known. */
export const settleAllPendingDeployments: KindImpl = (_ev, ctx) => {
  for (const k of ctx.get<string[]>('pending-index') ?? []) {
    const p = ctx.get<PendingDeploy>(`pending|${k}`);
    if (p && configOfPending(ctx, p)) settlePending(ctx, k, p);
  }
};

/** Forget a waiting deployment (`platform|config`, the config's name scoped) and its place in the index. */
function dropPending(ctx: RuleContext, k: string): void {
  dropWaiting(ctx, 'pending', k);
}

/** A waiting deployment pushed out of the index: judged with what is known if its config has come, else forgotten. */
function pushOutPending(ctx: RuleContext, k: string): void {
  const p = ctx.get<PendingDeploy>(`pending|${k}`);
  if (p && configOfPending(ctx, p)) settlePending(ctx, k, p);
  else ctx.delete(`pending|${k}`);
}

/** Judge a waiting deployment with what is known now, and forget it. */
function settlePending(ctx: RuleContext, k: string, p: PendingDeploy): void {
  dropPending(ctx, k);
  const dep = p.event as NormalizedEvent;
  judgeAll(dep, ctx, p.ep, undefined, ctx.reg.configRef(dep), ctx.reg.deployedModels(dep));
}

/**
 * Every SWEEP_EVERY_MS of event time: a deployment whose config has come but one of whose models never has
 * (created before mltrail watched) is judged after PENDING_MODELS_MS as it would have been in order: a model
 * nothing approved is an alert. One whose config never came is forgotten after PENDING_DEPLOY_MS.
 */
export function sweepPendingDeployments(ev: NormalizedEvent, ctx: RuleContext): void {
  const t = ctx.clock();
  const last = ctx.get<number>('pending-swept') ?? 0;
  if (!(t - last >= SWEEP_EVERY_MS)) return;
  const open = ctx.get<string[]>('pending-index');
  ctx.set('pending-swept', t);
  if (!open?.length) return;
  for (const k of open) {
    const p = ctx.get<PendingDeploy>(`pending|${k}`);
    // Judged when its config has come, however late this sweep is (a bridge quiet for a day): only a
    // deployment whose config never came is forgotten.
    if (p && waited(ctx, p, PENDING_MODELS_MS) && configOfPending(ctx, p)) settlePending(ctx, k, p);
    else if (!p || waited(ctx, p, PENDING_DEPLOY_MS)) dropPending(ctx, k);
  }
}

/**
 * A live deployment of a `models:/<name>/<stage>` or `/latest` URI (or `@<alias>`: the version holding the alias, moved
 * by an alias event): its serving side loads the highest version in that stage (or of all) whenever it starts, so what
 * it serves moves with the registry, with no deployment event. Kept as a waiting deployment is, it is judged again
 * when a transition, an alias move or a new version is read (judgeStageWatches): one read before the transition it
 * depends on (logs arrive out of order) is resolved then, and a later transition of another version into the stage is
 * what it serves from then on. `judged`: the versions it was judged as, each once.
 */
interface StageWatch {
  ep: string;
  /** The URI's reference as modelRefOf read it (stage unresolved), with its registry and doubt. */
  ref: ModelRef;
  event: PendingDeploy['event'];
  judged: string[];
  /** Versions judged again for a rejection made while this deployment served them, each once (unset: none). */
  revoked?: string[];
}
/** Live stage deployments watched at once (the oldest beyond it are forgotten); versions remembered per deployment. */
const MAX_STAGE_WATCHES = 1000;
const MAX_STAGE_JUDGED = 50;

/**
 * A deployment naming its model: a stage, `latest` or `models:/` alias URI (resolvesAtLoad) is watched from now on
 * (the version it resolves to now is judged by the deployment itself); anything else ends the endpoint's watch, as it no longer serves that URI.
 */
function keepStageWatch(ev: NormalizedEvent, ctx: RuleContext, ep: string, direct: ModelRef): void {
  if (!isDeployment(ev)) return;
  const id = stageWatchId(ev, ep);
  if (!resolvesAtLoad(ev, direct)) {
    if (ctx.get<StageWatch>(`stagewait|${id}`)) dropWaiting(ctx, 'stagewait', id);
    return;
  }
  // Judged by the deployment itself: the version the URI names now, and every other holder of its alias in another case.
  const now = ctx.reg.loadTimeVersions(direct).map((v) => v.version);
  const kept = { id: ev.id, time: ev.time, platform: ev.platform, actor: ev.actor, cloud: ev.cloud, resource: ev.resource, action: ev.action, ml: { deployment: ev.ml?.deployment } };
  ctx.set(`stagewait|${id}`, { ep, ref: direct, event: kept, judged: now.slice(-MAX_STAGE_JUDGED) } satisfies StageWatch);
  const open = ctx.get<string[]>('stagewait-index') ?? [];
  const next = [...open.filter((k) => k !== id), id];
  for (const gone of next.slice(0, -MAX_STAGE_WATCHES)) ctx.delete(`stagewait|${gone}`);
  ctx.set('stagewait-index', next.slice(-MAX_STAGE_WATCHES));
}

/**
 * After the registry took in an event: an endpoint deleted (KServe's InferenceService, Vertex's endpoint; a SageMaker
 * DeleteEndpoint is `endpoint.undeploy`) serves nothing, so its watch ends; a stage transition or a new version of a
 * model judges each live deployment of a stage or `latest` URI of it whose version that changed, as a deployment of
 * that version, once per version, with the registry event as evidence (an approved one raises nothing); so does a
 * rejection of the version it serves, once per version. A rename follows MLflow, which resolves the URI by name: the
 * old name loads nothing (reportRenamedAway), a model renamed onto the name is what it loads; a rename or deletion
 * of its model forgets the numbers judged, which were the old model's.
 */
function judgeStageWatches(ev: NormalizedEvent, ctx: RuleContext): void {
  // Most installs watch no stage URI: one read per event then, not an endpoint and model reference each.
  const open = ctx.get<string[]>('stagewait-index');
  if (!open?.length) return;
  const ep = endpointOf(ev);
  if (ep && (ev.action === 'endpoint.delete' || ev.action === 'endpoint.undeploy') && isCarriedOut(ev)) {
    const id = stageWatchId(ev, ep);
    if (ctx.get<StageWatch>(`stagewait|${id}`)) dropWaiting(ctx, 'stagewait', id);
    return;
  }
  const renamed = renameOf(ev);
  // A rejection (an approval revoked) of the version a deployment serves changes its verdict, not its version.
  const rejecting = !renamed && approvalOf(ev, ctx.cfg) === 'rejected';
  const gone = ev.action === 'registered_model.delete' && ev.outcome !== 'failure';
  const aliasMove = !renamed && movesAlias(ev);
  if (!renamed && !gone && !rejecting && !aliasMove && !currentStageOf(ev) && !CREATES.test(ev.action)) return;
  const ref = renamed ? undefined : modelRefOf(ev, ctx.cfg);
  const rejected = rejecting ? ref?.version : undefined;
  const names = renamed ? [renamed.from, renamed.to] : [ref?.name ?? ev.resource?.name];
  // One registry event moves every deployment following the alias or stage: its findings are said once per finding.
  const found = new FollowerFindings(ctx, ev);
  for (const id of open) {
    let w = ctx.get<StageWatch>(`stagewait|${id}`);
    if (!w?.ref.name || !names.includes(w.ref.name)) continue;
    if (renamed || gone) {
      // Another model's versions under the name now (renamed onto it), or none: the numbers judged were the old model's.
      if (renamed && !sameRegistry(w.ref, ev)) continue;
      const emptied = !ctx.reg.stageVersion({ ...w.ref, stage: 'latest' });
      const takenOver = renamed?.to === w.ref.name;
      // Renamed away in a swap whose other rename came first: the name already holds the model renamed onto it.
      if (!emptied && !takenOver) continue;
      const held = w.judged.at(-1);
      w = { ...w, judged: [], revoked: undefined };
      ctx.set(`stagewait|${id}`, w satisfies StageWatch);
      if (renamed && renamed.from === w.ref.name && emptied) reportRenamedAway(ev, found.judging(w.ref), w, renamed.to, held);
      if (!takenOver) continue;
    }
    // Every version it may load now, as the deployment itself was judged (servedParts): an alias held in another case
    // too (`CHAMPION` set beside `champion`), which MLflow on MySQL resolves `@champion` to.
    for (const v of ctx.reg.loadTimeVersions(w.ref)) {
      const revoked: boolean = rejected === v.version && v.approval?.state === 'rejected' && !(w.revoked ?? []).includes(v.version);
      if (!revoked && w.judged.includes(v.version)) continue;
      w = { ...w, judged: [...new Set([...w.judged, v.version])].slice(-MAX_STAGE_JUDGED), ...(revoked ? { revoked: [...(w.revoked ?? []), v.version].slice(-MAX_STAGE_JUDGED) } : {}) };
      ctx.set(`stagewait|${id}`, w satisfies StageWatch);
      // Approved: nothing new; the deployment's own findings (its env, artifact endpoints) were said when it was judged.
      if (approvalVerdict(ctx, { ...w.ref, version: v.version }, [], w.event.platform, scopeOf(w.event)).approved.length) continue;
      // An alias is resolved here, not by resolveModelUri (which leaves it to the registry's lookup): judged as the version it names now.
      judgeDeployment(w.event as NormalizedEvent, found.judging(w.ref), w.ep, w.ref.alias ? { ...w.ref, version: v.version } : w.ref, [], { event: ev.id, time: ev.time, action: ev.action });
    }
  }
  found.flush();
}

/**
 * A live `models:/<old>/<stage>` deployment whose model was renamed away (MLflow `RenameRegisteredModel`): MLflow
 * resolves the URI by name and a rename leaves no alias behind, so the URI names no model now. The running predictor
 * keeps the version it loaded; its next start (a restart, a scale-up, a node drained) fails to load it, or loads
 * whatever model is registered under the old name by then, which anyone allowed to create a model can do. Said once
 * per rename; the watch goes on, and a model given the name later is judged as any version it would load.
 */
function reportRenamedAway(ev: NormalizedEvent, ctx: RuleContext, w: StageWatch, to: string, held: string | undefined): void {
  const dep = w.event as NormalizedEvent;
  const from = w.ref.name!;
  const uri = loadTimeUri(w.ref);
  ctx.detect({
    entity: endpointEntity(dep, w.ep), key: `model_renamed|${from}|${to}`, evidence: [dep.id, ev.id], time: ev.time,
    title: 'Live deployment loads a model name that was renamed away',
    summary: `${w.ep} (${dep.platform}) loads ${uri}, but ${from} was renamed to ${to} at ${ev.time} (${ev.action} ${ev.id}, by ${callerText(ev.actor, ctx.cfg)}): MLflow no longer resolves ${uri}, so the running predictor keeps ${held ? `v${held}` : 'what it loaded'} until its next start, which fails to load a model — or loads whatever model is registered as ${from} by then. Redeploy it as ${loadTimeUri(w.ref, to)}`,
    details: {
      reason: 'model_renamed', deployed: deployedDetails(w.ref), model: from, renamed_to: to, loaded_version: held, resolved_from: resolvedFrom(w.ref),
      unresolved: `model ${from} renamed to ${to}: MLflow no longer resolves ${uri}`, deployment_event: dep.id, changed_by: ev.id, deployer: identityOf(dep.actor, ctx.cfg),
    },
  });
}

/** Whether a deployment puts these models on its endpoint only as shadow variants (a SageMaker shadow test). */
function shadowOnly(ev: NormalizedEvent, models: string[]): boolean {
  const variants = (ev.ml?.deployment as { variants?: Array<{ model?: string; shadow?: boolean }> } | undefined)?.variants;
  if (!variants?.length || !models.length) return false;
  return models.every((m) => variants.some((v) => v.model === m && v.shadow) && !variants.some((v) => v.model === m && !v.shadow));
}

function judgeAll(ev: NormalizedEvent, ctx: RuleContext, ep: string, direct: ModelRef | undefined, ref: ModelRef | undefined, models: string[]): void {
  for (const part of servedParts(ev, ctx, direct, ref, models)) judgeDeployment(ev, ctx, ep, part.ref, part.models);
}

/**
 * `changed`: the registry event that changed the version a live stage or `latest` deployment loads to one not approved
 * (judgeStageWatches): the deployment is judged as serving that version from then on, with that event as evidence and
 * its time.
 */
function judgeDeployment(ev: NormalizedEvent, ctx: RuleContext, ep: string, uriRef: ModelRef | undefined, models: string[], changed?: { event: string; time: string; action: string }): void {
  const { ref, details: resolution } = ctx.reg.resolveModelUri(uriRef);
  const { named, candidates, approved, rejected, withdrawn, elsewhere, scopes, what, claim } = approvalVerdict(ctx, ref, models, ev.platform, scopeOf(ev), setting<boolean>(ctx, 'trust_mlflow_model_uri_tag') === true);
  const entity = endpointEntity(ev, ep);
  // A deployment the platform made by itself has no deployer; the caller of the entry that reported it (a read of the
  // done job) is one only when it submitted the job.
  const deployer = !isDeployment(ev) && isAutoDeployment(ev) && !/\.create$/.test(ev.action) ? undefined : identityOf(ev.actor, ctx.cfg);
  // Dated at the deployment (it may be judged when its config arrives): where and by whom as logged, from it.
  const scope = eventScope(ev);
  // A `models:/…` URI whose registry cannot be vouched for (mlflowDoubtOf): said whatever the verdict.
  const doubt = ref?.mlflowDoubt;
  // The doubt is said once, in these details (`details.deployed` leaves it out: the rules' own record of it).
  const doubtDetails = { ...(doubt?.reason === 'unwatched_registry' ? { mlflow_registry_uri: doubt.registry_uri } : doubt?.reason === 'artifact_endpoint_not_allowed' ? { artifact_endpoints_not_allowed: doubt.endpoints } : doubt ? { mlflow_env_unverifiable: doubt.env } : {}), ...runtimeSourceDetails(ev) };
  // Named in summaries as deployed: the alias a `models:/fraud@champion` names (the stage a `models:/fraud/Staging`
  // names, with the version it resolved to), and the MLflow registry it was judged
  // in (a configured server or workspace; an unwatched one is said on its own), so the SOC knows where to look.
  const registry = ref?.mlflowServer && doubt?.reason !== 'unwatched_registry' ? mlflowRegistryName(ref.mlflowServer) : undefined;
  const deployedText = `${ref?.name && ref.alias && !ref.version ? `${ref.name}@${ref.alias}` : ref?.name && ref.stage ? `models:/${ref.name}/${ref.stage}${ref.version ? ` (v${ref.version})` : ''}` : what}${registry ? ` (${registry})` : ''}`;
  if (!approved.length) {
    const shadow = shadowOnly(ev, models);
    const auto = !isDeployment(ev) && isAutoDeployment(ev);
    // A registered candidate pending approval, shadow-tested (a copy of live requests, its answers not returned): the
    // test a team runs before approving it. An unregistered or rejected shadow still alerts, and so does a promotion.
    if (shadow && candidates.length && !rejected && !withdrawn && !elsewhere) return;
    // The registry versions behind what was deployed (a SageMaker model resource `fraud-v2` is package fraud v2),
    // named as the model_version alerts name them, so the alerts of one version group together.
    const versions = [...new Set(candidates.map((v) => versionEntity(v).id))];
    const shown = !ref?.name && candidates.length ? `${what} (${[...new Set(candidates.map((v) => `${v.name} v${v.version}`))].join(', ')})` : deployedText;
    // The title says which finding it is: a rejected version, or one approved only elsewhere, was not "never approved".
    // An unwatched registry's reference is resolved in a scope no registry has (facts.ts): not shown as a server.
    const unwatched = doubt?.reason === 'unwatched_registry';
    // A Model mlflow.sagemaker made from an approved MLflow version (its `model_uri` tag): the approval names the
    // registry's artifact, not the copy the Model serves, unless the operator trusts the tag.
    const copyOfApproved = !unwatched && !rejected && !withdrawn && !elsewhere && !!claim?.approved && !claim.trusted && !claim.linked;
    const title = unwatched ? 'Deployment of a model from an MLflow registry mltrail does not watch' : rejected ? 'Deployment of a rejected model version' : withdrawn ? 'Deployment of a model version whose approval was withdrawn' : elsewhere ? 'Deployment of a model version approved only in another account or region' : copyOfApproved ? 'Deployment of a copy of an approved MLflow model that no approval vouches for' : 'Deployment of a model version that was never approved';
    const claimText = claim ? `; its Model's model_uri tag names ${claim.uri} (${claim.versions.length ? `MLflow ${claim.versions.map((k) => k.replace('/', ' v')).join(', ')}` : 'no MLflow version mltrail knows'})` : '';
    const revokedBy = rejected ?? withdrawn;
    // A Model the service made from an optimization job's output is judged by the job's source: the summary says so.
    const optimized = models.flatMap((m) => {
      const o = ctx.reg.optimizationOf(ev.platform, m, scopeOf(ev));
      return o ? [{ model: m, job: o.job, source: o.source, event: o.event }] : [];
    });
    const origin = optimized.length ? ` (${optimized.map((o) => `${o.model}: an optimization job's output of ${o.source}, job ${o.job}`).join('; ')})` : '';
    // A live stage deployment whose version a registry event changed: that event says when it began serving it.
    const since = changed ? `; since ${changed.action} ${changed.event} at ${changed.time} it loads ${ref?.name} v${ref?.version}` : '';
    ctx.detect({
      entity, key: what, evidence: [...(revokedBy ? [revokedBy.approval!.event] : []), ...optimized.map((o) => o.event), ...(claim ? [claim.event] : []), ev.id, ...(changed ? [changed.event] : [])], title, time: changed?.time ?? ev.time,
      summary: `${auto ? `the platform itself (the output of ${ev.resource?.type ?? 'a job'} ${ev.resource?.name ?? ev.resource?.id ?? ''}, seen in ${ev.operation})` : deployer ?? UNIDENTIFIED} deployed ${shown}${origin} to ${ep} (${ev.platform})${shadow ? ` as a shadow variant (it gets a copy of the endpoint's live requests; its answers are not returned)` : ''}; ${unwatched ? `it loads from ${doubt.registry_uri ?? 'a registry URI'}, which no configured MLflow server has: no approval mltrail saw vouches for it` : rejected ? 'it was rejected' : withdrawn ? `its approval was withdrawn (set back to pending at ${withdrawn.approval!.time})` : elsewhere ? `the package is in ${scopes.join(', ')}, but the approval was made in ${candidates.flatMap((v) => v.approvedScopes ?? []).join(', ')}` : copyOfApproved ? 'that version is approved, but the Model serves a re-packed copy (its ModelDataUrl) that no approval names (trust_mlflow_model_uri_tag vouches for such copies)' : candidates.length ? 'it was never approved' : 'no approved version matches it'}${claimText}${since}`,
      details: { deployed: deployedDetails(ref, unwatched), models: models.length ? models : undefined, known_versions: candidates.map((v) => v.key), model_versions: versions.length ? versions : undefined, reason: unwatched ? 'unwatched_registry' : rejected ? 'rejected' : withdrawn ? 'approval_withdrawn' : elsewhere ? 'approved_in_another_account' : copyOfApproved ? 'unverified_mlflow_copy' : 'never_approved', ...(claim ? { mlflow_model_uri: { uri: claim.uri, model: claim.model, versions: claim.versions, approved: claim.approved, event: claim.event } } : {}), ...doubtDetails, ...resolution, ...(changed ? { deployment_event: ev.id, changed_by: changed.event } : {}), shadow: shadow || undefined, auto_deployed: auto || undefined, optimized_from: optimized.length ? optimized.map(({ event: _, ...o }) => o) : undefined, deployer, ...scope, ...(elsewhere ? { package_scopes: scopes } : {}) },
    });
    return;
  }
  if (doubt?.reason === 'artifact_endpoint_not_allowed') {
    // Approved in the registry, but its env fetches the bytes from or through a host the cluster does not allow: the
    // approval vouches for the registry's artifact, not for what that host returns under its name.
    const v = named ?? approved[0]!;
    const via = Object.entries(doubt.endpoints).map(([n, e]) => `${n}=${e}`).join(', ');
    ctx.detect({
      entity, key: `${what}|artifact_endpoint_not_allowed|${Object.keys(doubt.endpoints).join(',')}`, evidence: [ev.id], title: 'Approved model fetched from an artifact endpoint or proxy not allowed', time: ev.time,
      summary: `${deployer ?? UNIDENTIFIED} deployed ${deployedText} to ${ep} (${ev.platform}); its env fetches the model's bytes from or through ${via}, which the cluster's artifact_endpoints does not list: ${v.name} v${v.version} is approved, but not what that host serves under its name`,
      details: { deployed: deployedDetails(ref), known_versions: candidates.map((c) => c.key), model_versions: [versionEntity(v).id], reason: 'artifact_endpoint_not_allowed', ...doubtDetails, ...resolution, deployer, ...scope },
    });
    return;
  }
  if (doubt?.reason === 'registry_unverifiable') {
    // Approved in the registry the cluster's settings name, but the env that picks the registry or workspace is
    // not in the log (a ConfigMap or Secret may point at another one): that approval cannot vouch.
    const v = named ?? approved[0]!;
    ctx.detect({
      entity, key: `${what}|registry_unverifiable`, evidence: [ev.id], title: 'Deployment whose MLflow registry or workspace cannot be verified', time: ev.time,
      summary: `${deployer ?? UNIDENTIFIED} deployed ${ref?.name && ref.alias && !ref.version ? `${ref.name}@${ref.alias}` : what} to ${ep} (${ev.platform}); its ${doubt.env.join(', ')} come${doubt.env.length > 1 ? '' : 's'} from a source the audit log does not show (valueFrom, envFrom or a $(VAR) reference), so which registry, workspace or artifact endpoint it loads from cannot be told: ${v.name} v${v.version} is approved in the one the cluster's settings name${registry ? `, ${registry}` : ''} (a cluster that sets them so by design: trust_mlflow_env_refs)`,
      details: { deployed: deployedDetails(ref), known_versions: candidates.map((c) => c.key), model_versions: [versionEntity(v).id], reason: 'registry_unverifiable', ...doubtDetails, ...resolution, deployer, ...scope },
    });
    return;
  }
  // A model that serves an approved artifact with another image than the one the version was registered with:
  // the code around the weights is not what was approved (a container can rewrite predictions or leak inputs).
  if (setting(ctx, 'check_substitution')) {
    const registered = [...new Set(approved.flatMap((v) => v.images ?? []))];
    const digests = new Set(approved.flatMap((v) => v.imageDigests ?? []));
    const known = (i: string) => registered.includes(i) || digests.has(imageDigestOf(i) ?? '');
    // The containers of the models served, and an inference component's own container.
    const served = [...models.map((m) => ({ model: m, images: ctx.reg.imagesOfModel(ev.platform, m, scopeOf(ev)) })), ...(ev.resource?.type === 'inference_component' ? [{ model: ev.resource.name ?? ev.resource.id, images: imagesOf(ev) }] : [])];
    for (const { model, images } of registered.length || digests.size ? served : []) {
      const other = images.filter((i) => !known(i));
      if (!other.length) continue;
      ctx.detect({
        entity, key: `${what}|image|${other.join(',')}`, evidence: [...new Set(approved.map((v) => v.approval?.event ?? ''))].filter(Boolean).concat(ev.id), title: 'Approved model deployed with another container image', time: ev.time,
        summary: `${ep} serves the approved ${approved[0]!.name} v${approved[0]!.version} with image ${other.join(', ')} (registered with ${registered.join(', ') || [...digests].join(', ')})`,
        details: { model, deployed_images: other, registered_images: registered, registered_digests: [...digests], reason: 'image_substitution', deployer, ...scope },
      });
    }
  }
  // One checkpoint of an approved version: the approval vouches for the checkpoint that was the version's default when
  // it was given (Vertex lets UpdateModel move the default afterwards; an intermediate checkpoint is other weights).
  const checkpoint = ev.ml?.deployment?.checkpoint_id;
  if (setting(ctx, 'check_substitution') && named?.approvedEver) {
    const served = typeof checkpoint === 'string' && checkpoint ? checkpoint : named.defaultCheckpoint;
    if (served !== undefined && served !== named.approvedCheckpoint) {
      ctx.detect({
        entity, key: `${what}|checkpoint|${served}`, evidence: [named.approval?.event ?? '', ev.id].filter(Boolean), title: 'Approved model version deployed from another checkpoint', time: ev.time,
        summary: `${ep} serves checkpoint ${served} of ${named.name} v${named.version}${named.approvedCheckpoint ? `, approved with checkpoint ${named.approvedCheckpoint} as its default` : ', and the approval does not say which checkpoint it saw'}${checkpoint ? '' : ' (the default checkpoint was changed after the approval)'}`,
        details: { model: named.name, version: named.version, checkpoint_id: served, approved_checkpoint: named.approvedCheckpoint, default_checkpoint: named.defaultCheckpoint, reason: 'checkpoint_not_approved', deployer, ...scope },
      });
    }
  }
  if (setting(ctx, 'check_substitution') && named && named.approvedEver && ref) {
    const artifactDiffers = !!(ref.artifact && named.artifact && !uriOverlap(ref.artifact, named.artifact));
    const shaDiffers = !!(ref.sha256 && named.sha256 && ref.sha256 !== named.sha256);
    if (artifactDiffers || shaDiffers) {
      ctx.detect({
        entity, key: `${what}|substitution`, evidence: [named.approval?.event ?? '', named.shaEvent ?? '', ev.id].filter(Boolean), title: 'Deployed artifact differs from the approved one', time: ev.time,
        summary: `${ep} deploys ${named.name} v${named.version} but with ${shaDiffers ? `sha256 ${ref.sha256} (approved ${named.sha256})` : `artifact ${ref.artifact} (approved ${named.artifact})`}`,
        details: { approved_artifact: named.artifact, approved_sha256: named.sha256, deployed_artifact: ref.artifact, deployed_sha256: ref.sha256, reason: 'substitution', deployer, ...scope },
      });
    }
  }
}

export const versionRollback: KindImpl = (ev, ctx) => {
  // What a live stage deployment serves since a stage change (judged at that change, stage-rollback.ts), not as deployed.
  const byStage = followStageDeployment(ev, ctx);
  if (!isDeployment(ev)) return;
  const ep = endpointOf(ev);
  if (!ep) return;
  // What this endpoint served: the one of this name in the deployment's account and region.
  const scope = scopeOf(ev);
  const deployed = ctx.reg.endpoint(ev.platform, ep, scope);
  const prev = deployed && byStage ? { ...deployed, version: byStage.version, event: byStage.event } : deployed;
  // The version it served came from following its stage or alias (stage-rollback.ts): said, with the version it was deployed as.
  const followed = deployed && byStage ? { resolved_via: byStage.via, deployed_version: deployed.version, changed_by: byStage.event } : {};
  if (!prev?.name || !prev.version) return;
  // A stage or `latest` URI rolls back when the version it loads now is older (Registry.resolveModelUri).
  const ref = ctx.reg.resolveModelUri(modelRefOf(ev, ctx.cfg) ?? ctx.reg.configRef(ev)).ref;
  const { named, linked } = ctx.reg.resolve(ref, ctx.reg.deployedModels(ev), ev.platform, true, scope);
  const target = named ?? linked.find((l) => l.name === prev.name);
  const name = target?.name ?? ref?.name;
  const version = target?.version ?? ref?.version;
  if (!name || !version || name !== prev.name || compareVersions(version, prev.version) >= 0) return;
  ctx.detect({
    entity: endpointEntity(ev, ep), key: `${name}|${version}`, evidence: [prev.event, ev.id], title: 'Endpoint rolled back to an older model version',
    summary: `${ep} moved from ${name} v${prev.version} to older v${version} (by ${callerText(ev.actor, ctx.cfg)})`,
    details: { model: name, from_version: prev.version, to_version: version, ...followed },
  });
};

export const behavioralDrift: KindImpl = (ev, ctx) => {
  const skew = new RegExp(SKEW_PATTERN, 'i');
  const pattern = ctx.rule.settings.monitor_pattern ? new RegExp(ctx.rule.settings.monitor_pattern as string, 'i') : undefined;
  if ((ev.action === 'monitor.violation' || ev.action === 'monitor.anomaly') && ev.stage !== 'ingestion' && ev.stage !== 'preprocessing') {
    const text = [ev.operation, ev.resource?.type, ev.resource?.name, ev.details?.objective, ev.details?.anomaly_objective, ev.details?.monitoring_type, ev.details?.monitor_type].filter((x) => typeof x === 'string').join(' ');
    if (pattern ? pattern.test(text) : !skew.test(text)) {
      const ep = endpointOf(ev);
      const d = ev.details ?? {};
      const entity = ep ? endpointEntity(ev, ep) : { type: ev.resource?.name || ev.resource?.id ? (ev.resource.type ?? 'monitor') : 'monitor', id: ev.resource?.name ?? ev.resource?.id ?? String(d.monitoring_type ?? ev.operation), platform: ev.platform };
      const what = [d.monitoring_type, d.objective ?? d.anomaly_objective, d.constraint_check_type, d.metric_name].filter((x) => typeof x === 'string').join(' / ') || ev.operation;
      // The features over their thresholds, as distribution_shift names them.
      const over = exceededFeatures(d);
      ctx.detect({
        entity, key: text, evidence: [ev.id], title: 'Model monitor reported drift / anomaly',
        summary: `${what}${over.length ? ` (${over.join(', ')})` : ''} on ${entity.id}${typeof d.description === 'string' ? `: ${d.description}` : ''}`,
        details: { monitor: ev.resource?.name, monitoring_type: d.monitoring_type, objective: d.objective ?? d.anomaly_objective, metric: d.metric_name, features: d.features ?? d.feature_anomalies },
      });
    }
  }
  if (ev.stage === 'serving' && ev.ml?.metrics) {
    const ep = endpointOf(ev);
    const globs = setting(ctx, 'metrics');
    if (ep) for (const [k, v] of Object.entries(ev.ml.metrics)) if (anyGlob(globs, k)) ctx.observe(k, endpointEntity(ev, ep), 'mean', v);
  }
};

/**
 * A metric that counts failed requests (`Invocation5XXErrors`, `error_count`), which requests can divide: not
 * one that is a rate or share already (`error_rate`), nor another figure a custom rule watches (`ModelLatency`).
 */
const isErrorCount = (name: string) => /error|fault|fail|5xx|4xx/i.test(name) && !/rate|ratio|percent|pct|fraction|share/i.test(name);

/**
 * Serving failures per endpoint, and error metrics monitors report. With `measure: rate` (the default) an
 * endpoint whose requests are known is judged by its failure rate, so three times the traffic at the same
 * rate is no spike: known from its events once it logged a successful invocation (Vertex AI's Predict data
 * access logs; an endpoint whose source reports only failures has no requests to divide by), and from a
 * request-count metric next to an error count in one event (CloudWatch's `Invocation5XXErrors` with
 * `Invocations`). Elsewhere failures are counted.
 */
export const errorSpike: KindImpl = (ev, ctx) => {
  if (ev.stage !== 'serving') return;
  const ep = endpointOf(ev) ?? ev.resource?.name ?? ev.resource?.id;
  if (!ep) return;
  const entity = endpointEntity(ev, ep);
  const rate = setting<'rate' | 'count'>(ctx, 'measure') === 'rate';
  const metrics = ev.ml?.metrics ?? {};
  const trafficGlobs = setting<string[]>(ctx, 'traffic_metrics');
  const traffic = rate ? Object.entries(metrics).find(([k, v]) => anyGlob(trafficGlobs, k) && v >= 0) : undefined;
  // A monitor's report, or one of request counts, is no request to the endpoint.
  if (!/^monitor\./.test(ev.action) && !traffic && ev.outcome !== 'unknown') {
    const failed = ev.outcome === 'failure';
    let known = false;
    if (rate) {
      const key = `traffic|${ev.platform}|${entity.id}`;
      known = ctx.get<boolean>(key) === true;
      if (!known && ev.action === 'endpoint.invoke' && !failed) {
        ctx.set(key, true);
        known = true;
      }
    }
    if (known) ctx.observe('failure_rate', entity, 'ratio', failed ? 1 : 0);
    else if (failed) ctx.observe('failures', entity, 'count', 1);
  }
  const globs = setting<string[]>(ctx, 'metrics');
  for (const [k, v] of Object.entries(metrics)) {
    if (!anyGlob(globs, k)) continue;
    if (traffic && k !== traffic[0] && isErrorCount(k) && v >= 0) ctx.observe(`${k}/${traffic[0]}`, entity, 'ratio', v, traffic[1]);
    else ctx.observe(k, entity, 'max', v);
  }
};
