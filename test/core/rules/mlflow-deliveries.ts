import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';

/**
 * MLflow 3.x webhook bodies (`_send_webhook_request` envelope: entity, action, timestamp, data[, workspace]) for
 * the rule tests, normalized as the webhook route does.
 */
export type Delivery = [entity: string, action: string, timestamp: string, data: Record<string, unknown>];

/**
 * The events of `bodies` as one server's webhooks deliver them; `workspace` sets the envelope's (a server run with
 * MLFLOW_ENABLE_WORKSPACES). Delivery ids are unique per workspace, time and position.
 *
 * @example
 * webhookEvents(undefined, version('2026-11-20T10:01:00.000000+00:00', '1'))
 */
export function webhookEvents(workspace: string | undefined, ...bodies: Delivery[]): NormalizedEvent[] {
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data, ...(workspace === undefined ? {} : { workspace }) }, {
      channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}),
      meta: { delivery_id: workspace === undefined ? `d-${timestamp}-${i}` : `d-${workspace}-${timestamp}-${i}` },
    }).events,
  );
}

/** The alerts of one rule the default rules raise over `evs`. */
export const alertsOf = (evs: NormalizedEvent[], rule: string): Alert[] => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

/** Version `v` of `fraud` created, with a passing adversarial score. */
export const version = (ts: string, v: string): Delivery =>
  ['model_version', 'created', ts, { name: 'fraud', version: v, source: `models:/m-${v}00aa`, run_id: `run${v}`, tags: { adversarial_accuracy: '0.9' }, description: null }];
/** `champion` set on version `v` of `fraud`. */
export const champion = (ts: string, v: string): Delivery => ['model_version_alias', 'created', ts, { name: 'fraud', alias: 'champion', version: v }];
/** A tag set on version `v` of `fraud`. */
export const tag = (ts: string, v: string, key: string, value: string): Delivery => ['model_version_tag', 'set', ts, { name: 'fraud', version: v, key, value }];

/** Two releases: champion on v1, then on v2 (a normal CI promotion). */
export const releases = (): Delivery[] => [
  ['registered_model', 'created', '2026-11-20T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
  version('2026-11-20T10:01:00.000000+00:00', '1'),
  champion('2026-11-20T10:02:00.000000+00:00', '1'),
  version('2026-11-22T10:01:00.000000+00:00', '2'),
  champion('2026-11-22T10:02:00.000000+00:00', '2'),
];
