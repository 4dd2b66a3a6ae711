import { isIP } from 'node:net';
import { readFixtureJson } from '../../../helpers/fixtures.js';
import { FakeHttp, type FakeReply, type FakeRequest } from '../helpers.js';

type Item = { status: number; error?: { type: string; reason: string }; _id?: string; _index?: string; result?: string; failure_store?: string };

/**
 * A strict Elasticsearch written from specs/sinks.md §2: ApiKey/Basic auth
 * (401/403 with the real error envelope), `_bulk` NDJSON that must end in a
 * newline, action/source pairs, data streams that accept only `create` and
 * need `@timestamp`, `create` on an existing `_id` → 409, an `ip` mapping on
 * `source.ip` (document_parsing_exception), `filter_path` applied to the
 * response, index templates / data streams for `mltrail setup elastic`.
 */
export class FakeElastic extends FakeHttp {
  apiKey = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
  /** API keys that authenticate but lack the write privilege (→ 403). */
  readOnlyKeys: string[] = [];
  /** Documents by data stream, then _id (each create counted). */
  readonly docs = new Map<string, Map<string, Record<string, unknown>>>();
  readonly creates: string[] = [];
  /** Index templates: name → body. Elastic ships `logs` (logs-*-*, data_stream). */
  readonly templates = new Map<string, Record<string, unknown>>([['logs', { index_patterns: ['logs-*-*'], data_stream: {}, priority: 100 }]]);
  readonly componentTemplates = new Map<string, unknown>();
  readonly dataStreams = new Set<string>();
  /** Answer an item with this instead of indexing it (once per call). */
  itemFault: (id: string, attempt: number) => Item | undefined = () => undefined;
  /** Index the request, then drop the connection before answering (a lost response). */
  loseNextResponse = 0;
  private attempts = new Map<string, number>();

  constructor() {
    super((r) => this.handle(r));
  }

  ids(): string[] {
    return this.creates;
  }

  bulkRequests(): FakeRequest[] {
    return this.requests.filter((r) => r.path === '/_bulk');
  }

  private authError(r: FakeRequest, write: boolean): FakeReply | undefined {
    const h = r.headers.authorization ?? '';
    const m = /^ApiKey (.+)$/.exec(h);
    if (!m || (m[1] !== this.apiKey && !this.readOnlyKeys.includes(m[1]!))) {
      return { status: 401, json: readFixtureJson('sinks', 'elasticsearch', 'error_401_security.json'), headers: { 'www-authenticate': 'ApiKey' } };
    }
    if (write && this.readOnlyKeys.includes(m[1]!)) return { status: 403, json: readFixtureJson('sinks', 'elasticsearch', 'error_403_unauthorized_action.json') };
    return undefined;
  }

  private handle(r: FakeRequest): FakeReply {
    const denied = this.authError(r, true);
    if (denied) return denied;
    if (r.method === 'PUT') return this.put(r);
    if (r.method !== 'POST' || r.path !== '/_bulk') return { status: 404, json: { error: { type: 'resource_not_found_exception', reason: `no handler for ${r.method} ${r.path}` }, status: 404 } };
    const ct = String(r.headers['content-type'] ?? '');
    if (!/^application\/(x-ndjson|json)/.test(ct)) return { status: 406, json: { error: `Content-Type header [${ct}] is not supported`, status: 406 } };
    if (!r.body.endsWith('\n')) return { status: 400, json: readFixtureJson('sinks', 'elasticsearch', 'error_400_missing_newline.json') };
    const lines = r.body.slice(0, -1).split('\n');
    const items: Array<Record<string, Item>> = [];
    for (let k = 0; k < lines.length; k += 2) {
      let action: Record<string, { _index?: string; _id?: string }>;
      let source: Record<string, unknown>;
      try {
        action = JSON.parse(lines[k]!);
        source = JSON.parse(lines[k + 1] ?? '');
      } catch {
        return { status: 400, json: { error: { type: 'x_content_parse_exception', reason: `malformed line ${k + 1}` }, status: 400 } };
      }
      const op = Object.keys(action);
      if (op.length !== 1 || !['create', 'index', 'update', 'delete'].includes(op[0]!)) {
        return { status: 400, json: { error: { type: 'illegal_argument_exception', reason: `Malformed action/metadata line [${k + 1}]` }, status: 400 } };
      }
      const meta = action[op[0]!]!;
      items.push({ [op[0]!]: this.index(op[0]!, meta._index ?? '', meta._id, source) });
    }
    const body = { took: 3, errors: items.some((i) => Object.values(i)[0]!.status >= 300), items };
    if (this.loseNextResponse > 0) {
      this.loseNextResponse--;
      return 'reset';
    }
    const filter = r.query.get('filter_path');
    return { status: 200, json: filter ? applyFilterPath(body, filter) : body };
  }

