import type { z } from 'zod';
import { SCHEMA_VERSION, stableId, type Alert, type NormalizedEvent, type Stage } from '../schema/index.js';
import type { StateStore } from '../state/index.js';
import { Baselines, type Entity, type WindowResult } from './baseline.js';
import { MAX_CLOCK_SKEW_MS, MIXED_KINDS, RulesConfigSchema, STATISTICAL_KINDS, resolveRules, type ResolvedRule } from './config.js';
import { KIND_DEFAULTS } from './defaults.js';
import { ChangeEchoes, changeKeyOf } from './echo.js';
import { assumedRoleArnOf, eventScope, identityOf, lineageOf, registryLineage, serverScopeOf, summaryWithServer, versionKeyOfEntity } from './facts.js';
import { KIND_AFTER_UPDATE, KIND_AT_END, KIND_IMPLS, KIND_ON_TICK } from './kinds/index.js';
import { MAX_ALERT_EVIDENCE, type DetectionInput, type KindImpl, type RuleContext } from './kinds/context.js';
import { Registry } from './registry.js';
import { STATS_NS, isStatsDayBefore, statsCutoffDay } from './stats-retention.js';

/**
 * Rules configuration (YAML key `rules`): thresholds, allow lists, approval
 * markers, identities, windows, per-rule mode/k/N/learning, and custom rules
 * of the built-in kinds. See core/rules/config.ts.
 */
export const RulesConfig = RulesConfigSchema;
export type RulesConfig = z.infer<typeof RulesConfigSchema>;

export interface RuleInfo {
  id: string;
  stage: Stage;
  kind: string;
  mode: 'observe' | 'alert';
  description: string;
  settings: Record<string, unknown>;
}

/**
 * The rule engine contract. Rules run on event time, identically in `serve`
 * (as a spool consumer, inside the transaction that advances its cursor) and
 * in `replay`. All state goes through the StateStore so it commits with the
 * cursor and survives restarts.
 */
export interface RuleEngine {
  /** Evaluate one event; returns the alerts it raises (observe-mode detections included, with mode "observe"). */
  /**
   * Evaluate one event. `receivedAt` (epoch ms) is when this bridge took it (the spool's own stamp):
   * with it, a sender's `received_time` cannot vouch for an event time far ahead.
   */
  process(event: NormalizedEvent, receivedAt?: number): Alert[];
  /** Close time windows up to `time` (replay calls it at the end of input). */
  flush(time: string): Alert[];
  /**
   * No event has come for a while (serve calls it when idle, with the wall clock in ms): judge what the next
   * event would have judged — windows of series gone quiet, deployments and approvals whose wait is over —
   * by the sources' clock now (the latest event time plus the time passed since it was received, counted
   * from `runningSinceMs` at the earliest: the bridge's own downtime is not the sources' silence).
   */
  tick(nowMs: number, runningSinceMs?: number): Alert[];
  catalogue(): RuleInfo[];
}

export const ENGINE_NS = 'rules.engine';
export const KIND_NS = 'rules.kind';
export { STATS_NS };
/** `Date.toISOString()`'s form: strings of it sort as the times they name. */
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Details keys by which a rule names the person an alert is about (read by core/formats alertPrincipal). */
const PERSON_KEYS = ['identity', 'principal', 'deployer', 'approver', 'actor'] as const;

/** A time as the engine keeps and compares it (as strings): UTC with milliseconds. */
const canonicalTime = (time: string): string => (CANONICAL_TIME.test(time) ? time : new Date(Date.parse(time)).toISOString());
/** |z| histogram bins (0.5 wide, last bin open) for `rules tune`. */
export const Z_BINS = 17;
const DAY_MS = 86_400_000;
/** Suppression / streak records older than every rule's suppression period are dropped. */
const KEEP_MS = 35 * DAY_MS;

export interface DayStats {
  windows: number;
  z: { n: number; sum: number; sumsq: number };
  zhist: number[];
  /**
   * z in the rule's direction (z for `above`, −z for `below`, |z| for `both`; 0 when the other way), binned as
   * zhist: what `rules tune` suggests k from, as only these windows can be detections. Absent in days recorded
   * before it was kept (tune reads their zhist).
   */
  zhist_dir?: number[];
  detections: number;
  alerts: number;
  observe: number;
  suppressed: number;
  /** Detections that did not reach N consecutive. */
  below_n: number;
  /** Longest consecutive anomalous run per series end, by length. */
  streaks: Record<string, number>;
  entities: string[];
}

interface Suppression {
  /** First and last time of the pending detections (meaningful only while pending > 0). */
  first_seen: string;
  last_seen: string;
  /** Detections since the last alert was sent (the one that will be sent next counts too). */
  pending: number;
  /** Evidence of the pending detections (the latest MAX_EVIDENCE ids): the next alert carries them. */
  evidence?: string[];
  last_emit?: number;
  last_mode?: string;
  /** Times of the latest alerts sent (at most MAX_EMITS): a repeat is near one of them. */
  emits?: number[];
  /** Repeats of a backfill's alerts (dated before the last alert by more than `suppress`), for its next alert. */
  back?: Held;
}

/** What is held back for the next alert: how many, when, and their evidence. */
type Held = Pick<Suppression, 'first_seen' | 'last_seen' | 'pending' | 'evidence'>;

