import { afterEach, describe, expect, it } from 'vitest';
import { normalizeAudit } from '../../../connectors/kubeflow/audit.js';
import { keepPatchBasesIn, PATCH_BASE_NS } from '../../../connectors/kubeflow/audit/patch-base.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx, startAuditRoute } from './helpers.js';

/**
 * `raw` (kept by default, forwarded to the SIEMs) of a RequestResponse audit record must not carry the secrets a
 * pod / InferenceService / patch writes into env, nor URL credentials. Records are the falco RequestResponse pod
 * fixture with env added (the apiserver logs env values literally).
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const TOKEN = 'default-cluster-token-7d2e4b';

const SECRETS = ['AKIA-secret-value-9f3k', 'mlflow-pw-Zq81', 'hf_tok_55aa', 'urlpass-77', 'init-pass-31', 'patch-key-42', 'patch-entry-tok-8', 'isvc-pw-13'];
const env = [
  { name: 'MLFLOW_TRACKING_URI', value: 'https://trainer:urlpass-77@mlflow.prod.svc:5000' },
  { name: 'MLFLOW_TRACKING_USERNAME', value: 'trainer' },
  { name: 'AWS_SECRET_ACCESS_KEY', value: 'AKIA-secret-value-9f3k' },
  { name: 'MLFLOW_TRACKING_PASSWORD', value: 'mlflow-pw-Zq81' },
  { name: 'HF_Token', value: 'hf_tok_55aa' },
  { name: 'LOG_LEVEL', value: 'debug' },
  { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
];

function podWithEnv(): Obj {
  const ev = structuredClone(AUDIT);
  // In a watched namespace (the route drops the rest).
  ev.objectRef.namespace = 'prod';
  ev.requestURI = '/api/v1/namespaces/prod/pods';
  ev.responseObject.metadata.namespace = 'prod';
  ev.requestObject.spec.containers[0].env = structuredClone(env);
  ev.requestObject.spec.initContainers = [{ name: 'fetch', image: 'busybox', env: [{ name: 'db_passwd', value: 'init-pass-31' }, { name: 'TARGET', value: '/models' }] }];
  ev.responseObject.spec.containers[0].env = structuredClone(env);
  return ev;
}

/** A JSON patch of a Deployment: one op writes a whole env list, one op adds an env entry. */
function patchWithEnv(): Obj {
  const ev = structuredClone(AUDIT);
  return {
    ...ev,
    auditID: `${ev.auditID}-patch`,
    verb: 'patch',
    requestURI: '/apis/apps/v1/namespaces/prod/deployments/scorer',
    objectRef: { resource: 'deployments', namespace: 'prod', name: 'scorer', apiGroup: 'apps', apiVersion: 'v1' },
    requestObject: [
      { op: 'replace', path: '/spec/template/spec/containers/0/env', value: [{ name: 'OPENAI_API_KEY', value: 'patch-key-42' }, { name: 'REGION', value: 'eu-west-1' }] },
      { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'GITHUB_TOKEN', value: 'patch-entry-tok-8' } },
    ],
    responseObject: undefined,
  };
}

