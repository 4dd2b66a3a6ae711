import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { kubeflowConnector } from '../../connectors/kubeflow/index.js';
import { gitopsApplicationOf } from '../../connectors/kubeflow/audit/gitops.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { identityOf } from '../../core/rules/facts.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { auditEvent, ctx } from '../connectors/kubeflow/helpers.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';
import { V1, auditEntry, normOne as vertexOne } from '../connectors/vertex/samples.js';

/**
 * Automation identities the first pass left: CloudFormation calling with a person's own session, CodeBuild and
 * CodePipeline run sessions, Vertex multi-hop delegation chains, the Argo CD Application behind an InferenceService.
 */

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const cfg = RulesConfig.parse({});
let n = 0;

function session(role: string, name: string, opts: { invokedBy?: string; mfa?: boolean } = {}) {
  return {
    userIdentity: {
      type: 'AssumedRole', principalId: `AROA${role.length}EXAMPLE:${name}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`, accountId: ACCOUNT, accessKeyId: `ASIA${++n}EXAMPLE`,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: `AROA${role.length}EXAMPLE`, arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, accountId: ACCOUNT, userName: role },
        attributes: { creationDate: '2026-11-02T00:00:00Z', mfaAuthenticated: opts.mfa ? 'true' : 'false' },
      },
      ...(opts.invokedBy ? { invokedBy: opts.invokedBy } : {}),
    },
    sourceIPAddress: opts.invokedBy ?? '203.0.113.7', userAgent: opts.invokedBy ?? 'aws-cli/2.15.0',
  };
}
const PKG = (v: number) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/churn/${v}`;
function call(eventName: string, time: string, who: object, params: Record<string, unknown>, response: Record<string, unknown> | null = null): NormalizedEvent {
  return normOne(ctRecord(eventName, params, { ...who, eventTime: time, awsRegion: REGION, recipientAccountId: ACCOUNT, eventID: `hop-${++n}`, responseElements: response }));
}
const register = (time: string, who: object, v = 3) =>
  call('CreateModelPackage', time, who, { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: `s3://ml-models/churn/v${v}/model.tar.gz` }] } }, { modelPackageArn: PKG(v) });
const approve = (time: string, who: object, v = 3) => call('UpdateModelPackage', time, who, { modelPackageArn: PKG(v), modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG(v) });
function alerts(events: NormalizedEvent[], rules: Record<string, unknown>, id: string): Alert[] {
  return replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === id);
}
const SELF = { 'evaluation.self_approval': { roles: ['trained', 'evaluated', 'registered'] } };
const CFN = 'cloudformation.amazonaws.com';

describe("CloudFormation calling with a person's own session (no stack role)", () => {
  it('the person is the actor (type user), invoked_by names CloudFormation', () => {
    const ev = approve('2026-11-02T11:00:00Z', session('DataScientist', 'alice@corp.example', { invokedBy: CFN }));
    expect(ev.actor).toMatchObject({ id: `arn:aws:sts::${ACCOUNT}:assumed-role/DataScientist/alice@corp.example`, type: 'user' });
    expect(ev.details?.invoked_by).toBe(CFN);
    expect(identityOf(ev.actor, cfg)).toBe('alice@corp.example');
  });

  it("a session the service holds is still the service: a stack role's AWSCloudFormation session, a service-linked role, a tool-named session", () => {
    expect(approve('2026-11-02T11:00:00Z', session('MLOpsStackRole', 'AWSCloudFormation', { invokedBy: CFN })).actor?.type).toBe('service');
    expect(approve('2026-11-02T11:00:00Z', session('AWSServiceRoleForSageMaker', 'alice@corp.example', { invokedBy: CFN })).actor?.type).toBe('service');
    expect(approve('2026-11-02T11:00:00Z', session('Deployer', 'botocore-session-1700000000', { invokedBy: CFN })).actor?.type).toBe('service');
    // MFA on the session is a person's, whoever relayed the call.
    expect(approve('2026-11-02T11:00:00Z', session('Deployer', 'ops-admin', { invokedBy: CFN, mfa: true })).actor?.type).toBe('user');
  });

  it('alice registering by hand and approving through a stack that runs with her credentials is her self-approval, saying CloudFormation made the call', () => {
    const fired = alerts([register('2026-11-02T09:00:00Z', session('DataScientist', 'alice@corp.example')), approve('2026-11-02T11:00:00Z', session('DataScientist', 'alice@corp.example', { invokedBy: CFN }))], SELF, 'evaluation.self_approval');
    expect(fired).toHaveLength(1);
    expect(fired[0]!.details).toMatchObject({ identity: 'alice@corp.example', invoked_by: CFN, actor_id: `arn:aws:sts::${ACCOUNT}:assumed-role/DataScientist/alice@corp.example` });
  });

});

