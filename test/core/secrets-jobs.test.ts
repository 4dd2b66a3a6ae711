import { describe, expect, it } from 'vitest';
import { redactJobSecrets, redactValueMap } from '../../core/secrets.js';

describe('core/secrets: job and model requests (redactJobSecrets)', () => {
  it('returns the record itself when nothing is secret (copy-on-write)', () => {
    const rec = { requestParameters: { environment: { EPOCHS: '3', MODEL_ID: 'm' }, algorithmSpecification: { containerArguments: ['--epochs', '3'] } } };
    expect(redactJobSecrets(rec)).toBe(rec);
  });

  it('hides secret-named values of any casing and type, keeps names, references and the caller object', () => {
    const rec = {
      detail: {
        Environment: { 'api-key': 'dashKey', SECRET_NAME: 'db-creds', HF_TOKEN_FILE: '/run/secrets/hf' },
        HyperParameters: { auth_token: 12345, lr: 0.1 },
      },
    };
    const before = JSON.stringify(rec);
    const out = redactJobSecrets(rec);
    expect(out.detail.Environment).toEqual({ 'api-key': '[redacted]', SECRET_NAME: 'db-creds', HF_TOKEN_FILE: '/run/secrets/hf' });
    expect(out.detail.HyperParameters).toEqual({ auth_token: '[redacted]', lr: 0.1 });
    expect(JSON.stringify(rec)).toBe(before);
  });

  it('redactValueMap hides URL user-info in non-secret values', () => {
    expect(redactValueMap({ DATA_URL: 'https://u:p@x.example/d' })).toEqual({ DATA_URL: 'https://[redacted]@x.example/d' });
  });

  it('hides a Hugging Face token field (Vertex Model Garden) at any depth, leaves the rest and an empty one as is', () => {
    const rec = { protoPayload: { request: { huggingFaceModelId: 'meta-llama/Llama-3.1-8B-Instruct', modelConfig: { acceptEula: true, huggingFaceAccessToken: 'hf_abc123' } } } };
    const out = redactJobSecrets(rec);
    expect(out.protoPayload.request.modelConfig).toEqual({ acceptEula: true, huggingFaceAccessToken: '[redacted]' });
    expect(out.protoPayload.request.huggingFaceModelId).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(rec.protoPayload.request.modelConfig.huggingFaceAccessToken).toBe('hf_abc123');
    expect(redactJobSecrets({ request: { huggingFaceToken: 'hf_x' } })).toEqual({ request: { huggingFaceToken: '[redacted]' } });
    const empty = { request: { huggingFaceAccessToken: '' } };
    expect(redactJobSecrets(empty)).toBe(empty);
  });
});
