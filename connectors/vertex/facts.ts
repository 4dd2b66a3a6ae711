import { imageDigestOf } from '../../core/integrity/image.js';
import { packageSourceFactsOf } from '../../core/integrity/packages.js';
import { isObj, str, type Json } from './logentry.js';

/** Security-relevant facts found in an audit entry's request/response bodies. */
export interface SecurityFacts {
  images: string[];
  serviceAccounts: string[];
  networks: string[];
  privateServiceConnect: boolean;
  kmsKeys: string[];
  modelArtifactUris: string[];
  inputUris: string[];
  outputUris: string[];
  trafficSplit?: Record<string, number>;
  models: string[];
  deployedModelIds: string[];
  displayNames: string[];
  versionAliases: string[];
  webAccess: boolean;
  containerLoggingDisabled: boolean;
  /** Package indexes and URL requirements of the containers' `env` and pip commands (a pipeline executor's, a worker pool's). */
  packageSources: string[];
  /** Package sources the containers name but do not show (`--index-url $IDX` of a variable the request does not set). */
  hiddenPackageSources: string[];
  /** Python packages a worker pool downloads and runs (`pythonPackageSpec.packageUris`). */
  codeUris: string[];
}

const MAX_DEPTH = 14;
const MAX_NODES = 20_000;

const IMAGE_RE = /^[a-z0-9][a-z0-9.-]*(?::\d+)?\/[^\s]+$/i;
/**
 * A Docker Hub official image named without registry or namespace (`python:3.9`, the KFP default base
 * image; `ubuntu`; `python@sha256:…`). Taken only where the field is an image reference by definition
 * (`imageUri`, `executorImageUri`, a pipeline executor's `container.image`), not from any `image` key.
 */
const BARE_IMAGE_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * Walk request/response bodies once and collect what a security engineer asks
 * about a Vertex operation: which container images run (and whether they are
 * pinned by digest), under which service account, in which network, with
 * which CMEK key, reading/writing which storage, with which traffic split.
 * Bounded in depth and size: the bodies are attacker-influenced.
 *
 * @example
 * collectFacts([protoPayload.request]).images // ['us-docker.pkg.dev/p/r/trainer@sha256:…']
 */
