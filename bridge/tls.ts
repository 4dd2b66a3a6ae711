import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import { connectorPlugins } from '../connectors/index.js';
import { readKeyPair } from '../core/config/pem.js';
import { MltrailError } from '../core/errors.js';
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
