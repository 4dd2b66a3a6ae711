import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentId, stableId } from '../../../core/schema/index.js';

/**
 * Stable ids (issue 2: "the same native record always gets the same id"): dedup, the spool and
 * every sink key on them, so a record re-read in another key order or with an absent field spelled
 * `undefined` must keep its id, and distinct records must not share one.
 */
describe('canonicalJson and contentId', () => {
  it('ignore key order at every depth', () => {
    const a = { eventName: 'CreateModel', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::1:user/a' }, list: [{ b: 1, a: 2 }] };
    const b = { list: [{ a: 2, b: 1 }], userIdentity: { arn: 'arn:aws:iam::1:user/a', type: 'IAMUser' }, eventName: 'CreateModel' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"eventName":"CreateModel","list":[{"a":2,"b":1}],"userIdentity":{"arn":"arn:aws:iam::1:user/a","type":"IAMUser"}}');
    expect(contentId('sagemaker', a)).toBe(contentId('sagemaker', b));
  });

  it('treat an undefined member as absent, but keep array order and values apart', () => {
    expect(contentId('vertex', { a: 1, b: undefined })).toBe(contentId('vertex', { a: 1 }));
    expect(contentId('vertex', { l: [1, 2] })).not.toBe(contentId('vertex', { l: [2, 1] }));
    expect(contentId('vertex', { a: '1' })).not.toBe(contentId('vertex', { a: 1 }));
    expect(contentId('vertex', { a: 1 })).not.toBe(contentId('mlflow', { a: 1 }));
  });
});

describe('stableId', () => {
  it('is 32 lower-case hex characters, the same for the same parts', () => {
    const id = stableId('sagemaker', 'cloudtrail', 'e1');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(stableId('sagemaker', 'cloudtrail', 'e1')).toBe(id);
  });

  it('keeps the ids of earlier builds (SHA-256 of the parts, each ended by NUL, as UTF-8; perf29 hashes them one-shot)', () => {
    expect(stableId('sagemaker', 'cloudtrail', 'e1')).toBe('a15874b91f432ed9333dd8dde729b7b7');
    expect(stableId('alert', 'registry.unapproved_deployment', 'endpoint', 'fraud-ep', '', 3)).toBe('c7400d49e9dcab10256493ef95430ae9');
    // Non-ASCII and a lone surrogate (written as U+FFFD in UTF-8), an undefined and a null part (empty).
    expect(stableId('mlflow', 'é€𝄞 \ud800', undefined, null)).toBe('817cfbca9f40d2f380b97089522183c9');
    // Against createHash itself, over generated parts.
    for (let i = 0; i < 200; i++) {
      const parts = [`p${i}`, String.fromCharCode(...Array.from({ length: i % 17 }, (_, j) => (i * 7919 + j * 104729) % 0xffff)), i];
      expect(stableId(...parts)).toBe(createHash('sha256').update(parts.map((p) => `${p}\u0000`).join('')).digest('hex').slice(0, 32));
    }
  });

  it('keeps parts apart: moving a boundary or a platform changes the id', () => {
    expect(stableId('kubeflow', 'ab', 'c')).not.toBe(stableId('kubeflow', 'a', 'bc'));
    expect(stableId('vertex', 'projects/p/logs/a', 'x1')).not.toBe(stableId('vertex', 'projects/p/logs/ax', '1'));
    expect(stableId('mlflow', 'delivery', 'd1')).not.toBe(stableId('sagemaker', 'delivery', 'd1'));
  });
});
