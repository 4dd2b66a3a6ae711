import { describe, expect, it } from 'vitest';
import { redactScriptText, redactSecretText } from '../../core/secrets.js';
import { configMapRecord, sinkAndQuarantine } from './secrets-audit-harness.js';

/**
 * Template literals, backquotes and lookups beside a secret's name (leftshell): only the secret is replaced, the syntax
 * around it kept (``token = `abc` `` became ``[redacted]]` ``, `cfg["token"]` `[redacted]]`); a template of
 * interpolations holds no literal and stays. Script text (redactScriptText) and one-line text (redactSecretText) alike.
 */
const both = (s: string) => [redactScriptText(s), redactSecretText(s)];

describe('core/secrets: templates, backquotes and lookups', () => {
  it('hides a backquoted literal inside its backquotes, and a backquoted command whole as $(…) is', () => {
    expect(both('token = `abc`')).toEqual(['token = `[redacted]`', 'token = `[redacted]`']);
    expect(both('const password = `hunter2`;')).toEqual(['const password = `[redacted]`;', 'const password = `[redacted]`;']);
    expect(both('const cfg = { password: `hunter2` , user: `bob` }')).toEqual(Array(2).fill('const cfg = { password: `[redacted]` , user: `bob` }'));
    // A shell word: the command substitution is hidden whole, as `TOKEN=$(cat …)` is (it was `[redacted] /run/secrets/pw\``).
    expect(both('password=`cat /run/secrets/pw`')).toEqual(['password=[redacted]', 'password=[redacted]']);
    expect(both('TOKEN=`cat /run/secrets/t` ./run --x')).toEqual(Array(2).fill('TOKEN=[redacted] ./run --x'));
    // In a credential header, a substitution is the value: hidden inside its quotes, the scheme kept, nothing left over.
    expect(both('curl -H "Authorization: Bearer `cat /run/t`" https://x.example')).toEqual(Array(2).fill('curl -H "Authorization: Bearer `[redacted]`" https://x.example'));
    expect(both('curl -H "Authorization: Bearer $(cat /run/t)" https://x.example')).toEqual(Array(2).fill('curl -H "Authorization: Bearer [redacted]" https://x.example'));
  });

  it('keeps a lookup by a literal key (cfg["token"]): it names where the secret is, not what', () => {
    for (const s of ['token = cfg["token"]', "token = secrets['hf']", 'password = cfg["db"]["password"]', 'api_key = sys.argv[1]', 'const password = process.env.DB_PASSWORD;', 'const apiKey = process.env["API_KEY"];']) {
      expect(both(s)).toEqual([s, s]);
    }
    // Its fallback literal is still hidden.
    expect(both('const password = process.env.DB_PASSWORD || "hunter2";')).toEqual(Array(2).fill('const password = process.env.DB_PASSWORD || "[redacted]";'));
    expect(redactScriptText('token = cfg["token"] or "tk-fallback-1"')).toBe('token = cfg["token"] or "[redacted]"');
  });

  it('keeps a template whose only variable part is an interpolation, an auth scheme its only text; hides one with a literal', () => {
    for (const s of ['const token = `Bearer ${t}`', 'const token = `${t}`', 'const auth = { password: `${user}:${pw}` }', 'token = f"Bearer {tok}"', "token = rf'Bearer {tok}'", 'token = f"{tok!r}"']) {
      expect(both(s)).toEqual([s, s]);
    }
    expect(both('const token = `Bearer abc123def456ghi789`')).toEqual(Array(2).fill('const token = `[redacted]`'));
    expect(both('const token = `${prefix}abc123def456`')).toEqual(Array(2).fill('const token = `[redacted]`'));
    // An f-string without a replacement field is a literal with a prefix (it was left whole in one-line text).
    expect(both('token = f"Bearer abc123def456"')).toEqual(Array(2).fill('token = f"[redacted]"'));
    // An auth scheme alone is no secret in a script either (it was `"[redacted]" + t` there, kept in one-line text).
    for (const s of ['const token = "Bearer " + t;', 'const token = `Bearer ` + t;', "token = 'Token ' + tok"]) expect(both(s)).toEqual([s, s]);
    // Braces doubled are text: `{{literal}}` is no field.
    expect(redactScriptText('token = f"Bearer {{literal}}"')).toBe('token = f"[redacted]"');
  });

  it('reads a credential header given a template or an f-string: kept when it holds no literal, else the scheme kept and the rest hidden', () => {
    for (const s of ['const headers = { Authorization: `Bearer ${token}` }', 'fetch(u, { headers: { "Authorization": `Bearer ${tok}` } })', 'headers = {"Authorization": f"Bearer {tok}"}', 'headers["Authorization"] = `Bearer ${tok}`']) {
      expect(both(s)).toEqual([s, s]);
    }
    expect(both('const headers = { Authorization: `Bearer abc123` }')).toEqual(Array(2).fill('const headers = { Authorization: `Bearer [redacted]` }'));
    expect(both('fetch(u, { headers: { "Authorization": `Bearer abc123xyz` } })')).toEqual(Array(2).fill('fetch(u, { headers: { "Authorization": `Bearer [redacted]` } })'));
    expect(both('headers = {"Authorization": f"Bearer abc123def"}')).toEqual(Array(2).fill('headers = {"Authorization": f"Bearer [redacted]"}'));
    expect(redactScriptText('headers["Authorization"] = `Bearer secret123`')).toBe('headers["Authorization"] = `Bearer [redacted]`');
    // Set by assignment, a subscript or a property, in one-line text too (a `python -c` string, a message): it was left whole there.
    expect(both('headers["Authorization"] = "Bearer secret123"')).toEqual(Array(2).fill('headers["Authorization"] = "Bearer [redacted]"'));
    expect(both("h.Authorization = 'abc'; h['Proxy-Authorization'] = \"Basic dXNlcjpwdw==\"")).toEqual(Array(2).fill("h.Authorization = '[redacted]'; h['Proxy-Authorization'] = \"Basic [redacted]\""));
    // Unset, compared, or a template of interpolations: kept (an empty one was `"[redacted]"` in a script).
    for (const s of ['h["Authorization"] = ""', 'if h["Authorization"] == "Bearer x": pass', 'headers.Authorization = `Bearer ${t}`']) expect(both(s)).toEqual([s, s]);
  });

  it('reads apiKey (camelCase, as JavaScript and SDKs write it) as api_key; apiKeyName names a key and stays', () => {
    expect(both('let apiKey = `sk-abcdef1234567890abcd`;')).toEqual(Array(2).fill('let apiKey = `[redacted]`;'));
    expect(both('const cfg = { apiKey: "abc123def456" }')).toEqual(Array(2).fill('const cfg = { apiKey: "[redacted]" }'));
    expect(redactScriptText("auth: { apiKeyName: 'x-key', apiKeyValue: 'abc' }")).toBe("auth: { apiKeyName: 'x-key', apiKeyValue: '[redacted]' }");
  });

  it('keeps hiding YAML block scalars under a secret-named key and .env lines with export, the syntax around intact', () => {
    expect(redactScriptText('password: |\n  hunter2\n  more\nuser: x')).toBe('password: |\n  [redacted]\nuser: x');
    expect(redactScriptText('secret_key: >-\n  abcdef\n  ghijk\nport: 3')).toBe('secret_key: >-\n  [redacted]\nport: 3');
    expect(redactScriptText('export DB_PASSWORD=hunter2 # prod\nexport\tAPI_TOKEN="t-1" AWS_REGION=us-east-1\n')).toBe('export DB_PASSWORD=[redacted] # prod\nexport\tAPI_TOKEN=[redacted] AWS_REGION=us-east-1\n');
  });

  it('in a ConfigMap\'s files, raw keeps the script readable: only the secrets replaced', async () => {
    const app = [
      'const headers = { Authorization: `Bearer ${process.env.TOKEN}` };',
      'const apiKey = `sk-abcdef1234567890abcd`;',
      'const password = cfg["db"]["password"];',
      'const token = `tk-literal-77`;',
    ].join('\n');
    const { text, raw, quarantine } = await sinkAndQuarantine(configMapRecord({ 'app.js': app }));
    const kept = (raw.requestObject as { data: Record<string, string> }).data['app.js'];
    expect(kept).toBe([
      'const headers = { Authorization: `Bearer ${process.env.TOKEN}` };',
      'const apiKey = `[redacted]`;',
      'const password = cfg["db"]["password"];',
      'const token = `[redacted]`;',
    ].join('\n'));
    for (const out of [text, quarantine]) {
      expect(out).not.toContain('sk-abcdef1234567890abcd');
      expect(out).not.toContain('tk-literal-77');
    }
  });
});

