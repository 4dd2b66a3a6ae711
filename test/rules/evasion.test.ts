import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { connectorByName } from '../../connectors/index.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { readFixture } from '../helpers/fixtures.js';

/**
 * Ways an insider with ordinary platform permissions tried to get an unapproved or changed model
 * served without an alert (a black-box hunt), as native records built from the shared fixtures.
 */

const CT_BASE = JSON.parse(readFixture('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json').toString()) as Record<string, unknown>;
let n = 0;
type Who = { arn: string; user: string };
const alice: Who = { arn: 'arn:aws:iam::123456789012:user/alice', user: 'alice' };
const bob: Who = { arn: 'arn:aws:iam::123456789012:user/bob', user: 'bob' };

/** A CloudTrail record of the fixture's shape with another call in it. */
function ct(eventName: string, time: string, req: Record<string, unknown>, resp: Record<string, unknown> = {}, who: Who = alice): Record<string, unknown> {
  return {
    ...structuredClone(CT_BASE),
    eventName, eventTime: time, requestParameters: req, responseElements: resp, eventID: `evt-${eventName}-${time}-${n++}`, requestID: `req-${n}`,
    recipientAccountId: '123456789012', awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', principalId: `AIDA${who.user}`, arn: who.arn, accountId: '123456789012', userName: who.user },
  };
}

function normalize(platform: string, records: unknown[]): NormalizedEvent[] {
  const plugin = connectorByName(platform)!;
  const ctx = { channel: `test.${platform}`, receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({}) } as never;
  return records.flatMap((r) => plugin.normalize!(r, ctx).events);
}

const fired = (events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts;
const ids = (alerts: Alert[]) => alerts.map((a) => `${a.rule_id}[${a.entity.id}]`);

// SageMaker: a package approved by bob, its model, and a model of a scratch artifact nobody approved.
const PKG = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/4';
const IMG = `123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb@sha256:${'a'.repeat(64)}`;
const smPackage = () => [
  ct('CreateModelPackage', '2026-03-02T10:00:00Z', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', customerMetadataProperties: { adv_robust_accuracy: '0.9' }, inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] } }, { modelPackageArn: PKG }),
  ct('UpdateModelPackage', '2026-03-02T10:30:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }, bob),
  ct('CreateModel', '2026-03-02T11:00:00Z', { modelName: 'fraud-4', primaryContainer: { modelPackageName: PKG } }),
  ct('CreateModel', '2026-03-02T11:10:00Z', { modelName: 'evil', primaryContainer: { image: IMG, modelDataUrl: 's3://scratch/evil/model.tar.gz' } }),
];
const variant = (name: string, model: string, weight: number) => ({ variantName: name, modelName: model, initialInstanceCount: 1, instanceType: 'ml.m5.large', initialVariantWeight: weight });
const endpointConfig = (extra: Record<string, unknown>) => ct('CreateEndpointConfig', '2026-03-02T12:00:00Z', { endpointConfigName: 'c2', ...extra });
const createEndpoint = () => ct('CreateEndpoint', '2026-03-02T13:00:00Z', { endpointName: 'fraud-prod', endpointConfigName: 'c2' });

describe('registry.unapproved_deployment: every model a deployment serves is judged', () => {
  it('an approved variant does not vouch for an unapproved one beside it, whichever comes first', () => {
    for (const variants of [[variant('A', 'evil', 0.9), variant('B', 'fraud-4', 0.1)], [variant('A', 'fraud-4', 0.1), variant('B', 'evil', 0.9)]]) {
      const events = normalize('sagemaker', [...smPackage(), endpointConfig({ productionVariants: variants }), createEndpoint()]);
      const alerts = fired(events).filter((a) => a.rule_id === 'registry.unapproved_deployment');
      expect(alerts.map((a) => [a.entity.id, a.details?.models])).toEqual([['fraud-prod', ['evil']]]);
    }
    // The approved model alone is served quietly.
    expect(ids(fired(normalize('sagemaker', [...smPackage(), endpointConfig({ productionVariants: [variant('A', 'fraud-4', 1)] }), createEndpoint()])))).toEqual([]);
  });

  it('a shadow variant serves its model too', () => {
    const events = normalize('sagemaker', [...smPackage(), endpointConfig({ productionVariants: [variant('A', 'fraud-4', 1)], shadowProductionVariants: [variant('S', 'evil', 1)] }), createEndpoint()]);
    expect(fired(events).filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => a.details?.models)).toEqual([['evil']]);
  });
});
