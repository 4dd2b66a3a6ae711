import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type * as GoogleAuthLibrary from 'google-auth-library';
import type { OAuth2Client } from 'google-auth-library';
import { safeEqualAny } from '../../core/http/index.js';
import { lazyRequire } from '../../core/lazy-require.js';

/** google-auth-library, loaded when a verifier checks against Google's keys (`serve`), not by every command. */
const googleAuth = lazyRequire<typeof GoogleAuthLibrary>('google-auth-library');

/** What a Pub/Sub push token must satisfy (spec §3.5). */
export interface OidcPolicy {
  audience: string;
  serviceAccounts: readonly string[];
  issuers: readonly string[];
  clockSkewS: number;
  maxLifetimeS: number;
}

export interface TokenClaims {
  iss: string;
  aud: string | string[];
  email: string;
  email_verified: boolean;
  sub?: string;
  azp?: string;
  iat: number;
  exp: number;
  [k: string]: unknown;
}

/** Bounds of what a refused token puts in its auth-failure event: its reason (which may quote a kid, alg or email) and its email (RFC 5321's 320). */
const MAX_REASON = 500;
const MAX_CLAIMED = 320;
/** A token's value quoted in a reason, cut to 200 characters (the reason's end, which says why, kept). */
const shown = (v: unknown) => {
  const j = JSON.stringify(v) ?? String(v);
  return j.length > 200 ? `${j.slice(0, 200)}…` : j;
};

/**
 * A rejected token: 401 (not a valid token for us) or 403 (valid, but not an allowed sender). Its message and claimed
 * email are cut (MAX_REASON, MAX_CLAIMED): both come from the sender's unverified token and go into a stored event.
 */
export class TokenError extends Error {
  /** The email the token claimed, for the auth-failure event (never the token). */
  readonly claimed?: string;
  constructor(
    readonly status: 401 | 403,
    message: string,
    claimed?: string,
  ) {
    super(message.length > MAX_REASON ? `${message.slice(0, MAX_REASON)}…` : message);
    this.name = 'TokenError';
    if (claimed !== undefined) this.claimed = claimed.length > MAX_CLAIMED ? `${claimed.slice(0, MAX_CLAIMED)}…` : claimed;
  }
  /** What the refused token's header and payload say (tokenHints), unverified; unset when it did not parse. */
  hints?: Record<string, unknown>;
}

/**
 * The parts of a refused token an operator needs to tell why it was refused — `alg`, `kid`, `iss`, `aud` (the
 * audience a misconfigured push subscription sends), `exp`, `iat` — unverified, strings cut to 200 characters and at
 * most 5 audiences. Never the token or its signature: a token refused for its audience may be valid for another
 * service, and kept it would be that service's credential.
 *
 * @example
 * tokenHints({ alg: 'RS256', kid: 'k1' }, { aud: 'https://other/push', iss: 'https://accounts.google.com', exp: 1 }) // { alg: 'RS256', kid: 'k1', iss: '…', aud: 'https://other/push', exp: 1 }
 */
export function tokenHints(header: Record<string, unknown>, payload: Record<string, unknown>): Record<string, unknown> {
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : undefined);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const aud = Array.isArray(payload.aud) ? payload.aud.slice(0, 5).map(str).filter((a) => a !== undefined) : str(payload.aud);
  const out: Record<string, unknown> = { alg: str(header.alg), kid: str(header.kid), iss: str(payload.iss), aud, exp: num(payload.exp), iat: num(payload.iat) };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** The verification keys could not be fetched: a fault on our side or Google's, not the sender's (→ 502, redelivered). */
export class KeySourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeySourceError';
  }
}

export interface OidcVerifier {
  verify(token: string): Promise<TokenClaims>;
}

function b64urlJson(part: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new TokenError(401, `malformed token: ${what} is not base64url JSON`);
  }
}

/** A source of verification keys by `kid`. */
interface KeySource {
  get(kid: string): Promise<KeyObject | undefined>;
}