describe('core/secrets: a literal inside an interpolation or a nested backquote (verify28c)', () => {
  it('hides a template or f-string whose interpolation is a string literal: it names no variable', () => {
    // They were kept whole as "interpolation-only" templates, the secret shown.
    expect(both('token = `${"s3cr3t"}`')).toEqual(Array(2).fill('token = `[redacted]`'));
    expect(both('token = `Bearer ${"hunter2"}`')).toEqual(Array(2).fill('token = `[redacted]`'));
    expect(both("token = f\"{'sk-abc123secretvalue'}\"")).toEqual(Array(2).fill('token = f"[redacted]"'));
    expect(both("token = f\"sk-{'abc'}xyz123\"")).toEqual(Array(2).fill('token = f"[redacted]"'));
    expect(both('const token = `${t || "s3cr3t"}`')).toEqual(Array(2).fill('const token = `[redacted]`'));
    // A lookup's key or a call's argument inside the interpolation names where the secret is: kept.
    for (const s of ["token = f\"{cfg['token']}\"", 'const token = `Bearer ${env("TOKEN")}`', 'const token = `${process.env["TOKEN"]}`']) expect(both(s)).toEqual([s, s]);
  });

  it('hides a backquoted command holding escaped backquotes whole (its inner command was shown)', () => {
    expect(both('password=`echo \\`printf hunter2\\``')).toEqual(Array(2).fill('password=[redacted]'));
    expect(both('TOKEN=`printf %s \\`echo hunter2xyz\\``; run')).toEqual(Array(2).fill('TOKEN=[redacted]; run'));
  });
});
