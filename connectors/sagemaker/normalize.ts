import { gunzipSync } from 'node:zlib';
import { emptyOutput, type NormalizeContext, type NormalizeOutput } from '../../core/connector.js';
import { MAX_JSON_DEPTH, nestedTooDeep } from '../../core/input/depth.js';
import { isGzip } from '../../core/input/read.js';
import { looksLikeCloudTrailRecord, normalizeCloudTrailRecord, type RecordContext, type RecordResult } from './cloudtrail.js';
import type { SagemakerConfig } from './config.js';
import { isConstraintViolations, normalizeViolations } from './model-monitor.js';
import { isSagemakerServiceEvent, normalizeServiceEvent } from './service-events.js';
import { isObj, str, type Obj } from './util.js';

/**
 * Every envelope SageMaker activity arrives in, unwrapped down to CloudTrail
 * records, SageMaker service events and Model Monitor violations:
 * a single record, a `{"Records":[…]}` log file, the EventBridge envelope,
 * a Firehose HTTP request body, a CloudWatch Logs subscription payload
 * (gzip or not), SNS notifications. Pure: no I/O.
 */

const MAX_DEPTH = 6;
/** Bound on one decompressed Firehose / CloudWatch Logs record. */
const MAX_RECORD_DECODED = 64 * 1024 * 1024;

type Kind =
  | 'digest' | 's3_test_event' | 'sns' | 'cloudtrail_sns' | 's3_notification' | 'log_file' | 'eventbridge'
  | 'firehose' | 'cwl' | 'awslogs' | 'violations' | 'record';

/**
 * What a value is, or undefined when it is nothing this connector knows.
 *
 * @example
 * envelopeKind({ requestId: 'r', records: [] }) // 'firehose'
 */
export function envelopeKind(r: unknown): Kind | undefined {
  if (!isObj(r)) return undefined;
  if (typeof r.digestPublicKeyFingerprint === 'string' || (typeof r.digestS3Object === 'string' && Array.isArray(r.logFiles))) return 'digest';
  if (r.Event === 's3:TestEvent') return 's3_test_event';
  if (r.Type === 'Notification' && typeof r.Message === 'string' && (typeof r.TopicArn === 'string' || typeof r.MessageId === 'string')) return 'sns';
  if (typeof r.s3Bucket === 'string' && Array.isArray(r.s3ObjectKey)) return 'cloudtrail_sns';
  if (Array.isArray(r.Records)) {
    const recs = r.Records;
    if (recs.length > 0 && recs.every((x) => isObj(x) && x.eventSource === 'aws:s3')) return 's3_notification';
    return 'log_file';
  }
  if (typeof r['detail-type'] === 'string' && 'detail' in r && typeof r.source === 'string') return 'eventbridge';
  if (typeof r.requestId === 'string' && Array.isArray(r.records)) return 'firehose';
  if (typeof r.messageType === 'string' && Array.isArray(r.logEvents)) return 'cwl';
  if (isObj(r.awslogs) && typeof r.awslogs.data === 'string') return 'awslogs';
  if (isConstraintViolations(r)) return 'violations';
  if (looksLikeCloudTrailRecord(r)) return 'record';
  return undefined;
}

/**
 * `--platform auto`: true when the record is one of the shapes above.
 *
 * @example
 * detectSagemaker({ Records: [cloudTrailRecord] }) // true
 */
export function detectSagemaker(record: unknown): boolean {
  const k = envelopeKind(record);
  if (k !== 'eventbridge') return k !== undefined;
  const r = record as Obj;
  return String(r.source).startsWith('aws.');
}

/**
 * Decode one Firehose / Kinesis / awslogs `data` field: base64, then gunzip when the bytes say gzip.
 *
 * @example
 * decodeData('aGVsbG8=') // { text: 'hello' }
 */
export function decodeData(data: string): { text: string } | { error: string } {
  const compact = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) return { error: 'data is not base64' };
  let bytes = Buffer.from(compact, 'base64');
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_RECORD_DECODED });
    } catch (err) {
      return { error: `data is gzip but cannot be decompressed: ${(err as Error).message}` };
    }
  }
  return { text: bytes.toString('utf8') };
}

