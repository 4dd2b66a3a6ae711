/**
 * KServe's controller configuration, the ConfigMap `inferenceservice-config` in the controller's namespace (kserve/kserve
 * `config/configmap/inferenceservice.yaml`, the Helm chart's release namespace): its keys hold JSON naming the images
 * KServe runs beside every model server — `storageInitializer` (injected into every InferenceService pod whose
 * storageUri no ClusterStorageContainer claims, to download the model with the server's storage credentials), `agent`
 * and `logger` (the sidecar that sees every request and response), `batcher`, `router` (InferenceGraph), and the
 * `explainers` (and KFServing's `predictors`) by name. A write of those keys is judged as a serving image.
 */

import type { StateStore } from '../../../core/state/index.js';
import type { AuditEvent } from './envelope.js';
import { serviceAccountOf } from './identity.js';
import { KSERVE_CONTROLLER_NAMESPACES } from './kserve.js';
import { isObject } from './objects.js';

/** The ConfigMap's name, as KServe's controller reads it (`constants.InferenceServiceConfigMapName`). */
export const KSERVE_CONFIG_MAP = 'inferenceservice-config';
/** Its keys whose JSON names one image (`image`): the containers KServe adds to every model server's pod or graph. */
const SINGLE_IMAGE_KEYS = ['storageInitializer', 'agent', 'logger', 'batcher', 'router'] as const;
/** Its keys whose JSON names images by explainer / predictor name: `{"art": {"image": "kserve/art-explainer", "defaultImageVersion": "latest"}}`. */
const NAMED_IMAGE_KEYS = ['explainers', 'predictors'] as const;
const IMAGE_KEYS: readonly string[] = [...SINGLE_IMAGE_KEYS, ...NAMED_IMAGE_KEYS];

/** The controller's service accounts whose namespace is learned as the controller's (kserve.ts KSERVE_CONTROLLER_SAS). */
const CONTROLLER_SA = 'kserve-controller-manager';
/**
 * Namespaces learned per cluster at most. A namespace editor can name an account so in their own namespace: a small
 * bound would let a few such accounts fill it before the real controller is seen (its ConfigMap then unread), a
 * large one only bounds memory.
 */
const MAX_LEARNED = 64;
/** Per connector config, per cluster (`''`: the default one): the controller namespaces learned from its requests. */
const learned = new WeakMap<object, Map<string, string[]>>();
/** The spool state namespace the learned namespaces persist in (key `cluster:<cluster id>`, value the list). */
export const KSERVE_NAMESPACES_NS = 'kubeflow.kserve_namespaces';
/** Per connector config: the state store they persist in (keepKserveNamespacesIn), read back at first use. */
const stores = new WeakMap<object, { state: StateStore; loaded: boolean }>();
/** A Kubernetes namespace name (RFC 1123 label): what is read back from the state must look like one. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Keep the namespaces learned for connector config `config` in `state` (the serving bridge's spool state, as the
 * patch bases are, keepPatchBasesIn): written when learned, read back at first use, so a restart does not forget the
 * controller's namespace until its next write (a write of its `inferenceservice-config` in between was unjudged).
 * Without it (`mltrail normalize`, `replay`) they are kept in memory only.
 */
export function keepKserveNamespacesIn(config: object, state: StateStore): void {
  stores.set(config, { state, loaded: false });
}

/** The learned namespaces of `config` by cluster, read back from its store at first use. */
function learnedOf(config: object): Map<string, string[]> {
  let byCluster = learned.get(config);
  if (!byCluster) learned.set(config, (byCluster = new Map()));
  const st = stores.get(config);
  if (st && !st.loaded) {
    st.loaded = true;
    for (const { key, value } of st.state.list<unknown>(KSERVE_NAMESPACES_NS, 'cluster:')) {
      if (!Array.isArray(value)) continue;
      const cluster = key.slice('cluster:'.length);
      const list = byCluster.get(cluster) ?? [];
      for (const ns of value) if (typeof ns === 'string' && NAMESPACE.test(ns) && !list.includes(ns) && list.length < MAX_LEARNED) list.push(ns);
      byCluster.set(cluster, list);
    }
  }
  return byCluster;
}

