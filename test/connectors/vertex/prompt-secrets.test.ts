import { describe, expect, it } from 'vitest';
import { redactJobSecrets } from '../../../core/secrets.js';
import { LOC, V1, auditEntry, normOne } from './samples.js';

/**
 * A Vertex AI prompt (prompt management saves it as a Dataset of the text prompt metadata schema): its metadata holds
 * what its author wrote, secrets pasted into the system instruction, a message or a variable's value included.
 */
const SCHEMA = 'gs://google-cloud-aiplatform/schema/dataset/metadata/text_prompt_1.0.0.yaml';
const SECRETS = ['sk-live-VxPromptK3y', 'VxSysPassw0rd', 'VxVarT0ken', 'VxNoteSecret'];

function promptDataset(): Record<string, any> {
  return {
    displayName: 'support-bot',
    metadataSchemaUri: SCHEMA,
    metadata: {
      promptType: 'freeform',
      note: 'rotated: DB_PASSWORD=VxNoteSecret',
      promptApiSchema: {
        apiSchemaVersion: '1.0.0',
        multimodalPrompt: {
          promptMessage: {
            model: 'projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001',
            contents: [{ role: 'user', parts: [{ text: 'Answer {question}. Call search with --api-key sk-live-VxPromptK3y' }] }],
            systemInstruction: { role: 'system', parts: [{ text: 'You are support. password: "VxSysPassw0rd"' }] },
          },
        },
        executions: [{ arguments: { question: { partList: { parts: [{ text: 'How do I reset?' }] } }, api_token: { partList: { parts: [{ text: 'VxVarT0ken' }] } } } }],
      },
    },
  };
}

describe('Vertex AI prompts: secrets in a prompt dataset\'s metadata stay out of raw and quarantine', () => {
  it('CreateDataset of a prompt: its text, system instruction and variables have their secrets hidden in raw, the prompt\'s words and model staying', () => {
    const dataset = promptDataset();
    const entry = auditEntry({
      method: `${V1}DatasetService.CreateDataset`,
      request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateDatasetRequest', parent: LOC, dataset },
    });
    const before = JSON.stringify(entry);
    const ev = normOne(entry);
    const json = JSON.stringify(ev);
    for (const s of SECRETS) expect(json).not.toContain(s);
    const meta = (ev.raw as any).protoPayload.request.dataset.metadata;
    expect(meta.note).toBe('rotated: DB_PASSWORD=[redacted]');
    expect(meta.promptApiSchema.multimodalPrompt.promptMessage.contents[0].parts[0].text).toBe('Answer {question}. Call search with --api-key [redacted]');
    expect(meta.promptApiSchema.multimodalPrompt.promptMessage.systemInstruction.parts[0].text).toBe('You are support. password: "[redacted]"');
    expect(meta.promptApiSchema.multimodalPrompt.promptMessage.model).toBe(dataset.metadata.promptApiSchema.multimodalPrompt.promptMessage.model);
    // A secret-named variable's value is hidden whole; another variable's words stay.
    expect(meta.promptApiSchema.executions[0].arguments).toEqual({ question: { partList: { parts: [{ text: 'How do I reset?' }] } }, api_token: '[redacted]' });
    expect(JSON.stringify(entry)).toBe(before);
    // What a rejected entry is quarantined as (redactRejected: redactJobSecrets): the same.
    const kept = JSON.stringify(redactJobSecrets(entry));
    for (const s of SECRETS) expect(kept).not.toContain(s);
  });

  it('an UpdateDataset naming no schema is read by its prompt metadata; another dataset with nothing to hide comes back as is (===)', () => {
    const { metadata } = promptDataset();
    const update = { dataset: { name: `${LOC}/datasets/1`, metadata } };
    expect(JSON.stringify(redactJobSecrets(update))).not.toMatch(/VxSysPassw0rd|sk-live-VxPromptK3y/);
    const tabular = { dataset: { displayName: 't', metadataSchemaUri: 'gs://google-cloud-aiplatform/schema/dataset/metadata/tabular_1.0.0.yaml', metadata: { inputConfig: { gcsSource: { uri: ['gs://b/data.csv'] } }, note: 'weekly export' } } };
    expect(redactJobSecrets(tabular)).toBe(tabular);
  });
});
