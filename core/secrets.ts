/** What names a secret and what hides one: shared so every place that keeps or shows records redacts alike. */

/**
 * A name (env var, config key, header) whose value is a secret (`routing_key`: PagerDuty's). Substrings, case-insensitive, so that
 * `AWS_SECRET_ACCESS_KEY`, `MLFLOW_TRACKING_PASSWORD` and `HF_TOKEN` all match.
 *
 * @example
 * isSecretName('MLFLOW_TRACKING_PASSWORD') // true
 * isSecretName('MLFLOW_TRACKING_URI') // false
 */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}
const SECRET_NAME = /password|passwd|secret|token|credential|private_key|api_key|access_key|routing_key/i;

/** `scheme://user:pass@` anywhere in a string (user-info cannot hold `/`, `?`, `#` or whitespace). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi;

/**
 * The string with the user-info of every URL in it replaced by `[redacted]` (host and path stay readable);
 * the same string (===) when there is none.
 *
 * @example
 * redactUrlUserinfo('--uri=https://bob:s3cret@mlflow:5000/') // '--uri=https://[redacted]@mlflow:5000/'
 */
export function redactUrlUserinfo(s: string): string {
  // Cheap test first: nearly every string has no '@'.
  if (!s.includes('@') || !s.includes('://')) return s;
  return s.replace(URL_USERINFO, '$1[redacted]@');
}
