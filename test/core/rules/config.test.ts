import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { runCli } from '../../helpers/cli.js';
import { replayEvents } from '../../../bridge/replay.js';
import { BUILTIN_RULES } from '../../../core/rules/config.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { tmpDir } from '../../helpers/bridge.js';
import { ROOT } from '../../helpers/fixtures.js';
import { DAY, T0, actors, at, ev } from '../../rules/events.js';

function yamlFile(text: string): string {
  const f = join(tmpDir(), 'mltrail.yaml');
  writeFileSync(f, text);
  return f;
}

const cli = (args: string[]) => runCli(args);

describe('rules configuration', () => {
  it('has the exact catalogue ids, each with its stage', () => {
    const ids = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore()).catalogue().map((r) => `${r.id}:${r.stage}`);
    expect(ids).toEqual([
      'ingestion.volume_anomaly:ingestion', 'ingestion.schema_mismatch:ingestion', 'ingestion.unfamiliar_writer:ingestion', 'ingestion.source_auth_failure:ingestion',
      'preprocessing.distribution_shift:preprocessing', 'preprocessing.code_modified:preprocessing',
      'training.network_egress:training', 'training.off_hours_job:training', 'training.unfamiliar_data_source:training', 'training.unverified_dependency:training',
      'evaluation.score_drop:evaluation', 'evaluation.adversarial_failure:evaluation', 'evaluation.train_test_overlap:evaluation', 'evaluation.self_approval:evaluation',
      'registry.approved_model_modified:registry', 'registry.unapproved_deployment:registry', 'registry.rejection_reversed:registry', 'registry.version_rollback:registry', 'registry.modification_rate:registry',
      'serving.hash_mismatch:serving', 'serving.unapproved_batch_inference:serving', 'serving.behavioral_drift:serving', 'serving.error_spike:serving', 'serving.unverified_image:serving', 'serving.runtime_model_source:serving', 'serving.monitoring_disabled:serving', 'serving.model_source_unverifiable:serving', 'access.separation_of_duties:platform',
      'platform.artifact_exported:platform', 'platform.audit_log_tampering:platform', 'platform.artifact_shared:platform', 'platform.notebook_exposure:platform', 'platform.ml_workload_access:platform',
    ]);
  });

  it('applies the documented defaults: statistical k=2, N=3, 1h, 28d learning; per-event N=1', () => {
    const cat = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore()).catalogue();
    const vol = cat.find((r) => r.id === 'ingestion.volume_anomaly')!.settings;
    expect(vol).toMatchObject({ k: 2, n: 3, window_ms: 3_600_000, learning_ms: 28 * 86_400_000, direction: 'both' });
    const sod = cat.find((r) => r.id === 'access.separation_of_duties')!.settings;
    expect(sod).toMatchObject({ event_n: 1, event_learning_ms: 0 });
    expect(cat.find((r) => r.id === 'serving.error_spike')!.settings).toMatchObject({ direction: 'above' });
  });

  it('rejects unknown keys, unknown rule ids and bad values, naming the path', () => {
    const bad = (rules: string) => () => loadConfig({ file: yamlFile(`rules:\n${rules}`), env: {} });
    expect(bad('  ingestion.volume_anomaly:\n    kk: 3\n')).toThrow(/rules\.ingestion\.volume_anomaly: unknown key\(s\): kk/);
    expect(bad('  ingestion.volume_anomalie:\n    k: 3\n')).toThrow(/unknown key\(s\): ingestion\.volume_anomalie/);
    expect(bad('  registry.modification_rate:\n    window: soon\n')).toThrow(/window/);
    expect(bad('  custom:\n    - { id: registry.unapproved_deployment, kind: match, stage: registry, where: { actions: ["x"] } }\n')).toThrow(/built-in rule id/);
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: {}, bogus: 1 }\n')).toThrow(/bogus/);
  });

  it('rejects a pattern that is not a regular expression, a zero window and an empty allowed window, naming the path', () => {
    const bad = (rules: string) => () => loadConfig({ file: yamlFile(`rules:\n${rules}`), env: {} });
    // These used to pass check-config and then fail every event (a bad regex) or never close a window (0h).
    expect(bad('  ingestion.source_auth_failure:\n    error_pattern: "("\n')).toThrow(/rules\.ingestion\.source_auth_failure\.error_pattern: not a valid regular expression/);
    expect(bad('  preprocessing.distribution_shift:\n    monitor_pattern: "["\n')).toThrow(/rules\.preprocessing\.distribution_shift\.monitor_pattern: not a valid regular expression/);
    expect(bad('  serving.behavioral_drift:\n    monitor_pattern: "a(b"\n')).toThrow(/monitor_pattern: not a valid regular expression/);
    // A where that can never match (a platform spelt another way, a misspelt action) is an error, not a silent rule.
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: { platforms: [SageMaker] } }\n')).toThrow(/rules\.custom\.0\.where\.platforms\.0: .*"sagemaker"/);
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: { actions: [secret.raed] } }\n')).toThrow(/rules\.custom\.0\.where\.actions\.0: "secret\.raed" matches no action/);
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: { actions: ["secret.read", "model_version.*"], platforms: [sagemaker] } }\n')).not.toThrow();
    expect(bad('  ingestion.volume_anomaly:\n    window: 0h\n')).toThrow(/rules\.ingestion\.volume_anomaly\.window: expected a duration longer than zero/);
    expect(bad('  training.off_hours_job:\n    allowed_window: { from_hour: 9, to_hour: 9 }\n')).toThrow(/allowed_window\.to_hour: .*empty/);
    // 0 → 24 is the whole day, not an empty window.
    expect(loadConfig({ file: yamlFile('rules:\n  training.off_hours_job:\n    allowed_window: { days: [mon], from_hour: 0, to_hour: 24 }\n'), env: {} }).rules).toBeDefined();
  });

  it('refuses settings that would silently switch a rule off or make it fire on everything, naming the path', () => {
    const bad = (rules: string) => () => loadConfig({ file: yamlFile(`rules:\n${rules}`), env: {} });
    // A percent written where a fraction is meant: threshold 2 (200 %) could never fire for accuracy; min_score 50 fails every score.
    expect(bad('  evaluation.score_drop:\n    threshold: 2\n')).toThrow(/rules\.evaluation\.score_drop\.threshold: a fraction of the metric: 0\.02 is 2 %/);
    expect(bad('  evaluation.score_drop:\n    threshold: 1\n')).toThrow(/threshold/);
    expect(bad('  evaluation.score_drop:\n    threshold: 0.05\n')).not.toThrow();
    expect(bad('  evaluation.adversarial_failure:\n    min_score: 50\n')).toThrow(/rules\.evaluation\.adversarial_failure\.min_score: a score from 0 to 1/);
    expect(bad('  evaluation.adversarial_failure:\n    min_score: -0.1\n')).toThrow(/min_score/);
    expect(bad('  evaluation.adversarial_failure:\n    min_score: 1\n')).not.toThrow();
    // No day allowed would make every job off-hours.
    expect(bad('  training.off_hours_job:\n    allowed_window: { days: [], from_hour: 8, to_hour: 18 }\n')).toThrow(/allowed_window\.days: list at least one day/);
    // A match rule without criteria alerts on every event; a misspelt field path matches none.
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: {} }\n')).toThrow(/rules\.custom\.0\.where: give at least one of/);
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: { fields: {} } }\n')).toThrow(/where: give at least one of/);
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: { fields: { cloud.regoin: "eu-*" } } }\n')).toThrow(/rules\.custom\.0\.where\.fields\.cloud\.regoin: not a field path of the event: cloud has no member "regoin"/);
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: { fields: { actr.email: "*" } } }\n')).toThrow(/an event has no field "actr"/);
    expect(bad('  custom:\n    - { id: platform.x, kind: statistical, stage: platform, measure: "sum:ml.dat.rows" }\n')).not.toThrow(); // ml.* is open: connectors add facts
    expect(bad('  custom:\n    - { id: platform.x, kind: statistical, stage: platform, measure: "sum:resource.bytes" }\n')).toThrow(/sum: names no field of the event: resource has no member "bytes"/);
    // Paths into open parts (details, raw, ml) and array elements are accepted.
    expect(bad('  custom:\n    - { id: platform.x, kind: match, stage: platform, where: { fields: { cloud.region: "eu-*", details.tag.key: "x", raw.userIdentity.arn: "*", actor.chain.0: "*" } } }\n')).not.toThrow();
  });

  it('an overnight allowed window (from_hour > to_hour) runs past midnight and belongs to the day it opened', () => {
    const cfg = RulesConfig.parse({ 'training.off_hours_job': { allowed_window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from_hour: 18, to_hour: 9 } } });
    // T0 is Monday 10:00 UTC.
    const job = (ms: number) => ev({ time: at(ms), platform: 'vertex', stage: 'training', action: 'training_job.create', actor: actors.ciGcp, resource: { type: 'custom_job', name: 'nightly' }, ml: { job: { name: 'nightly', network_isolation: true } } });
    const times = {
      monEvening: T0 + 10 * 3_600_000, // Mon 20:00: inside
      tueEarly: T0 + 17 * 3_600_000, // Tue 03:00: inside (Monday's window)
      tueNoon: T0 + 26 * 3_600_000, // Tue 12:00: outside
      satEarly: T0 + 4 * DAY + 17 * 3_600_000, // Sat 03:00: inside (Friday's window)
      sunEarly: T0 + 5 * DAY + 17 * 3_600_000, // Sun 03:00: outside (Saturday's window is not allowed)
    };
    const { alerts } = replayEvents(Object.values(times).map(job), { rules: cfg });
    expect(alerts.filter((a) => a.rule_id === 'training.off_hours_job').map((a) => a.time)).toEqual([at(times.tueNoon), at(times.sunEarly)]);
  });

  it('changing time_zone learns the pattern again: hours counted in UTC are not judged as New York hours', () => {
    // One person submits every day at 14:00 UTC for 60 days; after 45 the operator sets time_zone (a restart: same state).
    const state = new MemoryStateStore();
    const job = (d: number) => ev({ id: `tz-${d}`, time: at(T0 + d * DAY + 4 * 3_600_000), platform: 'sagemaker', stage: 'training', action: 'training_job.create', actor: actors.aliceAws, resource: { type: 'training_job', name: `tzjob-${d}` }, ml: { job: { name: `tzjob-${d}`, network_isolation: true } } });
    const run = (cfg: Record<string, unknown>, days: number[]) => {
      const engine = createRuleEngine(RulesConfig.parse(cfg), state);
      return days.flatMap((d) => engine.process(job(d), Date.parse(job(d).time))).filter((a) => a.rule_id === 'training.off_hours_job');
    };
    expect(run({}, Array.from({ length: 45 }, (_, d) => d))).toEqual([]);
    for (const zone of ['America/New_York', 'Asia/Tokyo']) {
      expect(run({ 'training.off_hours_job': { time_zone: zone } }, [45, 46, 47])).toEqual([]);
    }
    // Near miss: back in UTC, the pattern learned there still holds — a 03:00 UTC job stands out.
    const late = ev({ id: 'tz-late', time: at(T0 + 48 * DAY - 7 * 3_600_000), platform: 'sagemaker', stage: 'training', action: 'training_job.create', actor: actors.aliceAws, resource: { type: 'training_job', name: 'tzjob-late' }, ml: { job: { name: 'tzjob-late', network_isolation: true } } });
    const utc = createRuleEngine(RulesConfig.parse({}), state);
    expect(utc.process(late, Date.parse(late.time)).filter((a) => a.rule_id === 'training.off_hours_job').map((a) => a.details?.basis)).toEqual(['learned_pattern']);
  });

  it('an allowed window in an IANA time zone follows daylight saving; a bad zone is a config error', () => {
    const window = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from_hour: 9, to_hour: 17 };
    const cfg = RulesConfig.parse({ 'training.off_hours_job': { allowed_window: window, time_zone: 'America/New_York' } });
    const job = (iso: string) => ev({ id: iso, time: iso, platform: 'vertex', stage: 'training', action: 'training_job.create', actor: actors.ciGcp, resource: { type: 'custom_job', name: 'nightly' }, ml: { job: { name: 'nightly', network_isolation: true } } });
    const times = [
      '2026-07-01T13:30:00.000Z', // Wed 09:30 EDT: inside
      '2026-07-01T21:30:00.000Z', // Wed 17:30 EDT: outside
      '2027-01-06T13:30:00.000Z', // Wed 08:30 EST: outside
      '2027-01-06T21:30:00.000Z', // Wed 16:30 EST: inside
    ];
    const fired = replayEvents(times.map(job), { rules: cfg }).alerts.filter((a) => a.rule_id === 'training.off_hours_job');
    expect(fired.map((a) => [a.time, a.details?.hour, a.details?.time_zone])).toEqual([
      [times[1], 17, 'America/New_York'],
      [times[2], 8, 'America/New_York'],
    ]);
    const bad = (yaml: string) => () => loadConfig({ file: yamlFile(`rules:\n${yaml}`), env: {} });
    expect(bad('  training.off_hours_job:\n    time_zone: Mars/Olympus\n')).toThrow(/rules\.training\.off_hours_job\.time_zone: expected an IANA time zone/);
    expect(bad('  training.off_hours_job:\n    time_zone: Europe/Berlin\n    utc_offset_hours: 1\n')).toThrow(/time_zone or utc_offset_hours, not both/);
  });

  it('a first job dated far ahead (a bad clock) does not keep the learned pattern from ever having history', () => {
    const job = (id: string, ms: number) => ev({ id, time: at(ms), platform: 'vertex', stage: 'training', action: 'training_job.create', actor: actors.ciGcp, resource: { type: 'custom_job', name: 'nightly' }, ml: { job: { name: 'nightly', network_isolation: true } } });
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    engine.process(job('future', Date.parse('2099-01-01T10:00:00Z')));
    for (let d = 0; d < 30; d++) engine.process(job(`day${d}`, T0 + d * DAY));
    // 30 days of 10:00 jobs, then one at 03:00.
    const late = engine.process(job('night', T0 + 30 * DAY + 17 * 3_600_000));
    expect(late.filter((a) => a.rule_id === 'training.off_hours_job').map((a) => a.evidence.at(-1))).toEqual(['night']);
  });

  it('with no learning period, a detection older than the first event seen (a backfill after live input) is an alert, not observe', () => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const deploy = (id: string, ms: number) =>
      ev({ id, time: at(ms), platform: 'mlflow', stage: 'serving', action: 'endpoint.deploy', actor: actors.ci, ml: { deployment: { endpoint: `e-${id}` }, model: { name: `m-${id}`, version: '1' } } });
    expect(engine.process(deploy('live', T0)).map((a) => [a.rule_id, a.mode])).toEqual([['registry.unapproved_deployment', 'alert']]);
    expect(engine.process(deploy('backfilled', T0 - 10 * DAY)).map((a) => [a.rule_id, a.mode])).toEqual([['registry.unapproved_deployment', 'alert']]);
    // A configured learning period still applies from the first event seen.
    const learning = createRuleEngine(RulesConfig.parse({ 'registry.unapproved_deployment': { learning: '2d' } }), new MemoryStateStore());
    expect(learning.process(deploy('l1', T0)).map((a) => a.mode)).toEqual(['observe']);
    expect(learning.process(deploy('l2', T0 + 3 * DAY)).map((a) => a.mode)).toEqual(['alert']);
  });

  it('one rule throwing on an event does not stop the other rules evaluating it', () => {
    const cfg = RulesConfig.parse({});
    const errors: string[] = [];
    const engine = createRuleEngine(cfg, new MemoryStateStore(), (ruleId) => errors.push(ruleId));
    // Break one rule's setting after validation (as a future bug in a rule kind would).
    const broken = cfg as unknown as Record<string, Record<string, unknown>>;
    broken['ingestion.source_auth_failure'] = { error_pattern: '(' };
    const engine2 = createRuleEngine(cfg, new MemoryStateStore(), (ruleId) => errors.push(ruleId));
    const dep = ev({ time: at(T0), platform: 'mlflow', stage: 'serving', action: 'endpoint.deploy', actor: actors.ci, ml: { deployment: { endpoint: 'e' }, model: { name: 'm', version: '1' } } });
    expect(engine.process(dep).map((a) => a.rule_id)).toEqual(['registry.unapproved_deployment']);
    expect(errors).toEqual([]);
    expect(engine2.process({ ...dep, id: 'dep-2' }).map((a) => a.rule_id)).toEqual(['registry.unapproved_deployment']);
    expect(errors).toEqual(['ingestion.source_auth_failure']);
  });

  it('a user adds rules of the built-in kinds without code', () => {
    const cfg = loadConfig({
      file: yamlFile(`rules:
  custom:
    - id: platform.secret_read
      kind: match
      stage: platform
      severity: high
      where: { actions: ["secret.read"], platforms: [sagemaker] }
      entity: actor
    - id: registry.late_approval
      kind: off_hours_job
      stage: registry
      allowed_window: { days: [mon, tue, wed, thu, fri], from_hour: 8, to_hour: 18 }
`),
      env: {},
    });
    const e1 = ev({ time: at(T0), platform: 'sagemaker', stage: 'platform', action: 'secret.read', operation: 'GetSecretValue', actor: actors.aliceAws });
    const e2 = ev({ time: at(T0 + 5 * DAY + 13 * 3_600_000), platform: 'vertex', stage: 'training', action: 'pipeline_run.create', actor: actors.ciGcp, resource: { type: 'pipeline_run', name: 'p' }, ml: { job: { name: 'p', network_isolation: true } } });
    const { alerts } = replayEvents([e1, e2], cfg);
    expect(alerts.map((a) => [a.rule_id, a.stage, a.severity, a.entity.id])).toEqual([
      ['platform.secret_read', 'platform', 'high', 'alice@corp.example'],
      ['registry.late_approval', 'registry', 'medium', 'ci-deployer@proj.iam.gserviceaccount.com'],
    ]);
  });

  it('a disabled rule stays quiet; approval markers are configurable', () => {
    const v = ev({ time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor: actors.ci, ml: { model: { name: 'm', version: '1', tags: { adv_verdict: 'passed' } } } });
    const gate = ev({ time: at(T0 + 1000), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', actor: actors.bob, ml: { model: { name: 'm', version: '1', aliases: ['gold'] } } });
    const dep = ev({ time: at(T0 + 2000), platform: 'mlflow', stage: 'serving', action: 'endpoint.deploy', actor: actors.ci, ml: { deployment: { endpoint: 'e' }, model: { name: 'm', version: '1' } } });
    expect(replayEvents([v, gate, dep], { rules: RulesConfig.parse({}) }).alerts.map((a) => a.rule_id)).toEqual(['registry.unapproved_deployment']);
    expect(replayEvents([v, gate, dep], { rules: RulesConfig.parse({ approval: { aliases: ['gold'] } }) }).alerts).toEqual([]);
    expect(replayEvents([v, gate, dep], { rules: RulesConfig.parse({ 'registry.unapproved_deployment': { enabled: false } }) }).alerts).toEqual([]);
  });

  it('the README example configuration is valid', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```yaml\n(rules:\n  approval:[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const cfg = loadConfig({ file: yamlFile(block!), env: {} });
    expect(cfg.rules.custom.map((c) => c.id)).toEqual(['platform.secret_read', 'serving.latency_spike', 'serving.inference_volume']);
  });

  it('mltrail rules list prints every rule with its current settings', async () => {
    const f = yamlFile('rules:\n  serving.error_spike:\n    k: 3.5\n    mode: observe\n  access.separation_of_duties: { lookback: 14d, production_endpoints: ["*-prod"] }\n');
    const r = await cli(['rules', 'list', '--config', f]);
    expect(r.code).toBe(0);
    for (const b of BUILTIN_RULES) expect(r.out).toContain(b.id);
    expect(r.out).toMatch(/serving\.error_spike\s+serving\s+observe\s+medium\s+window=1h k=3\.5 above N=3 learning=28d/);
    // A rule's own settings are shown too.
    expect(r.out).toMatch(/access\.separation_of_duties .* suppress=1d lookback=14d production_endpoints=\["\*-prod"\]/);
    const json = await cli(['rules', 'list', '--json', '--config', f]);
    expect(json.out.trim().split('\n')).toHaveLength(BUILTIN_RULES.length);
    // --json shows each kind setting as it applies: the configured value, else the kind's default.
    const byId = new Map(json.out.trim().split('\n').map((l) => JSON.parse(l) as { id: string; settings: Record<string, unknown> }).map((x) => [x.id, x.settings]));
    expect(byId.get('access.separation_of_duties')).toMatchObject({ lookback: '14d', production_endpoints: ['*-prod'], data_write_stages: ['ingestion', 'preprocessing'], exempt: [] });
    expect(byId.get('training.off_hours_job')).toMatchObject({ min_history: '28d', min_jobs: 10, tolerance_hours: 1, min_support: 2, utc_offset_hours: 0 });
    expect(byId.get('evaluation.score_drop')).toMatchObject({ threshold: 0.02, compare: 'both', metrics: expect.objectContaining({ accuracy: 'higher', rmse: 'lower' }) });
    expect(byId.get('training.unverified_dependency')).toMatchObject({ require_digest: true, allowed_registries: expect.arrayContaining(['gcr.io']) });
    // The table shows only what the config changes, not every default.
    expect(r.out).not.toMatch(/data_write_stages=/);
    expect((await cli(['rules', 'frob'])).code).toBe(2);
  });
});

describe('custom statistical rules', () => {
  it('count every event when `where` is left out', () => {
    const cfg = RulesConfig.parse({ custom: [{ id: 'ingestion.cnt', kind: 'statistical', stage: 'ingestion', measure: 'count' }] });
    expect(cfg.custom[0]).toMatchObject({ id: 'ingestion.cnt', kind: 'statistical' });
    // A match rule still needs to say what it matches.
    expect(RulesConfig.safeParse({ custom: [{ id: 'ingestion.any', kind: 'match', stage: 'ingestion' }] }).success).toBe(false);
  });
});
