import type { NormalizedEvent } from '../../schema/index.js';
import { durationMs } from '../config.js';
import { anyGlob, callerText, deploymentConfigOf, endpointKey, endpointOf, identityOf, namedEntity, sagemakerHomeOf, scopeOf, scopedName } from '../facts.js';
import { setting, waitStart, waited, type KindImpl, type RuleContext } from './context.js';

/**
 * `serving.monitoring_disabled`: what would notice a tampered model switched off first — a SageMaker Model Monitor
 * schedule stopped, deleted or pointed at another job definition, baseline or schedule; an endpoint moved onto an
 * endpoint config that captures no data, less of it, or into another bucket; a Vertex model monitoring job paused,
 * deleted or changed, a v2 model monitor or monitoring job deleted; an endpoint's request-response logging switched
 * off or sampled less. The details name what was switched off and, where mltrail saw it, what it was before.
 *
 * Not findings: a stop or delete followed within `grace` by a restart of the same monitor (an automation redeploying
 * it), or by the deletion of the endpoint it watches (a teardown: no model is left to tamper with) — so a stop or
 * delete waits `grace` before it is judged; a monitor deleted within `grace` after its endpoint; `ignore_endpoints`
 * (test endpoints) and `exempt` identities.
 */

const MONITOR_TYPES = new Set(['monitoring_schedule', 'model_deployment_monitoring_job', 'model_monitor', 'model_monitoring_job']);
/** Vertex update mask paths that change nothing a monitor judges by. */
const HARMLESS_MASK = /^(display_?name|displayName|labels(\..*)?)$/;
/** Held stops and deletes at most: beyond it the oldest is judged at once. */
const MAX_HELD = 500;
/** Deleted endpoints remembered (`gone`): for this long after their deletion, and this many at most (oldest dropped). */
const GONE_KEEP_MS = 35 * 86_400_000;
const MAX_GONE = 2000;

interface MonitorState { endpoint?: string; definition?: string; baseline?: string; schedule?: string; event: string; time: string }
interface Capture { enabled: boolean; sampling?: number; destination?: string; modes?: string[] }
interface Held { id: string; at: number; rcv: number; time: string; monitor: string; monitorName: string; endpoint?: string; epKey?: string; op: string; action: string; who?: string; platform: string; known?: MonitorState }
/**
 * A held stop as the index (`held-index`) keeps it: its id, when its wait started (`at` by event time, `rcv` by
 * receipt: `null` where JSON could not keep it) and the monitor and endpoint keys a restart or teardown looks for. The
 * index alone tells which stops are due, so a sweep on every event reads one key, and a held stop's own record is
 * read only when it is judged. An index an earlier mltrail wrote holds bare ids: read once, it is rewritten as these.
 */
interface HeldRef { id: string; at: number; rcv: number | null; mon: string; ep?: string }

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** A monitor's state key: a SageMaker schedule by its account, region and name; a Vertex job or monitor by its resource name. */
function monitorKey(ev: NormalizedEvent): { key: string; name: string } | undefined {
  const name = ev.platform === 'sagemaker' ? ev.resource?.name ?? ev.resource?.id : ev.resource?.id ?? ev.resource?.name;
  // A SageMaker schedule's home is its ARN's account and region where the event carries no cloud fields.
  return name ? { key: `mon|${ev.platform}|${scopedName(name, sagemakerHomeOf(ev) ?? scopeOf(ev))}`, name } : undefined;
}

/** An endpoint's key (endpointKey) from its logged name; a Vertex endpoint by its resource name. */
function epKeyOf(ev: NormalizedEvent, ep: string | undefined): string | undefined {
  return ep ? `ep|${ev.platform}|${endpointKey(ev, ep)}` : undefined;
}

function captureText(c: Capture | undefined): string {
  if (!c || !c.enabled) return 'off';
  return `${c.sampling !== undefined ? `${c.sampling} %` : 'on'}${c.destination ? ` to ${c.destination}` : ''}`;
}

function loggingText(c: Capture | undefined): string {
  if (!c || !c.enabled) return 'off';
  return `${c.sampling !== undefined ? `${Math.round(c.sampling * 1000) / 10} % of requests` : 'on'}${c.destination ? ` to ${c.destination}` : ''}`;
}

