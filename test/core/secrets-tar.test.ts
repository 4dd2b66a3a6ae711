import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { redactBase64Text } from '../../core/secrets.js';

/** One tar member (ustar header, data padded to 512) as `tar` writes it. */
function tarMember(name: string, data: Buffer | string, type = '0'): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0001750\0', 108, 'latin1');
  h.write('0001750\0', 116, 'latin1');
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('15000000000\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
const tar = (...members: Buffer[]) => Buffer.concat([...members, Buffer.alloc(1024)]);
/** Bytes no text decoder takes (zero bytes and C0 controls throughout): a model's weights. */
const BINARY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256));

describe('core/secrets: tar archives in base64', () => {
  it('a tar archive in base64 (.tar.gz or plain .tar) whose files hold a secret is hidden whole; a bundle of harmless files and binary ones stays as sent', () => {
    const leaky = tar(tarMember('cfg/', '', '5'), tarMember('cfg/train.yaml', 'epochs: 3\n'), tarMember('cfg/weights.bin', BINARY), tarMember('cfg/.env', 'DB_HOST=db\nDB_PASSWORD=r9-tar-1\n'));
    expect(redactBase64Text(gzipSync(leaky).toString('base64'))).toBe('[redacted]');
    expect(redactBase64Text(leaky.toString('base64'))).toBe('[redacted]');
    // A member gzip-compressed itself, and a PEM key in a member: judged as a value alone is.
    expect(redactBase64Text(gzipSync(tar(tarMember('app.env.gz', gzipSync('HF_TOKEN=r9-tar-2\n')))).toString('base64'))).toBe('[redacted]');
    expect(redactBase64Text(gzipSync(tar(tarMember('tls/key.pem', '-----BEGIN PRIVATE KEY-----\nMIIr9tar3\n-----END PRIVATE KEY-----\n'))).toString('base64'))).toBe('[redacted]');
    const clean = gzipSync(tar(tarMember('cfg/train.yaml', 'epochs: 3\nsecret_name: db-creds\n'), tarMember('cfg/weights.bin', BINARY))).toString('base64');
    expect(redactBase64Text(clean)).toBe(clean);
    // A cut value (a quarantined line's start): the members read so far are judged.
    const cutLeak = gzipSync(tar(tarMember('a.env', 'API_TOKEN=r9-tar-4\n'), tarMember('w.bin', Buffer.concat(Array.from({ length: 20 }, () => BINARY))))).toString('base64');
    expect(redactBase64Text(cutLeak.slice(0, 1200), true)).toBe('[redacted]');
    // Binary that is no tar stays.
    const bin = gzipSync(BINARY).toString('base64');
    expect(redactBase64Text(bin)).toBe(bin);
  });

  it('a tar whose members are not all read (past 1000, or past 1 MiB of text) is not passed on as read; gzip-bomb members are read in bounded time', () => {
    // A secret in the 1001st member was passed on as sent.
    const many = tar(...Array.from({ length: 1000 }, (_, i) => tarMember(`cfg/f${i}.yaml`, 'epochs: 3\n')), tarMember('cfg/z.env', 'DB_PASSWORD=r9-tar-5\n'));
    const out = redactBase64Text(many.toString('base64'));
    expect(out).toMatch(/^\[unscanned: \d+ bytes\]$/);
    expect(redactBase64Text(gzipSync(many).toString('base64'))).toMatch(/^\[unscanned: \d+ bytes\]$/);
    // 1000 members exactly, all read: as sent.
    const full = tar(...Array.from({ length: 1000 }, (_, i) => tarMember(`cfg/f${i}.yaml`, 'epochs: 3\n'))).toString('base64');
    expect(redactBase64Text(full)).toBe(full);
    // 300 members each a gzip inflating to 1 MiB (800 KB of base64): each was inflated to 256 KiB and read, seconds a value.
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 'a'));
    const bombs = tar(...Array.from({ length: 300 }, (_, i) => tarMember(`m${i}.txt.gz`, bomb)), tarMember('z.env', 'HF_TOKEN=r9-tar-6\n')).toString('base64');
    const start = performance.now();
    expect(redactBase64Text(bombs)).toMatch(/^\[unscanned: \d+ bytes\]$/);
    expect(performance.now() - start).toBeLessThan(1500);
    // A secret in a member read before the budget is spent is still hidden.
    expect(redactBase64Text(tar(tarMember('a.env', 'HF_TOKEN=r9-tar-7\n'), ...Array.from({ length: 20 }, (_, i) => tarMember(`m${i}.txt.gz`, bomb))).toString('base64'))).toBe('[redacted]');
  });
});
