import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import type * as PromClient from 'prom-client';
import type { Counter } from 'prom-client';
import type { ConnectorDeps, NormalizeOutput } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { bearerToken, clientIp, errorResponse, isTooLarge, parseJsonRecords, sentBytes, readBody, safeEqual } from '../../core/http/index.js';
import { unverifiedClientCert, verifiedClientCert } from '../../core/http/client-cert.js';
import { normalizeAndIngest, quarantineBudget } from '../../core/ingest.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { auditFieldError, auditItems, isAuditEvent, normalizeAuditEvent } from './audit.js';
import { keepBindingRolesIn } from './audit/binding-roles.js';
import { keepKserveNamespacesIn } from './audit/kserve-config.js';
import { beginPatchBaseBatch, keepPatchBasesIn } from './audit/patch-base.js';
import { redactAuditInput } from './audit/redact.js';
import { redactAuditBody } from './audit/redact-body.js';
import { certIdentities, clientCaPinsSource, type ClientCaPins } from './cert-identity.js';
import { forCluster } from './cluster.js';
import type { KubeflowConfig } from './config.js';
import { relevanceOrKeep } from './filter.js';
import { namespaceMatcher } from './namespaces.js';
import { artifactEndpointsOf } from './mlflowserver.js';

export const AUDIT_ROUTE = '/v1/ingest/kubeflow/k8s-audit';
export const AUDIT_CHANNEL = 'kubeflow.k8s_audit';

/** Whether the request came over TLS that ended in this process. */
function isTls(c: Context): boolean {
  const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket as { encrypted?: boolean } | undefined;
  return socket?.encrypted === true;
}

/** prom-client, loaded when the route is mounted with metrics (`serve`), not by every command. */
const promClient = lazyRequire<typeof PromClient>('prom-client');

function filteredCounter(deps: ConnectorDeps<KubeflowConfig>): Counter<'reason'> | undefined {
  const registry = deps.metrics?.registry;
  if (!registry) return undefined;
  const name = 'mltrail_kubeflow_audit_filtered_total';
  return (registry.getSingleMetric(name) as Counter<'reason'> | undefined) ??
    new (promClient().Counter)({ name, help: 'Kubernetes audit items outside the watched Kubeflow namespaces (counted, not kept)', labelNames: ['reason'], registers: [registry] });
}

/**
 * Authenticate the kube-apiserver: a verified client certificate whose CN/SAN is in `audit.client_cert_subjects`
 * (the default cluster) or a configured cluster's `client_cert_subjects`, else `Authorization: Bearer` equal to
 * MLTRAIL_INGEST_TOKEN (the `token` of the webhook kubeconfig's user) or to a configured cluster's token. Returns
 * that cluster's id (none for the default cluster). A cluster is named by what the TLS layer or the token proved,
 * never by a header the sender chose; a certificate and a token that name different clusters are refused, and so is
 * a certificate naming a cluster whose `client_ca_file` did not issue it.
 */
