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
  /** Ingest pipelines by id (PUT /_ingest/pipeline/<id>); a data stream's `index.final_pipeline` runs its `set` processors. */
  readonly pipelines = new Map<string, { processors?: Array<Record<string, { field?: string; value?: unknown }>> }>();
  readonly dataStreams = new Set<string>();
  /** Answer an item with this instead of indexing it (once per call). */
  itemFault: (id: string, attempt: number) => Item | undefined = () => undefined;
  /** Index the request, then drop the connection before answering (a lost response). */
  loseNextResponse = 0;
  private attempts = new Map<string, number>();
  /** Each data stream's backing-index mapping, made from the templates when its first document arrives. */
  readonly mappings = new Map<string, FakeMapping>();
  private readonly generations = new Map<string, number>();

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
    const rollover = /^\/([^/]+)\/_rollover$/.exec(r.path);
    if (r.method === 'POST' && rollover) return this.rollover(rollover[1]!);
    if (r.method !== 'POST' || r.path !== '/_bulk') return { status: 404, json: { error: { type: 'resource_not_found_exception', reason: `no handler for ${r.method} ${r.path}` }, status: 404 } };
    const ct = String(r.headers['content-type'] ?? '');
    if (!/^application\/(x-ndjson|json)/.test(ct)) return { status: 406, json: { error: `Content-Type header [${ct}] is not supported`, status: 406 } };
    if (!r.body.endsWith('\n')) return { status: 400, json: readFixtureJson('sinks', 'elasticsearch', 'error_400_missing_newline.json') };
    const lines = r.body.slice(0, -1).split('\n');
    // BulkRequest.validate(): one over-long _id fails the whole request.
    const longIds = lines.filter((_, k) => k % 2 === 0).map((l) => (Object.values(JSON.parse(l) as Record<string, { _id?: string }>)[0] ?? {})._id ?? '').filter((id) => Buffer.byteLength(id) > 512);
    if (longIds.length) {
      const reason = `Validation Failed: ${longIds.map((id, i) => `${i + 1}: id [${id}] is too long, must be no longer than 512 bytes but was: ${Buffer.byteLength(id)};`).join('')}`;
      return { status: 400, json: { error: { type: 'action_request_validation_exception', reason }, status: 400 } };
    }
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
    const finalPipeline = this.settingsOf(index)['index.final_pipeline'];
    if (typeof finalPipeline === 'string') {
      const p = this.pipelines.get(finalPipeline);
      if (!p) return { ...base, status: 400, error: { type: 'illegal_argument_exception', reason: `pipeline with id [${finalPipeline}] does not exist` } };
      for (const proc of p.processors ?? []) {
        const set = proc.set;
        if (!set?.field) continue;
        const value = set.value === '{{{_ingest.timestamp}}}' ? new Date().toISOString() : set.value;
        const path = set.field.split('.');
        let o = source as Record<string, unknown>;
        for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
        o[path.at(-1)!] = value;
      }
    }
    const conflict = this.mappingOf(index)?.index(source);
    if (conflict) return { ...base, status: 400, error: { type: 'document_parsing_exception', reason: `[1:1] ${conflict} in document with id '${id}'` } };
    const ds = this.docs.get(index) ?? new Map();
    this.docs.set(index, ds);
    this.dataStreams.add(index);
    if (ds.has(id)) return { ...base, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])` } };
    ds.set(id, source);
    this.creates.push(id);
    return { ...base, status: 201, result: 'created' };
  }

  /** The backing index's mapping: the template's component templates' mappings and settings, then grown by documents. */
  mappingOf(index: string): FakeMapping | undefined {
    let m = this.mappings.get(index);
    if (m) return m;
    const t = this.matchTemplate(index);
    const parts = ((t?.composed_of as string[] | undefined) ?? []).map((c) => (this.componentTemplates.get(c) as { template?: { mappings?: Mappings; settings?: Record<string, unknown> } })?.template);
    const mappings = parts.find((p) => p?.mappings?.properties)?.mappings;
    if (!mappings) return undefined;
    m = new FakeMapping(mappings, Object.assign({}, ...parts.map((p) => p?.settings ?? {})));
    this.mappings.set(index, m);
    return m;
  }

  /** The index settings the matching template's component templates give. */
  settingsOf(index: string): Record<string, unknown> {
    const t = this.matchTemplate(index);
    const parts = ((t?.composed_of as string[] | undefined) ?? []).map((c) => (this.componentTemplates.get(c) as { template?: { settings?: Record<string, unknown> } })?.template);
    return Object.assign({}, ...parts.map((p) => p?.settings ?? {}));
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

  /** A new write index: it takes the templates as they are now (existing documents stay where they are). */
  private rollover(name: string): FakeReply {
    if (!this.dataStreams.has(name)) return { status: 404, json: { error: { type: 'index_not_found_exception', reason: `no such index [${name}]` }, status: 404 } };
    const generation = (this.generations.get(name) ?? 1) + 1;
    this.generations.set(name, generation);
    this.mappings.delete(name);
    const idx = (g: number) => `.ds-${name}-${String(g).padStart(6, '0')}`;
    return { status: 200, json: { acknowledged: true, shards_acknowledged: true, old_index: idx(generation - 1), new_index: idx(generation), rolled_over: true, dry_run: false, lazy: false, conditions: {} } };
  }

  private put(r: FakeRequest): FakeReply {
    const [, kind, name] = r.path.split('/');
    const json = () => JSON.parse(r.body || '{}') as Record<string, unknown>;
    const pipeline = /^\/_ingest\/pipeline\/([^/]+)$/.exec(r.path);
    if (pipeline) {
      const b = json();
      if (!Array.isArray(b.processors)) return { status: 400, json: { error: { type: 'parse_exception', reason: '[processors] required property is missing' }, status: 400 } };
      this.pipelines.set(pipeline[1]!, b as never);
      return { status: 200, json: { acknowledged: true } };
    }
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
  dynamic_templates?: Array<Record<string, { path_match?: string; match_mapping_type?: string | string[]; mapping: FieldMapping }>>;
}
interface FieldMapping {
  type?: string;
  properties?: Record<string, FieldMapping>;
  enabled?: boolean;
  subobjects?: boolean;
  dynamic?: boolean | string;
  ignore_above?: number;
}

const isDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const glob = (pattern: string, path: string) => new RegExp(`^${pattern.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(path);
/** Lucene's IndexWriter.MAX_TERM_LENGTH. */
const MAX_TERM_BYTES = 32766;

function countFields(m: FieldMapping): number {
  let n = 0;
  for (const c of Object.values(m.properties ?? {})) n += 1 + countFields(c);
  return n;
}

/**
 * One backing index's mapping as Elasticsearch (8.13+) grows it, from the
 * index template's mappings and settings: dotted keys expand into objects
 * unless the parent has `subobjects: false` (then they are leaf names and an
 * object value is flattened into them); a new field takes the first dynamic
 * template whose `path_match` and `match_mapping_type` fit (a template
 * without `match_mapping_type` also takes objects — mapping one as a scalar
 * refuses the document), else the default type (long / float / keyword /
 * object), and keeps it (first wins); past `index.mapping.total_fields.limit`
 * the document is refused unless `ignore_dynamic_beyond_limit`; a keyword or
 * flattened leaf longer than `ignore_above` is skipped, else one over
 * Lucene's 32766-byte term limit (flattened: `key\0value`) refuses the
 * document. ignore_malformed is deliberately not applied, so a type clash
 * shows up here instead of silently losing the field. A fraction into a
 * `long` is truncated as ES coerces it (listed in `truncated`).
 */
export class FakeMapping {
  root: FieldMapping;
  readonly truncated: string[] = [];
  private readonly limit: number;
  private readonly ignoreBeyond: boolean;

  constructor(
    private readonly mappings: Mappings,
    settings: Record<string, unknown> = {},
  ) {
    this.root = { properties: structuredClone(mappings.properties ?? {}) };
    this.limit = Number(settings['index.mapping.total_fields.limit'] ?? 1000);
    this.ignoreBeyond = settings['index.mapping.total_fields.ignore_dynamic_beyond_limit'] === true;
  }

  /** Index a document: undefined when taken (its new fields join the mapping), else the reason ES refuses it. */
  index(doc: Record<string, unknown>): string | undefined {
    const root = structuredClone(this.root);
    const state = { fields: countFields(root), truncated: [] as string[] };
    const problem = this.object(root, doc, '', state);
    if (problem) return problem;
    this.root = root;
    this.truncated.push(...state.truncated);
    return undefined;
  }

  /** The mapping at a field path (leaf names under `subobjects: false` keep their dots). */
  at(path: string): FieldMapping | undefined {
    const walk = (m: FieldMapping, rest: string): FieldMapping | undefined => {
      if (m.properties?.[rest]) return m.properties[rest];
      for (const [k, c] of Object.entries(m.properties ?? {})) if (rest.startsWith(`${k}.`)) return walk(c, rest.slice(k.length + 1));
      return undefined;
    };
    return walk(this.root, path);
  }

  private object(parent: FieldMapping, value: Record<string, unknown>, prefix: string, st: { fields: number; truncated: string[] }): string | undefined {
    for (const [k, v] of Object.entries(value)) {
      const p = this.field(parent, k, v, prefix, st);
      if (p) return p;
    }
    return undefined;
  }

  private field(parent: FieldMapping, key: string, v: unknown, prefix: string, st: { fields: number; truncated: string[] }): string | undefined {
    if (v === null) return undefined;
    if (Array.isArray(v)) {
      for (const x of v) {
        const p = this.field(parent, key, x, prefix, st);
        if (p) return p;
      }
      return undefined;
    }
    const flat = parent.subobjects === false;
    if (!flat && key.includes('.')) {
      const [head, ...rest] = key.split('.');
      return this.field(parent, head!, { [rest.join('.')]: v }, prefix, st);
    }
    const path = prefix + key;
    const isObj = typeof v === 'object';
    let m = parent.properties?.[key];
    if (!m) {
      if (flat && isObj) {
        for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
          const p = this.field(parent, `${key}.${k2}`, v2, prefix, st);
          if (p) return p;
        }
        return undefined;
      }
      if (parent.dynamic === false || parent.dynamic === 'false') return undefined;
      const made = this.dynamicMapping(path, v);
      if (typeof made === 'string') return made;
      if (st.fields + 1 > this.limit) {
        if (this.ignoreBeyond) return undefined;
        return `Limit of total fields [${this.limit}] has been exceeded while adding new fields [1]`;
      }
      st.fields++;
      m = made;
      (parent.properties ??= {})[key] = m;
    }
    if (m.enabled === false) return undefined;
    if (m.type === 'flattened') return isObj ? this.flattened(path, m, v as Record<string, unknown>) : `failed to parse field [${path}] of type [flattened]`;
    if (m.properties || m.type === 'object' || m.type === undefined) {
      if (!isObj) return `object mapping for [${path}] tried to parse field [${key}] as object, but found a concrete value`;
      return this.object(m, v as Record<string, unknown>, `${path}.`, st);
    }
    if (isObj) return `failed to parse field [${path}] of type [${m.type}]`;
    return this.leaf(path, m, v, st);
  }

  private dynamicMapping(path: string, v: unknown): FieldMapping | string {
    const jt = typeof v === 'object' ? 'object' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'boolean' : Number.isInteger(v) ? 'long' : 'double';
    for (const dt of this.mappings.dynamic_templates ?? []) {
      const t = Object.values(dt)[0]!;
      if (t.path_match && !glob(t.path_match, path)) continue;
      const mmt = t.match_mapping_type;
      if (mmt !== undefined && mmt !== '*' && !([] as string[]).concat(mmt).includes(jt)) continue;
      const mapping = structuredClone(t.mapping);
      if (jt === 'object' && mapping.type && mapping.type !== 'object') return `failed to parse field [${path}] of type [${mapping.type}]`;
      return jt === 'object' ? { ...mapping, properties: {} } : mapping;
    }
    return jt === 'object' ? { properties: {} } : { type: jt === 'string' ? 'keyword' : jt === 'double' ? 'float' : jt };
  }

  private flattened(path: string, m: FieldMapping, v: Record<string, unknown>): string | undefined {
    const leaves = (x: unknown, key: string, depth: number): string | undefined => {
      if (x === null) return undefined;
      if (Array.isArray(x)) {
        for (const e of x) {
          const p = leaves(e, key, depth);
          if (p) return p;
        }
        return undefined;
      }
      if (typeof x === 'object') {
        if (depth > 20) return `The provided [flattened] field [${path}] exceeds the maximum depth limit of [20].`;
        for (const [k, e] of Object.entries(x as Record<string, unknown>)) {
          const p = leaves(e, key ? `${key}.${k}` : k, depth + 1);
          if (p) return p;
        }
        return undefined;
      }
      const value = String(x);
      if (value.length > (m.ignore_above ?? Infinity)) return undefined;
      if (Buffer.byteLength(`${key}\0${value}`) > MAX_TERM_BYTES) {
        return `Flattened field [${path}] contains one immense field whose keyed encoding is longer than the allowed max length of ${MAX_TERM_BYTES} bytes`;
      }
      return undefined;
    };
    return leaves(v, '', 1);
  }

  private leaf(path: string, m: FieldMapping, v: unknown, st: { truncated: string[] }): string | undefined {
    const bad = (t: string) => `failed to parse field [${path}] of type [${t}]`;
    switch (m.type) {
      case 'keyword': {
        const s = String(v);
        if (s.length > (m.ignore_above ?? Infinity)) return undefined;
        return Buffer.byteLength(s) > MAX_TERM_BYTES ? `Document contains at least one immense term in field="${path}"` : undefined;
      }
      case 'constant_keyword':
      case 'match_only_text':
      case 'text':
        return undefined;
      case 'ip':
        return typeof v === 'string' && isIP(v) ? undefined : bad('ip');
      case 'date':
        return isDate(v) ? undefined : bad('date');
      case 'long':
        if (typeof v !== 'number') return bad('long');
        if (!Number.isInteger(v)) st.truncated.push(path);
        return undefined;
      case 'double':
      case 'float':
        return typeof v === 'number' ? undefined : bad(m.type);
      case 'boolean':
        return typeof v === 'boolean' ? undefined : bad('boolean');
      default:
        return undefined;
    }
  }
}

/** How a fresh index under `mappings` would refuse `doc`, or undefined when it fits (see FakeMapping). */
export function mappingProblem(mappings: Mappings, doc: Record<string, unknown>, settings: Record<string, unknown> = {}): string | undefined {
  return new FakeMapping(mappings, settings).index(doc);
}
