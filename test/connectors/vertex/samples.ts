import { expect } from 'vitest';
import { VertexConfig } from '../../../connectors/vertex/config.js';
import { vertexConnector } from '../../../connectors/vertex/index.js';
import type { NormalizeContext } from '../../../core/connector.js';
import { NormalizedEvent } from '../../../core/schema/index.js';

/**
 * Synthetic Vertex AI audit entries. No real aiplatform admin-activity sample
 * exists in public test data (see the fixtures' SOURCES.md), so these are
 * built from the field facts of specs/vertex.md §1–2 (LogEntry/AuditLog
 * shape as in the shared fixtures, request bodies per the v1 protos).
 */
export const PROJECT = 'ml-prod-123';
export const LOC = `projects/${PROJECT}/locations/us-central1`;
export const DIGEST = 'sha256:' + 'ab'.repeat(32);

let n = 0;

export function auditEntry(opts: {
  method: string;
  resourceName?: string;
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
  status?: Record<string, unknown> | null;
  log?: 'activity' | 'data_access' | 'system_event' | 'policy';
  principal?: string;
  authInfo?: Record<string, unknown>;
  callerIp?: string;
  authorizationInfo?: Array<Record<string, unknown>>;
  insertId?: string;
  timestamp?: string;
}): Record<string, unknown> {
  n++;
  const log = opts.log ?? 'activity';
  const pp: Record<string, unknown> = {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    authenticationInfo: opts.authInfo ?? { principalEmail: opts.principal ?? 'alice@example.com', principalSubject: `user:${opts.principal ?? 'alice@example.com'}` },
    requestMetadata: {
      callerIp: opts.callerIp ?? '203.0.113.7',
      callerSuppliedUserAgent: 'google-cloud-sdk gcloud/470.0.0 command/gcloud.ai.custom-jobs.create,gzip(gfe)',
      requestAttributes: { time: '2026-11-20T10:00:00.123456Z', auth: {} },
      destinationAttributes: {},
    },
    serviceName: 'aiplatform.googleapis.com',
    methodName: opts.method,
    authorizationInfo: opts.authorizationInfo ?? [
      { resource: opts.resourceName ?? LOC, permission: 'aiplatform.x', granted: true, resourceAttributes: {}, permissionType: log === 'data_access' ? 'DATA_READ' : 'ADMIN_WRITE' },
    ],
    resourceName: opts.resourceName ?? LOC,
    request: opts.request,
    response: opts.response,
  };
  if (opts.status !== null) pp.status = opts.status ?? {};
  return {
    protoPayload: pp,
    insertId: opts.insertId ?? `vx${n}abc`,
    resource: { type: 'audited_resource', labels: { service: 'aiplatform.googleapis.com', method: opts.method, project_id: PROJECT } },
    timestamp: opts.timestamp ?? `2026-11-20T10:00:${String(n % 60).padStart(2, '0')}.123456789Z`,
    severity: log === 'data_access' ? 'INFO' : 'NOTICE',
    logName: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2F${log}`,
    receiveTimestamp: '2026-11-20T10:01:00.5Z',
  };
}

export const V1 = 'google.cloud.aiplatform.v1.';
export const V1B = 'google.cloud.aiplatform.v1beta1.';

/**
 * The JSON text of a Predict audit entry whose request nests `levels` arrays
 * (built as text: JSON.stringify of such a value overflows the stack).
 */
export function deepEntryJson(levels: number, insertId = 'deep-1'): string {
  const entry = auditEntry({ method: `${V1}PredictionService.Predict`, resourceName: `${LOC}/endpoints/77`, log: 'data_access', request: { deep: '__DEEP__' }, insertId });
  return JSON.stringify(entry).replace('"__DEEP__"', `${'['.repeat(levels)}${']'.repeat(levels)}`);
}

/** Normalize context of the unit tests: default config, raw kept. */
export const ctx: NormalizeContext<VertexConfig> = {
  channel: 'test',
  receivedTime: '2026-11-25T00:00:00.000Z',
  keepRaw: true,
  config: VertexConfig.parse({}),
};

/** The one valid event a record must become (nothing rejected). */
export function normOne(record: unknown): NormalizedEvent {
  return normOneWith(record, ctx);
}

/** As normOne, under `connectors.vertex` settings (`{ model_buckets: [...] }`). */
export function normOneConfigured(record: unknown, config: Record<string, unknown>): NormalizedEvent {
  return normOneWith(record, { ...ctx, config: VertexConfig.parse(config) });
}

function normOneWith(record: unknown, context: NormalizeContext<VertexConfig>): NormalizedEvent {
  const out = vertexConnector.normalize!(record, context);
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  const parsed = NormalizedEvent.safeParse(out.events[0]);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  return parsed.data!;
}
