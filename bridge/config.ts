import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { connectorPlugins } from '../connectors/index.js';
import { withMlflowRegistryUrls, type KubeflowConfig } from '../connectors/kubeflow/config.js';
import { mlflowRegistryUrls, type MlflowConfig } from '../connectors/mlflow/config.js';
import { MltrailError } from '../core/errors.js';
import { ClientCaFile, readKeyPair } from '../core/config/pem.js';
import { coerceInterpolated, csv, decimalOrText, deepMerge, formatIssues, interpolateEnv, readConfigFile, type UnsetVariable } from '../core/config/load.js';
import { RulesConfig } from '../core/rules/engine.js';
import type { SinkEntry } from './sinks/thread.js';
import { sinkFactories } from './sinks/index.js';

const MiB = 1024 * 1024;

/**
 * HTTPS for `mltrail serve` (`server.tls`): the TLS layer ends in the bridge process, so it can verify client
 * certificates itself. The files are checked with the config (readable PEM, the key matching the certificate).
 */
export const ServerTlsConfig = z.strictObject({
  /** PEM certificate chain the server presents, its own certificate first. Re-read with the key on SIGHUP. */
  cert_file: z.string().min(1),
  /** PEM private key of that certificate, unencrypted. */
  key_file: z.string().min(1),
  /**
   * PEM files of CAs whose client certificates the TLS layer verifies (every `connectors.kubeflow` `client_ca_file`
   * is added). With any, the server asks each client for a certificate but admits one without (tokens, HMAC, JWT).
   */
  client_ca_files: z.array(ClientCaFile).default([]),
  /** Oldest TLS version accepted. */
  min_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  /** How often (s) cert_file and key_file are looked at, and re-read when either changed (a renewal); 0: on SIGHUP only. */
  reload_check_s: z.number().int().min(0).max(86_400).default(60),
  /**
   * How long (ms) a connection may take to complete its TLS handshake before it is closed (Node's `handshakeTimeout`;
   * its default, 120 s, is the default here), counted from the connect: the wait for first bytes that tell plain HTTP
   * from TLS is part of it. Each connection held before its handshake holds a socket: peers that connect and stay
   * silent are let go sooner with a shorter one. At least 1 s (a slow client's handshake over a long path), at most 10 min.
   */
  handshake_timeout_ms: z.number().int().min(1000).max(600_000).default(120_000),
}).superRefine((t, ctx) => {
  const pair = readKeyPair(t.cert_file, t.key_file);
  if ('problems' in pair) for (const p of pair.problems) ctx.addIssue({ code: 'custom', path: [`${p.in}_file`], message: p.problem });
}, {
  // Also when another key of the block is wrong (an unset variable, a misspelt min_version): one run names every problem.
  when: (payload) => { const v = payload.value as Record<string, unknown> | undefined; return typeof v?.cert_file === 'string' && !!v.cert_file && typeof v.key_file === 'string' && !!v.key_file; },
});

export const ServerConfig = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8787),
  /**
   * Bearer token for /v1/events, /v1/attest and the Kubernetes audit route. Surrounding whitespace is dropped:
   * no header can carry it (a secret file's trailing newline would otherwise make every request a 401).
   */
  ingest_token: z.string().trim().refine((s) => s !== '', 'is blank: set a token, or unset it (then only local programs may send, on a loopback address)').optional(),
  /** Default request body limit (routes may set their own). */
  body_limit_bytes: z.number().int().positive().default(5 * MiB),
  /** How long SIGTERM waits, in all, for in-flight requests, rules and sink delivery. */
  shutdown_grace_ms: z.number().int().nonnegative().default(10_000),
  /** Serve HTTPS instead of plain HTTP. */
  tls: ServerTlsConfig.optional(),
});

export const SpoolConfig = z.strictObject({
  max_bytes: z.number().int().positive().default(1024 * MiB),
  synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
  dedup_window_hours: z.number().positive().default(168),
  /** Most ids remembered for dedup (~150 bytes of disk each); past it the oldest are forgotten first. */
  dedup_max_ids: z.number().int().positive().default(10_000_000),
  /** Seconds a sender is told to wait when the spool is full (≤ 60: MLflow retries with its original signed timestamp). */
  retry_after_s: z.number().int().min(1).max(60).default(30),
  /** Keep each event's original record in `raw`. */
  keep_raw: z.boolean().default(true),
  /** Days quarantined input is kept, then deleted by the spool's pruning (0: until `mltrail quarantine purge`). */
  quarantine_retention_days: z.number().nonnegative().default(30),
  /**
   * Days a dead letter (refused for good by its sink) is kept after its last refusal, then deleted by the spool's
   * pruning. 0 (the default): kept until `mltrail dlq purge` — they are accepted events, never deleted unasked.
   */
  dead_letter_retention_days: z.number().nonnegative().max(36_500).default(0),
});

