import { describe, expect, it } from 'vitest';
import type { DetectionInput, RuleContext } from '../../../core/rules/kinds/context.js';
import { FollowerFindings } from '../../../core/rules/kinds/followers.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import type { ModelRef } from '../../../core/rules/facts.js';

/** FollowerFindings over a context that only records what it is told to detect. */
function collector() {
  const said: DetectionInput[] = [];
  const ctx = { detect: (d: DetectionInput) => said.push(d) } as unknown as RuleContext;
  const move = { id: 'move-1', platform: 'mlflow' } as NormalizedEvent;
  return { said, found: new FollowerFindings(ctx, move) };
}
const ref: ModelRef = { platform: 'mlflow', name: 'fraud', alias: 'canary' };
const finding = (ep: string, evidence: string[]): DetectionInput => ({
  entity: { type: 'endpoint', id: ep, platform: 'kubeflow' }, key: 'fraud|3', evidence, title: 'Endpoint rolled back', summary: `${ep} rolled back`,
  details: { via: 'alias_moved', deployment_event: `dep-${ep}` },
});

describe('FollowerFindings', () => {
  it('one deployment said twice under one finding stays its own detections, not an alert on the alias naming no other deployment', () => {
    const { said, found } = collector();
    const a = finding('team-a/fraud', ['dep-team-a/fraud', 'move-1']);
    found.judging(ref).detect(a);
    found.judging(ref).detect({ ...a, evidence: ['dep-team-a/fraud', 'since-1', 'move-1'] });
    found.flush();
    expect(said.map((d) => [d.entity.type, d.entity.id, d.summary])).toEqual([
      ['endpoint', 'team-a/fraud', 'team-a/fraud rolled back'],
      ['endpoint', 'team-a/fraud', 'team-a/fraud rolled back'],
    ]);
  });

  it('two deployments are one detection on the alias, the move last in the evidence', () => {
    const { said, found } = collector();
    found.judging(ref).detect(finding('team-a/fraud', ['dep-team-a/fraud', 'move-1']));
    found.judging(ref).detect(finding('team-b/fraud', ['dep-team-b/fraud', 'move-1']));
    found.flush();
    expect(said).toHaveLength(1);
    expect(said[0]!.entity).toMatchObject({ type: 'model_alias', id: 'fraud@canary' });
    expect(said[0]!.evidence).toEqual(['dep-team-a/fraud', 'dep-team-b/fraud', 'move-1']);
    expect(said[0]!.summary).toBe('team-a/fraud rolled back — and so does 1 other live deployment of models:/fraud@canary (team-b/fraud)');
    expect(said[0]!.details).toMatchObject({ deployments: ['team-a/fraud', 'team-b/fraud'], deployments_count: 2 });
  });
});
