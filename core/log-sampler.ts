/**
 * Lets a repeated warning through once a minute per key, then every `every`th time within that minute:
 * under a flood (a sender posting bad input hundreds of times a second) one line per occurrence fills
 * the disk the logs go to as surely as an unbounded spool would. The count says how many were seen.
 *
 * @example
 * const seen = sampler.take(channel);
 * if (seen !== undefined) log.warn({ channel, this_minute: seen }, 'input quarantined');
 */
export class MinuteSampler {
  private minute = -1;
  /** Occurrences per key in `minute`: keys are the caller's few fixed names (channels), cleared every minute. */
  private readonly counts = new Map<string, number>();

  constructor(private readonly every = 100) {}

  /** Count one occurrence of `key`: its count this minute when it should be logged, else undefined. */
  take(key: string, now = Date.now()): number | undefined {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.counts.clear();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n === 1 || n % this.every === 0 ? n : undefined;
  }
}