/** An InferenceService whose model spec has env, naming its registry with credentials. */
function inferenceServiceWithEnv(): Obj {
  const ev = structuredClone(AUDIT);
  return {
    ...ev,
    auditID: `${ev.auditID}-isvc`,
    requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices',
    objectRef: { resource: 'inferenceservices', namespace: 'prod', name: 'fraud', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    requestObject: {
      apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'fraud', namespace: 'prod' },
      spec: { predictor: { model: { modelFormat: { name: 'mlflow' }, storageUri: 'models:/fraud/3', env: [{ name: 'MLFLOW_TRACKING_URI', value: 'https://svc:isvc-pw-13@mlflow.prod.svc:5000' }] } } },
    },
    responseObject: undefined,
  };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('Kubernetes audit raw redaction', () => {
  it('secret env values and URL passwords never reach the spooled event; the rest of raw and the id stay', async () => {
    const r = await startAuditRoute({ namespaces: ['prod'] }, { ingestToken: TOKEN });
    close = r.close;
    const pod = podWithEnv();
    const patch = patchWithEnv();
    const isvc = inferenceServiceWithEnv();
    const sent = [pod, patch, isvc];
    const before = JSON.stringify(sent);
    await r.send(TOKEN, ...sent);
    const stored = r.h.spool.read('test-reader', 1000).filter((x) => x.kind === 'event').map((x) => x.body);
    expect(stored).toHaveLength(3);
    for (const body of stored) for (const s of SECRETS) expect(body).not.toContain(s);
    const events = stored.map((b) => JSON.parse(b) as Obj);
    // Ids are the ones the unredacted records give.
    const direct = normalizeAudit({ kind: 'EventList', items: structuredClone(sent) }, ctx({ keepRaw: false })).events.map((e) => e.id);
    expect(events.map((e) => e.id)).toEqual(direct);

    const [p, pa, is] = events as [Obj, Obj, Obj];
    expect(p.raw.auditID).toBe(pod.auditID);
    expect(p.raw.requestObject.spec.containers[0].env).toEqual([
      { name: 'MLFLOW_TRACKING_URI', value: 'https://[redacted]@mlflow.prod.svc:5000' },
      { name: 'MLFLOW_TRACKING_USERNAME', value: 'trainer' },
      { name: 'AWS_SECRET_ACCESS_KEY', value: '[redacted]' },
      { name: 'MLFLOW_TRACKING_PASSWORD', value: '[redacted]' },
      { name: 'HF_Token', value: '[redacted]' },
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    ]);
    expect(p.raw.requestObject.spec.initContainers[0].env).toEqual([{ name: 'db_passwd', value: '[redacted]' }, { name: 'TARGET', value: '/models' }]);
    expect(p.raw.responseObject.spec.containers[0].image).toBe('nginx');
    expect(p.details.raw_redacted).toEqual([
      'requestObject.spec.containers[0].env[0].value',
      'requestObject.spec.containers[0].env[2].value',
      'requestObject.spec.containers[0].env[3].value',
      'requestObject.spec.containers[0].env[4].value',
      'requestObject.spec.initContainers[0].env[0].value',
      'responseObject.spec.containers[0].env[0].value',
      'responseObject.spec.containers[0].env[2].value',
      'responseObject.spec.containers[0].env[3].value',
      'responseObject.spec.containers[0].env[4].value',
    ]);

    expect(pa.raw.requestObject).toEqual([
      { op: 'replace', path: '/spec/template/spec/containers/0/env', value: [{ name: 'OPENAI_API_KEY', value: '[redacted]' }, { name: 'REGION', value: 'eu-west-1' }] },
      { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'GITHUB_TOKEN', value: '[redacted]' } },
    ]);
    expect(pa.details.raw_redacted).toEqual(['requestObject[0].value[0].value', 'requestObject[1].value.value']);

    // The normalizer still read the original: the registry is known (without its credentials).
    expect(is.ml?.deployment?.mlflow_registry_uri).toBe('https://mlflow.prod.svc:5000');
    expect(is.raw.requestObject.spec.predictor.model.env[0].value).toBe('https://[redacted]@mlflow.prod.svc:5000');
    expect(is.details.raw_redacted).toEqual(['requestObject.spec.predictor.model.env[0].value']);

    // The records the route was given are not changed (other code reads them).
    expect(JSON.stringify(sent)).toBe(before);
  });

  it('the object kubectl apply keeps in last-applied-configuration (JSON text) is redacted too', () => {
    const ev = structuredClone(AUDIT);
    const applied = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'trainer' }, spec: { containers: [{ name: 'train', image: 'trainer:1', env: [{ name: 'WANDB_API_KEY', value: 'wandb-key-6e' }, { name: 'EPOCHS', value: '3' }] }] } };
    ev.requestObject.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(applied)}\n` };
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toContain('wandb-key-6e');
    const kept = (out!.raw as Obj).requestObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] as string;
    expect(kept.endsWith('\n')).toBe(true);
    expect(JSON.parse(kept).spec.containers[0].env).toEqual([{ name: 'WANDB_API_KEY', value: '[redacted]' }, { name: 'EPOCHS', value: '3' }]);
    expect(out!.details?.raw_redacted).toEqual(['requestObject.metadata.annotations.kubectl.kubernetes.io/last-applied-configuration.spec.containers[0].env[0].value']);
  });

  it('a record with nothing secret keeps raw as sent and says nothing; the list of paths is capped at 20', () => {
    const plain = structuredClone(AUDIT);
    const [ev] = normalizeAudit(plain, ctx({ keepRaw: true })).events;
    expect(ev!.raw).toBe(plain);
    expect(ev!.details?.raw_redacted).toBeUndefined();

    const many = structuredClone(AUDIT);
    many.requestObject.spec.containers[0].env = Array.from({ length: 30 }, (_, i) => ({ name: `KEY_${i}_TOKEN`, value: `tok-${i}` }));
    const [big] = normalizeAudit(many, ctx({ keepRaw: true })).events;
    expect(big!.details?.raw_redacted).toHaveLength(20);
    expect(JSON.stringify(big!.raw)).not.toMatch(/tok-\d/);
  });
});

/** An InferenceService JSON patch (`kubectl patch --type=json`) whose ops write env values by index only. */
function isvcPatch(ops: Obj[], responseEnv?: Obj[]): Obj {
  const ev = structuredClone(AUDIT);
  return {
    ...ev,
    auditID: `${ev.auditID}-isvc-patch`,
    verb: 'patch',
    requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices/fraud',
    objectRef: { resource: 'inferenceservices', namespace: 'prod', name: 'fraud', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    requestObject: ops,
    responseObject: responseEnv && {
      apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'fraud', namespace: 'prod' },
      spec: { predictor: { model: { modelFormat: { name: 'mlflow' }, storageUri: 'models:/fraud/3', env: responseEnv } } },
    },
  };
}

describe('Kubernetes audit raw redaction: patch ops that write an env value by index', () => {
  const op = (value: string, i = 3) => ({ op: 'replace', path: `/spec/predictor/model/env/${i}/value`, value });
  const envOf = (name3: string, value3: string) => [{ name: 'A', value: 'a' }, { name: 'B', value: 'b' }, { name: 'C', value: 'c' }, { name: name3, value: value3 }];

  it('the value of `…/env/N/value` is hidden when the record does not show entry N named harmlessly (Request level: no responseObject)', () => {
    const [out] = normalizeAudit(isvcPatch([op('hunter2')]), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toContain('hunter2');
    expect((out!.raw as Obj).requestObject).toEqual([op('[redacted]')]);
    expect(out!.details?.raw_redacted).toEqual(['requestObject[0].value']);
  });

  it('the patched object shows entry N under a secret name: hidden in the op and in the object', () => {
    const [out] = normalizeAudit(isvcPatch([op('hunter2')], envOf('MLFLOW_TRACKING_PASSWORD', 'hunter2')), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toContain('hunter2');
    expect(out!.details?.raw_redacted).toEqual(['requestObject[0].value', 'responseObject.spec.predictor.model.env[3].value']);
  });

  it('kept when the patched object shows that very value at entry N under a harmless name; hidden when entry N holds another value (an op shifted the list)', () => {
    const [kept] = normalizeAudit(isvcPatch([op('debug')], envOf('LOG_LEVEL', 'debug')), ctx({ keepRaw: true })).events;
    expect((kept!.raw as Obj).requestObject).toEqual([op('debug')]);
    expect(kept!.details?.raw_redacted).toBeUndefined();

    // The op wrote env/3 before an `add` at env/0 moved that entry to env/4: env/3 is now another (harmless) one.
    const shifted = isvcPatch([op('s3cr3t-shifted'), { op: 'add', path: '/spec/predictor/model/env/0', value: { name: 'X', value: 'x' } }], [{ name: 'X', value: 'x' }, ...envOf('LOG_LEVEL', 'debug').slice(0, 3), { name: 'DB_PASSWORD', value: 's3cr3t-shifted' }]);
    const [out] = normalizeAudit(shifted, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toContain('s3cr3t-shifted');
    expect(out!.details?.raw_redacted).toEqual(['requestObject[0].value', 'responseObject.spec.predictor.model.env[4].value']);
  });
});

describe('Kubernetes audit raw redaction: connection strings and short password names', () => {
  it("an Azure Storage connection string (MLflow's AZURE_STORAGE_CONNECTION_STRING), its AccountKey in a script, DB_PASS and MYSQL_PWD are hidden", () => {
    const ev = structuredClone(AUDIT);
    const conn = 'DefaultEndpointsProtocol=https;AccountName=mlartifacts;AccountKey=azKey+conn/1==;EndpointSuffix=core.windows.net';
    ev.requestObject.spec.containers[0].env = [{ name: 'AZURE_STORAGE_CONNECTION_STRING', value: conn }, { name: 'DB_PASS', value: 'db-pass-2' }, { name: 'MYSQL_PWD', value: 'my-pwd-3' }, { name: 'BYPASS_CACHE', value: 'true' }];
    ev.requestObject.spec.containers[0].command = ['sh', '-c', 'az storage blob download --connection-string "AccountName=a;AccountKey=azKey-sh-4" -f /m'];
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    const text = JSON.stringify(out);
    for (const s of ['azKey+conn/1', 'db-pass-2', 'my-pwd-3', 'azKey-sh-4']) expect(text).not.toContain(s);
    const raw = out!.raw as Obj;
    expect(raw.requestObject.spec.containers[0].env).toEqual([
      { name: 'AZURE_STORAGE_CONNECTION_STRING', value: '[redacted]' }, { name: 'DB_PASS', value: '[redacted]' }, { name: 'MYSQL_PWD', value: '[redacted]' }, { name: 'BYPASS_CACHE', value: 'true' },
    ]);
  });
});

describe('Kubernetes audit raw redaction: Argo / KFP workflow parameters', () => {
  it('the value and default of a secret-named parameter are hidden (in the object and in patch ops); other parameters stay', () => {
    const ev = structuredClone(AUDIT);
    const wf = {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: 'train-', namespace: 'prod' },
      spec: {
        arguments: { parameters: [{ name: 'db_password', value: 'wf-param-1' }, { name: 'epochs', value: '3' }] },
        templates: [{ name: 'train', inputs: { parameters: [{ name: 'hf_token', default: 'wf-default-2' }, { name: 'lr', default: '0.01' }] }, container: { image: 'trainer:1' } }],
      },
    };
    const created = { ...ev, auditID: `${ev.auditID}-wf`, requestURI: '/apis/argoproj.io/v1alpha1/namespaces/prod/workflows', objectRef: { resource: 'workflows', namespace: 'prod', apiGroup: 'argoproj.io', apiVersion: 'v1alpha1' }, requestObject: wf, responseObject: undefined };
    const patched = { ...created, auditID: `${ev.auditID}-wf-patch`, verb: 'patch', requestObject: [
      { op: 'add', path: '/spec/arguments/parameters/-', value: { name: 'API_KEY', value: 'wf-op-3' } },
      { op: 'replace', path: '/spec/arguments/parameters/1/value', value: 'wf-op-4' },
    ] };
    const [c, p] = normalizeAudit({ kind: 'EventList', items: [created, patched] }, ctx({ keepRaw: true })).events;
    const text = JSON.stringify([c, p]);
    for (const v of ['wf-param-1', 'wf-default-2', 'wf-op-3', 'wf-op-4']) expect(text).not.toContain(v);
    const spec = (c!.raw as Obj).requestObject.spec;
    expect(spec.arguments.parameters).toEqual([{ name: 'db_password', value: '[redacted]' }, { name: 'epochs', value: '3' }]);
    expect(spec.templates[0].inputs.parameters).toEqual([{ name: 'hf_token', default: '[redacted]' }, { name: 'lr', default: '0.01' }]);
  });

  it("a KFP v2 step's container spec held as JSON in a parameter (implementations-<hash>, a driver task's container argument): its secret env values and flag values are hidden, the rest stays", () => {
    const ev = structuredClone(AUDIT);
    const spec = (secret: string, flag: string) => JSON.stringify({
      args: ['--executor_input', '{{$}}', '--api-key', flag], command: ['sh', '-c', 'python3 -m kfp.dsl.executor_main "$@"', '--'], image: 'python:3.11',
      env: [{ name: 'HF_TOKEN', value: secret }, { name: 'EPOCHS', value: '3' }],
    });
    const wf = {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: 'train-', namespace: 'prod' },
      spec: {
        arguments: { parameters: [{ name: 'implementations-abc', value: spec('kfp-impl-env-1', 'kfp-impl-flag-2') }] },
        templates: [
          { name: 'system-container-driver', container: { image: 'ghcr.io/kubeflow/kfp-driver:2.5.0', command: ['driver'] }, inputs: { parameters: [{ name: 'container' }] } },
          { name: 'root', dag: { tasks: [{ name: 'train-driver', template: 'system-container-driver', arguments: { parameters: [{ name: 'container', value: spec('kfp-arg-env-3', 'kfp-arg-flag-4') }] } }] } },
        ],
      },
    };
    const created = { ...ev, auditID: `${ev.auditID}-kfp2`, requestURI: '/apis/argoproj.io/v1alpha1/namespaces/prod/workflows', objectRef: { resource: 'workflows', namespace: 'prod', apiGroup: 'argoproj.io', apiVersion: 'v1alpha1' }, requestObject: wf, responseObject: undefined };
    const [out] = normalizeAudit(created, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/kfp-(impl|arg)-(env|flag)-\d/);
    const held = JSON.parse((out!.raw as Obj).requestObject.spec.arguments.parameters[0].value) as Obj;
    expect(held.env).toEqual([{ name: 'HF_TOKEN', value: '[redacted]' }, { name: 'EPOCHS', value: '3' }]);
    expect(held.args).toEqual(['--executor_input', '{{$}}', '--api-key', '[redacted]']);
    expect(held.image).toBe('python:3.11');
    expect(out!.ml?.job?.images).toContain('python:3.11');
  });
});

describe('Kubernetes audit redaction: secrets in the query of a URL', () => {
  it("a SAS or presigned storageUri's signature is hidden in ml.deployment.model_uri and raw; a JDBC URL's password in env too; the location stays", () => {
    const ev = inferenceServiceWithEnv();
    const sas = 'https://acct.blob.core.windows.net/models/fraud.joblib?sv=2022-11-02&se=2026-12-01&sr=b&sp=r&sig=sasSig%2B111';
    ev.requestObject.spec.predictor.model = { modelFormat: { name: 'sklearn' }, storageUri: sas, env: [{ name: 'DATABASE_URL', value: 'jdbc:postgresql://db/mlflow?user=ml&password=jdbcPw222' }, { name: 'BACKEND_URI', value: `postgresql://ml:quo"te'Pw4@db/mlflow` }] };
    const presigned = structuredClone(ev);
    presigned.auditID += '-presigned';
    presigned.requestObject.spec.predictor.model.storageUri = 'https://models.s3.amazonaws.com/fraud.pkl?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261127T000000Z&X-Amz-Signature=presign333';
    const [out, pre] = normalizeAudit({ kind: 'EventList', items: [ev, presigned] }, ctx({ keepRaw: true })).events;
    const text = JSON.stringify([out, pre]);
    for (const v of ['sasSig', 'jdbcPw222', 'presign333', 'Pw4']) expect(text).not.toContain(v);
    expect(out!.ml?.deployment?.model_uri).toBe('https://acct.blob.core.windows.net/models/fraud.joblib?sv=2022-11-02&se=2026-12-01&sr=b&sp=r&sig=[redacted]');
    expect(pre!.ml?.deployment?.model_uri).toBe('https://models.s3.amazonaws.com/fraud.pkl?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261127T000000Z&X-Amz-Signature=[redacted]');
    const model = (out!.raw as Obj).requestObject.spec.predictor.model;
    expect(model.env).toEqual([{ name: 'DATABASE_URL', value: 'jdbc:postgresql://db/mlflow?user=ml&password=[redacted]' }, { name: 'BACKEND_URI', value: 'postgresql://[redacted]@db/mlflow' }]);
    expect(out!.details?.raw_redacted).toEqual(['requestObject.spec.predictor.model.storageUri', 'requestObject.spec.predictor.model.env[0].value', 'requestObject.spec.predictor.model.env[1].value']);
  });
});

