import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SinkCommonConfig } from '../../../core/sink.js';
import { shownPath } from '../../../core/config/path.js';

const INSTANCE = /^projects\/[^/]+\/locations\/([^/]+)\/instances\/[^/]+$/;

/**
 * `sinks.chronicle`: Google SecOps (Chronicle) ingestion, UDM events or
 * unstructured logs, through the Chronicle API (v1alpha, default) or the
 * legacy malachite Ingestion API.
 *
 * @example
 * sinks:
 *   chronicle:
 *     credentials: /etc/mltrail/chronicle-sa.json
 *     instance: projects/my-project/locations/us/instances/c8c65bfa-…
 */
export const ChronicleConfig = SinkCommonConfig.extend({
  /** `v1alpha` (Chronicle API, default) or `legacy` (malachiteingestion-pa v2); env MLTRAIL_CHRONICLE_API. */
  api: z.enum(['v1alpha', 'legacy']).default('v1alpha'),
  /** `udm`: UDM events (events:import / udmevents:batchCreate). `unstructured`: the normalized event JSON as a log of `log_type`. */
  mode: z.enum(['udm', 'unstructured']).default('udm'),
  /** Chronicle API instance `projects/P/locations/L/instances/I`; env MLTRAIL_CHRONICLE_INSTANCE. */
  instance: z.string().regex(INSTANCE, 'expected projects/<project>/locations/<location>/instances/<customer id>').optional(),
  /** Legacy API customer id (a UUID); env MLTRAIL_CHRONICLE_CUSTOMER_ID. */
  customer_id: z.uuid().optional(),
  /** Region (`us`, `europe`, `europe-west2`, …); env MLTRAIL_CHRONICLE_REGION. Default: the instance's location (v1alpha) or `us` (legacy). */
  region: z.string().regex(/^[a-z0-9-]+$/).optional(),
  /** Endpoint base override (private endpoints, tests); env MLTRAIL_CHRONICLE_URL. */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Service-account JSON key file (google-auth-library); env MLTRAIL_CHRONICLE_CREDENTIALS. */
  credentials: z.string().min(1).optional(),
  /** A short-lived OAuth access token instead (e.g. `gcloud auth print-access-token`); env MLTRAIL_CHRONICLE_ACCESS_TOKEN. */
  access_token: z.string().min(1).optional(),
  /** Log type for `unstructured` (a type registered in the instance, e.g. a custom one). */
  log_type: z.string().regex(/^[A-Z0-9_]+$/, 'Chronicle log types are upper-case, e.g. MLTRAIL_JSON').optional(),
  /** Environment namespace of unstructured logs. */
  namespace: z.string().min(1).optional(),
  /** Labels of unstructured logs. */
  labels: z.record(z.string(), z.string()).default({}),
  /** v1alpha logs:import forwarder id (or full resource name). */
  forwarder: z.string().min(1).optional(),
  /** Bytes per request; default 1,000,000 (legacy) / 4,000,000 (v1alpha) — the APIs' caps. */
  max_request_bytes: z.number().int().positive().optional(),
})
  .strict()
  .superRefine((c, ctx) => {
    // Checked with the rest of the config (check-config, start), named by its key path: it used to fail only
    // when the sink was built, blamed on MLTRAIL_CHRONICLE_CREDENTIALS even when the file set it.
    const keyProblem = c.credentials ? keyFileProblem(c.credentials) : undefined;
    if (keyProblem) ctx.addIssue({ code: 'custom', path: ['credentials'], message: keyProblem });
    if (!c.credentials && !c.access_token) {
      ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'set MLTRAIL_CHRONICLE_CREDENTIALS (service-account JSON file) or MLTRAIL_CHRONICLE_ACCESS_TOKEN' });
    }
    if (c.api === 'v1alpha' && !c.instance) {
      ctx.addIssue({ code: 'custom', path: ['instance'], message: 'the Chronicle API needs MLTRAIL_CHRONICLE_INSTANCE (projects/P/locations/L/instances/I)' });
    }
    if (c.api === 'legacy' && !c.customer_id) {
      ctx.addIssue({ code: 'custom', path: ['customer_id'], message: 'the legacy Ingestion API needs MLTRAIL_CHRONICLE_CUSTOMER_ID' });
    }
    if (c.mode === 'unstructured' && !c.log_type) {
      ctx.addIssue({ code: 'custom', path: ['log_type'], message: 'unstructured mode needs a log_type registered in your instance' });
    }
    // UDM events are sent as they are: a namespace or labels set for them were accepted and never sent.
    if (c.mode === 'udm') {
      for (const key of ['namespace', 'labels'] as const) {
        if (key === 'namespace' ? c.namespace !== undefined : Object.keys(c.labels).length > 0) {
          ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to mode: unstructured only (logs:import); UDM events (mode: udm) are sent without it — remove it or set mode: unstructured` });
        }
      }
    }
  });
export type ChronicleConfig = z.infer<typeof ChronicleConfig>;

/**
 * What is wrong with a Google credentials file for the sink: unreadable, not JSON, or neither a
 * service-account key (`type: service_account` with client_email and private_key) nor a workload
 * identity federation config (`type: external_account`).
 *
 * @example
 * keyFileProblem('/etc/mltrail/chronicle-sa.json') // undefined when usable
 */
export function keyFileProblem(file: string): string | undefined {
  let key: { type?: string; client_email?: string; private_key?: string };
  try {
    key = JSON.parse(readFileSync(file, 'utf8')) as typeof key;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // JSON.parse's message quotes the text around the error: inside a key file, part of the private key.
    if (err instanceof SyntaxError) return `the service-account key ${shownPath(file)} is not JSON`;
    return `cannot read the service-account key ${shownPath(file)}: ${e.code ?? e.message}`;
  }
  if (key?.type === 'external_account') return undefined;
  if (key?.type !== 'service_account' || !key.client_email || !key.private_key) {
    return `${file} is not a service-account key (type "service_account" with client_email and private_key, or an external_account config)`;
  }
  return undefined;
}

/** Legacy regional host prefixes (specs/sinks.md §3.1); a GCP region name is used as is. */
const LEGACY_PREFIX: Record<string, string> = {
  eu: 'europe', europe: 'europe', uk: 'europe-west2', london: 'europe-west2', asia: 'asia-southeast1', singapore: 'asia-southeast1',
  frankfurt: 'europe-west3', zurich: 'europe-west6', paris: 'europe-west9', turin: 'europe-west12', sydney: 'australia-southeast1',
  tokyo: 'asia-northeast1', mumbai: 'asia-south1', 'sao-paulo': 'southamerica-east1', canada: 'northamerica-northeast2',
  'tel-aviv': 'me-west1', dammam: 'me-central2', doha: 'me-central1',
};

/**
 * The endpoint base: `MLTRAIL_CHRONICLE_URL`, else
 * `https://<location>-chronicle.googleapis.com` (Chronicle API, always
 * region-prefixed) or `https://[<region>-]malachiteingestion-pa.googleapis.com`
 * (legacy; no prefix for `us`).
 *
 * @example
 * chronicleBase({ api: 'legacy', region: 'eu' }) // 'https://europe-malachiteingestion-pa.googleapis.com'
 */
export function chronicleBase(c: Pick<ChronicleConfig, 'api' | 'region' | 'url' | 'instance'>): string {
  if (c.url) return c.url.replace(/\/+$/, '');
  if (c.api === 'legacy') {
    const r = c.region ?? 'us';
    if (r === 'us') return 'https://malachiteingestion-pa.googleapis.com';
    return `https://${LEGACY_PREFIX[r] ?? r}-malachiteingestion-pa.googleapis.com`;
  }
  const location = c.region ?? INSTANCE.exec(c.instance ?? '')?.[1] ?? 'us';
  return `https://${location}-chronicle.googleapis.com`;
}

/** OAuth scope per API (legacy service accounts only hold malachite-ingestion). */
export function chronicleScopes(api: ChronicleConfig['api']): string[] {
  return api === 'legacy' ? ['https://www.googleapis.com/auth/malachite-ingestion'] : ['https://www.googleapis.com/auth/cloud-platform'];
}

/** Quick setup: MLTRAIL_CHRONICLE_CREDENTIALS or MLTRAIL_CHRONICLE_ACCESS_TOKEN enables the sink. */
export function chronicleFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  if (!env.MLTRAIL_CHRONICLE_CREDENTIALS && !env.MLTRAIL_CHRONICLE_ACCESS_TOKEN) return undefined;
  const map: Array<[string, string]> = [
    ['MLTRAIL_CHRONICLE_CREDENTIALS', 'credentials'],
    ['MLTRAIL_CHRONICLE_ACCESS_TOKEN', 'access_token'],
    ['MLTRAIL_CHRONICLE_API', 'api'],
    ['MLTRAIL_CHRONICLE_INSTANCE', 'instance'],
    ['MLTRAIL_CHRONICLE_CUSTOMER_ID', 'customer_id'],
    ['MLTRAIL_CHRONICLE_REGION', 'region'],
    ['MLTRAIL_CHRONICLE_URL', 'url'],
  ];
  const out: Record<string, unknown> = {};
  for (const [v, k] of map) if (env[v]) out[k] = env[v];
  return out;
}
