import { describe, expect, it } from 'vitest';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { mlflowConnector } from '../../../connectors/mlflow/index.js';
import { promptTemplate } from '../../../connectors/mlflow/redact.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

/** Secrets a prompt author pastes into a template (a tool's key, an example call's token). */
const SECRETS = ['sk-live-PromptK3y9', 'PromptPassw0rd', 'ChatT0kenValue', 'LegacyTplPw'];
const config = MlflowConfig.parse({});
const one = (record: unknown) => {
  const out = mlflowConnector.normalize!(record, { channel: 'test', receivedTime: '2025-09-12T08:00:00.000Z', keepRaw: true, config });
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  expect(NormalizedEvent.safeParse(out.events[0]).success).toBe(true);
  const json = JSON.stringify(out.events[0]);
  for (const s of SECRETS) expect(json).not.toContain(s);
  return out.events[0]!;
};

describe('MLflow prompt registry: a prompt template keeps no secret in raw or details.template', () => {
  it('prompt_version.created (the real delivery): a text template\'s secrets are hidden in raw.data.template and details.template, the rest of it and its variables stay', () => {
    const rec = readFixtureJson<Record<string, any>>('mlflow', 'prompt_version.created.json');
    const before = JSON.stringify(rec);
    rec.data.template = 'Hello {{name}}! Call the tool with --api-key sk-live-PromptK3y9 and password: "PromptPassw0rd".';
    const ev = one(rec);
    const shown = 'Hello {{name}}! Call the tool with --api-key [redacted] and password: "[redacted]".';
    expect(ev.details?.template).toBe(shown);
    expect((ev.raw as any).data.template).toBe(shown);
    expect((ev.raw as any).data.name).toBe('example_prompt');
    // The fixture's own template has nothing to hide: shown as sent.
    const plain = one(JSON.parse(before));
    expect(plain.details?.template).toBe('Hello {{name}}!');
    expect(plain.raw).toEqual(JSON.parse(before));
  });

  it('a chat template (a list of messages, or that list as JSON text) has its secret-named keys and text secrets hidden', () => {
    const rec = readFixtureJson<Record<string, any>>('mlflow', 'prompt_version.created.json');
    rec.data.template = [{ role: 'system', content: 'Use token: "ChatT0kenValue" for the search tool.' }, { role: 'user', content: '{{question}}' }];
    const ev = one(rec);
    const shown = [{ role: 'system', content: 'Use token: "[redacted]" for the search tool.' }, { role: 'user', content: '{{question}}' }];
    expect(ev.details?.template).toEqual(shown);
    expect((ev.raw as any).data.template).toEqual(shown);
    expect(promptTemplate(JSON.stringify([{ role: 'system', content: 'x', api_key: 'ChatT0kenValue' }]))).toBe('[{"role":"system","content":"x","api_key":"[redacted]"}]');
    const same = [{ role: 'user', content: 'Hi {{name}}' }];
    expect(promptTemplate(same)).toBe(same);
  });

  it('a 3.3-era prompt version (model_version.created tagged mlflow.prompt.is_prompt): details.template, read from mlflow.prompt.text, is hidden as the tag is', () => {
    const ev = one({ entity: 'model_version', action: 'created', timestamp: '2025-09-12T07:44:19.266530+00:00', data: {
      name: 'support', version: '2', source: 'dummy-source', run_id: null, description: null,
      tags: { 'mlflow.prompt.is_prompt': 'true', 'mlflow.prompt.text': 'Hi {{name}}, DB_PASSWORD=LegacyTplPw' },
    } });
    expect(ev.details?.template).toBe('Hi {{name}}, DB_PASSWORD=[redacted]');
    expect((ev.raw as any).data.tags['mlflow.prompt.text']).toBe('Hi {{name}}, DB_PASSWORD=[redacted]');
  });
});
