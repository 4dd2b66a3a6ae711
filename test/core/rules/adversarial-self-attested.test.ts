import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { T0, actors, at, ev, type Draft } from '../../rules/events.js';

/**
 * `adv_robustness: passed` is a tag anyone allowed to tag the version can set: the approver setting it themself is
 * no adversarial evaluation of their approval. A tag set by someone else (an evaluation pipeline tagging after
 * registration) still counts; where the record names no setter (MLflow's webhooks and registry), it counts as before.
 */
const rules = RulesConfig.parse({});
const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/7';
const sm = (id: string, min: number, d: Partial<Draft> & Pick<Draft, 'action'>) => ev({ id, time: at(T0 + min * 60_000), platform: 'sagemaker', stage: 'registry', resource: { type: 'model_package', id: PKG, name: 'fraud', version: '7' }, ...d });
const created = sm('c7', 0, { action: 'model_version.create', operation: 'CreateModelPackage', actor: actors.ci, ml: { model: { name: 'fraud', version: '7', artifact_uri: 's3://m/fraud/7/model.tar.gz' } } });
const tagBy = (actor: Draft['actor']) => sm('t7', 5, { action: 'model_version.tag_set', operation: 'AddTags', actor, ml: { model: { name: 'fraud', version: '7', tags: { adv_robustness: 'passed' } } } });
const approved = sm('a7', 10, { action: 'model_version.approve', operation: 'UpdateModelPackage', actor: actors.aliceAws, ml: { model: { name: 'fraud', version: '7', approval: 'approved' } } });
const adv = (events: ReturnType<typeof ev>[]) => replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure');

describe('evaluation.adversarial_failure: a verdict the approver tagged themself', () => {
  it('is no evidence for their approval: approved without adversarial evaluation, the tag named as not counted', () => {
    const alerts = adv([created, tagBy(actors.aliceAws), approved]);
    expect(alerts.map((a) => a.title)).toEqual([expect.stringMatching(/Approved without adversarial evaluation$/)]);
    expect(alerts[0]!.details.evidence_not_counted).toEqual([expect.objectContaining({ key: 'adv_robustness', value: 'passed', why: expect.stringMatching(/^set by the approver/) })]);
  });

  it('set in the approving call itself (metadata beside ModelApprovalStatus) counts no more', () => {
    const both = sm('a7', 10, { action: 'model_version.approve', operation: 'UpdateModelPackage', actor: actors.aliceAws, ml: { model: { name: 'fraud', version: '7', approval: 'approved' } }, details: { metadata: { adv_robustness: 'passed' } } });
    expect(adv([created, both]).map((a) => a.title)).toEqual([expect.stringMatching(/Approved without adversarial evaluation$/)]);
  });

  it('set by another identity (an evaluation pipeline, after registration), or by a setter the record does not name, it counts', () => {
    expect(adv([created, tagBy(actors.ci), approved])).toEqual([]);
    expect(adv([created, tagBy(undefined), approved])).toEqual([]);
  });

  it('a failing verdict counts as a failure whoever set it', () => {
    const failed = sm('t7', 5, { action: 'model_version.tag_set', operation: 'AddTags', actor: actors.aliceAws, ml: { model: { name: 'fraud', version: '7', tags: { adv_robustness: 'failed' } } } });
    expect(adv([created, failed, approved]).map((a) => a.title)).toContainEqual(expect.stringMatching(/Adversarial evaluation failed$/));
  });
});
