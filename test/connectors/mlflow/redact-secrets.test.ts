import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { ApprovalConfig, MlflowConfig } from '../../../connectors/mlflow/config.js';
import { registryDiffer } from '../../../connectors/mlflow/diff.js';
import { mlflowConnector } from '../../../connectors/mlflow/index.js';
import { versionKey, type ModelSnap, type VersionSnap } from '../../../connectors/mlflow/snapshot.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

/** Secrets users put in what they write to the registry: a source URL, tags, a description. */
const SECRETS = ['ghp_UserinfoTok3n', 'SigValu3xyz', 'AmzSig4ture', 'hf_TagTok3n', 'Hunt3r2pw', 'wandbK3y99', 'dbxTagPa55', 'dbxComm3ntPw'];
const expectNoSecret = (v: unknown) => {
  const json = JSON.stringify(v);
  for (const s of SECRETS) expect(json).not.toContain(s);
  return json;
};

const config = MlflowConfig.parse({});
const one = (record: unknown) => {
  const out = mlflowConnector.normalize!(record, { channel: 'test', receivedTime: '2025-08-20T10:00:00.000Z', keepRaw: true, config });
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  expect(NormalizedEvent.safeParse(out.events[0]).success).toBe(true);
  return out.events[0]!;
};

/** The real model_version.created delivery, given what users do write into it. */
function leakyCreated(): Record<string, unknown> {
  const rec = readFixtureJson<Record<string, any>>('mlflow', 'model_version.created.json');
  rec.data.source = 'https://bob:ghp_UserinfoTok3n@artifacts.example.com/models/fraud/1?sv=2022-11-02&sig=SigValu3xyz&X-Amz-Signature=AmzSig4ture&region=eu';
  rec.data.tags = { ...rec.data.tags, hf_token: 'hf_TagTok3n', notes: 'trained with password: "Hunt3r2pw" on gpu', dataset: 's3://bucket/fraud/v3' };
  rec.data.description = 'fraud model; run with --wandb-api-key wandbK3y99 --epochs 3';
  return rec;
}

