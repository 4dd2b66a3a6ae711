import { readFileSync, statSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { constants, X509Certificate } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import { connectorPlugins } from '../connectors/index.js';
import { readKeyPair } from '../core/config/pem.js';
import { MltrailError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Config } from './config.js';

type TlsConfig = NonNullable<Config['server']['tls']>;

/** What the HTTPS server is built from, and how its certificate is re-read. */
export interface ServerTls {
  /** The CA files whose client certificates the TLS layer verifies (none: no client certificate is asked for). */
  clientCaFiles: string[];
  /** Options for `https.createServer`. */
  serverOptions: ServerOptions;
  /** The secure context with `cert_file` and `key_file` read again (the CAs stay as read at start); throws CONFIG when they are unusable. */
  reread(): SecureContextOptions & { validTo: string };
}

/**
 * The CAs trusted for client certificates: `server.tls.client_ca_files` and every connector's own (each Kubeflow
 * cluster's `client_ca_file`), so a cluster's CA is configured in one place.
 */
export function clientCaFiles(cfg: Config): string[] {
  const files = [...(cfg.server.tls?.client_ca_files ?? [])];
  for (const plugin of connectorPlugins) {
    const section = (cfg.connectors as Record<string, unknown>)[plugin.name];
    if (section !== undefined) files.push(...(plugin.clientCaFiles?.(section) ?? []));
  }
  return [...new Set(files)];
}

/** The certificate and key of `tls`, checked as the config check does (they may have changed since). */
function readCertAndKey(tls: TlsConfig): { cert: string; key: string; validTo: string } {
  const pair = readKeyPair(tls.cert_file, tls.key_file);
  if ('problem' in pair) {
    const key = `server.tls.${pair.in}_file`;
    throw new MltrailError('CONFIG', `${key}: ${pair.problem}`, { path: key });
  }
  return { cert: pair.cert, key: pair.key, validTo: pair.leaf.validTo };
}

/**
 * Read what `server.tls` names. A client certificate is asked for when any client CA is configured, and not
 * required (`rejectUnauthorized: false`): senders authenticating by token, HMAC or JWT connect without one, and a
 * route that identifies senders by certificate accepts only one the TLS layer verified (`socket.authorized`).
 */
export function serverTls(cfg: Config): ServerTls {
  const tls = cfg.server.tls!;
  const caFiles = clientCaFiles(cfg);
  const ca = caFiles.map((f) => readFileSync(f, 'utf8'));
  const { cert, key } = readCertAndKey(tls);
  // No TLS 1.2 renegotiation: a client may present another certificate in one, which OpenSSL does not make Node
  // verify again (`socket.authorized` stays true from the first handshake), so a client holding any trusted
  // certificate could then present a self-made one naming any subject. Kept in the context SIGHUP re-reads.
  // With client CAs, no session resumption either: a resumed session carries the client's certificate but not the
  // intermediates it was sent with, so a cluster pinned to its root CA (client_ca_file) would be refused on it.
  const context = { minVersion: tls.min_version, secureOptions: constants.SSL_OP_NO_RENEGOTIATION | (ca.length ? constants.SSL_OP_NO_TICKET : 0), ...(ca.length ? { ca } : {}) };
  return {
    clientCaFiles: caFiles,
    serverOptions: { ...context, cert, key, ...(ca.length ? { requestCert: true, rejectUnauthorized: false } : {}) },
    reread: () => ({ ...context, ...readCertAndKey(tls) }),
  };
}

/** A day, in ms: a certificate that expires sooner than EXPIRY_WARN_DAYS of them is warned about, once per certificate. */
const DAY_MS = 86_400_000;
const EXPIRY_WARN_DAYS = 14;

/**
 * A renewed certificate is picked up by itself (cert-manager rewriting its Secret's files, certbot's renew): every
 * `reload_check_s` the two files are looked at (inode, size, mtime, through symlinks: a Secret volume swaps a
 * link) and re-read when either changed; a pair that fails the checks is said once and the previous one stays.
 * A certificate close to its expiry, or past it, is said once per certificate.
 */
export function watchTls(tls: NonNullable<Config['server']['tls']>, reload: () => { valid_to: string }, log: Logger, keep: (t: NodeJS.Timeout) => void): void {
  const stamp = () => {
    try {
      return [tls.cert_file, tls.key_file].map((f) => {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      }).join('|');
    } catch {
      return undefined; // a file in the middle of being replaced: looked at again next time
    }
  };
  let last = stamp();
  let warnedFor: string | undefined;
  const checkExpiry = (validTo: string) => {
    const left = Date.parse(validTo) - Date.now();
    if (left >= EXPIRY_WARN_DAYS * DAY_MS || warnedFor === validTo) return;
    warnedFor = validTo;
    const fields = { cert_file: tls.cert_file, valid_to: validTo, code: 'MLTRAIL_ERR_CONFIG' };
    if (left <= 0) log.error(fields, `server.tls certificate expired at ${validTo}: senders refuse it; renew ${tls.cert_file} (it is re-read when it changes)`);
    else log.warn(fields, `server.tls certificate expires at ${validTo}, in ${Math.ceil(left / DAY_MS)} day(s): renew ${tls.cert_file} (it is re-read when it changes)`);
  };
  checkExpiry(certValidTo(tls.cert_file));
  if (tls.reload_check_s === 0) return;
  const timer = setInterval(() => {
    const now = stamp();
    if (now === undefined || now === last) return checkExpiry(certValidTo(tls.cert_file));
    last = now;
    try {
      const { valid_to } = reload();
      log.info({ cert_file: tls.cert_file, valid_to }, 'server.tls certificate or key changed: re-read; new connections get them');
      checkExpiry(valid_to);
    } catch (err) {
      log.error({ err: { message: (err as Error).message }, code: 'MLTRAIL_ERR_CONFIG' }, `server.tls files changed but the previous certificate stays in use: ${(err as Error).message}`);
    }
  }, tls.reload_check_s * 1000);
  timer.unref();
  keep(timer);
}

/** The expiry of the first certificate in `file` as served now (read again: the file may have been renewed). */
function certValidTo(file: string): string {
  try {
    return new X509Certificate(readFileSync(file)).validTo;
  } catch {
    return '';
  }
}
