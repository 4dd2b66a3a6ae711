/** Decoded MLMD messages (int64 as decimal strings, enums as names, unset fields absent). */

export interface MlmdValue {
  int_value?: string;
  double_value?: number;
  string_value?: string;
  struct_value?: PbStruct;
  bool_value?: boolean;
  proto_value?: { type_url?: string };
}

export interface PbStruct {
  fields?: Record<string, PbValue>;
}
export interface PbValue {
  null_value?: string | number;
  number_value?: number;
  string_value?: string;
  bool_value?: boolean;
  struct_value?: PbStruct;
  list_value?: { values?: PbValue[] };
}

interface Node {
  id: string;
  name?: string;
  type_id?: string;
  type?: string;
  external_id?: string;
  properties?: Record<string, MlmdValue>;
  custom_properties?: Record<string, MlmdValue>;
  create_time_since_epoch?: string;
  last_update_time_since_epoch?: string;
}

export interface MlmdArtifact extends Node {
  uri?: string;
  state?: string;
}
export interface MlmdExecution extends Node {
  last_known_state?: string;
}
export type MlmdContext = Node;

export interface MlmdEvent {
  artifact_id?: string;
  execution_id?: string;
  path?: { steps?: Array<{ index?: string; key?: string }> };
  type?: string;
  milliseconds_since_epoch?: string;
}

export interface ListOptions {
  max_result_size?: number;
  order_by_field?: { field?: 'FIELD_UNSPECIFIED' | 'CREATE_TIME' | 'LAST_UPDATE_TIME' | 'ID'; is_asc?: boolean };
  next_page_token?: string;
  filter_query?: string;
}

/** google.protobuf.Value → JSON. */
export function pbValueToJson(v: PbValue | undefined): unknown {
  if (!v) return null;
  if (v.number_value !== undefined) return v.number_value;
  if (v.string_value !== undefined) return v.string_value;
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.struct_value !== undefined) return pbStructToJson(v.struct_value);
  if (v.list_value !== undefined) return (v.list_value.values ?? []).map(pbValueToJson);
  return null;
}

/** google.protobuf.Struct → JSON object. */
export function pbStructToJson(s: PbStruct | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = pbValueToJson(v);
  return out;
}

/** ml_metadata.Value → JSON (int64 as number when safe, else string). */
export function mlmdValueToJson(v: MlmdValue | undefined): unknown {
  if (!v) return undefined;
  if (v.int_value !== undefined) {
    const n = Number(v.int_value);
    return Number.isSafeInteger(n) ? n : v.int_value;
  }
  if (v.double_value !== undefined) return v.double_value;
  if (v.string_value !== undefined) return v.string_value;
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.struct_value !== undefined) return pbStructToJson(v.struct_value);
  if (v.proto_value !== undefined) return { proto: v.proto_value.type_url };
  return undefined;
}

/** A custom property as a string ('' when absent). */
export function customString(node: Node, key: string): string {
  const v = node.custom_properties?.[key];
  return v?.string_value ?? (v?.int_value !== undefined ? String(v.int_value) : '');
}
