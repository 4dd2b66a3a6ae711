import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, fixturePath, listFixtures } from '../../helpers/fixtures.js';

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
