/**
 * Deterministic generator of a mixed native workload (fixed seed): SageMaker
 * CloudTrail records, MLflow webhook deliveries, Vertex AI audit LogEntries and
 * Kubernetes audit events, shaped like the real ones and of realistic size.
 */

/** mulberry32: small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const MODELS = ['fraud-detector', 'churn', 'ranker', 'embedder', 'pricing'];
const SM_OPS = ['CreateTrainingJob', 'CreateEndpoint', 'UpdateEndpoint', 'CreateModelPackage', 'UpdateModelPackage', 'DescribeTrainingJob', 'CreateProcessingJob'];
const VX_METHODS = [
  'google.cloud.aiplatform.v1.JobService.CreateCustomJob',
  'google.cloud.aiplatform.v1.ModelService.UploadModel',
  'google.cloud.aiplatform.v1.EndpointService.DeployModel',
  'google.cloud.aiplatform.v1.ModelService.MergeVersionAliases',
  'google.cloud.aiplatform.v1.DatasetService.ImportData',
];

function hex(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

function uuid(r: () => number): string {
  const h = hex(r, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface NativeRecord {
  platform: 'sagemaker' | 'mlflow' | 'vertex' | 'kubeflow';
  record: unknown;
}

function sagemaker(r: () => number, t: Date): unknown {
  const user = USERS[Math.floor(r() * USERS.length)]!;
  const op = SM_OPS[Math.floor(r() * SM_OPS.length)]!;
  const job = `train-${hex(r, 8)}`;
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE${hex(r, 6).toUpperCase()}:${user}`,
      arn: `arn:aws:sts::123456789012:assumed-role/MLEngineer/${user}`,
      accountId: '123456789012',
      accessKeyId: `ASIA${hex(r, 16).toUpperCase()}`,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: 'arn:aws:iam::123456789012:role/MLEngineer', accountId: '123456789012', userName: 'MLEngineer' },
        attributes: { creationDate: t.toISOString(), mfaAuthenticated: 'false' },
      },
    },
    eventTime: t.toISOString().replace(/\.\d+Z$/, 'Z'),
    eventSource: 'sagemaker.amazonaws.com',
    eventName: op,
    awsRegion: 'us-east-1',
    sourceIPAddress: `10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
    userAgent: 'aws-sdk-python/1.34.0 Python/3.11 Linux botocore/1.34.0',
    requestParameters: {
      trainingJobName: job,
      algorithmSpecification: { trainingImage: `123456789012.dkr.ecr.us-east-1.amazonaws.com/train:${r() < 0.5 ? 'latest' : `sha-${hex(r, 7)}`}`, trainingInputMode: 'File' },
      roleArn: 'arn:aws:iam::123456789012:role/SageMakerExecution',
      inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: `s3://ml-data/${job}/train/` } } }],
      outputDataConfig: { s3OutputPath: `s3://ml-models/${job}/` },
      resourceConfig: { instanceType: 'ml.m5.xlarge', instanceCount: 1, volumeSizeInGB: 50 },
      stoppingCondition: { maxRuntimeInSeconds: 86400 },
      enableNetworkIsolation: r() < 0.7,
    },
    responseElements: { trainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${job}` },
    requestID: uuid(r),
    eventID: uuid(r),
    readOnly: op.startsWith('Describe'),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '123456789012',
    eventCategory: 'Management',
  };
}

function mlflow(r: () => number, t: Date): unknown {
  const name = MODELS[Math.floor(r() * MODELS.length)]!;
  const version = String(1 + Math.floor(r() * 40));
  const kind = r();
  if (kind < 0.4) {
    return {
      entity: 'model_version',
      action: 'created',
      timestamp: t.toISOString(),
      data: { name, version, source: `models:/m-${hex(r, 32)}`, run_id: hex(r, 32), tags: { team: 'risk', framework: 'sklearn' }, description: 'nightly retrain' },
    };
  }
  if (kind < 0.7) {
    return { entity: 'model_version_tag', action: 'set', timestamp: t.toISOString(), data: { name, version, key: 'validation_status', value: r() < 0.5 ? 'passed' : 'pending' } };
  }
  return { entity: 'model_version_alias', action: 'created', timestamp: t.toISOString(), data: { name, alias: r() < 0.2 ? 'champion' : 'candidate', version } };
}

function vertex(r: () => number, t: Date): unknown {
  const method = VX_METHODS[Math.floor(r() * VX_METHODS.length)]!;
  const user = USERS[Math.floor(r() * USERS.length)]!;
  return {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      status: {},
      authenticationInfo: { principalEmail: `${user}@example.com` },
      requestMetadata: { callerIp: `203.0.113.${Math.floor(r() * 255)}`, callerSuppliedUserAgent: 'google-cloud-sdk gcloud/470.0.0' },
      serviceName: 'aiplatform.googleapis.com',
      methodName: method,
      authorizationInfo: [{ resource: 'projects/ml-prod/locations/us-central1', permission: 'aiplatform.customJobs.create', granted: true }],
      resourceName: `projects/ml-prod/locations/us-central1/customJobs/${Math.floor(r() * 1e12)}`,
      request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateCustomJobRequest', parent: 'projects/ml-prod/locations/us-central1' },
    },
    insertId: hex(r, 12),
    resource: { type: 'audited_resource', labels: { service: 'aiplatform.googleapis.com', method, project_id: 'ml-prod' } },
    timestamp: t.toISOString(),
    severity: 'NOTICE',
    logName: 'projects/ml-prod/logs/cloudaudit.googleapis.com%2Factivity',
    operation: { id: String(Math.floor(r() * 1e15)), producer: 'aiplatform.googleapis.com', first: true },
    receiveTimestamp: t.toISOString(),
  };
}

function kubeflow(r: () => number, t: Date): unknown {
  const user = USERS[Math.floor(r() * USERS.length)]!;
  const resource = r() < 0.5 ? 'pods' : r() < 0.5 ? 'workflows' : 'secrets';
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: uuid(r),
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/kubeflow-${user}/${resource}`,
    verb: resource === 'secrets' ? 'get' : 'create',
    user: { username: `${user}@example.com`, groups: ['system:authenticated'] },
    sourceIPs: [`10.1.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`],
    userAgent: 'kubectl/v1.30.0 (linux/amd64) kubernetes/abcdef',
    objectRef: { resource, namespace: `kubeflow-${user}`, name: `obj-${hex(r, 6)}`, apiVersion: resource === 'workflows' ? 'argoproj.io/v1alpha1' : 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestReceivedTimestamp: t.toISOString(),
    stageTimestamp: t.toISOString(),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed' },
  };
}

/**
 * `count` native records, mixed across platforms, in time order over `days`.
 *
 * @example
 * const records = generateWorkload(100_000, 42);
 */
export function generateWorkload(count: number, seed = 42, days = 30): NativeRecord[] {
  const r = prng(seed);
  const start = Date.UTC(2026, 9, 1);
  const step = (days * 86_400_000) / count;
  const out: NativeRecord[] = [];
  for (let i = 0; i < count; i++) {
    const t = new Date(start + i * step);
    const p = r();
    if (p < 0.35) out.push({ platform: 'sagemaker', record: sagemaker(r, t) });
    else if (p < 0.6) out.push({ platform: 'vertex', record: vertex(r, t) });
    else if (p < 0.8) out.push({ platform: 'kubeflow', record: kubeflow(r, t) });
    else out.push({ platform: 'mlflow', record: mlflow(r, t) });
  }
  return out;
}
