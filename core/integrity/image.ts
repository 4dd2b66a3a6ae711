/** Container image references, as far as integrity goes: which content digest a reference pins. */

/**
 * The digest an image reference pins (`repo@sha256:…`, `repo:tag@sha256:…`), lower-cased; a tag or a
 * bare reference pins nothing (undefined).
 *
 * @example
 * imageDigestOf(`1234.dkr.ecr.us-east-1.amazonaws.com/xgb@sha256:${'a'.repeat(64)}`) // 'sha256:aaa…'
 * imageDigestOf('docker.io/library/python:3.12') // undefined
 */
export function imageDigestOf(image: string | undefined): string | undefined {
  return image ? /@(sha256:[0-9a-f]{64})$/i.exec(image)?.[1]?.toLowerCase() : undefined;
}
