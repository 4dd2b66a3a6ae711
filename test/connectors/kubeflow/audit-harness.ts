import { expect } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent, type Alert } from '../../../core/schema/index.js';
import { ctx } from './helpers.js';

type Obj = Record<string, unknown>;

/** Audit records normalized as one `EventList`, none rejected, each event checked against the schema. */
export function normAudit(records: Obj[]): NormalizedEvent[] {
  const out = kubeflowConnector.normalize!({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: records }, ctx());
  expect(out.rejected).toEqual([]);
  return out.events.map((e) => NormalizedEvent.parse(e));
}

/** The `platform.ml_workload_access` alerts a replay of the records raises (rules config as given). */
export const workloadAccessAlerts = (records: Obj[], rules: Obj = {}): Alert[] =>
  replayEvents(normAudit(records), { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'platform.ml_workload_access');
