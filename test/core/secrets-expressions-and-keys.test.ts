import { afterEach, describe, expect, it } from 'vitest';
import { normalizeAudit } from '../../connectors/kubeflow/audit.js';
import { redactAuditBody } from '../../connectors/kubeflow/audit/redact-body.js';
import { holdsSecret, isSecretName, redactArgv, redactFreeText, redactScriptText, redactSecretText } from '../../core/secrets.js';
import { redactAssignedExpressions } from '../../core/secrets/expressions.js';
import { isCredentialWord } from '../../core/secrets/text.js';
import { readFixtureJson } from '../helpers/fixtures.js';
import { ctx as kfCtx } from '../connectors/kubeflow/helpers.js';
import { AUDIT, configMapRecord, sinkAndQuarantine } from './secrets-audit-harness.js';
import { startRoutes, type Harness } from '../connectors/sagemaker/harness.js';

type Obj = Record<string, any>;
const EXEC = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_exec_pod.json');
const TEXT_RULES = [redactSecretText, redactScriptText, redactFreeText] as const;

/** The falco RequestResponse fixture made a pod whose container has `env`. */
function podRecord(env: Array<{ name: string; value: string }>, command?: string[]): Obj {
  const ev = structuredClone(AUDIT);
  ev.requestObject.spec.containers[0].env = env;
  if (command) ev.requestObject.spec.containers[0].command = command;
  return ev;
}

