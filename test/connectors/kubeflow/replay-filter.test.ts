import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { runCli } from '../../helpers/cli.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

/**
 * `mltrail replay` of a cluster's audit log judges what `serve` would have judged: the audit route keeps only
 * the items that concern the watched namespaces (`connectors.kubeflow.namespaces`), so replay leaves out the
 * same ones. The records are a real apiserver audit Event (Falco's `create serviceaccount` sample) refused with
 * the 403 Status the apiserver answers, in one namespace or another.
 */

/** The fixture's request, refused in namespace `ns` (as the apiserver logs a denied create). */
function refused(ns: string, auditID: string): Record<string, unknown> {
  const ev = readFixtureJson<Record<string, any>>('kubeflow', 'k8s-audit', 'falco_create_serviceaccount.json');
  return {
    ...ev,
    auditID,
    requestURI: `/api/v1/namespaces/${ns}/serviceaccounts`,
    objectRef: { ...ev.objectRef, namespace: ns },
    annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
    responseStatus: {
      metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: { kind: 'serviceaccounts' },
      message: `serviceaccounts is forbidden: User "minikube-user" cannot create resource "serviceaccounts" in API group "" in the namespace "${ns}"`,
    },
  };
}

const SYSTEM = '3b7f0e2a-1c44-4a0e-9d51-5e2f4a6b7c01';
const TENANT = '3b7f0e2a-1c44-4a0e-9d51-5e2f4a6b7c02';

describe('replay applies the Kubernetes audit route namespace filter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-replay-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, records: unknown[]) => {
    const p = join(dir, name);
    writeFileSync(p, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return p;
  };
  const config = (yaml: string) => {
    const p = join(dir, 'mltrail.yaml');
    writeFileSync(p, yaml);
    return p;
  };
  async function replay(args: string[]): Promise<{ alerts: Alert[]; events: NormalizedEvent[]; err: string; code: number }> {
    const evFile = join(dir, 'events.ndjson');
    const r = await runCli(['replay', '--events', evFile, ...args], { MLTRAIL_DATA_DIR: dir });
    const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return { alerts: lines(r.out), events: lines(readFileSync(evFile, 'utf8')), err: r.err, code: r.code };
  }

  it('a refusal in a system namespace raises nothing (serve never keeps it); one in a watched namespace does', async () => {
    const system = await replay([file('kube-system.ndjson', [refused('kube-system', SYSTEM)])]);
    expect(system.code).toBe(0);
    expect(system.alerts).toEqual([]);
    expect(system.events).toEqual([]);
    expect(system.err).toContain('replay: 1 audit items left out as serve leaves them out (kubeflow: outside watched namespaces: 1)');

    const both = await replay([file('both.ndjson', [refused('kube-system', SYSTEM), refused('kubeflow-user-alice', TENANT)])]);
    expect(both.events.map((e) => e.resource?.namespace)).toEqual(['kubeflow-user-alice']);
    expect(both.alerts.map((a) => [a.rule_id, a.evidence])).toEqual([['ingestion.source_auth_failure', [both.events[0]!.id]]]);
  });

  it('--config sets what is watched, as for serve; audit.keep_all keeps everything', async () => {
    const records = [refused('kube-system', SYSTEM), refused('kubeflow-user-alice', TENANT)];
    const teams = await replay(['--config', config('connectors:\n  kubeflow:\n    namespaces: [kube-system]\n'), file('a.ndjson', records)]);
    expect(teams.events.map((e) => e.resource?.namespace)).toEqual(['kube-system']);
    expect(teams.alerts).toHaveLength(1);
    const all = await replay(['--config', config('connectors:\n  kubeflow:\n    audit:\n      keep_all: true\n'), file('b.ndjson', records)]);
    expect(all.events.map((e) => e.resource?.namespace).sort()).toEqual(['kube-system', 'kubeflow-user-alice']);
    expect(all.err).not.toContain('left out');
  });

  it('normalize still prints every record: it shows what each one is, not what serve keeps', async () => {
    const r = await runCli(['normalize', '--platform', 'kubeflow', file('c.ndjson', [refused('kube-system', SYSTEM), refused('kubeflow-user-alice', TENANT)])], { MLTRAIL_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as NormalizedEvent).resource?.namespace)).toEqual(['kube-system', 'kubeflow-user-alice']);
  });
});
