import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { z } from 'zod';
import { CaFile } from '../../core/config/pem.js';
import type { Formatter } from '../../core/formats/index.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import type { DeliveryStatus } from '../../core/sink.js';
import type { SpoolRecord } from '../../core/spool/index.js';

// The HTTP client (undici) is in ./http.ts: the file sink, and a sink thread that runs only it, never load it.

/** TLS settings shared by the HTTP sinks (private CAs of on-prem Splunk / Elastic). */
export const TlsConfig = z
  .strictObject({
    /**
     * PEM file with the CA(s) that signed the server certificate (trusted in addition to Node's bundled root CAs).
     * Checked with the config (check-config, start-up): a missing file, one without a PEM certificate or one holding
     * a private key is a config error naming sinks.<name>.tls.ca_file, not a sink whose every request fails verification.
     */
    ca_file: CaFile.optional(),
  })
  .prefault({});
export type TlsConfig = z.infer<typeof TlsConfig>;

/** Parse a JSON response body, or undefined when it is not JSON. */
export function jsonOf<T = Record<string, unknown>>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Path of a URL, '' when it does not parse (for config refinements that run after a failed URL check). */
export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

/** Host name of a URL, '' when it does not parse. */
export function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** A URL without user-info or query string, safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * Join a base URL (scheme://host:port, optionally a proxy path prefix) and an
 * API path, refusing a base that already names the API (a common mistake).
 *
 * @example
 * apiUrl('https://splunk:8088', '/services/collector/event') // 'https://splunk:8088/services/collector/event'
 */
export function apiUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * Greedy split of items into request-sized chunks. Greedy packing is
 * prefix-stable: resending the failed tail of a send re-creates the very same
 * chunks (byte-identical requests, which Chronicle deduplicates).
 * Items in `alone` get a request each (isolating a bad record).
 *
 * @example
 * chunkBySize([{ i: 0, bytes: 10 }, { i: 1, bytes: 10 }], 15) // [[{i:0…}], [{i:1…}]]
 */
export function chunkBySize<T extends { bytes: number }>(
  items: T[],
  maxBytes: number,
  maxCount = Number.POSITIVE_INFINITY,
  alone: (item: T) => boolean = () => false,
  separatorBytes = 1,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const it of items) {
    if (alone(it)) {
      out.push([it]);
      continue;
    }
    if (cur.length && (cur.length >= maxCount || size + it.bytes + separatorBytes > maxBytes)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(it);
    size += it.bytes + separatorBytes;
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * UTF-8 encode records' text straight into one request buffer: each item's
 * pieces in order, `separator` between items. Same bytes as
 * `Buffer.from(items.map(join).join(separator))` without building the joined
 * multi-megabyte string (and its copy) first. `bytes` of each item must be its
 * UTF-8 length (as chunkBySize used it).
 *
 * @example
 * encodeLines([{ bytes: 2 }, { bytes: 1 }], (it) => (it.bytes === 2 ? ['a', 'b'] : ['c']), '\n') // <Buffer 61 62 0a 63>
 */
export function encodeLines<T extends { bytes: number }>(items: readonly T[], pieces: (item: T) => readonly string[], separator = ''): Buffer {
  const sepBytes = Buffer.byteLength(separator);
  let total = items.length ? sepBytes * (items.length - 1) : 0;
  for (const it of items) total += it.bytes;
  // 4 bytes of slack (one UTF-8 character): a `bytes` too small then shows as off > total instead of a silent truncation.
  const buf = Buffer.allocUnsafe(total + 4);
  let off = 0;
  for (let k = 0; k < items.length; k++) {
    if (k && sepBytes) off += buf.write(separator, off);
    for (const s of pieces(items[k]!)) off += buf.write(s, off);
  }
  // Wrong sizes: never send a truncated or padded body, fall back to the plain join.
  if (off !== total) return Buffer.from(items.map((it) => pieces(it).join('')).join(separator));
  return buf.subarray(0, total);
}

/** Records a sink formats between two turns of the event loop (see {@link forEachYielding}). */
export const FORMAT_SLICE = 128;

/**
 * `items.forEach(fn)` that lets the event loop run every `slice` items.
 * Mapping a batch of thousands of records (parse, schema mapping, stringify)
 * at once holds the loop for tens of ms, and every webhook sender waiting on
 * it with it; a slice of 128 takes a couple of ms.
 *
 * @example
 * await forEachYielding(records, (r, i) => { lines[i] = format(r); });
 */
export async function forEachYielding<T>(items: readonly T[], fn: (item: T, index: number) => void, slice = FORMAT_SLICE): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % slice === 0) await yieldToLoop();
    fn(items[i]!, i);
  }
}