export const LogConfig = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  summary_interval_s: z.number().int().positive().default(60),
});

export const PipelineConfig = z.strictObject({
  /**
   * Where the rule engine runs: `worker` (a worker thread with its own spool
   * connection, which also checkpoints the WAL; senders' latency never waits
   * on rules) or `main` (the event loop, as in replay).
   */
  rules_thread: z.enum(['worker', 'main']).default('worker'),
  /**
   * Where the sink runners run: `worker` (one worker thread with its own spool
   * connection; reading, mapping and compressing batches never holds the
   * event loop that answers senders) or `main` (the event loop).
   */
  sinks_thread: z.enum(['worker', 'main']).default('worker'),
});

export type { SinkEntry };

/** What `sinks:` holds when it is not a map (a list is the common slip). */
const notASinkMap = (i: { input: unknown }) =>
  `expected a map of sink name → settings (e.g. "splunk_hec: { url: … }"), got ${Array.isArray(i.input) ? 'a list' : i.input === null ? 'null' : typeof i.input}`;

const Sinks = z.record(z.string(), z.unknown(), { error: notASinkMap }).default({}).transform((entries, ctx): SinkEntry[] => {
  const out: SinkEntry[] = [];
  for (const [name, raw] of Object.entries(entries)) {
    const obj = (raw ?? {}) as Record<string, unknown>;
    const type = typeof obj.type === 'string' ? obj.type : name;
    const factory = sinkFactories.find((f) => f.type === type);
    if (!factory) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'type'],
        message: `unknown sink type "${type}" (expected one of ${sinkFactories.map((f) => f.type).join(', ')})`,
      });
      continue;
    }
    const r = factory.configSchema.safeParse(obj);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ ...i, path: [name, ...i.path] } as never);
      continue;
    }
    out.push({ name, type, config: r.data as SinkEntry['config'] });
  }
  return out;
});

const connectorShape = Object.fromEntries(connectorPlugins.map((p) => [p.name, (p.configSchema as z.ZodType).prefault({})]));

export const ConfigSchema = z.strictObject({
  server: ServerConfig.prefault({}),
  data_dir: z.string().min(1, 'must name a directory (default ./data)').default('./data'),
  spool: SpoolConfig.prefault({}),
  log: LogConfig.prefault({}),
  pipeline: PipelineConfig.prefault({}),
  connectors: z.strictObject(connectorShape).prefault({}),
  sinks: Sinks,
  rules: RulesConfig.prefault({}),
}).superRefine((c, ctx) => {
  // A cluster's MLflow server must be one configured: an id naming none would judge its deployments against nothing.
  const connectors = c.connectors as { mlflow?: { servers?: Array<{ id: string }> }; kubeflow?: { mlflow_server?: string; clusters?: Array<{ mlflow_server?: string }> } };
  const servers = new Set((connectors.mlflow?.servers ?? []).map((s) => s.id));
  const check = (id: string | undefined, path: PropertyKey[]) => {
    if (id !== undefined && !servers.has(id)) {
      ctx.addIssue({ code: 'custom', path: ['connectors', 'kubeflow', ...path, 'mlflow_server'], message: `names no MLflow server of connectors.mlflow.servers (${servers.size ? [...servers].map((s) => JSON.stringify(s)).join(', ') : 'none configured'}); the default server needs no setting` });
    }
  };
  check(connectors.kubeflow?.mlflow_server, []);
  connectors.kubeflow?.clusters?.forEach((cl, i) => check(cl.mlflow_server, ['clusters', i]));
}, {
  // Also when another key of the file is wrong (a misspelt key, a wrong type elsewhere): one run names every problem.
  // Only the shapes it reads must be there (an object's lists of objects).
  when: (payload) => {
    const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
    const listOfObjects = (v: unknown) => v === undefined || (Array.isArray(v) && v.every(isObject));
    const connectors = (payload.value as { connectors?: unknown } | undefined)?.connectors;
    if (!isObject(connectors)) return false;
    const { mlflow, kubeflow } = connectors;
    if (mlflow !== undefined && !(isObject(mlflow) && listOfObjects(mlflow.servers))) return false;
    return kubeflow === undefined || (isObject(kubeflow) && listOfObjects(kubeflow.clusters));
  },
}).transform((c) => {
  // The Kubeflow connector sees its own section only: it is given the MLflow servers' URLs, so that a KServe
  // predictor's MLFLOW_TRACKING_URI names its server (connectors/kubeflow/mlflowserver.ts).
  const connectors = c.connectors as { mlflow?: MlflowConfig; kubeflow?: KubeflowConfig };
  if (connectors.kubeflow && connectors.mlflow) withMlflowRegistryUrls(connectors.kubeflow, mlflowRegistryUrls(connectors.mlflow));
  return c;
});

