import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHints } from '../../../connectors/vertex/oidc.js';
import { AUDIENCE, PUSH_SA, pushApp, signer, writeJwks } from './harness.js';
import { V1, auditEntry } from './samples.js';

// A refused push is never read, so its body is not quarantined: reading and keeping bodies of senders that did not
// authenticate would let anyone fill the disk (the token is checked first, by design). What an operator inspects is
// the ingest.auth_failure event: the reason, the claimed principal and now what the token claimed — its audience above
// all, the usual misconfiguration — never the token, which may be valid for another audience.
const ROUTE = '/v1/ingest/vertex/pubsub';
const SECRET_IN_BODY = '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';

async function post(url: string, token: string) {
  const body = { message: { data: Buffer.from(JSON.stringify(auditEntry({ method: `${V1}JobService.CreateCustomJob`, insertId: 'refused-1' })) + SECRET_IN_BODY).toString('base64'), messageId: '77', publishTime: '2026-11-20T10:00:02.5Z' }, subscription: 'projects/ml-prod-123/subscriptions/mltrail-push' };
  const res = await fetch(`${url}${ROUTE}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('a refused Vertex push leaves an inspectable auth-failure record, the JWT never kept', () => {
  const key = signer('kid-rej');
  const other = signer('kid-rej');
  let app: Awaited<ReturnType<typeof pushApp>>;
  beforeAll(async () => {
    app = await pushApp({ push: { audience: AUDIENCE, service_accounts: [PUSH_SA], jwks: writeJwks([key.jwk]) } });
  });
  afterAll(() => app.close());

  const everything = () => JSON.stringify([app.events(), app.spool.listQuarantine({}).map((q) => ({ ...q, body: q.body.toString() }))]);

  it('wrong audience: the event names the audience the subscription sent, the issuer, kid and expiry; no token, no body, nothing quarantined', async () => {
    const token = key.mint({ aud: 'https://old-host.example/v1/ingest/vertex/pubsub' });
    const r = await post(app.url, token);
    expect(r.status).toBe(401);
    await sleep(20);
    const failure = app.events().find((e) => e.action === 'ingest.auth_failure' && /audience/.test(e.error.message));
    expect(failure).toBeDefined();
    expect(failure!.details).toMatchObject({ claimed_principal: PUSH_SA, unverified_claims: { alg: 'RS256', kid: 'kid-rej', iss: 'https://accounts.google.com', aud: 'https://old-host.example/v1/ingest/vertex/pubsub' } });
    expect(typeof failure!.details.unverified_claims.exp).toBe('number');
    const all = everything();
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(SECRET_IN_BODY);
    expect(app.spool.listQuarantine({ channel: 'vertex.pubsub_push' })).toEqual([]);
  });

  it('bad signature (another key, same kid): recorded with the claims, the forged token and its signature nowhere', async () => {
    const token = other.mint();
    const r = await post(app.url, token);
    expect(r.status).toBe(401);
    await sleep(20);
    const failure = app.events().find((e) => e.action === 'ingest.auth_failure' && /signature is invalid/.test(e.error.message));
    expect(failure!.details.unverified_claims).toMatchObject({ kid: 'kid-rej', aud: AUDIENCE });
    const all = everything();
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(token.split('.')[1]);
    expect(app.spool.listQuarantine({ channel: 'vertex.pubsub_push' })).toEqual([]);
  });

  it('a token that is no JWT says nothing it did not claim', async () => {
    const r = await post(app.url, 'abc.def');
    expect(r.status).toBe(401);
    await sleep(20);
    const failure = app.events().find((e) => e.action === 'ingest.auth_failure' && /malformed token/.test(e.error.message));
    expect(failure!.details?.unverified_claims).toBeUndefined();
  });

  it('a refused token with huge strings (kid, email) leaves a bounded event: reason and claimed principal cut (verify28c)', async () => {
    const big = 'k'.repeat(4000);
    const email = `${'e'.repeat(4000)}@evil.example`;
    const r = await post(app.url, key.mint({ email }, { kid: big }));
    expect(r.status).toBe(401);
    await sleep(20);
    const failure = app.events().find((e) => e.action === 'ingest.auth_failure' && /not in the configured JWKS/.test(e.error.message));
    expect(failure).toBeDefined();
    // They were 4 KB each, copied whole (the reason quotes the kid): a sender filled events at will.
    expect(failure!.error.message.length).toBeLessThanOrEqual(501);
    expect(failure!.details.claimed_principal.length).toBeLessThanOrEqual(321);
    expect(failure!.details.claimed_principal.startsWith('eee')).toBe(true);
    expect(failure!.details.unverified_claims.kid).toHaveLength(200);
  });

  it('tokenHints keeps the diagnostic claims only, bounded', () => {
    const hints = tokenHints({ alg: 'RS256', kid: 'k', typ: 'JWT' }, { aud: Array.from({ length: 9 }, (_, i) => `https://a${i}.example/${'x'.repeat(300)}`), iss: 'https://accounts.google.com', exp: 10, iat: 5, email: PUSH_SA, sub: '1049', nbf: 'x' });
    expect(Object.keys(hints).sort()).toEqual(['alg', 'aud', 'exp', 'iat', 'iss', 'kid']);
    expect(hints.aud).toHaveLength(5);
    expect((hints.aud as string[])[0]).toHaveLength(200);
    expect(tokenHints({}, { exp: Number.NaN, aud: 3 })).toEqual({});
  });
});