export function collectFacts(roots: unknown[]): SecurityFacts {
  const f: SecurityFacts = {
    images: [], serviceAccounts: [], networks: [], privateServiceConnect: false, kmsKeys: [], modelArtifactUris: [],
    inputUris: [], outputUris: [], models: [], deployedModelIds: [], displayNames: [], versionAliases: [],
    webAccess: false, containerLoggingDisabled: false, packageSources: [], hiddenPackageSources: [], codeUris: [],
  };
  let nodes = 0;
  const add = (list: string[], v: unknown) => {
    const s = str(v);
    if (s && !list.includes(s)) list.push(s);
  };
  const walk = (node: unknown, key: string, parent: string, depth: number): void => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, key, parent, depth + 1);
      return;
    }
    if (isObj(node)) {
      // Object.keys, not Object.entries: no [key, value] pair per property on this per-entry walk.
      for (const k of Object.keys(node)) {
        if (k === '@type') continue;
        const v = node[k];
        // A container's env (`[{name, value}]`) and its command / args (a compiled KFP component's pip install).
        // Command and args are read as one list: an exec-form `pip` in command takes its `-i URL` from args.
        // The env is read with them (`pip install -i $IDX` resolves IDX from it), alone when the node runs no command.
        const runs = Array.isArray(node.command) || Array.isArray(node.args);
        if (Array.isArray(v) && ((k === 'env' && !runs) || k === 'command' || (k === 'args' && !Array.isArray(node.command)))) {
          const argv = k === 'command' && Array.isArray(node.args) ? [...v, ...node.args] : v;
          const facts = k === 'env' ? packageSourceFactsOf({ env: v }) : packageSourceFactsOf({ env: node.env, command: argv });
          for (const src of facts.sources) add(f.packageSources, src);
          for (const hidden of facts.unverifiable) add(f.hiddenPackageSources, hidden);
        }
        if (k === 'trafficSplit' && isObj(v)) {
          const split: Record<string, number> = {};
          for (const [id, pct] of Object.entries(v)) if (Number.isFinite(Number(pct))) split[id] = Number(pct);
          if (Object.keys(split).length) f.trafficSplit = split;
          continue;
        }
        walk(v, k, key, depth + 1);
      }
      return;
    }
    if (typeof node === 'boolean') {
      if (node && (key === 'enablePrivateServiceConnect')) f.privateServiceConnect = true;
      if (node && (key === 'enableWebAccess' || key === 'enableDashboardAccess')) f.webAccess = true;
      if (node && key === 'disableContainerLogging') f.containerLoggingDisabled = true;
      return;
    }
    if (typeof node !== 'string') return;
    switch (key) {
      case 'imageUri':
      case 'executorImageUri':
      case 'image':
        if (IMAGE_RE.test(node) || ((key !== 'image' || parent === 'container') && BARE_IMAGE_RE.test(node))) add(f.images, node);
        break;
      case 'serviceAccount':
        add(f.serviceAccounts, node);
        break;
      case 'network':
        add(f.networks, node);
        break;
      case 'kmsKeyName':
        add(f.kmsKeys, node);
        break;
      case 'artifactUri':
        add(f.modelArtifactUris, node);
        break;
      case 'packageUris':
        add(f.codeUris, node);
        break;
      case 'uris':
      case 'inputUri':
      case 'inputUris':
        add(f.inputUris, node);
        break;
      // A BigQuery or Cloud Storage source named by `uri`: a tabular Dataset's `metadata.inputConfig.bigquerySource.uri`,
      // a FeatureView's `bigQuerySource.uri` (the table its online store syncs from), an ImportDataConfig's.
      case 'uri':
        if (parent === 'bigquerySource' || parent === 'bigQuerySource' || parent === 'gcsSource') add(f.inputUris, node);
        break;
      // The Datasets a DataLabelingJob has labeled (`datasets: ["projects/…/datasets/123"]`).
      case 'datasets':
        if (/\/datasets\/[^/]+$/.test(node)) add(f.inputUris, node);
        break;
      case 'outputUriPrefix':
      case 'outputUri':
      case 'gcsOutputDirectory':
        add(f.outputUris, node);
        break;
      case 'model':
      case 'sourceModel':
      case 'parentModel':
      case 'publisherModelName':
        if (/\/models\//.test(node)) add(f.models, node);
        break;
      case 'huggingFaceModelId': {
        const hf = huggingFacePublisherModel(node);
        if (hf) add(f.models, hf);
        break;
      }
      case 'deployedModelId':
        add(f.deployedModelIds, node);
        break;
      case 'id':
        if (parent === 'deployedModel') add(f.deployedModelIds, node);
        break;
      case 'displayName':
        if (depth <= 3) add(f.displayNames, node);
        break;
      case 'versionAliases':
        add(f.versionAliases, node);
        break;
      case 'pscInterfaceConfig':
        f.privateServiceConnect = true;
        break;
    }
  };
  for (const r of roots) walk(r, '', '', 0);
  // `pscInterfaceConfig: {}` is an object, not a string: look for it explicitly.
  for (const r of roots) if (hasKey(r, 'pscInterfaceConfig', 0)) f.privateServiceConnect = true;
  return f;
}

/**
 * A Hugging Face model id (`author/name`) as the publisher model Model Garden deploys it as:
 * `publishers/hf-{author}/models/{name}` (DeployRequest.publisher_model_name).
 *
 * @example
 * huggingFacePublisherModel('google/gemma-2-2b-it') // 'publishers/hf-google/models/gemma-2-2b-it'
 */
