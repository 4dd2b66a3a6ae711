import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { FakeMlflow } from './fake-mlflow.js';

/**
 * MLflow 3 leaves prompts out of unfiltered registry searches (its SQL store's `_update_query_to_exclude_prompts`):
 * the auditor lists them with the prompt tag filter, or what webhooks never report of a prompt (a delete, an alias
 * moved on a server without prompt events) went unseen.
 */
const T0 = 1755680000000;
const PROMPT = { 'mlflow.prompt.is_prompt': 'true' };
let fake: FakeMlflow;
let dir: string;
let spool: Spool | undefined;
const clock = { now: T0 + 3_600_000 };

beforeEach(async () => {
  fake = new FakeMlflow();
  await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-prompts-'));
  clock.now = T0 + 3_600_000;
});
afterEach(async () => {
  spool?.close();
  spool = undefined;
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

function auditor(): { runOnce(): Promise<boolean>; health(): { state: string } } {
  spool?.close();
  spool = Spool.open({ dir });
  const config = MlflowConfig.parse({ poll: { tracking_uri: fake.url, page_size: 50, max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000 } });
  const deps: ConnectorDeps<MlflowConfig> = { config, ingest: new Ingestor(spool, silentLogger()), spool, logger: silentLogger(), server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: dir, keepRaw: true, env: {} };
  return createMlflowConnector({ now: () => clock.now }).pollers!(deps)[0] as unknown as { runOnce(): Promise<boolean>; health(): { state: string } };
}
const all = () => spool!.read('test', 100_000, 0).map((r) => NormalizedEvent.parse(JSON.parse(r.body)));

function seedPrompt(): void {
  fake.addModel('fraud', T0);
  fake.addVersion('fraud', '1', T0 + 10, { MLmodel: 'flavors: {}', 'model.pkl': 'w' });
  fake.addRun('runfraud1', { user: 'alice' });
  fake.addModel('summarizer', T0 + 1, { tags: { ...PROMPT }, aliases: { production: '1' } });
  for (const v of ['1', '2']) {
    fake.addVersion('summarizer', v, T0 + 20 + Number(v), {}, { source: 'dummy-source', run_id: undefined, tags: { ...PROMPT, 'mlflow.prompt.text': `Summarize v${v}: {{text}}` } });
  }
}

describe('MLflow 3 prompts in the registry audit', () => {
  it('a prompt alias moved and a prompt version deleted are seen through the prompt listing', async () => {
    seedPrompt();
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    const filtered = fake.requests.filter((r) => r.query.get('filter') === "tag.`mlflow.prompt.is_prompt` = 'true'").map((r) => r.path);
    expect(filtered.sort()).toEqual(['/api/2.0/mlflow/model-versions/search', '/api/2.0/mlflow/registered-models/search']);
    fake.models.get('summarizer')!.aliases = { production: '2' };
    fake.deleteVersion('summarizer', '1');
    clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    const evs = all().filter((e) => e.resource?.type === 'prompt');
    expect(evs.map((e) => `${e.action} ${e.resource?.id}`).sort()).toEqual(['prompt.alias_set summarizer/2', 'prompt_version.delete summarizer/1']);
    // Prompts are not model versions: nothing hashed, no run read.
    expect(all().filter((e) => e.action === 'model_version.hash_registered').map((e) => e.resource?.id)).toEqual(['fraud/1']);
  });

  it('a server that lists prompts unfiltered too (older) reports each once; one that refuses the filter (400) still audits the rest', async () => {
    seedPrompt();
    fake.excludesPrompts = false;
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    fake.models.get('summarizer')!.aliases = { production: '2' };
    clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(all().filter((e) => e.resource?.type === 'prompt').map((e) => `${e.action} ${e.resource?.id}`)).toEqual(['prompt.alias_set summarizer/2']);

    fake.refusesPromptFilter = true;
    fake.models.get('fraud')!.aliases = { champion: '1' };
    fake.models.get('summarizer')!.aliases = { production: '1' };
    clock.now += 60_000;
    const before = fake.requests.length;
    const b = auditor();
    expect(await b.runOnce()).toBe(true);
    expect(fake.requests.slice(before).filter((r) => r.query.has('filter')).length).toBe(2); // asked, refused
    expect(b.health().state).toBe('healthy');
    expect(all().filter((e) => e.action === 'model_version.approve' || e.resource?.type === 'prompt').map((e) => `${e.action} ${e.resource?.id}`)).toEqual([
      'prompt.alias_set summarizer/2', 'model_version.approve fraud/1', 'prompt.alias_set summarizer/1',
    ]);
  });
});
