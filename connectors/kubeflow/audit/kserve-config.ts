/**
 * KServe's controller configuration, the ConfigMap `inferenceservice-config` in the controller's namespace (kserve/kserve
 * `config/configmap/inferenceservice.yaml`): its `storageInitializer` key holds JSON whose `image` is the storage
 * initializer KServe injects into every InferenceService pod whose storageUri no ClusterStorageContainer claims, to
 * download the model with the server's storage credentials. A write of that key is judged as a serving image.
 */

import type { AuditEvent } from './envelope.js';
import { KSERVE_CONTROLLER_NAMESPACES } from './kserve.js';
import { isObject } from './objects.js';

/** The ConfigMap's name, as KServe's controller reads it (`constants.InferenceServiceConfigMapName`). */
export const KSERVE_CONFIG_MAP = 'inferenceservice-config';
/** Its key holding the storage initializer's settings (JSON). */
const STORAGE_INITIALIZER_KEY = 'storageInitializer';

/**
 * Whether an audit item is about KServe's controller ConfigMap: `inferenceservice-config` in a namespace a KServe
 * controller runs in (`kserve`, `kubeflow`, Open Data Hub's). One of that name elsewhere configures nothing.
 */
export function isKserveConfigMap(ref: AuditEvent['objectRef']): boolean {
  return !!ref && !ref.apiGroup && ref.resource === 'configmaps' && ref.name === KSERVE_CONFIG_MAP && !ref.subresource && KSERVE_CONTROLLER_NAMESPACES.has(ref.namespace ?? '');
}

/**
 * The images a `storageInitializer` value (a JSON text) may name. KServe reads it with Go's encoding/json, which
 * matches keys case-insensitively, the last one in the text winning: `{"image": "kserve/…", "IMAGE": "evil/…"}`
 * runs `evil/…`. JSON.parse keeps both keys and no order among repeats, so every `image` spelling's value is named.
 */
function imagesOfSetting(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // KServe's controller fails on it too (it unmarshals the key at start and per pod): no image is set.
    return [];
  }
  if (!isObject(parsed)) return [];
  const images = Object.entries(parsed).flatMap(([k, v]) => (k.toLowerCase() === 'image' && typeof v === 'string' && v.trim() ? [v.trim()] : []));
  return [...new Set(images)];
}

/**
 * The storage-initializer images a write of `inferenceservice-config` sets: the `storageInitializer` key of the
 * request's `data` (create, update, merge or strategic patch), or a JSON patch's `add` / `replace` of
 * `/data/storageInitializer` or of `/data` as a whole (the last one wins; a `copy` / `move` there is read from the
 * logged response). A write that leaves the key alone (another
 * key patched) sets none: the stored value was judged when written. Undefined when the write sets no image.
 *
 * @example
 * storageInitializerImagesOf({ verb: 'patch', objectRef: { resource: 'configmaps', namespace: 'kserve', name: 'inferenceservice-config' },
 *   requestObject: { data: { storageInitializer: '{"image": "ghcr.io/x/init:1"}' } } } as AuditEvent) // ['ghcr.io/x/init:1']
 */
export function storageInitializerImagesOf(ev: AuditEvent): string[] | undefined {
  if (!isKserveConfigMap(ev.objectRef) || (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch')) return undefined;
  const req = ev.requestObject;
  let value: unknown;
  if (Array.isArray(req)) {
    for (const op of req) {
      if (!isObject(op) || (op.path !== `/data/${STORAGE_INITIALIZER_KEY}` && op.path !== '/data')) continue;
      // A copy or move from another key: its value is the stored object's, when the response is logged.
      const stored = isObject(ev.responseObject) && isObject(ev.responseObject.data) ? ev.responseObject.data : {};
      const written = op.op === 'add' || op.op === 'replace' ? op.value : op.op === 'copy' || op.op === 'move' ? (op.path === '/data' ? stored : stored[STORAGE_INITIALIZER_KEY]) : undefined;
      value = op.path === '/data' ? (isObject(written) ? written[STORAGE_INITIALIZER_KEY] : undefined) : written;
    }
  } else if (isObject(req) && isObject(req.data)) value = req.data[STORAGE_INITIALIZER_KEY];
  const images = imagesOfSetting(value);
  return images.length ? images : undefined;
}
