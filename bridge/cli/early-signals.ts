/**
 * Installed before anything else is loaded (the first import of the CLI's main module): `serve` takes a
 * second to load its modules, and a SIGHUP in that time (logrotate's postrotate, a closed terminal) killed
 * it, as did a SIGTERM or SIGINT (exit 143/130, no drain: an orchestrator stopping a bridge it had just
 * started). These handlers only note the signal; `serve` logs it once its logger exists and takes over
 * (a stop noted here drains the bridge once started, as one during the start does).
 */
export const earlyHangups: number[] = [];
/** SIGTERM / SIGINT received before `serve` installed its own handlers, in order. */
export const earlyStops: string[] = [];

const onEarlyHangup = () => void earlyHangups.push(Date.now());
const onEarlyStop = (sig: string) => void earlyStops.push(sig);
if (process.argv[2] === 'serve') {
  process.on('SIGHUP', onEarlyHangup);
  process.on('SIGTERM', onEarlyStop);
  process.on('SIGINT', onEarlyStop);
}

/** Stop noting signals (serve's own handlers take over). */
export function releaseEarlySignals(): void {
  process.off('SIGHUP', onEarlyHangup);
  process.off('SIGTERM', onEarlyStop);
  process.off('SIGINT', onEarlyStop);
}
