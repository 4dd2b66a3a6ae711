import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';
import { actors, ev } from './events.js';

/**
 * training.off_hours_job learned one weekly pattern per identity, so the SageMaker pipelines of one execution role
 * shared it: a nightly pipeline taught the role "runs at 02:00", and another pipeline of the role (or a new one)
 * started at 02:00 passed. A pipeline's jobs — by the `sagemaker:pipeline-execution-arn` tag Pipelines puts on them,
 * or the pipeline a StartPipelineExecution names — now have the pipeline's own pattern; while it learns, the
 * identity's pattern (what an older mltrail learned) judges them as before.
 */
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/PipelineExecution`;
const execArn = (pipeline: string, id: string) => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/${pipeline}/execution/${id}`;
const userIdentity = {
  type: 'AssumedRole', principalId: 'AROAPIPELINE:SageMaker', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/PipelineExecution/SageMaker`, accountId: ACCOUNT,
  sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAPIPELINE', arn: ROLE, accountId: ACCOUNT, userName: 'PipelineExecution' } },
  invokedBy: 'sagemaker.amazonaws.com',
};
let n = 0;
/** A training job as a pipeline step starts it (tagged), or as the role starts it outside any pipeline (no tags). */
function job(time: string, pipeline?: string): NormalizedEvent {
  const id = `j${++n}x${'0'.repeat(8)}`.slice(0, 12);
  const name = pipeline ? `pipelines-${id}-Train-${n}` : `adhoc-train-${n}`;
  return normOne(ctRecord('CreateTrainingJob', {
    trainingJobName: name, roleArn: ROLE,
    algorithmSpecification: { trainingImage: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/train@sha256:${'a'.repeat(64)}`, trainingInputMode: 'File' },
    resourceConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 }, enableNetworkIsolation: true,
    ...(pipeline ? { tags: [{ key: 'sagemaker:pipeline-execution-arn', value: execArn(pipeline, id) }, { key: 'sagemaker:pipeline-step-name', value: 'Train' }] } : {}),
  }, { eventID: `oh-${n}`, eventTime: time, recipientAccountId: ACCOUNT, userIdentity }));
}
function start(time: string, pipeline: string): NormalizedEvent {
  n++;
  return normOne(ctRecord('StartPipelineExecution', { pipelineName: pipeline, clientRequestToken: `tok-${n}` }, { eventID: `oh-${n}`, eventTime: time, recipientAccountId: ACCOUNT, userIdentity, responseElements: { pipelineExecutionArn: execArn(pipeline.toLowerCase(), `s${n}`) } }));
}
/** Weekdays of November-December 2026 (2026-11-02 is a Monday), `count` of them, at hour `h` UTC. */
const weekdays = (count: number, h: number) => Array.from({ length: 60 }, (_, d) => new Date(Date.UTC(2026, 10, 2 + d, h, 0, 0)))
  .filter((d) => d.getUTCDay() !== 0 && d.getUTCDay() !== 6).slice(0, count).map((d) => d.toISOString().replace('.000Z', 'Z'));
const LATER = '2026-12-21'; // a Monday after seven weeks of history
const offHours = (evs: NormalizedEvent[]): Alert[] => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'training.off_hours_job');

