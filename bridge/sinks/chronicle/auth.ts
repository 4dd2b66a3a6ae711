import { readFileSync } from 'node:fs';
import { GoogleAuth, type AuthClient } from 'google-auth-library';
import { MltrailError } from '../../../core/errors.js';
import { chronicleScopes, type ChronicleConfig } from './config.js';

/** Where the sink gets its bearer token. */
export interface TokenSource {
  readonly kind: 'service_account' | 'static';
  readonly scopes: string[];
  token(): Promise<string>;
  /** Drop the cached token (after a 401) so the next call mints a fresh one. */
  invalidate(): void;
}

/**
 * A service account key file through google-auth-library (it caches the
 * token and refreshes it before expiry), with the scope the chosen API wants,
 * or a static access token.
 *
 * @example
 * const auth = chronicleTokenSource(cfg); headers.authorization = `Bearer ${await auth.token()}`;
 */
export function chronicleTokenSource(cfg: Pick<ChronicleConfig, 'credentials' | 'access_token' | 'api'>): TokenSource {
  const scopes = chronicleScopes(cfg.api);
  if (!cfg.credentials) {
    const token = cfg.access_token!;
    return { kind: 'static', scopes, token: async () => token, invalidate: () => {} };
  }
  checkKeyFile(cfg.credentials);
  const auth = new GoogleAuth({ keyFile: cfg.credentials, scopes });
  let client: AuthClient | undefined;
  return {
    kind: 'service_account',
    scopes,
    async token() {
      client ??= await auth.getClient();
      const { token } = await client.getAccessToken();
      if (!token) throw new Error(`no access token from the service account in ${cfg.credentials}`);
      return token;
    },
    invalidate() {
      if (client) client.credentials = {};
    },
  };
}

/** Fail at startup (not at the first send) when the key file is missing or is not a service-account key. */
function checkKeyFile(file: string): void {
  let key: { type?: string; client_email?: string; private_key?: string };
  try {
    key = JSON.parse(readFileSync(file, 'utf8')) as typeof key;
  } catch (err) {
    throw new MltrailError('CONFIG', `MLTRAIL_CHRONICLE_CREDENTIALS: cannot read the service-account key ${file}: ${(err as Error).message}`, { variable: 'MLTRAIL_CHRONICLE_CREDENTIALS' });
  }
  // Workload identity federation configs (external_account) are accepted too: no key material to check.
  if (key.type === 'external_account') return;
  if (key.type !== 'service_account' || !key.client_email || !key.private_key) {
    throw new MltrailError('CONFIG', `MLTRAIL_CHRONICLE_CREDENTIALS: ${file} is not a service-account key (type "service_account" with client_email and private_key, or an external_account config)`, { variable: 'MLTRAIL_CHRONICLE_CREDENTIALS' });
  }
}
