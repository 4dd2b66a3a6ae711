import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, callerText, scopeOf } from '../facts.js';
import { setting, type KindImpl, type RuleContext } from './context.js';

/**
 * registry.unapproved_deployment, KServe InferenceGraph part: a step's `serviceUrl` (the connector's
 * `details.graph_service_urls`) to a host outside the cluster makes the graph send every request it receives to that
 * service and serve its answers as predictions — a model no registry approved, and the requests (often personal
 * data) leaving the cluster. Inside the cluster: a host without a dot that names a Service of the graph's namespace the
 * rules saw written (or an InferenceService, its component Service, ModelMesh's Service there) — any other dotless name
 * resolves through the cluster's DNS search path and then the node's search domains (`scorer.corp.example`) —, one ending
 * `.svc` or `.svc.cluster.local`, or `<name>.<namespace>[.<ingress domain>]` of an InferenceService the rules saw
 * written (KServe's own URL of it); and any host `graph_hosts` lists (host globs). Judged on the endpoints
 * `endpoints` selects, once per graph and host set.
 */

/** Known InferenceServices: `kisvc|<scope>|<namespace>/<name>`, set by a successful write or read, removed at delete. */
const knownKey = (ev: NormalizedEvent, endpoint: string) => `kisvc|${scopeOf(ev) ?? ''}|${endpoint}`;

/** The endpoints a graph step may name by KServe's URL: InferenceServices, LLMInferenceServices and ModelMesh Predictors. */
const GRAPH_TARGETS = new Set(['inferenceservices', 'llminferenceservices', 'predictors']);
/** ModelMesh serves every Predictor of a namespace behind one Service (`modelmesh-serving`, kserve/modelmesh-serving). */
const MODELMESH_SERVICE = 'modelmesh-serving';

function rememberInferenceService(ev: NormalizedEvent, ctx: RuleContext): void {
  rememberExternalName(ev, ctx);
  rememberService(ev, ctx);
  const ep = ev.ml?.deployment?.endpoint;
  if (!GRAPH_TARGETS.has(ev.resource?.type ?? '') || typeof ep !== 'string' || !ep || ev.outcome === 'failure') return;
  const key = knownKey(ev, ep);
  if (ev.action === 'endpoint.delete' || ev.action === 'resource.delete') ctx.delete(key);
  else if (!ctx.get<boolean>(key)) ctx.set(key, true);
  // A Predictor's URL is ModelMesh's Service of its namespace (`modelmesh-serving.<namespace>:8008`): known as long as one was seen.
  const ns = ep.split('/')[0];
  if (ev.resource?.type === 'predictors' && ns && ev.action !== 'endpoint.delete' && ev.action !== 'resource.delete') {
    const mm = knownKey(ev, `${ns}/${MODELMESH_SERVICE}`);
    if (!ctx.get<boolean>(mm)) ctx.set(mm, true);
  }
}

/** ExternalName Services: `kext|<scope>|<namespace>/<name>` → the host they resolve to (the connector's `details.external_name`). */
const externalKey = (ev: NormalizedEvent, ns: string, name: string) => `kext|${scopeOf(ev) ?? ''}|${ns}/${name}`;

function rememberExternalName(ev: NormalizedEvent, ctx: RuleContext): void {
  const ns = ev.resource?.namespace;
  const name = ev.resource?.name;
  if (ev.resource?.type !== 'services' || !ns || !name || ev.outcome === 'failure' || ev.details?.dry_run === true) return;
  const key = externalKey(ev, ns, name);
  const target = ev.details?.external_name;
  if (typeof target === 'string' && target) ctx.set(key, target);
  else if (ev.action === 'resource.delete' || ev.details?.external_name_cleared === true) ctx.delete(key);
}

/** Services seen written: `ksvc|<scope>|<namespace>/<name>` (core Services, and Knative's, which make a Service of their name). */
const serviceKey = (ev: NormalizedEvent, ns: string, name: string) => `ksvc|${scopeOf(ev) ?? ''}|${ns}/${name}`;

function rememberService(ev: NormalizedEvent, ctx: RuleContext): void {
  const ns = ev.resource?.namespace;
  const name = ev.resource?.name;
  if (ev.resource?.type !== 'services' || !ns || !name || ev.outcome === 'failure' || ev.details?.dry_run === true) return;
  if (typeof ev.details?.subresource === 'string') return;
  const key = serviceKey(ev, ns, name);
  if (ev.action === 'resource.delete') ctx.delete(key);
  else if ((ev.action === 'resource.create' || ev.action === 'resource.update') && !ctx.get<boolean>(key)) ctx.set(key, true);
}

/**
 * Whether a dotless host names something of the graph's namespace the rules know: a Service seen written, an
 * InferenceService / LLMInferenceService / Predictor (KServe makes Services of its name and `<name>-predictor`), or
 * ModelMesh's Service. A name none of these hold is looked up through the pod's DNS search path: past
 * `<ns>.svc.cluster.local`, `svc.cluster.local` and `cluster.local` come the node's own search domains, so
 * `http://scorer` reaches `scorer.<node domain>` outside the cluster.
 */
