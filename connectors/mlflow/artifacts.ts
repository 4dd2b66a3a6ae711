import { buildManifest, hashStream, type Manifest, type ManifestEntry } from '../../core/integrity/manifest.js';
import { MAX_ENVIRONMENT_FILE_BYTES } from '../../core/integrity/packages.js';
import { MAX_MLMODEL_BYTES } from './mlmodel.js';
import type { MlflowClient, ModelVersion } from './client.js';
import { safeUri } from './uri.js';

/** Where a version's files can be read through the MLflow server. */
export type ArtifactLocation =
  | { kind: 'proxied'; uri: string; root: string }
  | { kind: 'run'; uri: string; runId: string; root: string }
  | { kind: 'logged_model'; uri: string; modelId: string; root: string }
  | { kind: 'unreachable'; uri: string; reason: string };

const MAX_FILES = 100_000;
const MAX_DEPTH = 64;

/** Path part of an `mlflow-artifacts:` URI (`mlflow-artifacts:/0/abc/artifacts/model` → `0/abc/artifacts/model`). */
export function proxiedPathOf(uri: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(uri);
  return m ? m[1]!.replace(/\/+$/, '') : undefined;
}

/**
 * The logged model a `models:/<model_id>` source names (MLflow 3: `log_model` registers `models:/m-<hex>`), read as
 * MLflow's `_parse_model_uri` does: one path segment without `@`. Undefined for `models:/<name>/<version>`, an alias,
 * another scheme or a URI with an authority.
 *
 * @example
 * loggedModelIdOf('models:/m-0a1b2c') // 'm-0a1b2c'
 * loggedModelIdOf('models:/fraud/3') // undefined
 */
