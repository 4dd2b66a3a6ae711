import { canonicalJson, makeEvent, stableId, toRfc3339, type NormalizedEvent, type Stage } from '../../core/schema/index.js';
import type { Rejection } from '../../core/connector.js';
import type { RecordContext } from './cloudtrail.js';
import { arr, isObj, str, type Obj } from './util.js';

/**
 * SageMaker Model Monitor `constraint_violations.json` (spec §4): one event
 * per violation. Data-quality checks concern the data fed to the model
 * (stage preprocessing); drift of model quality, bias and feature attribution
 * is behaviour of the deployed model (stage serving).
 */

const DATA_QUALITY_CHECKS = new Set([
  'data_type_check', 'completeness_check', 'baseline_drift_check', 'missing_column_check', 'extra_column_check', 'categorical_values_check',
]);

/**
 * True for a Model Monitor constraint_violations.json body.
 *
 * @example
 * isConstraintViolations({ violations: [{ constraint_check_type: 'data_type_check' }] }) // true
 */
export function isConstraintViolations(r: unknown): r is Obj {
  return isObj(r) && Array.isArray(r.violations) && !('Records' in r) && (r.violations.length === 0 || r.violations.some((v) => isObj(v) && typeof v.constraint_check_type === 'string'));
}

function monitoringType(check: string): string {
  if (DATA_QUALITY_CHECKS.has(check)) return 'DataQuality';
  if (check === 'bias_drift_check') return 'ModelBias';
  if (check === 'feature_attribution_drift_check') return 'ModelExplainability';
  return 'ModelQuality';
}

/**
 * The hour partition (`YYYY/MM/DD/HH`) of a Model Monitor output path: each
 * scheduled run writes under its own (…/<schedule>/2026/11/26/09/…).
 *
 * @example
 * hourPartition('out/ep/sched/2026/11/26/09/constraint_violations.json') // '2026/11/26/09'
 */
export function hourPartition(path: string | undefined): string | undefined {
  const m = path?.replace(/\\/g, '/').match(/(?:^|\/)(\d{4}\/\d{2}\/\d{2}\/\d{2})\/[^/]*$/);
  return m?.[1];
}

/**
 * Endpoint and monitoring schedule of a Model Monitor result, from the layout SageMaker writes
 * a scheduled run's output in: `<output uri>/<endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/<file>`.
 * Both folders must be there (a shorter path names neither); for S3 the bucket is not a folder.
 *
 * @example
 * runOfPath('s3://mon/reports/fraud-ep/fraud-dq/2026/11/26/09/constraint_violations.json') // { endpoint: 'fraud-ep', schedule: 'fraud-dq' }
 */
export function runOfPath(path: string | undefined): { endpoint?: string; schedule?: string } {
  if (!path) return {};
  const m = path.replace(/\\/g, '/').replace(/^s3:\/\/[^/]+/i, '').match(/(?:^|\/)([^/]+)\/([^/]+)\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]*$/);
  // `.` / `..` are not names (a relative path such as ../sched/2026/…).
  if (!m || [m[1], m[2]].some((x) => x === '.' || x === '..')) return {};
  return { endpoint: m[1], schedule: m[2] };
}

/**
 * Events for every violation. Ids come from the file's content and the
 * violation's position, anchored to the monitoring run, so a violation that
 * persists from one hourly run to the next is a new event each time:
 * - from S3, the object (`meta.source_uri`) — each run writes its own;
 * - from a file, the run's endpoint/schedule folders and hour partition in its
 *   resolved path and its mtime (`meta.file_mtime`), never the rest of the path:
 *   the same file named by another relative or absolute path, or through a
 *   symlink, is the same event, a copy of another run (another endpoint,
 *   schedule, partition or mtime) is not — two endpoints with the same findings
 *   in the same hour are not duplicates of each other;
 * - from stdin (no path, no mtime), the content alone.
 * The format carries no timestamp (spec §4): `time` is the S3 object's
 * LastModified (`meta.object_time`), else the file's mtime
 * (`meta.file_mtime`, when the reader supplies it), else the receive time.
 *
 * @example
 * normalizeViolations(JSON.parse(text), ctx, { source_uri: 's3://b/…/constraint_violations.json' })
 */
