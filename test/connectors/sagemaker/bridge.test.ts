import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../../../bridge/config.js';
import { startBridge, type Bridge } from '../../../bridge/runtime.js';
import { silentLogger } from '../../../core/log.js';
import { FakeAws } from './fake-aws.js';
import { ctRecord, cwlData } from './helpers.js';

/** The connector inside the real bridge, configured only by environment variables. */
describe('sagemaker connector in the running bridge (env-configured)', () => {
  let bridge: Bridge;
  let fake: FakeAws;
  let dir: string;

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKE0001';
    process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-key';
    process.env.AWS_REGION = 'us-east-1';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    fake = await new FakeAws().start();
    const q = fake.queueUrl('ct');
    const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T1010Z_cccccccccccccccc.json.gz';
    fake.putObject('trail', key, gzipSync(JSON.stringify({ Records: [ctRecord('CreateModel', { modelName: 'from-s3' }, { eventID: 'from-s3' })] })));
    fake.send('ct', { s3Bucket: 'trail', s3ObjectKey: [key] });
    dir = mkdtempSync(join(tmpdir(), 'mltrail-sm-bridge-'));
    const env = {
      MLTRAIL_DATA_DIR: dir,
      PORT: '0',
      MLTRAIL_FIREHOSE_ACCESS_KEY: 'fh-key',
      MLTRAIL_EVENTBRIDGE_API_KEY: 'eb-key',
      MLTRAIL_CLOUDTRAIL_SQS_URL: q,
      AWS_ENDPOINT_URL: fake.url,
    };
    bridge = await startBridge(loadConfig({ env }), { logger: silentLogger(), env });
  });

  afterAll(async () => {
    await bridge?.stop();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes Firehose, EventBridge and S3/SQS input and delivers the events to the sink', async () => {
    const fh = await fetch(`${bridge.url}/v1/ingest/sagemaker/firehose`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-firehose-request-id': 'r-1', 'x-amz-firehose-access-key': 'fh-key', 'x-amz-firehose-protocol-version': '1.0' },
      body: JSON.stringify({ requestId: 'r-1', timestamp: Date.now(), records: [{ data: cwlData([ctRecord('CreateEndpoint', { endpointName: 'ep' })]) }] }),
    });
    expect(fh.status).toBe(200);
    const eb = await fetch(`${bridge.url}/v1/ingest/sagemaker/eventbridge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-api-key': 'eb-key' },
      body: JSON.stringify({ version: '0', id: 'x', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.sagemaker', account: '111122223333', time: '2026-11-25T10:05:00Z', region: 'us-east-1', resources: [], detail: ctRecord('UpdateModelPackage', { modelPackageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/g/1', modelApprovalStatus: 'Approved' }) }),
    });
    expect(eb.status).toBe(200);

    const out = join(dir, 'out', 'events.ndjson');
    const end = Date.now() + 15_000;
    let ops: string[] = [];
    while (Date.now() < end) {
      ops = existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { operation: string }).operation) : [];
      if (ops.length >= 3 && fake.remaining('ct').length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(ops.sort()).toEqual(['CreateEndpoint', 'CreateModel', 'UpdateModelPackage']);
    expect(fake.remaining('ct')).toHaveLength(0);

    const ready = (await (await fetch(`${bridge.url}/readyz`)).json()) as { components: Record<string, { state: string }> };
    expect(ready.components['poller:sagemaker.cloudtrail_sqs']).toEqual({ state: 'healthy' });
  });
});
