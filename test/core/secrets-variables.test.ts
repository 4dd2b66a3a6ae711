import { describe, expect, it } from 'vitest';
import { redactFreeText, redactScriptText, redactSecretText } from '../../core/secrets.js';

/** Variables are no secrets: an f-string of replacement fields only, a Python name as a dict value. */
describe('core/secrets: variables under a secret name stay (redact10)', () => {
  it('an f-string holding only variable references stays whole; one with literal text is hidden, prefix and quotes kept', () => {
    for (const keep of ['token = f"" + f"{tok}"', 'token = f"{tok}"', "api_key = rf'{prefix}{suffix!r}'", 'Client(token=f"{tok}")', 'client = Client(token = f"{tok}")'])
      expect(redactScriptText(keep)).toBe(keep);
    expect(redactSecretText('Client(token=f"{tok}")')).toBe('Client(token=f"{tok}")');
    expect(redactScriptText('token = f"r10-fs-1{tok}"')).toBe('token = f"[redacted]"');
    expect(redactScriptText("password = f'r10-fs-2'")).toBe("password = f'[redacted]'");
    // Escaped braces are literal text.
    expect(redactScriptText('token = f"{{r10-fs-3}}"')).toBe('token = f"[redacted]"');
    // A literal glued to the name (`TOKEN=f"x"`, a keyword argument) is hidden whole: its prefix alone was, the rest shown.
    expect(redactSecretText('run(token=f"r10-fs-4")')).toBe('run(token=[redacted])');
    expect(redactSecretText('TOKEN=f"r10-fs-5{x}" ./run.sh')).toBe('TOKEN=[redacted] ./run.sh');
  });

  it('a literal or credential after a kept f-string on its line is still hidden', () => {
    expect(redactScriptText('token = f"{tok}" + "r10-fs-6"')).toBe('token = f"{tok}" + "[redacted]"');
    expect(redactScriptText('token = f"" + "r10-fs-7"')).toBe('token = f"" + "[redacted]"');
    expect(redactScriptText('token = f"{tok}"  # sk-live-r10fs8abcd')).toBe('token = f"{tok}"  # [redacted]');
  });

  it('a quoted key given a Python name in a dict ({"token": tok}) keeps the variable; a literal value is hidden', () => {
    for (const keep of ['d = {"token": tok}', "d = {'token': tok, 'x': 1}", 'd = {"api_key": self.api_key}', 'headers = {\n    "token": cfg.token,\n    "user": user\n}\n', 'd = {\n  "password": pw\n}'])
      expect(redactScriptText(keep)).toBe(keep);
    expect(redactScriptText('d = {"token": "r10-var-1"}')).toBe('d = {"token": "[redacted]"}');
    expect(redactScriptText('d = {"token": tok, "password": "r10-var-2"}')).toBe('d = {"token": tok, "password": "[redacted]"}');
    // A word that reads as a credential is no variable.
    expect(redactScriptText('d = {"token": hf_r10var3abcd}')).toBe('d = {"token": [redacted]}');
    // A YAML line's plain value under a quoted key is a value, not a variable.
    expect(redactScriptText('"password": r10var4\nuser: bob\n')).toBe('"password": [redacted]\nuser: bob\n');
    // An unquoted key's word (YAML) is a value too.
    expect(redactScriptText('creds: {token: r10var5}')).not.toContain('r10var5');
    expect(redactFreeText('{"token": "r10-var-6"}')).toBe('{"token":"[redacted]"}');
  });
});
