import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { spawnBridge, tmpDir } from '../../helpers/bridge.js';
import { AUDIENCE, PUSH_SA, signer, writeJwks } from './harness.js';
import { startFakeSubscriber } from './pubsub-fake.js';
import { LOC, V1, auditEntry } from './samples.js';
import { waitFor as until } from '../../helpers/wait.js';

const SUB = 'projects/ml-prod-123/subscriptions/mltrail-vertex-pull';

describe('mltrail serve with the Vertex connector (built CLI, env configuration only)', () => {
  it('push and pull both land in the file sink; /readyz shows the pull subscriber; SIGTERM stops cleanly', async () => {
    const key = signer('bridge-kid');
    const pulled = auditEntry({ method: `${V1}PipelineService.CreatePipelineJob`, resourceName: LOC, insertId: 'e2e-pull' });
    const fake = await startFakeSubscriber(SUB, [{ messageId: '5001', data: Buffer.from(JSON.stringify(pulled)) }]);
    const dataDir = tmpDir('mltrail-vertex-e2e-');
    const bridge = await spawnBridge({
      dataDir,
      env: {
        MLTRAIL_PUBSUB_AUDIENCE: AUDIENCE,
        MLTRAIL_PUBSUB_SERVICE_ACCOUNTS: PUSH_SA,
        MLTRAIL_GOOGLE_JWKS: writeJwks([key.jwk]),
        MLTRAIL_PUBSUB_SUBSCRIPTION: SUB,
        PUBSUB_EMULATOR_HOST: fake.endpoint,
      },
    });
    try {
      const pushed = auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: `${LOC}/endpoints/1`, insertId: 'e2e-push' });
      const res = await fetch(`${bridge.url}/v1/ingest/vertex/pubsub`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.mint()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(pushed)).toString('base64'), messageId: '1' }, subscription: 'projects/ml-prod-123/subscriptions/push' }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, quarantined: 0 });
      await until(() => fake.ackedMessages().includes('5001'));
      const out = join(dataDir, 'out', 'events.ndjson');
      const lines = await until(() => {
        if (!existsSync(out)) return undefined;
        const l = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((x) => JSON.parse(x) as Record<string, any>);
        return l.length >= 2 ? l : undefined;
      });
      expect(lines.map((e) => [e.channel, e.action]).sort()).toEqual([
        ['vertex.pubsub_pull', 'pipeline_run.create'],
        ['vertex.pubsub_push', 'endpoint.deploy'],
      ]);
      const ready = (await (await fetch(`${bridge.url}/readyz`)).json()) as Record<string, any>;
      expect(ready.components['poller:vertex.pubsub_pull']).toMatchObject({ state: 'healthy' });
      const unauth = await fetch(`${bridge.url}/v1/ingest/vertex/pubsub`, { method: 'POST', body: '{}' });
      expect(unauth.status).toBe(401);
    } finally {
      bridge.proc.kill('SIGTERM');
      expect(await bridge.exited).toBe(0);
      await fake.close();
    }
  }, 40_000);
});