describe('Kubernetes audit raw redaction: Secret bodies (a policy logging Secrets above Metadata level)', () => {
  /** A write of Secret `db` in prod at RequestResponse level. */
  function secretWrite(verb: string, requestObject: unknown, responseObject?: unknown): Obj {
    const ev = structuredClone(AUDIT);
    return {
      ...ev, auditID: `${ev.auditID}-secret-${verb}`, verb, requestURI: '/api/v1/namespaces/prod/secrets/db',
      objectRef: { resource: 'secrets', namespace: 'prod', name: 'db', apiVersion: 'v1' }, requestObject, responseObject,
    };
  }
  const applied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'prod' }, stringData: { url: 'applied-sd-4' } });
  const secret = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'db', namespace: 'prod', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied } }, data });

  it('data and stringData values of a created, patched or applied Secret are hidden whatever their keys; keys, type and metadata stay', () => {
    const created = secretWrite('create', { ...secret({ uri: 'c3FsOi8vZGI=' }), stringData: { db_host_auth: 'created-sd-1' } }, secret({ uri: 'c3FsOi8vZGI=', db_host_auth: 'Y3JlYXRlZC1zZC0x' }));
    const patched = secretWrite('patch', [{ op: 'add', path: '/data/conn', value: 'cGF0Y2gtb3AtMg==' }, { op: 'replace', path: '/stringData', value: { k: 'patch-op-3' } }, { op: 'replace', path: '/metadata/labels/team', value: 'ml' }]);
    const merged = secretWrite('patch', { data: { k: 'bWVyZ2UtNQ==' } });
    const [c, p, m] = normalizeAudit({ kind: 'EventList', items: [created, patched, merged] }, ctx({ keepRaw: true })).events;
    const text = JSON.stringify([c, p, m]);
    for (const v of ['c3FsOi8vZGI=', 'created-sd-1', 'Y3JlYXRlZC1zZC0x', 'cGF0Y2gtb3AtMg==', 'patch-op-3', 'applied-sd-4', 'bWVyZ2UtNQ==']) expect(text).not.toContain(v);
    const raw = c!.raw as Obj;
    expect(raw.requestObject.data).toEqual({ uri: '[redacted]' });
    expect(raw.requestObject.stringData).toEqual({ db_host_auth: '[redacted]' });
    expect(raw.responseObject).toMatchObject({ type: 'Opaque', metadata: { name: 'db', namespace: 'prod' }, data: { uri: '[redacted]', db_host_auth: '[redacted]' } });
    expect(JSON.parse(raw.requestObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'prod' }, stringData: { url: '[redacted]' } });
    expect((p!.raw as Obj).requestObject).toEqual([{ op: 'add', path: '/data/conn', value: '[redacted]' }, { op: 'replace', path: '/stringData', value: { k: '[redacted]' } }, { op: 'replace', path: '/metadata/labels/team', value: 'ml' }]);
    expect((m!.raw as Obj).requestObject).toEqual({ data: { k: '[redacted]' } });
  });

  it("a Secret's last-applied-configuration is read as the Secret whatever its text names (no kind, no env): its values hidden in raw and in the patch bases kept; one that is no JSON hidden whole", () => {
    // Hand-written: no "kind":"Secret", no env, args or command (the words the annotation was looked at for).
    const handWritten = JSON.stringify({ apiVersion: 'v1', metadata: { name: 'db' }, data: { token: 'aGFuZC1kYXRhLTE=' }, stringData: { pw: 'hand-sd-2' } });
    const withAnnotation = (text: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'prod', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': text } }, data: { token: 'cmVzcC0z' } });
    const created = secretWrite('create', withAnnotation(handWritten), withAnnotation(handWritten));
    const yaml = secretWrite('update', withAnnotation('data:\n  token: yaml-pw-4\n'));
    const state = new MemoryStateStore();
    const config = KubeflowConfig.parse({});
    keepPatchBasesIn(config, state);
    const [c, y] = normalizeAudit({ kind: 'EventList', items: [created, yaml] }, ctx({ keepRaw: true, config })).events;
    const stored = JSON.stringify(state.list(PATCH_BASE_NS.credentials));
    expect(stored).toContain('"name":"db"');
    for (const text of [JSON.stringify([c, y]), stored]) for (const v of ['aGFuZC1kYXRhLTE=', 'hand-sd-2', 'cmVzcC0z', 'yaml-pw-4']) expect(text).not.toContain(v);
    expect(JSON.parse((c!.raw as Obj).responseObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).toEqual({ apiVersion: 'v1', metadata: { name: 'db' }, data: { token: '[redacted]' }, stringData: { pw: '[redacted]' } });
    expect((y!.raw as Obj).requestObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe('[redacted]');
  });

  it('a Secret inside a record about another resource (a v1/List item, a SecretList whose items name no kind) is read as a Secret: data, stringData and a hand-written last-applied-configuration hidden', () => {
    // Hand-written: no kind, env, args or command (the words the annotation is looked at for outside a Secret).
    const handWritten = JSON.stringify({ apiVersion: 'v1', metadata: { name: 'db' }, stringData: { pw: 'emb-la-1' } });
    const meta = { name: 'db', namespace: 'prod', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': handWritten } };
    const ev = {
      ...structuredClone(AUDIT), verb: 'create', requestURI: '/apis/bundles.example.io/v1/namespaces/prod/bundles',
      objectRef: { resource: 'bundles', namespace: 'prod', name: 'b', apiGroup: 'bundles.example.io', apiVersion: 'v1' },
      requestObject: { apiVersion: 'bundles.example.io/v1', kind: 'Bundle', spec: { resources: { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: meta, data: { token: 'ZW1iLWRhdGEtMg==' } }] } } },
      responseObject: { apiVersion: 'bundles.example.io/v1', kind: 'Bundle', status: { rendered: { apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [{ metadata: meta, stringData: { pw: 'emb-sd-3' } }] } } },
    };
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    const text = JSON.stringify(out);
    for (const v of ['emb-la-1', 'ZW1iLWRhdGEtMg==', 'emb-sd-3']) expect(text).not.toContain(v);
    const raw = out!.raw as Obj;
    const listed = raw.requestObject.spec.resources.items[0];
    expect(listed.data).toEqual({ token: '[redacted]' });
    expect(JSON.parse(listed.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).toEqual({ apiVersion: 'v1', metadata: { name: 'db' }, stringData: { pw: '[redacted]' } });
    expect(raw.responseObject.status.rendered.items[0].stringData).toEqual({ pw: '[redacted]' });
  });

  it("a ConfigMap's data is not a Secret's: kept", () => {
    const ev = { ...structuredClone(AUDIT), verb: 'create', objectRef: { resource: 'configmaps', namespace: 'prod', name: 'cfg', apiVersion: 'v1' }, requestObject: { kind: 'ConfigMap', data: { MODEL_NAME: 'fraud' } }, responseObject: undefined };
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect((out!.raw as Obj).requestObject.data).toEqual({ MODEL_NAME: 'fraud' });
  });
});

describe('Kubernetes audit raw redaction: container args and command', () => {
  it('values of secret-named flags and URL credentials in args/command are hidden; other arguments stay', () => {
    const ev = structuredClone(AUDIT);
    ev.requestObject.spec.containers[0].command = ['python', 'serve.py', '--password=pw-arg-1', '--epochs', '3'];
    ev.requestObject.spec.containers[0].args = ['--token', 'tok-arg-2', '--aws-secret-access-key', 'aws-arg-3', '--api-key=key-arg-4', '--token-file', '/var/run/secrets/tok', '--uri', 'https://u:url-arg-5@mlflow:5000', '--verbose'];
    ev.requestObject.spec.initContainers = [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'export HF_TOKEN=hf-arg-6 && python fetch.py --db-password "pw arg 7" --out /models'] }];
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    const text = JSON.stringify(out);
    for (const s of ['pw-arg-1', 'tok-arg-2', 'aws-arg-3', 'key-arg-4', 'url-arg-5', 'hf-arg-6', 'pw arg 7']) expect(text).not.toContain(s);
    const raw = out!.raw as Obj;
    expect(raw.requestObject.spec.containers[0].command).toEqual(['python', 'serve.py', '--password=[redacted]', '--epochs', '3']);
    expect(raw.requestObject.spec.containers[0].args).toEqual(['--token', '[redacted]', '--aws-secret-access-key', '[redacted]', '--api-key=[redacted]', '--token-file', '/var/run/secrets/tok', '--uri', 'https://[redacted]@mlflow:5000', '--verbose']);
    expect(raw.requestObject.spec.initContainers[0].command).toEqual(['sh', '-c', 'export HF_TOKEN=[redacted] && python fetch.py --db-password [redacted] --out /models']);
    expect(out!.details?.raw_redacted).toEqual([
      'requestObject.spec.containers[0].command[2]',
      'requestObject.spec.containers[0].args[1]',
      'requestObject.spec.containers[0].args[3]',
      'requestObject.spec.containers[0].args[4]',
      'requestObject.spec.containers[0].args[8]',
      'requestObject.spec.initContainers[0].command[2]',
    ]);
    // The image and the rest the normalizer reads stay.
    expect(raw.requestObject.spec.containers[0].image).toBe('nginx');
  });

  it('in patch ops writing args (a list or one argument) and in the object kubectl apply kept', () => {
    const ev = { ...structuredClone(AUDIT), verb: 'patch', responseObject: undefined, requestObject: [
      { op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['--secret', 'op-arg-8'] },
      { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--api_key=op-arg-9' },
    ] };
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect((out!.raw as Obj).requestObject).toEqual([
      { op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['--secret', '[redacted]'] },
      { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--api_key=[redacted]' },
    ]);
    expect(out!.details?.raw_redacted).toEqual(['requestObject[0].value[1]', 'requestObject[1].value']);

    const applied = structuredClone(AUDIT);
    const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', args: ['--password', 'applied-arg-10'] }] } };
    applied.requestObject.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(obj) };
    const [a] = normalizeAudit(applied, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(a)).not.toContain('applied-arg-10');
  });
});

