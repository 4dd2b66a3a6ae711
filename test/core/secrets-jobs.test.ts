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

  it('hides a lifecycle script holding a credential whole, keeps a clean one, and hides a presigned login token', () => {
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const dirty = b64('#!/bin/bash\nexport WANDB_API_KEY=0123456789abcdef\nnohup python /home/ec2-user/agent.py &\n');
    const clean = b64('#!/bin/bash\nsudo -u ec2-user -i pip install pandas\n');
    const rec = {
      requestParameters: { notebookInstanceLifecycleConfigName: 'lc', onCreate: [{ content: clean }], onStart: [{ content: dirty }], studioLifecycleConfigContent: dirty },
      responseElements: { authorizedUrl: 'https://d-abc123.studio.us-east-1.sagemaker.aws/auth?token=eyJraWQiOiJ4In0.abc' },
    };
    expect(redactJobSecrets(rec)).toEqual({
      requestParameters: { notebookInstanceLifecycleConfigName: 'lc', onCreate: [{ content: clean }], onStart: [{ content: '[redacted]' }], studioLifecycleConfigContent: '[redacted]' },
      responseElements: { authorizedUrl: 'https://d-abc123.studio.us-east-1.sagemaker.aws/auth?token=[redacted]' },
    });
    // The EventBridge / CloudFormation casing too; nothing hidden: the record itself.
    expect(redactJobSecrets({ OnStart: [{ Content: dirty }] })).toEqual({ OnStart: [{ Content: '[redacted]' }] });
    const plain = { requestParameters: { onStart: [{ content: clean }] } };
    expect(redactJobSecrets(plain)).toBe(plain);
  });
});
