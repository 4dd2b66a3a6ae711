import { createHash } from 'node:crypto';
import { FakeHttp, type FakeReply, type FakeRequest } from '../helpers.js';

const gerr = (code: number, status: string, message: string): FakeReply => ({ status: code, json: { error: { code, message, status } } });

/** UDM event types (specs/sinks.md §3.5) and the nouns each requires. */
const EVENT_TYPES = new Set([
  'USER_RESOURCE_ACCESS', 'USER_RESOURCE_CREATION', 'USER_RESOURCE_UPDATE_CONTENT', 'USER_RESOURCE_UPDATE_PERMISSIONS', 'USER_RESOURCE_DELETION',
  'USER_LOGIN', 'USER_LOGOUT', 'USER_CREATION', 'USER_DELETION', 'USER_CHANGE_PASSWORD', 'USER_CHANGE_PERMISSIONS', 'USER_UNCATEGORIZED',
  'GROUP_CREATION', 'GROUP_DELETION', 'GROUP_MODIFICATION', 'RESOURCE_CREATION', 'RESOURCE_DELETION', 'RESOURCE_PERMISSIONS_CHANGE',
  'RESOURCE_READ', 'RESOURCE_WRITTEN', 'SETTING_MODIFICATION', 'STATUS_UPDATE', 'STATUS_HEARTBEAT', 'GENERIC_EVENT',
]);
const ACTIONS = new Set(['UNKNOWN_ACTION', 'ALLOW', 'BLOCK', 'ALLOW_WITH_MODIFICATION', 'QUARANTINE', 'FAIL', 'CHALLENGE']);
const SEVERITIES = new Set(['UNKNOWN_SEVERITY', 'INFORMATIONAL', 'ERROR', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

type Obj = Record<string, any>;
const has = (o: unknown) => o !== undefined && o !== null && (typeof o !== 'object' || Object.keys(o as object).length > 0);
const machineId = (n: Obj | undefined) => !!n && (has(n.hostname) || has(n.ip) || has(n.asset_id) || has(n.mac) || has(n.resource) || has(n.application));
const userId = (u: Obj | undefined) => !!u && (has(u.userid) || has(u.email_addresses) || has(u.product_object_id) || has(u.user_display_name) || has(u.windows_sid));

/** Why Chronicle would refuse this UDM event, or undefined. */
export function udmProblem(e: Obj): string | undefined {
  const m = e?.metadata as Obj | undefined;
  if (!m) return 'metadata is required';
  if (typeof m.event_timestamp !== 'string' || !RFC3339.test(m.event_timestamp)) return 'metadata.event_timestamp must be an RFC 3339 timestamp';
  if (!EVENT_TYPES.has(m.event_type)) return `metadata.event_type "${m.event_type}" is not a known event type`;
  for (const [k, max] of [['vendor_name', 256], ['product_name', 256], ['product_version', 32], ['product_event_type', 64], ['product_log_id', 256], ['description', 1024]] as const) {
    if (m[k] !== undefined && (typeof m[k] !== 'string' || Buffer.byteLength(m[k]) > max)) return `metadata.${k} must be a string of at most ${max} bytes`;
  }
  const t = m.event_type as string;
  if (t.startsWith('USER_RESOURCE_') && !(userId(e.principal?.user) && has(e.target?.resource))) return `${t} requires principal.user and target.resource`;
  if (['USER_LOGIN', 'USER_LOGOUT', 'USER_CHANGE_PASSWORD', 'USER_CHANGE_PERMISSIONS'].includes(t) && !userId(e.target?.user)) return `${t} requires target.user`;
  if (['USER_CREATION', 'USER_DELETION', 'USER_UNCATEGORIZED'].includes(t) && !(machineId(e.principal) || userId(e.principal?.user)) ) return `${t} requires a principal`;
  if (['USER_CREATION', 'USER_DELETION'].includes(t) && !userId(e.target?.user)) return `${t} requires target.user`;
  if (t.startsWith('STATUS_') && !machineId(e.principal)) return `${t} requires a principal machine id`;
  if (t.startsWith('SETTING_') && !(machineId(e.principal) && has(e.target?.resource))) return `${t} requires principal and target.resource`;
  for (const sr of (e.security_result ?? []) as Obj[]) {
    if (sr.action !== undefined && !(Array.isArray(sr.action) && sr.action.every((a: string) => ACTIONS.has(a)))) return 'security_result.action has an unknown value';
    if (sr.severity !== undefined && !SEVERITIES.has(sr.severity)) return `security_result.severity "${sr.severity}" is unknown`;
  }
  return undefined;
}

export interface Ingested {
  id: string;
  kind: 'udm' | 'log';
  value: unknown;
}

/**
 * A strict Chronicle (both APIs) written from specs/sinks.md §3: bearer
 * token, exact paths for the configured instance / customer, JSON bodies with
 * the right envelope, UDM validated (required metadata and nouns per
 * event_type), base64 log data with collection_time ≥ log_entry_time, a
 * request size cap answered like Google's front end, Google error JSON, and
 * the legacy API's dedup of identical unstructured batches.
 */
export class FakeChronicle extends FakeHttp {
  tokens = new Set(['ya29.test-token']);
  instance = 'projects/my-project/locations/us/instances/c8c65bfa-5f2c-42d4-9189-64bb7b939f2c';
  customerId = 'c8c65bfa-5f2c-42d4-9189-64bb7b939f2c';
  logTypes = new Set(['MLTRAIL_JSON']);
  capBytes = 1_000_000;
  readonly ingested: Ingested[] = [];
  readonly batchIds = new Set<string>();
  /** Refuse a UDM event like Chronicle does for a bad record (400 on the whole batch). */
  rejectUdm: (udm: Obj) => string | undefined = () => undefined;
  loseNextResponse = 0;
  /** events:import: drop these events but answer 200 with successCount / failureCount. */
  failEvent: (udm: Obj) => boolean = () => false;

  constructor() {
    super((r) => this.handle(r));
  }

  ids(): string[] {
    return this.ingested.map((x) => x.id);
  }

  private handle(r: FakeRequest): FakeReply {
    const m = /^Bearer (.+)$/.exec(r.headers.authorization ?? '');
    if (!m || !this.tokens.has(m[1]!)) {
      return gerr(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    if (r.method !== 'POST') return gerr(405, 'METHOD_NOT_ALLOWED', 'method not allowed');
    if (!/^application\/json/.test(String(r.headers['content-type']))) return gerr(400, 'INVALID_ARGUMENT', 'Invalid JSON payload: wrong content type');
    if (Buffer.byteLength(r.body) > this.capBytes) return gerr(400, 'INVALID_ARGUMENT', `Request payload size exceeds the limit: ${this.capBytes} bytes.`);
    let body: Obj;
    try {
      body = JSON.parse(r.body);
    } catch {
      return gerr(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    let result: FakeReply | Ingested[];
    if (r.path === '/v2/udmevents:batchCreate') result = this.legacyUdm(body);
    else if (r.path === '/v2/unstructuredlogentries:batchCreate') result = this.legacyLogs(body, r.body);
    else if (r.path === `/v1alpha/${this.instance}/events:import`) result = this.importEvents(body);
    else if (r.path.startsWith(`/v1alpha/${this.instance}/logTypes/`) && r.path.endsWith('/logs:import')) {
      const lt = r.path.slice(`/v1alpha/${this.instance}/logTypes/`.length, -'/logs:import'.length);
      if (!this.logTypes.has(lt)) return gerr(404, 'NOT_FOUND', `Log type ${lt} was not found.`);
      result = this.importLogs(body);
    } else return gerr(404, 'NOT_FOUND', 'Requested entity was not found.');
    if (!Array.isArray(result)) return result;
    const failed = result.filter((x) => x.kind === 'udm' && this.failEvent(x.value as Obj));
    if (failed.length) {
      this.ingested.push(...result.filter((x) => !failed.includes(x)));
      return { status: 200, json: { successCount: result.length - failed.length, failureCount: failed.length } };
    }
    this.ingested.push(...result);
    if (this.loseNextResponse > 0) {
      this.loseNextResponse--;
      return 'reset';
    }
    return { status: 200, json: {} };
  }

  private udms(list: unknown, unwrap: boolean): FakeReply | Ingested[] {
    if (!Array.isArray(list) || list.length === 0) return gerr(400, 'INVALID_ARGUMENT', 'events must not be empty');
    const out: Ingested[] = [];
    for (const [k, item] of list.entries()) {
      const udm = (unwrap ? (item as Obj)?.udm : item) as Obj;
      if (unwrap && Object.keys(item as Obj).some((x) => x !== 'udm')) return gerr(400, 'INVALID_ARGUMENT', `events[${k}]: unknown field`);
      const why = udmProblem(udm) ?? this.rejectUdm(udm);
      if (why) return gerr(400, 'INVALID_ARGUMENT', `Invalid UDM event at index ${k}: ${why}`);
      out.push({ id: udm.metadata.product_log_id ?? '', kind: 'udm', value: udm });
    }
    return out;
  }

  private legacyUdm(b: Obj): FakeReply | Ingested[] {
    if (b.customer_id !== this.customerId) return gerr(403, 'PERMISSION_DENIED', 'The caller does not have permission');
    return this.udms(b.events, false);
  }

  private importEvents(b: Obj): FakeReply | Ingested[] {
    if (!b.inline_source || Object.keys(b).some((k) => k !== 'inline_source')) return gerr(400, 'INVALID_ARGUMENT', 'inline_source is required');
    return this.udms(b.inline_source.events, true);
  }

  private legacyLogs(b: Obj, raw: string): FakeReply | Ingested[] {
    if (b.customer_id !== this.customerId) return gerr(403, 'PERMISSION_DENIED', 'The caller does not have permission');
    if (!this.logTypes.has(b.log_type)) return gerr(400, 'INVALID_ARGUMENT', `Invalid log type: ${b.log_type}`);
    if (!Array.isArray(b.entries) || b.entries.length === 0) return gerr(400, 'INVALID_ARGUMENT', 'entries must not be empty');
    const out: Ingested[] = [];
    for (const [k, e] of (b.entries as Obj[]).entries()) {
      if (typeof e.log_text !== 'string') return gerr(400, 'INVALID_ARGUMENT', `entries[${k}].log_text is required`);
      if (e.ts_rfc3339 !== undefined && !RFC3339.test(e.ts_rfc3339)) return gerr(400, 'INVALID_ARGUMENT', `entries[${k}].ts_rfc3339 is invalid`);
      out.push({ id: (JSON.parse(e.log_text) as { id: string }).id, kind: 'log', value: e.log_text });
    }
    // The legacy API derives a batch id from the content and skips a batch it has seen.
    const batchId = createHash('sha256').update(raw).digest('hex');
    if (this.batchIds.has(batchId)) return [];
    this.batchIds.add(batchId);
    return out;
  }

  private importLogs(b: Obj): FakeReply | Ingested[] {
    const src = b.inline_source as Obj | undefined;
    if (!src || !Array.isArray(src.logs) || src.logs.length === 0) return gerr(400, 'INVALID_ARGUMENT', 'inline_source.logs must not be empty');
    if (src.forwarder !== undefined && !String(src.forwarder).startsWith(`${this.instance}/forwarders/`)) return gerr(400, 'INVALID_ARGUMENT', 'invalid forwarder');
    const out: Ingested[] = [];
    for (const [k, l] of (src.logs as Obj[]).entries()) {
      if (typeof l.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(l.data)) return gerr(400, 'INVALID_ARGUMENT', `logs[${k}].data must be base64`);
      if (!RFC3339.test(l.log_entry_time ?? '') || !RFC3339.test(l.collection_time ?? '')) return gerr(400, 'INVALID_ARGUMENT', `logs[${k}] times must be RFC 3339`);
      if (Date.parse(l.collection_time) < Date.parse(l.log_entry_time)) return gerr(400, 'INVALID_ARGUMENT', `logs[${k}].collection_time is before log_entry_time`);
      const text = Buffer.from(l.data, 'base64').toString('utf8');
      out.push({ id: (JSON.parse(text) as { id: string }).id, kind: 'log', value: text });
    }
    return out;
  }
}
