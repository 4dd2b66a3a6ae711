import { readFileSync } from 'node:fs';
import type * as Grpc from '@grpc/grpc-js';
import type { ChannelCredentials, Client, ServiceError } from '@grpc/grpc-js';
import { caFileProblem } from '../../../core/config/pem.js';
import { MltrailError } from '../../../core/errors.js';
import { lazyRequire } from '../../../core/lazy-require.js';
import { DeliveryError } from '../../../core/sink.js';
import { mlmdServiceDefinition, type MlmdMethod } from './proto.js';
import type { ListOptions, MlmdArtifact, MlmdContext, MlmdEvent, MlmdExecution } from './types.js';

/** grpc-js, loaded when a client is made (`serve` with an MLMD address), not by every command. */
const grpc = lazyRequire<typeof Grpc>('@grpc/grpc-js');

/**
 * gRPC codes a retry cannot fix (bad request, missing method, refused identity): INVALID_ARGUMENT,
 * PERMISSION_DENIED, FAILED_PRECONDITION, UNIMPLEMENTED, UNAUTHENTICATED (codes fixed by the gRPC spec).
 */
const PERMANENT = new Set<number>([3, 7, 9, 12, 16]);

export interface MlmdClientOptions {
  tls?: boolean;
  caFile?: string;
  timeoutMs?: number;
  /** The config key of `caFile`, named when it cannot be read (a configured cluster's: `connectors.kubeflow.clusters.1.mlmd.ca_file`). */
  caFileKey?: string;
}

/**
 * The CA bundle, checked again as config validation checked it (the file may have changed since: gone, or a key
 * appended to it); failing here is still a config fault.
 */
function readCa(file: string, key = 'connectors.kubeflow.mlmd.ca_file'): Buffer {
  const problem = caFileProblem(file);
  if (problem) throw new MltrailError('CONFIG', `${key}: ${problem}`, { path: key });
  try {
    return readFileSync(file);
  } catch (err) {
    throw new MltrailError('CONFIG', `${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { path: key });
  }
}

/**
 * Read-only client for `ml_metadata.MetadataStoreService` over gRPC (HTTP/2),
 * with 100 MiB receive limit (KFP's own limit; metrics artifacts can be big).
 *
 * @example
 * const mlmd = new MlmdClient('metadata-grpc-service.kubeflow:8080');
 * const page = await mlmd.getExecutions({ max_result_size: 100, filter_query: 'last_update_time_since_epoch >= 0' });
 */
export class MlmdClient {
  private readonly client: Client;
  private readonly timeoutMs: number;

  constructor(readonly address: string, opts: MlmdClientOptions = {}) {
    const { Client, credentials } = grpc();
    let creds: ChannelCredentials = credentials.createInsecure();
    if (opts.tls) creds = credentials.createSsl(opts.caFile ? readCa(opts.caFile, opts.caFileKey) : undefined);
    this.client = new Client(address, creds, {
      'grpc.max_receive_message_length': 100 * 1024 * 1024,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    });
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** One unary call; gRPC errors become DeliveryError (retryable unless the code says otherwise). */
  call<T>(method: MlmdMethod, request: unknown, signal?: AbortSignal): Promise<T> {
    const def = mlmdServiceDefinition[method]!;
    const { Metadata, status } = grpc();
    return new Promise<T>((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + this.timeoutMs },
        (err: ServiceError | null, value?: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(new DeliveryError(`MLMD ${method}: ${status[err.code] ?? err.code}: ${err.details || err.message}`, !PERMANENT.has(err.code)));
          else resolve(value as T);
        },
      );
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  getExecutions(options: ListOptions, signal?: AbortSignal) {
    return this.call<{ executions?: MlmdExecution[]; next_page_token?: string }>('GetExecutions', { options }, signal);
  }

  getExecutionsByContext(contextId: string, options: ListOptions, signal?: AbortSignal) {
    return this.call<{ executions?: MlmdExecution[]; next_page_token?: string }>('GetExecutionsByContext', { context_id: contextId, options }, signal);
  }

  async getContextsByExecution(executionId: string, signal?: AbortSignal): Promise<MlmdContext[]> {
    return (await this.call<{ contexts?: MlmdContext[] }>('GetContextsByExecution', { execution_id: executionId }, signal)).contexts ?? [];
  }

  async getParentContextsByContext(contextId: string, signal?: AbortSignal): Promise<MlmdContext[]> {
    return (await this.call<{ contexts?: MlmdContext[] }>('GetParentContextsByContext', { context_id: contextId }, signal)).contexts ?? [];
  }

  async getEventsByExecutionIds(ids: string[], signal?: AbortSignal): Promise<MlmdEvent[]> {
    if (!ids.length) return [];
    return (await this.call<{ events?: MlmdEvent[] }>('GetEventsByExecutionIDs', { execution_ids: ids }, signal)).events ?? [];
  }

  async getArtifactsById(ids: string[], signal?: AbortSignal): Promise<MlmdArtifact[]> {
    if (!ids.length) return [];
    return (await this.call<{ artifacts?: MlmdArtifact[] }>('GetArtifactsByID', { artifact_ids: ids }, signal)).artifacts ?? [];
  }

  close(): void {
    this.client.close();
  }
}
