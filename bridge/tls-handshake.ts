import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';

/** Why a TLS handshake failed, as counted (`mltrail_tls_handshake_failures_total{reason}`): a fixed set, so the label stays bounded. */
export const HANDSHAKE_FAILURE_REASONS = ['unknown_ca', 'bad_certificate', 'no_shared_cipher', 'protocol_version', 'not_tls', 'other'] as const;
export type HandshakeFailureReason = (typeof HANDSHAKE_FAILURE_REASONS)[number];

/**
 * The reason of a failed handshake from Node's error code (`ERR_SSL_` and OpenSSL's reason: the alert a client sent,
 * or what the server refused). The client's alerts say why it refused the server's certificate: 48 unknown_ca (it
 * does not trust the issuer), 42-46 (bad, unsupported, revoked, expired, unknown: e.g. a wrong name).
 */
export function handshakeFailureReason(code: string | undefined): HandshakeFailureReason {
  if (!code) return 'other';
  if (/ALERT_UNKNOWN_CA$/.test(code)) return 'unknown_ca';
  if (/ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN)$/.test(code)) return 'bad_certificate';
  if (/NO_SHARED_CIPHER|NO_CIPHERS_AVAILABLE|NO_SHARED_GROUPS|NO_SHARED_SIGNATURE_ALGORITHMS|NO_SUITABLE_SIGNATURE_ALGORITHM/.test(code)) return 'no_shared_cipher';
  if (/UNSUPPORTED_PROTOCOL|ALERT_PROTOCOL_VERSION|VERSION_TOO_LOW|VERSION_TOO_HIGH/.test(code)) return 'protocol_version';
  // Plain HTTP (or no TLS at all) sent to the HTTPS port: OpenSSL recognises an HTTP request line.
  if (/ERR_SSL_(HTTP_REQUEST|HTTPS_PROXY_REQUEST|WRONG_VERSION_NUMBER)$/.test(code)) return 'not_tls';
  return 'other';
}

/**
 * The answer to a plain HTTP request on the HTTPS port, byte for byte Go net/http's: a sender whose URL says http://
 * (an MLflow webhook) then shows a status and a reason instead of a bare connection reset.
 */
export const PLAIN_HTTP_ANSWER = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/** What an operator does about each reason, said in the log line. */
const HINTS: Record<HandshakeFailureReason, string> = {
  unknown_ca: 'clients do not trust the issuer of server.tls.cert_file: give them its CA, or serve a certificate from a CA they trust (with its intermediates in cert_file)',
  bad_certificate: 'clients refused the server certificate (expired, revoked, or not for the name they connect to)',
  no_shared_cipher: 'clients offer no cipher suite, group or signature algorithm the server accepts',
  protocol_version: 'clients offer no TLS version the server accepts (server.tls.min_version)',
  not_tls: 'clients send plain HTTP (or no TLS) to the HTTPS port: their URL should be https://',
  other: 'the handshake ended before completing (connection reset, timeout, malformed hello)',
};

/**
 * Count and log the TLS handshakes `server` fails (its `tlsClientError` event): every one in
 * `mltrail_tls_handshake_failures_total{reason}`, and at most one warn line per reason per `windowMs` (a minute)
 * with how many there were and the last peer's address and error code (never certificate bytes): a scanner or a
 * misconfigured sender retrying in a loop would otherwise flood the log. A connection closed before it sent a byte
 * (a TCP health check, a port probe) is no handshake and is not counted. A plain HTTP request is answered with
 * PLAIN_HTTP_ANSWER (still counted as `not_tls`). Returns a stop function (clears the timers).
 */
export function watchHandshakeFailures(server: Server, deps: { log: Logger; metrics: Metrics; windowMs?: number }): () => void {
  const windowMs = deps.windowMs ?? 60_000;
  for (const reason of HANDSHAKE_FAILURE_REASONS) deps.metrics.tlsHandshakeFailures.inc({ reason }, 0);
  /** Per reason: failures since its last line, and the timer closing its window. */
  const windows = new Map<HandshakeFailureReason, { count: number; ip?: string; tlsError?: string; timer: NodeJS.Timeout }>();
  const say = (reason: HandshakeFailureReason, count: number, ip: string | undefined, tlsError: string | undefined) =>
    deps.log.warn(
      { reason, count, window_s: windowMs / 1000, ...(ip ? { peer_ip: ip } : {}), tls_error: tlsError, code: 'MLTRAIL_ERR_TLS_HANDSHAKE' },
      `TLS handshake failed (${reason}): ${count} since the last line${ip ? `, the last from ${ip}` : ''} (${tlsError}); ${HINTS[reason]}`,
    );
  const openWindow = (reason: HandshakeFailureReason) => {
    const timer = setTimeout(() => {
      const w = windows.get(reason)!;
      windows.delete(reason);
      // Failures during the window are said at its end, which opens the next; a quiet window closes.
      if (w.count > 0) {
        say(reason, w.count, w.ip, w.tlsError);
        openWindow(reason);
      }
    }, windowMs);
    timer.unref();
    windows.set(reason, { count: 0, timer });
  };
  // Node's TLS socket leaves the address of a peer that reset with its handle; the raw socket it wraps (`_parent`)
  // keeps it once read, so it is read as each connection arrives.
  const onConnection = (raw: { remoteAddress?: string }) => void raw.remoteAddress;
  const onError = (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const raw = (socket as unknown as { _parent?: Socket })._parent;
    if (raw?.bytesRead === 0) return;
    const reason = handshakeFailureReason(err.code);
    // OpenSSL says HTTP_REQUEST only when the first record starts "GET ", "POST ", "HEAD " or "PUT " (the check Go
    // makes on its record header); a TLS record, or anything else, is never answered in plaintext. The TLS layer
    // sent nothing (no alert for this error), so the raw socket is clean; it is closed once the answer is out.
    if (err.code === 'ERR_SSL_HTTP_REQUEST' && raw && !raw.destroyed) {
      raw.on('error', () => undefined); // the sender may be gone already: nothing to tell it then
      raw.end(PLAIN_HTTP_ANSWER);
    }
    deps.metrics.tlsHandshakeFailures.inc({ reason });
    const ip = socket.remoteAddress ?? raw?.remoteAddress;
    const w = windows.get(reason);
    if (w) Object.assign(w, { count: w.count + 1, ip, tlsError: err.code });
    else {
      say(reason, 1, ip, err.code);
      openWindow(reason);
    }
  };
  server.on('connection', onConnection);
  server.on('tlsClientError', onError);
  return () => {
    server.off('connection', onConnection);
    server.off('tlsClientError', onError);
    for (const w of windows.values()) clearTimeout(w.timer);
    windows.clear();
  };
}
