import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;

/**
 * Paths redacted from every log line: secrets never reach logs, whatever a
 * caller passes in.
 */
export const REDACT_PATHS = [
  'token', 'secret', 'password', 'api_key', 'apiKey', 'access_key', 'authorization', 'credentials',
  '*.token', '*.secret', '*.secrets', '*.password', '*.api_key', '*.apiKey', '*.access_key', '*.authorization',
  '*.credentials', '*.webhook_secrets', '*.ingest_token', '*.access_token',
  'headers.authorization', 'headers.cookie', 'headers["x-api-key"]', 'headers["x-amz-firehose-access-key"]',
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["x-amz-firehose-access-key"]',
  'config.server.ingest_token', 'config.sinks.*.token', 'config.sinks.*.api_key', 'config.sinks.*.password',
];

/**
 * Structured JSON logger (pino) with secrets redacted.
 *
 * @example
 * const log = createLogger({ level: 'info' });
 * log.info({ code: 'MLTRAIL_ERR_SPOOL_FULL' }, 'spool full');
 */
export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'mltrail',
      level: opts.level ?? process.env.MLTRAIL_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that discards everything (tests, CLI one-shots). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
