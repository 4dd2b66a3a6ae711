import { apiUrl, jsonOf } from '../common.js';
import { SinkHttpClient } from '../http.js';
import { dataStreams, elasticAuth, type ElasticConfig } from './config.js';

const kw = { type: 'keyword', ignore_above: 1024 } as const;
const date = { type: 'date' } as const;
const obj = (properties: Record<string, unknown>) => ({ properties });
/**
 * Longest flattened leaf value (UTF-16 units, as Elasticsearch counts) that is
 * indexed; a longer one stays in _source only. Lucene refuses a term over
 * 32766 bytes and a flattened leaf is indexed as `key\0value`: 8191 units are
 * at most 24573 UTF-8 bytes, which leaves 8 KB for the key path. Without it
 * one long value (a 44 KB SQL parameter) fails the whole document.
 */
export const FLATTENED_IGNORE_ABOVE = 8191;
const flattened = { type: 'flattened', ignore_above: FLATTENED_IGNORE_ABOVE } as const;
const metric = { type: 'double' } as const;

/**
 * Explicit mappings for the ECS fields the ECS mapping writes (ECS 8.x/9.x
 * types, elastic/ecs schemas) and the `mltrail.*` namespace. Free-form parts
 * (`mltrail.details`, `mltrail.raw`, params, tags) are `flattened` so arbitrary
 * platform keys can never explode the mapping or fail a document.
 */
export function ecsMappings(): Record<string, unknown> {
  return {
    dynamic: true,
    // Numbers only: a template without match_mapping_type also matches objects, and mapping an object
    // as double refuses the document. Metrics are JSON numbers (integers arrive as `long`).
    dynamic_templates: [
      { mltrail_metrics: { path_match: 'mltrail.ml.metrics.*', match_mapping_type: 'double', mapping: metric } },
      { mltrail_metrics_long: { path_match: 'mltrail.ml.metrics.*', match_mapping_type: 'long', mapping: metric } },
      { strings_as_keyword: { match_mapping_type: 'string', mapping: kw } },
    ],
    properties: {
      '@timestamp': date,
      message: { type: 'match_only_text' },
      tags: kw,
      labels: { type: 'object' },
      ecs: obj({ version: kw }),
      data_stream: obj({ type: { type: 'constant_keyword' }, dataset: { type: 'constant_keyword' }, namespace: { type: 'constant_keyword' } }),
      event: obj({
        kind: kw, category: kw, type: kw, action: kw, provider: kw, outcome: kw, id: kw, dataset: kw, module: kw, code: kw,
        reason: kw, reference: kw, url: kw,
        severity: { type: 'long' }, risk_score: { type: 'float' }, risk_score_norm: { type: 'float' },
        created: date, ingested: date, start: date, end: date,
        original: { type: 'keyword', index: false, doc_values: false },
      }),
      user: obj({
        id: kw, name: kw, email: kw, domain: kw, roles: kw, full_name: kw,
        target: obj({ id: kw, name: kw, email: kw }),
        effective: obj({ id: kw, name: kw, email: kw }),
        changes: obj({ id: kw, name: kw, email: kw }),
      }),
      source: obj({ ip: { type: 'ip' }, address: kw, domain: kw, port: { type: 'long' } }),
      user_agent: obj({ original: kw }),
      cloud: obj({
        provider: kw, region: kw, availability_zone: kw,
        account: obj({ id: kw, name: kw }),
        project: obj({ id: kw, name: kw }),
        service: obj({ name: kw }),
      }),
      related: obj({ user: kw, ip: { type: 'ip' }, hosts: kw, hash: kw }),
      rule: obj({ id: kw, uuid: kw, name: kw, description: kw, category: kw, ruleset: kw, version: kw, reference: kw, author: kw, license: kw }),
      error: obj({ code: kw, message: { type: 'match_only_text' }, type: kw }),
      client: obj({ user: obj({ id: kw, email: kw, name: kw }) }),
      service: obj({ name: kw }),
      log: obj({ logger: kw, level: kw }),
      gcp: obj({ audit: obj({ resource_name: kw, status: obj({ code: { type: 'long' }, message: kw }) }) }),
      url: obj({ original: kw, full: kw, domain: kw, path: kw }),
      container: obj({ image: obj({ name: kw, tag: kw, hash: obj({ all: kw }) }) }),
      mltrail: obj({
        id: kw, schema_version: kw, platform: kw, channel: kw, stage: kw, action: kw, operation: kw, service: kw, outcome: kw,
        received_time: date,
        actor: obj({ type: kw, mfa: { type: 'boolean' }, chain: kw, session_issuer: kw }),
        resource: obj({ type: kw, id: kw, name: kw, version: kw, uri: kw, namespace: kw }),
        ml: obj({
          model: obj({ name: kw, version: kw, approval: kw, aliases: kw, artifact_uri: kw, sha256: kw, run_id: kw, stage: kw, status: kw, tags: flattened }),
          job: obj({ name: kw, type: kw, image: kw, image_digest: kw, image_pinned: { type: 'boolean' }, role: kw, network_isolation: { type: 'boolean' }, vpc: kw, status: kw, instance_type: kw, kms_key: kw, params: flattened }),
          data: obj({ uris: kw, rows: { type: 'long' }, bytes: { type: 'long' }, schema_hash: kw, inputs: kw, outputs: kw }),
          code: obj({ repo: kw, commit: kw, source: kw }),
          // traffic is a number or a per-variant map: kept in _source, not indexed.
          // variants[].weight is fractional: mapped first-wins it would be `long` after a weight of 1 (0.9 → 0).
          deployment: obj({
            endpoint: kw, variant: kw, model_uri: kw, traffic: { type: 'object', enabled: false },
            variants: obj({ name: kw, model: kw, weight: { type: 'double' }, instance_count: { type: 'long' } }),
          }),
          provenance: obj({ run_id: kw, pipeline: kw, pipeline_version: kw, step: kw, parent_run_id: kw, inputs: kw, outputs: kw, pipeline_run: kw }),
          // Metric and feature names carry dots (`skew.age`) and share prefixes (`loss`, `loss.val`):
          // without subobjects ES would need `skew` / `loss` as objects and refuse the document (ES >= 8.3).
          metrics: { type: 'object', subobjects: false },
        }),
        alert: obj({ rule_id: kw, severity: kw, mode: kw, evidence: kw, count: { type: 'long' }, first_seen: date, last_seen: date, entity: obj({ type: kw, id: kw, name: kw, platform: kw }), details: flattened }),
        details: flattened,
        raw: flattened,
      }),
    },
  };
}

