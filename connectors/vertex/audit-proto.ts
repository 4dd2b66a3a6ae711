import type * as Protobuf from 'protobufjs';
import { lazyRequire } from '../../core/lazy-require.js';
import { isObj, type Json } from './logentry.js';

/**
 * Cloud Audit Logs arrive over gRPC (e.g. `@google-cloud/logging`'s
 * `getEntries`) as a protobuf `Any` (`{type_url, value}`) that the library
 * does not decode. This is the AuditLog message set (field numbers from
 * google/cloud/audit/audit_log.proto, google/rpc/status.proto and
 * google/rpc/context/attribute_context.proto), written as a protobufjs JSON
 * descriptor so decoding needs no .proto files at run time.
 */
const descriptor = {
  nested: {
    google: {
      nested: {
        cloud: {
          nested: {
            audit: {
              nested: {
                AuditLog: {
                  fields: {
                    serviceName: { type: 'string', id: 7 },
                    methodName: { type: 'string', id: 8 },
                    resourceName: { type: 'string', id: 11 },
                    resourceLocation: { type: 'ResourceLocation', id: 20 },
                    resourceOriginalState: { type: 'google.protobuf.Struct', id: 19 },
                    numResponseItems: { type: 'int64', id: 12 },
                    status: { type: 'google.rpc.Status', id: 2 },
                    authenticationInfo: { type: 'AuthenticationInfo', id: 3 },
                    authorizationInfo: { rule: 'repeated', type: 'AuthorizationInfo', id: 9 },
                    policyViolationInfo: { type: 'PolicyViolationInfo', id: 25 },
                    requestMetadata: { type: 'RequestMetadata', id: 4 },
                    request: { type: 'google.protobuf.Struct', id: 16 },
                    response: { type: 'google.protobuf.Struct', id: 17 },
                    metadata: { type: 'google.protobuf.Struct', id: 18 },
                    serviceData: { type: 'google.protobuf.Any', id: 15 },
                  },
                },
                AuthenticationInfo: {
                  fields: {
                    principalEmail: { type: 'string', id: 1 },
                    authoritySelector: { type: 'string', id: 2 },
                    thirdPartyPrincipal: { type: 'google.protobuf.Struct', id: 4 },
                    serviceAccountKeyName: { type: 'string', id: 5 },
                    serviceAccountDelegationInfo: { rule: 'repeated', type: 'ServiceAccountDelegationInfo', id: 6 },
                    principalSubject: { type: 'string', id: 8 },
                  },
                },
                AuthorizationInfo: {
                  fields: {
                    resource: { type: 'string', id: 1 },
                    permission: { type: 'string', id: 2 },
                    granted: { type: 'bool', id: 3 },
                    resourceAttributes: { type: 'google.rpc.context.AttributeContext.Resource', id: 5 },
                    permissionType: { type: 'PermissionType', id: 7 },
                  },
                  nested: {
                    PermissionType: { values: { PERMISSION_TYPE_UNSPECIFIED: 0, ADMIN_READ: 1, ADMIN_WRITE: 2, DATA_READ: 3, DATA_WRITE: 4 } },
                  },
                },
                RequestMetadata: {
                  fields: {
                    callerIp: { type: 'string', id: 1 },
                    callerSuppliedUserAgent: { type: 'string', id: 2 },
                    callerNetwork: { type: 'string', id: 3 },
                    requestAttributes: { type: 'google.rpc.context.AttributeContext.Request', id: 7 },
                    destinationAttributes: { type: 'google.rpc.context.AttributeContext.Peer', id: 8 },
                  },
                },
                ResourceLocation: {
                  fields: {
                    currentLocations: { rule: 'repeated', type: 'string', id: 1 },
                    originalLocations: { rule: 'repeated', type: 'string', id: 2 },
                  },
                },
                ServiceAccountDelegationInfo: {
                  oneofs: { Authority: { oneof: ['firstPartyPrincipal', 'thirdPartyPrincipal'] } },
                  fields: {
                    principalSubject: { type: 'string', id: 3 },
                    firstPartyPrincipal: { type: 'FirstPartyPrincipal', id: 1 },
                    thirdPartyPrincipal: { type: 'ThirdPartyPrincipal', id: 2 },
                  },
                  nested: {
                    FirstPartyPrincipal: {
                      fields: { principalEmail: { type: 'string', id: 1 }, serviceMetadata: { type: 'google.protobuf.Struct', id: 2 } },
                    },
                    ThirdPartyPrincipal: { fields: { thirdPartyClaims: { type: 'google.protobuf.Struct', id: 1 } } },
                  },
                },
                PolicyViolationInfo: { fields: { orgPolicyViolationInfo: { type: 'OrgPolicyViolationInfo', id: 1 } } },
                OrgPolicyViolationInfo: {
                  fields: {
                    payload: { type: 'google.protobuf.Struct', id: 1 },
                    resourceType: { type: 'string', id: 2 },
                    resourceTags: { keyType: 'string', type: 'string', id: 3 },
                    violationInfo: { rule: 'repeated', type: 'ViolationInfo', id: 4 },
                  },
                },
                ViolationInfo: {
                  fields: {
                    constraint: { type: 'string', id: 1 },
                    errorMessage: { type: 'string', id: 2 },
                    checkedValue: { type: 'string', id: 3 },
                    policyType: { type: 'PolicyType', id: 4 },
                  },
                  nested: {
                    PolicyType: { values: { POLICY_TYPE_UNSPECIFIED: 0, BOOLEAN_CONSTRAINT: 1, LIST_CONSTRAINT: 2, CUSTOM_CONSTRAINT: 3 } },
                  },
                },
              },
            },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            context: {
              nested: {
                AttributeContext: {
                  fields: {},
                  nested: {
                    Peer: {
                      fields: {
                        ip: { type: 'string', id: 1 },
                        port: { type: 'int64', id: 2 },
                        labels: { keyType: 'string', type: 'string', id: 6 },
                        principal: { type: 'string', id: 7 },
                        regionCode: { type: 'string', id: 8 },
                      },
                    },
                    Auth: {
                      fields: {
                        principal: { type: 'string', id: 1 },
                        audiences: { rule: 'repeated', type: 'string', id: 2 },
                        presenter: { type: 'string', id: 3 },
                        claims: { type: 'google.protobuf.Struct', id: 4 },
                        accessLevels: { rule: 'repeated', type: 'string', id: 5 },
                      },
                    },
                    Request: {
                      fields: {
                        id: { type: 'string', id: 1 },
                        method: { type: 'string', id: 2 },
                        headers: { keyType: 'string', type: 'string', id: 3 },
                        path: { type: 'string', id: 4 },
                        host: { type: 'string', id: 5 },
                        scheme: { type: 'string', id: 6 },
                        query: { type: 'string', id: 7 },
                        time: { type: 'google.protobuf.Timestamp', id: 9 },
                        size: { type: 'int64', id: 10 },
                        protocol: { type: 'string', id: 11 },
                        reason: { type: 'string', id: 12 },
                        auth: { type: 'Auth', id: 13 },
                      },
                    },
                    Resource: {
                      fields: {
                        service: { type: 'string', id: 1 },
                        name: { type: 'string', id: 2 },
                        type: { type: 'string', id: 3 },
                        labels: { keyType: 'string', type: 'string', id: 4 },
                        uid: { type: 'string', id: 5 },
                        annotations: { keyType: 'string', type: 'string', id: 6 },
                        displayName: { type: 'string', id: 7 },
                        createTime: { type: 'google.protobuf.Timestamp', id: 8 },
                        updateTime: { type: 'google.protobuf.Timestamp', id: 9 },
                        deleteTime: { type: 'google.protobuf.Timestamp', id: 10 },
                        etag: { type: 'string', id: 11 },
                        location: { type: 'string', id: 12 },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

export const AUDIT_LOG_TYPE_URL = 'type.googleapis.com/google.cloud.audit.AuditLog';

// Loaded on the first Any decoded or encoded (gRPC entries, `backfill vertex`): every CLI command imports this module.
const protobuf = lazyRequire<typeof Protobuf>('protobufjs');

let root: Protobuf.Root | undefined;

/** The protobufjs root with AuditLog and the well-known types it uses. */
export function auditRoot(): Protobuf.Root {
  if (root) return root;
  const r = new (protobuf().Root)();
  for (const file of ['google/protobuf/any.proto', 'google/protobuf/struct.proto', 'google/protobuf/timestamp.proto']) {
    r.addJSON((protobuf().common.get(file) as { nested: Record<string, Protobuf.AnyNestedObject> }).nested);
  }
  r.addJSON(descriptor.nested as Record<string, Protobuf.AnyNestedObject>);
  r.resolveAll();
  root = r;
  return r;
}

/** google.protobuf.Value (as protobufjs / proto-loader render it, with or without the `kind` oneof marker) → plain JSON. */
function valueToJson(v: unknown): unknown {
  if (!isObj(v)) return null;
  if (typeof v.kind === 'string' && v.kind in v) return valueToJson({ [v.kind]: v[v.kind] });
  if ('structValue' in v) return structToJson(v.structValue);
  if ('listValue' in v) return (isObj(v.listValue) && Array.isArray(v.listValue.values) ? v.listValue.values : []).map(valueToJson);
  if ('stringValue' in v) return v.stringValue;
  if ('numberValue' in v) return v.numberValue;
  if ('boolValue' in v) return v.boolValue;
  return null;
}

/** google.protobuf.Struct (`{fields: {k: Value}}`) → plain JSON object. */
export function structToJson(s: unknown): Json {
  const out: Json = {};
  if (!isObj(s) || !isObj(s.fields)) return out;
  for (const [k, v] of Object.entries(s.fields)) out[k] = valueToJson(v);
  return out;
}

/** Convert Timestamp/Struct/Any leaves of a toObject() result into their proto3 JSON forms. */
function toProto3Json(type: Protobuf.Type, obj: Json): Json {
  const out: Json = {};
  for (const [key, val] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field) continue;
    const ft = field.resolvedType;
    const conv = (v: unknown): unknown => {
      if (ft instanceof protobuf().Type && isObj(v)) {
        if (ft.fullName === '.google.protobuf.Struct') return structToJson(v);
        if (ft.fullName === '.google.protobuf.Timestamp') {
          const d = new Date(Number(v.seconds ?? 0) * 1000);
          return `${d.toISOString().slice(0, 19)}.${String(Number(v.nanos ?? 0)).padStart(9, '0')}Z`;
        }
        if (ft.fullName === '.google.protobuf.Any') return decodeAny(v);
        return toProto3Json(ft, v);
      }
      return v;
    };
    out[key] = field.map && isObj(val) ? Object.fromEntries(Object.entries(val).map(([k, v]) => [k, conv(v)])) : Array.isArray(val) ? val.map(conv) : conv(val);
  }
  return out;
}

function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  // A Buffer that went through JSON.stringify: {type:'Buffer', data:[…]}.
  if (isObj(value) && value.type === 'Buffer' && Array.isArray(value.data)) return Uint8Array.from(value.data as number[]);
  return undefined;
}

/** An Any we cannot decode keeps its type and base64 bytes, so nothing is lost. */
function decodeAny(any: Json): Json {
  const typeUrl = String(any.type_url ?? any.typeUrl ?? '');
  const bytes = bytesOf(any.value);
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const type = name ? auditRoot().lookup(name) : null;
  if (type instanceof protobuf().Type && bytes) {
    const msg = type.decode(bytes);
    const plain = type.toObject(msg, { longs: String, enums: String, defaults: false, arrays: false, objects: false }) as Json;
    return { '@type': typeUrl, ...toProto3Json(type, plain) };
  }
  return { '@type': typeUrl, value: bytes ? Buffer.from(bytes).toString('base64') : undefined };
}

/** True for a protobuf Any as gRPC clients hand it over: `{type_url|typeUrl, value}`. */
export function isProtoAny(v: unknown): v is Json {
  return isObj(v) && (typeof v.type_url === 'string' || typeof v.typeUrl === 'string') && 'value' in v && !('@type' in v);
}

/**
 * Decode a protobuf `Any` holding a `google.cloud.audit.AuditLog` into the
 * same JSON the REST API and Pub/Sub export produce (`@type`, camelCase keys,
 * Structs as plain objects, int64 as strings).
 *
 * @example
 * const [entries] = await logging.getEntries({ filter, autoPaginate: false });
 * const payload = decodeAuditLogAny(entries[0].metadata.protoPayload); // { '@type': '…AuditLog', methodName: '…' }
 */
export function decodeAuditLogAny(any: Json): Json {
  return decodeAny(any);
}

/**
 * Encode an AuditLog JSON payload to a protobuf `Any` (what Logging sends
 * over gRPC). Used to round-trip tests and by tools that replay gRPC dumps.
 */
export function encodeAuditLogAny(payload: Json): { type_url: string; value: Buffer } {
  const type = auditRoot().lookupType('google.cloud.audit.AuditLog');
  const { '@type': _t, ...rest } = payload;
  const plain: Json = { ...rest };
  for (const k of ['request', 'response', 'metadata', 'resourceOriginalState']) if (isObj(plain[k])) plain[k] = toStruct(plain[k]);
  if (isObj(plain.status) && Array.isArray(plain.status.details)) plain.status = { ...plain.status, details: [] };
  if (isObj(plain.requestMetadata) && isObj(plain.requestMetadata.requestAttributes)) {
    const ra = { ...plain.requestMetadata.requestAttributes };
    if (typeof ra.time === 'string') {
      const ms = Date.parse(ra.time);
      ra.time = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
    }
    plain.requestMetadata = { ...plain.requestMetadata, requestAttributes: ra };
  }
  const msg = type.fromObject(plain);
  return { type_url: AUDIT_LOG_TYPE_URL, value: Buffer.from(type.encode(msg).finish()) };
}

/** Plain JSON object → google.protobuf.Struct object form (`{fields: {k: {stringValue…}}}`). */
export function toStruct(o: unknown): { fields: Record<string, unknown> } {
  return { fields: Object.fromEntries(Object.entries(isObj(o) ? o : {}).map(([k, v]) => [k, toValue(v)])) };
}

function toValue(v: unknown): unknown {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}