export type Config = z.infer<typeof ConfigSchema>;

/** The environment variables the core reads (each also has a YAML key). */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const server: Record<string, unknown> = {};
  if (env.PORT) server.port = decimalOrText(env.PORT);
  if (env.MLTRAIL_HOST) server.host = env.MLTRAIL_HOST;
  if (env.MLTRAIL_INGEST_TOKEN) server.ingest_token = env.MLTRAIL_INGEST_TOKEN;
  const out: Record<string, unknown> = { server };
  if (env.MLTRAIL_DATA_DIR) out.data_dir = env.MLTRAIL_DATA_DIR;
  if (env.MLTRAIL_LOG_LEVEL) out.log = { level: env.MLTRAIL_LOG_LEVEL };
  const connectors: Record<string, unknown> = {};
  for (const p of connectorPlugins) {
    const c = p.fromEnv?.(env);
    if (c && Object.keys(c).length) connectors[p.name] = c;
  }
  out.connectors = connectors;
  const sinks: Record<string, unknown> = {};
  for (const f of sinkFactories) {
    const c = f.fromEnv?.(env);
    if (c) sinks[f.type] = c;
  }
  out.sinks = sinks;
  return out;
}

/** The value at `path`, or undefined when the path is not there (a parent is not blamed for a child). */
/** A value a flag set: flags set single values, never whole sections. */
function isFlagValue(v: unknown): boolean {
  return v !== undefined && (v === null || typeof v !== 'object');
}

/**
 * Whether a validation issue is about an unset variable's placeholder (its `${VAR}` text, kept so the rest could be
 * checked): at or under a key holding one, or quoting one. The unset variable is reported instead.
 */
function blamesPlaceholder(issue: z.core.$ZodIssue, unset: readonly UnsetVariable[]): boolean {
  const at = issue.path.join('.');
  return unset.some((u) => at === u.path || u.path === '' || at.startsWith(`${u.path}.`) || issue.message.includes(`\${${u.variable}`));
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * The environment variables that set the config value at `path`: those whose
 * absence changes it. Found by difference rather than from a table, so every
 * connector's and sink's own variables are named without each declaring a map
 * (only run when a config error is reported).
 */
function envVariablesAt(env: NodeJS.ProcessEnv, path: readonly PropertyKey[]): string[] {
  const full = JSON.stringify(valueAt(envOverrides(env), path)) ?? '';
  // Nothing from the environment at that path: the value came from the file (or a default).
  if (full === '') return [];
  const names: string[] = [];
  for (const name of Object.keys(env)) {
    if (env[name] === undefined || name === 'MLTRAIL_CONFIG') continue;
    const without = { ...env };
    delete without[name];
    let value: string;
    try {
      value = JSON.stringify(valueAt(envOverrides(without), path)) ?? '';
    } catch {
      continue;
    }
    if (value !== full) names.push(name);
  }
  return names;
}

/**
 * Unset variables that would set the value at `path` (the advice when a value is missing): those the
 * connectors and sinks read while building their overrides, each tried with a placeholder.
 */
function envVariablesFor(env: NodeJS.ProcessEnv, path: readonly PropertyKey[]): string[] {
  const unset = new Set<string>();
  const spy = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string' && target[key] === undefined) unset.add(key);
      return typeof key === 'string' ? target[key] : undefined;
    },
  });
  try {
    envOverrides(spy);
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const name of unset) {
    try {
      if (valueAt(envOverrides({ ...env, [name]: 'x' }), path) !== undefined) names.push(name);
    } catch {
      // a placeholder the variable's reader refuses: not this one to advise
    }
  }
  return names;
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence (CLI flags). */
  overrides?: Record<string, unknown>;
}

