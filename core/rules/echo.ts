import type { NormalizedEvent } from '../schema/index.js';
import type { StateStore } from '../state/index.js';

/**
 * One real change reported by two channels of a platform — MLflow's webhook at once, its registry auditor at
 * the next poll — is two events with different ids (each keeps its own: same native record, same id). Events
 * that report a change say which in `details.change_key`; the second report of a key, from another channel,
 * within ECHO_WINDOW_MS of the first, is its echo. A rule that counted or detected on the first report skips
 * the echo: the change counts once. A rule that did nothing with the first judges the echo — it may know more
 * (the auditor's report of a digest tag is never its own write-back; the webhook's may be).
 *
 * Each first report pairs with one echo at most: the same value set again later is another change.
 */
export const ECHO_WINDOW_MS = 3_600_000;
const PREFIX = 'echo|';

interface FirstReport {
  channel: string;
  /** Event time (ms). */
  at: number;
  /** Rules that counted or detected on it. */
  rules: string[];
  /** Set once its echo came. */
  paired?: true;
}

/** The change key an event carries, if any. */
export function changeKeyOf(ev: NormalizedEvent): string | undefined {
  const k = ev.details?.change_key;
  return typeof k === 'string' && k ? k : undefined;
}

export class ChangeEchoes {
  /** `ns`: the engine's namespace (the records commit with its cursor). */
  constructor(
    private readonly state: StateStore,
    private readonly ns: string,
  ) {}

  /**
   * The first report this event echoes (its rules skip it), or undefined when the event is a first report
   * (then `remember` it once its rules ran). Marks the first report paired.
   */
  echoOf(ev: NormalizedEvent, key: string): { rules: string[] } | undefined {
    const first = this.state.get<FirstReport>(this.ns, PREFIX + key);
    if (!first || first.paired || first.channel === ev.channel || !(Math.abs(Date.parse(ev.time) - first.at) <= ECHO_WINDOW_MS)) return undefined;
    this.state.set(this.ns, PREFIX + key, { ...first, paired: true } satisfies FirstReport);
    return { rules: first.rules };
  }

  remember(ev: NormalizedEvent, key: string, rules: string[]): void {
    this.state.set(this.ns, PREFIX + key, { channel: ev.channel, at: Date.parse(ev.time), rules } satisfies FirstReport);
  }

  /** Forget first reports older than the window before `now` (their echo can no longer come). */
  prune(now: number): void {
    for (const { key, value } of this.state.list<FirstReport>(this.ns, PREFIX)) if (!(now - value.at <= ECHO_WINDOW_MS)) this.state.delete(this.ns, key);
  }
}