function knownServiceName(host: string, ev: NormalizedEvent, ctx: RuleContext): boolean {
  const ns = ev.resource?.namespace ?? (ev.ml?.deployment?.endpoint ?? '').split('/')[0] ?? '';
  if (!ns) return false;
  if (ctx.get<boolean>(serviceKey(ev, ns, host)) === true) return true;
  const known = (n: string) => !!n && ctx.get<boolean>(knownKey(ev, `${ns}/${n}`)) === true;
  return known(host) || known(host.replace(COMPONENT_SUFFIX, ''));
}

/**
 * The ExternalName target a graph host names, if it is a Service of the graph's namespace (`<svc>`) or of a namespace
 * (`<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local`) the rules saw written as one.
 */
function externalTargetOf(host: string, ev: NormalizedEvent, ctx: RuleContext): string | undefined {
  const svc = serviceOf(host, ev);
  return svc ? ctx.get<string>(externalKey(ev, svc.ns, svc.name)) : undefined;
}

/** The Service of the graph's namespace (`<svc>`) or of another (`<svc>.<ns>[.svc[.cluster.local]]`) a graph host may name. */
function serviceOf(host: string, ev: NormalizedEvent): { ns: string; name: string } | undefined {
  const graphNs = ev.resource?.namespace ?? (ev.ml?.deployment?.endpoint ?? '').split('/')[0] ?? '';
  const parts = host.split('.');
  const rest = parts.slice(2).join('.');
  const [name, ns] = parts.length === 1 ? [parts[0], graphNs] : parts.length >= 2 && (rest === '' || rest === 'svc' || rest === 'svc.cluster.local') ? [parts[0], parts[1]] : [undefined, undefined];
  return name && ns ? { ns, name } : undefined;
}

/**
 * The graphs judged that name a Service by a step's host: `kgsvc|<scope>|<namespace>/<svc>` → the graphs
 * (`<namespace>/<name>`), and `kgraph|<scope>|<namespace>/<name>` → the graph's endpoint, steps and event. A Service
 * turned into an ExternalName after the graph was judged (or made after it) re-routes the graph with no graph write:
 * judged at that Service write.
 */
const graphsOfServiceKey = (ev: NormalizedEvent, ns: string, svc: string) => `kgsvc|${scopeOf(ev) ?? ''}|${ns}/${svc}`;
const graphKey = (ev: NormalizedEvent, ns: string, name: string) => `kgraph|${scopeOf(ev) ?? ''}|${ns}/${name}`;
/** Graphs kept per Service name: a bound on what one Service write re-judges. */
const MAX_GRAPHS_PER_SERVICE = 50;
interface GraphRec {
  ep: string;
  ns: string;
  name?: string;
  event: string;
  urls: Array<{ node?: unknown; url: string }>;
}

function rememberGraph(ev: NormalizedEvent, ctx: RuleContext, ep: string, urls: Array<{ node?: unknown; url?: unknown }>): void {
  const ns = ev.resource?.namespace ?? ep.split('/')[0] ?? '';
  const name = ev.resource?.name ?? ep.split('/')[1] ?? '';
  if (!ns || !name) return;
  const steps = urls.filter((u): u is { node?: unknown; url: string } => typeof u?.url === 'string');
  ctx.set(graphKey(ev, ns, name), { ep, ns, name: ev.resource?.name, event: ev.id, urls: steps } satisfies GraphRec);
  for (const u of steps) {
    const svc = serviceOf(hostOf(u.url), ev);
    if (!svc) continue;
    const key = graphsOfServiceKey(ev, svc.ns, svc.name);
    const list = ctx.get<string[]>(key) ?? [];
    if (!list.includes(`${ns}/${name}`)) ctx.set(key, [...list, `${ns}/${name}`].slice(-MAX_GRAPHS_PER_SERVICE));
  }
}

