import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, fixturePath, listFixtures, readFixtureJson } from '../../helpers/fixtures.js';

describe('mltrail normalize on the Vertex fixtures (built CLI)', () => {
  for (const platform of ['vertex', 'auto']) {
    it(`--platform ${platform}: every LogEntry normalizes; the non-LogEntry Pub/Sub message is reported, exit 1`, () => {
      const files = listFixtures('vertex').map((f) => fixturePath('vertex', f));
      const r = spawnSync(process.execPath, [CLI, 'normalize', '--platform', platform, ...files], { encoding: 'utf8', env: { ...process.env, MLTRAIL_CONFIG: '' } });
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      expect(events).toHaveLength(files.length - 1);
      expect(events.every((e) => e.platform === 'vertex' && e.schema_version === '1')).toBe(true);
      expect(events.map((e) => `${e.stage} ${e.action} ${e.outcome}`)).toContain('preprocessing monitor.anomaly success');
      expect(events.map((e) => `${e.stage} ${e.action} ${e.outcome}`)).toContain('platform resource.read failure');
      expect(r.stderr).toMatch(/cloudevents-MessagePublishedData-duplicatedFields\.json:1: message\.data: .*does not decode to a LogEntry/);
      expect(r.status).toBe(1);
    });
  }
});

describe('mltrail normalize refuses a LogEntry whose timestamp is not a time (built CLI)', () => {
  it('prints FILE:N naming the field timestamp and exits 1; the valid entry still comes out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-vertex-time-'));
    try {
      const entry = readFixtureJson<Record<string, unknown>>('vertex', 'otel-auditlog-activity.json');
      const file = join(dir, 'entries.ndjson');
      writeFileSync(file, [entry, { ...entry, timestamp: '0' }, { ...entry, timestamp: '10000-01-01T00:00:00Z' }].map((e) => JSON.stringify(e)).join('\n'));
      const r = spawnSync(process.execPath, [CLI, 'normalize', '--platform', 'vertex', file], { encoding: 'utf8', env: { ...process.env, MLTRAIL_CONFIG: '' } });
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${file}:2: field timestamp: timestamp "0" is not a valid RFC 3339 time`);
      expect(r.stderr).toContain(`${file}:3: field timestamp: timestamp "10000-01-01T00:00:00Z" is not a valid RFC 3339 time`);
      expect(r.stderr).not.toMatch(/invalid event/);
      expect(r.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
