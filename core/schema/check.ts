import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { NormalizedEvent } from './event.js';

/** Outcome of {@link checkEvent}: the same shape as zod's `safeParse`. */
export type EventCheck = { success: true; data: NormalizedEvent } | { success: false; error: z.ZodError };

let compiled: ValidateFunction | undefined;

/**
 * The zod schema as JSON Schema (its output side: plain objects closed,
 * `ml.*` open, defaults required), compiled once by ajv. `unrepresentable:
 * 'throw'`: a zod refinement this cannot express would fail here (and in the
 * tests) instead of being skipped on the fast path.
 */
function fastValidator(): ValidateFunction {
  compiled ??= new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false, allErrors: false }).compile(
    z.toJSONSchema(NormalizedEvent, { io: 'output', unrepresentable: 'throw' }) as object,
  );
  return compiled;
}

/**
 * Compile the fast validator now (about 0.1 s) rather than on the first event
 * a sender is waiting for.
 *
 * @example
 * prepareEventCheck(); // at startup
 */
export function prepareEventCheck(): void {
  fastValidator();
}

/**
 * Validate a normalized event on the ingest path. An event the compiled JSON
 * Schema accepts is already exactly what zod would output (no unknown keys to
 * strip, no default to fill), so it is returned as is — no deep copy, a few µs
 * and no garbage per event. Anything else goes through zod, which fills
 * defaults, strips unknown keys of closed objects, or explains the rejection
 * with paths. Same verdicts and output as `NormalizedEvent.safeParse`
 * (test/core/schema/check.test.ts holds them side by side).
 *
 * @example
 * const v = checkEvent(ev);
 * if (v.success) spool.append([{ kind: 'event', id: v.data.id, body: JSON.stringify(v.data) }]);
 */
/**
 * Only the compiled check: true when the event is valid exactly as it is (no zod pass). For a caller that has
 * already explained enough rejections and must not spend zod's cost on thousands more.
 *
 * @example
 * if (!isValidAsIs(ev)) reject(ev, 'not a valid event');
 */
export function isValidAsIs(e: unknown): boolean {
  return fastValidator()(e) as boolean;
}

export function checkEvent(e: unknown): EventCheck {
  // Both count a string's length in code points (`id` ≤ 256).
  if (fastValidator()(e)) return { success: true, data: e as NormalizedEvent };
  return NormalizedEvent.safeParse(e);
}
