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

/** The RBAC API group. */
export const RBAC = 'rbac.authorization.k8s.io';
/** A person's `userInfo` as the API server logs it. */
export const MALLORY = { username: 'mallory@corp.example', groups: ['system:authenticated'] };
/** A service account's `userInfo` as the API server logs it (its groups included). */
export const saUser = (ns: string, name: string) => ({ username: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
/** Argo CD's application controller, a default trusted installer. */
export const ARGOCD = saUser('argocd', 'argocd-application-controller');
/** An RBAC object's `objectRef`. */
export const rbacRef = (resource: string, name: string, namespace?: string) => ({ resource, name, apiGroup: RBAC, apiVersion: 'v1', ...(namespace ? { namespace } : {}) });
