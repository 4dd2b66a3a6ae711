import { describe, expect, it } from 'vitest';
import { shownPath } from '../../../core/config/path.js';

describe('shownPath', () => {
  it('shows paths as given, also one whose first folder is in brackets', () => {
    for (const p of ['/etc/mltrail/sa.json', '[prod]/sa.json', '[ops] keys/token', 'C:\\keys\\sa.json', './sa.json']) expect(shownPath(p)).toBe(p);
  });

  it('hides what reads like the secret itself: JSON objects and arrays, PEM, JWTs, long keys', () => {
    const secrets = [
      '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----"}',
      ' [{"key":"abc"}]',
      '["tok-1", "tok-2"]',
      '[1, 2]',
      '[',
      '-----BEGIN PRIVATE KEY-----\nMIIE',
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      'A'.repeat(40),
    ];
    for (const s of secrets) expect(shownPath(s)).toMatch(/^the value given \(\d[\d,]* characters, not shown/);
  });
});
