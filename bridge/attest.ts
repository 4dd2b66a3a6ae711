import type { Hono } from 'hono';
import { z } from 'zod';
import type { CliCommand, CliIo } from '../core/connector.js';
import { MltrailError } from '../core/errors.js';
import { clientIp, errorResponse, readBody } from '../core/http/index.js';
import { hashDirectory, rootDigest } from '../core/integrity/manifest.js';
import { describe as describeError, retryOperation } from '../core/retry/index.js';
import { Platform, describeZodError, makeEvent, stableId, toRfc3339 } from '../core/schema/index.js';
import { DeliveryError, parseRetryAfter } from '../core/sink.js';
import { requireIngestToken } from './app.js';
import { common, parse } from './cli/args.js';
import type { RouteMounter } from './routes.js';

/**
 * Serving attestation: a serving container proves at startup what it loaded.
 * `POST /v1/attest` takes {model, version, sha256 | manifest, where} and
 * ingests a `model_version.attest` event; the rule `serving.hash_mismatch`
 * compares it with the registered hash (the MLflow auditor's manifest digest).
 */
const SHA256 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters');
const ATTEST_BODY_LIMIT = 1024 * 1024;

export const AttestBody = z
  .strictObject({
    model: z.string().min(1).max(512),
    version: z.string().min(1).max(128),
    sha256: SHA256.optional(),
    manifest: z
      .strictObject({
        root: SHA256.optional(),
        files: z.array(z.looseObject({ path: z.string().min(1), sha256: SHA256, size: z.number().int().nonnegative().optional() })).max(100_000),
      })
      .optional(),
    /** Where the artifact was loaded (pod, host, endpoint). */
    where: z.string().min(1).max(512),
    /** Platform of the registry the version lives in, when known. */
    platform: Platform.optional(),
    /** Time of loading (default: receipt). A retried attestation with the same time collapses into one event. */
    time: z.string().optional(),
    endpoint: z.string().max(512).optional(),
  })
  .superRefine((b, ctx) => {
    if (!b.sha256 && !b.manifest) ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'give sha256 or manifest' });
    if (b.manifest?.root && b.manifest.root.toLowerCase() !== rootDigest(b.manifest.files.map((f) => ({ path: f.path, sha256: f.sha256.toLowerCase() })))) {
      ctx.addIssue({ code: 'custom', path: ['manifest', 'root'], message: 'root does not match the digest of the listed files' });
    }
    if (b.sha256 && b.manifest) {
      const root = rootDigest(b.manifest.files.map((f) => ({ path: f.path, sha256: f.sha256.toLowerCase() })));
      if (root !== b.sha256.toLowerCase()) ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'sha256 does not match the manifest digest' });
    }
  });
export type AttestBody = z.infer<typeof AttestBody>;

/**
 * Mounts `POST /v1/attest` (bearer token MLTRAIL_INGEST_TOKEN, like /v1/events).
 *
 * @example
 * extraRoutes.push(mountAttest); // bridge/routes.ts
 */
export const mountAttest: RouteMounter = (app: Hono, deps) => {
  const channel = 'core.attest';
  app.post('/v1/attest', async (c) => {
    try {
      requireIngestToken(c, deps, channel);
      const raw = await readBody(c, { maxBytes: Math.min(deps.server.bodyLimitBytes, ATTEST_BODY_LIMIT), channel });
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        deps.ingest.quarantine(channel, `not JSON: ${(err as Error).message}`, raw, { route: '/v1/attest' });
        throw new MltrailError('INVALID_JSON', `body is not JSON: ${(err as Error).message}`);
      }
      const parsed = AttestBody.safeParse(json);
      if (!parsed.success) {
        const reason = describeZodError(parsed.error);
        deps.ingest.quarantine(channel, reason, raw, { route: '/v1/attest' });
        throw new MltrailError('VALIDATION', reason, { field: parsed.error.issues[0]?.path.join('.') });
      }
      const b = parsed.data;
      const now = new Date().toISOString();
      const time = b.time ? toRfc3339(b.time) : now;
      if (!time) throw new MltrailError('VALIDATION', `time: not a timestamp: "${b.time}"`, { field: 'time' });
      const sha = (b.sha256 ?? rootDigest(b.manifest!.files.map((f) => ({ path: f.path, sha256: f.sha256.toLowerCase() })))).toLowerCase();
      const ev = makeEvent({
        id: stableId('attest', b.model, b.version, sha, b.where, time),
        time,
        received_time: now,
        platform: b.platform ?? 'custom',
        channel,
        stage: 'serving',
        action: 'model_version.attest',
        operation: 'attest',
        service: 'mltrail',
        outcome: 'success',
        actor: { type: 'service', ip: clientIp(c), user_agent: c.req.header('user-agent') },
        resource: { type: 'model_version', name: b.model, version: b.version },
        ml: { model: { name: b.model, version: b.version, sha256: sha }, ...(b.endpoint ? { deployment: { endpoint: b.endpoint } } : {}) },
        details: { where: b.where, ...(b.manifest ? { files: b.manifest.files.length } : {}) },
      });
      const res = await deps.ingest.ingest([ev], channel);
      if (res.rejected.length) throw new MltrailError('VALIDATION', res.rejected[0]!.reason);
      return c.json({ id: ev.id, sha256: sha, accepted: res.accepted.length, duplicates: res.duplicates.length }, 200);
    } catch (err) {
      return errorResponse(c, err);
    }
  });
};

