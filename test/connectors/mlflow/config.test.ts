import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';

describe('connectors.mlflow config', () => {
  it('accepts {} with safe defaults', () => {
    const c = MlflowConfig.parse({});
    expect(c.webhook_secrets).toEqual([]);
    expect(c.timestamp_window_s).toBe(300);
    expect(c.approval.aliases).toEqual(['champion', 'production']);
    expect(c.approval.tags).toEqual(['approval_status', 'approved']);
    expect(c.poll.tracking_uri).toBeUndefined();
    expect(c.poll.verify_interval_s).toBe(3600);
  });

  it('maps the environment (MLflow client variables included)', () => {
    const cfg = loadConfig({
      env: {
        MLTRAIL_MLFLOW_WEBHOOK_SECRET: 'new-secret, old-secret',
        MLFLOW_TRACKING_URI: 'https://mlflow.internal:5000/',
        MLFLOW_TRACKING_USERNAME: 'auditor',
        MLFLOW_TRACKING_PASSWORD: 'pw',
        MLTRAIL_MLFLOW_POLL_S: '120',
        MLTRAIL_MLFLOW_VERIFY_S: '900',
      },
    });
    const m = cfg.connectors.mlflow as MlflowConfig;
    expect(m.webhook_secrets).toEqual(['new-secret', 'old-secret']);
    expect(m.poll).toMatchObject({ tracking_uri: 'https://mlflow.internal:5000', username: 'auditor', password: 'pw', interval_s: 120, verify_interval_s: 900 });
  });

  it('a non-HTTP MLFLOW_TRACKING_URI (file:, databricks) does not enable the auditor nor break the config', () => {
    const cfg = loadConfig({ env: { MLFLOW_TRACKING_URI: 'file:./mlruns', MLFLOW_TRACKING_TOKEN: 't' } });
    expect((cfg.connectors.mlflow as MlflowConfig).poll.tracking_uri).toBeUndefined();
  });

  it('rejects unknown keys and bad values with the key path', () => {
    expect(() => MlflowConfig.parse({ webhook_secret: 'x' })).toThrow(/webhook_secret/);
    expect(() => MlflowConfig.parse({ poll: { tracking_uri: 'ftp://x' } })).toThrow();
  });
});
