import { describe, expect, it } from 'vitest';
import { normalizeAudit } from '../../connectors/kubeflow/audit.js';
import { redactFreeText, redactScriptText, redactSecretText, redactValueMap } from '../../core/secrets.js';
import { readFixtureJson } from '../helpers/fixtures.js';
import { sinkBody } from '../helpers/sink-body.js';
import { ctx as kfCtx } from '../connectors/kubeflow/helpers.js';
import { fx, normOne } from '../connectors/sagemaker/helpers.js';

type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const TEXT_RULES = [redactSecretText, redactScriptText, redactFreeText] as const;

/** The falco RequestResponse fixture made a ConfigMap create carrying `data`: what a sink gets for it. */
async function configMapSinkData(data: Record<string, string>): Promise<{ text: string; data: Record<string, string> }> {
  const ev = structuredClone(AUDIT);
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trainer', namespace: 'ml' }, data };
  const record = { ...ev, objectRef: { resource: 'configmaps', namespace: 'ml', name: 'trainer', apiVersion: 'v1' }, requestObject: cm, responseObject: undefined };
  const out = normalizeAudit(record, kfCtx({ keepRaw: true }));
  expect(out.rejected).toEqual([]);
  const { text, docs } = await sinkBody(out.events);
  return { text, data: docs[0]!.raw.requestObject.data };
}

/**
 * redact11: code under a secret's name (a call, a variable) is no secret literal; a key whose name says "secret" but
 * whose value's shape says count, topic, service name or fingerprint is kept; a YAML flow mapping's quoted key hides
 * its plain value. End to end: record → normalize → spool → file sink line.
 */
