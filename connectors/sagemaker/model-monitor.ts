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
 * Events for every violation. Ids come from the file's content and the
 * violation's position, anchored to the S3 object (`meta.source_uri`) when
 * it came from S3 — each monitoring run writes its own object, so two runs
 * with identical findings stay distinct. A file from disk or stdin has no
 * stable identity (the same file can be named by many paths), so its ids
 * depend on the content alone: reading it again, by any path, collapses.
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
  const time = toRfc3339(meta.object_time) ?? toRfc3339(meta.file_mtime) ?? ctx.receivedTime;
  const bodyHash = stableId('sagemaker', 'violations', canonicalJson(body));
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
          // Unchanged for S3 objects; '' (as stdin always had) for files.
          id: stableId('sagemaker', 'model_monitor', s3Uri ?? '', bodyHash, i),
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
          resource: s3Uri ? { type: 'monitoring_execution', id: s3Uri, uri: s3Uri } : { type: 'monitoring_execution' },
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
