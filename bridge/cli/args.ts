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
