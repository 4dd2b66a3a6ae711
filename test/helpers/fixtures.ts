import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The shared fixtures directory: `../shared/fixtures` beside the clone (as CI
 * lays it out), or MLTRAIL_FIXTURES.
 */
export const FIXTURES = process.env.MLTRAIL_FIXTURES ?? resolve(ROOT, '../shared/fixtures');

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function readFixture(...parts: string[]): Buffer {
  return readFileSync(fixturePath(...parts));
}

export function readFixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFixture(...parts).toString('utf8')) as T;
}

/** File names (not SOURCES.md) in a fixture folder. */
export function listFixtures(...parts: string[]): string[] {
  const dir = fixturePath(...parts);
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir} (set MLTRAIL_FIXTURES)`);
  return readdirSync(dir).filter((n) => n !== 'SOURCES.md' && !n.startsWith('.')).sort();
}

/** The built CLI entry point (tests that spawn processes run `npm run build` first via `npm test`). */
export const CLI = join(ROOT, 'dist/bridge/cli/main.js');
