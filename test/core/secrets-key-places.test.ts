import { describe, expect, it } from 'vitest';
import { redactJobSecrets, redactScriptText, redactSecretText, redactTagMap, redactValueMap } from '../../core/secrets.js';

/**
 * Names that are a secret's only by their key kind (`storage_key`, `AZURE_STORAGE_KEY`, `--signing-key`, `master_key`,
 * redact9's widening): in MLOps configs they often hold an object key, a key file or a KMS alias, which an analyst
 * needs; a value that locates something is kept, a key itself is hidden still.
 */
describe('core/secrets: a key-kind name given a place, not a key', () => {
  const AZURE = 'Zm9vYmFyYmF6cXV4/YmFy+ZXhhbXBsZWtleWV4YW1wbGVrZXlleGFtcGxla2V5ZXhhbXBsZWtleWV4YW1wbA==';
  it('keeps an object key, a storage URI, a key file, a KMS alias or a variable in text, flags and maps', () => {
    for (const kept of [
      'storage_key: models/fraud/v3/model.pkl', 'storage_key=s3://ml-models/fraud/model.tar.gz', '--storage-key datasets/train.parquet',
      '{"storage_key": "models/x.pkl"}', '--signing-key /etc/keys/cosign.key', '--signing-key $COSIGN_KEY', 'master_key: alias/ml-artifacts',
      'MASTER_KEY=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'deploy_key: ~/.ssh/deploy_ed25519',
    ]) {
      expect(redactSecretText(kept)).toBe(kept);
      expect(redactScriptText(kept)).toBe(kept);
    }
    expect(redactValueMap({ storage_key: 'models/x.pkl', service_key: 'gs://svc-bucket/keys/index.json' })).toEqual({ storage_key: 'models/x.pkl', service_key: 'gs://svc-bucket/keys/index.json' });
    expect(redactTagMap({ storage_key: 'models/x.pkl' })).toEqual({ storage_key: 'models/x.pkl' });
  });

  it('still hides the keys themselves (base64 with "/", hex, a Fernet key), a webhook URL, and any value under a password or token name', () => {
    expect(redactSecretText(`AZURE_STORAGE_KEY=${AZURE}`)).toBe('AZURE_STORAGE_KEY=[redacted]');
    expect(redactSecretText(`storage_key: ${AZURE}`)).toBe('storage_key: [redacted]');
    expect(redactSecretText('--signing-key 0123456789abcdef0123456789abcdef')).toBe('--signing-key [redacted]');
    expect(redactSecretText('export FERNET_KEY=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=')).toBe('export FERNET_KEY=[redacted]');
    expect(redactSecretText('service_key: https://events.example.net/integration/0123456789abcdef/enqueue')).toBe('service_key: [redacted]');
    expect(redactSecretText('storage_password: models/x.pkl')).toBe('storage_password: [redacted]');
    expect(redactSecretText('secret_storage_key=models/x.pkl')).toBe('secret_storage_key=[redacted]');
    // A Datadog application key is 40 hex characters; `fraud-scorer` names a service and stays (redact11).
    expect(redactValueMap({ storage_key: AZURE, app_key: '0123456789abcdef0123456789abcdef01234567', service_key: 'fraud-scorer' })).toEqual({ storage_key: '[redacted]', app_key: '[redacted]', service_key: 'fraud-scorer' });
    const job = redactJobSecrets({ Environment: { AZURE_STORAGE_KEY: AZURE, STORAGE_KEY: 'datasets/train.csv' } });
    expect(job).toEqual({ Environment: { AZURE_STORAGE_KEY: '[redacted]', STORAGE_KEY: 'datasets/train.csv' } });
  });
});