/** Two held-back sets as one (the earlier's evidence first). */
function mergeHeld(a: Held, b: Held): Held {
  if (!a.pending) return b;
  const [x, y] = a.first_seen <= b.first_seen ? [a, b] : [b, a];
  return { pending: a.pending + b.pending, first_seen: x.first_seen, last_seen: a.last_seen > b.last_seen ? a.last_seen : b.last_seen, evidence: tail([...(x.evidence ?? []), ...(y.evidence ?? [])]) };
}

/** Alert times kept per rule + entity + finding for suppression (a backfill is judged against them). */
const MAX_EMITS = 20;

/** A per-event rule's run of consecutive detections; `evidence` = each of the latest detections' ids (at most MAX_EVIDENCE detections). */
interface Streak {
  count: number;
  last: number;
  evidence?: string[][];
  /** Time of the first detection of the run not yet reported in an alert. */
  since?: string;
  /** Detections of the run below N, not yet counted by an alert or a suppressed repeat. */
  below?: number;
}

/** Bound on the ids an alert carries besides its own detection's (streak and suppressed repeats). */
const MAX_EVIDENCE = MAX_ALERT_EVIDENCE;
const tail = (ids: string[]): string[] => [...new Set(ids.filter(Boolean))].slice(-MAX_EVIDENCE);

/**
 * An alert's evidence, at most MAX_EVIDENCE ids (a window streak would otherwise carry 20 per window):
 * the detection's own events last, keeping at least half the room for what came before it (the
 * suppressed repeats, the streak) when there is any.
 */
function capEvidence(earlier: string[], own: string[]): string[] {
  const mine = [...new Set(own.filter(Boolean))];
  const before = tail(earlier).filter((id) => !mine.includes(id));
  const ownRoom = before.length ? Math.max(MAX_EVIDENCE - before.length, Math.ceil(MAX_EVIDENCE / 2)) : MAX_EVIDENCE;
  const kept = mine.slice(-ownRoom);
  return [...before.slice(Math.max(0, before.length - (MAX_EVIDENCE - kept.length))), ...kept];
}

interface Detection extends DetectionInput {
  rule: ResolvedRule;
  time: string;
  window?: WindowResult;
  /** The configured server or cluster of the event judged, for an entity that names none (a person): see summaryWithServer. */
  server?: { id: string; platform: string };
}

const SEVERITY_ORDER = ['low', 'medium', 'high', 'critical'] as const;

/** The rule's severity, or the detection's cap when that is lower. */
function cappedSeverity(severity: ResolvedRule['severity'], cap: DetectionInput['severity_cap']): ResolvedRule['severity'] {
  return cap && SEVERITY_ORDER.indexOf(cap) < SEVERITY_ORDER.indexOf(severity) ? cap : severity;
}

function emptyDay(): DayStats {
  return { windows: 0, z: { n: 0, sum: 0, sumsq: 0 }, zhist: new Array(Z_BINS).fill(0), zhist_dir: new Array(Z_BINS).fill(0), detections: 0, alerts: 0, observe: 0, suppressed: 0, below_n: 0, streaks: {}, entities: [] };
}

class Engine implements RuleEngine {
  private readonly rules: ResolvedRule[];
  private readonly windowed: ResolvedRule[];
  private readonly reg: Registry;
  private readonly baselines: Baselines;
  private readonly echoes: ChangeEchoes;
  /** By rule index: whether its start time is known written (see process); `unstarted` counts those not yet. */
  private readonly started: boolean[];
  private unstarted: number;
  /** Each rule's kind implementation, looked up once (by rule index) rather than by kind name per event and rule. */
  private readonly impls: KindImpl[];
  /** Whether resumeRules ran (see there). */
  private resumeChecked = false;
  private readonly keepMs: number;
  /** One context per rule, built once: the event being evaluated is in `turn` (no closures per event and rule). */
  private readonly contexts: RuleContext[];
  /** Indexes of the rules whose kind also looks at an event after the registry took it in. */
  private readonly afterUpdate: number[];
  private readonly turn: { time: string; evId: string; platform?: NormalizedEvent['platform']; actor?: NormalizedEvent['actor']; cloud?: NormalizedEvent['cloud']; resource?: NormalizedEvent['resource']; ml?: NormalizedEvent['ml']; lineageFrom?: string; invokedBy?: string; gitopsApplication?: string; obsTime: string; obsMs: number; sweepMs: number; receiptMs: number; now: number; out: Alert[]; detections: Detection[]; observed: boolean } = {
    time: '',
    observed: false,
    sweepMs: 0,
    receiptMs: 0,
    evId: '',
    obsTime: '',
    obsMs: 0,
    now: 0,
    out: [],
    detections: [],
  };