/** Session 25's open redaction leaks (redact12), each asserted where the secret goes: raw, quarantine, details. */
describe('core/secrets: key shapes, expressions, Kaggle credentials and split curl headers (redact12)', () => {
  it('a key printed in equal groups (abcd-efgh-ijkl-mnop) or of random letters is no service name: hidden under a key-kind name; service names stay', async () => {
    for (const value of ['abcd-efgh-ijkl-mnop', 'wxyz-qrst-uvwx', 'abcde-fghij-klmno-pqrst', 'qzxvbnmt-svc', 'inference-bcdfghk'])
      for (const name of ['service_key', 'SERVICE_KEY', 'app_key', 'license_key', 'integration_key']) expect(holdsSecret(name, value)).toBe(true);
    for (const value of ['inference-svc', 'fraud-scorer', 'churn-model-v2', 'mlflow-tracking', 'model.v3', 'grpc-gateway', 'xgb-svc', 'web-api-dev'])
      expect(holdsSecret('service_key', value)).toBe(false);
    for (const f of TEXT_RULES) {
      expect(f('service_key: abcd-efgh-ijkl-mnop')).toBe('service_key: [redacted]');
      expect(f('export PAGERDUTY_SERVICE_KEY=abcd-efgh-ijkl-mnop')).toBe('export PAGERDUTY_SERVICE_KEY=[redacted]');
      for (const keep of ['service_key: inference-svc', 'app_key: fraud-scorer', 'license_key: churn-model-v2']) expect(f(keep)).toBe(keep);
    }
    const { text, raw, quarantine } = await sinkAndQuarantine(podRecord([
      { name: 'PAGERDUTY_SERVICE_KEY', value: 'abcd-efgh-ijkl-mnop' },
      { name: 'OPSGENIE_INTEGRATION_KEY', value: 'wxyz-qrst-uvwx-bcdf' },
      { name: 'DD_SERVICE_KEY', value: 'inference-svc' },
    ]));
    for (const t of [text, quarantine]) expect(t).not.toMatch(/abcd-efgh|wxyz-qrst/);
    expect(raw.requestObject.spec.containers[0].env).toEqual([
      { name: 'PAGERDUTY_SERVICE_KEY', value: '[redacted]' },
      { name: 'OPSGENIE_INTEGRATION_KEY', value: '[redacted]' },
      { name: 'DD_SERVICE_KEY', value: 'inference-svc' },
    ]);
    expect(quarantine).toContain('"value":"inference-svc"');
  });

  it('under routing_key only an AMQP topic stays (short lower-case words joined by dots, * and #); a PagerDuty key with a dot or mixed case is hidden', () => {
    for (const value of ['R0ut1ngKey.abc123XYZdef456ghi789jk', 'r3FPuDvNOTEDyQYCc7trBkymIFcy2NkE', 'Model.Deployed', 'r0ut1ngkey4abc123.xyz', 'abcd.qzxvbnmtpl', `${'a'.repeat(30)}.x`])
      expect(holdsSecret('routing_key', value)).toBe(true);
    for (const value of ['model.deployed', 'audit.*.ml', 'ml.#', 'registry.model_version.created', 'kserve.isvc-ready.v1', 'stock.usd.nyse'])
      expect(holdsSecret('routing_key', value)).toBe(false);
    for (const f of TEXT_RULES) {
      expect(f('routing_key: R0ut1ngKey.abc123XYZdef456ghi789jk')).toBe('routing_key: [redacted]');
      expect(f('routing_key: audit.*.ml')).toBe('routing_key: audit.*.ml');
    }
    expect(redactArgv(['publish', '--routing-key', 'R0ut1ngKey.abc123XYZdef456ghi789jk', '--routing-key', 'model.deployed']).argv).toEqual(['publish', '--routing-key', '[redacted]', '--routing-key', 'model.deployed']);
  });

  it('every literal of an expression given to a secret name is hidden (after a call, in a conditional, a concatenation, an unknown call); lookups, keys, comparisons and other names stay', () => {
    const hidden: Array<[string, string]> = [
      ['token = get_token() or "r12-or-1"', 'token = get_token() or "[redacted]"'],
      ['secret = "r12" + "-concat-3"', 'secret = "[redacted]" + "[redacted]"'],
      ['api_key = my_wrap("r12-wrap-4")', 'api_key = my_wrap("[redacted]")'],
      ['self.api_key = cfg.get("api_key") or "r12-self-6"', 'self.api_key = cfg.get("api_key") or "[redacted]"'],
      ['os.environ["HF_TOKEN"] = load_tok() or "r12-env-7"', 'os.environ["HF_TOKEN"] = load_tok() or "[redacted]"'],
      ['password: str = read_pw() or "r12-ann-8"', 'password: str = read_pw() or "[redacted]"'],
      ['token = (\n    get_token()\n    or "r12-multi-9"\n)', 'token = (\n    get_token()\n    or "[redacted]"\n)'],
      ['client = Client(token=get_tok() or "r12-kw-10", url="https://hub")', 'client = Client(token=get_tok() or "[redacted]", url="https://hub")'],
      ['token="r12a"+"r12b"', 'token=[redacted]+"[redacted]"'],
      ['x = 1; token = get() or "r12-semi-11"; y = "keep-me"', 'x = 1; token = get() or "[redacted]"; y = "keep-me"'],
      ["password = wrap(wrap('r12-deep-12'), sep='-')", "password = wrap(wrap('[redacted]'), sep='-')"],
      ['token = """r12-tri""" + suffix', 'token = """[redacted]""" + suffix'],
    ];
    for (const [input, want] of hidden) for (const f of TEXT_RULES) expect(f(input)).toBe(want);
    // The script rules also hide a first word (a YAML plain value's shape), the text rules keep it.
    for (const f of TEXT_RULES) expect(f('const token = process.env.TOKEN || "r12-js-5";')).toMatch(/^const token = (?:process\.env\.TOKEN|\[redacted\]) \|\| "\[redacted\]";$/);
    for (const f of TEXT_RULES) expect(f('token = x if use_env else "r12-cond-2"')).toMatch(/^token = (?:x|\[redacted\]) if use_env else "\[redacted\]"$/);
    for (const keep of [
      'token = os.getenv("HF_TOKEN")',
      'token = get_token("hub")',
      'password = dbutils.secrets.get(scope="ml", key="db-password")',
      'token = get_token(user="svc-bot", host="vault")',
      'token = f"{prefix}-{suffix}"',
      'token = ""',
      'token_url = base + "/oauth/token"',
      'secret_name = "db-" + env',
      'token = bytes(tok, "utf-8")',
      'if token == "r12-cmp":\n    pass',
      'model = load("resnet") or "r12-not-a-secret-name"',
      // JSON text around an assignment (a quarantined line cut before it parsed): a quote glued to a word closes its string.
      '{"requestURI":"/api/v1/pods?token=[redacted]","verb":"get","user":"bob"}',
      '{"note":"token = get_token() or b","verb":"get"}',
    ])
      for (const f of [redactSecretText, redactFreeText]) expect(f(keep)).toBe(keep);
    // A lookup's literal that reads as a credential, and a fallback, are hidden.
    expect(redactSecretText('token = get_token("hf_r12AbCdEf123456") or cfg.get("token", "r12-fb")')).toBe('token = get_token("[redacted]") or cfg.get("token", "[redacted]")');
  });

  it('script literals after the first reach no sink nor quarantine (a KFP component, a ConfigMap script, a sh -c string)', async () => {
    const script = ['import os', 'token = get_token() or "r12cm-or-1"', 'api_key = my_wrap("r12cm-wrap-2")', 'secret = "r12cm" + "-cat-3"', 'hf = os.getenv("HF_TOKEN")', ''].join('\n');
    const { text, raw, quarantine } = await sinkAndQuarantine(configMapRecord({ 'train.py': script }));
    for (const t of [text, quarantine]) expect(t).not.toMatch(/r12cm-or-1|r12cm-wrap-2|r12cm|-cat-3/);
    expect(raw.requestObject.data['train.py']).toBe(['import os', 'token = get_token() or "[redacted]"', 'api_key = my_wrap("[redacted]")', 'secret = "[redacted]" + "[redacted]"', 'hf = os.getenv("HF_TOKEN")', ''].join('\n'));
    const pod = await sinkAndQuarantine(podRecord([], ['sh', '-c', `python -c 'token = fetch() or "r12sh-4"; print(token)'`]));
    for (const t of [pod.text, pod.quarantine]) expect(t).not.toContain('r12sh-4');
    expect(pod.raw.requestObject.spec.containers[0].command[2]).toBe(`python -c 'token = fetch() or "[redacted]"; print(token)'`);
  });

  it("Kaggle's kaggle.json ({username, key}) has its key hidden as JSON, written by a script, echoed, in a ConfigMap or env value; KAGGLE_KEY is a secret's name; key elsewhere stays", async () => {
    const KEY = '0123abcd4567ef890123abcd4567ef89';
    expect(redactFreeText(`{"username":"alice","key":"${KEY}"}`)).toBe('{"username":"alice","key":"[redacted]"}');
    for (const f of TEXT_RULES) {
      expect(f(`echo '{"username":"alice","key":"${KEY}"}' > ~/.kaggle/kaggle.json`)).toBe(`echo '{"username":"alice","key":"[redacted]"}' > ~/.kaggle/kaggle.json`);
      expect(f(`json.dump({"username": "alice", "key": "${KEY}"}, f)`)).toBe('json.dump({"username": "alice", "key": "[redacted]"}, f)');
      expect(f(`creds = dict(username="alice", key="${KEY}")`)).toBe('creds = dict(username="alice", key="[redacted]")');
      expect(f(`export KAGGLE_USERNAME=alice KAGGLE_KEY=${KEY}`)).toBe('export KAGGLE_USERNAME=alice KAGGLE_KEY=[redacted]');
      for (const keep of ['{"key": "models/x.pkl", "bucket": "ml"}', '{"username": "alice", "key": ""}', 'sort(key="name")', '{"username": "alice", "team": "fraud"}']) expect(f(keep)).toBe(keep);
    }
    expect(isSecretName('KAGGLE_KEY')).toBe(true);
    expect(isSecretName('KAGGLE_USERNAME')).toBe(false);
    const { text, raw, quarantine } = await sinkAndQuarantine(configMapRecord({
      'kaggle.json': `{\n  "username": "alice",\n  "key": "${KEY}"\n}\n`,
      'setup.py': `import json\nwith open("/root/.kaggle/kaggle.json", "w") as f:\n    f.write('{"username":"alice","key":"${KEY}"}')\n`,
      'objects.json': '{"key": "models/churn/v2/model.pkl"}',
    }));
    for (const t of [text, quarantine]) expect(t).not.toContain(KEY);
    expect(JSON.parse(raw.requestObject.data['kaggle.json'])).toEqual({ username: 'alice', key: '[redacted]' });
    expect(raw.requestObject.data['setup.py']).toContain(`f.write('{"username":"alice","key":"[redacted]"}')`);
    expect(raw.requestObject.data['objects.json']).toBe('{"key": "models/churn/v2/model.pkl"}');
    const pod = await sinkAndQuarantine(podRecord([{ name: 'KAGGLE_CONFIG', value: `{"username":"alice","key":"${KEY}"}` }, { name: 'KAGGLE_KEY', value: KEY }, { name: 'KAGGLE_USERNAME', value: 'alice' }]));
    for (const t of [pod.text, pod.quarantine]) expect(t).not.toContain(KEY);
    expect(pod.raw.requestObject.spec.containers[0].env).toEqual([
      { name: 'KAGGLE_CONFIG', value: '{"username":"alice","key":"[redacted]"}' },
      { name: 'KAGGLE_KEY', value: '[redacted]' },
      { name: 'KAGGLE_USERNAME', value: 'alice' },
    ]);
  });

  it('curl -H Authorization:Bearer\\ x (escaped blank), glued to -H, or split by a shell into words: the credential is hidden, name and scheme stay', () => {
    for (const f of TEXT_RULES) {
      expect(f('curl -H Authorization:Bearer\\ r12-esc-1 https://mlflow')).toBe('curl -H Authorization:Bearer\\ [redacted] https://mlflow');
      expect(f('curl -H Authorization:\\ Bearer\\ r12-esc-2 https://mlflow')).toBe('curl -H Authorization:\\ Bearer\\ [redacted] https://mlflow');
      expect(f('curl -HAuthorization:Bearer\\ r12-glued-3 https://mlflow')).toBe('curl -HAuthorization:Bearer\\ [redacted] https://mlflow');
      expect(f('curl -H Authorization:Bearer r12-split-4 https://mlflow')).toBe('curl -H Authorization:Bearer [redacted] https://mlflow');
      expect(f('curl -H X-Api-Key:\\ r12-esc-5 https://mlflow')).toBe('curl -H X-Api-Key:\\ [redacted] https://mlflow');
      for (const keep of ['curl -H Accept:\\ application/json https://mlflow', 'curl -sSfL -H Accept:text/plain https://mlflow']) expect(f(keep)).toBe(keep);
    }
    // curl's -H takes a value: `-HAu…` is no `-u` cluster (its "user" `thorization` was read for a password).
    expect(redactSecretText('curl -HAuthorization:r12-glued-6 https://x')).toBe('curl -HAuthorization:[redacted] https://x');
    expect(redactSecretText('curl -sSfu bob:r12-u-7 https://x')).toBe('curl -sSfu bob:[redacted] https://x');
    expect(redactArgv(['curl', '-H', 'Authorization:Bearer', 'r12-w-8', 'https://x']).argv).toEqual(['curl', '-H', 'Authorization:Bearer', '[redacted]', 'https://x']);
    expect(redactArgv(['curl', '-H', 'Authorization:', 'Bearer', 'r12-w-9']).argv).toEqual(['curl', '-H', 'Authorization:', 'Bearer', '[redacted]']);
    expect(redactArgv(['curl', '-HX-Api-Key:', 'r12-w-10']).argv).toEqual(['curl', '-HX-Api-Key:', '[redacted]']);
    for (const keep of [['curl', '-H', 'Authorization:Bearer', 'https://x'], ['curl', '-H', 'Accept:', 'text/plain', 'https://x']]) expect(redactArgv(keep).argv).toBe(keep);
  });

  it('an exec of curl with a split Authorization header: hidden in requestURI, details.exec_command and details.request_uri', () => {
    const ev = structuredClone(EXEC);
    const base = ev.requestURI.slice(0, ev.requestURI.indexOf('?'));
    ev.requestURI = `${base}?command=curl&command=-H&command=Authorization%3ABearer&command=r12-exec-1&command=-H&command=Authorization%3ABearer%5C%20r12-exec-2&command=http%3A%2F%2Fmlflow%3A5000&container=nginx1`;
    const [out] = normalizeAudit(ev, kfCtx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/r12-exec-[12]/);
    expect(out!.details?.exec_command).toEqual(['curl', '-H', 'Authorization:Bearer', '[redacted]', '-H', 'Authorization:Bearer\\ [redacted]', 'http://mlflow:5000']);
    expect(out!.details?.request_uri).toBe((out!.raw as Obj).requestURI);
    const q = redactAuditBody(Buffer.from(JSON.stringify(ev))).toString();
    expect(q).not.toMatch(/r12-exec-[12]/);
  });

  it('an admission answer echoing a grouped key, a dotted PagerDuty key or an expression: hidden in raw, error.message and details.response_message', () => {
    const ev = structuredClone(AUDIT);
    const message = 'admission webhook "validate.ml" denied the request: service_key: "abcd-efgh-ijkl-mnop" and routing_key: "R0ut1ngKey.abc123XYZdef456ghi789jk" are literals; token = get_token() or "r12-msg-3" in source';
    ev.responseStatus = { metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 };
    const [out] = normalizeAudit(ev, kfCtx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/abcd-efgh|R0ut1ngKey|r12-msg-3/);
    const hidden = 'admission webhook "validate.ml" denied the request: service_key: "[redacted]" and routing_key: "[redacted]" are literals; token = get_token() or "[redacted]" in source';
    expect(out!.details?.response_message).toBe(hidden);
    expect(out!.error?.message).toBe(hidden);
    expect((out!.raw as Obj).responseStatus.message).toBe(hidden);
  });

  it('reads a 64 KiB adversarial text in linear work: each right-hand side is read once, the shape rules and the Kaggle scan stay bounded', () => {
    const n = 64 * 1024;
    const inputs = [
      // One side opened and never closed: read once, to its limit.
      `token = (${' "a" +'.repeat(n / 6)}`,
      // Assignments nested in one side: not read again.
      'token = f(token = g(token = h('.repeat(n / 30),
      // Many short sides: each to its line's end.
      'token = a or "x"\n'.repeat(n / 17),
      // Unclosed literals and escaped quotes.
      `token = a or "${'\\"'.repeat(n / 2)}`,
      `api_key = ${'['.repeat(n)}`,
      `password = ${'x('.repeat(n / 2)}`,
    ];
    for (const input of inputs) {
      const work = { steps: 0 };
      redactAssignedExpressions(input, isCredentialWord, work);
      expect(work.steps).toBeLessThanOrEqual(input.length + 2 * 1024);
    }
    // The result on such input is still right: the last literal of a long side is hidden.
    const ors = ' or b'.repeat(Math.floor((n - 64) / 5));
    expect(redactSecretText(`token = a${ors} or "r12-last"`)).toBe(`token = a${ors} or "[redacted]"`);
    // Kaggle's scan reads each object once (4096 characters at most) and backslash runs from their start.
    const backslashes = `{"username":"a","key":"r12-k"}{"username":"b",${'\\'.repeat(4000)}}`.repeat(16);
    expect(redactSecretText(backslashes)).not.toContain('r12-k');
    const objects = `{"username":"a","key":"r12-kk"}${'{username key'.repeat(n / 13)}`;
    expect(redactSecretText(objects).startsWith('{"username":"a","key":"[redacted]"}')).toBe(true);
    // The shape rules read a value of at most 63 (a service name) or 255 characters (a topic).
    expect(holdsSecret('service_key', `${'ab-'.repeat(n / 3)}svc`)).toBe(true);
    expect(holdsSecret('routing_key', `${'ab.'.repeat(n / 3)}ml`)).toBe(true);
  });
});