export function loggedModelIdOf(source: string | undefined): string | undefined {
  const m = /^models:\/([^/?#@]+)\/?$/.exec(source ?? '');
  return m ? m[1] : undefined;
}

/**
 * Resolve a model version's artifact location: the proxied artifact store
 * (`mlflow-artifacts`) when the server serves artifacts, else the run's
 * artifact routes for a `runs:/` source, or the logged model's for an MLflow 3
 * `models:/<model_id>` source (its version's files are the logged model's,
 * `storage_location` = the logged model's `artifact_location`), or those of
 * the version a `models:/<name>/<version>` source was copied from.
 *
 * @example
 * await resolveArtifactLocation(client, mv, signal) // { kind: 'proxied', root: '1/abc/artifacts/model', … }
 */
export async function resolveArtifactLocation(client: MlflowClient, mv: ModelVersion, signal: AbortSignal): Promise<ArtifactLocation> {
  const uri = await client.getDownloadUri(mv.name, mv.version, signal);
  const proxied = proxiedPathOf(uri);
  if (proxied !== undefined) return { kind: 'proxied', uri, root: proxied };
  const route = await routeOf(client, mv.source, signal, 0);
  if (route && 'runId' in route) return { kind: 'run', uri, ...route };
  if (route && 'modelId' in route) return { kind: 'logged_model', uri, ...route };
  return {
    kind: 'unreachable',
    uri,
    reason: route?.reason ?? `artifacts at ${safeUri(uri)} are not served by the MLflow server (no mlflow-artifacts proxy, not a runs:/ or models:/<model_id> source); run the server with --serve-artifacts to audit them`,
  };
}

/** Sources followed from one version to the version it was copied from (`models:/<name>/<version>`), at most. */
const MAX_COPY_HOPS = 5;

/**
 * Through which MLflow routes a source's files can be read outside the proxy: a run's (`runs:/<run>/<path>`), a logged
 * model's (`models:/<model_id>`), or, for a version copied from another (`models:/<name>/<version>`:
 * `copy_model_version`, a promotion across registered models; MLflow stored that version's download URI as its
 * storage), the one the source version's own source names.
 */
async function routeOf(client: MlflowClient, source: string | undefined, signal: AbortSignal, hops: number): Promise<{ runId: string; root: string } | { modelId: string; root: string } | { reason: string } | undefined> {
  const runs = /^runs:\/([^/]+)\/?(.*)$/.exec(source ?? '');
  if (runs) return { runId: runs[1]!, root: runs[2]!.replace(/\/+$/, '') };
  const modelId = loggedModelIdOf(source);
  if (modelId) return { modelId, root: '' };
  const copy = /^models:\/([^/?#@]+)\/(\d+)\/?$/.exec(source ?? '');
  if (!copy || hops >= MAX_COPY_HOPS) return undefined;
  let from: ModelVersion;
  try {
    from = await client.getModelVersion(copy[1]!, copy[2]!, signal);
  } catch (err) {
    // The version copied from was deleted: its files may be left, but no route names them any more.
    if ((err as { status?: number }).status === 404) return { reason: `copied from ${copy[1]} version ${copy[2]}, which no longer exists: its files are not served by the MLflow server without the mlflow-artifacts proxy` };
    throw err;
  }
  return routeOf(client, from.source, signal, hops + 1);
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The files MLflow writes beside a model to restore its environment (`mlflow.pyfunc` with `env_manager` `virtualenv`
 * / `conda`, `mlflow models serve`, `build-docker`): their index and channel lines say where the packages it installs
 * come from. Read where MLflow writes them, at the model's root.
 */
const ENVIRONMENT_FILES = new Set(['requirements.txt', 'conda.yaml', 'python_env.yaml']);

/** A manifest, and the text of the model's environment files (ENVIRONMENT_FILES) and `MLmodel` read while they were hashed. */
export type ManifestWithEnvironment = Manifest & { environment?: Record<string, string>; mlmodel?: string };

/** `body` passed through, its first `max` bytes kept in `into` (for a file read while it is hashed). */
async function* keeping(body: AsyncIterable<Uint8Array | string>, into: Buffer[], max: number): AsyncGenerator<Uint8Array | string> {
  let kept = 0;
  for await (const chunk of body) {
    if (kept < max) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
      into.push(b.subarray(0, max - kept));
      kept += b.length;
    }
    yield chunk;
  }
}

/**
 * SHA-256 manifest of every file under a version's artifact location, each
 * file streamed through the hash (never buffered whole), `concurrency`
 * downloads at a time. Paths are relative to the version's root. The model's
 * environment files (`requirements.txt`, `conda.yaml`, `python_env.yaml` at
 * its root) are kept as text too (their first 256 KiB), read in the same pass.
 */
export async function manifestOf(client: MlflowClient, loc: Exclude<ArtifactLocation, { kind: 'unreachable' }>, concurrency: number, signal: AbortSignal): Promise<ManifestWithEnvironment> {
  const files: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new Error(`artifact tree deeper than ${MAX_DEPTH} levels at ${dir}`);
    const entries =
      loc.kind === 'proxied' ? await client.listProxied(dir, signal)
        : loc.kind === 'run' ? await client.listRunArtifacts(loc.runId, dir, signal)
          : await client.listLoggedModelArtifacts(loc.modelId, dir, signal);
    if (depth === 0 && entries.length === 0 && loc.kind === 'run' && dir) {
      // A runs:/ source may name a single file rather than a directory.
      files.push(dir);
      return;
    }
    for (const e of entries) {
      // The proxy lists basenames; the run and logged-model listings give paths from their root.
      const full = loc.kind === 'proxied' ? (dir ? `${dir}/${e.path}` : e.path) : e.path;
      if (e.is_dir) await walk(full, depth + 1);
      else files.push(full);
      if (files.length > MAX_FILES) throw new Error(`more than ${MAX_FILES} artifact files under ${loc.root}`);
    }
  };
  await walk(loc.root, 0);
  const prefix = loc.root ? `${loc.root}/` : '';
  const environment: Record<string, string> = {};
  let mlmodel: string | undefined;
  const entries = await mapLimit(files, concurrency, async (full): Promise<ManifestEntry> => {
    const target = loc.kind === 'proxied' ? { proxiedPath: full } : loc.kind === 'run' ? { runId: loc.runId, path: full } : { loggedModelId: loc.modelId, path: full };
    const rel = full === loc.root ? (full.split('/').pop() ?? full) : full.startsWith(prefix) ? full.slice(prefix.length) : full;
    // The model's metadata (`MLmodel`, at its root) is kept too: what its flavor loads from elsewhere (mlmodel.ts).
    const kept: Buffer[] | undefined = ENVIRONMENT_FILES.has(rel) || rel === 'MLmodel' ? [] : undefined;
    const { sha256, size } = await client.download(target, (body) => hashStream(kept ? keeping(body, kept, rel === 'MLmodel' ? MAX_MLMODEL_BYTES : MAX_ENVIRONMENT_FILE_BYTES) : body), signal);
    if (kept && rel === 'MLmodel') mlmodel = Buffer.concat(kept).toString('utf8');
    else if (kept) environment[rel] = Buffer.concat(kept).toString('utf8');
    return { path: rel, sha256, size };
  });
  const manifest = buildManifest(entries);
  return { ...manifest, ...(Object.keys(environment).length ? { environment } : {}), ...(mlmodel !== undefined ? { mlmodel } : {}) };
}