/**
 * JSON, or NDJSON (one value per line): each value or the line's parse error.
 *
 * @example
 * parseJsonOrLines('{"a":1}\n{"b":2}') // [{ value: { a: 1 } }, { value: { b: 2 } }]
 */
export function parseJsonOrLines(text: string): Array<{ value: unknown } | { error: string; line: string }> {
  const trimmed = text.trim();
  if (!trimmed) return [{ error: 'empty record', line: '' }];
  const checked = (value: unknown, line: string) => (nestedTooDeep(value) ? { error: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, line } : { value });
  try {
    return [checked(JSON.parse(trimmed) as unknown, trimmed)];
  } catch (err) {
    const lines = trimmed.split(/\r?\n/).filter((l) => l.trim());
    if (lines.length < 2) return [{ error: `not JSON: ${(err as Error).message}`, line: trimmed }];
    return lines.map((line) => {
      try {
        return checked(JSON.parse(line) as unknown, line);
      } catch (e) {
        return { error: `not JSON: ${(e as Error).message}`, line };
      }
    });
  }
}

/**
 * The connector's `normalize`: any accepted envelope → events, rejections
 * (quarantined by the caller, with their path) and deliberate skips.
 *
 * @example
 * normalizeSagemaker(JSON.parse(cloudTrailFile), { channel: 'file', receivedTime, keepRaw: true, config })
 */
export function normalizeSagemaker(record: unknown, ctx: NormalizeContext<SagemakerConfig>): NormalizeOutput {
  const out = emptyOutput();
  const rc: RecordContext = { channel: ctx.channel, receivedTime: ctx.receivedTime, keepRaw: ctx.keepRaw, config: ctx.config };
  walk(record, '', 0, rc, ctx.meta ?? {}, out);
  return out;
}

function push(out: NormalizeOutput, res: RecordResult, path: string, record: unknown): void {
  if ('event' in res) out.events.push(res.event);
  else if ('skip' in res) out.skipped.push({ reason: res.skip, path: path || undefined });
  else out.rejected.push({ reason: res.reject, path: path || undefined, field: res.field, record });
}

function join(path: string, part: string): string {
  return path ? `${path}.${part}` : part;
}

