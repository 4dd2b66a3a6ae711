/** Query parameters whose value is a credential (signed URLs, SAS tokens, API keys). */
const SECRET_PARAM = /token|sig|secret|pass|pwd|key|credential|auth|session/i;

/**
 * A URI safe to log or put in an event: user-info (`http://user:password@host`)
 * removed and credential-like query values replaced. MLflow tracking URIs and
 * artifact sources may carry either; everything else is kept as written.
 *
 * @example
 * safeUri('https://u:hunter2@mlflow:5000/') // 'https://mlflow:5000/'
 * safeUri('https://acct.blob.core.windows.net/m?sv=1&sig=abc') // '…?sv=1&sig=REDACTED'
 */
export function safeUri(uri: string): string;
export function safeUri(uri: string | undefined): string | undefined;
export function safeUri(uri: string | undefined): string | undefined {
  if (!uri) return uri;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return uri.replace(/\/\/[^/@\s]*@/, '//');
  }
  let changed = false;
  if (u.username || u.password) {
    u.username = '';
    u.password = '';
    changed = true;
  }
  for (const k of new Set(u.searchParams.keys())) {
    if (SECRET_PARAM.test(k)) {
      u.searchParams.set(k, 'REDACTED');
      changed = true;
    }
  }
  return changed ? u.toString() : uri;
}