  constructor(
    private readonly cfg: RulesConfig,
    private readonly state: StateStore,
    private readonly onRuleError?: RuleErrorHandler,
    private readonly opts: EngineOptions = {},
  ) {
    this.rules = resolveRules(cfg).filter((r) => r.enabled);
    this.windowed = this.rules.filter((r) => STATISTICAL_KINDS.has(r.kind) || MIXED_KINDS.has(r.kind));
    this.reg = new Registry(state, cfg);
    // State kept by an older build in a shape since changed: rewritten once, before the first event is judged.
    this.reg.migrate();
    this.baselines = new Baselines(state);
    this.echoes = new ChangeEchoes(state, ENGINE_NS);
    this.keepMs = Math.max(KEEP_MS, ...this.rules.map((r) => Math.max(r.suppressMs, r.stat.suppressMs)));
    this.contexts = this.rules.map((rule) => this.contextFor(rule));
    this.impls = this.rules.map((r) => KIND_IMPLS[r.kind]);
    this.started = this.rules.map(() => false);
    this.unstarted = this.rules.length;
    this.afterUpdate = this.rules.flatMap((r, i) => (KIND_AFTER_UPDATE[r.kind] ? [i] : []));
  }

  private contextFor(rule: ResolvedRule): RuleContext {
    const turn = this.turn;
    const prefix = `${rule.id}|`;
    return {
      rule,
      cfg: this.cfg,
      reg: this.reg,
      get: <T>(key: string) => this.state.get<T>(KIND_NS, prefix + key),
      set: (key, value) => this.state.set(KIND_NS, prefix + key, value),
      delete: (key) => this.state.delete(KIND_NS, prefix + key),
      detect: (d) => {
        // Who did it, for the SIEMs' user fields (docs/formats.md), when the rule named nobody: the caller of the
        // event being judged. A detection dated at another event (judged late) names its own.
        // Where and by whom as logged (account / project, region, namespace, the caller's ARN or email), so the
        // analyst needs no raw event to scope it or to search the SIEM's events; what the rule set itself is kept.
        // A call an AWS service made for the caller (CloudTrail `invokedBy`: CloudFormation deploying a stack with its
        // role or the caller's credentials) says so: the identity is the stack's role, the change came from a template.
        // An object Argo CD applied names its Application (details.gitops_application): where in Git the change came from.
        // Built in one fresh object (eventScope's own), not through a spread copy per part: the same keys in the same
        // order (an assigned key that is already there keeps its place, as in a spread), one allocation per detection.
        let details = d.details;
        if (d.time === undefined) {
          const own: Record<string, unknown> = eventScope(turn);
          if (turn.invokedBy) own.invoked_by = turn.invokedBy;
          if (turn.gitopsApplication) own.gitops_application = turn.gitopsApplication;
          // Spread, not Object.assign: a `__proto__` key in details stays a key.
          const all: Record<string, unknown> = d.details ? { ...own, ...d.details } : own;
          if (!PERSON_KEYS.some((k) => d.details?.[k] !== undefined)) all.actor = identityOf(turn.actor, this.cfg);
          details = all;
        }
        // The chain-of-custody ids of the event the detection ends with, when that is the event being judged (a
        // detection dated at an earlier event, judged late, has only its evidence ids): see lineageOf.
        if (turn.lineageFrom && (d.time === undefined || d.evidence.at(-1) === turn.lineageFrom) && details?.lineage === undefined) {
          const lineage = lineageOf(turn);
          if (lineage) details = d.time === undefined ? Object.assign(details ?? {}, { lineage }) : { ...details, lineage };
        }
        // A person is one across servers, so their entity is not scoped; the summary still says whose server's model it is about.
        const server = d.time === undefined && turn.platform ? serverScopeOf({ platform: turn.platform, cloud: turn.cloud }) : undefined;
        const det: Detection = { ...d, details, rule, time: d.time === undefined ? turn.time : canonicalTime(d.time) };
        if (server) det.server = { id: server, platform: turn.platform! };
        turn.detections.push(det);
      },
      clock: () => turn.sweepMs,
      receipt: () => turn.receiptMs,
      observe: (label, entity, agg, value, per) => {
        turn.observed = true;
        // The series' own clock closes its windows: one source lagging behind another (CloudTrail via SQS
        // catching up, a backfill) is not judged by the faster one's time (see advance below).
        for (const w of this.baselines.add(rule, label, entity, agg, turn.obsTime, value, turn.evId, turn.obsMs - rule.stat.graceMs, per)) {
          for (const a of this.onWindow(rule, w)) turn.out.push(a);
        }
      },
    };
  }

