import type { Action } from '../../core/schema/actions.js';
import { globMatch } from '../../core/rules/facts.js';
import { maskPaths } from './facts.js';
import { isObj, str, type Json } from './logentry.js';

/**
 * mltrail's own Google Cloud feed (the Pub/Sub subscription the log sink's topic delivers to the bridge through) and
 * what an endpoint or monitoring job request says about the monitoring of a served model.
 */

/** A Pub/Sub subscription (or topic) call that stops or redirects what reaches mltrail (`platform.audit_log_tampering`). */
export interface FeedChange {
  action: Action;
  /** The subscription's (a deleted topic's) resource name. */
  subscription: string;
  details: Record<string, unknown>;
}

/** Whether a push config delivers anywhere: an empty one (`{}`) turns a push subscription into a pull one. */
function pushEndpointOf(pc: unknown): string | undefined {
  return isObj(pc) ? str(pc.pushEndpoint) : undefined;
}

/**
 * A Pub/Sub subscription of mltrail's (its short name matches `feedNames`, or it is the configured pull
 * subscription) deleted, detached from its topic, switched from push to pull, or pushing elsewhere. `ModifyPushConfig`
 * and an `UpdateSubscription` whose mask names `push_config` set the push config: empty stops pushing (a push feed
 * goes silent; for a pull feed it is no change, so only a config naming another endpoint is judged then).
 *
 * @example
 * pubsubFeedChange('google.pubsub.v1.Subscriber.DeleteSubscription', {}, 'projects/p/subscriptions/mltrail-push', ['*mltrail*'])?.action // 'audit_log.delete'
 */
export function pubsubFeedChange(methodName: string, req: Json, resourceName: string | undefined, feedNames: readonly string[], pullSubscription?: string): FeedChange | undefined {
  if (!methodName.startsWith('google.pubsub.v1.')) return undefined;
  const rpc = methodName.split('.').pop() ?? '';
  // The Logging sink's topic deleted: the sink's publishes fail and its subscriptions are detached ("_deleted-topic_").
  // UpdateTopic is not judged: message storage regions, retention, labels and KMS key leave delivery on; a schema set
  // on the topic could make the sink's publishes fail, but that shows as the feed going silent (silent_channels).
  if (rpc === 'DeleteTopic') {
    const topic = resourceName ?? str(req.topic);
    const t = topic ? /^projects\/[^/]+\/topics\/([^/]+)$/.exec(topic) : null;
    if (!t || !topic || !feedNames.some((g) => globMatch(g, t[1]!))) return undefined;
    return { action: 'audit_log.delete', subscription: topic, details: { trail: topic, feed: 'pubsub_topic' } };
  }
  const subReq = isObj(req.subscription) ? req.subscription : undefined;
  const full = resourceName ?? str(req.subscription) ?? str(subReq?.name);
  const m = full ? /^projects\/[^/]+\/subscriptions\/([^/]+)$/.exec(full) : null;
  if (!m || !full) return undefined;
  const short = m[1]!;
  if (!(full === pullSubscription || feedNames.some((g) => globMatch(g, short)))) return undefined;
  const base = { trail: full, feed: 'pubsub_subscription' };
  if (rpc === 'DeleteSubscription') return { action: 'audit_log.delete', subscription: full, details: base };
  if (rpc === 'DetachSubscription') return { action: 'audit_log.disable', subscription: full, details: { ...base, feed_change: 'detached the subscription from its topic (it receives nothing more)' } };
  const setsPush = rpc === 'ModifyPushConfig' || (rpc === 'UpdateSubscription' && maskPaths(req.updateMask).some((p) => p === 'push_config' || p === 'pushConfig' || p.startsWith('push_config.') || p.startsWith('pushConfig.')));
  if (!setsPush) return undefined;
  const endpoint = pushEndpointOf(rpc === 'ModifyPushConfig' ? req.pushConfig : subReq?.pushConfig);
  if (endpoint) return { action: 'audit_log.update', subscription: full, details: { ...base, log_destination: endpoint } };
  // Pull subscriptions have no push endpoint to lose: an empty push config there changes nothing.
  if (full === pullSubscription) return undefined;
  return { action: 'audit_log.disable', subscription: full, details: { ...base, feed_change: 'stopped pushing (push config emptied: the subscription is pull-only)' } };
}

/**
 * An endpoint's request-response logging as a Create/UpdateEndpoint request sets it (`predictRequestResponseLoggingConfig`:
 * `enabled`, `samplingRate` a fraction in (0, 1], `bigqueryDestination.outputUri`). An update whose mask names the
 * config but whose body leaves it out switches it off. Undefined when the request does not touch it.
 */
export function requestLoggingOf(rpc: string, req: Json): { enabled: boolean; sampling_rate?: number; destination?: string } | undefined {
  if (!/^(CreateEndpoint|UpdateEndpoint|UpdateEndpointLongRunning)$/.test(rpc)) return undefined;
  const ep = isObj(req.endpoint) ? req.endpoint : {};
  const cfg = ep.predictRequestResponseLoggingConfig ?? ep.predict_request_response_logging_config;
  const masked = maskPaths(req.updateMask).some((p) => p.replace(/_/g, '').toLowerCase().startsWith('predictrequestresponseloggingconfig'));
  if (!isObj(cfg)) return rpc !== 'CreateEndpoint' && masked ? { enabled: false } : undefined;
  const rate = typeof cfg.samplingRate === 'number' ? cfg.samplingRate : typeof cfg.sampling_rate === 'number' ? cfg.sampling_rate : undefined;
  const bq = isObj(cfg.bigqueryDestination) ? cfg.bigqueryDestination : isObj(cfg.bigquery_destination) ? cfg.bigquery_destination : undefined;
  return { enabled: cfg.enabled === true, sampling_rate: rate, destination: bq ? str(bq.outputUri) ?? str(bq.output_uri) : undefined };
}

/**
 * The endpoint a model deployment monitoring job watches: the request's `modelDeploymentMonitoringJob.endpoint`
 * (Create/UpdateModelDeploymentMonitoringJob), else the created job's `endpoint` in the response (the create is not
 * long-running: its response is the job itself, named with the project number), when the request was not logged whole.
 */
export function monitoredEndpointOf(req: Json, resp?: unknown): string | undefined {
  const job = isObj(req.modelDeploymentMonitoringJob) ? req.modelDeploymentMonitoringJob : undefined;
  const fromReq = job ? str(job.endpoint) : undefined;
  if (fromReq) return fromReq;
  // Only a job's own response: an update's long-running Operation carries no endpoint of its own.
  return isObj(resp) && /\/modelDeploymentMonitoringJobs\/[^/]+$/.test(str(resp.name) ?? '') ? str(resp.endpoint) : undefined;
}
