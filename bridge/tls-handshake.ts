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

/** The bytes of RFC 9110's `tchar` (§5.6.2), of which a method token (§9.1) is made. */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
/** How many first bytes are looked at, at most: a method token longer than this is no HTTP client's. */
const REQUEST_LINE_PEEK_BYTES = 64;

/**
 * Whether `head` (a connection's first bytes) starts an HTTP/1 request line: a method token, one space, the first
 * byte of a request-target (RFC 9110 §9.1, RFC 9112 §3): any method, not only the GET, POST, HEAD and PUT OpenSSL
 * recognises (OPTIONS, DELETE, PATCH, CONNECT, TRACE… got no answer). `undefined`: not enough bytes yet to say.
 * Safe to answer in plaintext: a TLS record starts with its content type (0x14-0x17) and an SSLv2 hello with a byte
 * of 0x80 or more, none of which is a tchar, so what could be TLS is never taken for a request line.
 *
 * @example
 * startsRequestLine(Buffer.from('OPTIONS * HTTP/1.1\r\n')) // true
 * startsRequestLine(Buffer.from([0x16, 0x03, 0x01])) // false
 */
export function startsRequestLine(head: Buffer): boolean | undefined {
  for (let i = 0; i < head.length; i++) {
    const c = String.fromCharCode(head[i]!);
    if (TCHAR.test(c)) continue;
    if (c !== ' ' || i === 0) return false;
    if (i + 1 === head.length) return undefined;
    // A request-target is visible ASCII: '/', '*', a scheme or an authority.
    return head[i + 1]! > 0x20 && head[i + 1]! < 0x7f;
  }
  return head.length >= REQUEST_LINE_PEEK_BYTES ? false : undefined;
}

/**
 * Hold each new connection of `server` until its first bytes say whether it starts an HTTP request line
 * (`startsRequestLine`), note those that do in `plainHttp`, then hand it to the TLS layer with those bytes put back
 * (Node's TLS socket reads what is buffered on the socket it wraps first), so the handshake sees exactly what
 * was sent. Each connection has one deadline, `handshakeTimeoutMs` after its connect, held or in its handshake:
 * silent until then, it is closed uncounted (a probe); otherwise it is closed as a timed-out handshake, noted in
 * `timedOut` (its failure is counted). Returns a function that gives `server` its own listeners back and closes the
 * connections still held or in their handshake: no HTTP request is in flight on them, and left open (a silent
 * peer, until its deadline) they kept the process from exiting after its stop.
 */
function noteRequestLines(server: Server, plainHttp: WeakSet<Socket>, timedOut: WeakSet<Socket>, handshakeTimeoutMs: number): () => void {
  const tlsListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  const handOver = (raw: Socket) => {
    for (const l of tlsListeners) l.call(server, raw);
  };
  // Raw sockets from their arrival until their handshake is done or they close, each with its deadline.
  const beforeHandshake = new Map<Socket, NodeJS.Timeout>();
  const forget = (raw: Socket) => {
    clearTimeout(beforeHandshake.get(raw));
    beforeHandshake.delete(raw);
  };
  const onSecure = (tlsSocket: TLSSocket) => {
    const raw = (tlsSocket as unknown as { _parent?: Socket })._parent;
    if (raw) forget(raw);
  };
  const onConnection = (raw: Socket) => {
    // Read as the connection arrives: Node's TLS socket leaves the address of a peer that reset with its handle.
    void raw.remoteAddress;
    raw.once('close', () => forget(raw));
    const chunks: Buffer[] = [];
    let held = true;
    const release = () => {
      held = false;
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onGone);
      raw.off('close', onGone);
    };
    const done = (looksLikeHttp: boolean | undefined) => {
      release();
      raw.pause();
      if (chunks.length) raw.unshift(Buffer.concat(chunks));
      if (looksLikeHttp) plainHttp.add(raw);
      handOver(raw);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const verdict = startsRequestLine(Buffer.concat(chunks));
      if (verdict !== undefined) done(verdict);
    };
    // Half-closed before saying enough: the TLS layer gets what came (its error is counted as before).
    const onEnd = () => done(startsRequestLine(Buffer.concat(chunks)));
    // Reset or closed while held: nothing to hand over (a port probe is no handshake).
    const onGone = () => {
      release();
      raw.destroy();
    };
    // The one bound, counted from the connect. Held for its first bytes until then: bytes that never say whether a
    // request line starts are all tchars, which no TLS record begins with, so handing them to the TLS layer sooner
    // could not complete a handshake; it only started the TLS layer's own timeout (which runs from the hand-over)
    // late: a peer that sent two letters and stopped was held 10 s plus the whole timeout.
    const deadline = setTimeout(() => {
      beforeHandshake.delete(raw);
      if (held && !chunks.length) return onGone();
      // What came goes to the TLS layer, whose failure (its 'socket hang up' when the socket closes) is counted.
      if (held) done(false);
      timedOut.add(raw);
      raw.destroy();
    }, handshakeTimeoutMs);
    deadline.unref();
    beforeHandshake.set(raw, deadline);
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('error', onGone);
    raw.on('close', onGone);
  };
  server.removeAllListeners('connection');
  server.on('connection', onConnection);
  server.on('secureConnection', onSecure);
  return () => {
    server.off('connection', onConnection);
    server.off('secureConnection', onSecure);
    for (const l of tlsListeners) server.on('connection', l);
    for (const [raw, deadline] of beforeHandshake) {
      clearTimeout(deadline);
      raw.destroy();
    }
    beforeHandshake.clear();
  };
}

