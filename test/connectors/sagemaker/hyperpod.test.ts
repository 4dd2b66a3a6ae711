import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * A HyperPod cluster (CreateCluster / UpdateCluster): named by ClusterName; each instance group's lifecycle
 * configuration (LifeCycleConfig.SourceS3Uri, OnCreate run as root on every node) is code the cluster runs, judged by
 * training.unverified_dependency as a job's code archive; ExecutionRole and VpcConfig as a job's.
 */
const RULE = 'training.unverified_dependency';
const ROLE = 'arn:aws:iam::111122223333:role/HyperPodExecution';
const group = (name: string, type: string, count: number, source: string) => ({
  instanceGroupName: name, instanceType: type, instanceCount: count, threadsPerCore: 1, executionRole: ROLE,
  lifeCycleConfig: { sourceS3Uri: source, onCreate: 'on_create.sh' },
});
let n = 0;
const cluster = (op: 'CreateCluster' | 'UpdateCluster', source: string) => NormalizedEvent.parse(normOne(ctRecord(op, {
  clusterName: 'llm-pretrain',
  instanceGroups: [group('controller', 'ml.m5.xlarge', 1, source), group('workers', 'ml.p5.48xlarge', 16, source)],
  ...(op === 'CreateCluster' ? { vpcConfig: { securityGroupIds: ['sg-0a1b2c3d4e5f'], subnets: ['subnet-0123456789abcdef0'] }, nodeRecovery: 'Automatic' } : {}),
}, { eventID: `hp-${++n}`, responseElements: { clusterArn: 'arn:aws:sagemaker:us-east-1:111122223333:cluster/a1b2c3d4e5f6' } })));
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);

describe('HyperPod CreateCluster / UpdateCluster', () => {
  it('is named by ClusterName; lifecycle scripts, role and VPC are in ml.job', () => {
    const ev = cluster('CreateCluster', 's3://sagemaker-us-east-1-111122223333/hyperpod/lifecycle/');
    expect(ev.resource).toMatchObject({ type: 'cluster', name: 'llm-pretrain' });
    expect(ev.stage).toBe('training');
    expect(ev.ml?.job).toMatchObject({
      name: 'llm-pretrain', type: 'cluster', role: ROLE, vpc: true, instance_type: 'ml.m5.xlarge',
      code_uris: ['s3://sagemaker-us-east-1-111122223333/hyperpod/lifecycle/'], lifecycle_on_create: ['on_create.sh'],
    });
    // Now a training-stage write: no other rule takes a benign cluster for a job (network, off-hours…).
    expect(replayEvents([ev], { rules: RulesConfig.parse({}) }).alerts.map((a) => a.rule_id)).toEqual([]);
  });

  it('lifecycle scripts in another account\'s SDK bucket alert; with trusted_code_locations, any other place alerts (an update too)', () => {
    const [foreign, ...more] = alertsOf([cluster('CreateCluster', 's3://sagemaker-us-east-1-999988887777/lifecycle/')]);
    expect(more).toEqual([]);
    expect(foreign!.details).toMatchObject({ job: 'llm-pretrain', code_uris: ['s3://sagemaker-us-east-1-999988887777/lifecycle/'] });
    const rules = { [RULE]: { trusted_code_locations: ['s3://sagemaker-*-111122223333/*', 's3://ml-code/*'] } };
    expect(alertsOf([cluster('UpdateCluster', 's3://scratch-share-9931/lifecycle/')], rules).map((a) => a.details?.code_uris)).toEqual([['s3://scratch-share-9931/lifecycle/']]);
    expect(alertsOf([cluster('UpdateCluster', 's3://ml-code/hyperpod/lifecycle/')], rules)).toEqual([]);
  });
});
