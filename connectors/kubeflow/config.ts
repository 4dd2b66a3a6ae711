import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { csv, decimalOrText } from '../../core/config/load.js';
import { CaFile, ClientCaFile } from '../../core/config/pem.js';
import { shownPath } from '../../core/config/path.js';
import { MLFLOW_WORKSPACE, MLFLOW_WORKSPACE_MESSAGE, SERVER_ID, SERVER_ID_MESSAGE } from '../../core/schema/origin.js';
import { artifactEndpointProblem } from './artifactendpoints.js';
import type { MlflowRegistryUrl } from './mlflowserver.js';

const MiB = 1024 * 1024;

/** Kubeflow namespaces watched by default: the install namespace and the usual profile prefix. */
export const DEFAULT_NAMESPACES = ['kubeflow', 'kubeflow-*'];

export const AuditConfig = z.strictObject({
  /** Mount `POST /v1/ingest/kubeflow/k8s-audit`. */
  enabled: z.boolean().default(true),
  /**
   * Body limit of the audit route. The apiserver does not truncate by default
   * and sends up to 400 events per batch, so this is far above the server default.
   */
  body_limit_bytes: z.number().int().positive().default(32 * MiB),
  /**
   * Subjects (CN or a SAN entry) of client certificates accepted instead of the
   * bearer token — only effective when TLS terminates in this process with
   * `requestCert` (the stock bridge listens on plain HTTP; see README).
   */
  client_cert_subjects: z.array(z.string().min(1)).default([]),
  /**
   * PEM file of the CA(s) issuing the default cluster's apiserver client certificates: `client_cert_subjects` then
   * count only in a certificate issued by one of them (see `clusters[].client_ca_file`). Unset: any CA the TLS layer trusts.
   */
  client_ca_file: ClientCaFile.optional(),
  /** Keep every audit item, ignoring the namespace filter (debugging, small clusters). */
  keep_all: z.boolean().default(false),
}).superRefine((c, ctx) => clientCaIssues(c, 'audit.client_cert_subjects', ctx));

/** `client_ca_file` without subjects to pin, for the default cluster (`audit`) and each configured cluster (the file itself is checked as its field: ClientCaFile). */
function clientCaIssues(c: { client_ca_file?: string; client_cert_subjects?: string[] }, subjectsKey: string, ctx: z.RefinementCtx): void {
  if (c.client_ca_file === undefined) return;
  // A CA pins subjects: without any, the operator meant something this key does not do.
  if (!c.client_cert_subjects?.length) ctx.addIssue({ code: 'custom', path: ['client_ca_file'], message: `set, but ${subjectsKey} is empty: the CA only pins the subjects listed there (list them, or remove client_ca_file)` });
}

/** DNS name (labels of letters, digits and inner hyphens) or IPv4 address. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Why `value` is not a gRPC `host:port` target, or undefined when it is one.
 * grpc-js would take `http://…` or a bare host and only fail at the first call.
 *
 * @example
 * hostPortProblem('metadata-grpc-service.kubeflow:8080') // undefined
 * hostPortProblem('http://mlmd:8080') // 'expected host:port without a scheme, …'
 */
export function hostPortProblem(value: string): string | undefined {
  const example = 'e.g. metadata-grpc-service.kubeflow:8080 or [fd00::1]:8080';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return `expected host:port without a scheme (gRPC, not a URL; TLS is mlmd.tls), ${example}; got ${JSON.stringify(value)}`;
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  if (!m) return `expected host:port, ${example}; got ${JSON.stringify(value)}`;
  const [, v6, host, port] = m;
  if (v6 !== undefined ? isIP(v6) !== 6 : !HOSTNAME.test(host!)) return `${JSON.stringify(v6 ?? host)} is not a host name or IP address (${example})`;
  if (Number(port) < 1 || Number(port) > 65535) return `port ${port} is outside 1-65535`;
  return undefined;
}

