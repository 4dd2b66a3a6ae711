import { setTimeout as sleep } from 'node:timers/promises';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeySet } from '../../../connectors/vertex/oidc.js';
import { reasonClass } from '../../../core/ingest.js';
import { readFixture, readFixtureJson } from '../../helpers/fixtures.js';
import { AUDIENCE, PUSH_SA, httpServer, pushApp, signer, writeJwks } from './harness.js';
import { LOC, V1, auditEntry, deepEntryJson } from './samples.js';

const ROUTE = '/v1/ingest/vertex/pubsub';

const entry = auditEntry({
  method: `${V1}ModelService.MergeVersionAliases`,
  resourceName: `${LOC}/models/9@2`,
  request: { name: `${LOC}/models/9@2`, versionAliases: ['production'] },
  insertId: 'push-1',
});

function wrapped(e: unknown, messageId = '900001') {
  return {
    message: {
      attributes: { 'logging.googleapis.com/timestamp': '2026-11-20T10:00:00.1Z' },
      data: Buffer.from(`${JSON.stringify(e)}\n`).toString('base64'),
      messageId,
      message_id: messageId,
      publishTime: '2026-11-20T10:00:02.5Z',
      publish_time: '2026-11-20T10:00:02.5Z',
    },
    subscription: 'projects/ml-prod-123/subscriptions/mltrail-push',
  };
}

async function post(url: string, body: unknown, token?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${ROUTE}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : undefined, headers: res.headers };
}

