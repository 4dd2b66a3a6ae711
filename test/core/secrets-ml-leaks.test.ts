import { describe, expect, it } from 'vitest';
import { normalizeAudit } from '../../connectors/kubeflow/audit.js';
import { ModelVersion, Run } from '../../connectors/mlflow/client.js';
import { runEvents } from '../../connectors/mlflow/provenance.js';
import { versionSnap } from '../../connectors/mlflow/snapshot.js';
import { redactArgv, redactFreeText, redactScriptText, redactSecretText } from '../../core/secrets.js';
import { readFixtureJson } from '../helpers/fixtures.js';
import { sinkBody } from '../helpers/sink-body.js';
import { ctx as kfCtx } from '../connectors/kubeflow/helpers.js';
import { fx, normOne } from '../connectors/sagemaker/helpers.js';

type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const TEXT_RULES = [redactSecretText, redactScriptText, redactFreeText] as const;

/**
 * redact11: shapes common in ML scripts and configs that leaked — MLflow run params, MLflow / W&B calls, a registry
 * login's `-p`, Spark's Azure account key settings, Azure SAS and Service Bus connection strings, cookie headers, a
 * `--header=` argument. End to end: record → normalize → spool → file sink line.
 */
describe('core/secrets: ML script and config leaks (redact11)', () => {
  it('an MLflow run\'s params (ml.job.params of the registry auditor\'s provenance event) hide secret-named values and URL user-info', async () => {
    const t = Date.parse('2026-10-01T03:00:00Z');
    const mv = ModelVersion.parse({ name: 'fraud', version: '3', creation_timestamp: t + 60_000, run_id: 'run3', source: 's3://mlflow-artifacts/1/run3/artifacts/model', user_id: 'ci@corp.example' });
    const run = Run.parse({
      info: { run_id: 'run3', run_name: 'calm-owl', experiment_id: '1', user_id: 'ci@corp.example', status: 'FINISHED', start_time: t - 600_000, end_time: t, artifact_uri: 's3://mlflow-artifacts/1/run3/artifacts' },
      data: {
        tags: [{ key: 'mlflow.user', value: 'ci@corp.example' }],
        params: [
          { key: 'hf_token', value: 'hf_r11param1abcdef' },
          { key: 'db_url', value: 'postgresql://trainer:r11param2@db.internal/features' },
          { key: 'learning_rate', value: '0.001' },
          { key: 'max_tokens', value: '512' },
          { key: 'config', value: '{"api_key": "r11param3", "epochs": 3}' },
        ],
      },
    });
    const ev = runEvents(versionSnap(mv), run, t + 120_000, new Date(t + 120_000).toISOString()).find((e) => e.action === 'run.provenance')!;
    const { text, docs } = await sinkBody([ev]);
    expect(text).not.toMatch(/r11param\d/);
    expect(docs[0]!.ml.job.params).toEqual({ hf_token: '[redacted]', db_url: 'postgresql://[redacted]@db.internal/features', learning_rate: '0.001', max_tokens: '512', config: '{"api_key":"[redacted]","epochs":3}' });
  });

  it('a notebook or pipeline script in a ConfigMap: MLflow and W&B calls, docker login -p, Spark\'s Azure key, SAS and Service Bus strings, a cookie header', async () => {
    const script = [
      'mlflow.log_param("hf_token", "r11-ml-1")',
      'client.set_tag(run.info.run_id, "api_key", "r11-ml-2")',
      'mlflow.set_tag("team", "fraud")',
      'wandb.login(key="r11wandb3abcdef0123456789")',
      'spark.conf.set("fs.azure.account.key.mlacct.dfs.core.windows.net", "r11AzureKey4==")',
      'os.system("docker login -u AWS -p r11-ecr-5 111122223333.dkr.ecr.us-east-1.amazonaws.com")',
      'os.system("docker run -p 8080:80 serve:1")',
      'os.system("aws ecr get-login-password | docker login -u AWS --password-stdin 111122223333.dkr.ecr.us-east-1.amazonaws.com")',
      'BLOB = "BlobEndpoint=https://mlacct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&sig=r11sas6%3D"',
      'BUS = "Endpoint=sb://ml.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=r11bus7="',
      'os.system(\'curl -H "Cookie: session=r11-cookie-8; csrf=r11-cookie-9" https://mlflow.internal/api\')',
      '',
    ].join('\n');
    const ev = structuredClone(AUDIT);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nb-setup', namespace: 'ml' }, data: { 'setup.py': script } };
    const out = normalizeAudit({ ...ev, objectRef: { resource: 'configmaps', namespace: 'ml', name: 'nb-setup', apiVersion: 'v1' }, requestObject: cm, responseObject: undefined }, kfCtx({ keepRaw: true }));
    const { text, docs } = await sinkBody(out.events);
    expect(text).not.toMatch(/r11-ml-\d|r11wandb3|r11AzureKey4|r11-ecr-5|r11sas6|r11bus7|r11-cookie-\d/);
    expect(docs[0]!.raw.requestObject.data['setup.py']).toBe([
      'mlflow.log_param("hf_token", "[redacted]")',
      'client.set_tag(run.info.run_id, "api_key", "[redacted]")',
      'mlflow.set_tag("team", "fraud")',
      'wandb.login(key="[redacted]")',
      'spark.conf.set("fs.azure.account.key.mlacct.dfs.core.windows.net", "[redacted]")',
      'os.system("docker login -u AWS -p [redacted] 111122223333.dkr.ecr.us-east-1.amazonaws.com")',
      'os.system("docker run -p 8080:80 serve:1")',
      'os.system("aws ecr get-login-password | docker login -u AWS --password-stdin 111122223333.dkr.ecr.us-east-1.amazonaws.com")',
      'BLOB = "BlobEndpoint=https://mlacct.blob.core.windows.net/;SharedAccessSignature=[redacted]"',
      'BUS = "Endpoint=sb://ml.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[redacted]"',
      'os.system(\'curl -H "Cookie: [redacted]" https://mlflow.internal/api\')',
      '',
    ].join('\n'));
  });

  it('a SageMaker job (the real CreateTrainingJob record): a --header= argument, Spark and SAS settings in the environment, a GCP key\'s id kept', async () => {
    const record = structuredClone(fx<Obj>('cloudtrail-sagemaker-createtrainingjob.real.json'));
    record.requestParameters.algorithmSpecification.containerArguments = ['-m', 'pipeline.omniasr_train', '--header=Authorization: Bearer r11hdr1', '--hf-token=hf_r11arg2abcdef'];
    Object.assign(record.requestParameters.environment, {
      SPARK_CONF: '--conf spark.hadoop.fs.azure.account.key.mlacct.dfs.core.windows.net=r11spark3',
      STORAGE_CONN: 'BlobEndpoint=https://mlacct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sig=r11sas4',
      GCP_SA: '{"type": "service_account", "private_key_id": "0123456789abcdef0123456789abcdef01234567", "private_key": "-----BEGIN PRIVATE KEY-----\\nr11pem5\\n-----END PRIVATE KEY-----\\n", "client_email": "trainer@proj.iam.gserviceaccount.com"}',
    });
    const { text, docs } = await sinkBody([normOne(record)]);
    expect(text).not.toMatch(/r11hdr1|hf_r11arg2|r11spark3|r11sas4|r11pem5/);
    const raw = docs[0]!.raw.requestParameters;
    expect(raw.algorithmSpecification.containerArguments).toEqual(['-m', 'pipeline.omniasr_train', '--header=Authorization: Bearer [redacted]', '--hf-token=[redacted]']);
    expect(raw.environment.SPARK_CONF).toBe('--conf spark.hadoop.fs.azure.account.key.mlacct.dfs.core.windows.net=[redacted]');
    expect(raw.environment.STORAGE_CONN).toBe('BlobEndpoint=https://mlacct.blob.core.windows.net/;SharedAccessSignature=[redacted]');
    expect(JSON.parse(raw.environment.GCP_SA)).toEqual({ type: 'service_account', private_key_id: '0123456789abcdef0123456789abcdef01234567', private_key: '[redacted]', client_email: 'trainer@proj.iam.gserviceaccount.com' });
  });

  it('what these rules keep: names, non-secret tags and params, a port, a registry, a cookie\'s name key', () => {
    for (const keep of ['mlflow.log_param("lr", "0.1")', 'docker run -p 8080:80 img', 'docker login --password-stdin -u AWS reg.example.com', 'cookie_name: sid', 'cookie: {name: sid, secure: true}', 'SharedAccessKeyName=RootManageSharedAccessKey'])
      for (const f of TEXT_RULES) expect(f(keep)).toBe(keep);
    expect(redactArgv(['login', '--password-stdin', 'reg.example.com']).argv).toEqual(['login', '--password-stdin', 'reg.example.com']);
  });
});
