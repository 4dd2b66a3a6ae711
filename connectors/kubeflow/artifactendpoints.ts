/**
 * Where a KServe predictor's model bytes come from besides the registry: the artifact endpoints and proxies its
 * serving container's env names (`details.artifact_env`, read by audit/kserve.ts), judged against the cluster's
 * `artifact_endpoints` allow-list.
 */

import { redactUrlUserinfo } from '../../core/secrets.js';

/**
 * Env vars that make the serving container fetch the model's bytes from elsewhere while its registry URI stays the
 * approved one: MLflow's S3 artifact client endpoint (`MLFLOW_S3_ENDPOINT_URL`, mlflow/environment_variables.py),
 * the AWS SDKs' endpoint overrides boto3 reads (`AWS_ENDPOINT_URL`, the S3-specific `AWS_ENDPOINT_URL_S3`; AWS SDKs
 * and Tools reference, service-specific endpoints), and KServe's S3 storage settings (`S3_ENDPOINT`, and
 * `AWS_ENDPOINT_URL` again: the names kserve pkg/credentials/s3 sets from a `serving.kserve.io/s3-endpoint`
 * annotation and its Python storage module reads when the model server downloads in its own container), and the
 * Google Cloud Storage client's emulator override (`STORAGE_EMULATOR_HOST`: google-cloud-storage, which MLflow's
 * gs:// artifact repository uses, sends every request there instead of storage.googleapis.com).
 */
export const ARTIFACT_ENDPOINT_ENVS = ['MLFLOW_S3_ENDPOINT_URL', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'S3_ENDPOINT', 'STORAGE_EMULATOR_HOST'] as const;
/**
 * The proxies Python's HTTP clients route every download through (requests and botocore take them from urllib's
 * getproxies: `<scheme>_proxy` in any case, lower case first; `all_proxy` for any scheme). `NO_PROXY` only exempts
 * hosts from a proxy: not read.
 */
export const PROXY_ENVS = ['https_proxy', 'http_proxy', 'all_proxy'] as const;

/**
 * The Azure Storage connection string MLflow's `wasbs://` artifact repository connects with
 * (`AZURE_STORAGE_CONNECTION_STRING`): its `BlobEndpoint=` names the blob service host in place of
 * `<account>.blob.core.windows.net`, and `UseDevelopmentStorage=true` the local Azurite emulator. The value is a
 * secret (its AccountKey); only that host is read, before the raw record is redacted (azureBlobEndpointOf).
 */
export const AZURE_CONNECTION_STRING_ENV = 'AZURE_STORAGE_CONNECTION_STRING';
/**
 * The AWS SDKs' shared config and credentials files and the profile read from them (`AWS_CONFIG_FILE`,
 * `AWS_SHARED_CREDENTIALS_FILE`, `AWS_PROFILE`): a profile may set `endpoint_url`, also per service in a `services`
 * section (AWS SDKs and Tools reference, service-specific endpoints), in a file the audit log never shows.
 */
export const AWS_FILE_ENVS = ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE'] as const;

/**
 * MLflow's S3 artifact client hands a set `MLFLOW_S3_ENDPOINT_URL` to boto3 as `endpoint_url`
 * (mlflow/store/artifact/s3_artifact_repo.py, _get_s3_client), and the AWS SDKs read their own endpoint settings — these
 * env vars, a profile's `endpoint_url` — only when none is given in code (AWS SDKs and Tools reference, endpoint
 * precedence): beside a literal MLFLOW_S3_ENDPOINT_URL they do not say where MLflow fetches a model's bytes from.
 */
export const MLFLOW_S3_ENDPOINT_ENV = 'MLFLOW_S3_ENDPOINT_URL';
export const OVERRIDDEN_BY_MLFLOW_S3_ENDPOINT = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', ...AWS_FILE_ENVS] as const;

/** Whether an env name is one of those (a proxy in any spelling). */
export function isArtifactEnvName(name: string): boolean {
  return (ARTIFACT_ENDPOINT_ENVS as readonly string[]).includes(name) || (PROXY_ENVS as readonly string[]).includes(name.toLowerCase()) || name === AZURE_CONNECTION_STRING_ENV || (AWS_FILE_ENVS as readonly string[]).includes(name);
}

/** Azurite's blob endpoint, which `UseDevelopmentStorage=true` names (its default port). */
const AZURITE_BLOB = 'http://127.0.0.1:10000';

/**
 * The emulator's blob endpoint with `DevelopmentStorageProxyUri` set: the Storage SDKs that read it (.NET's and Java's
 * CloudStorageAccount development account) build it on the proxy's scheme and host with the emulator's blob port, so
 * the bytes come from that host. A value that is no URL is returned as written, to be judged as it stands.
 */
function emulatorBlobVia(proxy: string): string {
  try {
    const u = new URL(proxy);
    return `${u.protocol}//${u.hostname}:10000`;
  } catch {
    return proxy;
  }
}

