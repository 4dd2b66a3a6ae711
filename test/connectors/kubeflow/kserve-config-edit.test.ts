import { describe, expect, it } from 'vitest';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, saUser as sa } from './audit-harness.js';

type Obj = Record<string, unknown>;
const ALICE = { username: 'alice@corp.example', groups: ['system:authenticated'] };

/** A write of KServe's controller ConfigMap as the apiserver records it. */
const write = (verb: string, user: Obj, requestObject?: unknown, level = 'Request', namespace = 'kserve', response?: unknown) =>
  auditEvent({
    level, verb, user,
    requestURI: `/api/v1/namespaces/${namespace}/configmaps${verb === 'create' ? '' : '/inferenceservice-config'}`,
    objectRef: { resource: 'configmaps', namespace, name: 'inferenceservice-config', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    ...(requestObject === undefined ? {} : { requestObject }), ...(response === undefined ? {} : { responseObject: response }),
  });
/** KServe's config/configmap/inferenceservice.yaml, in part (JSON text values). */
const data = (over: Obj = {}) => ({
  storageInitializer: JSON.stringify({ image: 'kserve/storage-initializer:v0.15.0', memoryRequest: '100Mi' }),
  agent: JSON.stringify({ image: 'kserve/agent:v0.15.0' }),
  credentials: JSON.stringify({ s3: { s3AccessKeyIDName: 'AWS_ACCESS_KEY_ID', s3SecretAccessKeyName: 'AWS_SECRET_ACCESS_KEY' } }),
  ingress: JSON.stringify({ ingressGateway: 'knative-serving/knative-ingress-gateway' }),
  ...over,
});
const configMap = (d: Obj) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inferenceservice-config', namespace: 'kserve' }, data: d });

describe("platform.ml_workload_access: KServe's inferenceservice-config edited", () => {
  it('a merge patch of the credentials key by a person alerts naming the key (no image involved)', () => {
    const creds = JSON.stringify({ s3: { s3AccessKeyIDName: 'AWS_ACCESS_KEY_ID', s3SecretAccessKeyName: 'AWS_SECRET_ACCESS_KEY', s3Endpoint: 'minio.attacker.example' } });
    const [a, ...rest] = alerts([write('patch', ALICE, { data: { credentials: creds } })]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ entity: { type: 'config_map', id: 'kserve/inferenceservice-config' }, details: { access: 'kserve config', workload: 'kserve_config', keys: ['credentials'], namespace: 'kserve', identity: 'alice@corp.example' } });
    expect(a!.summary).toContain('(credentials)');
  });

  it("an update is compared with the ConfigMap as last shown: only the changed keys are named; never shown, every key sent (previous_unknown)", () => {
    const first = write('create', sa('argocd', 'argocd-application-controller'), configMap(data()));
    const [upd] = alerts([first, write('update', ALICE, configMap(data({ agent: JSON.stringify({ image: 'ghcr.io/attacker/agent:1' }) })))]);
    expect(upd!.details).toMatchObject({ keys: ['agent'] });
    expect(upd!.details.previous_unknown).toBeUndefined();
    const [blind] = alerts([write('update', ALICE, configMap(data()))]);
    expect(blind!.details).toMatchObject({ keys: ['storageInitializer', 'agent', 'credentials', 'ingress'], previous_unknown: true });
    // The same object sent again (kubectl apply with no change) changes no key.
    expect(alerts([first, write('update', ALICE, configMap(data()))])).toEqual([]);
  });

  it('a JSON patch names the keys of its paths; a Metadata-level write alerts with body_unknown; a label-only patch does not', () => {
    expect(alerts([write('patch', ALICE, [{ op: 'replace', path: '/data/logger', value: '{}' }])])[0]!.details).toMatchObject({ keys: ['logger'] });
    const [meta] = alerts([write('patch', ALICE, undefined, 'Metadata')]);
    expect(meta!.details).toMatchObject({ body_unknown: true });
    expect(meta!.summary).toContain('does not show which keys');
    expect(alerts([write('patch', ALICE, { metadata: { labels: { team: 'ml' } } })])).toEqual([]);
  });

  it('trusted installers (Argo CD, a listed operator), exempt callers, a ConfigMap of the name outside the KServe namespaces, refused and dry-run writes stay quiet', () => {
    const patch = { data: { storageInitializer: JSON.stringify({ image: 'kserve/storage-initializer:v0.16.0' }) } };
    const odh = sa('opendatahub-operator-system', 'opendatahub-operator-controller-manager');
    expect(alerts([
      write('patch', sa('argocd', 'argocd-application-controller'), patch),
      write('patch', ALICE, patch, 'Request', 'team-a'),
      { ...write('patch', ALICE, patch), responseStatus: { metadata: {}, code: 403 }, annotations: { 'authorization.k8s.io/decision': 'forbid' } },
      { ...write('patch', ALICE, patch), requestURI: '/api/v1/namespaces/kserve/configmaps/inferenceservice-config?dryRun=All' },
    ])).toEqual([]);
    expect(alerts([write('patch', odh, patch)])).toHaveLength(1);
    expect(alerts([write('patch', odh, patch)], { 'platform.ml_workload_access': { trusted_installers: [odh.username] } })).toEqual([]);
    expect(alerts([write('patch', ALICE, patch)], { 'platform.ml_workload_access': { exempt: ['alice@*'] } })).toEqual([]);
  });

  it('normalize: details.kserve_config_change says the keys', () => {
    const [ev] = norm([write('patch', ALICE, { data: { credentials: '{}', ingress: '{}' } })]);
    expect(ev!.details?.kserve_config_change).toEqual({ keys: ['credentials', 'ingress'] });
  });
});