describe('Kubernetes audit redaction: request URI and answer message', () => {
  const EXEC = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_exec_pod.json');

  it('an exec command with a secret flag: hidden in requestURI and details.exec_command; the path, container and other arguments stay', () => {
    const ev = structuredClone(EXEC);
    const base = ev.requestURI.slice(0, ev.requestURI.indexOf('?'));
    ev.requestURI = `${base}?command=mysql&command=--password&command=exec-pw-1&command=-h&command=db&command=--api-key%3Dexec-key-2&container=nginx1&stdin=true`;
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/exec-pw-1|exec-key-2/);
    expect(out!.details?.exec_command).toEqual(['mysql', '--password', '[redacted]', '-h', 'db', '--api-key=[redacted]']);
    expect(out!.details?.container).toBe('nginx1');
    expect(out!.action).toBe('pod.exec');
    const uri = (out!.raw as Obj).requestURI as string;
    expect(uri).toBe(`${base}?command=mysql&command=--password&command=%5Bredacted%5D&command=-h&command=db&command=--api-key%3D%5Bredacted%5D&container=nginx1&stdin=true`);
    expect(out!.details?.request_uri).toBe(uri);
    expect(out!.details?.raw_redacted).toEqual(['requestURI']);
    // The id is the unredacted record's (a resent batch must collapse).
    expect(out!.id).toBe(normalizeAudit(ev, ctx({ keepRaw: false })).events[0]!.id);
  });

  it('an exec curl with -u user:password or an Authorization header: the password and the credential are hidden, the user and the scheme stay', () => {
    const ev = structuredClone(EXEC);
    const base = ev.requestURI.slice(0, ev.requestURI.indexOf('?'));
    ev.requestURI = `${base}?command=curl&command=-u&command=admin%3Acurl-pw-1&command=-H&command=Authorization%3A%20Bearer%20curl-tok-2&command=http%3A%2F%2Fmlflow%3A5000&container=nginx1`;
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/curl-pw-1|curl-tok-2/);
    expect(out!.details?.exec_command).toEqual(['curl', '-u', 'admin:[redacted]', '-H', 'Authorization: Bearer [redacted]', 'http://mlflow:5000']);
  });

  it('container args: curl -u user:password and credential headers, also in a sh -c string; a bare -u user stays', () => {
    const ev = structuredClone(AUDIT);
    ev.requestObject.spec.containers[0].args = ['curl', '-u', 'svc:arg-pw-3', '-H', 'X-Api-Key: arg-key-4', '--user=bob:arg-pw-5', 'mysql', '-u', 'root'];
    ev.requestObject.spec.containers[0].command = ['sh', '-c', `curl -sf -H 'Authorization: Basic arg-basic-6' --proxy-user p:arg-pw-7 http://mlflow:5000/health`];
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/arg-pw-3|arg-key-4|arg-pw-5|arg-basic-6|arg-pw-7/);
    const c = (out!.raw as Obj).requestObject.spec.containers[0];
    expect(c.args).toEqual(['curl', '-u', 'svc:[redacted]', '-H', 'X-Api-Key: [redacted]', '--user=bob:[redacted]', 'mysql', '-u', 'root']);
    expect(c.command[2]).toBe(`curl -sf -H 'Authorization: Basic [redacted]' --proxy-user p:[redacted] http://mlflow:5000/health`);
  });

  it('secret-named query parameters and URL credentials in a parameter are hidden; other parameters are kept as sent', () => {
    const ev = structuredClone(AUDIT);
    ev.verb = 'get';
    ev.objectRef = { resource: 'services', subresource: 'proxy', namespace: 'prod', name: 'mlflow:5000', apiVersion: 'v1' };
    ev.requestURI = '/api/v1/namespaces/prod/services/mlflow:5000/proxy/api/2.0/mlflow/experiments/list?access_token=q-tok-3&max_results=10&target=https%3A%2F%2Fbob%3Aq-url-4%40minio%3A9000%2Fb&labelSelector=app%3Dx';
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/q-tok-3|q-url-4/);
    expect(out!.details?.request_uri).toBe('/api/v1/namespaces/prod/services/mlflow:5000/proxy/api/2.0/mlflow/experiments/list?access_token=[redacted]&max_results=10&target=https%3A%2F%2F%5Bredacted%5D%40minio%3A9000%2Fb&labelSelector=app%3Dx');
  });

  it('an admission answer echoing values: hidden in responseStatus.message, the Status responseObject, error.message and details; reason and code stay', () => {
    const ev = structuredClone(AUDIT);
    const message = 'admission webhook "validate.kserve.io" denied the request: MLFLOW_TRACKING_PASSWORD=msg-pw-5 is not allowed in env (--api-key=msg-key-6); spec.containers[0].env[2].value: Invalid value: "msg-env-7": must not be a literal';
    ev.responseStatus = { metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 };
    ev.responseObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 };
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/msg-pw-5|msg-key-6|msg-env-7/);
    const hidden = 'admission webhook "validate.kserve.io" denied the request: MLFLOW_TRACKING_PASSWORD=[redacted] is not allowed in env (--api-key=[redacted]); spec.containers[0].env[2].value: Invalid value: "[redacted]": must not be a literal';
    expect(out!.error).toEqual({ code: 'BadRequest', message: hidden });
    expect(out!.outcome).toBe('failure');
    expect(out!.details?.response_message).toBe(hidden);
    expect(out!.details?.response_reason).toBe('BadRequest');
    expect((out!.raw as Obj).responseStatus).toEqual({ metadata: {}, status: 'Failure', message: hidden, reason: 'BadRequest', code: 400 });
    expect((out!.raw as Obj).responseObject.message).toBe(hidden);
    expect(out!.details?.raw_redacted).toEqual(['responseStatus.message', 'responseObject.message']);
  });

  it("a ValidatingAdmissionPolicy's failure message echoing a value: hidden in its audit annotation and details.validation_failure; policy, binding and the rest stay", () => {
    const ev = structuredClone(AUDIT);
    const failures = [
      { message: 'env MLFLOW_TRACKING_PASSWORD=vap-pw-9 must come from a Secret', policy: 'no-literal-secrets', binding: 'prod', expressionIndex: 0, validationActions: ['Audit'] },
      { message: 'image must be pinned by digest', policy: 'pinned-images', binding: 'prod', expressionIndex: 1, validationActions: ['Audit'] },
    ];
    const key = 'validation.policy.admission.k8s.io/validation_failure';
    ev.annotations = { ...ev.annotations, [key]: JSON.stringify(failures) };
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/vap-pw-9/);
    const hidden = [{ ...failures[0], message: 'env MLFLOW_TRACKING_PASSWORD=[redacted] must come from a Secret' }, failures[1]];
    expect(JSON.parse((out!.raw as Obj).annotations[key])).toEqual(hidden);
    expect(JSON.parse(out!.details?.validation_failure as string)).toEqual(hidden);
    expect(out!.details?.raw_redacted).toEqual([`annotations.${key}`]);
    // Nothing to hide: the annotation stays as logged, byte for byte.
    const plain = structuredClone(AUDIT);
    plain.annotations = { ...plain.annotations, [key]: JSON.stringify([failures[1]]) };
    const [kept] = normalizeAudit(plain, ctx({ keepRaw: true })).events;
    expect(kept!.details?.validation_failure).toBe(plain.annotations[key]);
    expect(kept!.details?.raw_redacted).toBeUndefined();
  });

  it('a forbidden answer naming secrets (the resource) is kept as is', () => {
    const ev = structuredClone(AUDIT);
    const message = 'secrets "mlflow-token" is forbidden: User "system:serviceaccount:prod:default" cannot get resource "secrets" in API group "" in the namespace "prod"';
    ev.responseStatus = { metadata: {}, status: 'Failure', message, reason: 'Forbidden', code: 403 };
    ev.responseObject = undefined;
    ev.requestURI = '/api/v1/namespaces/prod/secrets/mlflow-token?fieldManager=kubectl-client-side-apply';
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(out!.details?.response_message).toBe(message);
    expect(out!.details?.request_uri).toBe(ev.requestURI);
    expect(out!.details?.raw_redacted).toBeUndefined();
  });
});