function authenticate(c: Context, deps: ConnectorDeps<KubeflowConfig>, pins: ClientCaPins): { cluster?: string } {
  const cfg = deps.config;
  const expected = deps.server.ingestToken;
  const tokenClusters = cfg.clusters.filter((cl) => cl.token !== undefined);
  const anySubjects = cfg.audit.client_cert_subjects.length > 0 || cfg.clusters.some((cl) => cl.client_cert_subjects?.length);
  if (!expected && !anySubjects && tokenClusters.length === 0) {
    throw new MltrailError('NOT_CONFIGURED', 'the Kubernetes audit webhook needs MLTRAIL_INGEST_TOKEN (server.ingest_token) set, matching the token in the webhook kubeconfig', {
      variable: 'MLTRAIL_INGEST_TOKEN',
    });
  }
  // Certificates can only be verified where TLS ends in this process; over plain HTTP (`mltrail serve`, a
  // TLS sidecar in front) no request could ever pass: say what to configure (503, which the apiserver
  // retries) rather than refuse every batch with a 401 it drops after five tries.
  if (!expected && tokenClusters.length === 0 && !isTls(c)) {
    const key = cfg.audit.client_cert_subjects.length ? 'audit.client_cert_subjects' : 'clusters[].client_cert_subjects';
    throw new MltrailError('NOT_CONFIGURED', `${key} needs TLS to end in the bridge process (server.tls), but this connection is plain HTTP; set MLTRAIL_INGEST_TOKEN (server.ingest_token) to the token in the webhook kubeconfig`, {
      variable: 'MLTRAIL_INGEST_TOKEN',
    });
  }
  let reason: string;
  const cert = anySubjects ? verifiedClientCert(c) : undefined;
  const certNames = cert?.names;
  const byCert = cert ? certIdentities(cert, cfg, pins) : undefined;
  // A certificate naming two clusters (or a cluster and the default one) tells neither surely: refused, not guessed.
  const ambiguous = !!byCert && byCert.clusters.size + (byCert.isDefault ? 1 : 0) > 1;
  // A certificate claiming a cluster whose pinned CA did not issue it is forged or misissued: refused, whatever token
  // comes with it, and whatever else it names.
  const wrongCa = !!byCert?.wrongCa;
  const certSays = byCert && !ambiguous && !wrongCa ? (byCert.clusters.size === 1 ? { cluster: [...byCert.clusters][0]! } : byCert.isDefault ? {} : undefined) : undefined;
  const given = bearerToken(c);
  let tokenSays: { cluster?: string } | undefined;
  if (given && !ambiguous && !wrongCa) {
    // Every token compared (no early exit): the time taken does not tell whose token it is.
    let cluster: string | undefined;
    for (const cl of tokenClusters) if (safeEqual(given, cl.token!) && cluster === undefined) cluster = cl.id;
    const isDefault = !!expected && safeEqual(given, expected);
    tokenSays = cluster !== undefined ? { cluster } : isDefault ? {} : undefined;
  }
  // A certificate of one cluster with another's token (default included) tells neither surely: refused, not guessed.
  const conflicting = !!certSays && !!tokenSays && certSays.cluster !== tokenSays.cluster;
  if (!conflicting && !wrongCa) {
    if (certSays) return certSays;
    if (tokenSays) return tokenSays;
  }
  if (wrongCa) reason = 'client certificate names a cluster whose client_ca_file did not issue it';
  else if (ambiguous) reason = 'client certificate names subjects of more than one cluster';
  else if (conflicting) reason = 'client certificate and bearer token name different clusters';
  else if (certNames) reason = 'client certificate subject not allowed';
  else reason = given ? 'invalid bearer token' : 'missing bearer token';
  // A certificate came but no trusted client CA issued it: said, so that neither the operator (whose apiserver
  // sees the 401) nor the SOC (the auth failure event) reads it as a client that sent none.
  const untrusted = anySubjects && !cert && !given ? unverifiedClientCert(c) : undefined;
  // Its CN goes to claimed_principal, not into the reason: the reason's head keys the auth-failure collapse.
  const untrustedReason = untrusted && `client certificate not verified (${untrusted.error}): no client CA of server.tls.client_ca_files or client_ca_file issued it, and no bearer token came`;
  if (untrustedReason) reason = untrustedReason;
  deps.ingest.authFailure({
    platform: 'kubeflow',
    channel: AUDIT_CHANNEL,
    reason,
    ip: clientIp(c),
    user_agent: c.req.header('user-agent'),
    claimed: certNames?.[0] ?? untrusted?.names[0],
  });
  c.header('WWW-Authenticate', 'Bearer realm="mltrail"');
  throw new MltrailError('UNAUTHORIZED', ambiguous || conflicting || wrongCa || untrustedReason ? reason : given ? 'invalid bearer token' : 'missing Authorization: Bearer token (MLTRAIL_INGEST_TOKEN) or client certificate');
}

/**
 * `POST /v1/ingest/kubeflow/k8s-audit`: the kube-apiserver audit webhook
 * backend. Takes an `audit.k8s.io/v1` EventList (or Event / array / NDJSON),
 * keeps the items that concern the watched Kubeflow namespaces, commits them,
 * then answers 200 — the apiserver retries any non-2xx, so only
 * authentication, size and JSON errors are refused; unusable items are
 * quarantined and the rest still committed.
 */