  private index(op: string, index: string, id: string | undefined, source: Record<string, unknown>): Item {
    const base = { _index: `.ds-${index}-000001`, _id: id };
    const isDataStream = this.dataStreams.has(index) || this.matchTemplate(index)?.data_stream !== undefined;
    if (!isDataStream && !this.docs.has(index)) return { ...base, status: 404, error: { type: 'index_not_found_exception', reason: `no such index [${index}]` } };
    if (isDataStream && op !== 'create') return { ...base, status: 400, error: { type: 'illegal_argument_exception', reason: 'only write ops with an op_type of create are allowed in data streams' } };
    if (!id) return { ...base, status: 400, error: { type: 'action_request_validation_exception', reason: 'mltrail requires an _id' } };
    const attempt = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, attempt);
    const fault = this.itemFault(id, attempt);
    if (fault) return { ...base, ...fault };
    if (isDataStream && typeof source['@timestamp'] !== 'string') {
      return { ...base, status: 400, error: { type: 'document_parsing_exception', reason: 'data stream timestamp field [@timestamp] is missing' } };
    }
    const ip = (source.source as { ip?: unknown } | undefined)?.ip;
    if (ip !== undefined && (typeof ip !== 'string' || !isIP(ip))) {
      return { ...base, status: 400, error: { type: 'document_parsing_exception', reason: `[1:1] failed to parse field [source.ip] of type [ip] in document with id '${id}'. Preview of field's value: '${String(ip)}'` } };
    }
    const mappings = this.mappingsFor(index);
    const conflict = mappings ? mappingProblem(mappings, source) : undefined;
    if (conflict) return { ...base, status: 400, error: { type: 'document_parsing_exception', reason: `[1:1] ${conflict} in document with id '${id}'` } };
    const ds = this.docs.get(index) ?? new Map();
    this.docs.set(index, ds);
    this.dataStreams.add(index);
    if (ds.has(id)) return { ...base, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])` } };
    ds.set(id, source);
    this.creates.push(id);
    return { ...base, status: 201, result: 'created' };
  }

  /** Merged mappings of the template's component templates (what the backing index would get). */
  private mappingsFor(index: string): Mappings | undefined {
    const t = this.matchTemplate(index);
    const parts = ((t?.composed_of as string[] | undefined) ?? []).map((c) => (this.componentTemplates.get(c) as { template?: { mappings?: Mappings } })?.template?.mappings);
    return parts.find((m) => m?.properties);
  }

  private matchTemplate(index: string): Record<string, unknown> | undefined {
    let best: Record<string, unknown> | undefined;
    for (const t of this.templates.values()) {
      const pats = t.index_patterns as string[];
      if (pats.some((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(index))) {
        if (!best || Number(t.priority ?? 0) > Number(best.priority ?? 0)) best = t;
      }
    }
    return best;
  }

  private put(r: FakeRequest): FakeReply {
    const [, kind, name] = r.path.split('/');
    const json = () => JSON.parse(r.body || '{}') as Record<string, unknown>;
    if (kind === '_component_template' && name) {
      const b = json();
      if (!b.template) return { status: 400, json: { error: { type: 'x_content_parse_exception', reason: 'missing template' }, status: 400 } };
      this.componentTemplates.set(name, b);
      return { status: 200, json: { acknowledged: true } };
    }
    if (kind === '_index_template' && name) {
      const b = json();
      const missing = ((b.composed_of as string[] | undefined) ?? []).filter((c) => !this.componentTemplates.has(c));
      if (missing.length) return { status: 400, json: { error: { type: 'invalid_index_template_exception', reason: `index template [${name}] specifies component templates ${JSON.stringify(missing)} that do not exist` }, status: 400 } };
      if (!Array.isArray(b.index_patterns)) return { status: 400, json: { error: { type: 'action_request_validation_exception', reason: 'index patterns are missing' }, status: 400 } };
      this.templates.set(name, b);
      return { status: 200, json: { acknowledged: true } };
    }
    if (kind === '_data_stream' && name) {
      if (this.dataStreams.has(name)) return { status: 400, json: { error: { type: 'resource_already_exists_exception', reason: `data_stream [${name}] already exists` }, status: 400 } };
      if (this.matchTemplate(name)?.data_stream === undefined) return { status: 400, json: { error: { type: 'illegal_argument_exception', reason: `no matching index template found for data stream [${name}]` }, status: 400 } };
      this.dataStreams.add(name);
      return { status: 200, json: { acknowledged: true } };
    }
    return { status: 404, json: { error: { type: 'resource_not_found_exception', reason: r.path }, status: 404 } };
  }
}

/** Elasticsearch `filter_path` for the shapes used here (`a`, `a.*.b`, `a.*.b.c`). */
export function applyFilterPath(body: Record<string, unknown>, filter: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of filter.split(',')) {
    const parts = path.split('.');
    if (parts.length === 1) {
      if (parts[0]! in body) out[parts[0]!] = body[parts[0]!];
      continue;
    }
    const [arrKey, star, ...rest] = parts;
    if (star !== '*' || !Array.isArray(body[arrKey!])) continue;
    const src = body[arrKey!] as Array<Record<string, unknown>>;
    const dst = (out[arrKey!] ??= src.map(() => ({}))) as Array<Record<string, unknown>>;
    src.forEach((item, i) => {
      for (const [op, v] of Object.entries(item)) {
        let s: unknown = v;
        for (const p of rest) s = (s as Record<string, unknown> | undefined)?.[p];
        if (s === undefined) continue;
        let d = ((dst[i]![op] ??= {}) as Record<string, unknown>);
        for (const p of rest.slice(0, -1)) d = (d[p] ??= {}) as Record<string, unknown>;
        d[rest.at(-1)!] = s;
      }
    });
  }
  // An item with nothing selected disappears from the array (which is why filter_path must pick status).
  for (const [k, v] of Object.entries(out)) if (Array.isArray(v)) out[k] = v.filter((x) => Object.keys(x as object).length > 0);
  return out;
}

interface Mappings {
  properties?: Record<string, FieldMapping>;
  dynamic_templates?: Array<Record<string, { path_match?: string; match_mapping_type?: string; mapping: FieldMapping }>>;
}
interface FieldMapping {
  type?: string;
  properties?: Record<string, FieldMapping>;
  enabled?: boolean;
}

const isDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/**
 * How Elasticsearch would refuse `doc` under `mappings` (explicit field types
 * and dynamic templates; ignore_malformed is deliberately not applied, so a
 * type clash shows up here instead of silently losing the field): an object
 * where a value is mapped or the reverse, a non-IP in an `ip` field, a
 * non-number in a numeric one, and so on. Undefined when it fits.
 */
export function mappingProblem(mappings: Mappings, doc: Record<string, unknown>): string | undefined {
  const dynamic = (path: string, v: unknown): FieldMapping | undefined => {
    for (const dt of mappings.dynamic_templates ?? []) {
      const t = Object.values(dt)[0]!;
      if (t.path_match && new RegExp(`^${t.path_match.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(path)) return t.mapping;
      if (t.match_mapping_type === 'string' && typeof v === 'string') return t.mapping;
    }
    return undefined;
  };
  const leaf = (path: string, m: FieldMapping, v: unknown): string | undefined => {
    if (Array.isArray(v)) {
      for (const x of v) {
        const p = leaf(path, m, x);
        if (p) return p;
      }
      return undefined;
    }
    if (v === null) return undefined;
    const bad = (t: string) => `failed to parse field [${path}] of type [${t}]`;
    switch (m.type) {
      case 'keyword':
      case 'constant_keyword':
      case 'match_only_text':
      case 'text':
        return typeof v === 'object' ? `tried to parse field [${path}] as a ${m.type}, but found an object` : undefined;
      case 'ip':
        return typeof v === 'string' && isIP(v) ? undefined : bad('ip');
      case 'date':
        return isDate(v) ? undefined : bad('date');
      case 'long':
        return typeof v === 'number' && Number.isInteger(v) ? undefined : bad('long');
      case 'double':
      case 'float':
        return typeof v === 'number' ? undefined : bad(m.type);
      case 'boolean':
        return typeof v === 'boolean' ? undefined : bad('boolean');
      case 'flattened':
        return typeof v === 'object' ? undefined : bad('flattened');
      default:
        return undefined;
    }
  };
  const walk = (props: Record<string, FieldMapping> | undefined, obj: Record<string, unknown>, prefix: string): string | undefined => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${k}` : k;
      const m = props?.[k] ?? dynamic(path, v);
      if (m?.enabled === false) continue;
      if (m?.properties || (m?.type === 'object' && !m.properties)) {
        if (v === null) continue;
        if (typeof v !== 'object' || Array.isArray(v)) {
          if (m.type === 'object' && !m.properties) continue;
          return `object mapping for [${path}] tried to parse field [${path}] as object, but found a concrete value`;
        }
        const p = walk(m.properties, v as Record<string, unknown>, path);
        if (p) return p;
        continue;
      }
      if (m?.type) {
        const p = leaf(path, m, v);
        if (p) return p;
        continue;
      }
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const p = walk(undefined, v as Record<string, unknown>, path);
        if (p) return p;
      }
    }
    return undefined;
  };
  return walk(mappings.properties, doc, '');
}
