import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { vertexConnector } from '../../../connectors/vertex/index.js';
import { signer, writeJwks } from './harness.js';

describe('vertex configuration', () => {
  it('maps the environment variables onto connectors.vertex', () => {
    const cfg = loadConfig({
      env: {
        MLTRAIL_PUBSUB_AUDIENCE: 'https://mltrail.example.com/v1/ingest/vertex/pubsub',
        MLTRAIL_PUBSUB_SERVICE_ACCOUNTS: 'push@p.iam.gserviceaccount.com, push2@p.iam.gserviceaccount.com',
        MLTRAIL_GOOGLE_JWKS: 'https://keys.example.com/oauth2/v3/certs',
        MLTRAIL_PUBSUB_SUBSCRIPTION: 'projects/p/subscriptions/mltrail-vertex',
      },
    });
    const v = (cfg.connectors as Record<string, any>).vertex;
    expect(v.push).toMatchObject({
      audience: 'https://mltrail.example.com/v1/ingest/vertex/pubsub',
      service_accounts: ['push@p.iam.gserviceaccount.com', 'push2@p.iam.gserviceaccount.com'],
      jwks: 'https://keys.example.com/oauth2/v3/certs',
    });
    expect(v.pull).toMatchObject({ subscription: 'projects/p/subscriptions/mltrail-vertex', max_messages: 100 });
    expect(v.approval_aliases).toEqual(['production', 'champion']);
  });

  it('a JWKS file is checked at start: missing, not JSON, or another scheme is a config error naming the variable', () => {
    const good = writeJwks([signer().jwk]);
    expect(() => loadConfig({ env: { MLTRAIL_GOOGLE_JWKS: good } })).not.toThrow();
    expect(() => loadConfig({ env: { MLTRAIL_GOOGLE_JWKS: `file://${good}` } })).not.toThrow();
    const bad = join(dirname(good), 'broken.json');
    writeFileSync(bad, '{"keys": [');
    for (const [value, why] of [['/nonexistent/jwks.json', /ENOENT/], [bad, /not JSON/], ['ftp://keys.example.com/jwks', /expected an http\(s\) URL or a file/]] as const) {
      expect(() => loadConfig({ env: { MLTRAIL_GOOGLE_JWKS: value } }), value).toThrow(/connectors\.vertex\.push\.jwks: .*\(from environment variable MLTRAIL_GOOGLE_JWKS\)/);
      expect(() => loadConfig({ env: { MLTRAIL_GOOGLE_JWKS: value } }), value).toThrow(why);
    }
  });

  it('accepts {} and names the key of a bad subscription name', () => {
    expect(vertexConnector.configSchema.safeParse({}).success).toBe(true);
    expect(() => loadConfig({ env: { MLTRAIL_PUBSUB_SUBSCRIPTION: 'mltrail-vertex' } })).toThrow(/connectors\.vertex\.pull\.subscription.*projects\/PROJECT\/subscriptions\/NAME/);
    expect(vertexConnector.configSchema.safeParse({ push: { audiense: 'x' } }).success).toBe(false);
  });

  it('allowed_domains takes email domains, and names the key of one that is not', () => {
    expect(vertexConnector.configSchema.parse({ allowed_domains: ['corp.example', '@eu.corp.example'] }).allowed_domains).toEqual(['corp.example', '@eu.corp.example']);
    expect(vertexConnector.configSchema.parse({}).allowed_domains).toEqual([]);
    const bad = vertexConnector.configSchema.safeParse({ allowed_domains: ['user:bob@corp.example'] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/allowed_domains.*expected an email domain such as corp\.example/);
  });
});
