import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, fixturePath, listFixtures } from '../../helpers/fixtures.js';

const run = promisify(execFile);

async function normalizeCli(platform: string, files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'normalize', '--platform', platform, ...files], { env: { ...process.env, MLTRAIL_CONFIG: '' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('mltrail normalize on the SageMaker fixtures (built CLI)', () => {
  const files = listFixtures('sagemaker')
    .filter((n) => n !== 'firehose-http-endpoint-response-success.awsdocs.json')
    .map((n) => fixturePath('sagemaker', n));

  for (const platform of ['sagemaker', 'auto']) {
    it(`--platform ${platform}: every event, skip and rejection accounted for`, async () => {
      const r = await normalizeCli(platform, files);
      // Doc examples that are not valid CloudTrail (truncated CWL messages, "hello" Firehose records) are rejected → exit 1.
      expect(r.code).toBe(1);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { stage: string; action: string; platform: string; actor?: { type: string } });
      expect(events).toHaveLength(13);
      expect(events.every((e) => e.platform === 'sagemaker')).toBe(true);
      expect(events.map((e) => `${e.stage}/${e.action}`)).toEqual(
        expect.arrayContaining(['training/training_job.create', 'serving/endpoint.deploy', 'ingestion/feature_record.write', 'registry/model_version.status_change', 'serving/monitor.violation']),
      );
      const lines = r.stderr.trim().split('\n');
      expect(lines.filter((l) => /: skipped/.test(l))).toHaveLength(6);
      expect(lines.filter((l) => /cloudtrail-digest-file.*skipped: CloudTrail digest file/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /insight-event.*skipped Records\[\d\]: CloudTrail Insight record/.test(l))).toHaveLength(2);
      expect(lines.filter((l) => /testevent.*skipped: S3 test event/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /cwlogs-subscription.*logEvents\[\d\]: field message: .*not JSON/.test(l))).toHaveLength(3);
      expect(lines.filter((l) => /firehose-http-endpoint-request.*records\[\d\]: field data: .*not JSON/.test(l))).toHaveLength(2);
    });
  }

  it('exit 0 on a file that is all good', async () => {
    const r = await normalizeCli('auto', [fixturePath('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ stage: 'serving', action: 'endpoint.deploy', actor: { name: 'intern' }, outcome: 'success' });
  });

  it('replay reads CloudTrail .json.gz log files; the same record in two files is one event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-sm-replay-'));
    try {
      const record = JSON.parse(readFileSync(fixturePath('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json'), 'utf8')) as unknown;
      const a = join(dir, '111122223333_CloudTrail_us-west-2_20180102T1340Z_a.json.gz');
      const b = join(dir, '111122223333_CloudTrail_us-west-2_20180102T1345Z_b.json.gz');
      writeFileSync(a, gzipSync(JSON.stringify({ Records: [record] })));
      writeFileSync(b, gzipSync(JSON.stringify({ Records: [record, JSON.parse(readFileSync(fixturePath('sagemaker', 'cloudtrail-sagemaker-featurestore-putrecord-dataevent.awsdocs.json'), 'utf8'))] })));
      const events = join(dir, 'events.ndjson');
      const { stderr } = await run(process.execPath, [CLI, 'replay', '--platform', 'sagemaker', '--events', events, a, b], { env: { ...process.env, MLTRAIL_CONFIG: '' } });
      expect(stderr).toMatch(/replay: 2 events \(1 duplicates\)/);
      expect(readFileSync(events, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action).sort()).toEqual(['endpoint.deploy', 'feature_record.write']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replay: violations of two endpoints in the default output layout (<endpoint>/<schedule>/yyyy/mm/dd/hh) alert on each endpoint, not on one empty entity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-sm-endpoints-'));
    try {
      const body = readFileSync(fixturePath('sagemaker', 'modelmonitor-bias-drift-constraint_violations.awsdocs.json'));
      for (const ep of ['fraud-prod', 'churn-prod']) {
        const d = join(dir, 'monitoring', ep, `${ep}-bias-schedule`, '2026', '11', '25', '10');
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'constraint_violations.json'), body);
      }
      const events = join(dir, 'events.ndjson');
      const { stdout } = await run(process.execPath, [CLI, 'replay', '--platform', 'sagemaker', '--events', events, join(dir, 'monitoring')], { env: { ...process.env, MLTRAIL_CONFIG: '' } });
      const evs = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ml?: { deployment?: { endpoint?: string } }; resource?: { id?: string; name?: string } });
      expect(evs.map((e) => [e.ml?.deployment?.endpoint, e.resource?.name]).sort()).toEqual([
        ['churn-prod', 'churn-prod-bias-schedule'], ['churn-prod', 'churn-prod-bias-schedule'],
        ['fraud-prod', 'fraud-prod-bias-schedule'], ['fraud-prod', 'fraud-prod-bias-schedule'],
      ]);
      expect(evs.every((e) => !!e.resource?.id)).toBe(true);
      const alerts = stdout.trim().split('\n').map((l) => JSON.parse(l) as { rule_id: string; entity: { type: string; id: string } });
      expect(new Set(alerts.map((a) => `${a.entity.type}:${a.entity.id}`))).toEqual(new Set(['endpoint:fraud-prod', 'endpoint:churn-prod']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replay: the same Model Monitor violations in two hourly runs are two sets of events; the same run named by two paths is one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-sm-monitor-'));
    try {
      const body = readFileSync(fixturePath('sagemaker', 'modelmonitor-bias-drift-constraint_violations.awsdocs.json'));
      const runs: Array<[string, string]> = [['09', '2026-11-26T09:12:00Z'], ['10', '2026-11-26T10:12:00Z']];
      for (const [hour, mtime] of runs) {
        const d = join(dir, 'monitoring', 'fraud-ep', 'sched', '2026', '11', '26', hour);
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'constraint_violations.json'), body);
        utimesSync(join(d, 'constraint_violations.json'), new Date(mtime), new Date(mtime));
      }
      const rel = (hour: string) => `monitoring/fraud-ep/sched/2026/11/26/${hour}/constraint_violations.json`;
      const events = join(dir, 'events.ndjson');
      // Hour 09 twice (relative and absolute path), hour 10 once: 2 runs × 2 violations, 2 duplicates.
      const { stderr } = await run(process.execPath, [CLI, 'replay', '--platform', 'sagemaker', '--events', events, rel('09'), join(dir, rel('09')), `./monitoring/../${rel('10')}`], { cwd: dir, env: { ...process.env, MLTRAIL_CONFIG: '' } });
      expect(stderr).toMatch(/replay: 4 events \(2 duplicates\)/);
      const out = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; time: string });
      expect(out.every((e) => e.action === 'monitor.violation')).toBe(true);
      expect(out.map((e) => e.time).sort()).toEqual(['2026-11-26T09:12:00.000Z', '2026-11-26T09:12:00.000Z', '2026-11-26T10:12:00.000Z', '2026-11-26T10:12:00.000Z']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
