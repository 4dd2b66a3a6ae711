import { isObj, str, type Json } from './logentry.js';

/**
 * BigQuery extract jobs in the same audit stream: a table (or a BigQuery ML model) written out to Cloud
 * Storage. Two record shapes carry them:
 * - `metadata` BigQueryAuditMetadata (current): `jobInsertion` / `jobChange` `.job.jobConfig.extractConfig`
 *   `{destinationUris[], sourceTable | sourceModel}` as resource names (`projects/P/datasets/D/tables/T`);
 * - `serviceData` AuditData (legacy): `jobCompletedEvent.job.jobConfiguration.extract`
 *   `{destinationUris[], sourceTable {projectId, datasetId, tableId}}`.
 * Sources are named `bq://P.D.T`, as Vertex AI names BigQuery inputs.
 */
export interface BigQueryExport {
  of: 'model' | 'dataset';
  sources: string[];
  destinations: string[];
}

const MAX_URIS = 1000;

function uris(v: unknown): string[] {
  return (Array.isArray(v) ? v : []).filter((u): u is string => typeof u === 'string' && u.length > 0).slice(0, MAX_URIS);
}

/** `projects/P/datasets/D/tables/T` (or `/models/M`), or `{projectId, datasetId, tableId}`, as `bq://P.D.T`. */
function bqUri(ref: unknown): string | undefined {
  if (isObj(ref)) {
    const [p, d, t] = [str(ref.projectId), str(ref.datasetId), str(ref.tableId) ?? str(ref.modelId)];
    return p && d && t ? `bq://${p}.${d}.${t}` : undefined;
  }
  const m = /^projects\/([^/]+)\/datasets\/([^/]+)\/(?:tables|models)\/([^/]+)$/.exec(str(ref) ?? '');
  return m ? `bq://${m[1]}.${m[2]}.${m[3]}` : undefined;
}

/** A job that failed wrote nothing out (its status, in either shape, names an error). */
function failed(status: unknown): boolean {
  if (!isObj(status)) return false;
  const err = status.errorResult ?? status.error;
  return isObj(err) && Object.keys(err).length > 0;
}

/**
 * The export an audit payload records, if it is a BigQuery extract job that did not fail.
 *
 * @example
 * bigqueryExport({ serviceName: 'bigquery.googleapis.com', metadata: { jobChange: { job: { jobConfig: { extractConfig: { sourceTable: 'projects/p/datasets/d/tables/t', destinationUris: ['gs://b/t-*.csv'] } } } } } })
 * // { of: 'dataset', sources: ['bq://p.d.t'], destinations: ['gs://b/t-*.csv'] }
 */
export function bigqueryExport(pp: Json): BigQueryExport | undefined {
  if (str(pp.serviceName) !== 'bigquery.googleapis.com') return undefined;
  const meta = isObj(pp.metadata) ? pp.metadata : {};
  const change = isObj(meta.jobChange) ? meta.jobChange : isObj(meta.jobInsertion) ? meta.jobInsertion : undefined;
  const job = change && isObj(change.job) ? change.job : undefined;
  const config = job && isObj(job.jobConfig) && isObj(job.jobConfig.extractConfig) ? job.jobConfig.extractConfig : undefined;
  if (job && config) {
    if (failed(job.jobStatus)) return undefined;
    const model = bqUri(config.sourceModel);
    const source = model ?? bqUri(config.sourceTable);
    return { of: model ? 'model' : 'dataset', sources: source ? [source] : [], destinations: uris(config.destinationUris) };
  }
  const legacy = isObj(pp.serviceData) && isObj(pp.serviceData.jobCompletedEvent) ? pp.serviceData.jobCompletedEvent : undefined;
  const ljob = legacy && isObj(legacy.job) ? legacy.job : undefined;
  const extract = ljob && isObj(ljob.jobConfiguration) && isObj(ljob.jobConfiguration.extract) ? ljob.jobConfiguration.extract : undefined;
  if (!ljob || !extract || failed(ljob.jobStatus)) return undefined;
  const source = bqUri(extract.sourceTable);
  return { of: 'dataset', sources: source ? [source] : [], destinations: uris(extract.destinationUris) };
}
