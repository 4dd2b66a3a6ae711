import { expect } from 'vitest';
import { ApprovalConfig } from '../../connectors/mlflow/config.js';
import { registryDiffer } from '../../connectors/mlflow/diff.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { HOUR, T0, at } from './events.js';

/**
 * The MLflow registry auditor's report of model `from` renamed to `to` between two polls, `h` hours after T0
 * (MLflow sends no webhook for a rename: only the auditor's diff of two snapshots shows it).
 */
export function renamedByAuditor(h: number, from: string, to: string): NormalizedEvent {
  const t = T0 + h * HOUR;
  const model = (name: string) => ({ name, description: '', tags: {}, aliases: {}, creation_timestamp: T0 - 2 * HOUR, last_updated_timestamp: t, prompt: false });
  const differ = registryDiffer({ approval: ApprovalConfig.parse({}), ownDigestTag: () => undefined, receivedTime: at(t + 60_000) });
  const out = differ.diffModels(new Map([[from, model(from)]]), new Map([[to, model(to)]]), t + 60_000);
  expect(out.map((e) => e.action)).toEqual(['registered_model.rename']);
  return out[0]!;
}
