import { readFileSync, statSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { constants, X509Certificate } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import { connectorPlugins } from '../connectors/index.js';
import { readClientCaCertificates, readKeyPair } from '../core/config/pem.js';
import type { ClientCaSet } from '../core/connector.js';
import { MltrailError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Config } from './config.js';

type TlsConfig = NonNullable<Config['server']['tls']>;

/** What the HTTPS server is built from, and how its certificate and client CAs are re-read. */
export interface ServerTls {
  /** The CA files whose client certificates the TLS layer verifies (none: no client certificate is asked for). */
  clientCaFiles: string[];
  /** Options for `https.createServer`. */
  serverOptions: ServerOptions;
  /** The client CA certificates in use, by file: what the server's context verifies against now. */
  clientCas: ClientCaSet;
  /**
   * Read `cert_file`, `key_file` and every client CA file again and hand the new secure context to `apply`
   * (`setSecureContext`); `clientCas` follows once it took. Throws CONFIG, with nothing changed, when any of them
   * is unusable: a CA file gone bad never leaves the server verifying against fewer CAs, or none.
   */
  reload(apply: (context: SecureContextOptions) => void): { validTo: string };
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
  if ('problems' in pair) {
    // Every file that is wrong, in one message; the first names the error's path.
    const said = pair.problems.map((p) => `server.tls.${p.in}_file: ${p.problem}`);
    throw new MltrailError('CONFIG', said.join('; '), { path: `server.tls.${pair.problems[0]!.in}_file` });
  }
  return { cert: pair.cert, key: pair.key, validTo: pair.leaf.validTo };
}

/**
 * The client CA files' text and certificates, checked as the config check does (CA certificates only). A file
 * that is not one of `own` (`server.tls.client_ca_files`) came from a connector's `client_ca_file`: said so.
 */
function readClientCas(files: string[], own: readonly string[]): { pem: string[]; certs: Map<string, X509Certificate[]> } {
  const pem: string[] = [];
  const certs = new Map<string, X509Certificate[]>();
  for (const file of files) {
    const read = readClientCaCertificates(file);
    if ('problem' in read) {
      const key = own.includes(file) ? 'server.tls.client_ca_files' : "a connector's client_ca_file";
      throw new MltrailError('CONFIG', `client CA file (${key}): ${read.problem}`, { path: own.includes(file) ? 'server.tls.client_ca_files' : 'client_ca_file' });
    }
    // The context gets the certificates parsed here, not the file read once more: what is pinned is what is trusted.
    pem.push(...read.certs.map((c) => c.toString()));
    certs.set(file, read.certs);
  }
  return { pem, certs };
}

/**
 * Read what `server.tls` names. A client certificate is asked for when any client CA is configured, and not
 * required (`rejectUnauthorized: false`): senders authenticating by token, HMAC or JWT connect without one, and a
 * route that identifies senders by certificate accepts only one the TLS layer verified (`socket.authorized`).
 */
export function serverTls(cfg: Config): ServerTls {
  const tls = cfg.server.tls!;
  const caFiles = clientCaFiles(cfg);
  const own = tls.client_ca_files ?? [];
  const cas = readClientCas(caFiles, own);
  const { cert, key } = readCertAndKey(tls);
  // No TLS 1.2 renegotiation: a client may present another certificate in one, which OpenSSL does not make Node
  // verify again (`socket.authorized` stays true from the first handshake), so a client holding any trusted
  // certificate could then present a self-made one naming any subject. Kept in the context SIGHUP re-reads.
  // With client CAs, no session resumption either: a resumed session carries the client's certificate but not the
  // intermediates it was sent with, so a cluster pinned to its root CA (client_ca_file) would be refused on it.
  const withCa = caFiles.length > 0;
  const context = (ca: string[]) => ({ minVersion: tls.min_version, secureOptions: constants.SSL_OP_NO_RENEGOTIATION | (withCa ? constants.SSL_OP_NO_TICKET : 0), ...(withCa ? { ca } : {}) });
  let current = cas.certs;
  return {
    clientCaFiles: caFiles,
    serverOptions: { ...context(cas.pem), cert, key, handshakeTimeout: tls.handshake_timeout_ms, ...(withCa ? { requestCert: true, rejectUnauthorized: false } : {}) },
    clientCas: { certs: (file) => current.get(file) },
    reload(apply) {
      const pair = readCertAndKey(tls);
      const next = readClientCas(caFiles, own);
      // setSecureContext replaces the whole context (a `ca` left out is dropped, not kept): every part is given.
      apply({ ...context(next.pem), cert: pair.cert, key: pair.key });
      current = next.certs;
      return { validTo: pair.validTo };
    },
  };
}

/** A day, in ms: a certificate that expires sooner than EXPIRY_WARN_DAYS of them is warned about, once per certificate. */
const DAY_MS = 86_400_000;
const EXPIRY_WARN_DAYS = 14;

/**
 * A renewed certificate is picked up by itself (cert-manager rewriting its Secret's files, certbot's renew): every
 * `reload_check_s` the two files and the client CA files (`cas.clientCaFiles`) are looked at (inode, size, mtime,
 * ctime, through symlinks: a Secret volume swaps a link) and all re-read when any changed; a set that fails the
 * checks (a CA file deleted or no longer a CA bundle included) is said once and the previous one stays.
 * A certificate close to its expiry, or past it, is said once per certificate: the server's, and each client CA
 * certificate in use (`cas.clientCas`; an expired CA makes every client certificate it issued fail verification).
 * Returns `checkExpiry`, for a re-read made outside the polling (SIGHUP) to be checked the same way.
 */
export function watchTls(
  tls: NonNullable<Config['server']['tls']>,
  reload: () => { valid_to: string },
  log: Logger,
  keep: (t: NodeJS.Timeout) => void,
  cas: Pick<ServerTls, 'clientCaFiles' | 'clientCas'> = { clientCaFiles: [], clientCas: { certs: () => undefined } },
): { checkExpiry: (validTo: string) => void } {
  const caFiles = cas.clientCaFiles;
  const stamp = () =>
    [tls.cert_file, tls.key_file, ...caFiles].map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch (err) {
        // Gone (or its directory unreadable): a change too, so the failed re-read is said, once.
        return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
      }
    }).join('|');
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
  // Client CA certificates, as the server verifies against them now (a failed re-read keeps the old ones in use).
  const caWarned = new Set<string>();
  const checkCaExpiry = () => {
    for (const file of caFiles) {
      for (const ca of cas.clientCas.certs(file) ?? []) {
        const left = Date.parse(ca.validTo) - Date.now();
        const id = `${left <= 0 ? 'expired' : 'expiring'}:${ca.fingerprint256}`;
        if (left >= EXPIRY_WARN_DAYS * DAY_MS || caWarned.has(id)) continue;
        caWarned.add(id);
        const subject = ca.subject.replaceAll('\n', ', ');
        const fields = { client_ca_file: file, subject, valid_to: ca.validTo, code: 'MLTRAIL_ERR_CONFIG' };
        if (left <= 0) log.error(fields, `server.tls client CA certificate (${subject}) in ${file} expired at ${ca.validTo}: client certificates it issued no longer verify; put its successor in ${file} (it is re-read when it changes)`);
        else log.warn(fields, `server.tls client CA certificate (${subject}) in ${file} expires at ${ca.validTo}, in ${Math.ceil(left / DAY_MS)} day(s): client certificates it issued stop verifying then; add its successor to ${file} (it is re-read when it changes)`);
      }
    }
  };
  const checkAllExpiry = (validTo: string) => {
    checkExpiry(validTo);
    checkCaExpiry();
  };
  checkAllExpiry(certValidTo(tls.cert_file));
  // A re-read made elsewhere (SIGHUP) is checked too, also with the polling off (`reload_check_s: 0`).
  const checks = { checkExpiry: checkAllExpiry };
  if (tls.reload_check_s === 0) return checks;
  const timer = setInterval(() => {
    const now = stamp();
    if (now === last) return checkAllExpiry(certValidTo(tls.cert_file));
    last = now;
    try {
      const { valid_to } = reload();
      log.info({ cert_file: tls.cert_file, valid_to, ...(caFiles.length ? { client_ca_files: caFiles } : {}) }, 'server.tls certificate, key or client CA file changed: re-read; new connections get them');
      checkAllExpiry(valid_to);
    } catch (err) {
      log.error({ err: { message: (err as Error).message }, code: 'MLTRAIL_ERR_CONFIG' }, `server.tls files changed but the previous certificate stays in use, with its client CAs: ${(err as Error).message}`);
    }
  }, tls.reload_check_s * 1000);
  timer.unref();
  keep(timer);
  return checks;
}

/** The expiry of the first certificate in `file` as served now (read again: the file may have been renewed). */
function certValidTo(file: string): string {
  try {
    return new X509Certificate(readFileSync(file)).validTo;
  } catch {
    return '';
  }
}