export function mountAuditRoute(app: Hono, deps: ConnectorDeps<KubeflowConfig>): void {
  const cfg = deps.config;
  if (!cfg.audit.enabled) return;
  // The last object of each endpoint, ServiceAccount and Secret, which Request-level patches apply to: kept across restarts.
  // Their writes of one batch are saved in one transaction once its events are committed (PatchBaseBatch below), not
  // one commit and fsync each.
  keepPatchBasesIn(cfg, deps.spool.state, { transaction: (fn) => deps.spool.transaction(fn) });
  // The KServe controller namespaces learned from its requests: kept across restarts too.
  keepKserveNamespacesIn(cfg, deps.spool.state);
  // The roleRef of each binding seen, which Request-level subject patches are judged by: kept across restarts too.
  keepBindingRolesIn(cfg, deps.spool.state);
  const watched = namespaceMatcher(cfg.namespaces);
  if (deps.server.ingestToken && cfg.clusters.some((cl) => cl.token === deps.server.ingestToken)) {
    deps.logger.warn({ code: 'MLTRAIL_ERR_CONFIG', config_key: 'connectors.kubeflow.clusters' }, 'a cluster token equals MLTRAIL_INGEST_TOKEN: its batches are read as that cluster\'s; give the default cluster and each configured cluster a token of its own');
  }
  // Over plain HTTP, or HTTPS trusting no client CA, no certificate is verified: an apiserver configured to
  // authenticate by one only would see every batch refused (401, which it drops after five tries; 503 only when no
  // token is configured at all). Said at start.
  const subjectKeys = [
    ...(cfg.audit.client_cert_subjects.length ? ['connectors.kubeflow.audit.client_cert_subjects'] : []),
    ...cfg.clusters.flatMap((cl, i) => (cl.client_cert_subjects?.length ? [`connectors.kubeflow.clusters.${i}.client_cert_subjects`] : [])),
  ];
  if (deps.server.plainHttp && subjectKeys.length) {
    deps.logger.warn({ code: 'MLTRAIL_ERR_CONFIG', config_keys: subjectKeys }, `${subjectKeys.join(', ')}: this bridge listens on plain HTTP, where no client certificate is verified; those apiservers need a bearer token (MLTRAIL_INGEST_TOKEN or the cluster's token), or server.tls with the CA that issues their certificates`);
  } else if (deps.server.verifiesClientCerts === false && subjectKeys.length) {
    deps.logger.warn({ code: 'MLTRAIL_ERR_CONFIG', config_keys: subjectKeys }, `${subjectKeys.join(', ')}: server.tls trusts no client CA, so no client certificate is asked for; list the CA that issues those apiservers' certificates in server.tls.client_ca_files (or the cluster's client_ca_file), or give them a bearer token`);
  }
  // Until some MLflow server lists its URLs in tracking_uris, a predictor naming a registry no server has is judged by
  // the cluster's settings (mlflowserver.ts): said once per process, when it first matters, with the key that changes it.
  let unmatchedWarned = false;
  const warnUnmatchedRegistry = (ev: NormalizedEvent) => {
    if (unmatchedWarned) return;
    unmatchedWarned = true;
    deps.logger.warn(
      { code: 'MLTRAIL_ERR_CONFIG', config_key: 'connectors.mlflow.tracking_uris', registry_uri: ev.ml?.deployment?.mlflow_registry_uri, endpoint: ev.ml?.deployment?.endpoint },
      'a KServe predictor names an MLflow registry URI that no configured MLflow server has; no server lists tracking_uris, so it is judged by the cluster\'s settings: list the URLs predictors use in connectors.mlflow.tracking_uris (and servers[].tracking_uris) to make a deployment from any other registry a finding (registry.unapproved_deployment, reason unwatched_registry)',
    );
  };
  // A predictor fetching model bytes from or through an endpoint or proxy, with no artifact_endpoints for its
  // cluster to judge it by (MinIO installs set MLFLOW_S3_ENDPOINT_URL everywhere): recorded only, said once per process.
  let artifactWarned = false;
  const warnUncheckedArtifactEnv = (ev: NormalizedEvent, cluster: string | undefined) => {
    if (artifactWarned) return;
    artifactWarned = true;
    const key = cluster === undefined ? 'connectors.kubeflow.artifact_endpoints' : `connectors.kubeflow.clusters.${cfg.clusters.findIndex((c) => c.id === cluster)}.artifact_endpoints`;
    deps.logger.warn(
      { code: 'MLTRAIL_ERR_CONFIG', config_key: key, artifact_env: ev.details?.artifact_env, endpoint: ev.ml?.deployment?.endpoint },
      `a KServe predictor fetches its model from or through an artifact endpoint or proxy its env names (details.artifact_env), and ${key} is not set, so it is not judged: list the hosts predictors may use there to make any other a finding (registry.unapproved_deployment, reason artifact_endpoint_not_allowed)`,
    );
  };
  const counter = filteredCounter(deps);
  const pins = clientCaPinsSource(cfg, deps.server.clientCas);

  app.post(AUDIT_ROUTE, async (c) => {
    try {
      const { cluster } = authenticate(c, deps, pins());
      const ctype = (c.req.header('content-type') ?? '').toLowerCase();
      if (ctype && !ctype.includes('json')) throw new MltrailError('UNSUPPORTED_MEDIA_TYPE', `expected application/json, got ${ctype}`);
      const body = await readBody(c, { maxBytes: cfg.audit.body_limit_bytes, channel: AUDIT_CHANNEL });
      let records: unknown[];
      try {
        records = parseJsonRecords(body);
      } catch (err) {
        // Refused whole for its size (too many records) is not kept, as a body over the limit is not.
        // Kept with the secrets a record's `raw` would hide hidden (no signature to verify here, unlike MLflow's).
        if (!isTooLarge(err)) deps.ingest.quarantine(AUDIT_CHANNEL, (err as Error).message, redactAuditBody(body), { route: AUDIT_ROUTE });
        throw err;
      }
      const receivedTime = new Date().toISOString();
      // The kept objects this request changes: saved once its events are committed, taken back if they are not.
      const bases = beginPatchBaseBatch(cfg);
      const filtered: Record<string, number> = {};
      let filteredTotal = 0;
      let recognised = 0;
      const normalize = (rec: unknown): NormalizeOutput => bases.run(() => {
        const out: NormalizeOutput = { events: [], rejected: [], skipped: [] };
        const items = auditItems(rec);
        if (!items) {
          out.rejected.push({ reason: 'not an audit.k8s.io EventList or Event', record: rec });
          return out;
        }
        recognised++;
        for (const { item, path } of items) {
          if (!isAuditEvent(item)) {
            out.rejected.push({ reason: 'list item is not an audit Event (needs auditID, verb, stage)', path, record: item });
            continue;
          }
          const bad = auditFieldError(item);
          if (bad) {
            out.rejected.push({ reason: bad.reason, path, field: bad.field, record: item });
            continue;
          }
          if (!cfg.audit.keep_all) {
            const rel = relevanceOrKeep(item, watched);
            if (!rel.keep) {
              filteredTotal++;
              filtered[rel.why] = (filtered[rel.why] ?? 0) + 1;
              continue;
            }
          }
          const r = normalizeAuditEvent(item, { channel: AUDIT_CHANNEL, receivedTime, keepRaw: deps.keepRaw, config: cfg }, path, cluster);
          // A configured cluster's events say which it is (its token told).
          if ('event' in r) {
            out.events.push(forCluster(r.event, cfg, cluster));
            if (r.event.details?.mlflow_registry_unmatched === true) warnUnmatchedRegistry(r.event);
            if (r.event.details?.artifact_env && !artifactEndpointsOf(cfg, cluster)) warnUncheckedArtifactEnv(r.event, cluster);
          } else out.rejected.push(r.rejection);
        }
        return out;
      });
      let res;
      try {
        res = await normalizeAndIngest(deps.ingest, normalize, records, AUDIT_CHANNEL, { route: AUDIT_ROUTE }, {
          quarantineBudget: quarantineBudget(sentBytes(c, body)),
          // Rejected items are kept redacted as `raw` is: quarantine is listed and shown (`mltrail quarantine list --body`).
          redactRejected: redactAuditInput,
        });
      } catch (err) {
        // Not committed: the apiserver sends the batch again, whose patches apply to the objects they applied to now.
        bases.abandon();
        throw err;
      }
      try {
        bases.save();
      } catch (err) {
        // The events are in: the answer stays 200 (a retry would only bring duplicates); the writes wait for the next batch.
        deps.logger.error({ err, code: 'MLTRAIL_ERR_INTERNAL', route: AUDIT_ROUTE }, 'could not save the objects audit patches apply to; retried with the next batch');
      }
      for (const [why, n] of Object.entries(filtered)) counter?.inc({ reason: why }, n);
      if (recognised === 0) {
        throw new MltrailError('BAD_REQUEST', 'body is not an audit.k8s.io EventList (nor Event); it was quarantined', { rejected: res.rejected.length });
      }
      return c.json({ accepted: res.accepted, duplicates: res.duplicates, filtered: filteredTotal, rejected: res.rejected.length }, 200);
    } catch (err) {
      if (!(err instanceof MltrailError)) deps.logger.error({ err, code: 'MLTRAIL_ERR_INTERNAL', route: AUDIT_ROUTE }, 'audit webhook failed');
      return errorResponse(c, err);
    }
  });
}
