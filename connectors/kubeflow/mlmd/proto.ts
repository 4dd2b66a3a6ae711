import type { ServiceDefinition } from '@grpc/grpc-js';
import type * as Protobuf from 'protobufjs';
import { lazyRequire } from '../../../core/lazy-require.js';

// Loaded on the first message encoded or decoded (the poller's first call): every CLI command imports this module.
const protobuf = lazyRequire<typeof Protobuf>('protobufjs');

/**
 * The subset of `ml_metadata/proto/metadata_store.proto` and
 * `metadata_store_service.proto` (MLMD 1.14, proto2, package `ml_metadata`)
 * the poller reads, written as a protobufjs JSON descriptor with the upstream
 * field numbers. Kept in TypeScript so it ships in dist/ (tsc copies no .proto).
 * Only read RPCs are defined: the connector never writes to MLMD.
 */
const f = (type: string, id: number, rule?: 'repeated') => (rule ? { type, id, rule } : { type, id });
const map = (type: string, id: number) => ({ keyType: 'string', type, id });

const descriptor = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: f('string', 1), value: f('bytes', 2) } },
            Struct: { fields: { fields: map('Value', 1) } },
            Value: {
              oneofs: { kind: { oneof: ['null_value', 'number_value', 'string_value', 'bool_value', 'struct_value', 'list_value'] } },
              fields: {
                null_value: f('NullValue', 1),
                number_value: f('double', 2),
                string_value: f('string', 3),
                bool_value: f('bool', 4),
                struct_value: f('Struct', 5),
                list_value: f('ListValue', 6),
              },
            },
            ListValue: { fields: { values: f('Value', 1, 'repeated') } },
            NullValue: { values: { NULL_VALUE: 0 } },
          },
        },
      },
    },
    ml_metadata: {
      nested: {
        Value: {
          oneofs: { value: { oneof: ['int_value', 'double_value', 'string_value', 'struct_value', 'proto_value', 'bool_value'] } },
          fields: {
            int_value: f('int64', 1),
            double_value: f('double', 2),
            string_value: f('string', 3),
            struct_value: f('google.protobuf.Struct', 4),
            proto_value: f('google.protobuf.Any', 5),
            bool_value: f('bool', 6),
          },
        },
        Artifact: {
          fields: {
            id: f('int64', 1),
            name: f('string', 7),
            type_id: f('int64', 2),
            type: f('string', 8),
            uri: f('string', 3),
            external_id: f('string', 11),
            properties: map('Value', 4),
            custom_properties: map('Value', 5),
            state: f('State', 6),
            create_time_since_epoch: f('int64', 9),
            last_update_time_since_epoch: f('int64', 10),
            system_metadata: f('google.protobuf.Any', 12),
          },
          nested: {
            State: { values: { UNKNOWN: 0, PENDING: 1, LIVE: 2, MARKED_FOR_DELETION: 3, DELETED: 4, ABANDONED: 5, REFERENCE: 6 } },
          },
        },
        ArtifactType: { fields: { id: f('int64', 1), name: f('string', 2), version: f('string', 4), description: f('string', 5), external_id: f('string', 7) } },
        Execution: {
          fields: {
            id: f('int64', 1),
            name: f('string', 6),
            type_id: f('int64', 2),
            type: f('string', 7),
            external_id: f('string', 10),
            last_known_state: f('State', 3),
            properties: map('Value', 4),
            custom_properties: map('Value', 5),
            create_time_since_epoch: f('int64', 8),
            last_update_time_since_epoch: f('int64', 9),
            system_metadata: f('google.protobuf.Any', 11),
          },
          nested: { State: { values: { UNKNOWN: 0, NEW: 1, RUNNING: 2, COMPLETE: 3, FAILED: 4, CACHED: 5, CANCELED: 6 } } },
        },
        Context: {
          fields: {
            id: f('int64', 1),
            name: f('string', 3),
            type_id: f('int64', 2),
            type: f('string', 6),
            external_id: f('string', 9),
            properties: map('Value', 4),
            custom_properties: map('Value', 5),
            create_time_since_epoch: f('int64', 7),
            last_update_time_since_epoch: f('int64', 8),
            system_metadata: f('google.protobuf.Any', 10),
          },
        },
        Event: {
          fields: {
            artifact_id: f('int64', 1),
            execution_id: f('int64', 2),
            path: f('Path', 3),
            type: f('Type', 4),
            milliseconds_since_epoch: f('int64', 5),
            system_metadata: f('google.protobuf.Any', 6),
          },
          nested: {
            Path: {
              fields: { steps: f('Step', 1, 'repeated') },
              nested: { Step: { oneofs: { value: { oneof: ['index', 'key'] } }, fields: { index: f('int64', 1), key: f('string', 2) } } },
            },
            Type: { values: { UNKNOWN: 0, DECLARED_OUTPUT: 1, DECLARED_INPUT: 2, INPUT: 3, OUTPUT: 4, INTERNAL_INPUT: 5, INTERNAL_OUTPUT: 6, PENDING_OUTPUT: 7 } },
          },
        },
        ListOperationOptions: {
          fields: {
            max_result_size: f('int32', 1),
            order_by_field: f('OrderByField', 2),
            next_page_token: f('string', 3),
            filter_query: f('string', 4),
          },
          nested: {
            OrderByField: {
              fields: { field: f('Field', 1), is_asc: f('bool', 2) },
              nested: { Field: { values: { FIELD_UNSPECIFIED: 0, CREATE_TIME: 1, LAST_UPDATE_TIME: 2, ID: 3 } } },
            },
          },
        },
        ListOperationNextPageToken: {
          fields: {
            id_offset: f('int64', 1),
            field_offset: f('int64', 2),
            set_options: f('ListOperationOptions', 3),
            listed_ids: f('int64', 4, 'repeated'),
          },
        },
        GetExecutionsRequest: { fields: { options: f('ListOperationOptions', 1) } },
        GetExecutionsResponse: { fields: { executions: f('Execution', 1, 'repeated'), next_page_token: f('string', 2) } },
        GetExecutionsByContextRequest: { fields: { context_id: f('int64', 1), options: f('ListOperationOptions', 2) } },
        GetExecutionsByContextResponse: { fields: { executions: f('Execution', 1, 'repeated'), next_page_token: f('string', 2) } },
        GetContextsByExecutionRequest: { fields: { execution_id: f('int64', 1) } },
        GetContextsByExecutionResponse: { fields: { contexts: f('Context', 1, 'repeated') } },
        GetParentContextsByContextRequest: { fields: { context_id: f('int64', 1) } },
        GetParentContextsByContextResponse: { fields: { contexts: f('Context', 1, 'repeated') } },
        GetEventsByExecutionIDsRequest: { fields: { execution_ids: f('int64', 1, 'repeated') } },
        GetEventsByExecutionIDsResponse: { fields: { events: f('Event', 1, 'repeated') } },
        GetArtifactsByIDRequest: { fields: { artifact_ids: f('int64', 1, 'repeated'), populate_artifact_types: f('bool', 3) } },
        GetArtifactsByIDResponse: { fields: { artifacts: f('Artifact', 1, 'repeated'), artifact_types: f('ArtifactType', 2, 'repeated') } },
      },
    },
  },
};