export function huggingFacePublisherModel(id: string): string | undefined {
  const hf = /^([^/\s:]+)\/([^/\s@]+)$/.exec(id);
  return hf ? `publishers/hf-${hf[1]}/models/${hf[2]}` : undefined;
}

function hasKey(node: unknown, key: string, depth: number): boolean {
  if (depth > 8 || !node || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((n) => hasKey(n, key, depth + 1));
  const obj = node as Json;
  return Object.keys(obj).some((k) => k === key || hasKey(obj[k], key, depth + 1));
}

/** True when an image reference is pinned by digest (`…@sha256:<64 hex>`). */
export function isPinned(image: string): boolean {
  return imageDigestOf(image) !== undefined;
}

/** The digest part of a pinned image reference. */
export const digestOf = (image: string): string | undefined => imageDigestOf(image);

/**
 * `projects/p/locations/l/models/123@2` → { name: 'projects/p/locations/l/models/123', version: '2' } (alias when not
 * numeric). A publisher model's `@…` (`publishers/google/models/gemma3@gemma-3-4b-it`) is the publisher's version
 * name, never an alias of your registry: read as one, a version named `production` would approve the deployment.
 */
export function parseModelRef(ref: string | undefined): { name?: string; version?: string; alias?: string } {
  if (!ref) return {};
  const m = /^(.*\/models\/[^/@]+)(?:@([^/]+))?/.exec(ref);
  if (!m) return {};
  const at = m[2];
  if (!at) return { name: m[1] };
  if (/(^|\/)publishers\//.test(m[1]!)) return { name: m[1], version: at };
  return /^\d+$/.test(at) ? { name: m[1], version: at } : { name: m[1], alias: at };
}

/** `updateMask` as a list of paths, whether a comma-separated string or `{paths: []}`. */
export function maskPaths(mask: unknown): string[] {
  if (typeof mask === 'string') return mask.split(',').map((s) => s.trim()).filter(Boolean);
  if (isObj(mask) && Array.isArray(mask.paths)) return mask.paths.filter((p): p is string => typeof p === 'string');
  return [];
}

const MAX_METRICS = 200;
const MAX_METRIC_DEPTH = 4;
const MAX_METRIC_NAME = 200;

/**
 * The scalar scores of a ModelEvaluation's `metrics` (a google.protobuf.Value
 * shaped by its metricsSchemaUri): every finite number, named by its path
 * (`auRoc`, `confusionMatrix.…`, nested objects joined with `.`). Arrays
 * (`confidenceMetrics[]` per threshold, `confusionMatrix.rows`) are tables,
 * not scores of the model, and are left out; so are NaN/Infinity (proto JSON
 * strings). Bounded (depth, count, name length): the body is caller-written.
 *
 * @example
 * evaluationMetrics({ auRoc: 0.97, logLoss: 0.2, confidenceMetrics: [{ recall: 1 }] })
 * // { metrics: { auRoc: 0.97, logLoss: 0.2 }, omitted: 0 }
 */
export function evaluationMetrics(value: unknown): { metrics?: Record<string, number>; omitted: number } {
  const metrics: Record<string, number> = {};
  let count = 0;
  let omitted = 0;
  const walk = (node: unknown, path: string, depth: number): void => {
    if (typeof node === 'number') {
      if (!Number.isFinite(node) || !path || path.length > MAX_METRIC_NAME) return;
      if (count >= MAX_METRICS) omitted++;
      else {
        metrics[path] = node;
        count++;
      }
      return;
    }
    if (!isObj(node) || depth >= MAX_METRIC_DEPTH) return;
    for (const k of Object.keys(node)) {
      // `__proto__` as a key would set the record's prototype, not a metric.
      if (k === '@type' || k === '__proto__') continue;
      walk(node[k], path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(value, '', 0);
  return { metrics: count ? metrics : undefined, omitted };
}
