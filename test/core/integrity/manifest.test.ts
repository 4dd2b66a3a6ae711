import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildManifest, diffManifests, hashDirectory, hashStream, rootDigest } from '../../../core/integrity/manifest.js';
import { tmpDir } from '../../helpers/bridge.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/**
 * The manifest digest as documented (README "Serving attestation", manifest.ts): SHA-256 of the
 * `sha256sum`-style lines `<sha256>  <path>\n`, sorted by path in byte order. Written out here by
 * hand so a serving sidecar in another language can compute the same digest; a change of format or
 * order would make every attestation made elsewhere (and every persisted registered hash) differ.
 */
function specDigest(lines: Array<[path: string, sha256: string]>): string {
  const sorted = [...lines].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return sha(sorted.map(([p, h]) => `${h}  ${p}\n`).join(''));
}

describe('rootDigest', () => {
  it('is SHA-256 of the sha256sum lines sorted by path in byte order, whatever the input order', () => {
    // Byte order puts upper case before lower case and '/' (0x2f) before letters; a locale
    // compare or an unsorted walk would not.
    const files = [
      { path: 'model.pkl', sha256: sha('w') },
      { path: 'data/vocab.txt', sha256: sha('v') },
      { path: 'MLmodel', sha256: sha('m') },
      { path: 'Zeta.bin', sha256: sha('z') },
      { path: 'data-extra', sha256: sha('e') },
    ];
    const expected = specDigest(files.map((f) => [f.path, f.sha256]));
    expect(rootDigest(files)).toBe(expected);
    expect(rootDigest([...files].reverse())).toBe(expected);
    // Pinned: the digest of one known line, computed outside mltrail (`printf '%s  MLmodel\n' <sha> | sha256sum`).
    expect(rootDigest([{ path: 'MLmodel', sha256: sha('m') }])).toBe(sha(`${sha('m')}  MLmodel\n`));
    expect(buildManifest(files.map((f) => ({ ...f, size: 0 }))).files.map((f) => f.path)).toEqual(['MLmodel', 'Zeta.bin', 'data-extra', 'data/vocab.txt', 'model.pkl']);
  });
});

describe('hashDirectory', () => {
  it('lists every regular file, nested ones included, by POSIX path relative to the root, with its digest and size', async () => {
    const dir = join(tmpDir(), 'model');
    mkdirSync(join(dir, 'data', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'MLmodel'), 'flavors: {}\n');
    writeFileSync(join(dir, 'data', 'vocab.txt'), 'a\nb');
    writeFileSync(join(dir, 'data', 'deep', 'weights.bin'), Buffer.alloc(200_000, 7)); // several stream chunks
    const m = await hashDirectory(dir);
    expect(m.files).toEqual([
      { path: 'MLmodel', sha256: sha('flavors: {}\n'), size: 12 },
      { path: 'data/deep/weights.bin', sha256: sha(Buffer.alloc(200_000, 7)), size: 200_000 },
      { path: 'data/vocab.txt', sha256: sha('a\nb'), size: 3 },
    ]);
    expect(m.root).toBe(specDigest(m.files.map((f) => [f.path, f.sha256])));
    // The same content elsewhere gives the same digest: the root directory's own path is not hashed.
    const copy = join(tmpDir(), 'elsewhere');
    mkdirSync(join(copy, 'data', 'deep'), { recursive: true });
    writeFileSync(join(copy, 'MLmodel'), 'flavors: {}\n');
    writeFileSync(join(copy, 'data', 'vocab.txt'), 'a\nb');
    writeFileSync(join(copy, 'data', 'deep', 'weights.bin'), Buffer.alloc(200_000, 7));
    expect((await hashDirectory(copy)).root).toBe(m.root);
  });

  it('does not follow symlinks (documented): a link is not hashed as the file it points to', async () => {
    const outside = join(tmpDir(), 'secret.txt');
    writeFileSync(outside, 'not part of the model');
    const dir = join(tmpDir(), 'model');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'MLmodel'), 'x');
    symlinkSync(outside, join(dir, 'link.txt'));
    const m = await hashDirectory(dir);
    expect(m.files.map((f) => f.path)).toEqual(['MLmodel']);
  });

  it('an empty directory has no files and the digest of no lines', async () => {
    const dir = join(tmpDir(), 'empty');
    mkdirSync(dir, { recursive: true });
    expect(await hashDirectory(dir)).toEqual({ root: sha(''), files: [] });
  });
});

describe('hashStream', () => {
  it('counts the bytes of every chunk, strings as UTF-8', async () => {
    expect(await hashStream(Readable.from([Buffer.from('ab'), 'é', Buffer.from('c')]))).toEqual({ sha256: sha('abéc'), size: 5 });
  });
});

describe('diffManifests', () => {
  it('names changed files and files present on one side only, sorted', () => {
    const a = buildManifest([{ path: 'model.pkl', sha256: sha('1'), size: 1 }, { path: 'MLmodel', sha256: sha('m'), size: 1 }, { path: 'gone.txt', sha256: sha('g'), size: 1 }]);
    const b = buildManifest([{ path: 'model.pkl', sha256: sha('2'), size: 1 }, { path: 'MLmodel', sha256: sha('m'), size: 1 }, { path: 'extra.py', sha256: sha('x'), size: 1 }]);
    expect(diffManifests(a, b)).toEqual(['extra.py', 'gone.txt', 'model.pkl']);
    expect(diffManifests(a, a)).toEqual([]);
  });
});