describe('training.off_hours_job: a pipeline has its own weekly pattern', () => {
  const nightly = () => weekdays(30, 2).map((t) => job(t, 'nightly-etl'));
  const daytime = () => weekdays(30, 14).map((t) => job(t, 'churn-train'));

  it("another pipeline of the role started at the nightly pipeline's hour alerts; the nightly pipeline itself does not", () => {
    const odd = job(`${LATER}T02:00:00Z`, 'churn-train');
    const a = offHours([...nightly(), ...daytime(), odd]);
    expect(a.map((x) => [x.evidence, x.details.pipeline, x.details.pattern_of, x.details.history_jobs])).toEqual([[[odd.id], `${ACCOUNT}:us-east-1:churn-train`, 'pipeline', 30]]);
    expect(a[0]!.summary).toContain(`(pipeline ${ACCOUNT}:us-east-1:churn-train)`);
    expect(a[0]!.summary).toContain('30 earlier jobs of the pipeline since 2026-11-02');
    expect(offHours([...nightly(), ...daytime(), job(`${LATER}T02:00:00Z`, 'nightly-etl'), job(`${LATER}T14:00:00Z`, 'churn-train')])).toEqual([]);
  });

  it('a pipeline run (StartPipelineExecution naming the pipeline) and its step jobs share the pattern', () => {
    const runs = weekdays(30, 14).map((t) => start(t, 'Churn-Train'));
    expect(offHours([...nightly(), ...runs, job(`${LATER}T14:00:00Z`, 'churn-train')])).toEqual([]);
    const a = offHours([...nightly(), ...runs, start(`${LATER}T02:00:00Z`, 'Churn-Train')]);
    expect(a.map((x) => [x.details.pipeline, x.details.pattern_of])).toEqual([[`${ACCOUNT}:us-east-1:churn-train`, 'pipeline']]);
  });

  it("a pipeline still learning is judged by the identity's pattern as before: learned by an older mltrail from all the role's jobs (its nightly hours pass), or from its jobs outside pipelines", () => {
    // The role's pattern as an older mltrail learned it: every job of the role, the nightly pipeline's included
    // (it kept no pipeline apart; the same state as these untagged jobs teach).
    const legacy = weekdays(30, 2).map((t) => job(t));
    expect(offHours([...legacy, job(`${LATER}T02:00:00Z`, 'new-pipeline')])).toEqual([]);
    // Learned only daytime jobs outside pipelines: a new pipeline's first night run is outside it.
    const adhoc = weekdays(30, 14).map((t) => job(t));
    const first = job(`${LATER}T02:00:00Z`, 'new-pipeline');
    const a = offHours([...nightly(), ...adhoc, first]);
    expect(a.map((x) => [x.evidence, x.details.pattern_of])).toEqual([[[first.id], 'identity']]);
    expect(a[0]!.summary).toContain("(the pipeline's own pattern is still learning)");
    // Jobs outside pipelines are judged by the identity's pattern, which the nightly pipeline no longer teaches.
    expect(offHours([...nightly(), ...adhoc, job(`${LATER}T02:00:00Z`)]).map((x) => [x.details.pipeline ?? null, x.details.pattern_of ?? null])).toEqual([[null, null]]);
  });
});

describe('training.off_hours_job: a Kubeflow pipeline run by the pipeline its connector names', () => {
  it('two pipelines run by one service account: the daytime one started at the nightly one\'s hour alerts', () => {
    const kfRun = (id: string, time: string, pipeline: string) => ev({ id, time, platform: 'kubeflow', stage: 'training', action: 'pipeline_run.create', actor: actors.kfRunner, resource: { type: 'pipeline_run', name: id }, ml: { job: { name: id }, provenance: { pipeline } } });
    const history = [...weekdays(30, 2).map((t, i) => kfRun(`etl-${i}`, t, 'etl-pipeline-id')), ...weekdays(30, 14).map((t, i) => kfRun(`train-${i}`, t, 'train-pipeline-id'))];
    const odd = kfRun('train-odd', `${LATER}T02:00:00Z`, 'train-pipeline-id');
    expect(offHours([...history, odd]).map((x) => [x.evidence, x.details.pipeline, x.details.pattern_of])).toEqual([[[odd.id], 'kubeflow:train-pipeline-id', 'pipeline']]);
    expect(offHours([...history, kfRun('etl-late', `${LATER}T02:00:00Z`, 'etl-pipeline-id')])).toEqual([]);
  });
});

