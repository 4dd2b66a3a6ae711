import { arr, get, isObj, str, uniq, type Obj } from './util.js';

/**
 * What a Model Monitor schedule or job definition call says about what is watched: the job definition a schedule
 * runs, its monitoring type, the endpoint it watches (`endpointInput.endpointName` of an inline definition, or of a
 * `Create*JobDefinition`'s `*JobInput`), and the baseline it is judged against. `serving.monitoring_disabled` reads
 * these to tell monitoring switched off or pointed elsewhere from a schedule torn down with its endpoint.
 *
 * @example
 * monitoringDetails('UpdateMonitoringSchedule', { monitoringScheduleConfig: { monitoringJobDefinitionName: 'lax' } })
 * // { monitoring_job_definition: 'lax' }
 */
export function monitoringDetails(eventName: string, params: Obj): Record<string, unknown> {
  if (!/MonitoringSchedule$|JobDefinition$/.test(eventName) || /^(Describe|List)/.test(eventName)) return {};
  const cfg = isObj(params.monitoringScheduleConfig) ? params.monitoringScheduleConfig : undefined;
  const inline = cfg && isObj(cfg.monitoringJobDefinition) ? cfg.monitoringJobDefinition : undefined;
  // A job definition's input: dataQualityJobInput, modelQualityJobInput, modelBiasJobInput, modelExplainabilityJobInput.
  const jobInputs = Object.entries(params).filter(([k, v]) => /JobInput$/.test(k) && isObj(v)).map(([, v]) => v as Obj);
  const inputs = [...arr(inline?.monitoringInputs).filter(isObj), ...jobInputs];
  const endpoints = uniq(inputs.map((i) => str(get(i, 'endpointInput.endpointName'))));
  const baseline = inline?.baselineConfig ?? Object.entries(params).find(([k, v]) => /BaselineConfig$/.test(k) && isObj(v))?.[1];
  const out: Record<string, unknown> = {
    monitoring_job_definition: str(cfg?.monitoringJobDefinitionName) ?? (/JobDefinition$/.test(eventName) ? str(params.jobDefinitionName) : undefined),
    monitoring_type: str(cfg?.monitoringType),
    monitored_endpoint: endpoints[0],
    baseline_constraints: isObj(baseline) ? str(get(baseline, 'constraintsResource.s3Uri')) : undefined,
    baseline_statistics: isObj(baseline) ? str(get(baseline, 'statisticsResource.s3Uri')) : undefined,
    schedule_expression: str(get(cfg ?? {}, 'scheduleConfig.scheduleExpression')),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}
