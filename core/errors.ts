/**
 * One catalogue of stable error codes. Every HTTP error body, CLI message and
 * log line that reports a failure uses one of these codes, so operators can
 * grep and alert on them. Codes are a contract: add, never rename.
 */
export const ErrorCodes = {
  /** Request body is not valid JSON / NDJSON / the expected envelope. */
  BAD_REQUEST: { code: 'MLTRAIL_ERR_BAD_REQUEST', status: 400 },
  INVALID_JSON: { code: 'MLTRAIL_ERR_INVALID_JSON', status: 400 },
  VALIDATION: { code: 'MLTRAIL_ERR_VALIDATION', status: 400 },
  UNAUTHORIZED: { code: 'MLTRAIL_ERR_UNAUTHORIZED', status: 401 },
  SIGNATURE: { code: 'MLTRAIL_ERR_SIGNATURE', status: 401 },
  STALE_TIMESTAMP: { code: 'MLTRAIL_ERR_STALE_TIMESTAMP', status: 401 },
  FORBIDDEN: { code: 'MLTRAIL_ERR_FORBIDDEN', status: 403 },
  NOT_FOUND: { code: 'MLTRAIL_ERR_NOT_FOUND', status: 404 },
  METHOD_NOT_ALLOWED: { code: 'MLTRAIL_ERR_METHOD_NOT_ALLOWED', status: 405 },
  BODY_TOO_LARGE: { code: 'MLTRAIL_ERR_BODY_TOO_LARGE', status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { code: 'MLTRAIL_ERR_UNSUPPORTED_MEDIA_TYPE', status: 415 },
  SPOOL_FULL: { code: 'MLTRAIL_ERR_SPOOL_FULL', status: 503 },
  /** The spool cannot store input for another reason than room: its file is damaged or not writable. */
  SPOOL_UNAVAILABLE: { code: 'MLTRAIL_ERR_SPOOL_UNAVAILABLE', status: 503 },
  NOT_CONFIGURED: { code: 'MLTRAIL_ERR_NOT_CONFIGURED', status: 503 },
  SHUTTING_DOWN: { code: 'MLTRAIL_ERR_SHUTTING_DOWN', status: 503 },
  /** Too many request bodies are held before their senders could be authenticated (signed webhooks): retry shortly. */
  BUSY: { code: 'MLTRAIL_ERR_BUSY', status: 503 },
  UPSTREAM: { code: 'MLTRAIL_ERR_UPSTREAM', status: 502 },
  NOT_IMPLEMENTED: { code: 'MLTRAIL_ERR_NOT_IMPLEMENTED', status: 501 },
  CONFIG: { code: 'MLTRAIL_ERR_CONFIG', status: 500 },
  /** The process cannot start: its listen address or data directory is unusable (in use, not permitted, not a directory). */
  STARTUP: { code: 'MLTRAIL_ERR_STARTUP', status: 500 },
  INTERNAL: { code: 'MLTRAIL_ERR_INTERNAL', status: 500 },
  /** A client's TLS handshake with the HTTPS server (server.tls) failed: logged (no HTTP answer can be sent), never a response. */
  TLS_HANDSHAKE: { code: 'MLTRAIL_ERR_TLS_HANDSHAKE', status: 400 },
  /** A CLI output (a file, standard output) could not be written: disk full, closed. */
  OUTPUT: { code: 'MLTRAIL_ERR_OUTPUT', status: 500 },
  USAGE: { code: 'MLTRAIL_ERR_USAGE', status: 400 },
} as const;

export type ErrorKind = keyof typeof ErrorCodes;
export type ErrorCode = (typeof ErrorCodes)[ErrorKind]['code'];

/** The JSON body of every HTTP error: `{error:{code,message,...}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; [extra: string]: unknown };
}

/**
 * An error that knows its stable code, HTTP status and extra fields.
 *
 * @example
 * throw new MltrailError('NOT_CONFIGURED', 'set MLTRAIL_FIREHOSE_ACCESS_KEY', { variable: 'MLTRAIL_FIREHOSE_ACCESS_KEY' });
 */
export class MltrailError extends Error {
  readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly status: number;
  readonly extra: Record<string, unknown>;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(kind: ErrorKind, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'MltrailError';
    this.kind = kind;
    this.code = ErrorCodes[kind].code;
    this.status = ErrorCodes[kind].status;
    this.extra = extra;
    this.headers = headers;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

/** Build an error body without throwing. */
export function errorBody(kind: ErrorKind, message: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { error: { code: ErrorCodes[kind].code, message, ...extra } };
}
