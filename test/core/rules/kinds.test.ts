import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { T0, actors, at, ev } from '../../rules/events.js';

const rules = RulesConfig.parse({});

describe('rule kinds on facts some platforms carry', () => {
  it('unverified_dependency checks every image of a job that runs several (a tuning job with several definitions)', () => {
    const pinned = (repo: string) => `111122223333.dkr.ecr.us-east-1.amazonaws.com/${repo}@sha256:${'a'.repeat(64)}`;
    const tuning = (id: string, images: string[]) =>
      ev({
        id,
        time: at(T0),
        platform: 'sagemaker',
        stage: 'training',
        action: 'tuning_job.create',
        actor: actors.ci,
        resource: { type: 'hyper_parameter_tuning_job', name: id },
        ml: { job: { name: id, type: 'tuning', image: images[0], image_pinned: true, images, network_isolation: true, vpc: true } },
      });
    const clean = tuning('hp-clean', [pinned('a'), pinned('b')]);
    const foreign = tuning('hp-foreign', [pinned('a'), `docker.io/library/python@sha256:${'b'.repeat(64)}`]);
    const { alerts } = replayEvents([clean, foreign], { rules });
    const dep = alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(dep.map((a) => a.entity.id)).toEqual(['hp-foreign']);
    expect(dep[0]!.summary).toMatch(/registry docker\.io is not on the allow list/);
  });
});