/** What a change of capture or logging took away: off, less sampled, elsewhere; undefined when nothing. */
function lessening(before: Capture | undefined, now: Capture | undefined): string | undefined {
  if (!before?.enabled) return undefined;
  if (!now?.enabled) return 'switched off';
  if (before.sampling !== undefined && now.sampling !== undefined && now.sampling < before.sampling) return 'sampled less';
  if (before.destination && now.destination && before.destination !== now.destination) return 'sent elsewhere';
  // Input and Output captured before, one of them now (CaptureOptions): a model-quality or bias monitor needs both.
  if (before.modes && now.modes && before.modes.some((m) => !now.modes!.includes(m))) return 'captures less';
  return undefined;
}

function ignoredEndpoint(ctx: RuleContext, ep: string | undefined): boolean {
  if (!ep) return false;
  const short = ep.split('/').pop() ?? ep;
  return anyGlob(setting<string[]>(ctx, 'ignore_endpoints'), ep) || anyGlob(setting<string[]>(ctx, 'ignore_endpoints'), short);
}

export const monitoringDisabled: KindImpl = (ev, ctx) => {
  sweepHeldMonitors(ev, ctx);
  if (ev.outcome === 'failure') return;
  const d = ev.details ?? {};
  const grace = durationMs(setting(ctx, 'grace'));
  const who = identityOf(ev.actor, ctx.cfg);
  const exempt = !!who && anyGlob(setting<string[]>(ctx, 'exempt'), who);

  // SageMaker: an endpoint config's data capture, and the config an endpoint runs.
  if (ev.platform === 'sagemaker' && ev.action === 'endpoint_config.create') {
    const name = ev.resource?.name ?? deploymentConfigOf(ev);
    const dc = ev.ml?.deployment?.data_capture as { enabled?: boolean; sampling_percentage?: number; destination?: string; capture_modes?: string[] } | undefined;
    const modes = Array.isArray(dc?.capture_modes) && dc.capture_modes.length ? [...dc.capture_modes].sort() : undefined;
    if (name) ctx.set(`cap|${scopedName(name, scopeOf(ev))}`, { enabled: !!dc && dc.enabled !== false, sampling: dc?.sampling_percentage, destination: dc?.destination, ...(modes ? { modes } : {}) } satisfies Capture);
    return;
  }
  // A config deleted cannot be deployed again: what it captured is no longer needed (the state would grow per config).
  if (ev.platform === 'sagemaker' && ev.action === 'endpoint_config.delete') {
    const name = ev.resource?.name ?? deploymentConfigOf(ev);
    if (name) ctx.delete(`cap|${scopedName(name, scopeOf(ev))}`);
    return;
  }
  // A job definition names the endpoint its schedules watch (a schedule naming a definition carries none itself):
  // kept so that a schedule deleted with its endpoint (a stack teardown) is known as such.
  if (ev.platform === 'sagemaker' && ev.resource?.type === 'monitoring_job_definition' && /^monitor\.(create|delete)$/.test(ev.action)) {
    const name = str(d.monitoring_job_definition) ?? ev.resource.name;
    if (!name) return;
    const key = `def|${scopedName(name, sagemakerHomeOf(ev) ?? scopeOf(ev))}`;
    const ep = str(d.monitored_endpoint);
    if (ev.action === 'monitor.delete') ctx.delete(key);
    else if (ep) ctx.set(key, ep);
    return;
  }
  if (ev.platform === 'sagemaker' && ev.action === 'endpoint.deploy' && (ev.operation === 'CreateEndpoint' || ev.operation === 'UpdateEndpoint')) {
    const ep = endpointOf(ev);
    const cfgName = deploymentConfigOf(ev);
    const key = epKeyOf(ev, ep);
    if (!ep || !cfgName || !key) return;
    const now = ctx.get<Capture>(`cap|${scopedName(cfgName, scopeOf(ev))}`);
    const before = ctx.get<{ config: string; capture?: Capture }>(`${key}|cfg`);
    ctx.set(`${key}|cfg`, { config: cfgName, capture: now });
    setGone(ctx, key, undefined, Date.parse(ev.time));
    // A config never seen says nothing of its capture: not judged (the capture of the one before is not known off).
    if (ev.operation !== 'UpdateEndpoint' || !before || !now || exempt || ignoredEndpoint(ctx, ep)) return;
    const lost = lessening(before.capture, now);
    if (!lost) return;
    ctx.detect({
      entity: namedEntity('endpoint', endpointKey(ev, ep), ep, ev.platform), key: `data_capture|${lost}|${cfgName}`, evidence: [ev.id],
      title: 'Endpoint data capture switched off or reduced',
      summary: `${callerText(ev.actor, ctx.cfg)} moved endpoint ${ep} from config ${before.config} to ${cfgName}: data capture ${lost} (was ${captureText(before.capture)}${lost === 'captures less' ? ` of ${before.capture?.modes?.join(' and ')}` : ''}, now ${captureText(now)}${lost === 'captures less' ? ` of ${now.modes?.join(' and ')}` : ''}); Model Monitor has nothing to judge what it serves`,
      details: { what: 'data_capture', change: lost, endpoint: ep, identity: who, operation: ev.operation, previous_config: before.config, config: cfgName, previous: before.capture, now },
    });
    return;
  }

  // Vertex: an endpoint's request-response logging as last set.
  const rl = d.request_logging as { enabled?: boolean; sampling_rate?: number; destination?: string } | undefined;
  if (ev.platform === 'vertex' && rl && typeof rl === 'object') {
    const ep = ev.resource?.id ?? endpointOf(ev);
    const key = epKeyOf(ev, ep);
    if (!key || !ep) return;
    const now: Capture = { enabled: rl.enabled === true, sampling: rl.sampling_rate, destination: rl.destination };
    const before = ctx.get<Capture>(`${key}|log`);
    ctx.set(`${key}|log`, now);
    if (ev.action === 'endpoint.create' || exempt || ignoredEndpoint(ctx, ep)) return;
    // Never seen before: an update naming the logging config and switching it off is still a deliberate step.
    const lost = before ? lessening(before, now) : now.enabled ? undefined : 'switched off';
    if (!lost) return;
    ctx.detect({
      entity: namedEntity('endpoint', endpointKey(ev, ep), ep, ev.platform), key: `request_logging|${lost}`, evidence: [ev.id],
      title: 'Endpoint request-response logging switched off or reduced',
      summary: `${callerText(ev.actor, ctx.cfg)} ${lost === 'switched off' ? 'switched off' : lost === 'sampled less' ? 'reduced' : 'redirected'} request-response logging of endpoint ${ep} (was ${before ? loggingText(before) : 'not seen'}, now ${loggingText(now)}); model monitoring has nothing to judge what it serves`,
      details: { what: 'request_logging', change: lost, endpoint: ep, identity: who, operation: ev.operation, previous: before, now, previous_seen: !!before },
    });
    return;
  }

  // An endpoint deleted: its monitors' stops and deletes held or to come within `grace` are a teardown.
  if ((ev.platform === 'sagemaker' && ev.action === 'endpoint.undeploy' && ev.operation === 'DeleteEndpoint') || ev.action === 'endpoint.delete') {
    const ep = endpointOf(ev) ?? ev.resource?.id;
    const key = epKeyOf(ev, ep);
    if (!key) return;
    setGone(ctx, key, Date.parse(ev.time), Date.parse(ev.time));
    // What it captured or logged is no longer needed (re-created, it starts over): the state would grow per endpoint.
    ctx.delete(`${key}|cfg`);
    ctx.delete(`${key}|log`);
    const index = heldIndex(ctx);
    const torn = index.filter((r) => r.ep === key);
    if (!torn.length) return;
    writeIndex(ctx, index.filter((r) => r.ep !== key));
    for (const r of torn) {
      const h = takeHeld(ctx, r.id);
      if (h && Date.parse(ev.time) - Date.parse(h.time) > grace) report(ctx, h);
    }
    return;
  }

  if (!ev.resource || !MONITOR_TYPES.has(ev.resource.type) || !/^monitor\.(create|update|start|stop|delete)$/.test(ev.action)) return;
  const mk = monitorKey(ev);
  if (!mk) return;
  const known = ctx.get<MonitorState>(mk.key);
  const def = str(d.monitoring_job_definition);
  const ep = str(d.monitored_endpoint) ?? (def ? ctx.get<string>(`def|${scopedName(def, sagemakerHomeOf(ev) ?? scopeOf(ev))}`) : undefined) ?? known?.endpoint;
  if (ev.action === 'monitor.create' || ev.action === 'monitor.update') {
    const next: MonitorState = {
      endpoint: ep, definition: str(d.monitoring_job_definition) ?? known?.definition, baseline: str(d.baseline_constraints) ?? known?.baseline,
      schedule: str(d.schedule_expression) ?? known?.schedule, event: ev.id, time: ev.time,
    };
    ctx.set(mk.key, next);
    if (ev.action === 'monitor.create' || exempt || ignoredEndpoint(ctx, ep)) return;
    const changes: string[] = [];
    if (ev.platform === 'sagemaker') {
      const def = str(d.monitoring_job_definition);
      if (def && def !== known?.definition) changes.push(known?.definition ? `job definition ${known.definition} → ${def}` : `job definition → ${def}`);
      const base = str(d.baseline_constraints);
      if (base && base !== known?.baseline) changes.push(known?.baseline ? `baseline constraints ${known.baseline} → ${base}` : `baseline constraints → ${base}`);
      const sched = str(d.schedule_expression);
      if (sched && sched !== known?.schedule) changes.push(known?.schedule ? `schedule ${known.schedule} → ${sched}` : `schedule → ${sched}`);
    } else {
      const mask = Array.isArray(d.update_mask) ? d.update_mask.filter((p): p is string => typeof p === 'string') : [];
      const judged = mask.filter((p) => !HARMLESS_MASK.test(p));
      if (judged.length) changes.push(`changed ${judged.join(', ')}`);
    }
    if (!changes.length) return;
    ctx.detect({
      entity: monitorEntity(ev, mk.name, ep), key: `update|${mk.name}|${changes.join(',')}`, evidence: [ev.id], title: 'Model monitoring switched off or changed',
      summary: `${callerText(ev.actor, ctx.cfg)} changed ${ev.resource.type.replace(/_/g, ' ')} ${mk.name}${ep ? ` of endpoint ${ep}` : ''} (${ev.operation}): ${changes.join('; ')}${known ? '' : ' (its earlier settings were not seen)'}`,
      details: { what: ev.resource.type, change: 'changed', monitor: mk.name, endpoint: ep, identity: who, operation: ev.operation, changes, previous: known ? { job_definition: known.definition, baseline_constraints: known.baseline, schedule: known.schedule } : undefined, previous_seen: !!known },
    });
    return;
  }
  if (ev.action === 'monitor.start') {
    // Restarted (by anyone) within `grace` of a held stop: monitoring is back, nothing to report.
    // By event time: a restart logged after the grace (read late or not) left the monitor off for longer than that.
    const index = heldIndex(ctx);
    const restarted = index.filter((r) => r.mon === mk.key);
    if (!restarted.length) return;
    writeIndex(ctx, index.filter((r) => r.mon !== mk.key));
    for (const r of restarted) {
      const h = takeHeld(ctx, r.id);
      if (h && Date.parse(ev.time) - Date.parse(h.time) > grace) report(ctx, h);
    }
    return;
  }
  // monitor.stop / monitor.delete. A deleted monitor's settings go whatever is judged of it (a teardown, an exempt
  // caller): kept, every monitor ever torn down would stay in the state.
  if (ev.action === 'monitor.delete') ctx.delete(mk.key);
  if (exempt || ignoredEndpoint(ctx, ep)) return;
  const epKey = epKeyOf(ev, ep);
  const gone = epKey ? ctx.get<Record<string, number>>('gone')?.[epKey] : undefined;
  // Its endpoint deleted (and not made again) before, or at most `grace` after, this stop: a teardown or the clean-up
  // of a monitor left watching nothing. A stop longer before the deletion (read late, out of order) left it unwatched.
  if (gone !== undefined && Date.parse(ev.time) >= gone - grace) return;
  const w = waitStart(ev, ctx);
  const held: Held = { id: ev.id, at: w.at, rcv: w.rcv, time: ev.time, monitor: mk.key, monitorName: mk.name, endpoint: ep, epKey, op: ev.operation, action: ev.action, who: callerText(ev.actor, ctx.cfg), platform: ev.platform, known };
  const index = heldIndex(ctx).filter((r) => r.id !== ev.id);
  index.push({ id: ev.id, at: w.at, rcv: Number.isFinite(w.rcv) ? w.rcv : null, mon: mk.key, ...(epKey ? { ep: epKey } : {}) });
  ctx.set(`held|${ev.id}`, { ...held, type: ev.resource.type, identity: who });
  const over = index.splice(0, Math.max(0, index.length - MAX_HELD));
  writeIndex(ctx, index);
  for (const r of over) {
    const h = takeHeld(ctx, r.id);
    if (h) report(ctx, h);
  }
};