/** A Service made or turned into an ExternalName: the graphs judged before that name it are judged again with its target. */
function rejudgeGraphs(ev: NormalizedEvent, ctx: RuleContext): void {
  const ns = ev.resource?.namespace;
  const svc = ev.resource?.name;
  const target = ev.details?.external_name;
  if (ev.resource?.type !== 'services' || !ns || !svc || typeof target !== 'string' || ev.outcome === 'failure' || ev.details?.dry_run === true) return;
  const allowed = setting<string[]>(ctx, 'graph_hosts') ?? [];
  for (const g of ctx.get<string[]>(graphsOfServiceKey(ev, ns, svc)) ?? []) {
    const [gns, gname] = [g.slice(0, g.indexOf('/')), g.slice(g.indexOf('/') + 1)];
    const rec = ctx.get<GraphRec>(graphKey(ev, gns, gname));
    if (!rec || !anyGlob(setting(ctx, 'endpoints'), rec.ep)) continue;
    // Resolved as the graph's router does, from the graph's namespace.
    const asGraph = { ...ev, resource: { type: 'inferencegraphs', namespace: rec.ns, name: rec.name } } as NormalizedEvent;
    const outside = rec.urls.filter((u) => {
      const host = hostOf(u.url);
      const named = serviceOf(host, asGraph);
      return named?.ns === ns && named.name === svc && !inCluster(host, asGraph, ctx) && !anyGlob(allowed, host);
    });
    if (!outside.length) continue;
    const hosts = [...new Set(outside.map((u) => hostOf(u.url)))].sort();
    ctx.detect({
      entity: { type: 'endpoint', id: rec.ep, name: rec.name, platform: ev.platform },
      key: `graph|${rec.ep}|${hosts.join(',')}`,
      evidence: [rec.event, ev.id],
      title: 'Inference graph routes requests to a service outside the cluster',
      summary: `${callerText(ev.actor, ctx.cfg)} made Service ${ns}/${svc} an ExternalName of ${target} (${ev.operation}): InferenceGraph ${rec.ep} sends its requests to ${outside.map((u) => `${u.url}${typeof u.node === 'string' ? ` (node ${u.node})` : ''}`).join(', ')}, so that service sees every request and its answers are served as predictions, with no registry approval`,
      details: { reason: 'graph_external_service', graph: rec.ep, hosts, service_urls: outside, service: `${ns}/${svc}`, external_name: target, deployer: callerText(ev.actor, ctx.cfg) },
    });
  }
}

/** A graph deleted: forgotten (its Services' later writes re-route nothing). */
function forgetGraph(ev: NormalizedEvent, ctx: RuleContext): void {
  const ns = ev.resource?.namespace;
  const name = ev.resource?.name;
  if (ev.resource?.type === 'inferencegraphs' && ns && name && ev.outcome !== 'failure' && (ev.action === 'resource.delete' || ev.action === 'endpoint.delete')) ctx.delete(graphKey(ev, ns, name));
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
function inCluster(host: string, ev: NormalizedEvent, ctx: RuleContext, seen = 0): boolean {
  // An ExternalName Service is a DNS alias: the router reaches whatever its target is (followed a few hops).
  const alias = externalTargetOf(host, ev, ctx);
  if (alias !== undefined) return seen < 4 && alias !== host && inCluster(alias, ev, ctx, seen + 1);
  if (!host.includes('.') && !host.includes(':') && /^[a-z0-9-]+$/.test(host)) return knownServiceName(host, ev, ctx);
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
  rejudgeGraphs(ev, ctx);
  forgetGraph(ev, ctx);
  const urls = ev.details?.graph_service_urls;
  if (!Array.isArray(urls) || !urls.length || ev.outcome === 'failure' || ev.resource?.type !== 'inferencegraphs') return;
  const ep = ev.ml?.deployment?.endpoint;
  if (typeof ep !== 'string' || !ep) return;
  if (ev.details?.dry_run !== true) rememberGraph(ev, ctx, ep, urls as Array<{ node?: unknown; url?: unknown }>);
  if (!anyGlob(setting(ctx, 'endpoints'), ep)) return;
  const allowed = setting<string[]>(ctx, 'graph_hosts') ?? [];
  const outside = (urls as Array<{ node?: unknown; url?: unknown }>).filter((u) => typeof u?.url === 'string').filter((u) => {
    const host = hostOf(u.url as string);
    return !inCluster(host, ev, ctx) && !anyGlob(allowed, host);
  });
  if (!outside.length) return;
  const hosts = [...new Set(outside.map((u) => hostOf(u.url as string)))].sort();
  // Dotless names of no Service seen: resolved through the DNS search domains, maybe outside.
  const unknownServices = hosts.filter((h) => /^[a-z0-9-]+$/.test(h));
  ctx.detect({
    entity: { type: 'endpoint', id: ep, name: ev.resource?.name, platform: ev.platform },
    key: `graph|${ep}|${hosts.join(',')}`,
    evidence: [ev.id],
    title: 'Inference graph routes requests to a service outside the cluster',
    summary: `${callerText(ev.actor, ctx.cfg)} set InferenceGraph ${ep} to send its requests to ${outside.map((u) => `${u.url as string}${typeof u.node === 'string' ? ` (node ${u.node})` : ''}`).join(', ')} (${ev.operation}): that service sees every request and its answers are served as predictions, with no registry approval${unknownServices.length ? ` (${unknownServices.join(', ')}: no Service of that name was seen in ${ev.resource?.namespace ?? 'the namespace'}, so the name resolves through the DNS search domains, the node's own included)` : ''}`,
    details: { reason: 'graph_external_service', graph: ep, hosts, service_urls: outside, unknown_services: unknownServices.length ? unknownServices : undefined, deployer: callerText(ev.actor, ctx.cfg) },
  });
};