export const retryable = (reason: string, retryAfterMs?: number): DeliveryStatus =>
  retryAfterMs === undefined ? { status: 'retryable', reason } : { status: 'retryable', reason, retryAfterMs };
export const permanent = (reason: string): DeliveryStatus => ({ status: 'permanent', reason });
/** Only this record's destination refuses it (a setting to fix); the runner parks it and goes on. */
export const parked = (reason: string): DeliveryStatus => ({ status: 'parked', reason });
export const OK: DeliveryStatus = { status: 'ok' };

/**
 * Per-record memory of how a record must be sent next time: alone (to find a
 * bad record in a batch the server refused whole) or in smaller requests
 * (after a 413). Bounded: it only ever holds records of batches in flight.
 */
export class SendHints {
  private readonly isolate = new Set<string>();
  private readonly maxBytes = new Map<string, number>();

  alone(id: string): boolean {
    return this.isolate.has(id);
  }
  markAlone(ids: Iterable<string>): void {
    for (const id of ids) this.isolate.add(id);
  }
  /** Request byte cap to use for a set of records (the smallest hint wins). */
  capFor(ids: Iterable<string>, dflt: number): number {
    let cap = dflt;
    for (const id of ids) cap = Math.min(cap, this.maxBytes.get(id) ?? cap);
    return cap;
  }
  shrink(ids: Iterable<string>, cap: number): void {
    for (const id of ids) this.maxBytes.set(id, Math.max(1, cap));
  }
  /** Forget hints of settled records (and everything when they pile up). */
  settle(ids: Iterable<string>): void {
    for (const id of ids) {
      this.isolate.delete(id);
      this.maxBytes.delete(id);
    }
    if (this.isolate.size > 100_000) this.isolate.clear();
    if (this.maxBytes.size > 100_000) this.maxBytes.clear();
  }
}

/** Health bookkeeping every sink shares: a config fault wins over a transient one until a success clears both. */
export class HealthTracker {
  private fault?: { state: 'degraded' | 'unhealthy'; reason: string };

  get(): { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } {
    return this.fault ? { ...this.fault } : { state: 'healthy' };
  }
  unhealthy(reason: string): void {
    this.fault = { state: 'unhealthy', reason };
  }
  degraded(reason: string): void {
    if (this.fault?.state !== 'unhealthy') this.fault = { state: 'degraded', reason };
  }
  healthy(): void {
    this.fault = undefined;
  }
}

/** A spooled record parsed once: the normalized event or alert, its time and platform. */
export interface ParsedRecord {
  kind: 'event' | 'alert';
  id: string;
  value: NormalizedEvent | Alert;
  /** Event time (RFC 3339). */
  time: string;
  platform?: string;
  stage?: string;
}

/**
 * Parse a spooled record's body.
 *
 * @example
 * const p = parseRecord(rec); formatter('ecs')[p.kind](p.value as never)
 */
export function parseRecord(r: SpoolRecord, withRaw = true): ParsedRecord {
  // `withRaw: false` (a format that never reads `raw`): parse the smaller body without it when the spool has one.
  const value = JSON.parse(withRaw ? r.body : (r.leanBody ?? r.body)) as NormalizedEvent | Alert;
  const time = typeof value.time === 'string' ? value.time : new Date(r.added).toISOString();
  const platform = r.kind === 'event' ? (value as NormalizedEvent).platform : (value as Alert).entity?.platform;
  return { kind: r.kind, id: r.id, value, time, platform, stage: value.stage };
}

/** Map a record through an output schema. */
export function formatRecord(f: Formatter, p: ParsedRecord): unknown {
  return p.kind === 'alert' ? f.alert(p.value as Alert) : f.event(p.value as NormalizedEvent);
}

/** A plain JSON object or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