  process(event: NormalizedEvent, receivedAt?: number): Alert[] {
    if (!this.cfg.enabled) return [];
    if (!this.resumeChecked) this.resumeRules();
    // A dry run (Kubernetes `?dryRun=All`) changed nothing: it is kept as an event, but no rule counts it.
    if (event.details?.dry_run === true) return [];
    // A call made in a role session someone was seen assuming is theirs (a copy: the event itself is not changed).
    const session = assumedRoleArnOf(event.actor);
    const key = event.details?.access_key_id;
    const caller = session ? this.reg.sessionCaller(session, typeof key === 'string' && key ? key : undefined) : undefined;
    const ev: NormalizedEvent = caller ? { ...event, actor: { ...event.actor, assumed_by: caller } as NormalizedEvent['actor'] } : event;
    const out: Alert[] = [];
    const t = Date.parse(ev.time);
    // The earlier of the event's received_time (a forwarder sets its own) and this bridge's receipt.
    const stamped = Date.parse(ev.received_time);
    const received = receivedAt !== undefined && !(stamped <= receivedAt) ? receivedAt : stamped;
    const clock = Number.isFinite(received) ? Math.min(t, received + MAX_CLOCK_SKEW_MS) : t;
    const wm = this.advanceClock(clock, received, out);
    const now = Math.max(clock, wm);
    // Baselines take the clamped time: an event stamped far ahead must not open (and so blind) a future window.
    // Times the engine keeps and compares as strings are UTC with milliseconds (`+02:00` or sub-ms digits
    // would sort wrong against them).
    const time = canonicalTime(ev.time);
    const obsTime = clock < t ? new Date(clock).toISOString() : time;
    const turn = this.turn;
    turn.time = time;
    turn.obsTime = obsTime;
    turn.obsMs = Math.min(clock, t);
    // Waiting judgements (an approval's hour, a deployment's models) advance by event time, never past the
    // receipt: the hour of skew the windows allow would let one event dated ahead judge them early.
    turn.sweepMs = Number.isFinite(received) ? Math.min(t, received) : t;
    turn.receiptMs = this.opts.receipts !== false && Number.isFinite(received) ? received : t;
    turn.now = now;
    turn.out = out;
    turn.evId = ev.id;
    turn.platform = ev.platform;
    turn.actor = ev.actor;
    turn.cloud = ev.cloud;
    turn.resource = ev.resource;
    turn.ml = ev.ml;
    turn.lineageFrom = ev.id;
    turn.invokedBy = typeof ev.details?.invoked_by === 'string' && ev.details.invoked_by ? ev.details.invoked_by : undefined;
    turn.gitopsApplication = typeof ev.details?.gitops_application === 'string' && ev.details.gitops_application ? ev.details.gitops_application : undefined;
    // The second report of one change (another channel's: see echo.ts) is skipped by the rules that took the first.
    const changeKey = changeKeyOf(ev);
    const echo = changeKey ? this.echoes.echoOf(ev, changeKey) : undefined;
    const took: string[] = [];
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      // The start time is written once and never changes, so caching it keeps serve and replay identical.
      // (cached only once read back from the store, so a rolled-back transaction cannot leave the cache ahead of it).
      if (this.unstarted > 0 && !this.started[i]) {
        if (this.state.get<number>(ENGINE_NS, `start|${rule.id}`) === undefined) this.state.set(ENGINE_NS, `start|${rule.id}`, t);
        else {
          this.started[i] = true;
          this.unstarted--;
        }
      }
      if (echo?.rules.includes(rule.id)) continue;
      const detections = turn.detections;
      // Truncating an array is a runtime call; most rules detect nothing on most events, leaving it empty.
      if (detections.length) detections.length = 0;
      turn.observed = false;
      try {
        this.impls[i]!(ev, this.contexts[i]!);
      } catch (err) {
        // One rule that cannot handle this event must not silence the others for it.
        detections.length = 0;
        this.onRuleError?.(rule.id, err, ev);
        continue;
      }
      if (changeKey && (detections.length || turn.observed)) took.push(rule.id);
      for (let j = 0; j < detections.length; j++) for (const a of this.onDetection(detections[j]!)) out.push(a);
    }
    this.reg.update(ev, !!echo);
    // Kinds that judge again what an earlier event left open, once this event's facts are in the registry
    // (a deployment that arrived before its endpoint config or model).
    for (const i of this.afterUpdate) {
      const rule = this.rules[i]!;
      if (echo?.rules.includes(rule.id)) continue;
      const detections = turn.detections;
      if (detections.length) detections.length = 0;
      try {
        KIND_AFTER_UPDATE[rule.kind]!(ev, this.contexts[i]!);
      } catch (err) {
        detections.length = 0;
        this.onRuleError?.(rule.id, err, ev);
        continue;
      }
      if (changeKey && detections.length && !took.includes(rule.id)) took.push(rule.id);
      for (const d of detections) out.push(...this.onDetection(d));
    }
    if (changeKey && !echo) this.echoes.remember(ev, changeKey, took);
    return out;
  }

  /**
   * Once, before the first event this engine judges: the windowed rules that were off in the run before
   * (disabled, or a custom rule removed, then back) restart their windows at the engine's clock. The time
   * they did not run is not empty windows: judged as 0, it was a false drop (and a streak) on their return.
   */
  private resumeRules(): void {
    this.resumeChecked = true;
    const ids = this.rules.map((r) => r.id);
    const before = this.state.get<string[]>(ENGINE_NS, 'rules_on');
    if (!before || before.length !== ids.length || before.some((x, i) => x !== ids[i])) this.state.set(ENGINE_NS, 'rules_on', ids);
    const wm = this.state.get<number>(ENGINE_NS, 'watermark');
    if (!before || wm === undefined) return;
    for (const r of this.windowed) {
      if (!before.includes(r.id) && this.state.get<number>(ENGINE_NS, `start|${r.id}`) !== undefined) this.baselines.resume(r, wm);
    }
  }

  /**
   * Move the engine's clock (the highest event time seen, bounded by receipt) to `clock`: prune by day, and
   * judge the windows of series gone quiet. Remembers when that time was received, for `tick`. Returns the
   * clock as it was.
   */
  private advanceClock(clock: number, received: number, out: Alert[]): number {
    const wm = this.state.get<number>(ENGINE_NS, 'watermark') ?? 0;
    if (clock > wm) {
      this.state.set(ENGINE_NS, 'watermark', clock);
      if (Number.isFinite(received)) this.state.set(ENGINE_NS, 'watermark_receipt', received);
      if (Math.floor(clock / DAY_MS) > Math.floor(wm / DAY_MS)) this.prune(clock);
      // Series that have gone quiet are judged by the engine's clock, quiet_grace later (a silent source still counts 0).
      for (const r of this.windowed) for (const w of this.baselines.advance(r, clock - r.stat.graceMs - r.stat.quietGraceMs)) for (const a of this.onWindow(r, w)) out.push(a);
    }
    return wm;
  }

  tick(nowMs: number, runningSinceMs = Number.NEGATIVE_INFINITY): Alert[] {
    if (!this.cfg.enabled) return [];
    if (!this.resumeChecked) this.resumeRules();
    const wm = this.state.get<number>(ENGINE_NS, 'watermark');
    const since = this.state.get<number>(ENGINE_NS, 'watermark_receipt');
    // Counted from this run's start at the earliest: while the bridge was down the sources did not go quiet,
    // their input waited (Pub/Sub, Firehose and the apiserver resend it within minutes of a restart).
    const from = since === undefined ? undefined : Math.max(since, runningSinceMs);
    if (wm === undefined || from === undefined || !(nowMs > from)) return [];
    // The sources' clock now: the latest event time plus the time passed since it was received (a backfill
    // stays on its own clock; a live source's delivery lag is kept). Never ahead of now by more than the skew
    // allowed to an event.
    const srcNow = Math.min(wm + (nowMs - from), nowMs + MAX_CLOCK_SKEW_MS);
    const out: Alert[] = [];
    if (srcNow > wm) {
      this.advanceClock(srcNow, Number.NaN, out);
      // The watermark moved without an event: its receipt moves with it, so the next tick counts from here.
      this.state.set(ENGINE_NS, 'watermark_receipt', nowMs);
    }
    const turn = this.turn;
    turn.time = new Date(srcNow).toISOString();
    turn.obsTime = turn.time;
    turn.obsMs = srcNow;
    turn.sweepMs = Math.min(srcNow, nowMs);
    turn.receiptMs = nowMs;
    turn.now = Math.max(srcNow, wm);
    turn.out = out;
    turn.evId = '';
    turn.actor = undefined;
    turn.cloud = undefined;
    turn.resource = undefined;
    turn.ml = undefined;
    turn.lineageFrom = undefined;
    const beat = { time: turn.time } as NormalizedEvent;
    for (let i = 0; i < this.rules.length; i++) {
      const onTick = KIND_ON_TICK[this.rules[i]!.kind];
      if (!onTick) continue;
      turn.detections.length = 0;
      try {
        onTick(beat, this.contexts[i]!);
      } catch (err) {
        turn.detections.length = 0;
        this.onRuleError?.(this.rules[i]!.id, err, beat);
        continue;
      }
      for (const d of turn.detections) out.push(...this.onDetection(d));
    }
    return out;
  }

  flush(time: string): Alert[] {
    if (!this.cfg.enabled) return [];
    // Not past the engine's clock: events dated ahead of their receipt did not move it, so (as in serve)
    // the windows after it have not ended.
    const asked = Date.parse(time);
    const wm = this.state.get<number>(ENGINE_NS, 'watermark');
    const t = wm !== undefined && asked > wm ? wm : asked;
    const out: Alert[] = [];
    // End of input: nothing later will come, so windows ended by `time` close without waiting for lateness.
    for (const r of this.windowed) for (const w of this.baselines.advance(r, t)) out.push(...this.onWindow(r, w));
    // …and what kinds keep waiting for (a deployment's unseen models) is judged with what is known.
    const turn = this.turn;
    turn.platform = undefined;
    // What the kinds judge at the end is no event's: no event's lineage is theirs.
    turn.lineageFrom = undefined;
    turn.ml = undefined;
    turn.time = Number.isFinite(t) ? new Date(t).toISOString() : time;
    turn.obsMs = t;
    turn.sweepMs = t;
    turn.receiptMs = Number.POSITIVE_INFINITY;
    turn.out = out;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const atEnd = KIND_AT_END[rule.kind];
      if (!atEnd) continue;
      turn.detections.length = 0;
      atEnd({ time: turn.time } as NormalizedEvent, this.contexts[i]!);
      for (const d of turn.detections) out.push(...this.onDetection(d));
    }
    return out;
  }

  catalogue(): RuleInfo[] {
    return resolveRules(this.cfg).map((r) => ({
      id: r.id,
      stage: r.stage,
      kind: r.kind,
      mode: r.mode,
      description: r.description,
      settings: {
        enabled: r.enabled,
        severity: r.severity,
        custom: r.custom,
        ...(STATISTICAL_KINDS.has(r.kind) || MIXED_KINDS.has(r.kind)
          ? { window_ms: r.stat.windowMs, grace_ms: r.stat.graceMs, quiet_grace_ms: r.stat.quietGraceMs, k: r.stat.k, direction: r.stat.direction, n: r.stat.n, learning_ms: r.stat.learningMs, min_samples: r.stat.minSamples, seasonality: r.stat.seasonality, ...(MIXED_KINDS.has(r.kind) ? { window_mode: r.stat.mode, window_suppress_ms: r.stat.suppressMs } : {}) }
          : {}),
        ...(STATISTICAL_KINDS.has(r.kind) ? {} : { event_n: r.n, event_learning_ms: r.learningMs }),
        suppress_ms: r.suppressMs,
        // The kind's own settings as they apply: its defaults, then what the config sets.
        ...KIND_DEFAULTS[r.kind],
        ...r.settings,
      },
    }));
  }

  /** A closed window: record it for tuning; an anomalous one is a detection. */
  private onWindow(rule: ResolvedRule, w: WindowResult): Alert[] {
    const day = this.day(rule.id, w.windowStart);
    if (w.z !== undefined) {
      day.windows++;
      day.z.n++;
      day.z.sum += w.z;
      day.z.sumsq += w.z * w.z;
      // A day recorded before zhist_dir was kept starts from its |z| bins (what tune read until then).
      day.zhist_dir ??= [...day.zhist];
      day.zhist[Math.min(Z_BINS - 1, Math.floor(Math.abs(w.z) * 2))]!++;
      const dir = rule.stat.direction;
      const along = dir === 'both' ? Math.abs(w.z) : Math.max(0, dir === 'above' ? w.z : -w.z);
      day.zhist_dir[Math.min(Z_BINS - 1, Math.floor(along * 2))]!++;
    }
    if (w.anomalous) day.streaks[String(w.streak)] = (day.streaks[String(w.streak)] ?? 0) + 1;
    this.saveDay(rule.id, w.windowStart, day);
    if (!w.anomalous) return [];
    const b = w.baseline!;
    return this.onDetection({
      rule, time: w.time, window: w, entity: w.entity, key: w.label, evidence: w.evidence,
      title: `${w.label} ${w.z! > 0 ? 'above' : 'below'} baseline`,
      summary: `${w.entity.id}: ${w.label} = ${round(w.value)} in ${w.windowStart}..${w.windowEnd}, baseline ${round(b.median)} ± ${round(b.sigma)} (z = ${round(w.z!)}, ${w.streak} consecutive window(s))`,
      // The σ and z judged with, and what set σ (a floor, or the baseline's own spread).
      details: { measure: w.label, value: w.value, ...(w.ratio ? { numerator: w.ratio.numerator, denominator: w.ratio.denominator } : {}), baseline_median: b.median, baseline_sigma: b.sigma, sigma_from: w.sigmaFrom, baseline_samples: b.samples, z: w.z, k: rule.stat.k, direction: rule.stat.direction, window_start: w.windowStart, window_end: w.windowEnd, consecutive: w.streak },
    });
  }

  /** Detection → (N consecutive, learning, mode, suppression) → maybe an alert. */
  private onDetection(d: Detection): Alert[] {
    const { rule } = d;
    // A window's detection is the σ part's: its mode and suppression (a mixed kind's σ part follows
    // `defaults.statistical`, its per-event part `defaults.per_event`).
    const ruleMode = d.window ? rule.stat.mode : rule.mode;
    const suppressMs = d.window ? rule.stat.suppressMs : rule.suppressMs;
    // Suppression and streaks count an event dated far ahead of its receipt at the clock's bound (receipt + 1 h),
    // as the windows do: alternating it with real events must not switch suppression off for them.
    const t = d.window ? Date.parse(d.time) : Math.min(Date.parse(d.time), this.turn.obsMs);
    const day = this.day(rule.id, d.time);
    day.detections++;
    if (!day.entities.includes(d.entity.id) && day.entities.length < 50) day.entities.push(d.entity.id);
    const entityKey = `${rule.id}|${d.entity.type}|${d.entity.id}|${d.key ?? ''}`;
    let streak: number;
    let need: number;
    let learning: boolean;
    /** Evidence of the earlier detections of the streak that makes the case (N > 1). */
    let streakEvidence: string[] = [];
    let streakSince: string | undefined;
    /** Detections below N before this one: counted with it, as its evidence carries them. */
    let uncounted = 0;
    if (d.window) {
      streak = d.window.streak;
      need = rule.stat.n;
      learning = d.window.learning;
      // The run's windows below N are detections its evidence carries: counted (and dated) with the first
      // window that reaches N; later windows of the run count one each.
      if (need > 1 && streak === need) {
        uncounted = need - 1;
        streakSince = d.window.streakFirst;
      }
    } else {
      const s = this.state.get<Streak>(ENGINE_NS, `streak|${entityKey}`);
      // An earlier event (arriving late) continues the run; `t` is already bounded for one dated far ahead.
      const cont = !!s && t - s.last <= rule.suppressMs;
      const count = cont ? s.count + 1 : 1;
      const runs = [...(cont ? (s.evidence ?? []) : []), d.evidence].slice(-Math.min(rule.n, MAX_EVIDENCE));
      const since = cont && s.since && s.since < d.time ? s.since : d.time;
      const below = cont ? (s.below ?? 0) : 0;
      uncounted = count < rule.n ? 0 : below;
      const pendingBelow = count < rule.n ? below + 1 : 0;
      this.state.set(ENGINE_NS, `streak|${entityKey}`, { count, last: s && cont ? Math.max(s.last, t) : t, ...(rule.n > 1 ? { evidence: runs, since, ...(pendingBelow ? { below: pendingBelow } : {}) } : {}) } satisfies Streak);
      streak = count;
      need = rule.n;
      if (rule.n > 1) {
        streakEvidence = runs.slice(0, -1).flat();
        streakSince = since;
      }
      // No learning period means none, also for an event older than the first one seen (a backfill after
      // live input): it used to count as "before the start" and be hidden in observe mode.
      const start = this.state.get<number>(ENGINE_NS, `start|${rule.id}`) ?? t;
      learning = rule.learningMs > 0 && t < start + rule.learningMs;
    }
    if (streak < need) {
      day.below_n++;
      this.saveDay(rule.id, d.time, day);
      return [];
    }
    const mode: 'observe' | 'alert' = ruleMode === 'observe' || learning ? 'observe' : 'alert';
    const supKey = `sup|${entityKey}`;
    const sup = this.state.get<Suppression>(ENGINE_NS, supKey);
    // A repeat is a detection within `suppress` of an alert sent, after it or (a late or out-of-order arrival)
    // before it; the time is bounded at receipt + 1 h (see above), so one dated far ahead cannot mute what
    // comes until then. One further from every recent alert — a backfill of last month — is its own alert,
    // as replay raises it, and what is held back since the last alert stays held.
    const emits = sup?.emits ?? (sup?.last_emit !== undefined ? [sup.last_emit] : []);
    const near = emits.some((e) => Math.abs(t - e) < suppressMs);
    // Dated before the last alert by more than `suppress`: a backfill, whose repeats are held for its own next alert.
    const old = !!sup && sup.last_emit !== undefined && sup.last_emit - t >= suppressMs;
    if (sup && near && (sup.last_mode === mode || mode === 'observe')) {
      // first/last seen and evidence describe what is suppressed since the last alert sent, not that alert.
      const held: Held = old ? (sup.back ??= { first_seen: d.time, last_seen: d.time, pending: 0 }) : sup;
      if (held.pending === 0) {
        held.first_seen = d.time;
        held.last_seen = d.time;
        held.evidence = [];
      }
      held.pending += 1 + uncounted;
      if (d.time < held.first_seen) held.first_seen = d.time;
      if (d.time > held.last_seen) held.last_seen = d.time;
      held.evidence = tail([...(held.evidence ?? []), ...streakEvidence, ...d.evidence]);
      this.state.set(ENGINE_NS, supKey, sup);
      day.suppressed++;
      this.saveDay(rule.id, d.time, day);
      return [];
    }
    const backfill = old && !near;
    // A live alert carries the backfill's repeats still held too (replay's next alert after them would).
    const heldBefore: Held | undefined = backfill ? sup?.back : sup?.back?.pending ? mergeHeld(sup, sup.back) : sup;
    const pending = heldBefore && heldBefore.pending > 0 ? heldBefore : undefined;
    const firstSeen = [pending?.first_seen, streakSince, d.time].filter((x): x is string => !!x).sort()[0]!;
    const lastSeen = pending && pending.last_seen > d.time ? pending.last_seen : d.time;
    const count = (pending?.pending ?? 0) + 1 + uncounted;
    // The events that made the case: the suppressed repeats and the streak before this detection, then its own (last).
    const earlier = tail([...(pending?.evidence ?? []), ...streakEvidence]).filter((id) => !d.evidence.includes(id));
    const sent = [...emits, t].sort((a, b) => a - b).slice(-MAX_EMITS);
    if (backfill) this.state.set(ENGINE_NS, supKey, { ...sup!, back: undefined, emits: sent } satisfies Suppression);
    else this.state.set(ENGINE_NS, supKey, { first_seen: d.time, last_seen: d.time, pending: 0, last_emit: Math.max(t, sup?.last_emit ?? t), last_mode: mode, emits: sent } satisfies Suppression);
    if (!d.window && rule.n > 1) {
      // Sent with this alert: later alerts of the same run carry only what came after it.
      const s = this.state.get<Streak>(ENGINE_NS, `streak|${entityKey}`)!;
      this.state.set(ENGINE_NS, `streak|${entityKey}`, { count: s.count, last: s.last, evidence: [] } satisfies Streak);
    }
    if (mode === 'observe') day.observe++;
    else day.alerts++;
    this.saveDay(rule.id, d.time, day);
    const discriminator = d.window ? d.window.windowStart : (d.evidence.at(-1) ?? d.time);
    // A model version's chain of custody as the registry state holds it (artifact, digest, producing runs, who trained,
    // evaluated, registered and approved it): one state read per alert sent, none for the repeats suppressed above.
    // A record created after the detection's time is another version under the same name and number (a package group
    // deleted and re-created, an MLflow model deleted or renamed away and a new one registered under its name, judged
    // at the end of its wait or of a replay): its artifact, runs and people are not this alert's.
    const rec = d.entity.type === 'model_version' && d.entity.platform ? this.reg.version(versionKeyOfEntity(d.entity.platform, d.entity.id)) : undefined;
    const registry = rec && !(rec.created && Date.parse(rec.created.time) > Date.parse(d.time)) ? registryLineage(rec) : undefined;
    const lineage = registry ? { ...((d.details?.lineage as Record<string, unknown> | undefined) ?? {}), registry } : undefined;
    return [
      {
        schema_version: SCHEMA_VERSION,
        id: stableId('alert', rule.id, d.entity.type, d.entity.id, d.key ?? '', discriminator),
        rule_id: rule.id,
        stage: rule.stage,
        severity: cappedSeverity(rule.severity, d.severity_cap),
        mode,
        title: `${rule.id}: ${d.title}`,
        summary: boundValue('summary', summaryWithServer(d.summary, d.entity, d.server)) as string,
        time: d.time,
        entity: pruneEntity(d.entity),
        evidence: capEvidence(earlier, d.evidence),
        details: {
          kind: rule.kind,
          ...(mode === 'observe' ? { observe_reason: ruleMode === 'observe' ? 'rule in observe mode' : 'learning period' } : {}),
          ...(d.window ? {} : { consecutive: streak }),
          ...stripUndefined(d.details ?? {}),
          ...(lineage ? stripUndefined({ lineage }) : {}),
        },
        count,
        first_seen: firstSeen,
        last_seen: lastSeen,
      },
    ];
  }

  /** Once per event-time day: forget suppression and streak records nothing refers to any more. */
  private prune(now: number): void {
    for (const { key, value } of this.state.list<Suppression>(ENGINE_NS, 'sup|')) {
      // Repeats still held (pending) go too once they are as old: they wait for the entity's next alert, and an
      // entity never seen again kept its record for good (one per entity that ever repeated).
      const held = [value.pending > 0 ? value.last_seen : undefined, value.back?.pending ? value.back.last_seen : undefined].map((x) => (x ? Date.parse(x) : 0));
      const last = Math.max(value.last_emit ?? 0, ...held.filter(Number.isFinite));
      if (value.last_emit !== undefined && now - last > this.keepMs) this.state.delete(ENGINE_NS, key);
    }
    for (const { key, value } of this.state.list<{ last: number }>(ENGINE_NS, 'streak|')) if (now - value.last > this.keepMs) this.state.delete(ENGINE_NS, key);
    this.echoes.prune(now);
    // Days of statistics past rules.stats_retention_days are deleted by the bridge's housekeeping on its own
    // connection: a cache of them here would hold them (memory grew a row per rule a day) until restart.
    const cutoff = this.statsCutoff(now);
    if (cutoff) this.state.forget?.(STATS_NS, (key) => isStatsDayBefore(key, cutoff));
  }

  /** The first day of statistics kept at `now` (see stats-retention), or undefined when every day is kept. */
  private statsCutoff(now: number): string | undefined {
    if (!(this.cfg.stats_retention_days > 0 && now > 0)) return undefined;
    // Asked on every detection and window (saveDay): the cutoff moves only with now's UTC day, so it is made once a day.
    const day = Math.floor(now / DAY_MS);
    if (day !== this.cutoffFor.day) {
      const cutoff = statsCutoffDay(now, this.cfg.stats_retention_days);
      this.cutoffFor = { day, cutoff };
    }
    return this.cutoffFor.cutoff;
  }
  private cutoffFor: { day: number; cutoff?: string } = { day: Number.NaN };

  private day(rule: string, time: string): DayStats {
    return this.state.get<DayStats>(STATS_NS, `${rule}|${time.slice(0, 10)}`) ?? emptyDay();
  }
  private saveDay(rule: string, time: string, d: DayStats): void {
    // A day already past the retention (an event that late) is not written again: housekeeping deleted it, or will.
    const cutoff = this.statsCutoff(this.turn.now);
    if (cutoff && time.slice(0, 10) < cutoff) return;
    this.state.set(STATS_NS, `${rule}|${time.slice(0, 10)}`, d);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function pruneEntity(e: Entity): Alert['entity'] {
  const out: Alert['entity'] = { type: e.type, id: e.id };
  if (e.name) out.name = e.name;
  if (e.platform) out.platform = e.platform as Alert['entity']['platform'];
  return out;
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(o, boundValue)) as Record<string, unknown>;
}

