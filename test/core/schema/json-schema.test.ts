import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { jsonSchemaOf } from '../../../core/schema/index.js';

describe('mltrail schema event: the JSON Schema a sender validates against', () => {
  it('accepts the README quick-start event (no received_time: the bridge fills it in) and still refuses a bad one', () => {
    const validate = new Ajv2020({ allowUnionTypes: true, strict: false }).compile(jsonSchemaOf('event') as object);
    const quickStart = {
      schema_version: '1', id: 'demo-1', time: '2026-11-25T10:00:00Z',
      platform: 'custom', channel: 'demo', stage: 'training', action: 'training_job.create',
      operation: 'CreateTrainingJob', outcome: 'success',
    };
    expect(validate(quickStart), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...quickStart, stage: 'nope' })).toBe(false);
    expect(validate({ ...quickStart, id: undefined })).toBe(false);
  });
});
