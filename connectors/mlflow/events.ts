import { safeUri } from './uri.js';
import { redactAuditEvent } from './redact.js';
import { makeEvent, type Action, type NormalizedEvent, type Stage } from '../../core/schema/index.js';

export const AUDIT_CHANNEL = 'mlflow.audit';

export type AuditDraft = { id: string; time: string; stage: Stage; action: Action; operation: string; outcome?: 'success' | 'failure' } & Partial<NormalizedEvent>;

/**
 * An auditor event: platform mlflow, channel `mlflow.audit`, no raw record; secrets in tags and descriptions hidden
 * (redactAuditEvent).
 *
 * @example
 * auditEvent({ id, time, stage: 'registry', action: 'model_version.delete', operation: 'model-versions/delete' }, new Date().toISOString())
 */
export function auditEvent(draft: AuditDraft, receivedTime: string): NormalizedEvent {
  return redactAuditEvent(makeEvent({ platform: 'mlflow', channel: AUDIT_CHANNEL, service: 'mlflow', outcome: 'success', ...draft }, { keepRaw: false, receivedTime }));
}

/** The resource of a model version (or prompt version); its source without credentials. */
export function versionResource(v: { name: string; version?: string; source?: string }, prompt: boolean) {
  return { type: prompt ? 'prompt' : 'model_version', id: v.version ? `${v.name}/${v.version}` : v.name, name: v.name, version: v.version, uri: safeUri(v.source) };
}

const PROMPT_ACTIONS: Partial<Record<Action, Action>> = {
  'registered_model.create': 'prompt.create', 'registered_model.delete': 'prompt.delete', 'registered_model.update': 'prompt.update',
  'registered_model.rename': 'prompt.update', 'registered_model.tag_set': 'prompt.tag_set', 'registered_model.tag_delete': 'prompt.tag_delete',
  'model_version.create': 'prompt_version.create', 'model_version.delete': 'prompt_version.delete', 'model_version.tag_set': 'prompt_version.tag_set',
  'model_version.tag_delete': 'prompt_version.tag_delete', 'model_version.alias_set': 'prompt.alias_set', 'model_version.alias_delete': 'prompt.alias_delete',
  'model_version.approve': 'prompt.alias_set',
};

/** Same verb, prompt resource when the registered model is a prompt. */
export function act(modelAction: Action, prompt: boolean): Action {
  return prompt ? (PROMPT_ACTIONS[modelAction] ?? 'prompt.update') : modelAction;
}
