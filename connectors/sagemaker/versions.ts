import { str, type Obj } from './util.js';

/**
 * An S3 object put back to an earlier version without a PutObject (a versioned bucket): a `DeleteObject` naming a
 * `versionId` removes that version for good — when it was the current one the previous version becomes current, the
 * approved (or clean) bytes replaced by older ones under the same name —, and a `CopyObject` whose
 * `x-amz-copy-source` names a `versionId` of the same key writes that earlier version over the current one. The
 * record does not say whether a deleted version was the current one: both are reported as a possible rollback.
 * A DeleteObjects naming versions removes each one as DeleteObject does. An `UploadPartCopy` whose source is an
 * earlier version of the key it uploads to is the same copy back made in parts (larger than 5 GB, or a tool's
 * multipart copy): its record names both sides and marks the rollback; the CompleteMultipartUpload that makes it
 * current names only the key and the upload id (`details.upload_id` on both), and the rules carry the mark to it.
 */
export interface VersionRollback {
  /** DeleteObject: the version removed (if current, the one before it is served now). */
  removed_version?: string;
  /** CopyObject, UploadPartCopy: the earlier version copied over the object. */
  restored_version?: string;
  /** DeleteObjects: the version each object named removes, by `s3://bucket/key`. */
  removed_versions?: Record<string, string>;
}

/** The `versionId` a copy source names (`bucket/key?versionId=…`, as S3 takes it in the header). */
export function copySourceVersionOf(header: string | undefined): string | undefined {
  const m = /\?(?:.*&)?versionId=([^&]+)/.exec(header ?? '');
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1];
  }
}

/**
 * @example
 * versionRollbackOf('CopyObject', { 'x-amz-copy-source': 'models/fraud/model.tar.gz?versionId=3Hx' }, 's3://models/fraud/model.tar.gz', 's3://models/fraud/model.tar.gz')
 * // { restored_version: '3Hx' }
 */
export function versionRollbackOf(eventName: string, params: Obj, copySource: string | undefined, uri: string | undefined, deletedVersions?: Record<string, string>): VersionRollback | undefined {
  if (eventName === 'DeleteObjects') return deletedVersions && Object.keys(deletedVersions).length ? { removed_versions: deletedVersions } : undefined;
  if (eventName === 'DeleteObject') {
    const removed = str(params.versionId);
    return removed ? { removed_version: removed } : undefined;
  }
  if ((eventName !== 'CopyObject' && eventName !== 'UploadPartCopy') || !uri || copySource !== uri) return undefined;
  const restored = copySourceVersionOf(str(params['x-amz-copy-source']));
  return restored ? { restored_version: restored } : undefined;
}