function walk(r: unknown, path: string, depth: number, rc: RecordContext, meta: Record<string, unknown>, out: NormalizeOutput): void {
  if (depth > MAX_DEPTH) {
    out.rejected.push({ reason: `envelopes nested deeper than ${MAX_DEPTH}`, path, record: r });
    return;
  }
  if (Array.isArray(r)) {
    r.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1, rc, meta, out));
    return;
  }
  const kind = envelopeKind(r);
  const o = r as Obj;
  const r0 = r as { source?: unknown };
  switch (kind) {
    case 'digest':
      out.skipped.push({ reason: 'CloudTrail digest file (integrity proof, no events)', path: path || undefined });
      return;
    case 's3_test_event':
      out.skipped.push({ reason: 'S3 test event (sent when a notification is configured)', path: path || undefined });
      return;
    case 'cloudtrail_sns':
      out.skipped.push({ reason: `CloudTrail log delivery notice for ${(o.s3ObjectKey as unknown[]).length} object(s) in ${String(o.s3Bucket)}; the S3/SQS poller reads the files`, path: path || undefined });
      return;
    case 's3_notification':
      out.skipped.push({ reason: 'S3 event notification (announces objects; the S3/SQS poller reads them)', path: path || undefined });
      return;
    case 'sns': {
      let inner: unknown;
      try {
        inner = JSON.parse(o.Message as string);
      } catch (err) {
        out.rejected.push({ reason: `SNS Message is not JSON: ${(err as Error).message}`, path: join(path, 'Message'), field: 'Message', record: r });
        return;
      }
      walk(inner, join(path, 'Message'), depth + 1, rc, meta, out);
      return;
    }
    case 'log_file':
      (o.Records as unknown[]).forEach((rec, i) => {
        const p = join(path, `Records[${i}]`);
        if (!looksLikeCloudTrailRecord(rec)) {
          out.rejected.push({ reason: 'not a CloudTrail record (needs eventSource, eventName and eventTime or userIdentity)', path: p, record: rec });
          return;
        }
        push(out, normalizeCloudTrailRecord(rec, rc), p, rec);
      });
      return;
    case 'eventbridge': {
      const dt = o['detail-type'] as string;
      if (/via CloudTrail$/.test(dt)) {
        const p = join(path, 'detail');
        if (!looksLikeCloudTrailRecord(o.detail)) out.rejected.push({ reason: `"${dt}" event whose detail is not a CloudTrail record`, path: p, record: r });
        else push(out, normalizeCloudTrailRecord(o.detail, rc), p, r);
        return;
      }
      if (isSagemakerServiceEvent(o)) return push(out, normalizeServiceEvent(o, rc), path, r);
      out.skipped.push({ reason: `EventBridge "${dt}" from ${String(r0.source)} is neither CloudTrail nor a SageMaker event`, path: path || undefined });
      return;
    }
    case 'firehose':
      (o.records as unknown[]).forEach((fr, i) => {
        const p = join(path, `records[${i}]`);
        const data = isObj(fr) ? fr.data : undefined;
        if (typeof data !== 'string') {
          out.rejected.push({ reason: 'Firehose record has no data string', path: p, field: 'data', record: fr });
          return;
        }
        decodeAndWalk(data, p, depth, rc, meta, out, fr);
      });
      return;
    case 'cwl':
      if (o.messageType === 'CONTROL_MESSAGE') {
        out.skipped.push({ reason: 'CloudWatch Logs control message (destination health check)', path: path || undefined });
        return;
      }
      (o.logEvents as unknown[]).forEach((le, i) => {
        const p = join(path, `logEvents[${i}]`);
        const message = isObj(le) ? le.message : undefined;
        if (typeof message !== 'string') {
          out.rejected.push({ reason: 'log event has no message string', path: p, field: 'message', record: le });
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(message);
        } catch (err) {
          out.rejected.push({ reason: `log event message is not JSON (truncated CloudTrail record?): ${(err as Error).message}`, path: p, field: 'message', record: le });
          return;
        }
        walk(value, p, depth + 1, rc, meta, out);
      });
      return;
    case 'awslogs':
      decodeAndWalk((o.awslogs as Obj).data as string, join(path, 'awslogs.data'), depth, rc, meta, out, r);
      return;
    case 'violations': {
      if ((o.violations as unknown[]).length === 0) {
        out.skipped.push({ reason: 'Model Monitor constraint_violations.json without violations', path: path || undefined });
        return;
      }
      const res = normalizeViolations(o, rc, meta);
      out.events.push(...res.events);
      out.rejected.push(...res.rejected.map((x) => ({ ...x, path: join(path, x.path ?? '') })));
      return;
    }
    case 'record':
      push(out, normalizeCloudTrailRecord(o, rc), path, r);
      return;
    default:
      out.rejected.push({
        reason: isObj(r)
          ? 'not a CloudTrail record, SageMaker event, Model Monitor result or known AWS envelope'
          : `expected a JSON object, got ${r === null ? 'null' : typeof r}`,
        path: path || undefined,
        record: r,
      });
  }
}

function decodeAndWalk(data: string, path: string, depth: number, rc: RecordContext, meta: Record<string, unknown>, out: NormalizeOutput, original: unknown): void {
  const decoded = decodeData(data);
  if ('error' in decoded) {
    out.rejected.push({ reason: decoded.error, path, field: 'data', record: original });
    return;
  }
  if (!decoded.text.trim()) {
    out.skipped.push({ reason: 'empty record', path });
    return;
  }
  const parts = parseJsonOrLines(decoded.text);
  parts.forEach((part, i) => {
    const p = parts.length > 1 ? `${path}.line[${i + 1}]` : path;
    // The line, not the record's whole data with each bad line (a thousand copies of it from a 1 KB request).
    if ('error' in part) out.rejected.push({ reason: `decoded data ${part.error}`, path: p, field: 'data', record: parts.length > 1 ? { decoded: part.line.slice(0, 65536), data_bytes: data.length } : { data: str(data), decoded: part.line.slice(0, 65536) } });
    else walk(part.value, p, depth + 1, rc, meta, out);
  });
}
