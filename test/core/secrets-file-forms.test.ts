import { describe, expect, it } from 'vitest';
import { redactScriptText, redactSecretText } from '../../core/secrets.js';
import { configMapRecord, sinkAndQuarantine } from './secrets-audit-harness.js';

/**
 * Credentials written in the forms of the files ML jobs set up (leftredact's hunt): an INI file's text echoed by a
 * script (`~/.aws/credentials`, an app's `.ini`), a Dockerfile's legacy `ENV key value`, a Terraform variable's
 * default. Each was shown whole in script and one-line text alike.
 */
const both = (s: string) => [redactScriptText(s), redactSecretText(s)];

describe('core/secrets: credentials in echoed INI lines, Dockerfile ENV and Terraform variables', () => {
  it('hides the INI lines echo and printf write by name (aws_secret_access_key = …), a $VAR and other keys kept', () => {
    expect(both('echo "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" >> ~/.aws/credentials'))
      .toEqual(Array(2).fill('echo "aws_secret_access_key = [redacted]" >> ~/.aws/credentials'));
    expect(both('printf "[default]\\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\n" > ~/.aws/credentials'))
      .toEqual(Array(2).fill('printf "[default]\\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\\naws_secret_access_key = [redacted]\\n" > ~/.aws/credentials'));
    expect(both("echo 'password = hunter2' >> /etc/mlflow/app.ini")).toEqual(Array(2).fill("echo 'password = [redacted]' >> /etc/mlflow/app.ini"));
    expect(both('echo -e "[hub]\\ntoken = hf_AbCdEfGhIjKlMnOp\\nendpoint = https://hf.co"')).toEqual(Array(2).fill('echo -e "[hub]\\ntoken = [redacted]\\nendpoint = https://hf.co"'));
    for (const keep of ['echo "password = $DB_PW" >> app.ini', 'echo "region = us-east-1" >> ~/.aws/config', 'python -c "token = tok"']) expect(both(keep)).toEqual([keep, keep]);
  });

  it("hides a Dockerfile's legacy ENV key value by name, as ENV key=value is", () => {
    const dockerfile = [
      'FROM python:3.11-slim',
      'ENV WANDB_API_KEY 0123456789abcdef0123456789abcdef01234567',
      'ENV HF_TOKEN hf_AbCdEfGhIjKlMnOpQrStUv',
      'ENV MODEL_ID meta-llama/Llama-3.1-8B',
      'ENV DB_PASSWORD $DB_PASSWORD',
      'ENV TOKEN_PATH /run/secrets/hf',
      'RUN pip install -r requirements.txt',
    ].join('\n');
    const want = dockerfile.replace('0123456789abcdef0123456789abcdef01234567', '[redacted]').replace('hf_AbCdEfGhIjKlMnOpQrStUv', '[redacted]');
    expect(both(dockerfile)).toEqual([want, want]);
  });

  it("hides a Terraform input variable's default under a secret's name; other variables and a null default stay", () => {
    const tf = [
      'variable "db_password" {',
      '  type      = string',
      '  default   = "S3cretPw-tf"',
      '  sensitive = true',
      '  validation {',
      '    condition = length(var.db_password) > 8',
      '  }',
      '}',
      'variable "region" { default = "us-east-1" }',
      'variable "hf_token" { default = null }',
      'variable "api_key" { default = "k-abc-tf" }',
    ].join('\n');
    expect(redactScriptText(tf)).toBe(tf.replace('S3cretPw-tf', '[redacted]').replace('k-abc-tf', '[redacted]'));
  });

  it("hides a setter's secret-named pair in one line of text (python -c, a message), as a script does", () => {
    // Only a script read them: `spark.conf.set("…secret.key", "x")` in a `python -c` string or an argument was shown.
    expect(redactSecretText('spark.conf.set("spark.hadoop.fs.s3a.secret.key", "wJalrXUtnFEMI/K7MDENG")')).toBe('spark.conf.set("spark.hadoop.fs.s3a.secret.key", "[redacted]")');
    expect(redactSecretText("python -c 'import mlflow; mlflow.log_param(\"hf_token\", \"hf_AbCdEfGhIjKl\")'")).toBe("python -c 'import mlflow; mlflow.log_param(\"hf_token\", \"[redacted]\")'");
    for (const keep of ['print("token", "is set")', 'mlflow.set_tag("team", "fraud")', 'spark.conf.set("spark.hadoop.fs.s3a.access.key", "AKIAIOSFODNN7EXAMPLE")']) expect(redactSecretText(keep)).toBe(keep);
  });

  it("in a ConfigMap's Dockerfile and Terraform file, raw, the sink's line and quarantine hide them", async () => {
    const { text, raw, quarantine } = await sinkAndQuarantine(configMapRecord({
      Dockerfile: 'FROM python:3.11\nENV HF_TOKEN hf_CmDockerLegacy12345\n',
      'vars.tf': 'variable "db_password" {\n  default = "cm-tf-pw-2705"\n}\n',
      'setup.sh': 'echo "aws_secret_access_key = cmEchoSecret/2705abcdEFGH" >> ~/.aws/credentials\n',
    }));
    const data = (raw.requestObject as { data: Record<string, string> }).data;
    expect(data.Dockerfile).toBe('FROM python:3.11\nENV HF_TOKEN [redacted]\n');
    for (const out of [text, quarantine, JSON.stringify(raw)]) {
      for (const secret of ['hf_CmDockerLegacy12345', 'cm-tf-pw-2705', 'cmEchoSecret/2705abcdEFGH']) expect(out).not.toContain(secret);
    }
  });
});
