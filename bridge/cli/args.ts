import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MltrailError } from '../../core/errors.js';

/** parseArgs with strict flags; unknown flags become a USAGE error naming them. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new MltrailError('USAGE', (err as Error).message);
  }
}

export const common = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  'data-dir': { type: 'string' },
} as const;

/**
 * A `--limit`-style value: a whole number of at least 1, else a USAGE error
 * naming the flag (not a database error deep inside the command).
 */
export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new MltrailError('USAGE', `${flag} takes a whole number of at least 1, got "${value}"`);
  return n;
}