/** Why a secret file (a token) cannot be read now, or undefined. */
function readableFileProblem(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return `${shownPath(file)} is not a file`;
    readFileSync(file);
    return undefined;
  } catch (err) {
    return `cannot read ${shownPath(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

export const MlmdConfig = z.strictObject({
  /** host:port of ml_metadata.MetadataStoreService; the poller runs only when set. */
  address: z.string().min(1).optional(),
  /** Seconds between polls (defaults to the connector's poll_interval_s). */
  poll_interval_s: z.number().positive().optional(),
  /** Rows per GetExecutions page (the server caps at 100). */
  page_size: z.number().int().min(1).max(100).default(100),
  /** Use TLS (server TLS overlay of KFP); plaintext is KFP's default. */
  tls: z.boolean().default(false),
  /** PEM CA bundle file for TLS (checked as the field: CaFile). */
  ca_file: CaFile.optional(),
  /** Per-call deadline. */
  timeout_ms: z.number().int().positive().default(30_000),
  /** On first start, look back this far instead of reading the whole store. */
  initial_lookback_h: z.number().nonnegative().default(24),
  /**
   * With kfp.url set, a run the KFP poller has not listed yet is looked up in
   * KFP (service account, pipeline version) before its events are emitted; while
   * KFP cannot answer, the run's events wait up to this long, then go out unattributed.
   */
  kfp_join_wait_s: z.number().nonnegative().default(300),
}).superRefine((c, ctx) => {
  // Checked here, not at the first call: a bad target or CA file is a config fault (exit 2 naming the key),
  // not a poller that retries forever.
  const addr = c.address === undefined ? undefined : hostPortProblem(c.address);
  if (addr) ctx.addIssue({ code: 'custom', path: ['address'], message: addr });
  if (c.ca_file !== undefined) {
    // A CA without TLS would silently poll in plaintext: the operator asked for a verified channel.
    if (!c.tls) ctx.addIssue({ code: 'custom', path: ['ca_file'], message: 'set, but mlmd.tls is false: set tls: true to use it (or remove ca_file)' });
  }
});

export const KfpConfig = z.strictObject({
  /** Base URL of the KFP API server, e.g. http://ml-pipeline.kubeflow:8888; the poller runs only when set. */
  url: z.url({ protocol: /^https?$/, error: 'must be the http(s):// URL of the KFP API server, e.g. http://ml-pipeline.kubeflow:8888' }).optional(),
  /** Bearer token (a ServiceAccount token with audience pipelines.kubeflow.org). */
  token: z.string().min(1).optional(),
  /** File holding the bearer token, re-read every poll (a projected, rotating ServiceAccount token). */
  token_file: z.string().min(1).optional(),
  /** Identity header instead of a token (KFP USERID_HEADER, e.g. kubeflow-userid) and its value. */
  user_header: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  /** Namespaces to list in multi-user mode (KFP requires one); empty = single-user install. */
  namespaces: z.array(z.string().min(1)).default([]),
  /**
   * Single-user mode: the namespace KFP runs in (its POD_NAMESPACE). A run whose
   * experiment has no namespace executes there, so its service account is
   * `system:serviceaccount:<install_namespace>:<sa>`.
   */
  install_namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes namespace name (lower-case letters, digits and inner hyphens, at most 63)').default('kubeflow'),
  poll_interval_s: z.number().positive().optional(),
  page_size: z.number().int().min(1).max(200).default(100),
  /** Runs created this long ago are re-read so that their state changes are seen. */
  lookback_h: z.number().positive().default(72),
  timeout_ms: z.number().int().positive().default(30_000),
}).superRefine((c, ctx) => {
  // Re-read every poll (rotation), but it must exist at start: a missing mount is a config fault.
  const tok = c.token_file === undefined ? undefined : readableFileProblem(c.token_file);
  if (tok) ctx.addIssue({ code: 'custom', path: ['token_file'], message: tok });
});

/** An `artifact_endpoints` list: hosts, `host:port`s or URLs (artifactEndpointProblem). */
const ArtifactEndpoints = z.array(z.string().trim().superRefine((v, ctx) => {
  const problem = artifactEndpointProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}));

/**
 * One more Kubernetes cluster sending its audit webhook here (`connectors.kubeflow.clusters[]`): the bearer token
 * its webhook kubeconfig sends tells which cluster it is, and its events and rule state are kept apart from the
 * other clusters' (`cloud.account` = `id`): two clusters' `prod/fraud` are two endpoints.
 */
export const ClusterConfig = z.strictObject({
  /** Names the cluster in events (`cloud.account`), rule state and alert entities (`cluster-b:prod/fraud`). */
  id: z.string().regex(SERVER_ID, SERVER_ID_MESSAGE),
  /**
   * Bearer token of this cluster's audit webhook kubeconfig (`users[].user.token`). Surrounding whitespace is dropped,
   * as for MLTRAIL_INGEST_TOKEN: a token taken from a secret file keeps its newline, which the apiserver never sends.
   */
  token: z.string().trim().min(1, 'is blank: set this cluster\'s audit webhook token').optional(),
  /**
   * Subjects (CN or a SAN entry) of client certificates that identify this cluster's apiserver instead of a token,
   * as `audit.client_cert_subjects` does the default cluster's (TLS ending in this process only).
   */
  client_cert_subjects: z.array(z.string().min(1)).optional(),
  /**
   * PEM file of the CA(s) issuing this cluster's apiserver client certificates: its `client_cert_subjects` then count
   * only in a certificate issued (directly or through intermediates) by one of them, so another cluster's CA, trusted
   * by the same TLS server, cannot issue a certificate that passes as this cluster. Unset: any CA the TLS layer trusts.
   */
  client_ca_file: ClientCaFile.optional(),
  /**
   * The MLflow server (`connectors.mlflow.servers[].id`) this cluster's KServe deployments load `models:/…` from:
   * `models:/fraud@champion` is judged against that server's versions and aliases. Unset: as the README says of
   * `models:/` without a server.
   */
  mlflow_server: z.string().regex(SERVER_ID, SERVER_ID_MESSAGE).optional(),
  /**
   * The MLflow workspace of that server (of the default server when `mlflow_server` is unset) whose registry its
   * `models:/…` URIs name, where a predictor's own `MLFLOW_WORKSPACE` env does not say. `default`: the server's own.
   */
  mlflow_workspace: z.string().regex(MLFLOW_WORKSPACE, MLFLOW_WORKSPACE_MESSAGE).optional(),
  /**
   * A predictor whose `MLFLOW_WORKSPACE`, `MLFLOW_REGISTRY_URI` or `MLFLOW_TRACKING_URI` comes from a source the
   * audit log does not show (`valueFrom`, `envFrom`, a `$(VAR)` reference) is judged against this cluster's
   * `mlflow_server` / `mlflow_workspace`, as if the env said them (off: it is flagged as unverifiable). For a cluster
   * whose ConfigMaps only its admins write, and that sets these variables that way by design.
   */
  trust_mlflow_env_refs: z.boolean().optional(),
  /**
   * The hosts (`host`, `host:port` or a URL; compared by host and port) this cluster's predictors may fetch model
   * bytes from or through: the S3 endpoints and proxies their serving container's env names (`MLFLOW_S3_ENDPOINT_URL`,
   * `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`, `S3_ENDPOINT`, `HTTPS_PROXY`, …). Set: a `models:/…` deployment naming
   * another is a finding (the registry's approval cannot vouch for bytes from there). Unset: recorded, not judged.
   */
  artifact_endpoints: ArtifactEndpoints.optional(),
  /** This cluster's KFP REST poller (same keys and defaults as `connectors.kubeflow.kfp`; runs when `url` is set). */
  kfp: KfpConfig.optional(),
  /** This cluster's ML Metadata poller (same keys and defaults as `connectors.kubeflow.mlmd`; runs when `address` is set). */
  mlmd: MlmdConfig.optional(),
}).superRefine((c, ctx) => clientCaIssues(c, 'client_cert_subjects', ctx));
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export const KubeflowConfig = z.strictObject({
  /** Namespace globs (`*` and `?`) whose audit events are kept. */
  namespaces: z.array(z.string().min(1)).default(DEFAULT_NAMESPACES),
  /**
   * Namespaces a KServe controller runs in, whose ConfigMap `inferenceservice-config` is its configuration (the images
   * it adds to every model server are judged); one of that name elsewhere configures nothing. The namespace of a
   * controller seen acting (`kserve-controller-manager`) is added as learned. E.g. a Helm install's `kserve-system`.
   */
  kserve_namespaces: z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes namespace name (lower-case letters, digits and inner hyphens, at most 63)')).default(['kserve', 'kubeflow', 'opendatahub', 'redhat-ods-applications']),
  /** Default poll interval of the MLMD and KFP pollers. */
  poll_interval_s: z.number().positive().default(60),
  audit: AuditConfig.prefault({}),
  mlmd: MlmdConfig.prefault({}),
  kfp: KfpConfig.prefault({}),
  /** Further clusters' audit webhooks, each with its own id and token (see ClusterConfig); MLTRAIL_INGEST_TOKEN stays the default cluster. */
  clusters: z.array(ClusterConfig).default([]),
  /** The default cluster's `mlflow_server` (ClusterConfig.mlflow_server). */
  mlflow_server: z.string().regex(SERVER_ID, SERVER_ID_MESSAGE).optional(),
  /** The default cluster's `mlflow_workspace` (ClusterConfig.mlflow_workspace). */
  mlflow_workspace: z.string().regex(MLFLOW_WORKSPACE, MLFLOW_WORKSPACE_MESSAGE).optional(),
  /** The default cluster's `trust_mlflow_env_refs` (ClusterConfig.trust_mlflow_env_refs). */
  trust_mlflow_env_refs: z.boolean().optional(),
  /** The default cluster's `artifact_endpoints` (ClusterConfig.artifact_endpoints); a configured cluster does not take it. */
  artifact_endpoints: ArtifactEndpoints.optional(),
}).superRefine((c, ctx) => {
  const ids = new Set<string>();
  const tokens = new Set<string>();
  // The subject of a verified certificate names its cluster (the default one's: audit.client_cert_subjects).
  const subjectOwner = new Map<string, string>(c.audit.client_cert_subjects.map((s) => [s, 'the default cluster (audit.client_cert_subjects)']));
  // One KFP API or MLMD store is one cluster's: polled for two, its runs would go out twice under two cluster ids.
  const kfpOwner = new Map<string, string>(c.kfp.url ? [[kfpBase(c.kfp.url), 'the default cluster (kfp.url)']] : []);
  const mlmdOwner = new Map<string, string>(c.mlmd.address ? [[mlmdTarget(c.mlmd.address), 'the default cluster (mlmd.address)']] : []);
  const claim = (owners: Map<string, string>, value: string | undefined, who: string, path: PropertyKey[], what: string) => {
    if (value === undefined) return;
    const other = owners.get(value);
    if (other !== undefined && other !== who) ctx.addIssue({ code: 'custom', path, message: `${JSON.stringify(value)} is also ${other}'s: ${what}` });
    else owners.set(value, who);
  };
  c.clusters.forEach((cl, i) => {
    if (ids.has(cl.id)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'id'], message: `cluster id ${JSON.stringify(cl.id)} is used twice` });
    // The token that authenticates a batch names its cluster: two clusters with one token would name neither surely.
    if (cl.token !== undefined && tokens.has(cl.token)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'token'], message: 'this token is another cluster\'s too: each cluster needs its own, since the token tells which cluster sent a batch' });
    ids.add(cl.id);
    if (cl.token !== undefined) tokens.add(cl.token);
    const who = `cluster ${JSON.stringify(cl.id)}`;
    (cl.client_cert_subjects ?? []).forEach((s, j) => claim(subjectOwner, s, who, ['clusters', i, 'client_cert_subjects', j], 'each cluster needs subjects of its own, since the certificate tells which cluster sent a batch'));
    claim(kfpOwner, cl.kfp?.url === undefined ? undefined : kfpBase(cl.kfp.url), who, ['clusters', i, 'kfp', 'url'], 'one KFP API server belongs to one cluster');
    claim(mlmdOwner, cl.mlmd?.address === undefined ? undefined : mlmdTarget(cl.mlmd.address), who, ['clusters', i, 'mlmd', 'address'], 'one ML Metadata store belongs to one cluster');
    if (cl.token === undefined && !cl.client_cert_subjects?.length && !cl.kfp?.url && !cl.mlmd?.address) {
      ctx.addIssue({ code: 'custom', path: ['clusters', i], message: 'needs token or client_cert_subjects (its audit webhook), or kfp.url / mlmd.address (its pollers)' });
    }
  });
});