describe('CodeBuild and CodePipeline run sessions', () => {
  const build = (uuid: string, role = 'codebuild-churn-train-service-role') => session(role, `AWSCodeBuild-${uuid}`);
  it("a project's builds are one identity, its role's; another project's role is another", () => {
    const a = identityOf(register('2026-11-02T09:00:00Z', build('b1b5fb4b-a9f7-4c26-8599-4fd12cff2e29')).actor, cfg);
    const b = identityOf(register('2026-11-03T09:00:00Z', build('72a7bcfe-fee1-480b-8aad-2c1e7bfc9989')).actor, cfg);
    expect(a).toBe('role:codebuild-churn-train-service-role/awscodebuild-*');
    expect(b).toBe(a);
    expect(identityOf(register('2026-11-03T09:00:00Z', build('72a7bcfe-fee1-480b-8aad-2c1e7bfc9989', 'codebuild-churn-deploy-service-role')).actor, cfg)).toBe('role:codebuild-churn-deploy-service-role/awscodebuild-*');
    // Not a build id: a name someone chose stays as it is.
    expect(identityOf(register('2026-11-03T09:00:00Z', session('Deployer', 'AWSCodeBuild-manual')).actor, cfg)).toBe('awscodebuild-manual');
  });

  it("CodePipeline's numbered sessions are its role's, whatever the run", () => {
    const role = 'AWSCodePipelineServiceRole-us-east-1-churn';
    const ids = ['1700000000000', '1700000360123'].map((s) => identityOf(register('2026-11-02T09:00:00Z', session(role, s)).actor, cfg));
    expect(ids).toEqual([`role:${role.toLowerCase()}/*`, `role:${role.toLowerCase()}/*`]);
  });

  it("one build registering and the next approving is the project approving its own model (before: two strangers)", () => {
    const fired = alerts([register('2026-11-02T09:00:00Z', build('b1b5fb4b-a9f7-4c26-8599-4fd12cff2e29')), approve('2026-11-02T11:00:00Z', build('72a7bcfe-fee1-480b-8aad-2c1e7bfc9989'))], SELF, 'evaluation.self_approval');
    expect(fired.map((a) => a.details.identity)).toEqual(['role:codebuild-churn-train-service-role/awscodebuild-*']);
    // Two projects' roles are not one.
    expect(alerts([register('2026-11-02T09:00:00Z', build('b1b5fb4b-a9f7-4c26-8599-4fd12cff2e29')), approve('2026-11-02T11:00:00Z', build('72a7bcfe-fee1-480b-8aad-2c1e7bfc9989', 'codebuild-governance-role'))], SELF, 'evaluation.self_approval')).toEqual([]);
  });
});

describe('Vertex delegation chains of several hops', () => {
  const MODEL = 'projects/p/locations/us-central1/models/55';
  const deployAs = (authInfo: Record<string, unknown>) => vertexOne(auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: MODEL, request: { name: `${MODEL}@3`, versionAliases: ['production'] }, authInfo }));
  const DEPLOYER = { principalEmail: 'deployer@p.iam.gserviceaccount.com', principalSubject: 'serviceAccount:deployer@p.iam.gserviceaccount.com' };

  it('a person → SA1 → SA2: the person (first in the chain) is the identity', () => {
    const ev = deployAs({ ...DEPLOYER, serviceAccountDelegationInfo: [
      { firstPartyPrincipal: { principalEmail: 'alice@corp.example' } },
      { principalSubject: 'serviceAccount:hop@p.iam.gserviceaccount.com', firstPartyPrincipal: { principalEmail: 'hop@p.iam.gserviceaccount.com' } },
    ] });
    expect(ev.actor?.chain).toEqual(['alice@corp.example', 'hop@p.iam.gserviceaccount.com']);
    expect(identityOf(ev.actor, cfg)).toBe('alice@corp.example');
    expect(ev.details?.original_principal).toBe('alice@corp.example');
  });

  it("Cloud Build's service agent first, the person after it: the person, not the agent", () => {
    const ev = deployAs({ ...DEPLOYER, serviceAccountDelegationInfo: [
      { firstPartyPrincipal: { principalEmail: 'service-123456789012@gcp-sa-cloudbuild.iam.gserviceaccount.com' } },
      { firstPartyPrincipal: { principalEmail: 'bob@corp.example' } },
    ] });
    expect(identityOf(ev.actor, cfg)).toBe('bob@corp.example');
    expect(ev.details?.original_principal).toBe('bob@corp.example');
    // Service accounts only: the first of them, as before.
    const sas = deployAs({ ...DEPLOYER, serviceAccountDelegationInfo: [{ firstPartyPrincipal: { principalEmail: 'ci@p.iam.gserviceaccount.com' } }] });
    expect(identityOf(sas.actor, cfg)).toBe('ci@p.iam.gserviceaccount.com');
    expect(sas.details?.original_principal).toBeUndefined();
  });

  it('a GitHub workflow through workload identity federation: its repository and branch are the identity and in details', () => {
    const subject = 'principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:corp/ml-deploy:ref:refs/heads/main';
    const ev = deployAs({ ...DEPLOYER, serviceAccountDelegationInfo: [{ principalSubject: subject }] });
    expect(ev.details?.original_principal).toBe(subject);
    expect(identityOf(ev.actor, cfg)).toBe(subject.toLowerCase());
    expect(identityOf(ev.actor, cfg)).toContain('repo:corp/ml-deploy:ref:refs/heads/main');
  });
});