export function normalizeViolations(
  body: Obj,
  ctx: RecordContext,
  meta: Record<string, unknown> = {},
): { events: NormalizedEvent[]; rejected: Rejection[] } {
  const events: NormalizedEvent[] = [];
  const rejected: Rejection[] = [];
  const s3Uri = str(meta.source_uri);
  const file = str(meta.file);
  const mtime = toRfc3339(meta.file_mtime);
  const time = toRfc3339(meta.object_time) ?? mtime ?? ctx.receivedTime;
  // The resolved path (`meta.file_realpath`): a symlink or another name of the same file is the same run.
  const realPath = str(meta.file_realpath);
  const partition = hourPartition(realPath ?? file);
  const fileRun = runOfPath(realPath ?? file);
  const runKey = fileRun.endpoint ? `${fileRun.endpoint}/${fileRun.schedule}/` : '';
  // S3: the object, as always. A file: its run. Stdin: '' (content only, as before).
  const anchor = s3Uri ?? (partition || mtime ? `file:${runKey}${partition ?? ''}:${mtime ?? ''}` : '');
  const bodyHash = stableId('sagemaker', 'violations', canonicalJson(body));
  // Which endpoint and schedule to report: from the S3 key, else from the path the file was named by
  // (if that has the run layout: a temp or home folder above a copy is no endpoint), else its
  // resolved path (a symlink such as latest.json).
  const run = s3Uri ? runOfPath(s3Uri) : hourPartition(file) ? runOfPath(file) : fileRun;
  // The resource always has an id, so two runs or two endpoints never share an empty one: the object,
  // the file, or (stdin) the content.
  const where = s3Uri ?? realPath ?? (file && file !== '<stdin>' ? file : undefined);
  const resourceId = where ?? `constraint_violations:${bodyHash}`;
  arr(body.violations).forEach((v, i) => {
    const path = `violations[${i}]`;
    if (!isObj(v)) return rejected.push({ reason: 'violation is not an object', path, record: v });
    const check = str(v.constraint_check_type);
    if (!check) return rejected.push({ reason: 'violation has no constraint_check_type', path, field: 'constraint_check_type', record: v });
    const type = monitoringType(check);
    const stage: Stage = type === 'DataQuality' ? 'preprocessing' : 'serving';
    const feature = str(v.feature_name) ?? str(v.facet) ?? str(v.label);
    events.push(
      makeEvent(
        {
          id: stableId('sagemaker', 'model_monitor', anchor, bodyHash, i),
          time,
          received_time: ctx.receivedTime,
          platform: 'sagemaker',
          channel: ctx.channel,
          stage,
          action: 'monitor.violation',
          operation: `ModelMonitor.${check}`,
          service: 'sagemaker.amazonaws.com',
          outcome: 'success',
          actor: { type: 'service', name: 'sagemaker-model-monitor' },
          resource: { type: 'monitoring_execution', id: resourceId, name: run.schedule, uri: s3Uri },
          ml: run.endpoint ? { deployment: { endpoint: run.endpoint } } : undefined,
          details: {
            monitoring_type: type,
            constraint_check_type: check,
            feature_name: str(v.feature_name),
            facet: str(v.facet),
            facet_value: v.facet_value === undefined ? undefined : String(v.facet_value),
            label: str(v.label),
            metric_name: str(v.metric_name),
            description: str(v.description),
            subject: feature,
            monitoring_schedule: run.schedule,
            source_file: s3Uri ? undefined : file,
            violations_in_file: arr(body.violations).length,
            version: body.version === undefined ? undefined : String(body.version),
          },
        },
        { raw: v, keepRaw: ctx.keepRaw },
      ),
    );
    return undefined;
  });
  return { events, rejected };
}