describe('Pub/Sub push with a JWKS file', () => {
  const key = signer('kid-file');
  const other = signer('kid-file'); // same kid, different key: forged signature
  let app: Awaited<ReturnType<typeof pushApp>>;

  beforeAll(async () => {
    app = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA], jwks: writeJwks([key.jwk]) } });
  });
  afterAll(() => app.close());

  it('valid token + wrapped body → 200 after commit, event in the spool', async () => {
    const r = await post(app.url, wrapped(entry), key.mint());
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ accepted: 1, duplicates: 0, quarantined: 0 });
    const ev = app.events().find((e) => e.details?.insert_id === 'push-1');
    expect(ev).toMatchObject({ platform: 'vertex', channel: 'vertex.pubsub_push', stage: 'registry', action: 'model_version.approve', ml: { model: { approval: 'approved' } } });
    expect(ev!.details.pubsub).toMatchObject({ message_id: '900001', subscription: 'projects/ml-prod-123/subscriptions/mltrail-push' });
  });

  it('redelivery of the same message is acknowledged as a duplicate', async () => {
    const r = await post(app.url, wrapped(entry, '900002'), key.mint());
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ accepted: 0, duplicates: 1, quarantined: 0 });
  });

  it('unwrapped push: raw LogEntry body with x-goog-pubsub-* metadata headers', async () => {
    const raw = auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: `${LOC}/endpoints/5`, insertId: 'push-raw' });
    const r = await post(app.url, raw, key.mint(), {
      'x-goog-pubsub-message-id': '777',
      'x-goog-pubsub-publish-time': '2026-11-20T10:00:03Z',
      'x-goog-pubsub-subscription-name': 'projects/ml-prod-123/subscriptions/nowrap',
    });
    expect(r.status).toBe(200);
    const ev = app.events().find((e) => e.details?.insert_id === 'push-raw');
    expect(ev).toMatchObject({ stage: 'serving', action: 'endpoint.deploy', details: { pubsub: { message_id: '777', subscription: 'projects/ml-prod-123/subscriptions/nowrap' } } });
  });

  it('the Loki sink envelope fixture is accepted as sent by Pub/Sub', async () => {
    const r = await post(app.url, readFixture('vertex', 'loki-gcplog-push-envelope.json').toString(), key.mint());
    expect(r.status).toBe(200);
    expect(r.json?.accepted).toBe(1);
  });

  it('a body whose gzip cannot be undone is quarantined (bytes as sent) and acknowledged: redelivery would not fix it', async () => {
    const r = await post(app.url, 'garbage', key.mint(), { 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ accepted: 0, duplicates: 0, quarantined: 1 });
    const q = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' }).at(-1)!;
    expect(q.reason).toMatch(/not valid gzip/);
    expect(q.body.toString()).toBe('garbage');
  });

  it('a message that is not a LogEntry is quarantined and acknowledged (no endless redelivery)', async () => {
    const before = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' }).length;
    const r = await post(app.url, readFixtureJson('vertex', 'cloudevents-MessagePublishedData-duplicatedFields.json'), key.mint());
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ accepted: 0, duplicates: 0, quarantined: 1 });
    const notJson = await post(app.url, '{"message": {"data": ', key.mint());
    expect(notJson.status).toBe(200);
    expect(notJson.json?.quarantined).toBe(1);
    const q = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' });
    expect(q.length).toBe(before + 2);
    expect(q.at(-2)?.reason).toMatch(/does not decode to a LogEntry/);
    expect(q.at(-1)?.reason).toMatch(/push body is not JSON/);
  });

  it('a body holding no LogEntry ([] or {"entries":[]}) is quarantined and acknowledged, not answered as if kept', async () => {
    const before = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' }).length;
    for (const [body, id] of [['[]', 'empty-1'], ['{"entries":[]}', 'empty-2']] as const) {
      const r = await post(app.url, body, key.mint(), { 'x-goog-pubsub-message-id': id });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ accepted: 0, duplicates: 0, quarantined: 1 });
    }
    const q = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' }).slice(before);
    expect(q.map((e) => [e.reason, e.meta.message_id, e.body.toString()])).toEqual([
      ['empty array: no LogEntry in it', 'empty-1', '[]'],
      ['entries is empty: no LogEntry in it', 'empty-2', '{"entries":[]}'],
    ]);
  });

  it('a LogEntry nested 5000 levels deep is quarantined (its bytes kept) and acknowledged, unwrapped or wrapped; the route keeps working', async () => {
    const before = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' }).length;
    const text = deepEntryJson(5000);
    const raw = await post(app.url, text, key.mint(), { 'x-goog-pubsub-message-id': 'deep-raw' });
    expect(raw.status).toBe(200);
    expect(raw.json).toEqual({ accepted: 0, duplicates: 0, quarantined: 1 });
    const envelope = { message: { data: Buffer.from(text).toString('base64'), messageId: 'deep-wrapped' }, subscription: 'projects/ml-prod-123/subscriptions/mltrail-push' };
    const wrappedDeep = await post(app.url, envelope, key.mint());
    expect(wrappedDeep.status).toBe(200);
    expect(wrappedDeep.json).toEqual({ accepted: 0, duplicates: 0, quarantined: 1 });
    const q = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' }).slice(before);
    expect(q.map((e) => e.reason)).toEqual(['push body is not a LogEntry: JSON nested deeper than 200 levels', 'Pub/Sub message data does not decode to a LogEntry: JSON nested deeper than 200 levels']);
    expect(q[0]!.body.toString()).toBe(text);
    expect(JSON.parse(q[1]!.body.toString()).message.data).toBe(envelope.message.data);
    // 200 levels is still a LogEntry.
    const ok = await post(app.url, deepEntryJson(190, 'deep-ok'), key.mint());
    expect(ok.json).toEqual({ accepted: 1, duplicates: 0, quarantined: 0 });
  });

  it('a clock skew of up to 60 s is tolerated: expired 30 s ago, or issued 50 s ahead, is still accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    const late = await post(app.url, wrapped(auditEntry({ method: `${V1}JobService.GetCustomJob`, insertId: 'skew-late' })), key.mint({ iat: now - 1000, exp: now - 30 }));
    expect(late.status).toBe(200);
    const early = await post(app.url, wrapped(auditEntry({ method: `${V1}JobService.GetCustomJob`, insertId: 'skew-early' })), key.mint({ iat: now + 50, exp: now + 3600 }));
    expect(early.status).toBe(200);
  });

  it('an audience list holding ours is accepted (RFC 7519 §4.1.3)', async () => {
    const r = await post(app.url, wrapped(auditEntry({ method: `${V1}JobService.GetCustomJob`, insertId: 'aud-list' })), key.mint({ aud: ['https://other.example', AUDIENCE] }));
    expect(r.status).toBe(200);
  });

  it('the token is checked before the body is read: without one, a body that would be quarantined (bad gzip) or refused as too large is a 401, nothing kept', async () => {
    const quarantined = app.spool.listQuarantine({ channel: 'vertex.pubsub_push' }).length;
    const gz = await post(app.url, 'garbage', undefined, { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(401);
    const forged = await post(app.url, 'garbage', other.mint(), { 'content-encoding': 'gzip' });
    expect(forged.status).toBe(401);
    const big = await post(app.url, 'x'.repeat(15 * 1024 * 1024), undefined);
    expect(big.status).toBe(401);
    expect(app.spool.listQuarantine({ channel: 'vertex.pubsub_push' })).toHaveLength(quarantined);
  });

  const rejections: Array<[string, () => string | undefined, number, RegExp]> = [
    ['missing header', () => undefined, 401, /missing Authorization: Bearer/],
    ['wrong audience', () => key.mint({ aud: 'https://elsewhere.example/push' }), 401, /audience/],
    ['wrong email', () => key.mint({ email: 'attacker@evil-proj.iam.gserviceaccount.com' }), 403, /not an allowed push service account/],
    ['unverified email', () => key.mint({ email_verified: false }), 403, /email is not verified/],
    ['email_verified as a string', () => key.mint({ email_verified: 'true' }), 403, /email is not verified/],
    ['no email claim', () => key.mint({ email: undefined }), 403, /no email claim/],
    ['expired', () => key.mint({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }), 401, /expired/],
    ['lifetime too long', () => key.mint({ exp: Math.floor(Date.now() / 1000) + 86_400 }), 401, /lifetime/],
    ['issued 10 days ago, 30 min left (exp − iat > 1 h)', () => key.mint({ iat: Math.floor(Date.now() / 1000) - 10 * 86_400, exp: Math.floor(Date.now() / 1000) + 1800 }), 401, /lifetime \(exp − iat\) exceeds 3600s/],
    ['issued in the future', () => key.mint({ iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 3600 }), 401, /future/],
    ['not valid yet (nbf in 10 min)', () => key.mint({ nbf: Math.floor(Date.now() / 1000) + 600 }), 401, /not valid before/],
    ['nbf past any date (1e20)', () => key.mint({ nbf: 1e20 }), 401, /not valid before nbf 100000000000000000000/],
    ['critical header extension (crit)', () => key.mint({}, { crit: ['x'], x: 1 }), 401, /critical extensions/],
    ['expired 2 min ago (past the 60 s clock skew)', () => key.mint({ iat: Math.floor(Date.now() / 1000) - 1000, exp: Math.floor(Date.now() / 1000) - 120 }), 401, /expired/],
    ['exp − now past the lifetime (iat ahead, within the skew)', () => key.mint({ iat: Math.floor(Date.now() / 1000) + 50, exp: Math.floor(Date.now() / 1000) + 50 + 3650 }), 401, /^token lifetime exceeds 3600s/],
    ['audience that extends ours', () => key.mint({ aud: `${AUDIENCE}-staging` }), 401, /audience/],
    ['audience that is a prefix of ours', () => key.mint({ aud: 'https://mltrail.test/' }), 401, /audience/],
    ['audience list without ours', () => key.mint({ aud: ['https://a.example', 'https://b.example'] }), 401, /audience/],
    ['wrong issuer', () => key.mint({ iss: 'https://evil.example' }), 401, /issuer/],
    ['bad signature (other key, same kid)', () => other.mint(), 401, /signature is invalid/],
    ['tampered payload', () => { const [h, , s] = key.mint().split('.'); return `${h}.${Buffer.from(JSON.stringify({ email: PUSH_SA, aud: AUDIENCE })).toString('base64url')}.${s}`; }, 401, /signature is invalid|lacks exp/],
    ['alg none', () => key.mint({}, { alg: 'none' }), 401, /algorithm "none" is not accepted/],
    ['alg HS256', () => key.mint({}, { alg: 'HS256' }), 401, /algorithm "HS256"/],
    ['unknown kid', () => key.mint({}, { kid: 'nope' }), 401, /kid "nope" is not in the configured JWKS/],
    ['not a JWT', () => 'abc.def', 401, /malformed token/],
  ];
  for (const [name, token, status, message] of rejections) {
    it(`${name} → ${status} with a JSON error, nothing ingested, auth failure recorded`, async () => {
      const before = app.events().filter((e) => e.action !== 'ingest.auth_failure').length;
      const r = await post(app.url, wrapped(auditEntry({ method: `${V1}JobService.CreateCustomJob`, insertId: `rej-${name}` })), token());
      expect(r.status).toBe(status);
      expect(r.json?.error.code).toBe(status === 401 ? 'MLTRAIL_ERR_UNAUTHORIZED' : 'MLTRAIL_ERR_FORBIDDEN');
      expect(r.json?.error.message).toMatch(message);
      if (status === 401) expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(app.events().filter((e) => e.action !== 'ingest.auth_failure').length).toBe(before);
      await sleep(20);
      const failures = app.events().filter((e) => e.action === 'ingest.auth_failure' && e.channel === 'vertex.pubsub_push');
      // One event per kind of reason a minute (two alg refusals are one kind), with the code the sender got.
      expect(failures.some((f) => reasonClass(f.error.message) === reasonClass(r.json?.error.message) && f.error.code === r.json?.error.code)).toBe(true);
    });
  }
});