/**
 * Remember (`at`) or forget (undefined: made again) an endpoint's deletion, in one bounded map: deletions older than
 * GONE_KEEP_MS (by `now`) and past MAX_GONE (oldest first) are dropped, so it does not grow with every endpoint ever made.
 */
function setGone(ctx: RuleContext, epKey: string, at: number | undefined, now: number): void {
  const had = ctx.get<Record<string, number>>('gone');
  if (at === undefined && !had?.[epKey]) return;
  const entries = Object.entries(had ?? {}).filter(([k, t]) => k !== epKey && !(now - t > GONE_KEEP_MS));
  if (at !== undefined && !Number.isNaN(at)) entries.push([epKey, at]);
  entries.sort((a, b) => a[1] - b[1]);
  const kept = entries.slice(Math.max(0, entries.length - MAX_GONE));
  if (kept.length) ctx.set('gone', Object.fromEntries(kept));
  else ctx.delete('gone');
}

function monitorEntity(ev: NormalizedEvent, name: string, ep: string | undefined) {
  return ep ? namedEntity('endpoint', endpointKey(ev, ep), ep, ev.platform) : namedEntity('monitor', scopedName(name, sagemakerHomeOf(ev) ?? scopeOf(ev)), name, ev.platform);
}

/**
 * The held stops' index, oldest first. Bare ids (an index an earlier mltrail wrote) are looked up once and the index
 * rewritten with their wait starts and keys; an id whose record is gone is dropped.
 */
