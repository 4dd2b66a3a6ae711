import { describe, expect, it } from 'vitest';
import { isSecretName, redactArgv, redactFreeText, redactScriptText, redactSecretText } from '../../core/secrets.js';
import { isSecretFlag } from '../../core/secrets/flags.js';

const TEXT_RULES = [redactSecretText, redactScriptText, redactFreeText] as const;

/** Leaks session 23's verifiers left open: kept values with more after them, quoted keys in text, dashed key flags. */
describe('core/secrets: open leaks (redact9)', () => {
  it('a literal beside an unset value or env lookup in one expression is hidden; the unset value, the lookup and a comment in words stay', () => {
    for (const f of TEXT_RULES) {
      expect(f('token = None if x else "sk-live-r9a1"')).toBe('token = None if x else "[redacted]"');
      expect(f('password = None or "r9-pw-2"')).toBe('password = None or "[redacted]"');
      expect(f("secret = '' + 'r9abc3'")).toBe("secret = '' + '[redacted]'");
      expect(f('const token = null ?? "r9-js-4"')).toBe('const token = null ?? "[redacted]"');
      expect(f('api_key = os.getenv("API_KEY") or "sk-r9-env-5"')).toBe('api_key = os.getenv("API_KEY") or "[redacted]"');
      expect(f('api_key: null  # sk-live-r9comment6')).toBe('api_key: null  # [redacted]');
      expect(f('token: ~ # ghp_r9AbCdEfGhIjKlMnOp7')).toBe('token: ~ # [redacted]');
      expect(f('password = ""  # was 9f8e7d6c5b4a39281706f5e4')).toBe('password = ""  # was [redacted]');
      for (const keep of [
        'token = None  # unset',
        'password: null  # set in CI from vault',
        'api_key = os.getenv("API_KEY") or default_key',
        'token = None if mode == "dev" else tok',
        'token = None if x else f"{prefix}-tok"',
        'x = None or "not-a-secret-name"',
        'secret_name = None or "db-creds"',
        'token: null, user: "bob"',
      ])
        expect(f(keep)).toBe(keep);
    }
    // Over lines of a script: each line judged alone.
    expect(redactScriptText('import os\ntoken = None\nhf = None or "public"\npassword = None or "r9-ml-8"\n')).toBe('import os\ntoken = None\nhf = None or "public"\npassword = None or "[redacted]"\n');
  });

  it('a dict or JSON object in one line of text ({"password": "x"}, {\'api_key\': \'x\'}) has its secret-named values hidden, quotes kept; other keys, references and unset values stay', () => {
    expect(redactSecretText('{"password": "r9-dict-1"}')).toBe('{"password": "[redacted]"}');
    expect(redactSecretText("{'api_key': 'r9-dict-2'}")).toBe("{'api_key': '[redacted]'}");
    expect(redactSecretText('INFO config={"user": "svc", "db_password": "r9-dict-3", "port": 5432}')).toBe('INFO config={"user": "svc", "db_password": "[redacted]", "port": 5432}');
    expect(redactSecretText('{"pin_password": 123456}')).toBe('{"pin_password": [redacted]}');
    expect(redactSecretText('headers = {"Authorization": "Bearer r9-dict-4"}')).toBe('headers = {"Authorization": "Bearer [redacted]"}');
    expect(redactFreeText("print({'api_key': 'r9-dict-5'})")).toBe("print({'api_key': '[redacted]'})");
    for (const keep of ['{"user": "bob", "token_count": 12}', '{"secretName": "db-creds"}', '{"password_policy": "strict"}', '{"token": ""}', "{'token': None}", '{"token_url": "https://auth.example.com/token"}'])
      for (const f of TEXT_RULES) expect(f(keep)).toBe(keep);
    // A variable names no value in a dict (`d = {"token": tok}`); a mapping opening its line is YAML's flow mapping,
    // whose plain word is the value (redact11).
    expect(redactSecretText('d = {"token": tok}')).toBe('d = {"token": tok}');
    expect(redactSecretText('{"token": tok}')).toBe('{"token": [redacted]}');
  });

  it('dashed key flags and names that are a credential by their first word (--auth-key, --signing-key, DD_APP_KEY, FERNET_KEY…) are hidden in text, argv and keys; names of key names, keyspaces, token limits and Secret objects stay', () => {
    for (const [flag, value] of [['--auth-key', 'r9-flag-1'], ['--signing-key', 'r9-flag-2'], ['--auth-token', 'r9-flag-3'], ['--client-secret', 'r9-flag-4'], ['--hmac-key', 'r9-flag-5'], ['--encryption-key', 'r9-flag-6'], ['--app-key', 'r9-flag-7'], ['--license-key', 'r9-flag-8'], ['--master-key', 'r9-flag-9']]) {
      expect(isSecretFlag(flag!)).toBe(true);
      for (const f of TEXT_RULES) {
        expect(f(`python serve.py ${flag} ${value} --port 8080`)).toBe(`python serve.py ${flag} [redacted] --port 8080`);
        expect(f(`${flag}=${value}`)).toBe(`${flag}=[redacted]`);
      }
      expect(redactArgv(['serve', flag!, value!, '--epochs', '3']).argv).toEqual(['serve', flag, '[redacted]', '--epochs', '3']);
    }
    for (const name of ['DD_APP_KEY', 'AIRFLOW__CORE__FERNET_KEY', 'TS_AUTHKEY', 'AZURE_STORAGE_KEY', 'NEW_RELIC_LICENSE_KEY', 'signingKey', 'webhook_signing_keys', 'client-key-data'.replace(/-/g, '_'), 'MEILI_MASTER_KEY', 'PAGERDUTY_INTEGRATION_KEY'])
      expect(isSecretName(name)).toBe(true);
    expect(redactScriptText('users:\n- name: admin\n  user:\n    client-key-data: LS0tr9kubeconfig\n    client-certificate-data: LS0tcert\n')).toBe('users:\n- name: admin\n  user:\n    client-key-data: [redacted]\n    client-certificate-data: LS0tcert\n');
    for (const f of TEXT_RULES) expect(f('export DD_APP_KEY=r9-dd-1 AZURE_STORAGE_KEY=r9-az-2')).toBe('export DD_APP_KEY=[redacted] AZURE_STORAGE_KEY=[redacted]');
    // Over-redaction: what names, counts or locates a key stays.
    for (const name of ['key_name', 'keyspace', 'sort_key', 's3_key', 'cache_key', 'idempotency_key', 'client_keystore', 'auth_keyring', 'monkey', 'SIGNING_KEY_ID', 'token_limit', 'tokenLimit', 'token_budget', 'max_tokens', 'tokenizer', 'primary_key'])
      expect(isSecretName(name)).toBe(false);
    const keep = ['serve', '--key-name', 'mykey', '--keyspace', 'features', '--token-limit', '512', '--max-tokens', '256', '--tokenizer', 'meta-llama/Llama-3-8B', '--secret-name', 'my-secret', '--signing-key-file', '/run/keys/sign.pem', '--client-key', '/etc/tls/client.key'];
    expect(redactArgv(keep).argv).toBe(keep);
    for (const f of TEXT_RULES) expect(f(keep.join(' '))).toBe(keep.join(' '));
    expect(redactSecretText('max_tokens=512 TOKEN_LIMIT=4096 SIGNING_KEY_ID=kid-2024')).toBe('max_tokens=512 TOKEN_LIMIT=4096 SIGNING_KEY_ID=kid-2024');
  });
});
