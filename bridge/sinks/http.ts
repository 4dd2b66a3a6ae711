import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type * as Undici from 'undici';
import type { Agent } from 'undici';
import { MltrailError } from '../../core/errors.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { parseRetryAfter } from '../../core/sink.js';
import { caFileProblem } from '../../core/config/pem.js';
import { redactUrl, type TlsConfig } from './common.js';

const gzip = promisify(gzipCb);

/** undici, loaded when a sink's client is made: every config check imports the sinks (for their schemas). */
const undici = lazyRequire<typeof Undici>('undici');

/**
 * Request-body gzip settings. Level 3 compresses SIEM JSON about twice as fast
 * as the default 6 for ~2 points of ratio (11.4% vs 9.1% of a 1 MB HEC batch),
 * the usual trade of log shippers; the output is still deterministic for the
 * same input, so a resent body is byte-identical. It runs in libuv's thread
 * pool (zlib.gzip), never on the event loop; a 128 KiB output chunk holds a
 * compressed 1 MB batch in one or two hops instead of eight.
 */
export const GZIP_OPTIONS = { level: 3, chunkSize: 128 * 1024 } as const;


export interface SinkResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Retry-After in ms when the server sent one. */
  retryAfterMs?: number;
}

/** A request body already encoded by {@link SinkHttpClient.encode}. */
export interface EncodedBody {
  payload: Buffer;
  gzip: boolean;
}

/** Largest response body read; SIEM answers are small (bulk uses filter_path). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * A keep-alive HTTP client for one sink: bounded connections, optional gzip
 * request bodies, the runner's abort signal (request timeout / shutdown)
 * passed through. It never retries: the runner does.
 *
 * @example
 * const http = new SinkHttpClient({ connections: 4 });
 * const res = await http.post('https://es:9200/_bulk', ndjson, { 'content-type': 'application/x-ndjson' }, signal, { gzip: true });
 */
export class SinkHttpClient {
  private readonly agent: Agent;
  /** Epoch ms of the latest response (its status and headers) from the destination: see Sink.lastAnswerAt. */
  lastAnswerAt?: number;

  /** `sink`: the sink's name, for the key path of a config error. */
  constructor(opts: { connections: number; tls?: TlsConfig; sink?: string }) {
    // A private CA is trusted in addition to Node's bundled roots (a bare `ca` would replace them).
    const ca = opts.tls?.ca_file ? [...rootCertificates, readCa(opts.tls.ca_file, opts.sink)] : undefined;
    const { Agent } = undici();
    this.agent = new Agent({ connections: opts.connections, connect: ca ? { ca } : undefined });
  }

  /**
   * Encode a request body ahead of its request (gzip runs in the thread pool),
   * so a sink can compress its next request while the current one is in flight.
   */
  async encode(body: Buffer, gzipIt: boolean): Promise<EncodedBody> {
    return gzipIt ? { payload: await gzip(body, GZIP_OPTIONS), gzip: true } : { payload: body, gzip: false };
  }

  async post(
    url: string,
    body: string | Buffer | EncodedBody,
    headers: Record<string, string>,
    signal: AbortSignal,
    opts: { gzip?: boolean; method?: 'POST' | 'PUT' | 'GET' } = {},
  ): Promise<SinkResponse> {
    const h: Record<string, string> = { ...headers };
    let payload: Buffer | undefined;
    if (typeof body === 'string') payload = Buffer.from(body);
    else if (Buffer.isBuffer(body)) payload = body;
    else {
      payload = body.payload;
      if (body.gzip) h['content-encoding'] = 'gzip';
    }
    if (opts.method === 'GET') payload = undefined;
    else if (opts.gzip && !h['content-encoding']) {
      payload = await gzip(payload, GZIP_OPTIONS);
      h['content-encoding'] = 'gzip';
    }
    const { request } = undici();
    const res = await request(url, {
      method: opts.method ?? 'POST',
      headers: h,
      body: payload,
      signal,
      dispatcher: this.agent,
    });
    this.lastAnswerAt = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > MAX_RESPONSE_BYTES) {
        res.body.destroy();
        throw new Error(`response from ${redactUrl(url)} is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(c as Buffer);
    }
    const ra = res.headers['retry-after'];
    return {
      status: res.statusCode,
      headers: res.headers,
      text: Buffer.concat(chunks).toString('utf8'),
      retryAfterMs: parseRetryAfter(Array.isArray(ra) ? ra[0] : ra),
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The CA file's text, checked again when the client is built: the file may have changed since the config was. */
function readCa(file: string, sink?: string): string {
  const key = sink ? `sinks.${sink}.tls.ca_file` : 'tls.ca_file';
  const problem = caFileProblem(file);
  if (problem) throw new MltrailError('CONFIG', `${key}: ${problem}`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new MltrailError('CONFIG', `${key}: cannot read ${file}: ${(err as Error).message}`);
  }
}
