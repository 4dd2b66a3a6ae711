import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ingestor, reasonClass } from '../../core/ingest.js';
import { silentLogger } from '../../core/log.js';
import { Spool } from '../../core/spool/index.js';

const dirs: string[] = [];
const spools: Spool[] = [];
function open(dir = mkdtempSync(join(tmpdir(), 'mltrail-authfail-'))) {
  dirs.push(dir);
  const spool = Spool.open({ dir, synchronous: 'NORMAL' });
  spools.push(spool);
  return { dir, spool, ingest: new Ingestor(spool, silentLogger()) };
}
async function failures(spool: Spool): Promise<Array<Record<string, any>>> {
  await spool.synced();
  await new Promise((r) => setTimeout(r, 20));
  return spool.read('probe', 10_000, 0).map((r) => JSON.parse(r.body) as Record<string, any>).filter((e) => e.action === 'ingest.auth_failure');
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-26T11:30:05Z'));
});
afterEach(() => {
  vi.useRealTimers();
  for (const s of spools.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Ingestor.authFailure', () => {
  it('reasonClass keeps the fixed words and drops what the sender chose', () => {
    expect(reasonClass('token kid "k42" is not in the configured JWKS')).toBe('token kid');
    expect(reasonClass('token algorithm {"x":1} is not accepted (RS256 only)')).toBe('token algorithm');
    expect(reasonClass('X-MLflow-Timestamp is 401 s in the past; the window is 300 s')).toBe('X-MLflow-Timestamp is');
    expect(reasonClass('token rejected: Invalid token signature: eyJ…')).toBe('token rejected');
    expect(reasonClass('invalid bearer token')).toBe('invalid bearer token');
    expect(reasonClass('"quoted first"')).toBe('refused');
  });

  it('a spray from many addresses is bounded too: past 100 events a minute, new addresses share one event per route, code and kind', async () => {
    const { spool, ingest } = open();
    for (let i = 0; i < 1000; i++) {
      const ip = `2001:db8::${i.toString(16)}`; // one IPv6 /64 holds 2^64 of these
      ingest.authFailure({ platform: 'custom', channel: 'core.api', reason: 'invalid bearer token', ip });
      ingest.authFailure({ platform: 'sagemaker', channel: 'sagemaker.firehose', reason: 'invalid X-Amz-Firehose-Access-Key', ip });
    }
    const evs = await failures(spool);
    expect(evs.length).toBeLessThanOrEqual(102);
    const many = evs.filter((e) => e.details?.many_sources === true);
    expect(many.map((e) => e.channel).sort()).toEqual(['core.api', 'sagemaker.firehose']);
    // An address that already has its event this minute keeps counting there, not in the shared one.
    ingest.authFailure({ platform: 'custom', channel: 'core.api', reason: 'invalid bearer token', ip: '2001:db8::0' });
    expect(await failures(spool)).toHaveLength(evs.length);
    // The next minute starts over: an address gets its own event again.
    vi.setSystemTime(new Date('2026-11-26T11:31:05Z'));
    ingest.authFailure({ platform: 'custom', channel: 'core.api', reason: 'invalid bearer token', ip: '2001:db8::999' });
    const next = await failures(spool);
    expect(next).toHaveLength(evs.length + 1);
    expect(next.at(-1)).toMatchObject({ actor: { ip: '2001:db8::999' } });
    expect(next.at(-1)!.details?.many_sources).toBeUndefined();
  });

  it('a flood varying its kid or its timestamp is one event per route, address, code and kind of reason a minute', async () => {
    const { spool, ingest } = open();
    for (let i = 0; i < 100; i++) ingest.authFailure({ platform: 'vertex', channel: 'vertex.pubsub_push', reason: `token kid "k${i}" is not in the configured JWKS`, ip: '203.0.113.9' });
    for (let i = 0; i < 50; i++) ingest.authFailure({ platform: 'mlflow', channel: 'mlflow.webhook', reason: `X-MLflow-Timestamp is ${400 + i} s in the past; the window is 300 s`, code: 'STALE_TIMESTAMP', ip: '203.0.113.9' });
    // Another kind of reason, another code, another address: each its own event.
    ingest.authFailure({ platform: 'mlflow', channel: 'mlflow.webhook', reason: 'X-MLflow-Signature does not match the body under any configured secret', code: 'SIGNATURE', ip: '203.0.113.9' });
    ingest.authFailure({ platform: 'vertex', channel: 'vertex.pubsub_push', reason: 'token kid "k1" is not in the configured JWKS', ip: '198.51.100.7' });
    const evs = await failures(spool);
    expect(evs.map((e) => [e.channel, e.actor.ip, e.error.code]).sort()).toEqual([
      ['mlflow.webhook', '203.0.113.9', 'MLTRAIL_ERR_SIGNATURE'],
      ['mlflow.webhook', '203.0.113.9', 'MLTRAIL_ERR_STALE_TIMESTAMP'],
      ['vertex.pubsub_push', '198.51.100.7', 'MLTRAIL_ERR_UNAUTHORIZED'],
      ['vertex.pubsub_push', '203.0.113.9', 'MLTRAIL_ERR_UNAUTHORIZED'],
    ]);
    // The next minute is a new event.
    vi.setSystemTime(new Date('2026-11-26T11:31:05Z'));
    ingest.authFailure({ platform: 'vertex', channel: 'vertex.pubsub_push', reason: 'token kid "k999" is not in the configured JWKS', ip: '203.0.113.9' });
    expect(await failures(spool)).toHaveLength(5);
  });

  it('what a refused sender claimed is details.claimed_principal, not the actor', async () => {
    const { spool, ingest } = open();
    ingest.authFailure({ platform: 'vertex', channel: 'vertex.pubsub_push', reason: 'token signature is invalid', ip: '203.0.113.9', claimed: 'framed-user@corp.example' });
    const [ev] = await failures(spool);
    expect(ev!.actor).toEqual({ type: 'unknown', ip: '203.0.113.9' });
    expect(ev!.details).toEqual({ claimed_principal: 'framed-user@corp.example' });
  });

  it('never throws, even when the spool cannot be written (the sender still gets its 401, not a 500)', () => {
    const { spool, ingest } = open();
    // The first failure creates the id salt in the spool's state: a full disk refuses that write.
    spool.state.set = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    expect(() => ingest.authFailure({ platform: 'custom', channel: 'core.api', reason: 'invalid bearer token', ip: '203.0.113.9' })).not.toThrow();
  });

  it('ids are salted per data dir (not computable by a sender), and stable across restarts of one', async () => {
    const a = open();
    const f = { platform: 'custom' as const, channel: 'core.api', reason: 'invalid bearer token', ip: '203.0.113.9' };
    a.ingest.authFailure(f);
    const [first] = await failures(a.spool);
    // A restart in the same minute: the same id, a duplicate, so still one event.
    const again = new Ingestor(a.spool, silentLogger());
    again.authFailure(f);
    expect((await failures(a.spool)).map((e) => e.id)).toEqual([first!.id]);
    const b = open();
    b.ingest.authFailure(f);
    const [other] = await failures(b.spool);
    expect(other!.id).not.toBe(first!.id);
  });

  it('remembers a bounded number of recent failures: a flood from ever new addresses does not grow memory without end', () => {
    const { ingest } = open();
    for (let i = 0; i < 10_050; i++) ingest.authFailure({ platform: 'custom', channel: 'core.api', reason: 'invalid bearer token', ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
    expect((ingest as unknown as { recentAuthFailures: Map<string, number> }).recentAuthFailures.size).toBeLessThanOrEqual(10_000);
  });
});
