import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { redactBase64Text, redactJobSecrets, redactScriptText, redactSecretText } from '../../core/secrets.js';

/** Redaction leftovers: unset values, Python annotations and containers, pairs over lines, quoted values in messages, long gzip. */
describe('core/secrets leftovers', () => {
  it('shows an unset secret as it is (None, null, ~, "", \'\'): evidence the secret is not set; a set one stays hidden', () => {
    for (const f of [redactSecretText, redactScriptText]) {
      for (const keep of ['password = None', 'token = ""', "api_key = ''", 'password: null', 'password: ~', 'password: ""', 'export TOKEN=""', 'DB_PASSWORD=\'\'', '--password ""', 'token = None  # unset', 'password: Optional[str] = None', 'login(password="")'])
        expect(f(keep)).toBe(keep);
      expect(f('password="unset-1"')).not.toContain('unset-1');
      expect(f('password: nullish-2')).toBe('password: [redacted]');
      expect(f('--password "unset-3"')).not.toContain('unset-3');
    }
    expect(redactScriptText('{"password": null, "token": "", "api_key": "unset-4"}')).toBe('{"password": null, "token": "", "api_key": "[redacted]"}');
    // In escaped JSON (a YAML or JSON file in a string): an empty escaped string stays too.
    expect(redactScriptText(JSON.stringify({ f: '{"token": "", "password": "unset-5"}' }))).toBe(JSON.stringify({ f: '{"token": "", "password": "[redacted]"}' }));
  });

  it('hides the literal values of a Python annotated assignment whose type has blanks or nested brackets (Dict[str, str], Dict[str, List[str]]), keys and environment lookups staying readable', () => {
    expect(redactScriptText('token: Dict[str, str] = {"hf": "ann-d-1"}')).toBe('token: Dict[str, str] = {"hf": "[redacted]"}');
    expect(redactSecretText('token: Dict[str, str] = {"hf": "ann-d-2"}')).toBe('token: Dict[str, str] = {"hf": "[redacted]"}');
    const src = 'class S:\n    tokens: Dict[str, List[str]] = {\n        "hf": ["ann-d-3", "ann-d-4"],\n        "gh": os.environ["GH_TOKEN"],\n        "user": "svc-bot",\n        "note": f"from {src}",\n    }\n    api_key: str = "ann-d-5"\n    password: Optional[str] = os.environ["DB_PASSWORD"]\n    secret: Optional[str] = os.getenv("APP_SECRET")\n    api_keys: List[str] = ["ann-d-6", \'ann-d-7\']\n    timeout: int = 30\n';
    expect(redactScriptText(src)).toBe('class S:\n    tokens: Dict[str, List[str]] = {\n        "hf": ["[redacted]", "[redacted]"],\n        "gh": os.environ["GH_TOKEN"],\n        "user": "svc-bot",\n        "note": f"from {src}",\n    }\n    api_key: str = "[redacted]"\n    password: Optional[str] = os.environ["DB_PASSWORD"]\n    secret: Optional[str] = os.getenv("APP_SECRET")\n    api_keys: List[str] = ["[redacted]", \'[redacted]\']\n    timeout: int = 30\n');
    // A default in the lookup is a literal value: hidden.
    expect(redactScriptText('password: str = os.getenv("PW", "ann-d-8")')).not.toContain('ann-d-8');
    // Other names' containers stay.
    const other = 'headers: Dict[str, str] = {"Accept": "application/json"}\nlabels = {"team": "ml"}\n';
    expect(redactScriptText(other)).toBe(other);
  });

  it('hides a secret name\'s value split over lines: a tuple ("password", "x") one item a line, a keyword argument whose literal is on the next line, a parenthesized literal; messages and other pairs stay', () => {
    const src = 'settings = [\n    ("user", "svc"),\n    ("password",\n     "ml-tup-1"),\n]\ncfg.set("token", "ml-tup-2")\nc = dict(password=\n    "ml-tup-3")\nconnect(host="db",\n        api_key=\n            "ml-tup-4")\nsecret = (\n    "ml-tup-5"\n    "ml-tup-6"\n)\nos.environ.setdefault(\n    "HF_TOKEN",\n    "ml-tup-7")\nprint("token", "is set")\nlog("password", x)\n';
    expect(redactScriptText(src)).toBe('settings = [\n    ("user", "svc"),\n    ("password",\n     "[redacted]"),\n]\ncfg.set("token", "[redacted]")\nc = dict(password=\n    "[redacted]")\nconnect(host="db",\n        api_key=\n            "[redacted]")\nsecret = (\n    "[redacted]"\n    "[redacted]"\n)\nos.environ.setdefault(\n    "HF_TOKEN",\n    "[redacted]")\nprint("token", "is set")\nlog("password", x)\n');
    expect(redactScriptText('x = ("password", "ml-tup-8")')).toBe('x = ("password", "[redacted]")');
  });

  it('hides a double- or single-quoted value of a secret-named key in one line of text (a log message, a notebook output): `token: "x"`; the quotes, other keys and string concatenations stay', () => {
    for (const f of [redactSecretText, redactScriptText]) {
      expect(f('INFO loaded config token: "msg-q-1" from env')).toBe('INFO loaded config token: "[redacted]" from env');
      expect(f("WARN password: 'msg-q-2', retrying")).toBe("WARN password: '[redacted]', retrying");
      expect(f('auth failed: token: "msg q 3"')).toBe('auth failed: token: "[redacted]"');
      expect(f('{token: "msg-q-4,5", user: bob}')).toBe('{token: "[redacted]", user: bob}');
      expect(f('token: "a\\"msg-q-6" next')).toBe('token: "[redacted]" next');
      expect(f('password: msg-q-7: wrong')).toBe('password: [redacted]: wrong');
      for (const keep of ['print("token: " + tok + "x")', 'status: "running"', 'a: b: c', 'password: "" (unset)'])
        expect(f(keep)).toBe(keep);
    }
  });

  it('a gzip-compressed base64 value whose text is longer than is inflated (256 KiB) and holds no secret in its first part is replaced by [unscanned: N bytes], not passed on unread; shorter texts are read whole', () => {
    const late = gzipSync(`${'x=1\n'.repeat(100_000)}DB_PASSWORD=gz-late-1\n`);
    expect(redactBase64Text(late.toString('base64'))).toBe(`[unscanned: ${late.length} bytes]`);
    // A secret in the part read hides the value whole, as before; a short harmless text stays.
    expect(redactBase64Text(gzipSync(`DB_PASSWORD=gz-early-2\n${'x=1\n'.repeat(100_000)}`).toString('base64'))).toBe('[redacted]');
    const short = gzipSync(`${'x=1\n'.repeat(1000)}DB_PASSWORD=gz-short-3\n`).toString('base64');
    expect(redactBase64Text(short)).toBe('[redacted]');
    const harmless = gzipSync('x=1\n'.repeat(1000)).toString('base64');
    expect(redactBase64Text(harmless)).toBe(harmless);
    // A gzip of binary read whole stays; one read in part is not passed on either (a bomb, a tar.gz whose later file holds a secret).
    const smallBinary = gzipSync(Buffer.alloc(64 * 1024)).toString('base64');
    expect(redactBase64Text(smallBinary)).toBe(smallBinary);
    const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024));
    expect(redactBase64Text(bomb.toString('base64'))).toBe(`[unscanned: ${bomb.length} bytes]`);
    const tarLike = gzipSync(Buffer.concat([Buffer.alloc(512), Buffer.from('x=1\n'.repeat(100_000)), Buffer.from('DB_PASSWORD=gz-tar-4\n')]));
    expect(redactBase64Text(tarLike.toString('base64'))).toBe(`[unscanned: ${tarLike.length} bytes]`);
    // Encoded twice: the inner long gzip is reported as well.
    const twice = Buffer.from(late.toString('base64')).toString('base64');
    expect(redactBase64Text(twice)).toBe(`[unscanned: ${late.length} bytes]`);
  });
  it('hides a secret an audit record\'s message echoes (errorMessage, status.message, failureReason) in a job record; other strings and messages without one stay (===)', () => {
    const rec = { errorMessage: 'Invalid value: token: "job-msg-1"', protoPayload: { status: { code: 3, message: 'bad flag --api-key job-msg-2' } }, detail: { FailureReason: 'AlgorithmError: export HF_TOKEN=job-msg-3 failed' }, note: 'token: "kept-not-a-message"' };
    expect(redactJobSecrets(rec)).toEqual({ errorMessage: 'Invalid value: token: "[redacted]"', protoPayload: { status: { code: 3, message: 'bad flag --api-key [redacted]' } }, detail: { FailureReason: 'AlgorithmError: export HF_TOKEN=[redacted] failed' }, note: 'token: "kept-not-a-message"' });
    const clean = { errorMessage: 'ResourceLimitExceeded', status: { message: 'ok' } };
    expect(redactJobSecrets(clean)).toBe(clean);
    expect(redactSecretText('python -c "token = {\'hf\': \'argv-c-1\'}"')).toBe('python -c "token = {\'hf\': \'[redacted]\'}"');
  });
  it('reads a dashed secret flag in text (--api-key, --access-key, --private-key): the cheap test wanted the underscore name, so `python train.py --api-key x` was returned as it came', () => {
    expect(redactSecretText('python train.py --api-key dash-1 --epochs 3')).toBe('python train.py --api-key [redacted] --epochs 3');
    expect(redactSecretText('train --access-key dash-2 --private-key=dash-3 --x 1')).toBe('train --access-key [redacted] --private-key=[redacted] --x 1');
    for (const keep of ['--api-key-file /run/k', 'python train.py --epochs 3']) expect(redactSecretText(keep)).toBe(keep);
  });
});