/** The final ingest pipeline of both data streams (`index.final_pipeline`). */
export const FINAL_PIPELINE = 'mltrail@final';

/**
 * The final pipeline: stamps `event.ingested` with the time the cluster
 * ingested the document. Elastic's prebuilt rules (External Alerts among
 * them: a 1-minute interval looking back 2 minutes) use
 * `timestamp_override: event.ingested` and fall back to `@timestamp` when it
 * is missing; mltrail's `@timestamp` is the event time (an alert's: the time
 * of the event that triggered it), minutes old for CloudTrail delivered
 * through S3, hours for a replay or a backfill — without `event.ingested`
 * those documents are never inside any rule's look-back window.
 */
export function finalPipeline(): Record<string, unknown> {
  return {
    description: 'mltrail: event.ingested = ingest time (what Elastic Security rules search on)',
    processors: [{ set: { field: 'event.ingested', value: '{{{_ingest.timestamp}}}', tag: 'mltrail-event-ingested' } }],
    _meta: { managed_by: 'mltrail' },
  };
}

export interface SetupRequest {
  method: 'PUT' | 'POST';
  path: string;
  body?: unknown;
  /** Answers that mean "already there" and are fine. */
  okIf?: (status: number, body: string) => boolean;
}

/**
 * The requests `mltrail setup elastic` makes: the final ingest pipeline
 * (`event.ingested`), component templates (settings + mappings), one index template with `data_stream` enabled covering both
 * streams (priority 200, above the built-in `logs-*-*` at 100), then the data
 * streams themselves. All PUTs are idempotent. A backing index keeps the
 * mappings it was created with, so after an upgrade `rollover` also rolls both
 * streams over: the next documents land in an index with the new mappings.
 *
 * @example
 * for (const r of setupRequests(cfg)) console.log(r.method, r.path)
 */