describe('Kubernetes audit raw redaction: a mutating webhook\'s logged patch', () => {
  it('env values a webhook injects (PodDefault, a secrets injector) are hidden in its patch.webhook.admission.k8s.io annotation', () => {
    const ev = structuredClone(AUDIT);
    const patch = {
      configuration: 'admission-webhook-mutating-webhook-configuration', webhook: 'admission-webhook-deployment.kubeflow.org', patchType: 'JSONPatch',
      patch: [
        { op: 'add', path: '/spec/containers/0/env', value: [{ name: 'MINIO_SECRET_KEY', value: 'wh-secret-1' }, { name: 'REGION', value: 'eu' }] },
        { op: 'add', path: '/spec/containers/0/env/2/value', value: 'wh-val-2' },
      ],
    };
    const key = 'patch.webhook.admission.k8s.io/round_0_index_0';
    ev.annotations = { ...ev.annotations, [key]: JSON.stringify(patch), 'mutation.webhook.admission.k8s.io/round_0_index_0': '{"configuration":"c","webhook":"w","mutated":true}' };
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/wh-secret-1|wh-val-2/);
    const kept = JSON.parse((out!.raw as Obj).annotations[key]);
    expect(kept.patch).toEqual([
      { op: 'add', path: '/spec/containers/0/env', value: [{ name: 'MINIO_SECRET_KEY', value: '[redacted]' }, { name: 'REGION', value: 'eu' }] },
      { op: 'add', path: '/spec/containers/0/env/2/value', value: '[redacted]' },
    ]);
    expect((out!.raw as Obj).annotations['mutation.webhook.admission.k8s.io/round_0_index_0']).toBe(ev.annotations['mutation.webhook.admission.k8s.io/round_0_index_0']);
    expect(out!.details?.raw_redacted).toEqual([`annotations.${key}.patch[0].value[0].value`, `annotations.${key}.patch[1].value`]);
  });
});

