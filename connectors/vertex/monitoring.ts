import type { Action } from '../../core/schema/actions.js';
import type { NormalizedEventInput, Stage } from '../../core/schema/index.js';
import { isObj, locationOf, logIdOf, str, type LogEntry } from './logentry.js';
import { canonicalNames } from './names.js';

/** True for Model Monitoring anomaly entries (v1 `model_monitoring_anomaly` log, or the payload type). */
export function isMonitoringAnomaly(entry: LogEntry): boolean {
  const type = isObj(entry.jsonPayload) ? String(entry.jsonPayload['@type'] ?? '') : '';
  if (/ModelMonitoringAnomaliesLogEntry$/.test(type)) return true;
  return /model_monitoring_anomal/.test(logIdOf(entry.logName) ?? '') && isObj(entry.jsonPayload);
}

export type MonitoringFields = Pick<NormalizedEventInput, 'stage' | 'action' | 'operation' | 'service' | 'outcome' | 'resource' | 'ml' | 'details'> & {
  region?: string;
};

/**
 * A Model Monitoring anomaly: skew objectives compare serving inputs with the
 * training data (a data/preprocessing problem → `preprocessing`), drift
 * objectives compare serving inputs over time (→ `serving`). Every feature's
 * deviation and threshold is kept.
 *
 * @example
 * monitoringFields(entry).details.features // [{ feature: 'age', deviation: 0.9, threshold: 0.7, exceeded: true }]
 */
export function monitoringFields(entry: LogEntry): MonitoringFields {
  const p = entry.jsonPayload ?? {};
  const objective = str(p.anomalyObjective) ?? str(p.objectiveType) ?? 'UNKNOWN';
  const skew = /SKEW/i.test(objective);
  const stage: Stage = skew ? 'preprocessing' : 'serving';
  const kind = skew ? 'skew' : /DRIFT/i.test(objective) ? 'drift' : 'anomaly';
  const features = (Array.isArray(p.featureAnomalies) ? p.featureAnomalies : []).filter(isObj).map((f) => {
    const deviation = Number(f.deviation);
    const threshold = Number(f.threshold);
    return {
      feature: str(f.featureDisplayName) ?? str(f.feature) ?? 'unknown',
      deviation: Number.isFinite(deviation) ? deviation : undefined,
      threshold: Number.isFinite(threshold) ? threshold : undefined,
      exceeded: Number.isFinite(deviation) && Number.isFinite(threshold) ? deviation > threshold : undefined,
    };
  });
  const metrics: Record<string, number> = {};
  for (const f of features) if (f.deviation !== undefined) metrics[`${kind}.${f.feature}`] = f.deviation;
  const deviations = features.map((f) => f.deviation).filter((d): d is number => d !== undefined);
  // The payload names the job with the project number; the audit entries of the same job may use the id.
  const job = canonicalNames(entry)(str(p.modelDeploymentMonitoringJob) ?? str(p.modelMonitoringJob));
  const labels = entry.resource?.labels ?? {};
  const jobId = job?.split('/').pop() ?? labels.model_deployment_monitoring_job;
  const action: Action = 'monitor.anomaly';
  return {
    stage,
    action,
    operation: `ModelMonitoring.${objective}`,
    service: 'aiplatform.googleapis.com',
    // The monitor worked and found anomalies: the observation itself succeeded.
    outcome: 'success',
    resource: { type: 'model_deployment_monitoring_job', id: job ?? jobId, name: jobId },
    ml: {
      metrics: Object.keys(metrics).length ? metrics : undefined,
      deployment: str(p.deployedModelId) ? { variant: str(p.deployedModelId) } : undefined,
    },
    details: {
      monitoring: kind,
      objective,
      features,
      total_anomalies: p.totalAnomaliesCount !== undefined ? Number(p.totalAnomaliesCount) : features.length,
      max_deviation: deviations.length ? Math.max(...deviations) : undefined,
      window_start: str(p.startTime),
      window_end: str(p.endTime),
      deployed_model_id: str(p.deployedModelId),
      severity: entry.severity,
      resource_container: labels.resource_container,
      log_id: logIdOf(entry.logName),
    },
    region: labels.location ?? locationOf(job),
  };
}