export function setupRequests(cfg: ElasticConfig, opts: { rollover?: boolean } = {}): SetupRequest[] {
  const ds = dataStreams(cfg);
  const d = cfg.data_stream;
  return [
    {
      // Before the template that names it: an index whose final pipeline is missing refuses every document.
      method: 'PUT',
      path: `/_ingest/pipeline/${FINAL_PIPELINE}`,
      body: finalPipeline(),
    },
    {
      method: 'PUT',
      path: '/_component_template/mltrail@settings',
      body: {
        template: {
          settings: {
            // event.ingested = when the cluster stored the document, as Elastic's own integrations set it
            // (.fleet_final_pipeline). Elastic Security rules search on it (timestamp_override), falling back to
            // @timestamp — the event's time — without it; runs after any `pipeline` the sink names.
            'index.final_pipeline': FINAL_PIPELINE,
            // Like Elastic's logs@settings: a malformed value is kept in _source instead of failing the document.
            'index.mapping.ignore_malformed': true,
            'index.mapping.total_fields.limit': 2000,
            // Every new metric/feature name is a field: past the limit ES would refuse each later document.
            // With this (ES >= 8.13) new fields beyond it stay in _source, listed in `_ignored`.
            'index.mapping.total_fields.ignore_dynamic_beyond_limit': true,
          },
        },
        _meta: { managed_by: 'mltrail', description: 'settings for mltrail data streams' },
      },
    },
    {
      method: 'PUT',
      path: '/_component_template/mltrail@mappings',
      body: { template: { mappings: ecsMappings() }, _meta: { managed_by: 'mltrail', description: 'ECS + mltrail.* mappings' } },
    },
    {
      method: 'PUT',
      path: '/_index_template/mltrail',
      body: {
        index_patterns: [`${d.type}-${d.events_dataset}-*`, `${d.type}-${d.alerts_dataset}-*`],
        data_stream: {},
        priority: 200,
        composed_of: ['mltrail@settings', 'mltrail@mappings'],
        _meta: { managed_by: 'mltrail', description: 'mltrail events and alerts (ECS)' },
      },
    },
    ...[ds.events, ds.alerts].map(
      (name): SetupRequest => ({
        method: 'PUT',
        path: `/_data_stream/${name}`,
        okIf: (status, body) => status === 400 && /resource_already_exists_exception/.test(body),
      }),
    ),
    ...(opts.rollover ? [ds.events, ds.alerts].map((name): SetupRequest => ({ method: 'POST', path: `/${name}/_rollover` })) : []),
  ];
}

/**
 * Run the setup requests against the cluster; returns one line per request.
 * Throws with the cluster's error on the first failure.
 */
export async function runSetup(cfg: ElasticConfig, signal: AbortSignal, opts: { rollover?: boolean } = {}): Promise<string[]> {
  const http = new SinkHttpClient({ connections: 1, tls: cfg.tls });
  const lines: string[] = [];
  try {
    for (const r of setupRequests(cfg, opts)) {
      const res = await http.post(
        apiUrl(cfg.url, r.path),
        r.body === undefined ? '' : JSON.stringify(r.body),
        { authorization: elasticAuth(cfg), 'content-type': 'application/json', accept: 'application/json' },
        signal,
        { method: r.method },
      );
      if (res.status >= 200 && res.status < 300) lines.push(`${r.method} ${r.path}: ${res.status} ok`);
      else if (r.okIf?.(res.status, res.text)) {
        lines.push(`${r.method} ${r.path}: already exists${opts.rollover ? '' : ' (changed mappings apply from its next rollover: --rollover)'}`);
      }
      else {
        const e = (jsonOf<{ error?: { type?: string; reason?: string } }>(res.text) ?? {}).error;
        throw new Error(`${r.method} ${r.path}: HTTP ${res.status}${e ? ` ${e.type}: ${e.reason}` : ` ${res.text.slice(0, 200)}`}`);
      }
    }
  } finally {
    await http.close();
  }
  return lines;
}