let root: Protobuf.Root | undefined;

/** The ml_metadata types, built on first use. */
function mlmdRoot(): Protobuf.Root {
  if (root) return root;
  const r = protobuf().Root.fromJSON(descriptor);
  // proto2: repeated scalars are not packed on the wire (decoders accept both; we send what MLMD sends).
  for (const name of ['ListOperationNextPageToken', 'GetEventsByExecutionIDsRequest', 'GetArtifactsByIDRequest']) {
    for (const field of r.lookupType(`ml_metadata.${name}`).fieldsArray) if (field.repeated) field.setOption('packed', false);
  }
  r.resolveAll();
  return (root = r);
}

/** Read RPCs of ml_metadata.MetadataStoreService: method name → [request type, response type]. */
export const MLMD_METHODS = {
  GetExecutions: ['GetExecutionsRequest', 'GetExecutionsResponse'],
  GetExecutionsByContext: ['GetExecutionsByContextRequest', 'GetExecutionsByContextResponse'],
  GetContextsByExecution: ['GetContextsByExecutionRequest', 'GetContextsByExecutionResponse'],
  GetParentContextsByContext: ['GetParentContextsByContextRequest', 'GetParentContextsByContextResponse'],
  GetEventsByExecutionIDs: ['GetEventsByExecutionIDsRequest', 'GetEventsByExecutionIDsResponse'],
  GetArtifactsByID: ['GetArtifactsByIDRequest', 'GetArtifactsByIDResponse'],
} as const;
export type MlmdMethod = keyof typeof MLMD_METHODS;

/** Encode a plain object (int64 as string or number) as the named ml_metadata message. */
export function encodeMessage(typeName: string, obj: unknown): Buffer {
  const t = mlmdRoot().lookupType(`ml_metadata.${typeName}`);
  return Buffer.from(t.encode(t.fromObject(obj as Record<string, unknown>)).finish());
}

/** Decode the named ml_metadata message into a plain object: int64 as decimal strings, enums as names, unset fields absent. */
export function decodeMessage<T = Record<string, unknown>>(typeName: string, buf: Uint8Array): T {
  const t = mlmdRoot().lookupType(`ml_metadata.${typeName}`);
  return t.toObject(t.decode(buf), { longs: String, enums: String, defaults: false, arrays: true, objects: true }) as T;
}

/** The grpc-js service definition (client and in-process test servers share it). */
export const mlmdServiceDefinition: ServiceDefinition = Object.fromEntries(
  Object.entries(MLMD_METHODS).map(([method, [req, res]]) => [
    method,
    {
      path: `/ml_metadata.MetadataStoreService/${method}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: unknown) => encodeMessage(req, v),
      requestDeserialize: (b: Buffer) => decodeMessage(req, b),
      responseSerialize: (v: unknown) => encodeMessage(res, v),
      responseDeserialize: (b: Buffer) => decodeMessage(res, b),
      originalName: method,
    },
  ]),
) as ServiceDefinition;
