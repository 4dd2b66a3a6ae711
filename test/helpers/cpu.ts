import { cpuUsage } from 'node:process';

/**
 * CPU milliseconds `f` takes, the best of three runs: bounded-time checks measure CPU, not wall clock, so a loaded
 * machine (CI beside other jobs) does not stretch them.
 *
 * @example
 * expect(cpuMs(() => redact(input))).toBeLessThan(1000);
 */
export function cpuMs(f: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = cpuUsage();
    f();
    const used = cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}
