import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { OAuth2Client } from 'google-auth-library';
import { VertexConfig } from '../../../connectors/vertex/config.js';
import { mountPushRoute } from '../../../connectors/vertex/push.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { createLogger } from '../../../core/log.js';
import { Spool } from '../../../core/spool/index.js';

export const AUDIENCE = 'https://mltrail.test/v1/ingest/vertex/pubsub';
export const PUSH_SA = 'pubsub-push@ml-prod-123.iam.gserviceaccount.com';

/** A locally generated RSA signing key with its JWK, and a token minter (RS256, compact JWS). */
export function signer(kid = 'test-key-1') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' };
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const mint = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: KeyObject = privateKey): string => {
    const now = Math.floor(Date.now() / 1000);
    const h = { alg: 'RS256', kid, typ: 'JWT', ...header };
    const p = {
      iss: 'https://accounts.google.com',
      aud: AUDIENCE,
      azp: '104927304958203948123',
      sub: '104927304958203948123',
      email: PUSH_SA,
      email_verified: true,
      iat: now,
      exp: now + 3600,
      ...claims,
    };
    const input = `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(JSON.stringify(p)).toString('base64url')}`;
    if (h.alg === 'none') return `${input}.`;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  };
  return { privateKey, publicKey, jwk, pem, kid, mint };
}

export function writeJwks(keys: Array<Record<string, unknown>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys }));
  return file;
}

/** A tiny HTTP server on 127.0.0.1:0; `handler` answers, `requests` counts calls. */
export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void) {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      handler(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The push route on a real HTTP server with a real spool in a temp dir. */
export async function pushApp(config: Record<string, unknown>, opts: { googleClient?: OAuth2Client } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-vertex-'));
  const spool = Spool.open({ dir, synchronous: 'NORMAL' });
  const logger = createLogger({ level: 'silent' });
  const ingest = new Ingestor(spool, logger);
  const app = new Hono();
  const deps: ConnectorDeps<VertexConfig> = {
    config: VertexConfig.parse(config),
    ingest,
    spool,
    logger,
    server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 5 * 1024 * 1024 },
    dataDir: dir,
    keepRaw: true,
    env: {},
  };
  mountPushRoute(app, deps, opts);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const events = () =>
    spool
      .read('test', 10_000, 0)
      .filter((r) => r.kind === 'event')
      .map((r) => JSON.parse(r.body) as Record<string, any>);
  return {
    url,
    spool,
    deps,
    events,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      spool.close();
    },
  };
}
