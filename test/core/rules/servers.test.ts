import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { T0, actors, at, ev } from '../../rules/events.js';

const rules = RulesConfig.parse({});

/**
 * Rule state of MLflow servers configured with an id (their events carry it as `cloud.account`): each server's
 * models are its own, also through a rename the registry auditor reports.
 */
describe('MLflow servers in the rule state', () => {
  it("a rename on one server moves that server's versions only", () => {
    let n = 0;
    const next = () => at(T0 + ++n * 60_000);
    const team = { provider: 'other' as const, account: 'team' };
    const mlflow = (id: string, action: string, model: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      ev({ id, time: next(), platform: 'mlflow', stage: 'registry', action, actor: actors.ci, resource: { type: 'model_version', name: model.name as string, version: model.version as string }, ml: { model }, ...extra });
    const events = [
      // The team server approves its r/1; the default server has an r/1 never approved.
      mlflow('t-create', 'model_version.create', { name: 'r', version: '1' }, { cloud: team }),
      mlflow('t-approve', 'model_version.approve', { name: 'r', version: '1', approval: 'approved', aliases: ['champion'] }, { cloud: team }),
      mlflow('d-create', 'model_version.create', { name: 'r', version: '1' }),
      // The team server renames r to r2 (its auditor's report), then its r2/1 is edited.
      ev({ id: 't-rename', time: next(), platform: 'mlflow', stage: 'registry', action: 'registered_model.rename', actor: actors.ci, cloud: team, resource: { type: 'registered_model', id: 'r2', name: 'r2' }, details: { old_name: 'r', new_name: 'r2' } }),
      mlflow('t-edit', 'model_version.description_change', { name: 'r2', version: '1' }, { cloud: team, details: { field: 'description' } }),
      // The default server's r/1 stayed where it was, unapproved: editing it changes nothing approved.
      mlflow('d-edit', 'model_version.description_change', { name: 'r', version: '1' }, { details: { field: 'description' } }),
    ];
    const modified = replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(modified.map((a) => [a.entity.id, a.evidence])).toEqual([['team:r2/1', ['t-approve', 't-edit']]]);
  });

  it("an alias removed on one server leaves the default server's version holding it", () => {
    let n = 0;
    const next = () => at(T0 + ++n * 60_000);
    const team = { provider: 'other' as const, account: 'team' };
    const mk = (id: string, action: string, model: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      ev({ id, time: next(), platform: 'mlflow', stage: 'registry', action, actor: actors.ci, resource: { type: 'model_version', name: 'r', version: model.version as string | undefined }, ml: { model: { name: 'r', ...model } }, ...extra });
    const events = [
      mk('d-approve', 'model_version.approve', { version: '1', approval: 'approved', aliases: ['champion'] }),
      mk('t-approve', 'model_version.approve', { version: '1', approval: 'approved', aliases: ['champion'] }, { cloud: team }),
      // The team server takes `champion` off its r (MLflow's alias webhook names no version).
      mk('t-unalias', 'model_version.alias_delete', {}, { cloud: team, details: { alias: 'champion' } }),
      // The default server's r/1 still holds `champion`: a pending tag beside it leaves it approved, so an edit is flagged.
      mk('d-pending', 'model_version.tag_set', { version: '1', approval: 'pending' }, { details: { tag: { key: 'approval_status', value: 'pending' } } }),
      mk('d-edit', 'model_version.description_change', { version: '1' }, { details: { field: 'description' } }),
    ];
    const modified = replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(modified.map((a) => a.entity.id)).toContain('r/1');
    expect(modified.filter((a) => a.evidence.includes('d-edit'))).toHaveLength(1);
  });
});
