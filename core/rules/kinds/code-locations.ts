import { anyGlob } from '../facts.js';

/** The SageMaker Python SDK's default bucket, `sagemaker-<region>-<account>`: whose account its name says. */
const SDK_BUCKET = /^s3:\/\/sagemaker-[a-z0-9-]+-(\d{12})\//i;

/**
 * The code archives (a script-mode source bundle, a Vertex python package, a serving container's
 * SAGEMAKER_SUBMIT_DIRECTORY) that should not run: outside `trusted` (URI globs, `trusted_code_locations`) when that
 * is set; whatever it is, one in the SDK default bucket of another account than `account`, whose name says so. An
 * unset list judges nothing else: the URI does not say whose bucket it is.
 */
export function untrustedCode(uris: readonly string[], account: string | undefined, trusted: readonly string[]): Array<{ uri: string; reason: string }> {
  const out: Array<{ uri: string; reason: string }> = [];
  for (const uri of uris) {
    if (anyGlob(trusted, uri)) continue;
    const owner = SDK_BUCKET.exec(uri)?.[1];
    if (owner && account && owner !== account) out.push({ uri, reason: `code from ${uri}, the SageMaker SDK bucket of account ${owner}` });
    else if (trusted.length) out.push({ uri, reason: `code from ${uri}, not in trusted_code_locations` });
  }
  return out;
}
