import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';
import { LOC, V1, auditEntry, normOne as vxOne } from '../connectors/vertex/samples.js';

/**
 * allowed_repositories (training.unverified_dependency, serving.unverified_image): `registry/repository` globs an image
 * must match besides its registry. allowed_registries reads the host alone, so a pinned image from any project's
 * Artifact Registry repository (or any account's ECR, by default) passed.
 */
const alertsOf = (rule: string, evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === rule);
const DIGEST = `@sha256:${'c'.repeat(64)}`;
const OURS = `123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train${DIGEST}`;
const THEIRS = `999988887777.dkr.ecr.us-east-1.amazonaws.com/churn-train${DIGEST}`;

const training = (image: string, name = 'churn-7') =>
  NormalizedEvent.parse(smOne(ctRecord('CreateTrainingJob', {
    trainingJobName: name, algorithmSpecification: { trainingImage: image, trainingInputMode: 'File' }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', enableNetworkIsolation: true,
  })));
const upload = (imageUri: string) => vxOne(auditEntry({
  method: `${V1}ModelService.UploadModel`, resourceName: LOC,
  request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/', containerSpec: { imageUri } } },
}));

describe('allowed_repositories', () => {
  it('unset, a pinned image from any account\'s ECR passes (no change)', () => {
    expect(alertsOf('training.unverified_dependency', [training(THEIRS)])).toEqual([]);
  });

  it('set, a pinned training image outside it alerts with the reason; one inside passes', () => {
    const rules = { 'training.unverified_dependency': { allowed_repositories: ['123456789012.dkr.ecr.*.amazonaws.com/*'] } };
    expect(alertsOf('training.unverified_dependency', [training(OURS)], rules)).toEqual([]);
    const [alert, ...more] = alertsOf('training.unverified_dependency', [training(THEIRS)], rules);
    expect(more).toEqual([]);
    expect(alert!.details).toMatchObject({ image: THEIRS, reasons: ['repository 999988887777.dkr.ecr.us-east-1.amazonaws.com/churn-train is not on allowed_repositories'] });
    // The defaults' trusted images (a DLC by tag) still pass: trusted_images is what passes whatever the lists say.
    expect(alertsOf('training.unverified_dependency', [training('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311')], rules)).toEqual([]);
  });

  it('on serving: another project\'s Artifact Registry repository alerts, the project\'s own passes', () => {
    const rules = { 'serving.unverified_image': { allowed_repositories: ['us-docker.pkg.dev/my-project/*'] } };
    expect(alertsOf('serving.unverified_image', [upload(`us-docker.pkg.dev/my-project/serving/fraud${DIGEST}`)], rules)).toEqual([]);
    const other = `us-docker.pkg.dev/attacker-project/serving/fraud${DIGEST}`;
    expect(alertsOf('serving.unverified_image', [upload(other)])).toEqual([]);
    expect(alertsOf('serving.unverified_image', [upload(other)], rules).map((a) => a.details?.images)).toEqual([[other]]);
  });

  it('takes registry/repository globs only', () => {
    expect(() => RulesConfig.parse({ 'serving.unverified_image': { allowed_repositories: ['my-project'] } })).toThrow();
    expect(() => RulesConfig.parse({ 'training.unverified_dependency': { allowed_repositories: ['us-docker.pkg.dev/my-project/*'] } })).not.toThrow();
  });
});
