import type { CliCommand, CliIo } from '../../../core/connector.js';
import { MltrailError } from '../../../core/errors.js';
import { loadConfig } from '../../config.js';
import { common, parse } from '../../cli/args.js';
import { ElasticConfig } from './config.js';
import { runSetup, setupRequests } from './setup.js';

export const setupElasticUsage = `mltrail setup elastic [--config FILE] [--sink NAME] [--rollover] [--dry-run]

Install the final ingest pipeline mltrail@final (sets event.ingested), the
index template (ECS + mltrail.* mappings) and create the data streams the
Elastic sink writes to (logs-mltrail.events-<ns>, logs-mltrail.alerts-<ns>).
Idempotent: safe to run again after an upgrade. Uses the sink's config
(sinks.<NAME>, default the first of type elastic) or MLTRAIL_ELASTIC_URL +
MLTRAIL_ELASTIC_API_KEY. The key needs the manage_index_templates and
manage_ingest_pipelines cluster privileges and create_index on the streams.
Needs Elasticsearch 8.13 or later.

  --rollover  also roll both data streams over, so changed mappings (after an
              upgrade) apply to the next documents; needs manage on the streams
  --dry-run   print the requests (method, path, JSON body) instead of sending them`;

/**
 * `mltrail setup elastic`.
 *
 * @example
 * MLTRAIL_ELASTIC_URL=https://es:9200 MLTRAIL_ELASTIC_API_KEY=… mltrail setup elastic
 */
export async function setupElasticCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { config: common.config, help: common.help, sink: { type: 'string' }, 'dry-run': { type: 'boolean' }, rollover: { type: 'boolean' } });
  if (values.help) return (io.stdout.write(`${setupElasticUsage}\n`), 0);
  const cfg = loadConfig({ file: values.config, env: io.env });
  const entry = cfg.sinks.find((s) => (values.sink ? s.name === values.sink : s.type === 'elastic'));
  if (!entry || entry.type !== 'elastic') {
    throw new MltrailError('CONFIG', values.sink ? `sinks.${values.sink} is not an elastic sink` : 'no elastic sink configured: set MLTRAIL_ELASTIC_URL and MLTRAIL_ELASTIC_API_KEY (or sinks.elastic in the config file)', { variable: 'MLTRAIL_ELASTIC_URL' });
  }
  const ecfg = ElasticConfig.parse(entry.config);
  if (values['dry-run']) {
    for (const r of setupRequests(ecfg, { rollover: values.rollover })) io.stdout.write(`${r.method} ${r.path}\n${r.body === undefined ? '' : `${JSON.stringify(r.body, null, 2)}\n`}`);
    return 0;
  }
  try {
    for (const line of await runSetup(ecfg, AbortSignal.timeout(ecfg.request_timeout_ms), { rollover: values.rollover })) io.stdout.write(`${line}\n`);
  } catch (err) {
    io.stderr.write(`mltrail setup elastic: MLTRAIL_ERR_UPSTREAM: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}

export const setupElastic: CliCommand = { name: 'setup elastic', summary: 'install the Elastic index template and data streams', usage: setupElasticUsage, run: setupElasticCommand };
