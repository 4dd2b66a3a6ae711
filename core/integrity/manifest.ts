import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
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
  /** Symlinks to nothing met by `hashDirectory` (POSIX paths): no content to hash or to load, so not in the digest. */
  dangling?: string[];
}

/**
 * The root digest of a manifest: SHA-256 of the lines `<sha256>  <path>\n`
 * sorted by path (byte order), as `sha256sum` writes them: a path holding a
 * backslash, newline or carriage return is escaped (`\\`, `\n`, `\r`) and
 * its line starts with `\`. Unescaped, a file named `a\n<sha>  b` wrote the
 * same lines as the two files `a` and `b`: a tree with an extra file could
 * match an approved one. The MLflow auditor and `mltrail attest` both use it,
 * so a serving container's attestation compares with the registered hash
 * directly.
 *
 * @example
 * rootDigest([{ path: 'MLmodel', sha256: 'ab…', size: 10 }]) // '3f…'
 */
export function rootDigest(files: ReadonlyArray<Pick<ManifestEntry, 'path' | 'sha256'>>): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(manifestLine(f));
  return h.digest('hex');
}

/** One `sha256sum` line (see rootDigest). */
function manifestLine(f: Pick<ManifestEntry, 'path' | 'sha256'>): string {
  if (!/[\\\n\r]/.test(f.path)) return `${f.sha256}  ${f.path}\n`;
  const escaped = f.path.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
  return `\\${f.sha256}  ${escaped}\n`;
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
 * Manifest of every file under `dir`, streamed. A symlink counts as what it
 * points to, under its own path: what a server loads through it (a Hugging
 * Face snapshot is all links into its blob store; not following them gave
 * such a directory the empty manifest, equal for every model). A linked
 * directory already being walked (a loop) is not walked again. A link to
 * nothing (an editor's `.#file` lock) holds nothing a server could load: it
 * is left out of the digest and listed in `dangling`, for the caller to name.
 *
 * @example
 * const m = await hashDirectory('/opt/ml/model'); m.root
 */
export async function hashDirectory(dir: string): Promise<Manifest> {
  const files: ManifestEntry[] = [];
  const dangling: string[] = [];
  const rel = (p: string) => relative(dir, p).split(sep).join('/');
  async function walk(d: string, ancestors: Set<string>): Promise<void> {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const target = await stat(p).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') return undefined;
          throw err;
        });
        if (!target) {
          dangling.push(rel(p));
          continue;
        }
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDir) {
        const real = await realpath(p);
        if (ancestors.has(real)) continue;
        await walk(p, new Set([...ancestors, real]));
      } else if (isFile) {
        const { sha256, size } = await hashStream(createReadStream(p));
        files.push({ path: rel(p), sha256, size });
      }
    }
  }
  await walk(dir, new Set([await realpath(dir)]));
  const m = buildManifest(files);
  return dangling.length ? { ...m, dangling: dangling.sort() } : m;
}

/** Paths whose digest differs, or that exist on one side only. */
export function diffManifests(a: Manifest, b: Manifest): string[] {
  const am = new Map(a.files.map((f) => [f.path, f.sha256]));
  const bm = new Map(b.files.map((f) => [f.path, f.sha256]));
  const paths = new Set([...am.keys(), ...bm.keys()]);
  return [...paths].filter((p) => am.get(p) !== bm.get(p)).sort();
}