describe('Argo CD: the Application behind an InferenceService', () => {
  const argocd = 'system:serviceaccount:argocd:argocd-application-controller';
  const isvc = (username: string, metadata: Record<string, unknown>) => {
    const out = kubeflowConnector.normalize!(auditEvent({
      level: 'RequestResponse', verb: 'create', requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/ml-prod/inferenceservices?fieldManager=argocd-controller',
      user: { username, groups: ['system:serviceaccounts'] }, userAgent: 'argocd-application-controller/v2.13.0 (linux/amd64) kubernetes/abc',
      objectRef: { resource: 'inferenceservices', namespace: 'ml-prod', name: 'churn', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'churn', namespace: 'ml-prod', ...metadata }, spec: { predictor: { model: { modelFormat: { name: 'xgboost' }, storageUri: 's3://ml-models/churn/v3' } } } },
    }), ctx());
    expect(out.rejected).toEqual([]);
    return out.events[0]!;
  };
  const TRACKED = { annotations: { 'argocd.argoproj.io/tracking-id': 'churn-prod:serving.kserve.io/InferenceService:ml-prod/churn' }, labels: { 'app.kubernetes.io/instance': 'churn-prod' } };

  it('the tracking-id annotation names the Application (name only)', () => {
    expect(isvc(argocd, TRACKED).details?.gitops_application).toBe('churn-prod');
    // An Application outside Argo CD's namespace is written <namespace>_<name>; the name is kept.
    expect(isvc(argocd, { annotations: { 'argocd.argoproj.io/tracking-id': 'team-ml_churn-prod:serving.kserve.io/InferenceService:ml-prod/churn' } }).details?.gitops_application).toBe('churn-prod');
    // Core group (empty) and cluster-scoped (empty namespace) forms.
    expect(gitopsApplicationOf({ metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'harbor:/Secret:harbor/registry-htpasswd' } } }, undefined)).toBe('harbor');
    expect(gitopsApplicationOf({ metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'rbac:rbac.authorization.k8s.io/ClusterRole:/kserve-reader' } } }, undefined)).toBe('rbac');
    // Not Argo CD's format: nothing.
    expect(gitopsApplicationOf({ metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'company/k8s-manifests:production/payment-service/deployment.yaml' } } }, argocd)).toBeUndefined();
  });

  it('the instance label alone counts only when Argo CD applied the object (Helm sets it to its release)', () => {
    const label = { labels: { 'app.kubernetes.io/instance': 'churn-prod' } };
    expect(isvc(argocd, label).details?.gitops_application).toBe('churn-prod');
    expect(isvc('alice@corp.example', label).details?.gitops_application).toBeUndefined();
    expect(isvc('alice@corp.example', {}).details?.gitops_application).toBeUndefined();
  });

  it("alerts on the deployment say which Application deployed it", () => {
    const fired = replayEvents([isvc(argocd, TRACKED)], { rules: RulesConfig.parse({}) }).alerts;
    expect(fired.length).toBeGreaterThan(0);
    for (const a of fired) expect(a.details.gitops_application).toBe('churn-prod');
  });
});
