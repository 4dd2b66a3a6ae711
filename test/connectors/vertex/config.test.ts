import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { vertexConnector } from '../../../connectors/vertex/index.js';

describe('vertex configuration', () => {
  it('maps the environment variables onto connectors.vertex', () => {
    const cfg = loadConfig({
      env: {
        MLTRAIL_PUBSUB_AUDIENCE: 'https://mltrail.example.com/v1/ingest/vertex/pubsub',
        MLTRAIL_PUBSUB_SERVICE_ACCOUNTS: 'push@p.iam.gserviceaccount.com, push2@p.iam.gserviceaccount.com',
        MLTRAIL_GOOGLE_JWKS: '/etc/mltrail/jwks.json',
        MLTRAIL_PUBSUB_SUBSCRIPTION: 'projects/p/subscriptions/mltrail-vertex',
      },
    });
    const v = (cfg.connectors as Record<string, any>).vertex;
    expect(v.push).toMatchObject({
      audience: 'https://mltrail.example.com/v1/ingest/vertex/pubsub',
      service_accounts: ['push@p.iam.gserviceaccount.com', 'push2@p.iam.gserviceaccount.com'],
      jwks: '/etc/mltrail/jwks.json',
    });
    expect(v.pull).toMatchObject({ subscription: 'projects/p/subscriptions/mltrail-vertex', max_messages: 100 });
    expect(v.approval_aliases).toEqual(['default', 'production', 'champion']);
  });

  it('accepts {} and names the key of a bad subscription name', () => {
    expect(vertexConnector.configSchema.safeParse({}).success).toBe(true);
    expect(() => loadConfig({ env: { MLTRAIL_PUBSUB_SUBSCRIPTION: 'mltrail-vertex' } })).toThrow(/connectors\.vertex\.pull\.subscription.*projects\/PROJECT\/subscriptions\/NAME/);
    expect(vertexConnector.configSchema.safeParse({ push: { audiense: 'x' } }).success).toBe(false);
  });
});
