import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import type { NormalizeContext, NormalizeOutput } from '../../../core/connector.js';
import { SagemakerConfig } from '../../../connectors/sagemaker/config.js';
import { sagemakerConnector } from '../../../connectors/sagemaker/index.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

export const RECEIVED = '2026-11-25T12:00:00.000Z';

export function ctx(config: Record<string, unknown> = {}, channel = 'test', meta: Record<string, unknown> = {}): NormalizeContext<SagemakerConfig> {
  return { channel, receivedTime: RECEIVED, keepRaw: true, config: SagemakerConfig.parse(config), meta };
}

export function norm(record: unknown, config: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): NormalizeOutput {
  return sagemakerConnector.normalize!(record, ctx(config, 'test', meta));
}

/** The one valid event a record must become (nothing rejected). */
export function normOne(record: unknown, config: Record<string, unknown> = {}) {
  const out = norm(record, config);
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  const ev = out.events[0]!;
  expect(NormalizedEvent.safeParse(ev).success).toBe(true);
  return ev;
}

export function fx<T = Record<string, unknown>>(name: string): T {
  return readFixtureJson<T>('sagemaker', name);
}

/** A CloudTrail record for SageMaker, lower-camel as CloudTrail writes it. */
export function ctRecord(eventName: string, requestParameters: Record<string, unknown> | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.10',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:alice',
      arn: 'arn:aws:sts::111122223333:assumed-role/MLEngineer/alice',
      accountId: '111122223333',
      accessKeyId: 'ASIAEXAMPLE',
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: 'arn:aws:iam::111122223333:role/MLEngineer', accountId: '111122223333', userName: 'MLEngineer' },
        attributes: { creationDate: '2026-11-25T10:00:00Z', mfaAuthenticated: 'true' },
      },
    },
    eventTime: '2026-11-25T10:05:00Z',
    eventSource: 'sagemaker.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'Boto3/1.35.0',
    requestParameters,
    responseElements: null,
    requestID: `req-${eventName}`,
    eventID: `evt-${eventName}-0001`,
    readOnly: /^(Describe|List|Get)/.test(eventName),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    ...extra,
  };
}

/** Firehose record data as CloudWatch Logs sends it: gzip, then base64. */
export function cwlData(records: unknown[], messageType = 'DATA_MESSAGE'): string {
  const payload = {
    messageType,
    owner: '111122223333',
    logGroup: 'aws-cloudtrail-logs',
    logStream: '111122223333_CloudTrail_us-east-1',
    subscriptionFilters: ['to-firehose'],
    logEvents: records.map((r, i) => ({ id: String(1000 + i), timestamp: 1764064800000, message: typeof r === 'string' ? r : JSON.stringify(r) })),
  };
  return gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64');
}

/**
 * Asserts none of `secrets` appears anywhere in `ev` (raw, ml, details…) and returns its JSON for further checks.
 *
 * @example
 * const json = expectNoSecrets(normOne(record), ['hf_Secr3t']);
 */
export function expectNoSecrets(ev: unknown, secrets: readonly string[]): string {
  const json = JSON.stringify(ev);
  for (const s of secrets) expect(json).not.toContain(s);
  return json;
}