function heldIndex(ctx: RuleContext): HeldRef[] {
  const raw = ctx.get<Array<HeldRef | string>>('held-index');
  if (!raw?.length) return [];
  if (!raw.some((r) => typeof r === 'string')) return raw as HeldRef[];
  const out: HeldRef[] = [];
  for (const r of raw) {
    if (typeof r !== 'string') {
      out.push(r);
      continue;
    }
    const h = ctx.get<Held>(`held|${r}`);
    if (h) out.push({ id: r, at: h.at, rcv: typeof h.rcv === 'number' ? h.rcv : null, mon: h.monitor, ...(h.epKey ? { ep: h.epKey } : {}) });
  }
  writeIndex(ctx, out);
  return out;
}

function writeIndex(ctx: RuleContext, index: HeldRef[]): void {
  if (index.length) ctx.set('held-index', index);
  else ctx.delete('held-index');
}

/** A held stop's record, removed from the state (its index entry is the caller's to remove). */
function takeHeld(ctx: RuleContext, id: string): (Held & { type?: string; identity?: string }) | undefined {
  const h = ctx.get<Held & { type?: string; identity?: string }>(`held|${id}`);
  ctx.delete(`held|${id}`);
  return h;
}

/** Whether a held stop's grace is over, by event time and by receipt (a `null` receipt: none kept, as before). */
function due(ctx: RuleContext, r: HeldRef, grace: number): boolean {
  return waited(ctx, { at: r.at, rcv: r.rcv ?? undefined }, grace);
}

