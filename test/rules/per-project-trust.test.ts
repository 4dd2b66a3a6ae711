import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';
import { V1, auditEntry, normOne as vxOne } from '../connectors/vertex/samples.js';

/**
 * `per_project` (training.unverified_dependency, serving.unverified_image): image and package source lists for one GCP
 * project or AWS account, replacing the rule's own for its events. The defaults trust every project's Artifact
 * Registry (`*-docker.pkg.dev`, `*-python.pkg.dev`) and every account's ECR and CodeArtifact domain.
 */
const alertsOf = (rule: string, evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === rule);
const DIGEST = `@sha256:${'c'.repeat(64)}`;

/** A Vertex AI CustomJob submitted in `project`, its worker installing from `index` (PIP_INDEX_URL). */
const vertexJob = (project: string, imageUri: string, index: string, name = 'train-churn') => {
  const loc = `projects/${project}/locations/us-central1`;
  const e = auditEntry({
    method: `${V1}JobService.CreateCustomJob`, resourceName: loc,
    request: { parent: loc, customJob: { displayName: name, jobSpec: { workerPoolSpecs: [{ machineSpec: { machineType: 'n1-standard-4' }, replicaCount: 1, containerSpec: { imageUri, env: [{ name: 'PIP_INDEX_URL', value: index }] } }] } } },
  });
  (e.resource as { labels: Record<string, string> }).labels.project_id = project;
  e.logName = `projects/${project}/logs/cloudaudit.googleapis.com%2Factivity`;
  return vxOne(e);
};
/** A SageMaker training job of `account`. */
const sagemakerJob = (account: string, image: string) =>
  NormalizedEvent.parse(smOne(ctRecord('CreateTrainingJob', {
    trainingJobName: 'churn-7', algorithmSpecification: { trainingImage: image, trainingInputMode: 'File' }, roleArn: `arn:aws:iam::${account}:role/SageMakerExec`,
  }, { recipientAccountId: account, userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${account}:assumed-role/MLEngineer/alice`, accountId: account } })));

const PROD = 'ml-prod';
const DEV = 'ml-dev';
const RULES = {
  'training.unverified_dependency': {
    per_project: {
      [PROD]: { allowed_repositories: ['us-docker.pkg.dev/ml-prod/*'], allowed_package_sources: ['us-python.pkg.dev/ml-prod/*', 'pypi.org', 'files.pythonhosted.org'] },
      '111122223333': { allowed_repositories: ['111122223333.dkr.ecr.*.amazonaws.com/*'] },
    },
  },
};

describe('per_project image and package source lists', () => {
  it('a project\'s own Artifact Registry repository and Python repository pass; another project\'s, allowed by default, alert there', () => {
    const own = vertexJob(PROD, `us-docker.pkg.dev/ml-prod/trainers/churn${DIGEST}`, 'https://us-python.pkg.dev/ml-prod/py/simple/');
    expect(own.cloud?.project).toBe(PROD);
    expect(alertsOf('training.unverified_dependency', [own], RULES)).toEqual([]);
    const foreign = vertexJob(PROD, `us-docker.pkg.dev/attacker-proj/trainers/churn${DIGEST}`, 'https://us-python.pkg.dev/attacker-proj/py/simple/');
    // By default both pass: any project's Artifact Registry is trusted.
    expect(alertsOf('training.unverified_dependency', [foreign])).toEqual([]);
    const [alert, ...more] = alertsOf('training.unverified_dependency', [foreign], RULES);
    expect(more).toEqual([]);
    expect(alert!.details?.reasons).toEqual([
      'repository us-docker.pkg.dev/attacker-proj/trainers/churn is not on allowed_repositories',
      'packages from https://us-python.pkg.dev/attacker-proj/py/simple/, not an allowed package source',
    ]);
  });

  it('a project without an entry keeps the rule\'s own lists', () => {
    const dev = vertexJob(DEV, `us-docker.pkg.dev/attacker-proj/trainers/churn${DIGEST}`, 'https://us-python.pkg.dev/attacker-proj/py/simple/');
    expect(alertsOf('training.unverified_dependency', [dev], RULES)).toEqual([]);
    // The rule's own list still applies where a project's entry leaves a key out.
    const rules = { 'training.unverified_dependency': { allowed_package_sources: ['pypi.org'], per_project: { [PROD]: { allowed_repositories: ['us-docker.pkg.dev/ml-prod/*'] } } } };
    const prodIndex = vertexJob(PROD, `us-docker.pkg.dev/ml-prod/trainers/churn${DIGEST}`, 'https://us-python.pkg.dev/ml-prod/py/simple/');
    expect(alertsOf('training.unverified_dependency', [prodIndex], rules).map((a) => a.details?.reasons)).toEqual([['packages from https://us-python.pkg.dev/ml-prod/py/simple/, not an allowed package source']]);
  });

  it('an AWS account\'s entry: its own ECR passes, another account\'s ECR alerts there only', () => {
    const theirs = `999988887777.dkr.ecr.us-east-1.amazonaws.com/churn-train${DIGEST}`;
    expect(alertsOf('training.unverified_dependency', [sagemakerJob('111122223333', `111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-train${DIGEST}`)], RULES)).toEqual([]);
    expect(alertsOf('training.unverified_dependency', [sagemakerJob('111122223333', theirs)], RULES).map((a) => a.details?.image)).toEqual([theirs]);
    expect(alertsOf('training.unverified_dependency', [sagemakerJob('444455556666', theirs)], RULES)).toEqual([]);
  });

  it('on serving too: a model uploaded in the project with another project\'s image alerts', () => {
    const upload = (project: string, imageUri: string) => {
      const loc = `projects/${project}/locations/us-central1`;
      const e = auditEntry({ method: `${V1}ModelService.UploadModel`, resourceName: loc, request: { parent: loc, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/', containerSpec: { imageUri } } } });
      (e.resource as { labels: Record<string, string> }).labels.project_id = project;
      return vxOne(e);
    };
    const rules = { 'serving.unverified_image': { per_project: { [PROD]: { allowed_repositories: ['us-docker.pkg.dev/ml-prod/*'] } } } };
    expect(alertsOf('serving.unverified_image', [upload(PROD, `us-docker.pkg.dev/ml-prod/serving/fraud${DIGEST}`)], rules)).toEqual([]);
    expect(alertsOf('serving.unverified_image', [upload(PROD, `us-docker.pkg.dev/attacker-proj/serving/fraud${DIGEST}`)], rules)).toHaveLength(1);
    expect(alertsOf('serving.unverified_image', [upload(DEV, `us-docker.pkg.dev/attacker-proj/serving/fraud${DIGEST}`)], rules)).toEqual([]);
  });

  it('takes only the image and package source lists, each as the rule\'s own key takes it', () => {
    expect(() => RulesConfig.parse({ 'training.unverified_dependency': { per_project: { p: { require_digest: false } } } })).toThrow();
    expect(() => RulesConfig.parse({ 'training.unverified_dependency': { per_project: { p: { allowed_repositories: ['my-project'] } } } })).toThrow();
    expect(() => RulesConfig.parse({ 'serving.unverified_image': { per_project: { p: { trusted_images: ['docker.io/me/*'], allowed_registries: ['docker.io'] } } } })).not.toThrow();
  });

  it('an entry that leaves a list out keeps the rule\'s own for it (not the default)', () => {
    const rules = { 'training.unverified_dependency': { allowed_repositories: ['us-docker.pkg.dev/corp/*'], per_project: { [PROD]: { allowed_package_sources: ['pypi.org', 'files.pythonhosted.org'] } } } };
    const ev = vertexJob(PROD, `us-docker.pkg.dev/attacker-proj/trainers/churn${DIGEST}`, 'https://pypi.org/simple');
    const fired = alertsOf('training.unverified_dependency', [ev], rules);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.summary).toContain('not on allowed_repositories');
    expect(alertsOf('training.unverified_dependency', [vertexJob(PROD, `us-docker.pkg.dev/corp/trainers/churn${DIGEST}`, 'https://pypi.org/simple')], rules)).toEqual([]);
  });

  it('validation errors name the rule, the project and the field', () => {
    const issues = (r: unknown) => RulesConfig.safeParse(r).error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(issues({ 'training.unverified_dependency': { per_project: { [PROD]: { allowed_repositories: ['no-slash'] } } } })).toEqual([`training.unverified_dependency.per_project.${PROD}.allowed_repositories.0`]);
    expect(issues({ 'serving.unverified_image': { per_project: { [PROD]: { allowed_repository: ['a/b'] } } } })).toEqual([`serving.unverified_image.per_project.${PROD}`]);
  });

  it('an AWS account id YAML read as a number (unquoted, leading 0) is refused, naming the key, not silently never matched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-pp-'));
    try {
      const file = join(dir, 'mltrail.yaml');
      const yaml = (key: string) => `rules:\n  training.unverified_dependency:\n    per_project:\n      ${key}:\n        allowed_repositories: ["012345678901.dkr.ecr.*.amazonaws.com/*"]\n`;
      writeFileSync(file, yaml('012345678901'));
      expect(() => loadConfig({ file, env: {} })).toThrow(/per_project\.12345678901: an AWS account id has 12 digits/);
      writeFileSync(file, yaml('"012345678901"'));
      const cfg = loadConfig({ file, env: {} }) as unknown as { rules: Record<string, { per_project: Record<string, unknown> }> };
      expect(Object.keys(cfg.rules['training.unverified_dependency']!.per_project)).toEqual(['012345678901']);
      // A 12-digit account and a GCP project id (which starts with a letter) are keys as written.
      expect(RulesConfig.safeParse({ 'training.unverified_dependency': { per_project: { '111122223333': {}, 'ml-prod-2': {} } } }).success).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
