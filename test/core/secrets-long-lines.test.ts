import { describe, expect, it } from 'vitest';
import { redactFreeText, redactScriptText, redactSecretText } from '../../core/secrets.js';
import { cpuMs } from '../helpers/cpu.js';

/**
 * verify29c: the checks that look back along a key's line (a template literal open before it, a YAML flow mapping's
 * '{') bound their look to 1000 characters, but found the line's start first with lastIndexOf('\n'), which on one long
 * line reads back to the text's start for every key: 1 MiB of `` `token: $ `` took 6.7-9.8 s CPU (22 ms before 6d547d9).
 * Measured as the other bounded-time checks are: CPU time, four calls on 64 KiB against one on 256 KiB (the same
 * characters: about 1x when linear, up to 4x when quadratic).
 */
function ratio(redact: (s: string) => string, unit: string): { longMs: number; ratio: number } {
  const line = (kib: number) => unit.repeat(Math.ceil((kib * 1024) / unit.length));
  const short = line(64);
  const long = line(256);
  redact(short);
  const shortMs = cpuMs(() => {
    for (let i = 0; i < 4; i++) redact(short);
  });
  const longMs = cpuMs(() => redact(long));
  return { longMs, ratio: longMs / Math.max(shortMs, 1) };
}

describe('redaction of one long line reads back a bounded stretch (template literals, flow mappings)', () => {
  it.each([
    ['text, template literals', redactSecretText, '`token: $'],
    ['free text, template literals', redactFreeText, 'log(`token: ${'],
    ['script, template literals', redactScriptText, 'x(`password=${'],
    ['script, flow mappings', redactScriptText, '{"token": tok, '],
  ])('%s', (_name, redact, unit) => {
    const { longMs, ratio: r } = ratio(redact, unit);
    expect(longMs).toBeLessThan(1500);
    expect(r).toBeLessThan(2.5);
  });

  it('still tells a template literal and a flow mapping by what opens them on the line', () => {
    expect(redactSecretText('log.info(`token: abc123`)')).toBe('log.info(`token: [redacted]`)');
    expect(redactSecretText('log.info(`token: ${tok}`)')).toBe('log.info(`token: ${tok}`)');
    // Opened more than 1000 characters back on the line: not seen (the bound), as before.
    expect(redactSecretText(`${'x'.repeat(1100)}\nlog.info(\`token: abc123\`)`)).toBe(`${'x'.repeat(1100)}\nlog.info(\`token: [redacted]\`)`);
    expect(redactScriptText('creds: {"password": hunter2}')).toBe('creds: {"password": [redacted]}');
    expect(redactScriptText('d = {"token": tok}')).toBe('d = {"token": tok}');
  });
});
