/**
 * How a setting that names a file holding a secret (a service-account key, a token file) shows
 * that name in an error: as given when it reads like a path, else not at all. The usual mistake is
 * to put the secret itself where its path belongs (MLTRAIL_CHRONICLE_CREDENTIALS='{"private_key":…}',
 * MLTRAIL_KFP_TOKEN_FILE=eyJ…), and "cannot read <value>: ENOENT" then printed the private key or
 * token on stderr, into every log collector of the deployment.
 *
 * @example
 * shownPath('/etc/mltrail/sa.json')        // '/etc/mltrail/sa.json'
 * shownPath('{"type":"service_account",…') // 'the value given (1,234 characters, not shown: it looks like the secret itself, not the path of a file holding it)'
 */
export function shownPath(file: string): string {
  const looksLikeContent =
    file.length > 1024 ||
    /[\u0000-\u001f\u007f]/.test(file) ||
    // JSON: an object, or an array of values ("[prod]/sa.json" is a path whose first folder is "[prod]").
    /^\s*(\{|\[\s*([{["\d-]|$))/.test(file) ||
    file.includes('-----BEGIN') ||
    /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\./.test(file.trim()) ||
    // A long run without a path separator or a dot reads like a key or token, not a file name.
    (!/[/\\.]/.test(file) && file.length >= 32);
  if (!looksLikeContent) return file;
  return `the value given (${file.length.toLocaleString('en-US')} characters, not shown: it looks like the secret itself, not the path of a file holding it)`;
}
