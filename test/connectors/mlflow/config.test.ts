import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { createLogger } from '../../../core/log.js';
import { Spool } from '../../../core/spool/index.js';

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

describe('connectors.mlflow: a tracking URI the auditor cannot use', () => {
  const warnings = (env: NodeJS.ProcessEnv) => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (s: string) => lines.push(s) } });
    const spool = Spool.open({ dir: ':memory:' });
    const parsed = loadConfig({ env }).connectors.mlflow as MlflowConfig;
    const deps: ConnectorDeps<MlflowConfig> = { config: parsed, ingest: new Ingestor(spool, logger), spool, logger, server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: ':memory:', keepRaw: false, env };
    const pollers = createMlflowConnector().pollers!(deps);
    spool.close();
    return { pollers, logs: lines.map((l) => JSON.parse(l) as { msg: string; code?: string; scheme?: string }) };
  };

  it.each([
    ['databricks', 'databricks'],
    ['sqlite:///mlflow.db', 'sqlite'],
    ['postgresql://mlflow:hunter2@db:5432/mlflow', 'postgresql'],
    ['./mlruns', 'a local path'],
  ])('MLFLOW_TRACKING_URI=%s: warns once that the auditor is off (naming only the scheme)', (uri, scheme) => {
    const { pollers, logs } = warnings({ MLFLOW_TRACKING_URI: uri });
    expect(pollers).toEqual([]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ code: 'MLTRAIL_ERR_CONFIG', scheme });
    expect(logs[0]!.msg).toMatch(/not an http\(s\):\/\/ MLflow tracking server: the registry auditor is off/);
    expect(JSON.stringify(logs)).not.toContain('hunter2');
  });

  it('an http(s) URI starts the auditor without a warning', () => {
    const { pollers, logs } = warnings({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' });
    expect(pollers).toHaveLength(1);
    expect(logs).toEqual([]);
  });

  it('a non-HTTP tracking_uri written in the config is a config error that says why', () => {
    expect(() => MlflowConfig.parse({ poll: { tracking_uri: 'databricks' } })).toThrow(/http\(s\):\/\/ URL of an MLflow tracking server/);
  });

  it('poll.static_prefix is a path as mlflow server --static-prefix takes it: starting with /, not ending with /', () => {
    expect(MlflowConfig.parse({ poll: { tracking_uri: 'https://h', static_prefix: '/mlflow' } }).poll.static_prefix).toBe('/mlflow');
    expect(MlflowConfig.parse({ servers: [{ id: 'team', poll: { tracking_uri: 'https://t', static_prefix: '/a/b' } }] }).servers[0]!.poll!.static_prefix).toBe('/a/b');
    for (const bad of ['mlflow', '/mlflow/', '/', '/m?x=1']) {
      expect(() => MlflowConfig.parse({ poll: { tracking_uri: 'https://h', static_prefix: bad } }), bad).toThrow(/--static-prefix/);
    }
  });
});
