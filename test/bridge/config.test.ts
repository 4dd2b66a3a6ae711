import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { MltrailError } from '../../core/errors.js';
import { tmpDir } from '../helpers/bridge.js';
import { CLI } from '../helpers/fixtures.js';

function yaml(text: string): string {
  const f = join(tmpDir(), 'mltrail.yaml');
  writeFileSync(f, text);
  return f;
}

function errorOf(fn: () => unknown): MltrailError {
  try {
    fn();
  } catch (e) {
    return e as MltrailError;
  }
  throw new Error('expected an error');
}

describe('config', () => {
  it('has working embedded defaults and the file sink when nothing is configured', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.server).toMatchObject({ host: '127.0.0.1', port: 8787 });
    expect(cfg.data_dir).toBe('./data');
    expect(cfg.sinks.map((s) => s.name)).toEqual(['file']);
    expect(cfg.pipeline).toEqual({ rules_thread: 'worker', sinks_thread: 'worker' });
  });

  it('an explicitly disabled file sink stays off: the default applies only when no sink is configured', () => {
    const cfg = loadConfig({ file: yaml('sinks:\n  file:\n    enabled: false\n'), env: {} });
    expect(cfg.sinks.map((s) => [s.name, s.config.enabled])).toEqual([['file', false]]);
    expect(loadConfig({ file: yaml('log:\n  level: warn\n'), env: {} }).sinks.map((s) => [s.name, s.config.enabled])).toEqual([['file', true]]);
  });

  it('two file sinks cannot share a directory (each would cut the other\'s lines at every start); their own paths are fine', () => {
    const both = errorOf(() => loadConfig({ file: yaml('sinks: { file: {}, file_ocsf: { type: file, format: ocsf } }\n'), env: { MLTRAIL_DATA_DIR: '/srv/ml' } }));
    expect(both.code).toBe('MLTRAIL_ERR_CONFIG');
    expect(both.message).toMatch(/sinks\.file_ocsf\.path: writes to \/srv\/ml\/out like sinks\.file: give each file sink its own path/);
    expect(errorOf(() => loadConfig({ file: yaml('sinks: { a: { type: file, path: /tmp/x/out }, b: { type: file, path: /tmp/x/./out/ } }\n'), env: {} })).message).toMatch(/sinks\.b\.path: .* like sinks\.a/);
    expect(loadConfig({ file: yaml('sinks: { file: {}, file_ocsf: { type: file, format: ocsf, path: /srv/ml/ocsf } }\n'), env: { MLTRAIL_DATA_DIR: '/srv/ml' } }).sinks).toHaveLength(2);
    // One directory under two names (a symlink) is one directory.
    const root = tmpDir();
    mkdirSync(join(root, 'real'));
    symlinkSync('real', join(root, 'link'));
    expect(errorOf(() => loadConfig({ file: yaml(`sinks: { a: { type: file, path: ${root}/real }, b: { type: file, path: ${root}/link } }\n`), env: {} })).message).toMatch(/sinks\.b\.path: .* like sinks\.a/);
    // Said in the same run as the file's other errors (it used to show only once those were fixed).
    const withOthers = errorOf(() => loadConfig({ file: yaml('log: { level: loud }\nsinks: { file: {}, file_ocsf: { type: file, format: ocsf } }\n'), env: { MLTRAIL_DATA_DIR: '/srv/ml' } }));
    expect(withOthers.message).toMatch(/log\.level: /);
    expect(withOthers.message).toMatch(/sinks\.file_ocsf\.path: writes to \/srv\/ml\/out like sinks\.file/);
    expect((withOthers.extra as { issues: string[] }).issues.at(-1)).toMatch(/^sinks\.file_ocsf\.path: /);
  });

  it('a sink route names real stages and platforms (a typo used to route nothing, silently)', () => {
    const e = errorOf(() => loadConfig({ file: yaml('sinks:\n  file:\n    route: { stages: [trainig], platforms: [sagemkaer] }\n'), env: {} }));
    expect(e.code).toBe('MLTRAIL_ERR_CONFIG');
    expect(e.message).toMatch(/sinks\.file\.route\.stages\.0: .*"training"/);
    expect(e.message).toMatch(/sinks\.file\.route\.platforms\.0: .*"sagemaker"/);
    expect(errorOf(() => loadConfig({ file: yaml('sinks:\n  file:\n    route: { kinds: [] }\n'), env: {} })).message).toMatch(/sinks\.file\.route\.kinds: name event, alert or both/);
    expect(errorOf(() => loadConfig({ file: yaml('sinks:\n  file:\n    retry: { initial_ms: 5000, max_ms: 1000 }\n'), env: {} })).message).toMatch(/sinks\.file\.retry\.initial_ms: initial_ms must not exceed max_ms/);
    expect(errorOf(() => loadConfig({ file: yaml('data_dir: ""\n'), env: {} })).message).toMatch(/data_dir: must name a directory/);
    const ok = loadConfig({ file: yaml('sinks:\n  file:\n    route: { stages: [training, platform], platforms: [sagemaker] }\n'), env: {} });
    expect((ok.sinks[0]!.config as { route: { stages: string[] } }).route.stages).toEqual(['training', 'platform']);
  });

  it('names the environment variable that caused a problem, and only that one', () => {
    // An unknown key in the file is the file's: PORT and MLTRAIL_LOG_LEVEL set other things.
    const e1 = errorOf(() => loadConfig({ file: yaml('bogus: 1\n'), env: { PORT: '43022', MLTRAIL_LOG_LEVEL: 'warn' } }));
    expect(e1.message).toMatch(/unknown key\(s\): bogus$/);
    // A token without its URL: the URL's variable is what to set.
    const e2 = errorOf(() => loadConfig({ env: { MLTRAIL_SPLUNK_HEC_TOKEN: 'tok' } }));
    expect(e2.message).toMatch(/sinks\.splunk_hec\.url: .*\(set environment variable MLTRAIL_SPLUNK_HEC_URL: MLTRAIL_SPLUNK_HEC_TOKEN configures this section\)/);
    expect(e2.message).not.toContain('tok ');
    // A bad flag is the command line's, even with the variable set too.
    expect(errorOf(() => loadConfig({ env: { PORT: '8080' }, overrides: { server: { port: 'abc' } } })).message).toMatch(/server\.port: .*\(from the command line\)$/);
  });

  it('pipeline.rules_thread is worker or main', () => {
    expect(loadConfig({ file: yaml('pipeline:\n  rules_thread: main\n'), env: {} }).pipeline.rules_thread).toBe('main');
    const e = errorOf(() => loadConfig({ file: yaml('pipeline:\n  rules_thread: gpu\n'), env: {} }));
    expect(e.message).toMatch(/pipeline\.rules_thread: .*"worker".*"main"/);
  });

  it('names the key path and what was expected', () => {
    const e1 = errorOf(() => loadConfig({ file: yaml('server:\n  port: "eighty"\n'), env: {} }));
    expect(e1.code).toBe('MLTRAIL_ERR_CONFIG');
    expect(e1.message).toMatch(/server\.port: .*number/i);
    const e2 = errorOf(() => loadConfig({ file: yaml('spool:\n  max_byte: 10\n'), env: {} }));
    expect(e2.message).toMatch(/spool: unknown key\(s\): max_byte/);
    const e3 = errorOf(() => loadConfig({ file: yaml('sinks:\n  file:\n    batch: { max_events: -1 }\n'), env: {} }));
    expect(e3.message).toMatch(/sinks\.file\.batch\.max_events/);
    const e4 = errorOf(() => loadConfig({ file: yaml('sinks:\n  mine:\n    type: nosuch\n'), env: {} }));
    expect(e4.message).toMatch(/sinks\.mine\.type: unknown sink type "nosuch"/);
    const e5 = errorOf(() => loadConfig({ file: yaml('server: [\n'), env: {} }));
    expect(e5.message).toMatch(/YAML error/);
    expect(e5.message).not.toMatch(/must be quoted/);
    // The README's ${VAR} in its { … } style: the error says to quote it; quoted, it works.
    const e6 = errorOf(() => loadConfig({ file: yaml('rules:\n  ingestion.volume_anomaly: { k: ${RULE_K} }\n'), env: { RULE_K: '4' } }));
    expect(e6.message).toContain('YAML error (a ${VAR} inside { … } must be quoted: k: "${VAR}")');
    expect(loadConfig({ file: yaml('rules:\n  ingestion.volume_anomaly: { k: "${RULE_K}" }\n'), env: { RULE_K: '4' } }).rules).toBeDefined();
  });

  it('${VAR} gives numbers and booleans where the schema wants them; a quoted number in the file stays an error', () => {
    const f = yaml('spool:\n  max_bytes: ${SMAX:-123456789}\nsinks:\n  file:\n    max_file_bytes: ${FMAX}\n    fsync: ${FSYNC:-false}\nconnectors:\n  kubeflow:\n    poll_interval_s: ${KF_POLL}\n');
    const cfg = loadConfig({ file: f, env: { FMAX: '2000000', KF_POLL: '30' } });
    expect(cfg.spool.max_bytes).toBe(123456789);
    const file = cfg.sinks.find((s) => s.name === 'file')!.config as unknown as { max_file_bytes: number; fsync: boolean };
    expect(file).toMatchObject({ max_file_bytes: 2000000, fsync: false });
    expect((cfg.connectors as any).kubeflow.poll_interval_s).toBe(30);
    // Text that is no number is still named as the error it is.
    expect(errorOf(() => loadConfig({ file: f, env: { FMAX: 'lots', KF_POLL: '30' } })).message).toMatch(/sinks\.file\.max_file_bytes/);
    expect(errorOf(() => loadConfig({ file: f, env: { FMAX: '0x10', KF_POLL: '30' } })).message).toMatch(/sinks\.file\.max_file_bytes/);
    expect(errorOf(() => loadConfig({ file: f, env: { FMAX: '', KF_POLL: '30' } })).message).toMatch(/environment variable FMAX is not set \(or empty\)/);
    expect(errorOf(() => loadConfig({ file: yaml('spool:\n  max_bytes: "5000"\n'), env: {} })).message).toMatch(/spool\.max_bytes/);
  });

  it('a section of the wrong kind is an error, never silently replaced by the environment\'s overrides', () => {
    // A list of sinks (a common slip: sinks are a map of name → settings) used to vanish under the
    // environment's (empty) sinks section, leaving only the default file sink and no error.
    const list = yaml('sinks:\n  - type: splunk_hec\n    url: https://splunk.example.com:8088\n');
    const e1 = errorOf(() => loadConfig({ file: list, env: {} }));
    expect(e1.message).toMatch(/sinks: expected a map of sink name → settings .*got a list/);
    expect(errorOf(() => loadConfig({ file: list, env: { MLTRAIL_SPLUNK_HEC_URL: 'https://h:8088', MLTRAIL_SPLUNK_HEC_TOKEN: 't' } })).message).toMatch(/sinks: .*got a list/);
    const e2 = errorOf(() => loadConfig({ file: yaml('server: [8080]\n'), env: { PORT: '7000' } }));
    expect(e2.message).toMatch(/server: .*object/i);
    // A bad value from the environment names its variable.
    expect(errorOf(() => loadConfig({ env: { PORT: 'eighty' } })).message).toMatch(/server\.port: .*\(from environment variable PORT\)/);
    expect(errorOf(() => loadConfig({ env: { MLTRAIL_LOG_LEVEL: 'loud' } })).message).toMatch(/log\.level: .*\(from environment variable MLTRAIL_LOG_LEVEL\)/);
    // …and so does a connector's or a sink's own variable.
    const env = { MLTRAIL_MLFLOW_POLL_S: 'abc', MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', HOME: '/root' };
    expect(errorOf(() => loadConfig({ env })).message).toMatch(/connectors\.mlflow\.poll\.interval_s: .*\(from environment variable MLTRAIL_MLFLOW_POLL_S\)$/);
    expect(errorOf(() => loadConfig({ env: { MLTRAIL_PUBSUB_SUBSCRIPTION: 'mysub' } })).message).toMatch(/connectors\.vertex\.pull\.subscription: .*\(from environment variable MLTRAIL_PUBSUB_SUBSCRIPTION\)$/);
    // A bad value from the file is not blamed on variables that set other keys (nearly every deployment sets the token).
    const fileErr = errorOf(() => loadConfig({ file: yaml('spool:\n  max_bytes: 0\n'), env: { MLTRAIL_INGEST_TOKEN: 'tok', PORT: '9000', MLTRAIL_SPLUNK_HEC_URL: 'https://h:8088', MLTRAIL_SPLUNK_HEC_TOKEN: 't' } }));
    expect(fileErr.message).toMatch(/spool\.max_bytes/);
    expect(fileErr.message).not.toMatch(/environment variable/);
    // A bad value from the file is not blamed on the environment.
    expect(errorOf(() => loadConfig({ file: yaml('connectors:\n  mlflow:\n    poll:\n      interval_s: abc\n'), env: { HOME: '/root' } })).message).not.toMatch(/environment variable/);
    // A bad value a ${VAR} in the file gave names that variable.
    expect(errorOf(() => loadConfig({ file: yaml('spool:\n  max_bytes: ${SPOOL_MAX:-1073741824}\n'), env: { SPOOL_MAX: 'abc' } })).message).toMatch(/spool\.max_bytes: .*\(from \$\{SPOOL_MAX\} in the file\)$/);
    expect(loadConfig({ file: yaml('spool:\n  max_bytes: ${SPOOL_MAX:-1073741824}\n'), env: {} }).spool.max_bytes).toBe(1073741824);
    // Numbers are numbers: a quoted number, a boolean or an empty/hex variable is an error, not 0, 1 or 8080.
    expect(errorOf(() => loadConfig({ file: yaml('connectors:\n  mlflow:\n    poll:\n      interval_s: "60"\n'), env: {} })).message).toMatch(/connectors\.mlflow\.poll\.interval_s: .*number/);
    expect(errorOf(() => loadConfig({ file: yaml('connectors:\n  mlflow:\n    poll:\n      interval_s: true\n'), env: {} })).message).toMatch(/connectors\.mlflow\.poll\.interval_s: .*number/);
    expect(errorOf(() => loadConfig({ file: yaml('server:\n  port: "8080"\n'), env: {} })).message).toMatch(/server\.port: .*number/);
    expect(errorOf(() => loadConfig({ env: { PORT: '0x1F90' } })).message).toMatch(/server\.port: .*\(from environment variable PORT\)/);
    expect(errorOf(() => loadConfig({ env: { MLTRAIL_MLFLOW_POLL_S: ' ', MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' } })).message).toMatch(/MLTRAIL_MLFLOW_POLL_S/);
    expect(loadConfig({ env: { MLTRAIL_MLFLOW_POLL_S: '30', MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' } }).connectors.mlflow).toMatchObject({ poll: { interval_s: 30 } });
    // An empty section is still filled from the environment.
    const empty = loadConfig({ file: yaml('sinks:\nserver:\n'), env: { PORT: '7000', MLTRAIL_SPLUNK_HEC_URL: 'https://h:8088', MLTRAIL_SPLUNK_HEC_TOKEN: 't' } });
    expect(empty.server.port).toBe(7000);
    expect(empty.sinks.map((x) => x.type)).toEqual(['splunk_hec']);
  });

  it('interpolates ${ENV} and ${ENV:-default}, and environment variables win over the file', () => {
    const f = yaml('server:\n  port: ${MY_PORT:-9000}\n  ingest_token: ${TOKEN}\ndata_dir: /from/file\n');
    const cfg = loadConfig({ file: f, env: { TOKEN: 'abc' } });
    expect(cfg.server.port).toBe(9000);
    expect(cfg.server.ingest_token).toBe('abc');
    expect(loadConfig({ file: f, env: { TOKEN: 'abc', MLTRAIL_DATA_DIR: '/from/env', PORT: '7000' } })).toMatchObject({
      data_dir: '/from/env',
      server: { port: 7000 },
    });
    const missing = errorOf(() => loadConfig({ file: f, env: {} }));
    expect(missing.message).toMatch(/server\.ingest_token: environment variable TOKEN is not set/);
    // A file path left unset is said as that, not as a file named "${TLS_CERT}" that cannot be read.
    const tls = errorOf(() => loadConfig({ file: yaml('server:\n  tls:\n    cert_file: ${TLS_CERT}\n    key_file: /etc/tls.key\n'), env: {} }));
    // The key file, missing too, is named in the same run (its own problem, whatever the certificate's).
    expect(tls.extra.issues).toEqual([expect.stringMatching(/^server\.tls\.cert_file: environment variable TLS_CERT is not set/), 'server.tls.key_file: cannot read /etc/tls.key: ENOENT']);
  });

  it('${VAR} in a list is interpolated too: an API key is never the literal placeholder (anyone could send it)', () => {
    const f = yaml('connectors:\n  sagemaker:\n    eventbridge:\n      api_keys: ["${EB_KEY}", "${EB_OLD:-older-key-1}"]\n');
    const cfg = loadConfig({ file: f, env: { EB_KEY: 'current-key-1' } });
    expect((cfg.connectors as any).sagemaker.eventbridge.api_keys).toEqual(['current-key-1', 'older-key-1']);
    // Unset, it is an error naming the list element and the variable, not a key spelled "${EB_KEY}".
    expect(errorOf(() => loadConfig({ file: f, env: {} })).message).toMatch(/connectors\.sagemaker\.eventbridge\.api_keys\.0: environment variable EB_KEY is not set/);
  });

  it('$${ is a literal ${ (a value that must contain one), not interpolated and not kept doubled', () => {
    const cfg = loadConfig({ file: yaml('server:\n  ingest_token: "pre$${NOT_A_VAR}post"\n'), env: { NOT_A_VAR: 'x' } });
    expect(cfg.server.ingest_token).toBe('pre${NOT_A_VAR}post');
  });

  it('unknown keys are errors in every section: a misspelt server key or connector name is never silently ignored', () => {
    // `ingest_tokn` ignored would leave the ingest routes without their token.
    expect(errorOf(() => loadConfig({ file: yaml('server:\n  ingest_tokn: abc\n'), env: {} })).message).toMatch(/server: unknown key\(s\): ingest_tokn/);
    expect(errorOf(() => loadConfig({ file: yaml('connectors:\n  mlfow:\n    webhook_secrets: s\n'), env: {} })).message).toMatch(/connectors: unknown key\(s\): mlfow/);
  });

  it('a list variable (comma-separated secrets during rotation) drops empty entries: a stray comma is no error', () => {
    const cfg = loadConfig({ env: { MLTRAIL_EVENTBRIDGE_API_KEY: 'new-key-1, ,old-key-2,', MLTRAIL_FIREHOSE_ACCESS_KEY: ',fh-key-1' } });
    expect((cfg.connectors as any).sagemaker.eventbridge.api_keys).toEqual(['new-key-1', 'old-key-2']);
    expect((cfg.connectors as any).sagemaker.firehose.access_keys).toEqual(['fh-key-1']);
  });

  it('MLTRAIL_CONFIG is the file read when none is given (an explicit file wins; an empty value reads none)', () => {
    const f = yaml('log:\n  level: warn\n');
    expect(loadConfig({ env: { MLTRAIL_CONFIG: f } }).log.level).toBe('warn');
    expect(loadConfig({ file: yaml('log:\n  level: error\n'), env: { MLTRAIL_CONFIG: f } }).log.level).toBe('error');
    expect(loadConfig({ env: { MLTRAIL_CONFIG: '' } }).log.level).toBe('info');
  });

  it('${VAR:-} with an empty default is an optional value (empty text), not an error', () => {
    const cfg = loadConfig({ file: yaml('connectors:\n  mlflow:\n    poll:\n      password: "${MLFLOW_PW:-}"\n'), env: {} });
    expect((cfg.connectors as any).mlflow.poll.password).toBe('');
  });

  it('the defaults are the ones the README documents (FULL survives power loss; a 7-day dedup window)', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.server).toEqual({ host: '127.0.0.1', port: 8787, body_limit_bytes: 5242880, shutdown_grace_ms: 10000 });
    expect(cfg.spool).toEqual({ max_bytes: 1073741824, synchronous: 'FULL', dedup_window_hours: 168, dedup_max_ids: 10000000, retry_after_s: 30, keep_raw: true, quarantine_retention_days: 30, dead_letter_retention_days: 0 });
    expect(cfg.rules.stats_retention_days).toBe(400);
    expect(cfg.log).toEqual({ level: 'info', summary_interval_s: 60 });
  });

  it('a list from the environment replaces the file\'s list: a key rotated out in the environment stops working', () => {
    const f = yaml('connectors:\n  sagemaker:\n    eventbridge:\n      api_keys: [old-file-key]\n');
    expect((loadConfig({ file: f, env: {} }).connectors as any).sagemaker.eventbridge.api_keys).toEqual(['old-file-key']);
    expect((loadConfig({ file: f, env: { MLTRAIL_EVENTBRIDGE_API_KEY: 'new-env-key' } }).connectors as any).sagemaker.eventbridge.api_keys).toEqual(['new-env-key']);
  });

  it('spool.dead_letter_retention_days (default 0: kept until purged) and rules.stats_retention_days (whole days) are validated, naming the key', () => {
    expect(loadConfig({ file: yaml('spool:\n  dead_letter_retention_days: 90\n'), env: {} }).spool.dead_letter_retention_days).toBe(90);
    expect(errorOf(() => loadConfig({ file: yaml('spool:\n  dead_letter_retention_days: -1\n'), env: {} })).message).toMatch(/spool\.dead_letter_retention_days/);
    expect(loadConfig({ file: yaml('rules:\n  stats_retention_days: 0\n'), env: {} }).rules.stats_retention_days).toBe(0);
    expect(errorOf(() => loadConfig({ file: yaml('rules:\n  stats_retention_days: 1.5\n'), env: {} })).message).toMatch(/rules\.stats_retention_days/);
    // A cutoff before Date's range is no date: housekeeping threw on it every second, so 100 years is the most.
    expect(loadConfig({ file: yaml('rules:\n  stats_retention_days: 36500\nspool:\n  dead_letter_retention_days: 36500\n'), env: {} }).rules.stats_retention_days).toBe(36500);
    expect(errorOf(() => loadConfig({ file: yaml('rules:\n  stats_retention_days: 1000000000\n'), env: {} })).message).toMatch(/rules\.stats_retention_days: Too big/);
    expect(errorOf(() => loadConfig({ file: yaml('spool:\n  dead_letter_retention_days: 1e300\n'), env: {} })).message).toMatch(/spool\.dead_letter_retention_days: Too big/);
  });

  it('spool.quarantine_retention_days: 0 keeps quarantined input until purged; a negative one is refused, naming the key', () => {
    expect(loadConfig({ file: yaml('spool:\n  quarantine_retention_days: 0\n'), env: {} }).spool.quarantine_retention_days).toBe(0);
    expect(errorOf(() => loadConfig({ file: yaml('spool:\n  quarantine_retention_days: -1\n'), env: {} })).message).toMatch(/spool\.quarantine_retention_days/);
  });

  it('bounds: a port past 65535 and a spool Retry-After past 60 s are refused (MLflow retries with its signed timestamp)', () => {
    expect(errorOf(() => loadConfig({ env: { PORT: '65536' } })).message).toMatch(/server\.port: .*\(from environment variable PORT\)/);
    expect(loadConfig({ env: { PORT: '65535' } }).server.port).toBe(65535);
    expect(errorOf(() => loadConfig({ file: yaml('spool:\n  retry_after_s: 61\n'), env: {} })).message).toMatch(/spool\.retry_after_s/);
    expect(loadConfig({ file: yaml('spool:\n  retry_after_s: 60\n'), env: {} }).spool.retry_after_s).toBe(60);
  });

  it('check-config prints each problem with the file and key path, exit 1; a good file exits 0 with secrets hidden', () => {
    const bad = yaml('server:\n  port: -1\nlog:\n  level: loud\n');
    const r = spawnSync(process.execPath, [CLI, 'check-config', bad], { encoding: 'utf8', env: {} });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}: server.port:`);
    expect(r.stderr).toContain(`${bad}: log.level:`);
    const good = yaml('server:\n  ingest_token: hunter2hunter2\n');
    const ok = spawnSync(process.execPath, [CLI, 'check-config', good], { encoding: 'utf8', env: {} });
    expect(ok.status).toBe(0);
    expect(ok.stdout).not.toContain('hunter2');
    expect(ok.stdout).toContain('[redacted]');
    // Where a secret goes is not secret: the EventBridge key's header name stays readable.
    expect(JSON.parse(ok.stdout.slice(ok.stdout.indexOf('{'))).connectors.sagemaker.eventbridge.api_key_header).toBe('x-api-key');
    const hook = yaml('sinks:\n  slack:\n    type: webhook\n    flavor: slack\n    url: https://hooks.slack.com/services/T0/B0/SECRETPATH\n');
    const h = spawnSync(process.execPath, [CLI, 'check-config', hook], { encoding: 'utf8', env: {} });
    expect(h.status).toBe(0);
    expect(h.stdout).not.toContain('SECRETPATH');
    // A password inside a URL (user-info) is hidden too; the host stays readable.
    const inUrl = yaml('connectors:\n  mlflow:\n    poll:\n      tracking_uri: http://u:hunter2pw@127.0.0.1:5000/\nsinks:\n  elastic:\n    url: http://elastic:espw123@127.0.0.1:9200\n    api_key: k\n');
    const u = spawnSync(process.execPath, [CLI, 'check-config', inUrl], { encoding: 'utf8', env: {} });
    expect(u.status).toBe(0);
    expect(u.stdout).not.toMatch(/hunter2pw|espw123/);
    expect(u.stdout).toContain('http://[redacted]@127.0.0.1:9200');
    // A YAML error names the file once.
    const broken = yaml('a: {b: [1, 2\n');
    const y = spawnSync(process.execPath, [CLI, 'check-config', broken], { encoding: 'utf8', env: {} });
    expect(y.status).toBe(1);
    expect(y.stderr.split(broken).length - 1).toBe(1);
    expect(y.stderr).toContain(`${broken}: YAML error`);
  });
});