export type KubeflowConfig = z.infer<typeof KubeflowConfig> & {
  /**
   * Not a YAML key: the URLs of the MLflow servers `connectors.mlflow` configures (mlflowRegistryUrls), set where
   * the whole configuration is assembled (bridge/config.ts), so that a predictor's `MLFLOW_TRACKING_URI` names
   * its server (mlflowserver.ts). Unset: no server's URL is known.
   */
  mlflowRegistryUrls?: readonly MlflowRegistryUrl[];
};

/**
 * `cfg` given the MLflow servers' URLs (KubeflowConfig.mlflowRegistryUrls), not enumerable: a printed or copied
 * configuration (`mltrail check-config`) shows only YAML keys. A spread copy must carry it on (withMlflowRegistryUrls again).
 */
export function withMlflowRegistryUrls<T extends object>(cfg: T, urls: readonly MlflowRegistryUrl[] | undefined): T & Pick<KubeflowConfig, 'mlflowRegistryUrls'> {
  if (urls !== undefined) Object.defineProperty(cfg, 'mlflowRegistryUrls', { value: urls, enumerable: false, configurable: true, writable: true });
  return cfg;
}

/**
 * A KFP base URL as the pollers use it (WHATWG-normalized: host lower-cased, a default port dropped; no trailing
 * slash): two spellings of one server compare equal.
 */