/**
 * Learn the KServe controller's namespace from its own requests (`system:serviceaccount:<ns>:kserve-controller-manager`,
 * a namespace the configuration does not list, e.g. a Helm release's `kserve-system`): its `inferenceservice-config`
 * is then read there too. Learned from a request allowed in another namespace only (the controller reconciles every
 * model's namespace): a profile editor can make an account of that name in their own namespace, but it cannot act
 * elsewhere (a denied request teaches nothing). Kept in the bridge's spool state where keepKserveNamespacesIn gave
 * one (else in memory, learned again at the controller's next write after a restart); never a write read as the
 * controller's (isKserveController does not use what is learned), and at most MAX_LEARNED namespaces a cluster.
 */
export function learnKserveNamespace(ev: AuditEvent, config: unknown, cluster = ''): void {
  const sa = serviceAccountOf(ev.user?.username);
  if (!sa || sa.name !== CONTROLLER_SA || !isObject(config)) return;
  // Only a request the apiserver allowed in another namespace (the controller writes every model's namespace): an
  // account of that name a namespace editor made acts in its own namespace only, its requests elsewhere denied.
  const ns = ev.objectRef?.namespace;
  const code = ev.responseStatus?.code;
  if (!ns || ns === sa.namespace || code === undefined || code < 200 || code >= 300) return;
  const byCluster = learnedOf(config);
  const list = byCluster.get(cluster) ?? [];
  if (list.includes(sa.namespace) || list.length >= MAX_LEARNED) return;
  const next = [...list, sa.namespace];
  byCluster.set(cluster, next);
  // Written at once (a few times in a bridge's life): learning again what a failed batch taught is harmless.
  stores.get(config)?.state.set(KSERVE_NAMESPACES_NS, `cluster:${cluster}`, next);
}

/** The namespaces `inferenceservice-config` is read in: `kserve_namespaces` (default the usual ones) and those learned. */
export function kserveNamespacesOf(config: unknown, cluster = ''): Set<string> {
  const configured = isObject(config) && Array.isArray(config.kserve_namespaces) ? (config.kserve_namespaces as string[]) : [...KSERVE_CONTROLLER_NAMESPACES];
  const more = isObject(config) ? (learnedOf(config).get(cluster) ?? []) : [];
  return new Set([...configured, ...more]);
}

/**
 * Whether an audit item is about a ConfigMap named as KServe's controller's: `inferenceservice-config`, in any namespace
 * (the audit filter keeps every write of it; whether it is the controller's is `namespaces`' to say).
 */
export function isKserveConfigMapName(ref: AuditEvent['objectRef']): boolean {
  return !!ref && !ref.apiGroup && ref.resource === 'configmaps' && ref.name === KSERVE_CONFIG_MAP && !ref.subresource;
}

/**
 * Whether an audit item is about KServe's controller ConfigMap: `inferenceservice-config` in a namespace a KServe
 * controller runs in (`namespaces`, default `kserve`, `kubeflow`, Open Data Hub's). One of that name elsewhere configures nothing.
 */
export function isKserveConfigMap(ref: AuditEvent['objectRef'], namespaces: ReadonlySet<string> = KSERVE_CONTROLLER_NAMESPACES): boolean {
  return isKserveConfigMapName(ref) && namespaces.has(ref?.namespace ?? '');
}

/** Every value of key `image` in any case (Go's encoding/json matches keys so, the last one in the text winning). */
function imageValues(o: Record<string, unknown>): string[] {
  return Object.entries(o).flatMap(([k, v]) => (k.toLowerCase() === 'image' && typeof v === 'string' && v.trim() ? [v.trim()] : []));
}

/**
 * The images a key's value (a JSON text) may name. KServe reads it with Go's encoding/json, which matches keys
 * case-insensitively, the last one in the text winning: `{"image": "kserve/…", "IMAGE": "evil/…"}` runs `evil/…`.
 * JSON.parse keeps both keys and no order among repeats, so every `image` spelling's value is named. An explainer's
 * (a predictor's) image without a tag runs with its `defaultImageVersion` (and `defaultGpuImageVersion`) as the tag.
 */
