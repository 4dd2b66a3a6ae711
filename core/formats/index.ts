import { MltrailError } from '../errors.js';
import type { Alert, NormalizedEvent } from '../schema/index.js';
import { cimFormatter } from './cim/index.js';
import { ecsFormatter } from './ecs/index.js';
import { ocsfFormatter } from './ocsf/index.js';
import { udmFormatter } from './udm/index.js';

/**
 * Output schemas. `core` is the normalized event itself; the SIEM schemas
 * (OCSF, ECS, UDM, CIM) each live in one mapping module beside this file
 * (`<schema>/index.ts`, with its zod validator in `<schema>/validate.ts`) and
 * are registered statically below. docs/formats.md describes the mappings.
 */
export const FORMATS = ['core', 'ocsf', 'ecs', 'udm', 'cim'] as const;
export type Format = (typeof FORMATS)[number];

export interface Formatter {
  event(ev: NormalizedEvent): unknown;
  alert(alert: Alert): unknown;
  /**
   * False when `event` never reads `ev.raw`: a sink then parses the spooled
   * event without its native record (about half the bytes). Absent means it may.
   */
  readsRaw?: boolean;
}

const core: Formatter = { event: (e) => e, alert: (a) => a };

const registry: Partial<Record<Format, Formatter>> = { core, ocsf: ocsfFormatter, ecs: ecsFormatter, udm: udmFormatter, cim: cimFormatter };

/** Register a formatter (called by each mapping module). */
export function registerFormatter(name: Format, f: Formatter): void {
  registry[name] = f;
}

/**
 * The formatter for an output schema, or a clear error if it is not available.
 *
 * @example
 * const f = formatter('ecs'); f.event(ev) // an ECS document
 */
export function formatter(name: string): Formatter {
  if (!(FORMATS as readonly string[]).includes(name)) {
    throw new MltrailError('USAGE', `unknown format "${name}" (expected one of ${FORMATS.join(', ')})`);
  }
  const f = registry[name as Format];
  if (!f) throw new MltrailError('NOT_IMPLEMENTED', `format "${name}" is not yet supported`);
  return f;
}
