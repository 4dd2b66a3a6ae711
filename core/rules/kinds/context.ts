import type { NormalizedEvent } from '../../schema/index.js';
import type { Agg, Entity } from '../baseline.js';
import { MAX_CLOCK_SKEW_MS, type ResolvedRule, type RulesConfigParsed, type Where } from '../config.js';
import { anyGlob, endpointKey, endpointOf, fieldAt, globMatch, identityOf, modelRefOf, namedEntity, scopeOf, scopedName, sourceOf } from '../facts.js';
import type { Registry, VersionRec } from '../registry.js';
import { KIND_DEFAULTS } from '../defaults.js';

/** Event ids an alert carries at most (its own detection's and those it groups: streak, suppressed repeats). */
export const MAX_ALERT_EVIDENCE = 20;

export interface DetectionInput {
  entity: Entity;
  /** Separates detections on one entity that are different findings (suppression key). */
  key?: string;
  evidence: string[];
  title: string;
  summary: string;
  details?: Record<string, unknown>;
  /**
   * Event time of the detection's last evidence when that is not the event being evaluated (a deployment
   * judged once its endpoint config arrived): the alert's `time`, as in replay. Default: this event's.
   */
  time?: string;
  /**
   * The most this detection is: the alert takes the rule's severity, or this when it is lower (a finding the rule
   * cannot confirm, such as a package index the request hides, is weaker than one it sees).
   */
  severity_cap?: 'low' | 'medium' | 'high' | 'critical';
}

/** What a rule kind gets for each event. */
export interface RuleContext {
  rule: ResolvedRule;
  cfg: RulesConfigParsed;
  reg: Registry;
  /** Rule-private state (namespace `rules.kind`, keys prefixed by the rule id). */
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  /** A per-event detection (N, learning, suppression applied by the engine). */
  detect(d: DetectionInput): void;
  /**
   * This event's time, but never later than its receipt, in ms: what waiting judgements (sweeps of waiting
   * deployments and approvals) advance by, so one event dated ahead (years, or within the windows' hour of
   * skew) can neither judge them early nor stop them being judged.
   */
  clock(): number;
  /** When this event was received (ms; its time when unknown): waits also last that long by receipt (a backfill). */
  receipt(): number;
  /** One value for a windowed baseline series (σ part); `per` is a `ratio` series' denominator (default 1). */
  observe(label: string, entity: Entity, agg: Agg, value: number, per?: number): void;
}

export type KindImpl = (ev: NormalizedEvent, ctx: RuleContext) => void;

/** A rule's kind setting as configured, else its kind's default (KIND_DEFAULTS, which `rules list` shows). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the kind's zod schema typed the value; callers name the type they read.
export function setting<T = any>(ctx: RuleContext, key: string): T {
  const v = ctx.rule.settings[key];
  return (v === undefined ? KIND_DEFAULTS[ctx.rule.kind][key] : v) as T;
}

/**
 * A rule setting for one event: the list its GCP project or AWS account has under `per_project` (keyed by the event's
 * `cloud.project`, else `cloud.account`), else the rule's own (setting).
 *
 * @example
 * // per_project: { ml-prod: { allowed_repositories: ['us-docker.pkg.dev/ml-prod/*'] } }
 * projectSetting(ctx, { cloud: { provider: 'gcp', project: 'ml-prod' } }, 'allowed_repositories') // ['us-docker.pkg.dev/ml-prod/*']
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as setting: the kind's zod schema typed the value.
export function projectSetting<T = any>(ctx: RuleContext, ev: Pick<NormalizedEvent, 'cloud'>, key: string): T {
  const scopes = ctx.rule.settings.per_project as Record<string, Record<string, unknown> | undefined> | undefined;
  const scope = ev.cloud?.project ?? ev.cloud?.account;
  const own = scopes && scope !== undefined && Object.hasOwn(scopes, scope) ? scopes[scope]?.[key] : undefined;
  return own === undefined ? setting<T>(ctx, key) : (own as T);
}

/**
 * A model version as alerts name it: `name/version`, a SageMaker package's prefixed with the `<account>:<region>` it
 * lives in when known, a configured MLflow server's version with the server's id (`team:fraud/3`) (the same group and version in two accounts are two packages: their alerts stay apart).
 */
export function versionEntity(v: Pick<VersionRec, 'name' | 'version' | 'platform' | 'scope'>): Entity {
  return { type: 'model_version', id: scopedName(`${v.name}/${v.version}`, v.scope), name: v.name, platform: v.platform };
}

/** An endpoint as alerts name it: a SageMaker endpoint by its account, region and name, a configured cluster's by the cluster's id (endpointKey), named as logged. */
export function endpointEntity(ev: Pick<NormalizedEvent, 'platform' | 'cloud'>, ep: string): Entity {
  return namedEntity('endpoint', endpointKey(ev, ep), ep, ev.platform);
}

/** Where a wait for later facts starts: the event's time, bounded by its receipt plus the hour of skew allowed. */
export function waitStart(ev: NormalizedEvent, ctx: RuleContext): { at: number; rcv: number } {
  return { at: Math.min(Date.parse(ev.time), ctx.receipt() + MAX_CLOCK_SKEW_MS), rcv: ctx.receipt() };
}

/**
 * Whether a wait has lasted `ms` by event time and by receipt: a backfill of old records arriving during
 * live traffic must still give their own later records (evidence, models) time to arrive.
 */
export function waited(ctx: RuleContext, w: { at: number; rcv?: number }, ms: number): boolean {
  return ctx.clock() - w.at >= ms && ctx.receipt() - (w.rcv ?? Number.NEGATIVE_INFINITY) >= ms;
}

export function identityEntity(id: string): Entity {
  return { type: 'identity', id };
}

/** The entity a generic rule names, by choice. */
export function entityFor(ev: NormalizedEvent, choice: string, cfg: RulesConfigParsed): Entity {
  switch (choice) {
    case 'actor':
      return identityEntity(identityOf(ev.actor, cfg) ?? 'unknown');
    case 'model': {
      const r = modelRefOf(ev, cfg);
      return r?.name ? versionEntity({ name: r.name, version: r.version ?? '', platform: ev.platform, scope: r.scope }) : { type: 'model', id: 'unknown', platform: ev.platform };
    }
    case 'endpoint':
      return endpointEntity(ev, endpointOf(ev) ?? 'unknown');
    case 'source':
      return { type: 'data_source', id: sourceOf(ev), platform: ev.platform };
    case 'platform':
      return { type: 'platform', id: ev.platform, platform: ev.platform };
    default: {
      // A SageMaker resource's name is unique only in its account and region, a configured server's or cluster's there: named there.
      const name = ev.resource?.name ?? ev.resource?.id ?? ev.channel;
      return namedEntity(ev.resource?.type ?? 'resource', ev.resource?.name ? scopedName(name, scopeOf(ev)) : name, name, ev.platform);
    }
  }
}

/** Whether an event matches a `where` block. */
export function matches(ev: NormalizedEvent, w: Where | undefined): boolean {
  if (!w) return true;
  if (w.actions && !anyGlob(w.actions, ev.action)) return false;
  if (w.stages && !w.stages.includes(ev.stage)) return false;
  if (w.platforms && !w.platforms.includes(ev.platform)) return false;
  if (w.outcome && ev.outcome !== w.outcome) return false;
  for (const [path, glob] of Object.entries(w.fields ?? {})) {
    const v = fieldAt(ev, path);
    if (v === undefined || v === null || !globMatch(glob, String(v))) return false;
  }
  return true;
}