/**
 * The blob endpoint an Azure Storage connection string names (`key=value` pairs separated by `;`, keys
 * case-insensitive): `BlobEndpoint`, else Azurite for `UseDevelopmentStorage=true` (on the host of its
 * `DevelopmentStorageProxyUri`, if any), else the account's host the SDK
 * builds, `<DefaultEndpointsProtocol>://<AccountName>.blob.<EndpointSuffix>` (defaults `https`, `core.windows.net`):
 * the client talks to that account whatever account the `wasbs://` URI names, and a suffix of one's own sends it to
 * any host. Undefined when it names no account. Nothing else of the string is returned: the AccountKey or SAS it
 * holds is a secret.
 *
 * @example
 * azureBlobEndpointOf('DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k==;BlobEndpoint=https://blob.evil.example/') // 'https://blob.evil.example/'
 * azureBlobEndpointOf('AccountName=a;AccountKey=k==;EndpointSuffix=evil.example') // 'https://a.blob.evil.example'
 */
export function azureBlobEndpointOf(connectionString: string): string | undefined {
  const pairs = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) pairs.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  const blob = pairs.get('blobendpoint');
  if (blob) return blob;
  if (pairs.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    const proxy = pairs.get('developmentstorageproxyuri');
    return proxy ? emulatorBlobVia(proxy) : AZURITE_BLOB;
  }
  const account = pairs.get('accountname');
  if (!account) return undefined;
  return `${pairs.get('defaultendpointsprotocol') || 'https'}://${account}.blob.${pairs.get('endpointsuffix') || 'core.windows.net'}`;
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * An endpoint or proxy as an event may show it: user-info replaced by `[redacted]` (a proxy URL often carries
 * `user:password@`, also without a scheme), query and fragment removed.
 *
 * @example
 * shownEndpoint('http://bob:s3cret@proxy.corp:3128/?x=1') // 'http://[redacted]@proxy.corp:3128/'
 * shownEndpoint('bob:s3cret@proxy.corp:3128') // '[redacted]@proxy.corp:3128'
 */
export function shownEndpoint(value: string): string {
  const v = value.trim();
  const scheme = HAS_SCHEME.test(v);
  const shown = (scheme ? redactUrlUserinfo(v) : v.replace(/^[^/?#@\s]*@/, '[redacted]@')).replace(/[?#].*$/s, '');
  // The host is judged on what is shown: where the redaction read another host than the URL parser (a `\` is a `/`
  // in an http(s) URL, so `http://evil\@minio` is evil's, and Python's urllib3 connects there too), the value is
  // shown as its parsed host, never as a listed one; the rest may be a password the redaction meant to hide.
  const key = endpointHostKey(v);
  if (key === undefined || endpointHostKey(shown.replace('[redacted]@', '')) === key) return shown;
  const u = new URL(scheme ? v : `http://${v}`);
  const parsed = `${u.username || u.password ? '[redacted]@' : ''}${u.host}${u.pathname === '/' ? '' : '/[redacted]'}`;
  return scheme ? `${u.protocol}//${parsed}` : parsed;
}

/**
 * The host an endpoint or proxy is compared by: `host[:port]`, lower case, without a trailing dot; a bare
 * `host:port` (KServe's `S3_ENDPOINT`, a `serving.kserve.io/s3-endpoint` annotation) is read as `http://host:port`,
 * so the scheme's default port drops out as for a URL. Scheme, user-info and path aside: the host is where the bytes
 * come from. Undefined for a value that is no URL or host.
 *
 * @example
 * endpointHostKey('HTTPS://MinIO.minio.svc:443/bucket') // 'minio.minio.svc'
 * endpointHostKey('minio.minio.svc:9000') // 'minio.minio.svc:9000'
 */
export function endpointHostKey(value: string): string | undefined {
  const v = value.trim();
  const url = HAS_SCHEME.test(v) ? v : `http://${v}`;
  if (!v || !URL.canParse(url)) return undefined;
  const u = new URL(url);
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  return host ? `${host}${u.port ? `:${u.port}` : ''}` : undefined;
}

/**
 * The config check of one `artifact_endpoints` entry: an error message, or undefined when it names a host. Entries
 * are compared by exact host and port, so a wildcard (`*.corp`) or a CIDR range (`10.0.0.0/8`, read as host 10.0.0.0
 * with a path) would parse yet match no endpoint: every deployment would then alert, with nothing saying why.
 */
export function artifactEndpointProblem(value: string): string | undefined {
  const v = value.trim();
  if (v.includes('*')) return 'a wildcard matches no endpoint (entries are compared by exact host and port): list each host';
  if (!HAS_SCHEME.test(v) && /[/?#]./s.test(v.replace(/^[^@]*@/, ''))) {
    return 'without a scheme an entry is a host or host:port: a CIDR range or a path matches no endpoint (list each host, or write a URL)';
  }
  return endpointHostKey(v) === undefined ? 'expected a host, host:port or URL (http(s)://host[:port]) of an artifact endpoint or proxy' : undefined;
}

/**
 * The env names of `artifactEnv` (name → value, as `details.artifact_env`) whose host is not in `allowed` (the
 * cluster's `artifact_endpoints`), in the order given.
 */
export function unlistedArtifactEnv(artifactEnv: Record<string, unknown>, allowed: readonly string[]): string[] {
  const keys = new Set(allowed.map(endpointHostKey).filter((k): k is string => k !== undefined));
  return Object.entries(artifactEnv).filter(([, v]) => {
    // The value is shown without user-info (shownEndpoint): the host is read past the placeholder.
    const key = typeof v === 'string' ? endpointHostKey(v.replace('[redacted]@', '')) : undefined;
    return key === undefined || !keys.has(key);
  }).map(([name]) => name);
}