export const attestUsage = `mltrail attest --model M --version V --path DIR --url BRIDGE [--where W] [--platform P] [--endpoint E]

Hash every file under DIR (the same manifest digest the MLflow auditor
registers) and POST it to BRIDGE/v1/attest, so the bridge can compare what
this serving container loaded with the registered hash. The bearer token is
read from MLTRAIL_INGEST_TOKEN. --where defaults to the host name.
Exit 0 accepted, 1 refused, 2 bad arguments.`;

/**
 * `mltrail attest`: compute the manifest digest of a model directory and attest it.
 *
 * @example
 * mltrail attest --model fraud --version 3 --path /opt/ml/model --url http://bridge:8787
 */
export async function attestCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    help: common.help,
    model: { type: 'string' },
    version: { type: 'string' },
    path: { type: 'string' },
    url: { type: 'string' },
    where: { type: 'string' },
    platform: { type: 'string' },
    endpoint: { type: 'string' },
  });
  if (values.help) return (io.stdout.write(`${attestUsage}\n`), 0);
  for (const k of ['model', 'version', 'path', 'url'] as const) if (!values[k]) throw new MltrailError('USAGE', `--${k} is required`);
  let url: URL;
  try {
    // Relative to the bridge URL's own path: a bridge published under a prefix (https://gw/mltrail) is
    // reached at https://gw/mltrail/v1/attest, not at the host root.
    url = new URL(values.url!);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/attest`;
  } catch {
    throw new MltrailError('USAGE', `--url is not a URL: "${values.url}"`);
  }
  if (values.platform && !Platform.safeParse(values.platform).success) throw new MltrailError('USAGE', `--platform must be one of ${Platform.options.join(', ')}`);
  let manifest;
  try {
    manifest = await hashDirectory(values.path!);
  } catch (err) {
    throw new MltrailError('USAGE', `cannot hash ${values.path}: ${(err as Error).message}`);
  }
  if (manifest.files.length === 0) throw new MltrailError('USAGE', `${values.path} holds no files to attest`);
  if (manifest.dangling?.length) io.stderr.write(`attest: left out, symlinks to nothing (no content to hash): ${manifest.dangling.slice(0, 20).join(', ')}${manifest.dangling.length > 20 ? ` and ${manifest.dangling.length - 20} more` : ''}\n`);
  const body = JSON.stringify({
    model: values.model, version: values.version, sha256: manifest.root, where: values.where ?? (await import('node:os')).hostname(),
    time: new Date().toISOString(), ...(values.platform ? { platform: values.platform } : {}), ...(values.endpoint ? { endpoint: values.endpoint } : {}),
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'mltrail-attest/0.1.0' };
  if (io.env.MLTRAIL_INGEST_TOKEN) headers.authorization = `Bearer ${io.env.MLTRAIL_INGEST_TOKEN}`;
  const ctl = new AbortController();
  const result = await retryOperation(
    async (signal) => {
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers, body, signal });
      } catch (err) {
        // undici's own message is only 'fetch failed': the cause says why (refused, reset, a certificate).
        throw new DeliveryError(`cannot reach ${url.origin}: ${describeError(err)}`, true);
      }
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as { id: string };
      // 5xx and 429 are worth another try (the bridge restarting, its spool full); 4xx are final.
      const retryable = res.status >= 500 || res.status === 429;
      throw new DeliveryError(`${res.status}: ${text.slice(0, 500)}`, retryable, parseRetryAfter(res.headers.get('retry-after')));
    },
    { initialMs: 500, maxMs: 5000, requestTimeoutMs: 15_000, maxAttempts: 5 },
    ctl.signal,
    (info) => io.stderr.write(`attest: attempt ${info.attempt} failed: ${info.reason}\n`),
  ).catch((err: unknown) => {
    const e = (err as { originalError?: Error }).originalError ?? (err as Error);
    io.stderr.write(`attest: refused: ${e.message}\n`);
    return undefined;
  });
  if (!result) return 1;
  io.stdout.write(`${JSON.stringify({ id: result.id, model: values.model, version: values.version, sha256: manifest.root, files: manifest.files.length })}\n`);
  return 0;
}

export const attestCliCommand: CliCommand = { name: 'attest', summary: 'attest the model a serving container loaded (manifest digest)', usage: attestUsage, run: attestCommand };
