/** URLs: user-info, secret query parameters and signed-URL signatures. */
import { isSecretName, REDACTED } from './names.js';

/**
 * `scheme://user:pass@` anywhere in a string, up to the last `@` before the host: user-info cannot hold `/`, `?`, `#`,
 * whitespace or quotes, but clients (curl, Python's urllib, libpq) take a password with an unencoded `@` and split at
 * the last one, so stopping at the first left the password's tail readable.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s"'<>]*@/gi;

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
  return s.replace(WHOLE_URL_USERINFO, '$1[redacted]@').replace(URL_USERINFO, '$1[redacted]@');
}
/**
 * A string that is one URL (an env value, a flag's value): its user-info may hold quotes (`p"ss`, `it's`, which
 * clients take), as no text around it is quoted.
 */
const WHOLE_URL_USERINFO = /^(\s*[a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@(?=[^\s]*$)/i;

/**
 * A query parameter of a URL whose value is a secret: a secret's name (`password`, `token`), or a signed URL's
 * signature, a bearer credential for the object until it expires (Azure SAS `sig`, S3 `X-Amz-Signature`, GCS
 * `X-Goog-Signature`).
 */
const SIGNATURE_PARAM = /(?:^|[-_])(?:sig|signature)$/i;
/** `?name=value` / `&name=value` (the value up to the next parameter, fragment, whitespace or quote). */
const QUERY_PARAM = /([?&])([^=&#\s"'<>]+)=([^&#\s"'<>]*)/g;

/**
 * The string with the user-info of every URL in it and the values of its secret query parameters (`?password=`,
 * a JDBC URL's `&password=`, a presigned URL's signature) replaced by `[redacted]`; the same string (===) when none.
 *
 * @example
 * redactUrlSecrets('https://acct.blob.core.windows.net/m/model.pkl?sv=2022-11-02&sig=abc') // '…?sv=2022-11-02&sig=[redacted]'
 */
export function redactUrlSecrets(s: string): string {
  const url = redactUrlUserinfo(s);
  // Cheap test first: a query needs a '?' and a '='.
  if (!url.includes('?') || !url.includes('=')) return url;
  const out = url.replace(QUERY_PARAM, (all, sep: string, name: string, value: string) =>
    value !== '' && value !== REDACTED && (isSecretName(name) || SIGNATURE_PARAM.test(name)) ? `${sep}${name}=${REDACTED}` : all);
  return out === s ? s : out;
}
