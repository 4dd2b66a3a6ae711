import type { X509Certificate } from 'node:crypto';
import { readCaCertificates } from '../../core/config/pem.js';
import type { ClientCaSet } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { issuedByAny, type VerifiedClientCert } from '../../core/http/client-cert.js';
import { safeEqualAny } from '../../core/http/index.js';
import type { KubeflowConfig } from './config.js';

/** The CA certificates each identity's subjects are pinned to (`client_ca_file`); an identity absent here is not pinned. */
export interface ClientCaPins {
  default?: X509Certificate[];
  clusters: Map<string, X509Certificate[]>;
}

/** The CA config key's certificates; config validation checked the file, so failing here means it changed since. */
function readPin(file: string, key: string): X509Certificate[] {
  const read = readCaCertificates(file);
  if ('problem' in read) throw new MltrailError('CONFIG', `${key}: ${read.problem}`, { path: key });
  return read.certs;
}

/**
 * Every `client_ca_file`'s certificates: as the server's TLS context holds them now (`live`, with `server.tls`, which
 * trusts each of these files and re-reads them with its certificate), else read from the file (once, at mount).
 */
export function clientCaPins(cfg: KubeflowConfig, live?: ClientCaSet): ClientCaPins {
  const pin = (file: string, key: string) => live?.certs(file) ?? readPin(file, key);
  const pins: ClientCaPins = { clusters: new Map() };
  if (cfg.audit.client_ca_file) pins.default = pin(cfg.audit.client_ca_file, 'connectors.kubeflow.audit.client_ca_file');
  cfg.clusters.forEach((cl, i) => {
    if (cl.client_ca_file) pins.clusters.set(cl.id, pin(cl.client_ca_file, `connectors.kubeflow.clusters.${i}.client_ca_file`));
  });
  return pins;
}

/**
 * The pins to judge a request by: those of the server's client CAs in use when it asks (`live`: a CA file re-read
 * swaps them with the TLS context, so a rotated cluster CA is trusted and pinned from the same moment), else read once.
 */
export function clientCaPinsSource(cfg: KubeflowConfig, live?: ClientCaSet): () => ClientCaPins {
  if (live) return () => clientCaPins(cfg, live);
  const once = clientCaPins(cfg);
  return () => once;
}

/**
 * Which identities a verified client certificate's CN/SAN entries name: the default cluster
 * (`audit.client_cert_subjects`) and/or configured clusters (`clusters[].client_cert_subjects`). Exact matches,
 * every subject compared (no early exit): the time taken does not tell whose subject it is. An identity with a
 * `client_ca_file` counts only when one of its CAs issued the certificate (`wrongCa`: one was dropped for that).
 */
export function certIdentities(cert: VerifiedClientCert, cfg: KubeflowConfig, pins: ClientCaPins): { isDefault: boolean; clusters: Set<string>; wrongCa: boolean } {
  let named = false;
  const namedClusters = new Set<string>();
  for (const n of cert.names) {
    if (safeEqualAny(n, cfg.audit.client_cert_subjects)) named = true;
    for (const cl of cfg.clusters) if (safeEqualAny(n, cl.client_cert_subjects ?? [])) namedClusters.add(cl.id);
  }
  const pinnedBy = (cas: X509Certificate[] | undefined) => cas === undefined || issuedByAny(cert.chain, cas);
  const out = { isDefault: named && pinnedBy(pins.default), clusters: new Set<string>(), wrongCa: false };
  if (named && !out.isDefault) out.wrongCa = true;
  for (const id of namedClusters) {
    if (pinnedBy(pins.clusters.get(id))) out.clusters.add(id);
    else out.wrongCa = true;
  }
  return out;
}
