import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { fx, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * training.unverified_dependency for a SageMaker training job that runs an algorithm resource (AlgorithmName) of
 * another account — an AWS Marketplace or partner algorithm: its training image is inside that algorithm, not in
 * the request. The record is the real CreateTrainingJob fixture (account 558069890522) with its
 * AlgorithmSpecification naming an algorithm instead of a training image, as the API allows.
 */
function trainingWith(algorithmName: string, eventID: string): NormalizedEvent {
  const r = fx<Record<string, any>>('cloudtrail-sagemaker-createtrainingjob.real.json');
  r.eventID = eventID;
  r.requestParameters.enableNetworkIsolation = true;
  r.requestParameters.algorithmSpecification = { algorithmName, trainingInputMode: 'File', enableSageMakerMetricsTimeSeries: false };
  return normOne(r);
}

const dependencyAlerts = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) =>
  replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');

describe('training.unverified_dependency: algorithms of another account', () => {
  const marketplace = 'arn:aws:sagemaker:eu-central-1:985815980388:algorithm/speech-recognizer-v2-5e4c1d2b8f3a4c1e9a7b6d5c4b3a2f1e';

  it('a job running another account\'s algorithm alerts, naming it; trusted by ARN glob it does not; the own account\'s algorithm (by ARN or name) does not', () => {
    const ev = trainingWith(marketplace, 'alg-1');
    expect(ev.ml?.job?.algorithm).toBe(marketplace);
    const [a, ...rest] = dependencyAlerts([ev]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { image: marketplace, reasons: [expect.stringContaining('of account 985815980388')] } });
    expect(dependencyAlerts([ev], { 'training.unverified_dependency': { trusted_algorithms: ['arn:aws:sagemaker:*:985815980388:algorithm/speech-recognizer-*'] } })).toEqual([]);
    expect(dependencyAlerts([trainingWith('arn:aws:sagemaker:eu-central-1:558069890522:algorithm/in-house-asr', 'alg-2')])).toEqual([]);
    expect(dependencyAlerts([trainingWith('in-house-asr', 'alg-3')])).toEqual([]);
  });

  it('trusted_algorithms is a checked setting: a list of globs; a misspelt key is a config error', () => {
    expect(() => RulesConfig.parse({ 'training.unverified_dependency': { trusted_algorithms: ['arn:aws:sagemaker:*:985815980388:algorithm/*'] } })).not.toThrow();
    expect(() => RulesConfig.parse({ 'training.unverified_dependency': { trusted_algorithm: ['x'] } })).toThrow();
  });
});
