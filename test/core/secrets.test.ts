import { describe, expect, it } from 'vitest';
import { isSecretName, redactUrlUserinfo } from '../../core/secrets.js';

describe('core/secrets', () => {
  it('names a secret by the usual parts of env var and config key names, in any case', () => {
    for (const n of ['AWS_SECRET_ACCESS_KEY', 'MLFLOW_TRACKING_PASSWORD', 'db_passwd', 'HF_Token', 'GOOGLE_APPLICATION_CREDENTIALS_JSON', 'SSH_PRIVATE_KEY', 'openai_api_key', 'AWS_ACCESS_KEY_ID', 'routing_key', 'password']) expect([n, isSecretName(n)]).toEqual([n, true]);
    for (const n of ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME', 'LOG_LEVEL', 'AWS_REGION', 'url']) expect([n, isSecretName(n)]).toEqual([n, false]);
  });

  it('hides the user-info of every URL in a string and keeps host, path and the rest', () => {
    expect(redactUrlUserinfo('https://bob:s3cret@mlflow:5000/api')).toBe('https://[redacted]@mlflow:5000/api');
    expect(redactUrlUserinfo('--a=postgresql://u:p@db/x --b=s3://k:s@bucket/y')).toBe('--a=postgresql://[redacted]@db/x --b=s3://[redacted]@bucket/y');
    // An '@' in a path or query is not user-info.
    const s = 'https://mlflow:5000/users/a@b.com?x=c@d';
    expect(redactUrlUserinfo(s)).toBe(s);
    expect(redactUrlUserinfo('alice@example.com')).toBe('alice@example.com');
  });
});