/**
 * A held stop or delete, no restart or endpoint teardown having come within `grace`: the finding, dated at it.
 * `endedAt`: the input ended (replay) before its grace ran out, at that time (ms): reported all the same, marked.
 */
function report(ctx: RuleContext, h: Held & { type?: string; identity?: string }, endedAt?: number): void {
  const type = (h.type ?? 'monitor').replace(/_/g, ' ');
  const verb = h.action === 'monitor.stop' ? (h.platform === 'vertex' ? 'paused' : 'stopped') : 'deleted';
  const was = h.known ? [h.known.definition ? `job definition ${h.known.definition}` : undefined, h.known.schedule ? `schedule ${h.known.schedule}` : undefined, h.known.baseline ? `baseline ${h.known.baseline}` : undefined].filter(Boolean).join(', ') : '';
  // The entity keeps the key the event's scope gave (epKey / monitor key hold it): rebuilt from them.
  const epId = h.epKey?.split('|').slice(2).join('|');
  const monId = h.monitor.split('|').slice(2).join('|');
  const grace = durationMs(setting(ctx, 'grace'));
  const pending = endedAt !== undefined && Number.isFinite(endedAt);
  ctx.detect({
    entity: h.endpoint && epId ? namedEntity('endpoint', epId, h.endpoint, h.platform) : namedEntity('monitor', monId, h.monitorName, h.platform),
    key: `${h.action}|${h.monitorName}`, evidence: [h.id], time: h.time, title: 'Model monitoring switched off or changed',
    summary: pending
      ? `${h.who} ${verb} ${type} ${h.monitorName}${h.endpoint ? ` of endpoint ${h.endpoint}` : ''} (${h.op})${was ? ` (it ran ${was})` : ''}, and the input ended ${spanText(endedAt - Date.parse(h.time))} later, within the grace period: a restart or endpoint deletion after the end of input cannot be seen — replay input reaching past ${new Date(Date.parse(h.time) + grace).toISOString()} would tell`
      : `${h.who} ${verb} ${type} ${h.monitorName}${h.endpoint ? ` of endpoint ${h.endpoint}` : ''} (${h.op}) and neither restarted it nor deleted the endpoint within the grace period${was ? ` (it ran ${was})` : ''}: drift, bias and quality of what the endpoint serves are no longer checked`,
    details: {
      what: h.type, change: verb, monitor: h.monitorName, endpoint: h.endpoint, identity: h.identity, operation: h.op, previous: h.known ? { job_definition: h.known.definition, baseline_constraints: h.known.baseline, schedule: h.known.schedule } : undefined, previous_seen: !!h.known,
      ...(pending ? { grace_elapsed: false, input_ended: new Date(endedAt).toISOString() } : {}),
    },
    // Not known to have lasted: the weaker finding (a redeploy finishing after the export's last record looks the same).
    ...(pending ? { severity_cap: 'low' as const } : {}),
  });
}