describe('verify27c: a nightly pipeline on a fresh install', () => {
  it('its first nights raise at most one alert (a new pipeline learns, not an alert per night), and a job tagged with another account\'s pipeline is judged as the role\'s', () => {
    const nights = weekdays(10, 2).map((t) => job(t, 'nightly-train'));
    expect(offHours(nights).length).toBeLessThanOrEqual(1);
    const foreign = normOne(ctRecord('CreateTrainingJob', {
      trainingJobName: 'x-1', roleArn: ROLE,
      algorithmSpecification: { trainingImage: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/train@sha256:${'a'.repeat(64)}`, trainingInputMode: 'File' },
      resourceConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 }, enableNetworkIsolation: true,
      tags: [{ key: 'sagemaker:pipeline-execution-arn', value: 'arn:aws:sagemaker:us-east-1:999988887777:pipeline/nightly-train/execution/zz1' }],
    }, { eventID: 'oh-foreign', eventTime: `${LATER}T02:00:00Z`, recipientAccountId: ACCOUNT, userIdentity }));
    const a = offHours([...nights, foreign]).filter((x) => x.evidence.includes(foreign.id));
    // Not judged under this account's pipeline of the same name.
    for (const x of a) expect(x.details.pipeline ?? null).not.toBe(`${ACCOUNT}:us-east-1:nightly-train`);
  });
});

describe("training.off_hours_job: a caller's own sagemaker:pipeline-execution-arn tag borrows no pipeline's pattern", () => {
  // AWS reserves only the `aws:` tag prefix: CreateTrainingJob accepts `sagemaker:pipeline-execution-arn` from any
  // caller. A Studio notebook running as the same execution role (its session is named `SageMaker` too, but the
  // kernel's calls carry no invokedBy) tagging a hand-made job.
  const byHand = { ...userIdentity } as Record<string, unknown>;
  delete byHand.invokedBy;
  const tagged = (time: string, exec: string, who: Record<string, unknown> = byHand) => {
    n++;
    return normOne(ctRecord('CreateTrainingJob', {
      trainingJobName: `borrow-${n}`, roleArn: ROLE,
      algorithmSpecification: { trainingImage: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/train@sha256:${'a'.repeat(64)}`, trainingInputMode: 'File' },
      resourceConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 },
      tags: [{ key: 'sagemaker:pipeline-execution-arn', value: exec }, { key: 'sagemaker:pipeline-step-name', value: 'Train' }],
    }, { eventID: `oh-${n}`, eventTime: time, recipientAccountId: ACCOUNT, userIdentity: who }));
  };
  const nightly = () => weekdays(30, 2).map((t) => job(t, 'nightly-etl'));
  const adhoc = () => weekdays(30, 14).map((t) => job(t));

  it("a job the caller tagged with the nightly pipeline's execution, at 02:00, is judged by the identity's pattern", () => {
    const borrowed = tagged(`${LATER}T02:00:00Z`, execArn('nightly-etl', 'fake00000001'));
    expect(borrowed.ml?.job?.pipeline_execution).toBe(execArn('nightly-etl', 'fake00000001'));
    const a = offHours([...nightly(), ...adhoc(), borrowed]);
    expect(a.map((x) => [x.evidence, x.details.pipeline ?? null, x.details.pipeline_tag_untrusted])).toEqual([[[borrowed.id], null, execArn('nightly-etl', 'fake00000001')]]);
    expect(a[0]!.summary).toContain('was not written by SageMaker Pipelines');
  });

  it('the same tag written by SageMaker (invokedBy), or naming an execution whose StartPipelineExecution was seen, is the pipeline\'s', () => {
    expect(offHours([...nightly(), ...adhoc(), tagged(`${LATER}T02:00:00Z`, execArn('nightly-etl', 'real00000001'), userIdentity)])).toEqual([]);
    // A run started by hand (its execution ARN in the response), its step job logged without invokedBy.
    const run = start(`${LATER}T01:59:00Z`, 'nightly-etl');
    const exec = (run.ml?.provenance?.run_id as string);
    expect(offHours([...nightly(), ...adhoc(), run, tagged(`${LATER}T02:00:00Z`, exec)]).filter((x) => x.evidence[0] !== run.id)).toEqual([]);
    // Another execution of that pipeline, never started as far as mltrail saw: not trusted.
    expect(offHours([...nightly(), ...adhoc(), run, tagged(`${LATER}T02:00:00Z`, execArn('nightly-etl', 'other0000001'))]).filter((x) => x.evidence[0] !== run.id).map((x) => x.details.pipeline_tag_untrusted)).toEqual([execArn('nightly-etl', 'other0000001')]);
  });
});
