import { describe, expect, it } from 'vitest';
import { redactFreeText, redactScriptText, redactSecretText } from '../../core/secrets.js';
import { configMapRecord, sinkAndQuarantine } from './secrets-audit-harness.js';

/**
 * Redaction left by session 27 (note27 "Found, not fixed"): an f-string value with literal text in one line of text,
 * a backquoted subscript key, an attribute read in a script, and a secret inside a JavaScript template literal. Script
 * text (redactScriptText), one-line text (redactSecretText) and messages (redactFreeText) alike.
 */
const all = (s: string) => [redactScriptText(s), redactSecretText(s), redactFreeText(s)];

describe('core/secrets: f-string values, backquoted keys, attribute reads, template literals', () => {
  it('hides an f-string value with literal text beside its fields in one-line text too, as a script hides it', () => {
    // It was kept in one-line text (`hunter2` shown) while a script hid it.
    expect(all('token = f"{x}hunter2"')).toEqual(Array(3).fill('token = f"[redacted]"'));
    expect(all("api_key = rf'{prefix}abc123'")).toEqual(Array(3).fill("api_key = rf'[redacted]'"));
    expect(all('python -c \'token = f"{x}hunter2"; run(token)\'')).toEqual(Array(3).fill('python -c \'token = f"[redacted]"; run(token)\''));
    // Fields and punctuation or an auth scheme only: no literal, kept; an f-string further on in an expression is judged as before.
    for (const keep of ['token = f"{prefix}-{suffix}"', 'password = f"{user}:{pw}"', 'token = f"Bearer {tok}"', 'token = None if x else f"{prefix}-tok"']) expect(all(keep)).toEqual(Array(3).fill(keep));
  });

  it('keeps a lookup by a backquoted key (JavaScript `` cfg[`token`] ``) readable; its fallback literal is hidden', () => {
    // It was mangled to `token = [redacted]]` in a script.
    for (const keep of ['token = cfg[`token`]', 'const password = secrets[`db`][`password`];']) expect(all(keep)).toEqual(Array(3).fill(keep));
    expect(all('token = cfg[`token`] || "tk-fb-27"')).toEqual(Array(3).fill('token = cfg[`token`] || "[redacted]"'));
  });

  it("keeps an attribute read given to a secret's name in a script (cfg.password, self.api_key); a literal, a shell word and a YAML value stay hidden", () => {
    // It was hidden whole in a script (`password = [redacted]`), as a literal is; subscript lookups were kept.
    for (const keep of ['password = cfg.password', 'self.token = self.api_token', 'const password = config.db.password;', 'password = settings.pw', 'token = args.hf'])
      expect(redactScriptText(keep)).toBe(keep);
    expect(redactScriptText('password = cfg.password or "pw-fb-27"')).toBe('password = cfg.password or "[redacted]"');
    expect(redactScriptText('import os\nclass C:\n    def __init__(self, cfg):\n        self.password = cfg.password\n')).toBe('import os\nclass C:\n    def __init__(self, cfg):\n        self.password = cfg.password\n');
    // What is no attribute read stays hidden: a dotted passphrase, a shell assignment, a YAML value, a credential's shape.
    expect(redactScriptText('password = Summer2024.Fall')).toBe('password = [redacted]');
    expect(redactScriptText('password = x.y')).toBe('password = [redacted]');
    expect(redactScriptText('PASSWORD=cfg.password')).toBe('PASSWORD=[redacted]');
    expect(redactScriptText('password: cfg.password')).toBe('password: [redacted]');
    expect(redactScriptText('token = cfg.hf_AbCdEf1234567890XyZ')).toBe('token = [redacted]');
  });

  it('hides a secret inside a template literal (log.info(`token: abc123`)), its closing backquote and call kept; an interpolation stays', () => {
    // It was not read at all: a backquote was no place a key could follow, and a key's word ran on over `` `) ``.
    expect(all('log.info(`token: abc123`)')).toEqual(Array(3).fill('log.info(`token: [redacted]`)'));
    expect(all('log.info(`token=abc123`)')).toEqual(Array(3).fill('log.info(`token=[redacted]`)'));
    expect(all('log.info(`token: "abc123"`)')).toEqual(Array(3).fill('log.info(`token: "[redacted]"`)'));
    expect(all('x = `Authorization: Bearer abc123`;')).toEqual(Array(3).fill('x = `Authorization: Bearer [redacted]`;'));
    expect(all('console.log(`password: ${pw} and api_key: sk-abcdef12345`)')).toEqual(Array(3).fill('console.log(`password: ${pw} and api_key: [redacted]`)'));
    expect(all('logger.info(`connecting with password: hunter2 to ${host}`)')).toEqual(Array(3).fill('logger.info(`connecting with password: [redacted] to ${host}`)'));
    // An interpolation holding a literal is the literal: hidden whole.
    expect(all('const t = `token: ${"s3cr3t"}`')).toEqual(Array(3).fill('const t = `token: [redacted]`'));
    for (const keep of ['log.info(`token: ${tok}`)', 'log.info(`token=${cfg.token} ok`)', 'const h = { Authorization: `Bearer ${t}` }']) expect(all(keep)).toEqual(Array(3).fill(keep));
    // Outside a template a `${VAR}` value is hidden as before (a shell or Helm value may be anything).
    expect(redactSecretText('token: ${tok}')).toBe('token: [redacted]');
  });

  it("in a ConfigMap's script, raw, the sink's line and quarantine show the code with only the secrets replaced", async () => {
    const app = [
      'const token = cfg[`token`];',
      'const password = config.db.password;',
      'log.info(`token: tk-tmpl-2704`);',
      'api_key = f"{prefix}sk-fstr-2704"',
    ].join('\n');
    const { text, raw, quarantine } = await sinkAndQuarantine(configMapRecord({ 'app.js': app }));
    expect((raw.requestObject as { data: Record<string, string> }).data['app.js']).toBe([
      'const token = cfg[`token`];',
      'const password = config.db.password;',
      'log.info(`token: [redacted]`);',
      'api_key = f"[redacted]"',
    ].join('\n'));
    for (const out of [text, quarantine]) {
      expect(out).not.toContain('tk-tmpl-2704');
      expect(out).not.toContain('sk-fstr-2704');
    }
  });
});