/**
 * Load the configuration: YAML file (with `${ENV}` interpolation) < environment
 * variables < CLI flags, validated as a whole. Errors name the file and the key
 * path with what was expected. With no sink configured, the file sink is the default.
 *
 * @example
 * const cfg = loadConfig({ file: 'mltrail.yaml', env: process.env });
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.MLTRAIL_CONFIG;
  const interpolated = new Map<string, string[]>();
  // Unset variables are collected, not thrown at the first: the rest of the file is validated too, so one run
  // says every problem (each unset variable, then the other keys' errors).
  const unset: UnsetVariable[] = [];
  const fromFile = file ? interpolateEnv(readConfigFile(file), env, [], interpolated, unset) : {};
  let merged = deepMerge(fromFile ?? {}, envOverrides(env));
  merged = deepMerge(merged, opts.overrides ?? {});
  let r = ConfigSchema.safeParse(merged);
  // `${VAR}` gives text: where a number or boolean is wanted, read it as one and check again.
  if (!r.success && coerceInterpolated(merged, r.error.issues, interpolated).length) r = ConfigSchema.safeParse(merged);
  if (!r.success || unset.length) {
    const issues = r.success ? [] : r.error.issues.filter((issue) => !blamesPlaceholder(issue, unset));
    const fromEnv = (issue: z.core.$ZodIssue) => {
      const { path } = issue;
      // A command-line flag (serve --port, --host, --data-dir) wins over the file and the environment: say so.
      // Flags set leaves: `serve` always passes a `server` object, which must not claim a file's unknown key in it.
      const blamed = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...path, k]) : [path];
      if (opts.overrides && path.length && blamed.some((p) => isFlagValue(valueAt(opts.overrides, p)))) return ' (from the command line)';
      // Unknown keys are blamed on what set them, not on whatever set anything in the object holding them.
      const names = issue.code === 'unrecognized_keys' ? [...new Set(issue.keys.flatMap((k) => envVariablesAt(env, [...path, k])))] : envVariablesAt(env, path);
      if (names.length) return ` (from environment variable ${names.join(', ')})`;
      // A value missing from a section the environment created (a token without its URL): name what to set.
      if (path.length > 1 && valueAt(merged, path) === undefined) {
        const section = envVariablesAt(env, path.slice(0, -1));
        const set = section.length ? envVariablesFor(env, path) : [];
        if (set.length) return ` (set environment variable ${set.join(' or ')}: ${section.join(', ')} configures this section)`;
      }
      // A `${VAR}` in the file: name the variable (its value is what is wrong, not the file's text).
      const vars = interpolated.get(path.join('.'));
      return vars?.length ? ` (from \${${vars.join('}, ${')}} in the file)` : '';
    };
    const lines = [...unset.map((u) => u.message), ...formatIssues(issues).map((l, i) => l + fromEnv(issues[i]!)), ...fileSinkClashes(merged)];
    throw new MltrailError('CONFIG', `${file ?? 'configuration'}: ${lines.join('; ')}`, { file, issues: lines, ...(unset.length ? { unset_variables: unset.map(({ path, variable }) => ({ path, variable })) } : {}) });
  }
  const cfg = r.data;
  const clashes = fileSinkClashes(merged);
  if (clashes.length) throw new MltrailError('CONFIG', `${file ?? 'configuration'}: ${clashes.join('; ')}`, { file, issues: clashes });
  // The default applies when no sink is configured at all: one the operator disabled stays off.
  if (cfg.sinks.length === 0) {
    const file = sinkFactories.find((f) => f.type === 'file')!;
    cfg.sinks.push({ name: 'file', type: 'file', config: file.configSchema.parse({}) as SinkEntry['config'] });
  }
  return cfg;
}

/**
 * Two file sinks writing one directory would each cut the other's lines at start (each keeps its own mark of the
 * files there), losing output on every restart: each needs its own path. Read from the merged settings before
 * validation, so a file with other errors says this one in the same run.
 */
function fileSinkClashes(merged: unknown): string[] {
  const { sinks, data_dir: dataDirSet } = (merged && typeof merged === 'object' ? merged : {}) as { sinks?: unknown; data_dir?: unknown };
  if (!sinks || typeof sinks !== 'object' || Array.isArray(sinks)) return [];
  const dataDir = typeof dataDirSet === 'string' && dataDirSet ? dataDirSet : './data';
  const fileDirs = new Map<string, string>();
  const lines: string[] = [];
  for (const [name, raw] of Object.entries(sinks as Record<string, unknown>)) {
    const obj = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    if ((typeof obj.type === 'string' ? obj.type : name) !== 'file') continue;
    const dir = realDir(resolve(typeof obj.path === 'string' && obj.path ? obj.path : join(dataDir, 'out')));
    const other = fileDirs.get(dir);
    if (other) lines.push(`sinks.${name}.path: writes to ${dir} like sinks.${other}: give each file sink its own path`);
    else fileDirs.set(dir, name);
  }
  return lines;
}

/** A directory path with symlinks resolved as far as it exists (two names of one directory compare equal). */
function realDir(path: string): string {
  let head = path;
  let tail = '';
  for (;;) {
    try {
      return join(realpathSync(head), tail);
    } catch {
      const up = dirname(head);
      if (up === head) return path;
      tail = join(basename(head), tail);
      head = up;
    }
  }
}

export { csv };
