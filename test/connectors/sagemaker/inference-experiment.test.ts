import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * SageMaker shadow tests (Create/Update/StopInferenceExperiment, request shapes of the SageMaker API reference):
 * the experiment deploys its shadow variant onto a live endpoint, and stopping it with `Promote` makes that
 * variant serve production. Both are deployments, judged as UpdateEndpoint is.
 */

const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const rt = { infrastructureType: 'RealTimeInference', realTimeInferenceConfig: { instanceType: 'ml.c5.xlarge', instanceCount: 1 } };
let n = 0;
/** One CloudTrail record, each a minute after the one built before it (build them in the order they happen). */
const at = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null = null) =>
  normOne(ctRecord(name, params, { eventID: `ie-${++n}`, eventTime: `2026-11-25T10:${String(n).padStart(2, '0')}:00Z`, responseElements: response }));

/** fraud v3 approved; `fraud-good` serves it on fraud-prod; `fraud-evil` is a model of an artifact nobody registered. */
function setup() {
  return [
    at('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgb:1', modelDataUrl: 's3://models/fraud/v3/model.tar.gz' }] } }, { modelPackageArn: PKG }),
    at('CreateModel', { modelName: 'fraud-good', primaryContainer: { modelPackageName: PKG } }),
    at('CreateModel', { modelName: 'fraud-evil', primaryContainer: { image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgb:1', modelDataUrl: 's3://scratch/evil/model.tar.gz' } }),
    at('CreateEndpointConfig', { endpointConfigName: 'good-ec', productionVariants: [{ variantName: 'prod', modelName: 'fraud-good', instanceType: 'ml.c5.xlarge', initialInstanceCount: 1 }] }),
    at('CreateEndpoint', { endpointName: 'fraud-prod', endpointConfigName: 'good-ec' }),
  ];
}

const create = (shadowModel: string) =>
  at('CreateInferenceExperiment', {
    name: 'shadow-1', type: 'ShadowMode', roleArn: 'arn:aws:iam::111122223333:role/x', endpointName: 'fraud-prod',
    modelVariants: [{ modelName: 'fraud-good', variantName: 'prod', infrastructureConfig: rt }, { modelName: shadowModel, variantName: 'shadow', infrastructureConfig: rt }],
    shadowModeConfig: { sourceModelVariantName: 'prod', shadowModelVariants: [{ shadowModelVariantName: 'shadow', samplingPercentage: 100 }] },
  });

const unapproved = (events: ReturnType<typeof at>[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('SageMaker inference experiments (shadow tests)', () => {
  it('CreateInferenceExperiment is a deployment onto its endpoint: each variant named with its model, the shadow marked', () => {
    const ev = create('fraud-evil');
    expect([ev.stage, ev.action, ev.resource?.type, ev.resource?.name]).toEqual(['serving', 'endpoint.deploy', 'inference_experiment', 'shadow-1']);
    expect(ev.ml?.deployment).toMatchObject({
      endpoint: 'fraud-prod',
      variants: [
        { name: 'prod', model: 'fraud-good', instance_type: 'ml.c5.xlarge', instance_count: 1 },
        { name: 'shadow', shadow: true, model: 'fraud-evil', instance_type: 'ml.c5.xlarge', instance_count: 1 },
      ],
      shadow_variants: 1,
    });
  });

  it('a model never approved, put on a production endpoint as a shadow variant, is an unapproved deployment; an approved one is not', () => {
    const alerts = unapproved([...setup(), create('fraud-evil')]);
    expect(alerts.map((a) => [a.entity.id, a.details.models])).toEqual([['111122223333:us-east-1:fraud-prod', ['fraud-evil']]]);
    expect(unapproved([...setup(), create('fraud-good')])).toEqual([]);
  });

  it('UpdateInferenceExperiment, which names no endpoint, is judged on the endpoint its Create named', () => {
    const before = [...setup(), create('fraud-good')];
    const update = at('UpdateInferenceExperiment', { name: 'shadow-1', modelVariants: [{ modelName: 'fraud-good', variantName: 'prod', infrastructureConfig: rt }, { modelName: 'fraud-evil', variantName: 'shadow', infrastructureConfig: rt }], shadowModeConfig: { sourceModelVariantName: 'prod', shadowModelVariants: [{ shadowModelVariantName: 'shadow', samplingPercentage: 50 }] } });
    expect([update.stage, update.action, update.ml?.deployment?.endpoint]).toEqual(['serving', 'endpoint.deploy', undefined]);
    const alerts = unapproved([...before, update]);
    expect(alerts.map((a) => [a.entity.id, a.details.models])).toEqual([['111122223333:us-east-1:fraud-prod', ['fraud-evil']]]);
  });

  it('a promotion naming the models to deploy (desiredModelVariants) is judged on them even when the experiment was never seen', () => {
    const prod = setup();
    const promote = at('StopInferenceExperiment', { name: 'shadow-9', modelVariantActions: { shadow: 'Promote' }, desiredModelVariants: [{ modelName: 'fraud-evil', variantName: 'shadow', infrastructureConfig: rt }], desiredState: 'Completed' });
    const alerts = unapproved([...prod, promote]);
    expect(alerts.map((a) => [a.entity.id, a.details.models])).toEqual([['111122223333:us-east-1:inference-experiment/shadow-9', ['fraud-evil']]]);
  });

  it('a promotion without desiredModelVariants is judged on the model its Create put on that variant: a candidate rejected after the shadow test', () => {
    const CAND = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4';
    const prod = setup();
    const candidate = [
      at('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgb:1', modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] } }, { modelPackageArn: CAND }),
      at('CreateModel', { modelName: 'fraud-cand', primaryContainer: { modelPackageName: CAND } }),
    ];
    const shadow = create('fraud-cand');
    const reject = at('UpdateModelPackage', { modelPackageArn: CAND, modelApprovalStatus: 'Rejected' });
    const promote = at('StopInferenceExperiment', { name: 'shadow-1', modelVariantActions: { shadow: 'Promote', prod: 'Remove' }, desiredState: 'Completed' });
    expect([promote.stage, promote.action, promote.details?.promoted_variants, promote.ml?.deployment?.variants]).toEqual(['serving', 'endpoint.deploy', ['shadow'], undefined]);
    const alerts = unapproved([...prod, ...candidate, shadow, reject, promote]);
    expect(alerts.map((a) => [a.entity.id, a.details.models, a.details.reason, a.evidence.includes(promote.id)])).toEqual([['111122223333:us-east-1:fraud-prod', ['fraud-cand'], 'rejected', true]]);
    // Not promoted: the rejected candidate stays a shadow nobody put into production.
    const retain = at('StopInferenceExperiment', { name: 'shadow-1', modelVariantActions: { shadow: 'Remove', prod: 'Retain' }, desiredState: 'Completed' });
    expect(unapproved([...prod, ...candidate, shadow, reject, retain])).toEqual([]);
  });

  it('shadow-testing a registered candidate pending approval raises nothing; promoting it unapproved is the alert; an unregistered shadow says it is one', () => {
    const CAND = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4';
    const prod = setup();
    const candidate = [
      at('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgb:1', modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] } }, { modelPackageArn: CAND }),
      at('CreateModel', { modelName: 'fraud-cand', primaryContainer: { modelPackageName: CAND } }),
    ];
    const shadow = create('fraud-cand');
    const retain = at('StopInferenceExperiment', { name: 'shadow-1', modelVariantActions: { shadow: 'Remove', prod: 'Retain' }, desiredState: 'Completed' });
    expect(unapproved([...prod, ...candidate, shadow, retain])).toEqual([]);
    const promote = at('StopInferenceExperiment', { name: 'shadow-1', modelVariantActions: { shadow: 'Promote', prod: 'Remove' }, desiredState: 'Completed' });
    const promoted = unapproved([...prod, ...candidate, shadow, promote]);
    expect(promoted.map((a) => [a.entity.id, a.details.models, a.details.reason, a.details.shadow, a.evidence.at(-1)])).toEqual([['111122223333:us-east-1:fraud-prod', ['fraud-cand'], 'never_approved', undefined, promote.id]]);
    const [evil] = unapproved([...setup(), create('fraud-evil')]);
    expect(evil!.details.shadow).toBe(true);
    expect(evil!.summary).toContain('to fraud-prod (sagemaker) as a shadow variant (it gets a copy of the endpoint\'s live requests; its answers are not returned)');
  });

  it('stopping an experiment without promoting anything (Remove / Retain) deploys nothing', () => {
    const prod = setup();
    const stop = at('StopInferenceExperiment', { name: 'shadow-1', modelVariantActions: { shadow: 'Remove', prod: 'Retain' }, desiredState: 'Cancelled' });
    expect(stop.action).not.toMatch(/^endpoint\./);
    expect(unapproved([...prod, stop])).toEqual([]);
  });
});
