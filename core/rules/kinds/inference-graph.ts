import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, callerText, scopeOf } from '../facts.js';
import { setting, type KindImpl, type RuleContext } from './context.js';

/**
 * registry.unapproved_deployment, KServe InferenceGraph part: a step's `serviceUrl` (the connector's
 * `details.graph_service_urls`) to a host outside the cluster makes the graph send every request it receives to that
 * service and serve its answers as predictions — a model no registry approved, and the requests (often personal
 * data) leaving the cluster. Inside the cluster: a host without a dot (a Service of the graph's namespace), one ending
 * `.svc` or `.svc.cluster.local`, or `<name>.<namespace>[.<ingress domain>]` of an InferenceService the rules saw
 * written (KServe's own URL of it); and any host `graph_hosts` lists (host globs). Judged on the endpoints
 * `endpoints` selects, once per graph and host set.
 */

/** Known InferenceServices: `kisvc|<scope>|<namespace>/<name>`, set by a successful write or read, removed at delete. */
const knownKey = (ev: NormalizedEvent, endpoint: string) => `kisvc|${scopeOf(ev) ?? ''}|${endpoint}`;

function rememberInferenceService(ev: NormalizedEvent, ctx: RuleContext): void {
  const ep = ev.ml?.deployment?.endpoint;
  if (ev.resource?.type !== 'inferenceservices' || typeof ep !== 'string' || !ep || ev.outcome === 'failure') return;
  const key = knownKey(ev, ep);
  if (ev.action === 'endpoint.delete' || ev.action === 'resource.delete') ctx.delete(key);
  else if (!ctx.get<boolean>(key)) ctx.set(key, true);
}

/** The host of a URL as written (lower case, no port), else the text itself (an unparseable URL is judged as written). */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return url.toLowerCase();
  }
}

/** Whether `host` is inside the cluster as the graph's router resolves it (see above). */
function inCluster(host: string, ev: NormalizedEvent, ctx: RuleContext): boolean {
  if (!host.includes('.') && !host.includes(':') && /^[a-z0-9-]+$/.test(host)) return true;
  if (/\.svc$/.test(host) || /\.svc\.cluster\.local$/.test(host)) return true;
  const [label, namespace, ...domain] = host.split('.');
  // Only KServe's default ingress domain is taken for the cluster's own: `<name>.<namespace>.<anything>` of a known
  // InferenceService was in-cluster for any domain (`fraud.prod.attacker.example` is the attacker's DNS); a cluster's
  // own ingress domain is listed in `graph_hosts` (`*.models.corp.example`).
  if (domain.length && domain.join('.') !== DEFAULT_INGRESS_DOMAIN) return false;
  // `<name>-predictor.<namespace>` (and transformer, explainer; `-default` before KServe 0.9): the InferenceService's
  // component Services, as its router names them.
  const name = (label ?? '').replace(COMPONENT_SUFFIX, '');
  const known = (n: string) => !!n && !!namespace && ctx.get<boolean>(knownKey(ev, `${namespace}/${n}`)) === true;
  return known(label ?? '') || (!domain.length && known(name));
}

/** KServe's default `ingressDomain` (inferenceservice-config `ingress`): an InferenceService's URL `<name>.<namespace>.example.com`. */
const DEFAULT_INGRESS_DOMAIN = 'example.com';
const COMPONENT_SUFFIX = /-(?:predictor|transformer|explainer)(?:-default)?$/;

export const inferenceGraphExternal: KindImpl = (ev, ctx) => {
  if (ev.platform !== 'kubeflow') return;
  rememberInferenceService(ev, ctx);
  const urls = ev.details?.graph_service_urls;
  if (!Array.isArray(urls) || !urls.length || ev.outcome === 'failure' || ev.resource?.type !== 'inferencegraphs') return;
  const ep = ev.ml?.deployment?.endpoint;
  if (typeof ep !== 'string' || !ep || !anyGlob(setting(ctx, 'endpoints'), ep)) return;
  const allowed = setting<string[]>(ctx, 'graph_hosts') ?? [];
  const outside = (urls as Array<{ node?: unknown; url?: unknown }>).filter((u) => typeof u?.url === 'string').filter((u) => {
    const host = hostOf(u.url as string);
    return !inCluster(host, ev, ctx) && !anyGlob(allowed, host);
  });
  if (!outside.length) return;
  const hosts = [...new Set(outside.map((u) => hostOf(u.url as string)))].sort();
  ctx.detect({
    entity: { type: 'endpoint', id: ep, name: ev.resource?.name, platform: ev.platform },
    key: `graph|${ep}|${hosts.join(',')}`,
    evidence: [ev.id],
    title: 'Inference graph routes requests to a service outside the cluster',
    summary: `${callerText(ev.actor, ctx.cfg)} set InferenceGraph ${ep} to send its requests to ${outside.map((u) => `${u.url as string}${typeof u.node === 'string' ? ` (node ${u.node})` : ''}`).join(', ')} (${ev.operation}): that service sees every request and its answers are served as predictions, with no registry approval`,
    details: { reason: 'graph_external_service', graph: ep, hosts, service_urls: outside, deployer: callerText(ev.actor, ctx.cfg) },
  });
};