export function kfpBase(url: string): string {
  // The config's checks still run on a URL zod refused (its own issue names it): compared as written then.
  return (URL.canParse(url) ? new URL(url).href : url).replace(/\/+$/, '');
}

/**
 * An MLMD `host:port` as compared for uniqueness: host names (and IPv6 hex digits) are case-insensitive, so
 * `MLMD.kubeflow:8080` and `mlmd.kubeflow:8080` are one store; the port is part of it (the port is digits only).
 *
 * @example
 * mlmdTarget('MLMD.Kubeflow:8080') // 'mlmd.kubeflow:8080'
 */
export function mlmdTarget(address: string): string {
  return address.toLowerCase();
}

/**
 * Map the connector's environment variables onto `connectors.kubeflow`.
 *
 * @example
 * kubeflowFromEnv({ MLTRAIL_MLMD_ADDRESS: 'metadata-grpc-service.kubeflow:8080' }) // { mlmd: { address: … } }
 */
export function kubeflowFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const ns = csv(env.MLTRAIL_KUBEFLOW_NAMESPACES);
  if (ns?.length) out.namespaces = ns;
  if (env.MLTRAIL_KUBEFLOW_POLL_S) out.poll_interval_s = decimalOrText(env.MLTRAIL_KUBEFLOW_POLL_S);
  if (env.MLTRAIL_MLMD_ADDRESS) out.mlmd = { address: env.MLTRAIL_MLMD_ADDRESS };
  const kfp: Record<string, unknown> = {};
  if (env.MLTRAIL_KFP_URL) kfp.url = env.MLTRAIL_KFP_URL;
  if (env.MLTRAIL_KFP_TOKEN) kfp.token = env.MLTRAIL_KFP_TOKEN;
  if (env.MLTRAIL_KFP_TOKEN_FILE) kfp.token_file = env.MLTRAIL_KFP_TOKEN_FILE;
  if (Object.keys(kfp).length) out.kfp = kfp;
  return Object.keys(out).length ? out : undefined;
}