describe('MLflow webhook: secrets users put in a source, tags or a description stay out of raw, ml and details', () => {
  it('model_version.created: source user-info and signatures, secret-named tags, text in tags and description', () => {
    const rec = leakyCreated();
    const before = JSON.stringify(rec);
    const ev = one(rec);
    const json = expectNoSecret(ev);
    const raw = ev.raw as { data: Record<string, any> };
    expect(raw.data.source).toBe('https://[redacted]@artifacts.example.com/models/fraud/1?sv=2022-11-02&sig=[redacted]&X-Amz-Signature=[redacted]&region=eu');
    expect(raw.data.tags).toEqual({ test_tag_key: 'test_tag_value', hf_token: '[redacted]', notes: 'trained with password: "[redacted]" on gpu', dataset: 's3://bucket/fraud/v3' });
    expect(raw.data.description).toBe('fraud model; run with --wandb-api-key [redacted] --epochs 3');
    expect(ev.ml?.model?.tags).toEqual(raw.data.tags);
    expect(ev.ml?.model?.artifact_uri).toContain('artifacts.example.com/models/fraud/1?sv=2022-11-02');
    expect(ev.details?.description).toBe(raw.data.description);
    // The rest readable, the caller's record untouched, the id that of the delivery as sent.
    expect(raw.data.name).toBe('model_version_created');
    expect(raw.data.run_id).toBe('1234567890abcdef');
    expect(json).toContain('region=eu');
    expect(JSON.stringify(rec)).toBe(before);
  });

  it('a delivery without secrets is kept as sent (the same raw object)', () => {
    const rec = readFixtureJson<Record<string, unknown>>('mlflow', 'model_version.created.json');
    expect(one(rec).raw).toBe(rec);
  });

  it('model_version_tag.set: a secret-named tag\'s value and a secret in another tag\'s value are hidden; approvals still read', () => {
    const rec = readFixtureJson<Record<string, any>>('mlflow', 'model_version_tag.set.json');
    const secret = one({ ...rec, data: { ...rec.data, key: 'hf_token', value: 'hf_TagTok3n' } });
    expectNoSecret(secret);
    expect(secret.details?.tag).toEqual({ key: 'hf_token', value: '[redacted]' });
    expect((secret.raw as any).data.value).toBe('[redacted]');
    const text = one({ ...rec, data: { ...rec.data, key: 'notes', value: 'password: "Hunt3r2pw"' } });
    expectNoSecret(text);
    expect(text.details?.tag).toEqual({ key: 'notes', value: 'password: "[redacted]"' });
    const approve = one({ ...rec, data: { ...rec.data, key: 'approval_status', value: 'approved' } });
    expect(approve.action).toBe('model_version.approve');
  });

  it('Databricks: secret-named tags, a comment\'s secret', () => {
    const body = {
      event: 'MODEL_VERSION_TAG_SET', webhook_id: 'w1', event_timestamp: 1632225654000, model_name: 'fraud', version: '3',
      tags: [{ key: 'db_password', value: 'dbxTagPa55' }, { key: 'team', value: 'risk' }], comment: 'token=dbxComm3ntPw',
    };
    const ev = one(body);
    expectNoSecret(ev);
    expect(ev.ml?.model?.tags).toEqual({ db_password: '[redacted]', team: 'risk' });
    expect((ev.raw as any).tags).toEqual([{ key: 'db_password', value: '[redacted]' }, { key: 'team', value: 'risk' }]);
    expect(ev.details?.comment).toBe('token=[redacted]');
  });

  it('mltrail normalize prints the delivery with its secrets hidden', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-secrets-'));
    try {
      const file = join(dir, 'deliveries.ndjson');
      writeFileSync(file, JSON.stringify(leakyCreated()));
      const r = await runCli(['normalize', '--platform', 'mlflow', file]);
      expect(r.code).toBe(0);
      expectNoSecret(r.out);
      expect(r.out).toContain('s3://bucket/fraud/v3');
      expect(r.out).toContain('--epochs 3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MLflow registry auditor: tag and description changes hide the same secrets', () => {
  const approval = ApprovalConfig.parse({});
  const NOW = Date.parse('2026-11-25T12:00:00Z');
  const CREATED = Date.parse('2026-11-20T09:00:00Z');
  const differ = () => registryDiffer({ approval, ownDigestTag: () => undefined, receivedTime: '2026-11-25T12:00:01.000Z' });
  const version = (over: Partial<VersionSnap>): VersionSnap => ({
    name: 'fraud', version: '3', current_stage: 'None', status: 'READY', user_id: 'alice', source: 's3://models/fraud/3', run_id: 'r1',
    description: '', tags: {}, aliases: [], creation_timestamp: CREATED, last_updated_timestamp: CREATED, ...over,
  });
  const snaps = (...vs: VersionSnap[]) => new Map(vs.map((v) => [versionKey(v.name, v.version), v]));

  it('version tag set, description change, a version first seen and deleted', () => {
    const before = version({});
    const after = version({ description: 'password: "Hunt3r2pw"', tags: { hf_token: 'hf_TagTok3n', team: 'risk' }, last_updated_timestamp: CREATED + 1 });
    const out = differ().diffVersions(snaps(before), snaps(after), new Set(), NOW);
    expectNoSecret(out);
    const desc = out.find((e) => e.details?.field === 'description')!;
    expect(desc.details).toMatchObject({ old: '', new: 'password: "[redacted]"' });
    const tag = out.find((e) => (e.details?.tag as any)?.key === 'hf_token')!;
    expect(tag.details?.tag).toEqual({ key: 'hf_token', old: undefined, value: '[redacted]' });
    expect(tag.ml?.model?.tags).toEqual({ hf_token: '[redacted]', team: 'risk' });
    expect(out.find((e) => (e.details?.tag as any)?.key === 'team')!.details?.tag).toMatchObject({ value: 'risk' });
    const created = differ().diffVersions(new Map(), snaps(after), new Set(), NOW);
    expectNoSecret(created);
    expect(created[0]!.details?.description).toBe('password: "[redacted]"');
    const deleted = differ().diffVersions(snaps(after), new Map(), new Set(), NOW);
    expectNoSecret(deleted);
    expect((deleted[0]!.details?.last_seen as any).tags).toEqual({ hf_token: '[redacted]', team: 'risk' });
  });

  it('registered model tags and description', () => {
    const m = (over: Partial<ModelSnap>): ModelSnap => ({ name: 'fraud', description: '', tags: {}, aliases: {}, creation_timestamp: CREATED, last_updated_timestamp: CREATED, prompt: false, ...over });
    const after = m({ description: 'token=wandbK3y99 for eval', tags: { db_password: 'dbxTagPa55' }, last_updated_timestamp: CREATED + 1 });
    const out = differ().diffModels(new Map([['fraud', m({})]]), new Map([['fraud', after]]), NOW);
    expectNoSecret(out);
    expect(out.find((e) => e.details?.field === 'description')!.details?.new).toBe('token=[redacted] for eval');
    expect(out.find((e) => (e.details?.tag as any)?.key === 'db_password')!.details?.tag).toMatchObject({ value: '[redacted]' });
    const created = differ().diffModels(new Map(), new Map([['fraud', after]]), NOW);
    expectNoSecret(created);
    expect(created[0]!.ml?.model?.tags).toEqual({ db_password: '[redacted]' });
  });
});
