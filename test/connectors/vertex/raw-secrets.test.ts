import { describe, expect, it } from 'vitest';
import { LOC, V1, auditEntry, normOne } from './samples.js';

describe('Vertex: secrets of a container env and args stay out of the event', () => {
  it('CreateCustomJob: env [{name, value}] and args secrets are redacted in raw, names and other values kept', () => {
    const containerSpec = {
      imageUri: 'us-docker.pkg.dev/p/train/fraud:1',
      args: ['--api-key', 'argS3cretValue', '--epochs=3'],
      env: [
        { name: 'API_KEY', value: 'envS3cretValue' },
        { name: 'EPOCHS', value: '3' },
      ],
    };
    const customJob = { displayName: 'train-fraud', jobSpec: { workerPoolSpecs: [{ machineSpec: { machineType: 'n1-standard-4' }, replicaCount: '1', containerSpec }] } };
    const entry = auditEntry({
      method: `${V1}JobService.CreateCustomJob`,
      request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateCustomJobRequest', parent: LOC, customJob },
      response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CustomJob', name: `${LOC}/customJobs/1`, ...customJob },
    });
    const before = JSON.stringify(entry);
    const ev = normOne(entry);
    const json = JSON.stringify(ev);
    expect(json).not.toContain('envS3cretValue');
    expect(json).not.toContain('argS3cretValue');
    const pp = (ev.raw as { protoPayload: { request: { customJob: typeof customJob }; response: typeof customJob } }).protoPayload;
    for (const job of [pp.request.customJob, pp.response]) {
      const spec = job.jobSpec.workerPoolSpecs[0]!.containerSpec;
      expect(spec.env).toEqual([{ name: 'API_KEY', value: '[redacted]' }, { name: 'EPOCHS', value: '3' }]);
      expect(spec.args).toEqual(['--api-key', '[redacted]', '--epochs=3']);
      expect(spec.imageUri).toBe('us-docker.pkg.dev/p/train/fraud:1');
    }
    expect(JSON.stringify(entry)).toBe(before);
  });
});
