import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { kubeflowConnector } from '../../connectors/kubeflow/index.js';
import { packageSourceFactsOf, packageSourcesOfCommand } from '../../core/integrity/packages.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { isAllowedCondaChannel, isAllowedSource } from '../../core/rules/kinds/packages.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctx as kubeflowCtx } from '../connectors/kubeflow/helpers.js';
import { readFixtureJson } from '../helpers/fixtures.js';

/**
 * training.unverified_dependency: conda channels given by name (`-c some-user`, `some-user::pkg`, CONDA_CHANNELS) are
 * anaconda.org users or organizations under conda's channel_alias; outside `allowed_conda_channels` (default
 * `defaults`, `conda-forge`, `pytorch`, `nvidia`) they alert as `conda:<name>`.
 */
type Obj = Record<string, any>;
const RULE = 'training.unverified_dependency';
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const PIN = `gcr.io/proj/trainer@sha256:${'b'.repeat(64)}`;

/** An Argo Workflow (Kubernetes audit, the fixture's envelope) whose script template runs `source`, with `env`. */
const workflow = (source: string, env?: Obj[]) => {
  const record = {
    ...readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json'),
    auditID: `conda-${source.length}-${env?.length ?? 0}`, level: 'Request', verb: 'create',
    requestURI: '/apis/argoproj.io/v1alpha1/namespaces/kubeflow-user-alice/workflows',
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'workflows', namespace: 'kubeflow-user-alice', name: 'wf', apiGroup: 'argoproj.io', apiVersion: 'v1alpha1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: { metadata: { name: 'wf', labels: { 'pipeline/runid': 'rid-1' } }, spec: { templates: [{ name: 'prep', script: { image: PIN, command: ['bash'], source, env } }] } },
    responseObject: undefined,
  };
  return NormalizedEvent.parse(kubeflowConnector.normalize!(record, kubeflowCtx()).events[0]);
};

describe('conda channels by name', () => {
  it('reads -c / --channel / --channel= of conda, mamba and micromamba, `channel::pkg` specs and CONDA_CHANNELS; pip\'s -c stays a constraints file', () => {
    expect(packageSourcesOfCommand(['sh', '-c', 'conda install -y -c conda-forge -c some-user numpy && mamba install --channel=pytorch torch && micromamba install --channel nvidia/label/cuda-12.1.0 cuda'])).toEqual([
      'conda:conda-forge', 'conda:some-user', 'conda:pytorch', 'conda:nvidia/label/cuda-12.1.0',
    ]);
    expect(packageSourcesOfCommand(['conda', 'install', '-y', 'some-user::helpers', 'numpy=1.26'])).toEqual(['conda:some-user']);
    expect(packageSourcesOfCommand(['sh', '-c', 'pip install -c constraints.txt x && conda install -c ./local-build -c local y'])).toEqual([]);
    expect(packageSourceFactsOf({ env: { CONDA_CHANNELS: 'conda-forge,some-user' } }).sources).toEqual(['conda:conda-forge', 'conda:some-user']);
    expect(packageSourceFactsOf({ env: [{ name: 'CONDA_CHANNELS', valueFrom: { configMapKeyRef: { name: 'conda', key: 'channels' } } }] }).unverifiable).toEqual(['CONDA_CHANNELS: from configMapKeyRef conda/channels']);
  });

  it("reads the script a command hands a shell's -c (sudo … bash -c '…', su - u -c \"…\"), nested too: it was one word, its installs unread", () => {
    expect(packageSourcesOfCommand(['bash', '-c', "sudo -u ec2-user -- bash -c 'conda create -y -n e -c corp-ml python=3.10'"])).toEqual(['conda:corp-ml']);
    expect(packageSourcesOfCommand(['sh', '-c', 'sudo su - ec2-user -c "pip install --index-url https://pypi.corp.example/simple x"'])).toEqual(['https://pypi.corp.example/simple']);
    expect(packageSourcesOfCommand(['sh', '-c', "bash -lc 'sh -c \"mamba install -c deep-ch y\"'"])).toEqual(['conda:deep-ch']);
    // A -c of another command, or a shell's script naming no installer, reads nothing more.
    expect(packageSourcesOfCommand(['sh', '-c', "bash -c 'echo -c corp-ml' && grep -c conda /tmp/x"])).toEqual([]);
  });
  it('a channel outside allowed_conda_channels alerts (a labelled channel is its owner\'s; pkgs/main is defaults\'); the list replaces the defaults', () => {
    const own = workflow('conda install -y -c conda-forge -c defaults -c pytorch -c nvidia pytorch-cuda=12.1 && python prep.py');
    expect(own.ml?.job?.package_sources).toEqual(['conda:conda-forge', 'conda:defaults', 'conda:pytorch', 'conda:nvidia']);
    expect(alertsOf([own])).toEqual([]);
    const user = workflow('conda install -y -c conda-forge -c some-user helpers && python prep.py');
    const [alert, ...more] = alertsOf([user]);
    expect(more).toEqual([]);
    expect(alert!.details?.package_sources).toEqual(['conda:some-user']);
    expect(alert!.summary).toContain('packages from conda channel some-user, not in allowed_conda_channels');
    expect(alertsOf([user], { [RULE]: { allowed_conda_channels: ['conda-forge', 'some-*'] } })).toEqual([]);
    expect(alertsOf([own], { [RULE]: { allowed_conda_channels: ['conda-forge'] } }).map((a) => a.details?.package_sources)).toEqual([['conda:defaults', 'conda:pytorch', 'conda:nvidia']]);
    expect(alertsOf([workflow('conda install -c conda-forge/label/rc x -c pkgs/main')])).toEqual([]);
    expect(() => RulesConfig.parse({ [RULE]: { allowed_conda_channels: 'conda-forge' } })).toThrow();
  });

  it('a channel URL on conda\'s own hosts is judged by the channel it names', () => {
    const byUrl = workflow('conda install -c https://conda.anaconda.org/some-user -c https://conda.anaconda.org/conda-forge -c https://repo.anaconda.com/pkgs/main x');
    expect(alertsOf([byUrl]).map((a) => a.details?.package_sources)).toEqual([['https://conda.anaconda.org/some-user']]);
    expect(isAllowedSource('https://conda.anaconda.org/conda-forge/label/dev', ['pypi.org'], ['conda-forge'])).toBe(true);
    expect(isAllowedSource('https://repo.anaconda.com/pkgs/main', ['pypi.org'], ['conda-forge'])).toBe(false);
    expect(isAllowedCondaChannel(['defaults'], 'pkgs/r')).toBe(true);
    expect(isAllowedCondaChannel(['defaults'], 'pkgs/other')).toBe(false);
  });
});