/** What an operator does about each reason, said in the log line. */
const HINTS: Record<HandshakeFailureReason, string> = {
  unknown_ca: 'clients do not trust the issuer of server.tls.cert_file: give them its CA, or serve a certificate from a CA they trust (with its intermediates in cert_file)',
  bad_certificate: 'clients refused the server certificate (expired, revoked, or not for the name they connect to)',
  no_shared_cipher: 'clients offer no cipher suite, group or signature algorithm the server accepts',
  protocol_version: 'clients offer no TLS version the server accepts (server.tls.min_version)',
  not_tls: 'clients send plain HTTP (or no TLS) to the HTTPS port: their URL should be https://',
  other: 'the handshake ended before completing (connection reset, timeout, malformed hello)',
};

/** A timer that does not keep the process alive; returns its cancel. */
function unrefTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

/**
 * Count and log the TLS handshakes `server` fails (its `tlsClientError` event): every one in
 * `mltrail_tls_handshake_failures_total{reason}`, and at most one warn line per reason per `windowMs` (a minute)
 * with how many there were and the last peer's address and error code (never certificate bytes): a scanner or a
 * misconfigured sender retrying in a loop would otherwise flood the log. A connection closed before it sent a byte
 * (a TCP health check, a port probe) is no handshake and is not counted. A plain HTTP request, whatever its
 * method, is answered with PLAIN_HTTP_ANSWER (still counted as `not_tls`). Returns a stop function (clears the
 * timers, gives the server its connection listener back, closes the connections not through their handshake).
 * `setTimer` runs a window's end after `windowMs` (default: an unref'd `setTimeout`); a test gives its own to end
 * windows when it says, not when a loaded machine gets there.
 */
export function watchHandshakeFailures(
  server: Server,
  deps: { log: Logger; metrics: Metrics; windowMs?: number; handshakeTimeoutMs?: number; setTimer?: (fn: () => void, ms: number) => () => void },
): () => void {
  const windowMs = deps.windowMs ?? 60_000;
  const setTimer = deps.setTimer ?? unrefTimer;
  for (const reason of HANDSHAKE_FAILURE_REASONS) deps.metrics.tlsHandshakeFailures.inc({ reason }, 0);
  /** Per reason: failures since its last line, and the cancel of the timer closing its window. */
  const windows = new Map<HandshakeFailureReason, { count: number; ip?: string; tlsError?: string; cancel: () => void }>();
  const say = (reason: HandshakeFailureReason, count: number, ip: string | undefined, tlsError: string | undefined) =>
    deps.log.warn(
      { reason, count, window_s: windowMs / 1000, ...(ip ? { peer_ip: ip } : {}), tls_error: tlsError, code: 'MLTRAIL_ERR_TLS_HANDSHAKE' },
      `TLS handshake failed (${reason}): ${count} since the last line${ip ? `, the last from ${ip}` : ''} (${tlsError}); ${HINTS[reason]}`,
    );
  const openWindow = (reason: HandshakeFailureReason) => {
    const cancel = setTimer(() => {
      const w = windows.get(reason)!;
      windows.delete(reason);
      // Failures during the window are said at its end, which opens the next; a quiet window closes.
      if (w.count > 0) {
        say(reason, w.count, w.ip, w.tlsError);
        openWindow(reason);
      }
    }, windowMs);
    windows.set(reason, { count: 0, cancel });
  };
  // Connections whose first bytes start an HTTP request line (the raw sockets the TLS sockets wrap).
  const plainHttp = new WeakSet<Socket>();
  // Connections closed at their deadline (their TLS socket says only 'socket hang up').
  const timedOut = new WeakSet<Socket>();
  const restoreListeners = noteRequestLines(server, plainHttp, timedOut, deps.handshakeTimeoutMs ?? 120_000); // Node's default handshakeTimeout
  const onError = (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const raw = (socket as unknown as { _parent?: Socket })._parent;
    if (raw?.bytesRead === 0) return;
    const code = raw && timedOut.has(raw) ? 'ERR_TLS_HANDSHAKE_TIMEOUT' : err.code;
    const reason = handshakeFailureReason(code);
    // Answered when the first bytes start a request line (any method: OpenSSL names only GET, POST, HEAD and PUT
    // HTTP_REQUEST, CONNECT HTTPS_PROXY_REQUEST and the rest WRONG_VERSION_NUMBER) and the TLS layer also found no
    // TLS there; a TLS record, or anything else, is never answered in plaintext. OpenSSL sends no alert for bytes
    // whose first record has no TLS version, so the raw socket is clean; it is closed once the answer is out.
    if (reason === 'not_tls' && raw && plainHttp.has(raw) && !raw.destroyed) {
      raw.on('error', () => undefined); // the sender may be gone already: nothing to tell it then
      raw.end(PLAIN_HTTP_ANSWER);
    }
    deps.metrics.tlsHandshakeFailures.inc({ reason });
    const ip = socket.remoteAddress ?? raw?.remoteAddress;
    const w = windows.get(reason);
    if (w) Object.assign(w, { count: w.count + 1, ip, tlsError: code });
    else {
      say(reason, 1, ip, code);
      openWindow(reason);
    }
  };
  server.on('tlsClientError', onError);
  return () => {
    restoreListeners();
    server.off('tlsClientError', onError);
    for (const w of windows.values()) w.cancel();
    windows.clear();
  };
}
