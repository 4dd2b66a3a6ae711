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

  it('escapes a path with a backslash, newline or carriage return as sha256sum does, so a file name cannot forge a second line', () => {
    // A file named `a\n<sha>  b` used to write the very lines of the two files `a` and `b`.
    const forged = [{ path: `a\n${sha('b')}  b`, sha256: sha('a') }];
    const two = [{ path: 'a', sha256: sha('a') }, { path: 'b', sha256: sha('b') }];
    expect(rootDigest(forged)).not.toBe(rootDigest(two));
    // Pinned against GNU coreutils 9.1: `sha256sum` of files `a\rb`, `c\\d` and `e\nf` holding x, y, z.
    const lines = `\\${sha('x')}  a\\rb\n\\${sha('y')}  c\\\\d\n\\${sha('z')}  e\\nf\n`;
    expect(rootDigest([{ path: 'e\nf', sha256: sha('z') }, { path: 'a\rb', sha256: sha('x') }, { path: 'c\\d', sha256: sha('y') }])).toBe(sha(lines));
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

  it('hashes what a symlink points to, under the link\'s path: a directory of links (a Hugging Face snapshot) is not the empty manifest', async () => {
    const blobs = join(tmpDir(), 'blobs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, 'b1'), 'weights v1');
    writeFileSync(join(blobs, 'b2'), '{"arch":"x"}');
    const snap = join(tmpDir(), 'snapshot');
    mkdirSync(snap, { recursive: true });
    symlinkSync(join(blobs, 'b1'), join(snap, 'model.safetensors'));
    symlinkSync(join(blobs, 'b2'), join(snap, 'config.json'));
    symlinkSync(blobs, join(snap, 'linked-dir'));
    const m = await hashDirectory(snap);
    expect(m.files).toEqual([
      { path: 'config.json', sha256: sha('{"arch":"x"}'), size: 12 },
      { path: 'linked-dir/b1', sha256: sha('weights v1'), size: 10 },
      { path: 'linked-dir/b2', sha256: sha('{"arch":"x"}'), size: 12 },
      { path: 'model.safetensors', sha256: sha('weights v1'), size: 10 },
    ]);
    // Swapping the blob a link points to changes the digest.
    writeFileSync(join(blobs, 'b1'), 'weights v2');
    expect((await hashDirectory(snap)).root).not.toBe(m.root);
  });

  it('walks a directory link that loops back once, and lists a link to nothing (no content) apart from the digest', async () => {
    const dir = join(tmpDir(), 'model');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'w.bin'), 'w');
    symlinkSync(dir, join(dir, 'sub', 'up'));
    expect((await hashDirectory(dir)).files.map((f) => f.path)).toEqual(['sub/w.bin']);
    const before = await hashDirectory(dir);
    expect(before.dangling).toBeUndefined();
    // An editor's lock file is a link to nothing: it changes nothing a server loads, so neither the digest.
    symlinkSync('alice@host.1234:1700000000', join(dir, '.#config.json'));
    symlinkSync(join(dir, 'missing.bin'), join(dir, 'sub', 'dangling.bin'));
    const after = await hashDirectory(dir);
    expect(after.root).toBe(before.root);
    expect(after.files.map((f) => f.path)).toEqual(['sub/w.bin']);
    expect(after.dangling).toEqual(['.#config.json', 'sub/dangling.bin']);
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
