import type { CliIo } from '../../core/connector.js';
import { decimalOrText } from '../../core/config/load.js';
import { loadConfig } from '../config.js';
import type { startBridge } from '../runtime.js';
import { common, parse } from './args.js';
import { configErrorReport, isConfigError } from './config-errors.js';
import { earlyHangups, earlyStops, releaseEarlySignals } from './early-signals.js';

export const serveUsage = `mltrail serve [--config FILE] [--port N] [--host ADDR] [--data-dir DIR]

Start the bridge: webhook/push targets, spool, rules and sinks.
  --config, -c   YAML config (also MLTRAIL_CONFIG)
  --port, -p     listen port (also PORT; default 8787)
  --host         listen address (also MLTRAIL_HOST; default 127.0.0.1)
  --data-dir     state directory (also MLTRAIL_DATA_DIR; default ./data)
HTTPS: server.tls in the config file (no flag or variable sets it); SIGHUP
re-reads its cert_file and key_file, and the client CA files. SIGTERM or SIGINT
drains and stops. A bad config (found loading it or when starting): an
MLTRAIL_ERR_CONFIG line, then every problem, one a line as check-config
prints them; exit 2.`;

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { ...common, port: { type: 'string', short: 'p' }, host: { type: 'string' } });
  if (values.help) return (io.stdout.write(`${serveUsage}\n`), 0);
  const server: Record<string, unknown> = {};
  if (values.port !== undefined) server.port = decimalOrText(values.port);
  if (values.host !== undefined) server.host = values.host;
  const overrides: Record<string, unknown> = { server };
  if (values['data-dir']) overrides.data_dir = values['data-dir'];
  // The file named in the messages, as check-config names it (MLTRAIL_CONFIG when no --config; an empty value names none).
  const file = values.config ?? (io.env.MLTRAIL_CONFIG || undefined);
  let cfg: ReturnType<typeof loadConfig>;
  try {
    cfg = loadConfig({ file, env: io.env, overrides });
  } catch (err) {
    if (!isConfigError(err)) throw err;
    // Every problem, one a line as check-config prints them (same text, same order), after one line with the
    // error code (what a log alert matches); exit 2, as for every start-up config error.
    io.stderr.write(configErrorReport('serve', err, file, 'not started'));
    return 2;
  }
  // The bridge's modules (HTTP server, metrics, every connector's routes) are loaded by `serve` only: the CLI
  // imports this module for every command. Signals are still noted by early-signals while they load.
  const { startBridge } = await import('../runtime.js');
  // Signals are handled from before the bridge starts: a SIGTERM while it opens the spool drains it once
  // started (the default action killed it mid-start), and a SIGHUP (logrotate's postrotate, a closed
  // terminal) is logged and ignored — it killed the bridge. Nothing is reloaded but server.tls's certificate,
  // key and client CAs: the config is read at start, and the file sink follows an output file renamed under it by itself.
  let stopSignal: string | undefined;
  let onStop: ((sig: string) => void) | undefined;
  let bridge: Awaited<ReturnType<typeof startBridge>> | undefined;
  const onSignal = (sig: string) => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    stopSignal = sig;
    onStop?.(sig);
  };
  const HUP_MSG = 'SIGHUP received: nothing to reload (config is read at start; file sinks reopen renamed output files by themselves)';
  // With server.tls, a hangup re-reads the certificate, key and client CAs (a renewal); nothing else is reloaded.
  const hangup = (b: NonNullable<typeof bridge>, whileStarting = 0) => {
    const fields = { signal: 'SIGHUP', ...(whileStarting ? { count: whileStarting } : {}) };
    const when = whileStarting ? ' (received while starting)' : '';
    if (!b.reloadTls) return b.log.info(fields, `${HUP_MSG}${when}`);
    try {
      const { valid_to } = b.reloadTls();
      b.log.info({ ...fields, cert_file: cfg.server.tls?.cert_file, valid_to }, `SIGHUP received${when}: server.tls certificate and key re-read, with the client CA files; new connections get them (nothing else is reloaded)`);
    } catch (err) {
      b.log.error({ ...fields, err: { message: (err as Error).message }, code: 'MLTRAIL_ERR_CONFIG' }, `SIGHUP received${when}: the previous server.tls certificate stays in use, with its client CAs: ${(err as Error).message}`);
    }
  };
  // Before the bridge (and its logger) exists, a hangup is noted and logged once it does.
  let hupsBeforeStart = earlyHangups.length;
  const onHangup = () => (bridge ? hangup(bridge) : hupsBeforeStart++);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);
  releaseEarlySignals();
  // A SIGTERM / SIGINT while the modules were loading: drain once started, as for one arriving now.
  if (earlyStops.length) onSignal(earlyStops[0]!);
  try {
    try {
      bridge = await startBridge(cfg, { env: io.env });
    } catch (err) {
      // A check made once the file was loaded (a TLS file gone bad since, no token on a non-loopback address):
      // said as a problem of the file is, not in a line of its own form.
      if (!isConfigError(err)) throw err;
      io.stderr.write(configErrorReport('serve', err, file, 'not started'));
      return 2;
    }
    // Received while starting (perhaps after the certificate was read): handled now.
    if (hupsBeforeStart) hangup(bridge, hupsBeforeStart);
    const started = bridge;
    await new Promise<void>((resolve) => {
      onStop = (sig: string) => {
        // A JSON line like every other (the README promises JSON lines on stderr).
        started.log.info({ signal: sig }, `${sig} received, draining`);
        started.stop().then(resolve, resolve);
      };
      if (stopSignal) onStop(stopSignal);
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onHangup);
  }
  return 0;
}