function imagesOfSetting(key: string, value: unknown): string[] {
  if (typeof value !== 'string') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // KServe's controller fails on it too (it unmarshals the key at start and per pod): no image is set.
    return [];
  }
  if (!isObject(parsed)) return [];
  if (!(NAMED_IMAGE_KEYS as readonly string[]).includes(key)) return [...new Set(imageValues(parsed))];
  const images: string[] = [];
  for (const entry of Object.values(parsed)) {
    if (!isObject(entry)) continue;
    const versions = Object.entries(entry).flatMap(([k, v]) => (/^default(?:gpu)?imageversion$/.test(k.toLowerCase()) && typeof v === 'string' && v.trim() ? [v.trim()] : []));
    for (const image of imageValues(entry)) {
      // Tagged or pinned already (`repo:tag`, `repo@sha256:…`): as written; else with each default version.
      const tagged = image.includes('@') || /:[^/]+$/.test(image);
      images.push(...(tagged || !versions.length ? [image] : versions.map((v) => `${image}:${v}`)));
    }
  }
  return [...new Set(images)];
}

/**
 * The images a write of KServe's controller ConfigMap sets, by key (SINGLE_IMAGE_KEYS, NAMED_IMAGE_KEYS): the keys of
 * the request's `data` (create, update, merge or strategic patch), or a JSON patch's `add` / `replace` of `/data/<key>`
 * or of `/data` as a whole (the last one wins; a `copy` / `move` there is read from the logged response). A write that
 * leaves a key alone (another key patched) sets none of it: the stored value was judged when written. Undefined when
 * the write sets no image, or the ConfigMap is not in one of `namespaces`.
 *
 * @example
 * kserveConfigImagesOf({ verb: 'patch', objectRef: { resource: 'configmaps', namespace: 'kserve', name: 'inferenceservice-config' },
 *   requestObject: { data: { agent: '{"image": "ghcr.io/x/agent:1"}' } } } as AuditEvent) // { agent: ['ghcr.io/x/agent:1'] }
 */
