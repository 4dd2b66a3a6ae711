import { describe, expect, it } from 'vitest';
import { auditEvent } from './helpers.js';
import { normAudit as norm, MALLORY } from './audit-harness.js';

type Obj = Record<string, unknown>;

/** `kubectl label ns …` as the shipped policy logs it (Request level: the merge patch). */
const nsPatch = (name: string, body: unknown, verb = 'patch') => auditEvent({
  level: 'Request', verb, user: MALLORY, objectRef: { resource: 'namespaces', name, apiVersion: 'v1' },
  requestURI: `/api/v1/namespaces/${verb === 'create' ? '' : name}`, requestObject: body,
});

describe('namespace labels switching off Pod Security or Istio injection (details.namespace_protection_off)', () => {
  it('kubectl label: enforce=privileged, istio-injection=disabled, and the label removed (null, JSON remove) on a watched namespace', () => {
    const [a, b, c] = norm([
      nsPatch('kubeflow-user-alice', { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'istio-injection': 'disabled' } } }),
      nsPatch('kubeflow-user-alice', { metadata: { labels: { 'istio-injection': null } } }),
      nsPatch('kubeflow-user-alice', [{ op: 'remove', path: '/metadata/labels/pod-security.kubernetes.io~1enforce' }]),
    ]);
    expect(a!.details?.namespace_protection_off).toEqual([{ label: 'pod-security.kubernetes.io/enforce', value: 'privileged' }, { label: 'istio-injection', value: 'disabled' }]);
    expect(b!.details?.namespace_protection_off).toEqual([{ label: 'istio-injection', value: 'removed' }]);
    expect(c!.details?.namespace_protection_off).toEqual([{ label: 'pod-security.kubernetes.io/enforce', value: 'removed' }]);
  });

  it('not recorded: enforce=restricted, istio-injection=enabled, another label, an unwatched namespace, an update without the label', () => {
    const evs = norm([
      nsPatch('kubeflow-user-alice', { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'istio-injection': 'enabled' } } }),
      nsPatch('kubeflow-user-alice', { metadata: { labels: { team: 'fraud' } } }),
      nsPatch('team-b', { metadata: { labels: { 'istio-injection': 'disabled' } } }),
      nsPatch('kubeflow-user-alice', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeflow-user-alice', labels: { team: 'fraud' } } }, 'update'),
    ]);
    expect(evs.map((e) => e.details?.namespace_protection_off)).toEqual([undefined, undefined, undefined, undefined]);
  });
});