describe('Kubernetes audit raw redaction: ConfigMaps, scripts and tool flags', () => {
  /** The falco record made a create of `obj` in resource `resource` (group `apiGroup`). */
  function created(resource: string, apiGroup: string | undefined, obj: Obj): Obj {
    const ev = structuredClone(AUDIT);
    return { ...ev, objectRef: { resource, namespace: 'prod', name: obj.metadata?.name ?? 'x', apiGroup, apiVersion: 'v1' }, requestObject: obj, responseObject: undefined };
  }

  it('a ConfigMap: the value of a secret-named key (data and binaryData) is hidden, a file value keeps all but its secret assignments and URL passwords; a patch op writing one key is judged by it', () => {
    const cm = {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trainer-env' },
      data: {
        DB_PASSWORD: 'cm-pw-1',
        '.env': 'AWS_SECRET_ACCESS_KEY=cm-env-2\nMLFLOW_TRACKING_URI=https://svc:cm-url-3@mlflow:5000\nLOG_LEVEL=debug',
        'app.yaml': 'port: 8080\ndatabase:\n  password: "cm-yaml-4"\n  secretName: db-creds',
        PORT: '8080',
      },
      binaryData: { api_token: 'Y20tYmluLTU=', 'model.bin': 'AAEC' },
    };
    const [out] = normalizeAudit(created('configmaps', undefined, cm), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/cm-pw-1|cm-env-2|cm-url-3|cm-yaml-4|Y20tYmluLTU=/);
    const raw = (out!.raw as Obj).requestObject;
    expect(raw.data).toEqual({
      DB_PASSWORD: '[redacted]',
      '.env': 'AWS_SECRET_ACCESS_KEY=[redacted]\nMLFLOW_TRACKING_URI=https://[redacted]@mlflow:5000\nLOG_LEVEL=debug',
      'app.yaml': 'port: 8080\ndatabase:\n  password: "[redacted]"\n  secretName: db-creds',
      PORT: '8080',
    });
    expect(raw.binaryData).toEqual({ api_token: '[redacted]', 'model.bin': 'AAEC' });
    expect(out!.details?.raw_redacted).toEqual(['requestObject.data.DB_PASSWORD', 'requestObject.data..env', 'requestObject.data.app.yaml', 'requestObject.binaryData.api_token']);

    const patch = { ...created('configmaps', undefined, {}), verb: 'patch', requestObject: [{ op: 'add', path: '/data/HF_TOKEN', value: 'cm-op-6' }, { op: 'add', path: '/data/REGION', value: 'eu-west-1' }, { op: 'replace', path: '/data', value: { MINIO_SECRET_KEY: 'cm-op-7', BUCKET: 'models' } }] };
    const [p] = normalizeAudit(patch, ctx({ keepRaw: true })).events;
    expect((p!.raw as Obj).requestObject).toEqual([{ op: 'add', path: '/data/HF_TOKEN', value: '[redacted]' }, { op: 'add', path: '/data/REGION', value: 'eu-west-1' }, { op: 'replace', path: '/data', value: { MINIO_SECRET_KEY: '[redacted]', BUCKET: 'models' } }]);
  });

  it('a ConfigMap file holding a PEM private key under a key no secret name reads (tls.key): the key body is hidden, its armour stays', () => {
    const cm = {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'serving-tls' },
      data: {
        'tls.key': '-----BEGIN PRIVATE KEY-----\nMIIEvQcm-pem-1\n-----END PRIVATE KEY-----\n',
      },
    };
    const [out] = normalizeAudit(created('configmaps', undefined, cm), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/cm-pem-1/);
    expect((out!.raw as Obj).requestObject.data).toEqual({
      'tls.key': '-----BEGIN PRIVATE KEY-----[redacted]-----END PRIVATE KEY-----\n',
    });
  });

  it('a ConfigMap YAML file with a block scalar under a secret-named key (password: |): its lines are hidden, the neighbouring keys stay', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: { 'app.yaml': 'image: nginx:1.25\ndatabase:\n  password: |\n    cm-blk-2\n  port: 5432\n' } };
    const [out] = normalizeAudit(created('configmaps', undefined, cm), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/cm-blk-2/);
    expect((out!.raw as Obj).requestObject.data).toEqual({ 'app.yaml': 'image: nginx:1.25\ndatabase:\n  password: |\n    [redacted]\n  port: 5432\n' });
  });

  it("a ConfigMap holding a docker config.json (auths.<registry>.auth) and the same in kubectl's last-applied JSON: the auth is hidden, registries stay", () => {
    const docker = JSON.stringify({ auths: { 'registry.example.com': { auth: 'cm-dock-1' } } }, null, 2);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'regcfg', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: { 'config.json': docker } }) } }, data: { 'config.json': docker } };
    const [out] = normalizeAudit(created('configmaps', undefined, cm), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/cm-dock-1/);
    expect((out!.raw as Obj).requestObject.data).toEqual({ 'config.json': JSON.stringify({ auths: { 'registry.example.com': { auth: '[redacted]' } } }, null, 2) });
  });

  it('a ConfigMap YAML file with a secret-named key whose value is on the next line, and a JSON file holding such YAML (escaped): the values are hidden, the rest stays', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: {
      'app.yaml': 'database:\n  password:\n    cm-next-1\n  port: 5432\n',
      'settings.json': JSON.stringify({ pipeline: { config: 'db:\n  token: |\n    cm-esc-2\n  port: 5432\n' } }, null, 2),
    } };
    const [out] = normalizeAudit(created('configmaps', undefined, cm), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/cm-next-1|cm-esc-2/);
    expect((out!.raw as Obj).requestObject.data).toEqual({
      'app.yaml': 'database:\n  password:\n    [redacted]\n  port: 5432\n',
      'settings.json': JSON.stringify({ pipeline: { config: 'db:\n  token: |\n    [redacted]\n  port: 5432\n' } }, null, 2),
    });
  });

  it('a ConfigMap file stored base64 (binaryData, or encoded under data): hidden whole when its decoded text holds a secret; binary and harmless files stay as sent', () => {
    const b64 = (x: string | Uint8Array) => Buffer.from(x).toString('base64');
    const png = b64(new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82]));
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' },
      binaryData: { 'app.env': b64('DB_PASSWORD=cm-bin-1\nHOST=db\n'), 'logo.png': png, 'hosts.txt': b64('db 10.0.0.5\n') },
      data: { '.env': b64('HF_TOKEN=cm-b64-2\n'), 'app.properties': b64('db.password=cm-b64-3\n'), PORT: '8080' } };
    const [out] = normalizeAudit(created('configmaps', undefined, cm), ctx({ keepRaw: true })).events;
    const raw = (out!.raw as Obj).requestObject;
    expect(raw.binaryData).toEqual({ 'app.env': '[redacted]', 'logo.png': png, 'hosts.txt': b64('db 10.0.0.5\n') });
    expect(raw.data).toEqual({ '.env': '[redacted]', 'app.properties': '[redacted]', PORT: '8080' });
    expect(out!.details?.raw_redacted).toEqual(['requestObject.binaryData.app.env', 'requestObject.data..env', 'requestObject.data.app.properties']);
  });

  it('a KFP inline component passing a password positionally (auth=(u, pw), smtplib login, pymysql.connect): the literals are hidden in raw, the code stays', () => {
    const src = 'def notify():\n    requests.post(u, auth=("svc", "kfp-pos-1"))\n    s.login("alerts", "kfp-pos-2")\n    db = pymysql.connect("db", "etl", "kfp-pos-3")\n';
    const wf = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'notify' }, spec: { templates: [{ name: 'kfp', container: { image: 'python:3.11', command: ['sh', '-ec', 'python3 -m kfp.dsl.executor_main', src] } }] } };
    const [out] = normalizeAudit(created('workflows', 'argoproj.io', wf), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/kfp-pos-\d/);
    expect((out!.raw as Obj).requestObject.spec.templates[0].container.command[3]).toBe('def notify():\n    requests.post(u, auth=("svc", "[redacted]"))\n    s.login("alerts", "[redacted]")\n    db = pymysql.connect("db", "etl", "[redacted]")\n');
  });

  it('a KFP inline component setting a token with os.environ.setdefault and an Authorization header in a dict: both values hidden in raw, the code stays', () => {
    const src = 'def pull():\n    os.environ.setdefault("HF_TOKEN", "kfp-env-1")\n    requests.get(u, headers={"Authorization": "Bearer kfp-hdr-2"})\n';
    const wf = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'pull' }, spec: { templates: [{ name: 'kfp', container: { image: 'python:3.11', command: ['sh', '-ec', 'python3 -m kfp.dsl.executor_main', src] } }] } };
    const [out] = normalizeAudit(created('workflows', 'argoproj.io', wf), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/kfp-env-1|kfp-hdr-2/);
    expect((out!.raw as Obj).requestObject.spec.templates[0].container.command[3]).toBe('def pull():\n    os.environ.setdefault("HF_TOKEN", "[redacted]")\n    requests.get(u, headers={"Authorization": "Bearer [redacted]"})\n');
  });

  it('an Argo script template and a KFP inline component: secret assignments and URL passwords in the script text are hidden, the rest of the code stays', () => {
    const wf = {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'train' },
      spec: { templates: [
        { name: 'py', script: { image: 'python:3.11', command: ['python'], source: 'import os\npassword = "wf-py-1"\nuri = "postgresql://u:wf-url-2@db/x"\nprint(uri)\n' } },
        { name: 'sh', script: { image: 'alpine:3.20', command: ['sh'], source: 'export AWS_SECRET_ACCESS_KEY=wf-sh-3\nmysql -uroot -pwf-my-4 db < dump.sql\n' } },
        { name: 'kfp', container: { image: 'python:3.11', command: ['sh', '-ec', 'python3 -m kfp.dsl.executor_main', 'def train():\n    api_key = "wf-kfp-5"\n    return 1\n'] } },
      ] },
    };
    const [out] = normalizeAudit(created('workflows', 'argoproj.io', wf), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/wf-(py-1|url-2|sh-3|my-4|kfp-5)/);
    const t = (out!.raw as Obj).requestObject.spec.templates;
    expect(t[0].script.source).toBe('import os\npassword = "[redacted]"\nuri = "postgresql://[redacted]@db/x"\nprint(uri)\n');
    expect(t[1].script.source).toBe('export AWS_SECRET_ACCESS_KEY=[redacted]\nmysql -uroot -p[redacted] db < dump.sql\n');
    expect(t[2].container.command[3]).toBe('def train():\n    api_key = "[redacted]"\n    return 1\n');
  });

  it('-pPASS of a MySQL client in args (after the command, or the image) and an exec; docker -u uid:gid, ports and image names stay', () => {
    const ev = structuredClone(AUDIT);
    ev.requestObject.spec.containers = [
      { name: 'dump', image: 'alpine:3.20', command: ['mysqldump'], args: ['-h', 'db', '-uroot', '-pmy-arg-1', 'mlflow'] },
      { name: 'cli', image: 'docker.io/library/mysql:8.4', args: ['-pmy-img-2', '-P3306'] },
      { name: 'dind', image: 'docker:27', command: ['docker'], args: ['run', '-u', '1000:1000', '-p', '8080:80', 'registry.local:5000/scorer@sha256:abcd'] },
    ];
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/my-arg-1|my-img-2/);
    const c = (out!.raw as Obj).requestObject.spec.containers;
    expect(c.map((x: Obj) => x.args)).toEqual([['-h', 'db', '-uroot', '-p[redacted]', 'mlflow'], ['-p[redacted]', '-P3306'], ['run', '-u', '1000:1000', '-p', '8080:80', 'registry.local:5000/scorer@sha256:abcd']]);

    const exec = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_exec_pod.json');
    exec.requestURI = `${exec.requestURI.slice(0, exec.requestURI.indexOf('?'))}?command=mysql&command=-uroot&command=-pmy-exec-3&command=docker&command=exec&command=-u&command=1000%3A1000&container=nginx1`;
    const [e] = normalizeAudit(exec, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(e)).not.toMatch(/my-exec-3/);
    expect(e!.details?.exec_command).toEqual(['mysql', '-uroot', '-p[redacted]', 'docker', 'exec', '-u', '1000:1000']);
  });
  it('env naming a place or an endpoint keeps its value (SECRET_NAME, HF_TOKEN_FILE: /path, OAUTH_TOKEN_URL with its user-info hidden); a token given under a *_FILE name is hidden', () => {
    const ev = structuredClone(AUDIT);
    ev.requestObject.spec.containers[0].env = [
      { name: 'OAUTH_TOKEN_URL', value: 'https://svc:env-url-pw-1@idp.example.com/oauth2/token' },
      { name: 'SECRET_NAME', value: 'db-creds' },
      { name: 'HF_TOKEN_FILE', value: '/var/run/secrets/hf/token' },
      { name: 'GITHUB_TOKEN_FILE', value: 'ghp_envfile2' },
      { name: 'HF_TOKEN', value: 'hf_env3' },
    ];
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/env-url-pw-1|ghp_envfile2|hf_env3/);
    expect((out!.raw as Obj).requestObject.spec.containers[0].env.map((e: Obj) => e.value)).toEqual(['https://[redacted]@idp.example.com/oauth2/token', 'db-creds', '/var/run/secrets/hf/token', '[redacted]', '[redacted]']);
  });
  it('-p of a MySQL tool named by the container command whatever the image (myorg/tools:1): mysql -pX glued, mycli / mydumper -p X; an exec of mydumper; other tools keep -p', () => {
    const ev = structuredClone(AUDIT);
    ev.requestObject.spec.containers = [
      { name: 'cli', image: 'myorg/tools:1', command: ['mysql'], args: ['-uroot', '-pmy-tool-arg-1', 'mlflow'] },
      { name: 'dump', image: 'myorg/tools:1', command: ['/usr/local/bin/mydumper'], args: ['-u', 'root', '-p', 'my-tool-arg-2', '-B', 'mlflow'] },
      { name: 'shell', image: 'myorg/tools:1', command: ['mycli'], args: ['--pass', 'my-tool-arg-3', 'mlflow'] },
      { name: 'perf', image: 'myorg/tools:1', command: ['iperf3'], args: ['-c', 'h', '-p', '5201'] },
    ];
    const [out] = normalizeAudit(ev, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/my-tool-arg-\d/);
    expect((out!.raw as Obj).requestObject.spec.containers.map((c: Obj) => c.args)).toEqual([['-uroot', '-p[redacted]', 'mlflow'], ['-u', 'root', '-p', '[redacted]', '-B', 'mlflow'], ['--pass', '[redacted]', 'mlflow'], ['-c', 'h', '-p', '5201']]);

    const exec = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_exec_pod.json');
    exec.requestURI = `${exec.requestURI.slice(0, exec.requestURI.indexOf('?'))}?command=mydumper&command=-p&command=my-tool-exec-4&command=-B&command=x&container=nginx1`;
    const [e] = normalizeAudit(exec, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(e)).not.toMatch(/my-tool-exec-4/);
    expect(e!.details?.exec_command).toEqual(['mydumper', '-p', '[redacted]', '-B', 'x']);
  });
});
