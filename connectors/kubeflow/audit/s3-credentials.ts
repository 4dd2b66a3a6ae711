/**
 * KServe's S3 credential annotations: a ServiceAccount, or a Secret it lists under `secrets`, annotated
 * `serving.kserve.io/s3-endpoint` (`serving.kubeflow.org/…` before the rename) makes KServe's credential builder
 * (pkg/credentials/s3) give the storage initializer `S3_ENDPOINT` and `AWS_ENDPOINT_URL` (`https://<endpoint>`, or
 * `http://` with `s3-usehttps: "0"`), so the `s3://` storageUri of every InferenceService running under that account
 * is fetched from there. The annotations are not secret values; the Secret's data stays redacted (redact.ts).
 */

import { shownEndpoint } from '../artifactendpoints.js';
import type { AuditEvent } from './envelope.js';
import { isObject } from './objects.js';

const PREFIXES = ['serving.kserve.io/', 'serving.kubeflow.org/'] as const;

/** What a ServiceAccount or Secret write says of KServe's S3 settings: `details.kserve_s3`. */
export interface KserveS3 {
  /** The endpoint as KServe passes it to the storage initializer (`AWS_ENDPOINT_URL`). */
  endpoint?: string;
  /** `s3-usehttps`, `s3-verifyssl` as annotated. */
  use_https?: string;
  verify_ssl?: string;
  /** A ServiceAccount's `secrets` (names): their annotations apply to it too. */
  secrets?: string[];
  /**
   * A patch of an object not seen before (`details.patch_base_unknown`) removed the `s3-endpoint` annotation: what
   * was known of the object's endpoint is gone, though the patch shows nothing else of it.
   */
  endpoint_removed?: true;
}

/** An annotation of either KServe group. */
function annotation(ann: Record<string, unknown>, key: string): string | undefined {
  for (const p of PREFIXES) {
    const v = ann[`${p}${key}`];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  return undefined;
}

/**
 * `details.kserve_s3` of a core ServiceAccount or Secret create/update/patch whose object the record shows (the
 * stored object, else a create's or update's body); undefined otherwise — Secrets are usually logged at level
 * Metadata, with no object: then nothing is said (an account's earlier settings stay as known).
 */
export function kserveS3Of(ev: AuditEvent): KserveS3 | undefined {
  const ref = ev.objectRef ?? {};
  if (ref.apiGroup || (ref.resource !== 'serviceaccounts' && ref.resource !== 'secrets') || ref.subresource) return undefined;
  if (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch') return undefined;
  const obj = isObject(ev.responseObject) && isObject(ev.responseObject.metadata) ? ev.responseObject : ev.verb !== 'patch' && isObject(ev.requestObject) && isObject(ev.requestObject.metadata) ? ev.requestObject : undefined;
  if (!obj) return undefined;
  const meta = obj.metadata as Record<string, unknown>;
  const ann = isObject(meta.annotations) ? meta.annotations : {};
  const host = annotation(ann, 's3-endpoint');
  const useHttps = annotation(ann, 's3-usehttps');
  const secrets = ref.resource === 'serviceaccounts' && Array.isArray(obj.secrets) ? obj.secrets.map((s) => (isObject(s) && typeof s.name === 'string' ? s.name : undefined)).filter((n): n is string => !!n) : undefined;
  return {
    ...(host ? { endpoint: shownEndpoint(`${useHttps === '0' ? 'http' : 'https'}://${host}`) } : {}),
    ...(useHttps ? { use_https: useHttps } : {}),
    ...(annotation(ann, 's3-verifyssl') ? { verify_ssl: annotation(ann, 's3-verifyssl') } : {}),
    ...(secrets?.length ? { secrets } : {}),
  };
}

/** JSON pointers (RFC 6901) that remove the `s3-endpoint` annotation of either group when removed or replaced. */
const ENDPOINT_PATHS = new Set(['/metadata', '/metadata/annotations', ...PREFIXES.map((p) => `/metadata/annotations/${p.replace('/', '~1')}s3-endpoint`)]);

/**
 * Whether a patch body removes the `s3-endpoint` annotation (`kubectl annotate sa x serving.kserve.io/s3-endpoint-`:
 * a merge patch setting it to null; a JSON patch removing it, or replacing the annotations without it), read without
 * the object it applies to.
 */
export function removesS3Endpoint(patch: unknown): boolean {
  if (Array.isArray(patch)) {
    return patch.some((op) => {
      if (!isObject(op) || typeof op.path !== 'string' || !ENDPOINT_PATHS.has(op.path)) return false;
      if (op.op === 'remove') return true;
      if (op.op !== 'replace' && op.op !== 'add') return false;
      // A whole metadata or annotations object written: removed unless it holds the annotation.
      if (op.path.endsWith('s3-endpoint')) return false;
      const ann = op.path === '/metadata' ? (isObject(op.value) ? op.value.annotations : undefined) : op.value;
      return !(isObject(ann) && annotation(ann, 's3-endpoint'));
    });
  }
  if (!isObject(patch)) return false;
  if (patch.metadata === null) return true;
  const ann = isObject(patch.metadata) ? patch.metadata.annotations : undefined;
  return ann === null || (isObject(ann) && PREFIXES.some((p) => ann[`${p}s3-endpoint`] === null));
}