/** Parse a JWKS (`{keys:[…]}`) or Google's PEM map (`{kid: "-----BEGIN CERTIFICATE-----…"}`) into RSA keys. */
export function parseKeySet(text: string, origin: string): Map<string, KeyObject> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${origin}: not JSON: ${(err as Error).message}`);
  }
  const keys = new Map<string, KeyObject>();
  if (doc && typeof doc === 'object' && Array.isArray((doc as { keys?: unknown }).keys)) {
    for (const jwk of (doc as { keys: Array<Record<string, unknown>> }).keys) {
      if (typeof jwk.kid !== 'string' || jwk.kty !== 'RSA') continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      if (jwk.alg !== undefined && jwk.alg !== 'RS256') continue;
      keys.set(jwk.kid, createPublicKey({ key: jwk as never, format: 'jwk' }));
    }
  } else if (doc && typeof doc === 'object') {
    for (const [kid, pem] of Object.entries(doc as Record<string, unknown>)) {
      if (typeof pem === 'string' && pem.includes('-----BEGIN')) keys.set(kid, createPublicKey(pem));
    }
  }
  if (!keys.size) throw new Error(`${origin}: no RS256 signing keys (expected a JWKS {"keys":[…]} or a {kid: PEM} map)`);
  return keys;
}

/**
 * Keys from a JWKS file or http(s) URL, reloaded when a token names an
 * unknown `kid` (key rotation) at most every `minRefreshMs`, and for URLs
 * when the Cache-Control max-age expires.
 */
function jwksSource(location: string, minRefreshMs = 30_000): KeySource {
  let keys: Map<string, KeyObject> | undefined;
  /** When the last load was tried, successful or not: a key server that is down is not asked again sooner. */
  let attemptedAt = 0;
  let lastError: Error | undefined;
  let expiresAt = 0;
  let loading: Promise<void> | undefined;
  const isUrl = /^https?:\/\//i.test(location);
  const load = async () => {
    attemptedAt = Date.now();
    try {
      if (isUrl) {
        const res = await fetch(location, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
        if (!res.ok) throw new Error(`JWKS ${location} answered HTTP ${res.status}`);
        keys = parseKeySet(await res.text(), location);
        const maxAge = /max-age=(\d+)/i.exec(res.headers.get('cache-control') ?? '')?.[1];
        expiresAt = Date.now() + (maxAge ? Number(maxAge) * 1000 : 3600_000);
      } else {
        const path = location.startsWith('file://') ? new URL(location) : location;
        keys = parseKeySet(await readFile(path, 'utf8'), location);
        expiresAt = Number.POSITIVE_INFINITY;
      }
      lastError = undefined;
    } catch (err) {
      lastError = err as Error;
      throw err;
    }
  };
  const refresh = () => (loading ??= load().finally(() => (loading = undefined)));
  const mayRetry = () => Date.now() - attemptedAt > minRefreshMs;
  return {
    async get(kid) {
      if (!keys) {
        // Never loaded: a recent failure answers for the next minRefreshMs (the sender gets 502 and retries later).
        if (lastError && !mayRetry()) throw lastError;
        await refresh();
      } else if (Date.now() > expiresAt && mayRetry()) {
        // Expired: keep the keys we have if the reload fails (they were valid an hour ago; Google rotates slowly).
        await refresh().catch(() => undefined);
      }
      let key = keys?.get(kid);
      // An unknown kid (key rotation, or a forged token naming random kids) reloads at most every minRefreshMs.
      if (!key && mayRetry()) {
        await refresh().catch(() => undefined);
        key = keys?.get(kid);
      }
      return key;
    },
  };
}

function checkClaims(payload: Record<string, unknown>, policy: OidcPolicy, now = Date.now() / 1000): TokenClaims {
  const email = typeof payload.email === 'string' ? payload.email : undefined;
  const fail = (status: 401 | 403, msg: string) => new TokenError(status, msg, email);
  if (typeof payload.iss !== 'string' || !policy.issuers.includes(payload.iss)) throw fail(401, `token issuer ${JSON.stringify(payload.iss)} is not one of ${policy.issuers.join(', ')}`);
  const aud = payload.aud;
  const auds = Array.isArray(aud) ? aud : [aud];
  if (!auds.some((a) => typeof a === 'string' && safeEqualAny(a, [policy.audience]))) throw fail(401, 'token audience does not match MLTRAIL_PUBSUB_AUDIENCE');
  if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') throw fail(401, 'token lacks exp or iat');
  if (now > payload.exp + policy.clockSkewS) throw fail(401, `token expired at ${new Date(payload.exp * 1000).toISOString()}`);
  if (payload.iat > now + policy.clockSkewS) throw fail(401, 'token issued in the future');
  // RFC 7519 §4.1.5: not to be accepted before nbf (Google does not set it; a token that does is honoured).
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + policy.clockSkewS)) {
    throw fail(401, typeof payload.nbf !== 'number' ? 'token nbf is not a number' : Number.isFinite(new Date(payload.nbf * 1000).getTime()) ? `token not valid before ${new Date(payload.nbf * 1000).toISOString()}` : `token not valid before nbf ${payload.nbf}`);
  }
  // Push tokens live at most an hour (spec §3.5): bound both what is left (exp − now) and what was issued
  // (exp − iat), so a long-lived token minted elsewhere for this audience is refused near its end too.
  if (payload.exp - now > policy.maxLifetimeS + policy.clockSkewS) throw fail(401, `token lifetime exceeds ${policy.maxLifetimeS}s`);
  if (payload.exp - payload.iat > policy.maxLifetimeS + policy.clockSkewS) throw fail(401, `token lifetime (exp − iat) exceeds ${policy.maxLifetimeS}s`);
  if (!email) throw fail(403, 'token has no email claim (configure the push subscription with an OIDC service account)');
  const allowed = policy.serviceAccounts.map((a) => a.toLowerCase());
  if (!safeEqualAny(email.toLowerCase(), allowed)) throw fail(403, 'token email is not an allowed push service account (MLTRAIL_PUBSUB_SERVICE_ACCOUNTS)');
  if (payload.email_verified !== true) throw fail(403, 'token email is not verified (email_verified must be true)');
  return payload as TokenClaims;
}

/**
 * Verify a Pub/Sub push OIDC token: RS256 only (alg none and others refused
 * before any key lookup), signature against a configured JWKS or Google's
 * keys (google-auth-library), then issuer, audience, expiry, lifetime and —
 * what google-auth-library leaves to the caller — the `email` against the
 * allowed service accounts and `email_verified === true`.
 *
 * @example
 * const v = createOidcVerifier(policy, { jwks: '/etc/mltrail/jwks.json' });
 * const claims = await v.verify(bearer); // throws TokenError(401|403)
 */
export function createOidcVerifier(policy: OidcPolicy, opts: { jwks?: string; googleClient?: OAuth2Client } = {}): OidcVerifier {
  const keys = opts.jwks ? jwksSource(opts.jwks) : undefined;
  const google = keys ? undefined : (opts.googleClient ?? new (googleAuth().OAuth2Client)());
  let googleFailure: { at: number; message: string } | undefined;
  return {
    async verify(token) {
      const parts = token.split('.');
      if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new TokenError(401, 'malformed token: expected a signed JWT (header.payload.signature)');
      const header = b64urlJson(parts[0]!, 'header');
      const payload = b64urlJson(parts[1]!, 'payload');
      const claimed = typeof payload.email === 'string' ? payload.email : undefined;
      try {
        return await verifyParsed(token, parts, header, payload, claimed);
      } catch (err) {
        // The refusal says what the token claimed (for the auth-failure event), never the token.
        if (err instanceof TokenError) err.hints ??= tokenHints(header, payload);
        throw err;
      }
    },
  };
  async function verifyParsed(token: string, parts: string[], header: Record<string, unknown>, payload: Record<string, unknown>, claimed: string | undefined): Promise<TokenClaims> {
    if (header.alg !== 'RS256') throw new TokenError(401, `token algorithm ${shown(header.alg)} is not accepted (RS256 only)`, claimed);
    if (typeof header.kid !== 'string' || !header.kid) throw new TokenError(401, 'token header has no kid', claimed);
    // RFC 7515 §4.1.11: a token naming critical extensions the verifier does not implement is refused.
    if (header.crit !== undefined) throw new TokenError(401, 'token header lists critical extensions (crit), which are not supported', claimed);
    if (!parts[2]) throw new TokenError(401, 'token has no signature', claimed);
    if (keys) {
      let key: KeyObject | undefined;
      try {
        key = await keys.get(header.kid);
      } catch (err) {
        throw new KeySourceError(`cannot load verification keys from MLTRAIL_GOOGLE_JWKS: ${(err as Error).message}`);
      }
      if (!key) throw new TokenError(401, `token kid ${shown(header.kid)} is not in the configured JWKS`, claimed);
      const ok = verifySignature('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'));
      if (!ok) throw new TokenError(401, 'token signature is invalid', claimed);
    } else {
      // A failed certificate fetch answers for 30 s: unauthenticated requests must not make us fetch on each one.
      if (googleFailure && Date.now() - googleFailure.at < 30_000) throw new KeySourceError(googleFailure.message);
      try {
        await google!.getFederatedSignonCertsAsync();
        googleFailure = undefined;
      } catch (err) {
        googleFailure = { at: Date.now(), message: `cannot fetch Google's token signing certificates: ${(err as Error).message.slice(0, 200)}` };
        throw new KeySourceError(googleFailure.message);
      }
      try {
        // Google checks signature, iss, exp/iat (certificates now cached); the audience is passed so it is checked twice.
        await google!.verifyIdToken({ idToken: token, audience: policy.audience });
      } catch (err) {
        throw new TokenError(401, `token rejected: ${(err as Error).message.split('\n')[0]!.slice(0, 200)}`, claimed);
      }
    }
    return checkClaims(payload, policy);
  }
}
