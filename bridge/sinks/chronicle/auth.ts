import type * as GoogleAuthLibrary from 'google-auth-library';
import type { AuthClient } from 'google-auth-library';
import { MltrailError } from '../../../core/errors.js';
import { lazyRequire } from '../../../core/lazy-require.js';
import { chronicleScopes, keyFileProblem, type ChronicleConfig } from './config.js';

/** google-auth-library, loaded when a sink with a key file is built: every config check imports the sinks. */
const googleAuth = lazyRequire<typeof GoogleAuthLibrary>('google-auth-library');

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
  const { GoogleAuth } = googleAuth();
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
  // The config check (keyFileProblem) has passed already; the file may have changed since.
  const problem = keyFileProblem(file);
  if (problem) throw new MltrailError('CONFIG', `credentials: ${problem}`);
}