/** Longest text an alert carries from an event (a summary, a detail); the event itself keeps it whole. */
const MAX_ALERT_TEXT = 2048;
/** Most items of one list in an alert's details (a monitor's features, linked versions). */
const MAX_ALERT_LIST = 200;

/**
 * Bounds what an alert copies from events: a 1 MB error message made a 2 MB alert (summary and details),
 * kept in the alert log and sent to every SIEM. The evidence ids lead to the full event.
 */
function boundValue(_key: string, v: unknown): unknown {
  if (typeof v === 'string' && v.length > MAX_ALERT_TEXT) return `${v.slice(0, MAX_ALERT_TEXT)}… (${v.length} characters)`;
  if (Array.isArray(v) && v.length > MAX_ALERT_LIST) return [...v.slice(0, MAX_ALERT_LIST), `… ${v.length - MAX_ALERT_LIST} more`];
  return v;
}

/**
 * Create the rule engine.
 *
 * @example
 * const engine = createRuleEngine(RulesConfig.parse({}), spool.state);
 * const alerts = engine.process(event);
 */
export function createRuleEngine(config: RulesConfig, state: StateStore, onRuleError?: RuleErrorHandler, opts: EngineOptions = {}): RuleEngine {
  return new Engine(config, state, onRuleError, opts);
}

export interface EngineOptions {
  /**
   * Whether receipt times mean anything (true when serving). `replay` stamps every record it reads with one
   * receipt, so there waits for later facts go by event time alone, as the records are in event-time order.
   */
  receipts?: boolean;
}

/** Told when one rule throws on an event (the other rules still evaluate it). */
export type RuleErrorHandler = (ruleId: string, err: unknown, ev: NormalizedEvent) => void;