describe('core/secrets: code and value shapes under secret names (redact11)', () => {
  it('a call given to a secret name stays whole (never half a call); a credential or fallback literal in it is hidden; keyword arguments given variables stay, literals do not', async () => {
    const script = [
      'headers = {"token": get_tok(), "x-trace": trace_id}',
      "creds = {'api_key': vault.read('ml/api-key'), 'user': 'svc'}",
      'password = dbutils.secrets.get(scope="ml", key="db-password")',
      'token = await hub.fetch_token()',
      'client = dict(token=tok)',
      'db = dict(password=pw)',
      'hub = dict(token="r11-lit-1")',
      'api = Client(api_key=self.api_key, token=cfg.token)',
      'fallback = {"token": cfg.get("token", "r11-default-2")}',
      'pinned = dict(token=get_tok("hf_r11CallLit3abcdef"))',
      'env_default = os.getenv("HF_TOKEN", "r11-env-4")',
      'token = os.getenv("HF_TOKEN", "r11-env-5")',
      '',
    ].join('\n');
    const { text, data } = await configMapSinkData({ 'train.py': script });
    expect(text).not.toMatch(/r11-lit-1|r11-default-2|hf_r11CallLit3|r11-env-[45]/);
    expect(data['train.py']).toBe([
      'headers = {"token": get_tok(), "x-trace": trace_id}',
      "creds = {'api_key': vault.read('ml/api-key'), 'user': 'svc'}",
      'password = dbutils.secrets.get(scope="ml", key="db-password")',
      'token = await hub.fetch_token()',
      'client = dict(token=tok)',
      'db = dict(password=pw)',
      'hub = dict(token=[redacted])',
      'api = Client(api_key=self.api_key, token=cfg.token)',
      'fallback = {"token": cfg.get("token", "[redacted]")}',
      'pinned = dict(token=get_tok("[redacted]"))',
      // An environment variable's name handed a literal (NAME_THEN_VALUE_ARGS, as before).
      'env_default = os.getenv("HF_TOKEN", "[redacted]")',
      'token = [redacted]',
      '',
    ].join('\n'));
  });

  it('the same in one line of text and in JavaScript: a call is kept whole, a cut call is hidden', () => {
    for (const keep of ['f(token=get_tok())', '{token: getToken()}', "const h = {'api_key': getKey('x')};", 'const token = getToken();', 'd = {"token": auth.get_token(scope="a")}'])
      for (const f of TEXT_RULES) expect(f(keep)).toBe(keep);
    // A bare name after '=' in a message may be a printed value (a Lombok or Kotlin toString): hidden there, kept in scripts.
    expect(redactSecretText('Failed: DataSource(user=bob, password=r11jvm1, url=jdbc:x)')).toBe('Failed: DataSource(user=bob, password=[redacted], url=jdbc:x)');
    expect(redactFreeText('Config(password=r11jvm2)')).toBe('Config(password=[redacted])');
    expect(redactScriptText('c = dict(token=tok)\n')).toBe('c = dict(token=tok)\n');
    // Cut before its ')': what follows is unknown, so the value is hidden as before.
    expect(redactScriptText('token = get_tok(')).toBe('token = [redacted]');
    expect(redactSecretText('password=$(cat /run/pw) next')).toBe('password=[redacted] next');
  });

  it('over-redaction: a routing topic, a fingerprint, token counts and a service name stay; a long number, a singular token\'s number, a PagerDuty key stay hidden', async () => {
    const yaml = [
      'rabbitmq:',
      '  routing_key: model.deployed',
      '  audit_routing_key: audit.*.ml',
      'pagerduty:',
      '  routing_key: R0r11pagerduty4abcdef0123456789',
      'deploy_key_fingerprint: SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
      'deploy_key: SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
      'llm:',
      '  tokens: 100',
      '  max_tokens: 512',
      '  usage: {"prompt_tokens": 100, "total_tokens": 150}',
      '  service_key: inference-svc',
      '  app_key: k3j9-x8w2-p0q1',
      '  license_key: a1b2-c3d4-e5f6',
      'legacy:',
      '  api_key: 12345678901234567890',
      '  token: 100',
      '  password: correct-horse-battery',
      '',
    ].join('\n');
    const { data } = await configMapSinkData({ 'broker.yaml': yaml });
    expect(data['broker.yaml']).toBe([
      'rabbitmq:',
      '  routing_key: model.deployed',
      '  audit_routing_key: audit.*.ml',
      'pagerduty:',
      '  routing_key: [redacted]',
      'deploy_key_fingerprint: SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
      'deploy_key: SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
      'llm:',
      '  tokens: 100',
      '  max_tokens: 512',
      '  usage: {"prompt_tokens": 100, "total_tokens": 150}',
      '  service_key: inference-svc',
      '  app_key: [redacted]',
      '  license_key: [redacted]',
      'legacy:',
      '  api_key: [redacted]',
      '  token: [redacted]',
      '  password: [redacted]',
      '',
    ].join('\n'));
  });

  it('over-redaction in a SageMaker job\'s environment and hyperparameters (the real CreateTrainingJob record): numbers and names by shape', async () => {
    const record = structuredClone(fx<Obj>('cloudtrail-sagemaker-createtrainingjob.real.json'));
    Object.assign(record.requestParameters.environment, { ROUTING_KEY: 'model.deployed', SERVICE_KEY: 'inference-svc', TOKENS: '100', API_KEY: '12345678901234567890', TOKEN: '100', PAGERDUTY_ROUTING_KEY: 'R0r11pagerduty6abcdef0123456789' });
    record.requestParameters.hyperParameters = { max_tokens: '512', prompt_tokens: '2048', hf_token: 'hf_r11hyper7abcdef' };
    const { text, docs } = await sinkBody([normOne(record)]);
    expect(text).not.toMatch(/r11pagerduty6|hf_r11hyper7|12345678901234567890/);
    const env = docs[0]!.raw.requestParameters.environment;
    expect(env).toMatchObject({ ROUTING_KEY: 'model.deployed', SERVICE_KEY: 'inference-svc', TOKENS: '100', API_KEY: '[redacted]', TOKEN: '[redacted]', PAGERDUTY_ROUTING_KEY: '[redacted]', MEDZEN_SEED: '20260820' });
    expect(docs[0]!.raw.requestParameters.hyperParameters).toEqual({ max_tokens: '512', prompt_tokens: '2048', hf_token: '[redacted]' });
    // A JSON number under a plural is a count; under a singular name it is still hidden.
    expect(redactValueMap({ tokens: 100, token: 100, api_keys: 3 })).toEqual({ tokens: 100, token: '[redacted]', api_keys: 3 });
    expect(redactFreeText('{"usage":{"completion_tokens":42},"token":100}')).toBe('{"usage":{"completion_tokens":42},"token":"[redacted]"}');
  });

  it('a YAML flow mapping with quoted keys hides its plain values; a Python or JavaScript dict keeps its variables', async () => {
    const yaml = 'db: {"password": r11flow8, "user": app}\n- {"token": r11flow9}\n{"api_key": r11flow10}\nconf: {\'secret\': r11flow11, \'n\': 1}\n';
    const { text, data } = await configMapSinkData({ 'db.yaml': yaml, 'client.py': 'd = {"token": tok}\nrequests.post(u, json={"password": pw, "user": user})\nx = {"token": hf_r11flow12abcdef}\n' });
    expect(text).not.toMatch(/r11flow\d/);
    expect(data['db.yaml']).toBe('db: {"password": [redacted], "user": app}\n- {"token": [redacted]}\n{"api_key": [redacted]}\nconf: {\'secret\': [redacted], \'n\': 1}\n');
    expect(data['client.py']).toBe('d = {"token": tok}\nrequests.post(u, json={"password": pw, "user": user})\nx = {"token": [redacted]}\n');
    // An unset value stays.
    for (const keep of ['c: {"password": null}', 'c: {"token": ~}'])
      for (const f of TEXT_RULES) expect(f(keep)).toBe(keep);
  });
});

