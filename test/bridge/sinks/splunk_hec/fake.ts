import { FakeHttp, type FakeReply, type FakeRequest } from '../helpers.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ENVELOPE_KEYS = new Set(['time', 'host', 'source', 'sourcetype', 'index', 'event', 'fields']);

const hec = (status: number, code: number, text: string, extra: Record<string, unknown> = {}): FakeReply => ({
  status,
  json: { text, code, ...extra },
});

/**
 * Split a HEC /event body into its concatenated JSON envelopes (no array
 * wrapper, no commas; whitespace/newlines between objects allowed).
 * Returns the parsed values, or the index of the first unparseable one.
 */
export function splitEnvelopes(body: string): { values: unknown[]; badAt?: number } {
  const values: unknown[] = [];
  let i = 0;
  while (i < body.length) {
    while (i < body.length && /\s/.test(body[i]!)) i++;
    if (i >= body.length) break;
    if (body[i] !== '{') return { values, badAt: values.length };
    let depth = 0;
    let inStr = false;
    let j = i;
    for (; j < body.length; j++) {
      const ch = body[j]!;
      if (inStr) {
        if (ch === '\\') j++;
        else if (ch === '"') inStr = false;
      } else if (ch === '"') inStr = true;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) break;
    }
    try {
      values.push(JSON.parse(body.slice(i, j + 1)));
    } catch {
      return { values, badAt: values.length };
    }
    i = j + 1;
  }
  return { values };
}

export interface Indexed {
  id: string;
  envelope: Record<string, unknown>;
  line: string;
}

/**
 * A strict Splunk HEC written from specs/sinks.md §1: checks the
 * Authorization scheme and token, the channel (when useACK), the envelope of
 * every event (codes 6/7/12/13/15 with invalid-event-number, indexing the
 * prefix like real HEC), the size cap (413), and implements indexer
 * acknowledgement on /services/collector/ack.
 */
export class FakeHec extends FakeHttp {
  token = '11111111-2222-3333-4444-555555555555';
  useAck = false;
  /** Indexes the token may write; empty = any. */
  allowedIndexes: string[] = [];
  /** Everything indexed, in order (duplicates kept). */
  readonly indexed: Indexed[] = [];
  /** Treat an event as unparseable (code 6), like a body Splunk cannot read. */
  poison: (env: Record<string, unknown>) => boolean = () => false;
  /** Never report these ackIds as indexed (the ack is "lost"). */
  loseAck: (ackId: number) => boolean = () => false;
  private nextAck = new Map<string, number>();
  private acked = new Map<string, Set<number>>();
  readonly ackChannels = new Set<string>();

  constructor() {
    super((r) => this.handle(r));
  }

  ids(): string[] {
    return this.indexed.map((x) => x.id);
  }

  eventRequests(): FakeRequest[] {
    return this.requests.filter((r) => r.path === '/services/collector/event');
  }

  private auth(r: FakeRequest): FakeReply | undefined {
    const h = r.headers.authorization;
    if (!h) return hec(401, 2, 'Token is required');
    const m = /^Splunk (.+)$/.exec(h);
    if (!m) return hec(401, 3, 'Invalid authorization');
    if (m[1] !== this.token) return hec(403, 4, 'Invalid token');
    return undefined;
  }

  private channel(r: FakeRequest, required: boolean): string | FakeReply | undefined {
    const ch = (r.headers['x-splunk-request-channel'] as string | undefined) ?? r.query.get('channel') ?? undefined;
    if (!ch) return required ? hec(400, 10, 'Data channel is missing') : undefined;
    if (!GUID.test(ch)) return hec(400, 11, 'Invalid data channel');
    return ch;
  }

