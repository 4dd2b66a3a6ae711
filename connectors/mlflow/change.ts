import { stableId } from '../../core/schema/index.js';

/**
 * The registry changes both halves of the MLflow connector report: the webhook at once, the auditor at its
 * next poll. Each event of either half carries the change's key in `details.change_key`, the same for both
 * reports of one change (model, version, what changed, its key and new value), so the rules count the change
 * once (core/rules/echo.ts). The workspace and the server are not part of it here: fromWorkspace and fromServer
 * (core/schema/origin.ts) make the key theirs on both halves alike, so one workspace's reports pair with each other
 * and never with another workspace's.
 */
export type ChangeKind =
  | ['model_create', name: string]
  | ['version_create', name: string, version: string]
  | ['version_tag_set', name: string, version: string, key: string, value: string]
  | ['version_tag_delete', name: string, version: string, key: string]
  | ['model_tag_set', name: string, key: string, value: string]
  | ['model_tag_delete', name: string, key: string]
  | ['alias_set', name: string, alias: string, version: string]
  | ['alias_delete', name: string, alias: string];

/**
 * @example
 * changeKey(['version_tag_set', 'fraud', '3', 'owner', 'bob']) // '3c1f…' (32 hex chars), as the auditor's report of it
 */
export function changeKey(change: ChangeKind): string {
  return stableId('mlflow', 'change', ...change);
}

const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** The change a webhook delivery (`<entity>.<action>`, its `data`) reports, when the auditor reports it too. */
export function webhookChange(entityAction: string, d: Record<string, unknown>): string | undefined {
  const [name, version, key, alias] = [s(d.name), s(d.version), s(d.key), s(d.alias)];
  if (name === undefined) return undefined;
  switch (entityAction) {
    case 'registered_model.created':
    case 'prompt.created':
      return changeKey(['model_create', name]);
    case 'model_version.created':
    case 'prompt_version.created':
      return version === undefined ? undefined : changeKey(['version_create', name, version]);
    case 'model_version_tag.set':
    case 'prompt_version_tag.set':
      return version === undefined || key === undefined ? undefined : changeKey(['version_tag_set', name, version, key, s(d.value) ?? '']);
    case 'model_version_tag.deleted':
    case 'prompt_version_tag.deleted':
      return version === undefined || key === undefined ? undefined : changeKey(['version_tag_delete', name, version, key]);
    case 'prompt_tag.set':
      return key === undefined ? undefined : changeKey(['model_tag_set', name, key, s(d.value) ?? '']);
    case 'prompt_tag.deleted':
      return key === undefined ? undefined : changeKey(['model_tag_delete', name, key]);
    case 'model_version_alias.created':
    case 'prompt_alias.created':
      return alias === undefined || version === undefined ? undefined : changeKey(['alias_set', name, alias, version]);
    case 'model_version_alias.deleted':
    case 'prompt_alias.deleted':
      return alias === undefined ? undefined : changeKey(['alias_delete', name, alias]);
    default:
      return undefined;
  }
}
