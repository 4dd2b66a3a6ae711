import { describe, expect, it } from 'vitest';
import { isSecretFlag, isSecretName, redactArgv, redactSecretText, redactUrlSecrets, redactUrlUserinfo } from '../../core/secrets.js';

describe('core/secrets', () => {
  it('names a secret by the usual parts of env var and config key names, in any case', () => {
    for (const n of ['AWS_SECRET_ACCESS_KEY', 'MLFLOW_TRACKING_PASSWORD', 'db_passwd', 'HF_Token', 'GOOGLE_APPLICATION_CREDENTIALS_JSON', 'SSH_PRIVATE_KEY', 'openai_api_key', 'AWS_ACCESS_KEY_ID', 'routing_key', 'password', 'AZURE_STORAGE_CONNECTION_STRING', 'AccountKey', 'DB_PASS', 'MYSQL_PWD']) expect([n, isSecretName(n)]).toEqual([n, true]);
    for (const n of ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME', 'LOG_LEVEL', 'AWS_REGION', 'url', 'BYPASS_CACHE', 'PASSTHROUGH', 'PWD']) expect([n, isSecretName(n)]).toEqual([n, false]);
  });

  it('hides the password of curl -u / --user / --proxy-user and credential headers (Authorization, secret-named); user, scheme and other headers stay', () => {
    expect(redactSecretText(`curl -u admin:pw1 -H "Authorization: Bearer t.k.n" -H 'Accept: text/plain' http://h`)).toBe(`curl -u admin:[redacted] -H "Authorization: Bearer [redacted]" -H 'Accept: text/plain' http://h`);
    expect(redactSecretText('PRIVATE-TOKEN: glpat-1')).toBe('PRIVATE-TOKEN: [redacted]');
    for (const s of ['mysql -u root -p', 'Host: mlflow:5000', 'image: nginx:1.25']) expect(redactSecretText(s)).toBe(s);
    expect(redactArgv(['curl', '-u', 'a:b', '--user=c:d', '-u', 'root']).argv).toEqual(['curl', '-u', 'a:[redacted]', '--user=c:[redacted]', '-u', 'root']);
  });

  it('hides secret query parameters and signed-URL signatures of a URL; other parameters and the location stay', () => {
    expect(redactUrlSecrets('https://a.blob.core.windows.net/c/m?sv=1&sig=abc%3D')).toBe('https://a.blob.core.windows.net/c/m?sv=1&sig=[redacted]');
    expect(redactUrlSecrets('https://b.s3.amazonaws.com/m?X-Amz-Expires=60&X-Amz-Signature=f00&x-goog-signature=ba5')).toBe('https://b.s3.amazonaws.com/m?X-Amz-Expires=60&X-Amz-Signature=[redacted]&x-goog-signature=[redacted]');
    expect(redactUrlSecrets('jdbc:mysql://db/x?user=u&password=p&useSSL=true')).toBe('jdbc:mysql://db/x?user=u&password=[redacted]&useSSL=true');
    expect(redactUrlSecrets('https://u:p@h/x?signal=1&design=2')).toBe('https://[redacted]@h/x?signal=1&design=2');
    const plain = 'https://h/x?version=3&page=2';
    expect(redactUrlSecrets(plain)).toBe(plain);
  });

  it('hides the user-info of every URL in a string and keeps host, path and the rest', () => {
    expect(redactUrlUserinfo('https://bob:s3cret@mlflow:5000/api')).toBe('https://[redacted]@mlflow:5000/api');
    expect(redactUrlUserinfo('--a=postgresql://u:p@db/x --b=s3://k:s@bucket/y')).toBe('--a=postgresql://[redacted]@db/x --b=s3://[redacted]@bucket/y');
    // An '@' in a path or query is not user-info.
    const s = 'https://mlflow:5000/users/a@b.com?x=c@d';
    expect(redactUrlUserinfo(s)).toBe(s);
    expect(redactUrlUserinfo('alice@example.com')).toBe('alice@example.com');
    // A password with an unencoded '@': clients split at the last one, so all of it goes.
    expect(redactUrlUserinfo('postgresql://svc:p@ss@w0rd@db:5432/mlflow')).toBe('postgresql://[redacted]@db:5432/mlflow');
    // A string that is one URL: quotes and angle brackets in the password are the password's.
    expect(redactUrlUserinfo(`postgresql://svc:p"w'q<x>@db:5432/mlflow`)).toBe('postgresql://[redacted]@db:5432/mlflow');
    expect(redactUrlUserinfo(`https://a' 'b@c`)).toBe(`https://a' 'b@c`);
    // Not across quotes (URLs in JSON text).
    expect(redactUrlUserinfo('["https://u:p@h/x","bob@example.com"]')).toBe('["https://[redacted]@h/x","bob@example.com"]');
  });

  it('names secret flags (dashes read as underscores), not flags naming where a secret is', () => {
    for (const f of ['--password', '-password', '--aws-secret-access-key', '--api-key', '--access-key', '--token', '--hf_token']) expect([f, isSecretFlag(f)]).toEqual([f, true]);
    for (const f of ['--token-file', '--password_file', '--api-key-header', '--epochs', '--uri', '-c', '--']) expect([f, isSecretFlag(f)]).toEqual([f, false]);
  });

  it('hides secret flag values in a command line, not the next flag of a flag that takes none', () => {
    expect(redactArgv(['--no-token', '--verbose', '--token', '', '--token', '--x']).changed).toEqual([]);
    expect(redactArgv(['--token', 'a', 'b', '--key=c', '--set=db.password=d'])).toEqual({ argv: ['--token', '[redacted]', 'b', '--key=c', '--set=db.password=[redacted]'], changed: [1, 4] });
    const same = ['python', 'x.py', '--epochs=3'];
    expect(redactArgv(same).argv).toBe(same);
  });

  it('hides secret flag values and assignments in text (a shell script, a message); the same string when there is none', () => {
    expect(redactSecretText("a --password 'p w' --token=t; API_KEY=k b && curl 'https://u:p@h/x?n=1&access_token=z'")).toBe(
      "a --password [redacted] --token=[redacted]; API_KEY=[redacted] b && curl 'https://[redacted]@h/x?n=1&access_token=[redacted]'",
    );
    // Quoted in a message (field.Invalid echoes a value): the closing quote stays.
    expect(redactSecretText('args[1]: Invalid value: "--token=t", "K_SECRET=v"')).toBe('args[1]: Invalid value: "--token=[redacted]", "K_SECRET=[redacted]"');
    const s = 'secrets "mlpipeline-minio-artifact" is forbidden: User "alice" cannot get resource "secrets"';
    expect(redactSecretText(s)).toBe(s);
  });
});
