import { connectorByName } from '../../../connectors/index.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

/**
 * SageMaker CloudTrail records for rule tests, built on the real CreateEndpoint record of the fixtures with another
 * call in it, made by an IAM user of one account in us-east-1 (where SageMaker alert entities are named:
 * `${CT_ACCOUNT}:us-east-1:<name>`), and normalized by the sagemaker connector.
 */

/** The account every record is in. */
export const CT_ACCOUNT = '123456789012';
const CT_BASE = readFixtureJson<Record<string, unknown>>('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json');
let n = 0;

/**
 * A CloudTrail record of the fixture's shape: call `eventName` at `time` (ISO text, or epoch ms, written as CloudTrail
 * writes it: whole seconds) with `req` as its requestParameters and `resp` as its responseElements, by IAM user
 * `user` (default alice). Each record has an eventID of its own.
 *
 * @example
 * cloudTrailRecord('CreateEndpoint', '2026-03-02T02:01:00Z', { endpointName: 'fraud-prod', endpointConfigName: 'night' })
 */
export function cloudTrailRecord(eventName: string, time: string | number, req: Record<string, unknown>, opts: { resp?: Record<string, unknown>; user?: string } = {}): Record<string, unknown> {
  const user = opts.user ?? 'alice';
  const eventTime = typeof time === 'number' ? new Date(time).toISOString().replace('.000', '') : time;
  return {
    ...structuredClone(CT_BASE),
    eventName, eventTime, requestParameters: req, responseElements: opts.resp ?? {}, eventID: `ct-${eventName}-${n++}`, requestID: `req-${n}`,
    recipientAccountId: CT_ACCOUNT, awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', principalId: `AIDA${user}`, arn: `arn:aws:iam::${CT_ACCOUNT}:user/${user}`, accountId: CT_ACCOUNT, userName: user },
  };
}

/** The events the sagemaker connector (default config) makes of `records`. */
export function normalizeSageMaker(records: unknown[]): NormalizedEvent[] {
  const plugin = connectorByName('sagemaker')!;
  const ctx = { channel: 'test.sagemaker', receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({}) } as never;
  return records.flatMap((r) => plugin.normalize!(r, ctx).events);
}
