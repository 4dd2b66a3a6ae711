import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on the first call and then kept (Node's module cache), for the cloud SDKs
 * whose clients are made in synchronous code (a poller's constructor or `start()`), where a dynamic
 * `import()` cannot be awaited. Imported at module load they cost every CLI command (`--help`,
 * `normalize`, `check-config`) most of a second; loaded here, only the code that makes a client pays,
 * and a missing or broken package fails there, as the client's own errors do. The packages this is
 * used for are CommonJS, so `require` returns the same module `import` would.
 *
 * @example
 * import type * as Sqs from '@aws-sdk/client-sqs';
 * const sqsSdk = lazyRequire<typeof Sqs>('@aws-sdk/client-sqs');
 * const client = new (sqsSdk().SQSClient)({ region });
 */
export function lazyRequire<T>(specifier: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(specifier) as T);
}