  private handle(r: FakeRequest): FakeReply {
    if (r.path === '/services/collector/health' && r.method === 'GET') return hec(200, 17, 'HEC is healthy');
    if (r.method !== 'POST') return { status: 405, text: 'method not allowed' };
    if (r.path === '/services/collector/ack') return this.ack(r);
    if (r.path !== '/services/collector/event') return { status: 404, text: 'not found' };
    const denied = this.auth(r);
    if (denied) return denied;
    const ch = this.channel(r, this.useAck);
    if (ch && typeof ch === 'object') return ch;
    if (r.headers['content-type'] !== 'application/json') return { status: 415, text: 'expected application/json' };
    if (r.body.trim() === '') return hec(400, 5, 'No data');
    const { values, badAt } = splitEnvelopes(r.body);
    const accepted: Indexed[] = [];
    const lines = r.body.split('\n');
    const fail = (i: number, reply: FakeReply) => {
      this.indexed.push(...accepted); // HEC indexes the events before the bad one
      return reply;
    };
    for (let i = 0; i < values.length; i++) {
      const env = values[i] as Record<string, unknown>;
      if (!env || typeof env !== 'object' || Array.isArray(env)) return fail(i, hec(400, 6, 'Invalid data format', { 'invalid-event-number': i }));
      if (Object.keys(env).some((k) => !ENVELOPE_KEYS.has(k))) return fail(i, hec(400, 6, 'Invalid data format', { 'invalid-event-number': i }));
      if (!('event' in env)) return fail(i, hec(400, 12, 'Event field is required', { 'invalid-event-number': i }));
      if (env.event === '' || env.event === null) return fail(i, hec(400, 13, 'Event field cannot be blank', { 'invalid-event-number': i }));
      if (env.time !== undefined && typeof env.time !== 'number') return fail(i, hec(400, 6, 'Invalid data format', { 'invalid-event-number': i }));
      if (typeof env.time === 'number' && env.time > 1e11) return fail(i, hec(400, 6, 'Invalid data format', { 'invalid-event-number': i })); // ms, not s
      for (const k of ['host', 'source', 'sourcetype', 'index']) {
        if (env[k] !== undefined && typeof env[k] !== 'string') return fail(i, hec(400, 6, 'Invalid data format', { 'invalid-event-number': i }));
      }
      if (env.fields !== undefined) {
        const f = env.fields as Record<string, unknown>;
        const flat = f && typeof f === 'object' && !Array.isArray(f) && Object.values(f).every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')));
        if (!flat) return fail(i, hec(400, 15, 'Error in handling indexed fields', { 'invalid-event-number': i }));
      }
      if (this.allowedIndexes.length && !this.allowedIndexes.includes((env.index as string) ?? 'main')) {
        return fail(i, hec(400, 7, 'Incorrect index', { 'invalid-event-number': i }));
      }
      if (this.poison(env)) return fail(i, hec(400, 6, 'Invalid data format', { 'invalid-event-number': i }));
      const id = (env.fields as Record<string, string> | undefined)?.mltrail_id ?? '';
      accepted.push({ id, envelope: env, line: lines[i] ?? '' });
    }
    if (badAt !== undefined) return fail(badAt, hec(400, 6, 'Invalid data format', { 'invalid-event-number': badAt }));
    this.indexed.push(...accepted);
    if (this.useAck && typeof ch === 'string') {
      this.ackChannels.add(ch);
      const ackId = this.nextAck.get(ch) ?? 0;
      this.nextAck.set(ch, ackId + 1);
      if (!this.loseAck(ackId)) {
        const set = this.acked.get(ch) ?? new Set<number>();
        set.add(ackId);
        this.acked.set(ch, set);
      }
      return hec(200, 0, 'Success', { ackId });
    }
    return hec(200, 0, 'Success');
  }

  private ack(r: FakeRequest): FakeReply {
    const denied = this.auth(r);
    if (denied) return denied;
    if (!this.useAck) return hec(400, 14, 'ACK is disabled');
    const ch = this.channel(r, true);
    if (typeof ch !== 'string') return ch ?? hec(400, 10, 'Data channel is missing');
    let q: { acks?: unknown };
    try {
      q = JSON.parse(r.body) as { acks?: unknown };
    } catch {
      return hec(400, 6, 'Invalid data format');
    }
    if (!Array.isArray(q.acks) || !q.acks.every((x) => Number.isInteger(x))) return hec(400, 6, 'Invalid data format');
    const set = this.acked.get(ch) ?? new Set<number>();
    const acks: Record<string, boolean> = {};
    for (const id of q.acks as number[]) {
      acks[String(id)] = set.has(id);
      set.delete(id); // status is discarded once retrieved as true
    }
    return { status: 200, json: { acks } };
  }
}