export function kserveConfigImagesOf(ev: AuditEvent, namespaces: ReadonlySet<string> = KSERVE_CONTROLLER_NAMESPACES): Record<string, string[]> | undefined {
  if (!isKserveConfigMap(ev.objectRef, namespaces) || (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch')) return undefined;
  const req = ev.requestObject;
  const values = new Map<string, unknown>();
  if (Array.isArray(req)) {
    // A copy or move from another key: its value is the stored object's, when the response is logged.
    const stored = isObject(ev.responseObject) && isObject(ev.responseObject.data) ? ev.responseObject.data : {};
    for (const op of req) {
      if (!isObject(op) || typeof op.path !== 'string') continue;
      const written = op.op === 'add' || op.op === 'replace' ? op.value : op.op === 'copy' || op.op === 'move' ? (op.path === '/data' ? stored : stored[op.path.slice(6)]) : undefined;
      if (op.path === '/data') {
        for (const key of IMAGE_KEYS) values.set(key, isObject(written) ? written[key] : undefined);
      } else if (op.path.startsWith('/data/') && IMAGE_KEYS.includes(op.path.slice(6))) values.set(op.path.slice(6), written);
    }
  } else if (isObject(req) && isObject(req.data)) {
    for (const key of IMAGE_KEYS) if (key in req.data) values.set(key, req.data[key]);
  }
  const out: Record<string, string[]> = {};
  for (const [key, value] of values) {
    const images = imagesOfSetting(key, value);
    if (images.length) out[key] = images;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The storage-initializer images a write of `inferenceservice-config` sets (kserveConfigImagesOf's `storageInitializer`). */
export function storageInitializerImagesOf(ev: AuditEvent, namespaces?: ReadonlySet<string>): string[] | undefined {
  return kserveConfigImagesOf(ev, namespaces)?.storageInitializer;
}

/** What a write of KServe's controller ConfigMap changed (kserveConfigChangeOf). */
export interface KserveConfigChange {
  /** The `data` keys written (`storageInitializer`, `agent`, `logger`, `credentials`, `ingress`, …), at most 50. */
  keys?: string[];
  /** A create or update whose earlier `data` no record showed: `keys` are every key it sends, changed or not. */
  previous_unknown?: true;
  /** A Metadata-level record (no body): which keys it changed is not known. */
  body_unknown?: true;
}

/** Keys listed at most (the shipped ConfigMap has about 15). */
const MAX_KEYS = 50;
/** Per connector config: `<cluster>|<namespace>` → the `data` of KServe's ConfigMap as last shown. */
const lastData = new WeakMap<object, Map<string, Record<string, unknown>>>();
const NO_CONFIG = {};

/**
 * Which keys of KServe's controller ConfigMap a create, update or patch writes: a merge (or strategic) patch's `data`
 * keys (`null` removes one), a JSON patch's `/data/<key>` paths (`/data` as a whole: every key of its value), an update's
 * keys whose value differs from the ConfigMap as last shown (its create, update or a logged response; never shown: every
 * key it sends, `previous_unknown`). `body_unknown` for a Metadata-level record: a write of it changes every model
 * server's storage initializer, agent, logger, credentials and ingress, and the record does not say which.
 * Undefined when it is not KServe's ConfigMap, or a write touching no `data` key (labels, annotations).
 *
 * @example
 * kserveConfigChangeOf(patchOfStorageInitializer, namespaces, config) // { keys: ['storageInitializer'] }
 */
export function kserveConfigChangeOf(ev: AuditEvent, namespaces: ReadonlySet<string>, config: unknown, cluster = ''): KserveConfigChange | undefined {
  if (!isKserveConfigMap(ev.objectRef, namespaces) || (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch' && ev.verb !== 'delete')) return undefined;
  const owner = isObject(config) ? config : NO_CONFIG;
  let memory = lastData.get(owner);
  if (!memory) lastData.set(owner, (memory = new Map()));
  const key = `${cluster}|${ev.objectRef?.namespace ?? ''}`;
  const code = ev.responseStatus?.code;
  const done = typeof code === 'number' && code < 400 && !/[?&]dryRun=All(&|$)/.test(ev.requestURI ?? '');
  if (ev.verb === 'delete') {
    if (done) memory.delete(key);
    return undefined;
  }
  const req = ev.requestObject;
  const before = memory.get(key);
  const shown = isObject(ev.responseObject) && isObject(ev.responseObject.data) ? ev.responseObject.data : (ev.verb !== 'patch' && isObject(req) && isObject(req.data) ? req.data : undefined);
  if (done && shown) memory.set(key, { ...shown });
  else if (done && ev.verb === 'patch') memory.delete(key);
  if (req === undefined) return { body_unknown: true };
  let keys: string[] = [];
  let previousUnknown = false;
  if (Array.isArray(req)) {
    for (const op of req) {
      if (!isObject(op) || typeof op.path !== 'string') continue;
      if (op.path === '/data') keys.push(...(isObject(op.value) ? Object.keys(op.value) : Object.keys(before ?? {})));
      else if (op.path.startsWith('/data/')) keys.push(op.path.slice(6).replace(/~1/g, '/').replace(/~0/g, '~'));
    }
  } else if (isObject(req) && isObject(req.data)) {
    const sent = req.data;
    if (ev.verb === 'patch') keys = Object.keys(sent);
    else if (before) keys = [...new Set([...Object.keys(sent), ...Object.keys(before)])].filter((k) => sent[k] !== before[k]);
    else {
      keys = Object.keys(sent);
      previousUnknown = ev.verb === 'update';
    }
  }
  keys = [...new Set(keys)].slice(0, MAX_KEYS);
  if (!keys.length) return undefined;
  return { keys, ...(previousUnknown ? { previous_unknown: true as const } : {}) };
}
