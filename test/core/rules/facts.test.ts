import { describe, expect, it } from 'vitest';
import { RulesConfig } from '../../../core/rules/engine.js';
import { approvalOf, globMatch, identityOf, jobFamily, jobFamilyOf, modelRefOf, normUri, resolveDotSegments, uriAncestors, uriMayOverlap, uriOverlap } from '../../../core/rules/facts.js';
import { registryOf } from '../../../core/rules/kinds/pipeline.js';
import { T0, at, ev } from '../../rules/events.js';

const cfg = RulesConfig.parse({ identities: { aliases: { 'alice@corp.example': ['alice', 'AIDAALICE'] } }, artifact_mirrors: [{ from: 's3://models/', to: 'gs://mirror/' }] });

describe('facts the rules share', () => {
  it('globMatch: * any run, ? one character, case-insensitive, whole value', () => {
    const cases: Array<[string, string, boolean]> = [
      ['*.dkr.ecr.*.amazonaws.com', '1.dkr.ecr.us-east-1.amazonaws.com', true],
      ['*.dkr.ecr.*.amazonaws.com', '1.DKR.ecr.us-east-1.AmazonAWS.com', true],
      ['*.dkr.ecr.*.amazonaws.com', 'evil.example/1.dkr.ecr.x.amazonaws.com.evil', false],
      ['model_version.*', 'model_version.tag_set', true],
      ['model_version.*', 'model_version', false],
      ['a?c', 'abc', true],
      ['a?c', 'ac', false],
      ['*', '', true],
      ['', 'a', false],
      ['**a', 'a', true],
      ['*x*', 'abc', false],
      ['É*', 'é-x', true],
      ['*-docker.pkg.dev', 'docker.pkg.dev', false],
    ];
    for (const [glob, value, want] of cases) expect(globMatch(glob, value), `${glob} ~ ${value}`).toBe(want);
    // A huge attacker-chosen value (a 300 KB image host) is answered, not backtracked through for seconds.
    expect(globMatch('*.dkr.ecr.*.amazonaws.com', `${'.dkr.ecr.'.repeat(33_000)}x`)).toBe(false);
    expect(globMatch('*.dkr.ecr.*.amazonaws.com', `${'.dkr.ecr.'.repeat(33_000)}.amazonaws.com`)).toBe(true);
  });

  it('an identity is the person across roles and platforms', () => {
    expect(identityOf({ id: 'arn:aws:sts::111122223333:assumed-role/Deployer/alice@corp.example', type: 'user' }, cfg)).toBe('alice@corp.example');
    expect(identityOf({ id: 'arn:aws:sts::111122223333:assumed-role/DataEng/Alice@Corp.Example', type: 'user' }, cfg)).toBe('alice@corp.example');
    expect(identityOf({ name: 'alice', type: 'user' }, cfg)).toBe('alice@corp.example');
    expect(identityOf({ id: 'user:x', email: 'bob@corp.example', type: 'user' }, cfg)).toBe('bob@corp.example');
    // As the SageMaker connector emits an assumed role (chain = [session ARN, role ARN]): the ARN is not an email,
    // its session name is (AWS SSO: AWSReservedSSO_*/alice@corp.example).
    const sso = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_MLTrainer_0123456789abcdef/alice@corp.example';
    expect(identityOf({ id: sso, chain: [sso, 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_MLTrainer_0123456789abcdef'], type: 'user' }, cfg)).toBe('alice@corp.example');
    expect(identityOf({ id: 'AROAEXAMPLE:alice@corp.example', chain: [sso], type: 'user' }, cfg)).toBe('alice@corp.example');
    // Impersonation: the first principal of the chain is the person.
    expect(identityOf({ email: 'deployer@p.iam.gserviceaccount.com', chain: ['carol@corp.example', 'deployer@p.iam.gserviceaccount.com'], type: 'user' }, cfg)).toBe('carol@corp.example');
    // SDK-default session names are not people: the role stays part of the identity.
    expect(identityOf({ id: 'arn:aws:sts::111122223333:assumed-role/CI/botocore-session-1700000000', type: 'service' }, cfg)).toBe('role:ci/botocore-session-1700000000');
    // The CI action's default session name on two roles is two identities, not one person who trains and approves.
    const gha = (role: string) => identityOf({ id: `arn:aws:sts::111122223333:assumed-role/${role}/GitHubActions`, type: 'service' }, cfg);
    expect([gha('Trainer'), gha('Approver')]).toEqual(['role:trainer/githubactions', 'role:approver/githubactions']);
    expect(identityOf({ id: 'arn:aws:sts::111122223333:assumed-role/CI/aws-sdk-js-1700000000000', type: 'service' }, cfg)).toBe('role:ci/aws-sdk-js-1700000000000');
    expect(identityOf(undefined, cfg)).toBeUndefined();
  });

  it('automation: AWS services\' fixed session names keep their role, a source identity names who is behind a session, a Kubernetes service account keeps its namespace', () => {
    // CloudFormation names every stack role's session AWSCloudFormation, Glue every job role's GlueJobRunnerSession.
    const cfn = (role: string) => identityOf({ id: `arn:aws:sts::111122223333:assumed-role/${role}/AWSCloudFormation`, type: 'service' }, cfg);
    expect([cfn('DataStackRole'), cfn('cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1')]).toEqual(['role:datastackrole/awscloudformation', 'role:cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1/awscloudformation']);
    expect(identityOf({ id: 'arn:aws:sts::111122223333:assumed-role/etl-glue/GlueJobRunnerSession', type: 'unknown' }, cfg)).toBe('role:etl-glue/gluejobrunnersession');
    // sessionContext.sourceIdentity, first in the chain the SageMaker connector makes: an email or any other name.
    const arn = 'arn:aws:sts::111122223333:assumed-role/mlops-cicd/run-7f3a9c';
    const role = 'arn:aws:iam::111122223333:role/mlops-cicd';
    expect(identityOf({ id: arn, session_issuer: role, chain: ['Alice@corp.example', arn, role], type: 'unknown' }, cfg)).toBe('alice@corp.example');
    expect(identityOf({ id: arn, session_issuer: role, chain: ['bob', arn, role], type: 'unknown' }, cfg)).toBe('bob');
    expect(identityOf({ id: arn, session_issuer: role, chain: ['AIDAALICE', arn, role], type: 'unknown' }, cfg)).toBe('alice@corp.example');
    expect(identityOf({ id: arn, session_issuer: role, chain: [arn, role], type: 'unknown' }, cfg)).toBe('run-7f3a9c');
    // A Kubernetes chain (user, impersonated user) is no source identity: the caller's name as before.
    expect(identityOf({ id: 'alice', name: 'alice', chain: ['alice', 'system:serviceaccount:team-a:deployer'], type: 'user' }, cfg)).toBe('alice@corp.example');
    // Service accounts of one name in two namespaces (Kubeflow's default-editor is in every profile) are two identities.
    const sa = (ns: string) => identityOf({ id: `system:serviceaccount:${ns}:default-editor`, name: 'default-editor', type: 'service' }, cfg);
    expect([sa('team-a'), sa('mallory')]).toEqual(['system:serviceaccount:team-a:default-editor', 'system:serviceaccount:mallory:default-editor']);
  });

  it('a service account is matched in identities.aliases and exempt globs by its namespaced name, not by its name alone (README)', () => {
    const runner = { id: 'system:serviceaccount:kubeflow-user-alice:pipeline-runner', name: 'pipeline-runner', type: 'service' as const };
    const byName = RulesConfig.parse({ identities: { aliases: { pipelines: ['pipeline-runner'] } } });
    expect(identityOf(runner, byName)).toBe('system:serviceaccount:kubeflow-user-alice:pipeline-runner');
    const namespaced = RulesConfig.parse({ identities: { aliases: { pipelines: ['system:serviceaccount:kubeflow-user-alice:pipeline-runner'] } } });
    expect(identityOf(runner, namespaced)).toBe('pipelines');
    const who = identityOf(runner, cfg)!;
    expect(globMatch('pipeline-runner', who)).toBe(false);
    expect(globMatch('system:serviceaccount:kubeflow-user-*:pipeline-runner', who)).toBe(true);
  });

  it('approvals are recognised on every platform, and only on actions that set them', () => {
    const base = { time: at(T0), stage: 'registry' as const };
    expect(approvalOf(ev({ ...base, platform: 'sagemaker', action: 'model_version.approve' }), cfg)).toBe('approved');
    expect(approvalOf(ev({ ...base, platform: 'sagemaker', action: 'model_version.status_change', ml: { model: { approval: 'rejected' } } }), cfg)).toBe('rejected');
    expect(approvalOf(ev({ ...base, platform: 'mlflow', action: 'model_version.alias_set', ml: { model: { aliases: ['champion'] } } }), cfg)).toBe('approved');
    // Aliases are names: a case variant of an approval alias is another alias (MLflow on PostgreSQL/SQLite resolves exactly).
    expect(approvalOf(ev({ ...base, platform: 'mlflow', action: 'model_version.alias_set', ml: { model: { aliases: ['Champion'] } } }), cfg)).toBeUndefined();
    expect(approvalOf(ev({ ...base, platform: 'vertex', action: 'model_version.update', ml: { model: { aliases: ['PRODUCTION'] } } }), cfg)).toBeUndefined();
    expect(approvalOf(ev({ ...base, platform: 'mlflow', action: 'model_version.alias_set', ml: { model: { aliases: ['candidate'] } } }), cfg)).toBeUndefined();
    expect(approvalOf(ev({ ...base, platform: 'mlflow', action: 'model_version.tag_set', details: { tag: { key: 'approval', value: 'Approved' } } }), cfg)).toBe('approved');
    expect(approvalOf(ev({ ...base, platform: 'mlflow', action: 'model_version.stage_transition', ml: { model: { stage: 'Production' } } }), cfg)).toBe('approved');
    expect(approvalOf(ev({ ...base, platform: 'mlflow', action: 'model_version.hash_mismatch', outcome: 'failure', ml: { model: { approval: 'approved' } } }), cfg)).toBeUndefined();
    expect(approvalOf(ev({ ...base, platform: 'sagemaker', action: 'model_version.approve', outcome: 'failure' }), cfg)).toBeUndefined();
  });

  it('artifact URIs compare by directory, across configured mirrors', () => {
    expect(normUri('gs://mirror/fraud/3/', cfg)).toBe('s3://models/fraud/3');
    expect(uriOverlap('s3://data/fraud/2026-02/test.parquet', 's3://data/fraud/2026-02')).toBe(true);
    expect(uriOverlap('s3://data/fraud/2026-02-holdout/x', 's3://data/fraud/2026-02')).toBe(false);
  });

  it('job families drop the run suffixes platforms append; image registries are read like docker does', () => {
    expect(jobFamily('features-2026-03-02-10-00-00')).toBe('features');
    expect(jobFamily('xgb-train-2026-03-02-10-00-00-123')).toBe('xgb-train');
    expect(jobFamily('fraud-train-17')).toBe('fraud-train');
    // A SageMaker Pipelines step's job: execution id and random suffix dropped, each run of the step is one family.
    expect(jobFamily('pipelines-4r83jejmhorv-TrainAbaloneModel-a1b2c3d4e5')).toBe('pipelines-TrainAbaloneModel');
    expect(jobFamily('pipelines-kytlemm1lvpq-PreprocessingStep-cIpzShs3Qp')).toBe('pipelines-PreprocessingStep');
    expect(jobFamily('pipelines-0fz2b9xk31qe-PreprocessingStep-Zq81LmN0aB')).toBe('pipelines-PreprocessingStep');
    // A job the event links to a run (connectors/sagemaker: the Pipelines tags, the launching tuning job) is that run's family, whatever its name.
    const linked = (job: Record<string, unknown>, account = '111122223333') => ({ platform: 'sagemaker' as const, cloud: { provider: 'aws' as const, account, region: 'us-east-1' }, ml: { job } });
    const execution = 'arn:aws:sagemaker:us-east-1:111122223333:pipeline/churn/execution/p4jn9xou8a8s';
    expect(jobFamilyOf(linked({ name: 'churn-prep-Zq81LmN0aB', pipeline_execution: execution, pipeline_step: 'Preprocess' }), 'churn-prep-Zq81LmN0aB')).toBe('pipelines-churn/Preprocess');
    expect(jobFamilyOf(linked({ name: 'churn-prep-Zq81LmN0aB', pipeline_execution: execution, pipeline_step: 'Preprocess' }, '444455556666'), 'churn-prep-Zq81LmN0aB')).toBe('churn-prep-Zq81LmN0aB');
    expect(jobFamilyOf(linked({ name: 'churn-prep-Zq81LmN0aB', pipeline_step: 'Preprocess' }), 'churn-prep-Zq81LmN0aB')).toBe('churn-prep-Zq81LmN0aB');
    // Tuning job xgb-tune-7 (family xgb-tune) names its training jobs xgb-tune-7-<NNN>-<hex>: the same family, not xgb-tune-7.
    expect(jobFamily('xgb-tune-7-003-4ef22c8d')).toBe('xgb-tune-7');
    expect(jobFamilyOf(linked({ name: 'xgb-tune-7-003-4ef22c8d', tuning_job: 'xgb-tune-7' }), 'xgb-tune-7-003-4ef22c8d')).toBe('xgb-tune');
    expect(jobFamilyOf(linked({ name: 'other', tuning_job: 'xgb-tune-7' }), 'fraud-train-17')).toBe('fraud-train');
    expect(registryOf('python:3.11')).toBe('docker.io');
    expect(registryOf('library/python@sha256:abc')).toBe('docker.io');
    expect(registryOf('111122223333.dkr.ecr.us-east-1.amazonaws.com/train:1')).toBe('111122223333.dkr.ecr.us-east-1.amazonaws.com');
    expect(registryOf('localhost:5000/x')).toBe('localhost');
  });
});

describe('URIs with dot segments', () => {
  it('resolve as a file system or HTTP client would, never above the root', () => {
    expect(resolveDotSegments('https://h/models/v5/../../uploads/x')).toBe('https://h/uploads/x');
    expect(resolveDotSegments('s3://b/../../etc')).toBe('s3://b/etc');
    expect(resolveDotSegments('/mnt/models/./v1/..')).toBe('/mnt/models');
    expect(resolveDotSegments('gs://b/a..b/c')).toBe('gs://b/a..b/c');
    // What lenient readers do first: %2e is a dot (requests sends it on as one), \\ a slash (WHATWG), // one slash (nginx).
    expect(resolveDotSegments('https://h/m/v5/%2e%2e/%2E%2e/x')).toBe('https://h/x');
    expect(resolveDotSegments('https://h/m/v5/..\\..\\x')).toBe('https://h/x');
    expect(resolveDotSegments('https://h/m/v5//..//..//x')).toBe('https://h/x');
  });
  it('vouch for a location only when written and resolved readings agree; flag an overlap when either does', () => {
    expect(uriOverlap('s3://m/v5', 's3://m/v5/../../x')).toBe(false);
    expect(uriOverlap('s3://m/v5', 's3://m/x/../v5')).toBe(false);
    expect(uriOverlap('s3://m/v5', 's3://m/v5/./a/../b')).toBe(true);
    expect(uriOverlap('https://h/m/v5', 'https://h/m/v5/%2e%2e/%2e%2e/uploads/x')).toBe(false);
    expect(uriOverlap('https://h/m/v5', 'https://h/m/v5/sub//model.pkl')).toBe(true);
    expect(uriMayOverlap('s3://data/train', 's3://data/x/../train')).toBe(true);
    expect(uriAncestors('s3://m/a/b/../c')).toEqual(['s3://m/a/b/../c', 's3://m/a/b/..', 's3://m/a', 's3://m']);
    // A parent spelt two ways still holds what is inside it either way.
    expect(uriAncestors('gs://b/m/team%2Fproj/v1/model.joblib')).toContain('gs://b/m/team%2Fproj/v1');
  });
});

describe('what a deployment\'s model_uri names', () => {
  const cfg = RulesConfig.parse({});
  const deploy = (uri: string) => ev({ id: 'd', time: at(T0), platform: 'kubeflow', stage: 'serving', action: 'endpoint.deploy', operation: 'create', ml: { deployment: { endpoint: 'ns/x', model_uri: uri } } });
  it('MLflow single-slash artifact URIs are artifacts (they named nothing, so every such rollout was unapproved)', () => {
    expect(modelRefOf(deploy('mlflow-artifacts:/9/runC4/artifacts/model'), cfg)).toMatchObject({ artifact: 'mlflow-artifacts:/9/runC4/artifacts/model' });
    expect(modelRefOf(deploy('runs:/abc123/model'), cfg)).toMatchObject({ artifact: 'runs:/abc123/model' });
    expect(uriAncestors('mlflow-artifacts:/9/runC4/artifacts/model').at(-1)).toBe('mlflow-artifacts:/9');
  });
  it('MLflow registry URIs name a version or an alias', () => {
    expect(modelRefOf(deploy('models:/fraud/3'), cfg)).toMatchObject({ name: 'fraud', version: '3' });
    expect(modelRefOf(deploy('models:/fraud@champion'), cfg)).toMatchObject({ name: 'fraud', alias: 'champion' });
  });
  it('a version written with leading zeros is the registered version MLflow loads (`models:/fraud/03` is 3)', () => {
    expect(modelRefOf(deploy('models:/fraud/03'), cfg)).toMatchObject({ name: 'fraud', version: '3' });
    expect(modelRefOf(deploy('models:/fraud/0'), cfg)).toMatchObject({ name: 'fraud', version: '0' });
    // Not a version to MLflow (a stage name): no version.
    expect(modelRefOf(deploy('models:/fraud/-3'), cfg)?.version).toBeUndefined();
  });
});