/** verify26c: secrets the redact11 shapes let through (each hidden before redact11), end to end to the sink's line. */
describe('core/secrets: secrets passing as redact11 shapes (verify26c)', () => {
  it("a passphrase under an encrypting or signing key kind is hidden (it reads as a service name); a service's key naming a service stays", async () => {
    const yaml = [
      'encryption_key: v26c-correct-horse-battery',
      'master_key: purple-monkey-dishwasher',
      'hmac_key: open-sesame',
      'FERNET_KEY: fernet-passphrase-words',
      'auth_key: letmein-please',
      'service_key: inference-svc',
      '',
    ].join('\n');
    const { text, data } = await configMapSinkData({ 'app.yaml': yaml });
    expect(text).not.toMatch(/correct-horse|purple-monkey|open-sesame|fernet-passphrase|letmein/);
    expect(data['app.yaml']).toBe([
      'encryption_key: [redacted]',
      'master_key: [redacted]',
      'hmac_key: [redacted]',
      'FERNET_KEY: [redacted]',
      'auth_key: [redacted]',
      'service_key: inference-svc',
      '',
    ].join('\n'));
  });
  it('a number of four digits or more under a passwords plural is a PIN, hidden; a small count of passwords and any count of tokens stay', async () => {
    const { text, data } = await configMapSinkData({ 'app.yaml': 'db_passwords: 731942\nPASSWORDS: 8264\nmax_passwords: 5\ntokens: 4096\n' });
    expect(text).not.toMatch(/731942|8264/);
    expect(data['app.yaml']).toBe('db_passwords: [redacted]\nPASSWORDS: [redacted]\nmax_passwords: 5\ntokens: 4096\n');
  });
  it('a call that holds or converts the literal given a secret name (SecretStr, str, bytes, b64decode, decrypt, Secret(value=)) hides it; a lookup by name stays', async () => {
    const script = [
      'password = SecretStr("v26cHunter2Secret")',
      'db_password = str("v26cPlainPass")',
      'token = bytes("v26cBytesTok", "utf-8")',
      'api_key = decrypt("v26cCipherText")',
      'creds = {"password": str("v26cDictPass")}',
      'secret = Secret(value="v26cValueKw")',
      "creds2 = {'api_key': vault.read('ml/api-key')}",
      '',
    ].join('\n');
    const { text, data } = await configMapSinkData({ 'train.py': script });
    expect(text).not.toMatch(/v26c(?:Hunter2Secret|PlainPass|BytesTok|CipherText|DictPass|ValueKw)/);
    expect(data['train.py']).toBe([
      'password = SecretStr("[redacted]")',
      'db_password = str("[redacted]")',
      'token = bytes("[redacted]", "utf-8")',
      'api_key = decrypt("[redacted]")',
      'creds = {"password": str("[redacted]")}',
      'secret = Secret(value="[redacted]")',
      "creds2 = {'api_key': vault.read('ml/api-key')}",
      '',
    ].join('\n'));
  });
});
