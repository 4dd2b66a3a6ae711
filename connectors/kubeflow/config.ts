import { z } from 'zod';
import { csv } from '../../core/config/load.js';

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
  /** Keep every audit item, ignoring the namespace filter (debugging, small clusters). */
  keep_all: z.boolean().default(false),
});

export const MlmdConfig = z.strictObject({
  /** host:port of ml_metadata.MetadataStoreService; the poller runs only when set. */
  address: z.string().min(1).optional(),
  /** Seconds between polls (defaults to the connector's poll_interval_s). */
  poll_interval_s: z.number().positive().optional(),
  /** Rows per GetExecutions page (the server caps at 100). */
  page_size: z.number().int().min(1).max(100).default(100),
  /** Use TLS (server TLS overlay of KFP); plaintext is KFP's default. */
  tls: z.boolean().default(false),
  /** PEM CA bundle file for TLS. */
  ca_file: z.string().optional(),
  /** Per-call deadline. */
  timeout_ms: z.number().int().positive().default(30_000),
  /** On first start, look back this far instead of reading the whole store. */
  initial_lookback_h: z.number().nonnegative().default(24),
});

export const KfpConfig = z.strictObject({
  /** Base URL of the KFP API server, e.g. http://ml-pipeline.kubeflow:8888; the poller runs only when set. */
  url: z.string().url().optional(),
  /** Bearer token (a ServiceAccount token with audience pipelines.kubeflow.org). */
  token: z.string().min(1).optional(),
  /** File holding the bearer token, re-read every poll (a projected, rotating ServiceAccount token). */
  token_file: z.string().min(1).optional(),
  /** Identity header instead of a token (KFP USERID_HEADER, e.g. kubeflow-userid) and its value. */
  user_header: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  /** Namespaces to list in multi-user mode (KFP requires one); empty = single-user install. */
  namespaces: z.array(z.string().min(1)).default([]),
  poll_interval_s: z.number().positive().optional(),
  page_size: z.number().int().min(1).max(200).default(100),
  /** Runs created this long ago are re-read so that their state changes are seen. */
  lookback_h: z.number().positive().default(72),
  timeout_ms: z.number().int().positive().default(30_000),
});

export const KubeflowConfig = z.strictObject({
  /** Namespace globs (`*` and `?`) whose audit events are kept. */
  namespaces: z.array(z.string().min(1)).default(DEFAULT_NAMESPACES),
  /** Default poll interval of the MLMD and KFP pollers. */
  poll_interval_s: z.number().positive().default(60),
  audit: AuditConfig.prefault({}),
  mlmd: MlmdConfig.prefault({}),
  kfp: KfpConfig.prefault({}),
});

export type KubeflowConfig = z.infer<typeof KubeflowConfig>;

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
  if (env.MLTRAIL_KUBEFLOW_POLL_S) out.poll_interval_s = Number(env.MLTRAIL_KUBEFLOW_POLL_S);
  if (env.MLTRAIL_MLMD_ADDRESS) out.mlmd = { address: env.MLTRAIL_MLMD_ADDRESS };
  const kfp: Record<string, unknown> = {};
  if (env.MLTRAIL_KFP_URL) kfp.url = env.MLTRAIL_KFP_URL;
  if (env.MLTRAIL_KFP_TOKEN) kfp.token = env.MLTRAIL_KFP_TOKEN;
  if (env.MLTRAIL_KFP_TOKEN_FILE) kfp.token_file = env.MLTRAIL_KFP_TOKEN_FILE;
  if (Object.keys(kfp).length) out.kfp = kfp;
  return Object.keys(out).length ? out : undefined;
}