/** Held stops and deletes whose grace is over (by event time and by receipt) are reported. */
export const sweepHeldMonitors: KindImpl = (_ev, ctx) => {
  const index = heldIndex(ctx);
  if (!index.length) return;
  const grace = durationMs(setting(ctx, 'grace'));
  // One read of the index on every event; a held stop's record is read only once it is due.
  const ripe = index.filter((r) => due(ctx, r, grace));
  if (!ripe.length) return;
  writeIndex(ctx, index.filter((r) => !ripe.includes(r)));
  for (const r of ripe) {
    const h = takeHeld(ctx, r.id);
    if (h) report(ctx, h);
  }
};

/**
 * End of input (replay): every held stop or delete is reported, nothing later can undo it. One whose grace had not run
 * out by the last event's time is marked so (`details.grace_elapsed: false`, `input_ended`, severity at most low):
 * the input ended before a restart or teardown could have come, so whether it lasted is not known. Left out, a stop
 * made in the last minutes of an export would be seen by no run at all.
 */
export const settleHeldMonitors: KindImpl = (_ev, ctx) => {
  const index = heldIndex(ctx);
  writeIndex(ctx, []);
  const grace = durationMs(setting(ctx, 'grace'));
  for (const r of index) {
    const h = takeHeld(ctx, r.id);
    // ctx.clock() is the last event's time here (receipts are not waited for at the end of input).
    if (h) report(ctx, h, due(ctx, r, grace) ? undefined : ctx.clock());
  }
};

/** A span as `7m`, `1h 5m`, `30s`. */
function spanText(ms: number): string {
  if (!(ms >= 60_000)) return `${Math.max(0, Math.round(ms / 1000))}s`;
  const m = Math.round(ms / 60_000);
  return m >= 60 ? `${Math.floor(m / 60)}h${m % 60 ? ` ${m % 60}m` : ''}` : `${m}m`;
}
