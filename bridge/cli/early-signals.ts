/**
 * Installed before anything else is loaded (the first import of the CLI's main module): `serve` takes a
 * second to load its modules, and a SIGHUP in that time (logrotate's postrotate, a closed terminal) killed
 * it. This handler only notes the signal; `serve` logs it once its logger exists and takes over.
 */
export const earlyHangups: number[] = [];

const onEarlyHangup = () => void earlyHangups.push(Date.now());
if (process.argv[2] === 'serve') process.on('SIGHUP', onEarlyHangup);

/** Stop noting hangups (serve's own handler takes over). */
export function releaseEarlySignals(): void {
  process.off('SIGHUP', onEarlyHangup);
}
