import { describe, expect, it } from 'vitest';
import { redactFreeText, redactScriptText, redactSecretText } from '../../core/secrets.js';
import { redactAssignedExpressions } from '../../core/secrets/expressions.js';
import { redactEnvListValues } from '../../core/secrets/env-lists.js';
import { isCredentialWord } from '../../core/secrets/text.js';
import { configMapRecord, sinkAndQuarantine } from './secrets-audit-harness.js';

/** verify27b: leaks and over-redaction tried against the redact12 expression and key-shape rules. */
const TEXT_RULES = [redactSecretText, redactScriptText, redactFreeText] as const;

describe('core/secrets: verify27b leak and over-redaction checks', () => {
  it("Python's walrus to a secret's name hides the value (was: ':=' read as a key ':' with value '=', the secret kept)", () => {
    for (const f of TEXT_RULES) {
      expect(f('password := "v27-walrus"')).toBe('password := "[redacted]"');
      expect(f('password:="v27-walrus"')).toBe('password:="[redacted]"');
      expect(f('x = 1\npassword := getpw() or "v27-walrus"')).toBe('x = 1\npassword := getpw() or "[redacted]"');
      expect(f('if (token := os.getenv("T", "v27-fallback")):')).toBe('if (token := os.getenv("T", "[redacted]")):');
      // A YAML value that starts with '=' is still a value.
      expect(f('password: =v27-yaml')).toBe('password: [redacted]');
    }
  });

  it('continuations, template literals, triple quotes, getenv fallbacks, dict values and YAML tags are hidden', () => {
    for (const f of TEXT_RULES) {
      expect(f('token = "v27-a" \\\n  + "v27-b"')).toBe('token = "[redacted]" \\\n  + "[redacted]"');
      expect(f('token = `v27-tpl${x}`')).not.toContain('v27-tpl');
      expect(f('password = """\nv27-triple\n"""')).toBe('password = """[redacted]"""');
      expect(f("api_key = '''v27-triple'''")).toBe("api_key = '''[redacted]'''");
      expect(f('api_key=os.getenv("K", "v27-fallback")')).not.toContain('v27-fallback');
      expect(f('api_key = os.getenv("K", "v27-fallback")')).not.toContain('v27-fallback');
      expect(f('secret = {"k": "v27-dict"}')).toBe('secret = {"k": "[redacted]"}');
      expect(f('token: !!str v27-yamltag')).toBe('token: !!str [redacted]');
    }
  });

  it('names and values that are no secret stay for analysts', () => {
    for (const f of TEXT_RULES)
      for (const keep of ['model_name = "fraud"', 'token_budget = 512', 'max_tokens = int("100")', 'routing_key = "ml.model.deployed"', 'routing_key: ml.model.deployed', 'service_key: fraud-scorer-v2', 'password := getpw()'])
        expect(f(keep)).toBe(keep);
  });

  it('ConfigMap files: a grouped key and a walrus are hidden in raw and quarantine, a service name stays', async () => {
    const { text, raw, quarantine } = await sinkAndQuarantine(configMapRecord({
      'alerts.yaml': 'service_key: abcd-efgh-ijkl-mnop\nrouting_key: ml.model.deployed\nother_key: fraud-scorer-v2\n',
      'train.py': 'import os\nif (password := os.environ.get("DB_PW")) is None:\n    password := "v27-walrus-cm"\n',
    }));
    for (const t of [text, quarantine]) expect(t).not.toMatch(/abcd-efgh|v27-walrus-cm/);
    expect(raw.requestObject.data['alerts.yaml']).toBe('service_key: [redacted]\nrouting_key: ml.model.deployed\nother_key: fraud-scorer-v2\n');
    expect(raw.requestObject.data['train.py']).toContain('password := "[redacted]"');
  });

  it('a 64 KiB script of `token = f(` lines (and walrus, keyword forms) is read in linear work', () => {
    const n = 64 * 1024;
    for (const input of ['token = f(\n'.repeat(n / 11), 'token = f("a",\n'.repeat(n / 15), "token = f('\n".repeat(n / 11), 'token = f(`\n'.repeat(n / 11), 'token := f(\n'.repeat(n / 12), 'f(token = g(\n'.repeat(n / 13)]) {
      const work = { steps: 0 };
      redactAssignedExpressions(input, isCredentialWord, work);
      expect(work.steps).toBeLessThanOrEqual(input.length + 2 * 1024);
    }
  });
  it("a Kubernetes env list in a ConfigMap file hides the value beside a secret's name (was kept: `value` is no secret's name), in raw, quarantine and the sink; other values stay", async () => {
    const manifest = 'env:\n- name: DB_PASSWORD\n  value: v27-hunter2\n- name: PAGERDUTY_SERVICE_KEY\n  value: "abcd-efgh-ijkl-mnop"  # pd\n- name: SERVICE_KEY\n  value: fraud-scorer-v2\n- name: ROUTING_KEY\n  value: ml.model.deployed\n- name: MODEL_NAME\n  value: fraud\n- {name: API_KEY, value: v27-flow}\n- {name: OTHER_SERVICE_KEY, value: churn-model-v2}\n';
    const expected = 'env:\n- name: DB_PASSWORD\n  value: [redacted]\n- name: PAGERDUTY_SERVICE_KEY\n  value: "[redacted]"  # pd\n- name: SERVICE_KEY\n  value: fraud-scorer-v2\n- name: ROUTING_KEY\n  value: ml.model.deployed\n- name: MODEL_NAME\n  value: fraud\n- {name: API_KEY, value: [redacted]}\n- {name: OTHER_SERVICE_KEY, value: churn-model-v2}\n';
    expect(redactScriptText(manifest)).toBe(expected);
    // The same text inside a JSON string (a record body read as text): escaped breaks and quotes.
    expect(redactEnvListValues(JSON.stringify(manifest))).toBe(JSON.stringify(expected));
    const { text, raw, quarantine } = await sinkAndQuarantine(configMapRecord({ 'deploy.yaml': manifest }));
    for (const t of [text, quarantine]) expect(t).not.toMatch(/v27-hunter2|abcd-efgh|v27-flow/);
    expect(raw.requestObject.data['deploy.yaml']).toBe(expected);
  });
});