describe('SageMaker: a rejected record keeps these secrets out of quarantine (redact12)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('an EventBridge envelope the route rejects, holding a grouped service key, a dotted routing key, KAGGLE_KEY and a kaggle.json hyperparameter', async () => {
    const KEY = 'eb-key-0123456789';
    h = await startRoutes({ eventbridge: { api_keys: [KEY] } });
    const envelope = {
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.sagemaker',
      detail: {
        requestParameters: {
          environment: { SERVICE_KEY: 'abcd-efgh-ijkl-mnop', ROUTING_KEY: 'R0ut1ngKey.abc123XYZdef456ghi789jk', KAGGLE_KEY: 'r12-kaggle-env', EVENTS_ROUTING_KEY: 'model.deployed' },
          hyperParameters: { kaggle: '{"username":"alice","key":"r12-kaggle-hp"}', lr: '0.01' },
        },
      },
    };
    const r = await fetch(`${h.url}/v1/ingest/sagemaker/eventbridge`, { method: 'POST', body: JSON.stringify(envelope), headers: { 'content-type': 'application/json', 'x-api-key': KEY } });
    expect(r.status).toBe(400);
    const q = h.spool.listQuarantine({ channel: 'sagemaker.eventbridge' });
    expect(q).toHaveLength(1);
    const body = q[0]!.body.toString();
    expect(body).not.toMatch(/abcd-efgh|R0ut1ngKey|r12-kaggle-env|r12-kaggle-hp/);
    const kept = JSON.parse(body).detail.requestParameters;
    expect(kept.environment).toEqual({ SERVICE_KEY: '[redacted]', ROUTING_KEY: '[redacted]', KAGGLE_KEY: '[redacted]', EVENTS_ROUTING_KEY: 'model.deployed' });
    expect(JSON.parse(kept.hyperParameters.kaggle)).toEqual({ username: 'alice', key: '[redacted]' });
    expect(kept.hyperParameters.lr).toBe('0.01');
  });
});
