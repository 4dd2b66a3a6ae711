import { describe, expect, it } from 'vitest';
import { fx, normOne } from './helpers.js';

/**
 * A failed request's errorMessage echoes what was sent (a validation error quoting a value): the real
 * CreateTrainingJob CloudTrail fixture, failed with such a message, keeps it out of raw and error.message.
 */
describe('SageMaker: a secret an errorMessage echoes stays out of the event', () => {
  it('CreateTrainingJob failed with a message quoting a secret-named value: hidden in raw.errorMessage and error.message; the rest of the message stays', () => {
    const record = structuredClone(fx<Record<string, any>>('cloudtrail-sagemaker-createtrainingjob.real.json'));
    record.errorCode = 'ValidationException';
    record.errorMessage = 'Invalid HyperParameters: value of db_password: "msg-sm-1" contains characters that are not allowed';
    const before = JSON.stringify(record);
    const ev = normOne(record);
    expect(JSON.stringify(ev)).not.toContain('msg-sm-1');
    const shown = 'Invalid HyperParameters: value of db_password: "[redacted]" contains characters that are not allowed';
    expect((ev.raw as Record<string, unknown>).errorMessage).toBe(shown);
    expect(ev.error).toEqual({ code: 'ValidationException', message: shown });
    expect(JSON.stringify(record)).toBe(before);
  });
});