describe('allowed push service accounts and key sets', () => {
  it('MLTRAIL_PUBSUB_SERVICE_ACCOUNTS written with capitals still matches the token email (emails compare case-insensitively)', async () => {
    const key = signer('kid-case');
    const app = await pushApp({ push: { audience: AUDIENCE, service_accounts: ['PubSub-Push@ML-Prod-123.iam.gserviceaccount.com'], jwks: writeJwks([key.jwk]) } });
    try {
      expect(PUSH_SA).toBe('pubsub-push@ml-prod-123.iam.gserviceaccount.com');
      const r = await post(app.url, wrapped(entry), key.mint());
      expect(r.status).toBe(200);
      expect((await post(app.url, wrapped(entry, '900009'), key.mint({ email: 'pubsub-push@ml-prod-124.iam.gserviceaccount.com' }))).status).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('a JWKS key marked for encryption (use "enc"), or of another type or algorithm, is not a signing key', () => {
    const k = signer('k-enc');
    expect(() => parseKeySet(JSON.stringify({ keys: [{ ...k.jwk, use: 'enc' }] }), 'jwks.json')).toThrow(/no RS256 signing keys/);
    expect(() => parseKeySet(JSON.stringify({ keys: [{ ...k.jwk, alg: 'RS512' }] }), 'jwks.json')).toThrow(/no RS256 signing keys/);
    const set = parseKeySet(JSON.stringify({ keys: [{ ...k.jwk, kid: 'enc', use: 'enc' }, { ...k.jwk, kid: 'sig' }, { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'x', y: 'y' }] }), 'jwks.json');
    expect([...set.keys()]).toEqual(['sig']);
  });
});

describe('push configuration and key sources', () => {
  it('503 naming MLTRAIL_PUBSUB_AUDIENCE, then MLTRAIL_PUBSUB_SERVICE_ACCOUNTS, when not configured', async () => {
    const key = signer();
    const none = await pushApp({});
    const r1 = await post(none.url, wrapped(entry), key.mint());
    expect(r1.status).toBe(503);
    expect(r1.json?.error).toMatchObject({ code: 'MLTRAIL_ERR_NOT_CONFIGURED', variable: 'MLTRAIL_PUBSUB_AUDIENCE' });
    await none.close();
    const noAccounts = await pushApp({ push: { audience: AUDIENCE } });
    const r2 = await post(noAccounts.url, wrapped(entry), key.mint());
    expect(r2.status).toBe(503);
    expect(r2.json?.error).toMatchObject({ code: 'MLTRAIL_ERR_NOT_CONFIGURED', variable: 'MLTRAIL_PUBSUB_SERVICE_ACCOUNTS' });
    await noAccounts.close();
  });

  it('JWKS URL on 127.0.0.1: fetched once and cached; an unknown kid within 30 s of the last fetch does not hammer the key server', async () => {
    const k1 = signer('rot-1');
    const k2 = signer('rot-2');
    let keys = [k1.jwk];
    const jwks = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
      res.end(JSON.stringify({ keys }));
    });
    const app = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA], jwks: `${jwks.url}/oauth2/v3/certs` } });
    try {
      expect((await post(app.url, wrapped(auditEntry({ method: `${V1}JobService.GetCustomJob` })), k1.mint())).status).toBe(200);
      expect((await post(app.url, wrapped(auditEntry({ method: `${V1}JobService.GetCustomJob` })), k1.mint())).status).toBe(200);
      expect(jwks.state.requests).toBe(1);
      keys = [k1.jwk, k2.jwk];
      expect((await post(app.url, wrapped(auditEntry({ method: `${V1}JobService.GetCustomJob` })), k2.mint())).status).toBe(401);
      expect(jwks.state.requests).toBe(1);
    } finally {
      await app.close();
      await jwks.close();
    }
  });

  it('unreachable key source → 502 (redelivered), not an authentication failure', async () => {
    const key = signer('k');
    const dead = await httpServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const viaJwks = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA], jwks: `${dead.url}/jwks` } });
    const googleClient = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: `${dead.url}/certs` } });
    const viaGoogle = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA] } }, { googleClient });
    try {
      for (const app of [viaJwks, viaGoogle]) {
        const r = await post(app.url, wrapped(entry), key.mint());
        expect(r.status).toBe(502);
        expect(r.json?.error.code).toBe('MLTRAIL_ERR_UPSTREAM');
        await sleep(20);
        expect(app.events().filter((e) => e.action === 'ingest.auth_failure')).toEqual([]);
      }
    } finally {
      await viaJwks.close();
      await viaGoogle.close();
      await dead.close();
    }
  });

  it('a key server that fails is not asked again on every request: random kids cost one fetch per 30 s', async () => {
    const jwks = await httpServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const viaGoogleDead = await httpServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const googleClient = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: `${viaGoogleDead.url}/certs` } });
    const app = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA], jwks: `${jwks.url}/jwks` } });
    const google = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA] } }, { googleClient });
    // One key pair signs under every random kid: a 2048-bit key pair per request cost ~0.3 s each (30 s under load).
    const stranger = signer();
    try {
      for (let i = 0; i < 20; i++) expect((await post(app.url, wrapped(entry), stranger.mint({}, { kid: `random-${i}` }))).status).toBe(502);
      expect(jwks.state.requests).toBe(1);
      for (let i = 0; i < 20; i++) expect((await post(google.url, wrapped(entry), stranger.mint({}, { kid: `random-${i}` }))).status).toBe(502);
      // google-auth-library retries a failed fetch itself (up to 4 requests for the first call); then none for 30 s.
      expect(viaGoogleDead.state.requests).toBeLessThanOrEqual(4);
    } finally {
      await app.close();
      await google.close();
      await jwks.close();
      await viaGoogleDead.close();
    }
  });

  it('Google keys through google-auth-library (PEM certs endpoint on 127.0.0.1): valid → 200; email still checked by us', async () => {
    const key = signer('google-kid');
    const certs = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' });
      res.end(JSON.stringify({ [key.kid]: key.pem }));
    });
    const googleClient = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: `${certs.url}/oauth2/v1/certs` } });
    const app = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA] } }, { googleClient });
    try {
      const ok = await post(app.url, wrapped(auditEntry({ method: `${V1}EndpointService.UndeployModel`, insertId: 'g-1' })), key.mint());
      expect(ok.status).toBe(200);
      expect(app.events().some((e) => e.details?.insert_id === 'g-1' && e.action === 'endpoint.undeploy')).toBe(true);
      const wrongEmail = await post(app.url, wrapped(entry), key.mint({ email: 'someone@else.iam.gserviceaccount.com' }));
      expect(wrongEmail.status).toBe(403);
      const forged = await post(app.url, wrapped(entry), signer('google-kid').mint());
      expect(forged.status).toBe(401);
      const wrongAud = await post(app.url, wrapped(entry), key.mint({ aud: 'other' }));
      expect(wrongAud.status).toBe(401);
      const none = await post(app.url, wrapped(entry), key.mint({}, { alg: 'none' }));
      expect(none.status).toBe(401);
    } finally {
      await app.close();
      await certs.close();
    }
  });
});
