import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** One file of a model artifact tree: its path relative to the root (POSIX separators) and SHA-256. */
export interface ManifestEntry {
  path: string;
  sha256: string;
  size: number;
}

export interface Manifest {
  /** Root digest: SHA-256 over the sorted manifest lines (see `rootDigest`). */
  root: string;
  files: ManifestEntry[];
}

/**
 * The root digest of a manifest: SHA-256 of the lines `<sha256>  <path>\n`
 * sorted by path (byte order). The MLflow auditor and `mltrail attest` both
 * use it, so a serving container's attestation compares with the registered
 * hash directly.
 *
 * @example
 * rootDigest([{ path: 'MLmodel', sha256: 'ab…', size: 10 }]) // '3f…'
 */
export function rootDigest(files: ReadonlyArray<Pick<ManifestEntry, 'path' | 'sha256'>>): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(`${f.sha256}  ${f.path}\n`);
  return h.digest('hex');
}

export function buildManifest(files: ManifestEntry[]): Manifest {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root: rootDigest(sorted), files: sorted };
}

/** SHA-256 of a stream, without buffering it whole. */
export async function hashStream(stream: AsyncIterable<Uint8Array | string>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    h.update(b);
  }
  return { sha256: h.digest('hex'), size };
}

/**
 * Manifest of every regular file under `dir` (streamed, symlinks not followed).
 *
 * @example
 * const m = await hashDirectory('/opt/ml/model'); m.root
 */
export async function hashDirectory(dir: string): Promise<Manifest> {
  const files: ManifestEntry[] = [];
  async function walk(d: string): Promise<void> {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) {
        const { sha256, size } = await hashStream(createReadStream(p));
        files.push({ path: relative(dir, p).split(sep).join('/'), sha256, size });
      }
    }
  }
  await walk(dir);
  return buildManifest(files);
}

/** Paths whose digest differs, or that exist on one side only. */
export function diffManifests(a: Manifest, b: Manifest): string[] {
  const am = new Map(a.files.map((f) => [f.path, f.sha256]));
  const bm = new Map(b.files.map((f) => [f.path, f.sha256]));
  const paths = new Set([...am.keys(), ...bm.keys()]);
  return [...paths].filter((p) => am.get(p) !== bm.get(p)).sort();
}
