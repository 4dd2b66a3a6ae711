import { describe, expect, it } from 'vitest';
import { useAuditorHarness } from './auditor-harness.js';

/**
 * MLflow 3 leaves prompts out of unfiltered registry searches (its SQL store's `_update_query_to_exclude_prompts`):
 * the auditor lists them with the prompt tag filter, or what webhooks never report of a prompt (a delete, an alias
 * moved on a server without prompt events) went unseen.
 */
const T0 = 1755680000000;
const PROMPT = { 'mlflow.prompt.is_prompt': 'true' };
const h = useAuditorHarness('mltrail-mlflow-prompts-', T0);
const auditor = () => h.auditor({});
const all = h.events;

function seedPrompt(): void {
  h.fake.addModel('fraud', T0);
  h.fake.addVersion('fraud', '1', T0 + 10, { MLmodel: 'flavors: {}', 'model.pkl': 'w' });
  h.fake.addRun('runfraud1', { user: 'alice' });
  h.fake.addModel('summarizer', T0 + 1, { tags: { ...PROMPT }, aliases: { production: '1' } });
  for (const v of ['1', '2']) {
    h.fake.addVersion('summarizer', v, T0 + 20 + Number(v), {}, { source: 'dummy-source', run_id: undefined, tags: { ...PROMPT, 'mlflow.prompt.text': `Summarize v${v}: {{text}}` } });
  }
}

describe('MLflow 3 prompts in the registry audit', () => {
  it('a prompt alias moved and a prompt version deleted are seen through the prompt listing', async () => {
    seedPrompt();
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    const filtered = h.fake.requests.filter((r) => r.query.get('filter') === "tag.`mlflow.prompt.is_prompt` = 'true'").map((r) => r.path);
    expect(filtered.sort()).toEqual(['/api/2.0/mlflow/model-versions/search', '/api/2.0/mlflow/registered-models/search']);
    h.fake.models.get('summarizer')!.aliases = { production: '2' };
    h.fake.deleteVersion('summarizer', '1');
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    const evs = all().filter((e) => e.resource?.type === 'prompt');
    expect(evs.map((e) => `${e.action} ${e.resource?.id}`).sort()).toEqual(['prompt.alias_set summarizer/2', 'prompt_version.delete summarizer/1']);
    // Prompts are not model versions: nothing hashed, no run read.
    expect(all().filter((e) => e.action === 'model_version.hash_registered').map((e) => e.resource?.id)).toEqual(['fraud/1']);
  });

  it('a server that lists prompts unfiltered too (older) reports each once; one that refuses the filter (400) still audits the rest', async () => {
    seedPrompt();
    h.fake.excludesPrompts = false;
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    h.fake.models.get('summarizer')!.aliases = { production: '2' };
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(all().filter((e) => e.resource?.type === 'prompt').map((e) => `${e.action} ${e.resource?.id}`)).toEqual(['prompt.alias_set summarizer/2']);

    h.fake.refusesPromptFilter = true;
    h.fake.models.get('fraud')!.aliases = { champion: '1' };
    h.fake.models.get('summarizer')!.aliases = { production: '1' };
    h.clock.now += 60_000;
    const before = h.fake.requests.length;
    const b = auditor();
    expect(await b.runOnce()).toBe(true);
    expect(h.fake.requests.slice(before).filter((r) => r.query.has('filter')).length).toBe(2); // asked, refused
    expect(b.health().state).toBe('healthy');
    expect(all().filter((e) => e.action === 'model_version.approve' || e.resource?.type === 'prompt').map((e) => `${e.action} ${e.resource?.id}`)).toEqual([
      'prompt.alias_set summarizer/2', 'model_version.approve fraud/1', 'prompt.alias_set summarizer/1',
    ]);
  });
});
