import { describe, expect, it } from 'vitest';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, MALLORY, saUser as sa } from './audit-harness.js';

type Obj = Record<string, unknown>;
const CA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t';


/** An admissionregistration.k8s.io/v1 MutatingWebhookConfiguration with one webhook. */
const config = (name: string, hook: Obj) => ({
  apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name },
  webhooks: [{ name: `${name}.example.com`, admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { namespace: 'webhooks', name: 'mutator', path: '/mutate' }, caBundle: CA }, ...hook }],
});
const podRules = [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }];
const write = (verb: string, user: Obj, name: string, body?: unknown, level = 'RequestResponse', response?: unknown) =>
  auditEvent({
    level, verb, user,
    objectRef: { resource: 'mutatingwebhookconfigurations', name, apiGroup: 'admissionregistration.k8s.io', apiVersion: 'v1' },
    requestURI: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations${verb === 'create' ? '' : `/${name}`}`,
    ...(body === undefined ? {} : { requestObject: body }), ...(response === undefined ? {} : { responseObject: response }),
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
  });

describe('platform.ml_workload_access: mutating webhooks over ML workloads', () => {
  it('a webhook on pods of every namespace, created by a user, alerts; one pinned to an unwatched namespace or on ConfigMaps does not', () => {
    const [a, ...rest] = alerts([write('create', MALLORY, 'pod-mutator', config('pod-mutator', { rules: podRules }))]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { access: 'mutating webhook', workload: 'mutating_webhook', namespaces: 'all', services: ['webhooks/mutator'], webhooks: ['pod-mutator.example.com'] } });
    expect(a!.summary).toContain('every namespace');
    expect(alerts([
      write('create', MALLORY, 'team-b', config('team-b', { rules: podRules, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-b' } } })),
      write('create', MALLORY, 'cm', config('cm', { rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] })),
    ])).toEqual([]);
    // Pinned to a profile namespace: judged, naming it.
    const [pinned] = alerts([write('create', MALLORY, 'alice', config('alice', { rules: [{ apiGroups: ['serving.kserve.io'], apiVersions: ['v1beta1'], operations: ['CREATE', 'UPDATE'], resources: ['inferenceservices'] }], namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['kubeflow-user-alice', 'team-b'] }] } }))]);
    expect(pinned!.summary).toContain('kubeflow-user-alice');
  });

  it("cert-manager's cainjector and istiod rotating caBundle stay quiet (patch compared; update and Metadata taken as rotation); a patch by them changing the service does not", () => {
    const caPatch = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'kserve-webhook-server.pod-mutator' }, webhooks: [{ name: 'inferenceservice.kserve-webhook-server.pod-mutator', clientConfig: { caBundle: CA } }] };
    const istioUpdate = config('istio-sidecar-injector', { rules: podRules, namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } } });
    expect(alerts([
      write('patch', sa('cert-manager', 'cert-manager-cainjector'), 'kserve-webhook-server.pod-mutator', caPatch),
      write('patch', sa('cert-manager', 'cert-manager-cainjector'), 'x', [{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: CA }]),
      write('update', sa('istio-system', 'istiod'), 'istio-sidecar-injector', istioUpdate),
      write('update', sa('istio-system', 'istiod'), 'istio-sidecar-injector', undefined, 'Metadata'),
      write('update', sa('istio-system', 'istiod-1-22-0'), 'istio-revision-tag-default', istioUpdate),
      write('update', sa('openshift-service-ca', 'service-ca'), 'odh-model-controller', undefined, 'Metadata'),
      // Anyone's patch that only rotates the CA bundle.
      write('patch', MALLORY, 'x', [{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: CA }]),
    ])).toEqual([]);
    const evil = write('patch', sa('cert-manager', 'cert-manager-cainjector'), 'kserve-webhook-server.pod-mutator', { webhooks: [{ name: 'inferenceservice.kserve-webhook-server.pod-mutator', clientConfig: { service: { namespace: 'evil', name: 'mutator' } } }] }, 'Request');
    expect(alerts([evil])).toMatchObject([{ details: { body_unknown: true } }]);
  });

  it('a Metadata-level create by a user alerts (rules unknown); a controller updating its own webhook, Knative, and a delete do not', () => {
    expect(alerts([write('create', MALLORY, 'm', undefined, 'Metadata')])).toMatchObject([{ details: { body_unknown: true } }]);
    const kyverno = config('kyverno-resource-mutating-webhook-cfg', { rules: podRules, clientConfig: { service: { namespace: 'kyverno', name: 'kyverno-svc', path: '/mutate' }, caBundle: CA } });
    expect(alerts([
      write('update', sa('kyverno', 'kyverno-admission-controller'), 'kyverno-resource-mutating-webhook-cfg', kyverno),
      write('update', sa('knative-serving', 'controller'), 'webhook.serving.knative.dev', undefined, 'Metadata'),
      write('delete', MALLORY, 'pod-mutator', undefined, 'Metadata'),
    ])).toEqual([]);
    // The same Kyverno configuration created by a person is an install: judged.
    expect(alerts([write('create', MALLORY, 'kyverno-resource-mutating-webhook-cfg', kyverno)])).toHaveLength(1);
  });

  it('selectors that pick every namespace, a rule added by JSON patch after the create, and a KServe webhook re-pointed by a profile namespace account alert', () => {
    expect(alerts([write('create', MALLORY, 'a', config('a', { rules: podRules, namespaceSelector: {} }))])).toMatchObject([{ details: { namespaces: 'all' } }]);
    expect(alerts([write('create', MALLORY, 'b', config('b', { rules: podRules, objectSelector: { matchLabels: { 'serving.kserve.io/inferenceservice': 'fraud' } } }))])).toMatchObject([{ details: { namespaces: 'all' } }]);
    // Created harmless (ConfigMaps), then a pods rule added by `kubectl patch --type=json` (Request level: the rules are not shown).
    const harmless = config('c', { rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] });
    expect(alerts([write('create', MALLORY, 'c', harmless), write('patch', MALLORY, 'c', [{ op: 'add', path: '/webhooks/0/rules/-', value: podRules[0] }], 'Request')])).toMatchObject([{ details: { body_unknown: true } }]);
    // A pipeline step's account of a profile namespace (which someone granted webhook rights) pointing KServe's webhook at its own Service.
    const kserve = config('inferenceservice.serving.kserve.io', { rules: podRules, clientConfig: { service: { namespace: 'kubeflow-user-alice', name: 'mutator', path: '/mutate' }, caBundle: CA } });
    expect(alerts([write('update', sa('kubeflow-user-alice', 'default-editor'), 'inferenceservice.serving.kserve.io', kserve)])).toHaveLength(1);
  });

  it('a webhook on the Deployments, Knative Services or Argo Workflows that run model servers and pipeline steps alerts; one on Ingresses does not', () => {
    const on = (apiGroups: string[], resources: string[]) => alerts([write('create', MALLORY, 'w', config('w', { rules: [{ apiGroups, apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources }] }))]);
    expect(on(['apps'], ['deployments'])).toHaveLength(1);
    expect(on(['apps'], ['*'])).toHaveLength(1);
    expect(on(['serving.knative.dev'], ['services'])).toHaveLength(1);
    expect(on(['argoproj.io'], ['workflows'])).toHaveLength(1);
    expect(on(['networking.k8s.io'], ['ingresses'])).toEqual([]);
    // Core Services are no workload: only Knative's are.
    expect(on([''], ['services'])).toEqual([]);
  });

  it("only the webhook's own controller account keeps it: another account of the service's namespace updating it alerts; cert-manager / istiod CA rotation stays quiet", () => {
    const kyverno = config('kyverno-resource-mutating-webhook-cfg', { rules: podRules, clientConfig: { service: { namespace: 'kyverno', name: 'kyverno-svc', path: '/mutate' }, caBundle: CA } });
    const gatekeeper = config('gatekeeper-mutating-webhook-configuration', { rules: podRules, clientConfig: { service: { namespace: 'gatekeeper-system', name: 'gatekeeper-webhook-service', path: '/v1/mutate' }, caBundle: CA } });
    expect(alerts([
      write('update', sa('kyverno', 'kyverno'), 'kyverno-resource-mutating-webhook-cfg', kyverno),
      write('update', sa('gatekeeper-system', 'gatekeeper-admin'), 'gatekeeper-mutating-webhook-configuration', gatekeeper),
      write('patch', sa('cert-manager', 'cert-manager-cainjector'), 'kyverno-resource-mutating-webhook-cfg', [{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: CA }]),
      write('update', sa('istio-system', 'istiod'), 'istio-sidecar-injector', config('istio-sidecar-injector', { rules: podRules, clientConfig: { service: { namespace: 'istio-system', name: 'istiod', path: '/inject' }, caBundle: CA } })),
    ])).toEqual([]);
    // The reports controller, a default account, a job of the same namespace: not the webhook's controller.
    for (const other of [sa('kyverno', 'kyverno-reports-controller'), sa('kyverno', 'default'), sa('gatekeeper-system', 'default')]) {
      const body = other.username.includes('gatekeeper') ? gatekeeper : kyverno;
      expect(alerts([write('update', other, String((body.metadata as Obj).name), body)])).toHaveLength(1);
    }
    // Gatekeeper's account keeping a configuration whose service is elsewhere is judged.
    expect(alerts([write('update', sa('gatekeeper-system', 'gatekeeper-admin'), 'x', config('x', { rules: podRules }))])).toHaveLength(1);
    // An account named like Kyverno's in a namespace of one's own, updating a configuration of another name that calls
    // a service there (created harmless first, then pointed at pods): judged (verify29b; was exempt).
    const own = config('ml-helper', { rules: podRules, clientConfig: { service: { namespace: 'team-x', name: 'helper', path: '/mutate' }, caBundle: CA } });
    expect(alerts([write('update', sa('team-x', 'kyverno'), 'ml-helper', own)])).toHaveLength(1);
    expect(alerts([write('update', sa('team-x', 'gatekeeper-admin'), 'ml-helper', own)])).toHaveLength(1);
  });

  it('a controller that installs its own webhook (Datadog) is listed in trusted_installers; Argo CD applying a webhook stays quiet, a person running helm does not', () => {
    const dd = sa('datadog', 'datadog-cluster-agent');
    const body = config('datadog-webhook', { rules: podRules, clientConfig: { service: { namespace: 'datadog', name: 'datadog-cluster-agent-admission-controller' }, caBundle: CA } });
    expect(alerts([write('create', dd, 'datadog-webhook', body)])).toHaveLength(1);
    const trusted = { 'platform.ml_workload_access': { trusted_installers: [dd.username, 'system:serviceaccount:argocd:argocd-application-controller'] } };
    expect(alerts([write('create', dd, 'datadog-webhook', body)], trusted)).toEqual([]);
    const helm = { ...body, metadata: { name: 'datadog-webhook', labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'datadog', 'meta.helm.sh/release-namespace': 'datadog' } } };
    expect(alerts([write('create', sa('argocd', 'argocd-application-controller'), 'datadog-webhook', helm)])).toEqual([]);
    const [byHand] = alerts([write('create', MALLORY, 'datadog-webhook', helm)]);
    expect(byHand).toMatchObject({ details: { helm_release: { name: 'datadog', namespace: 'datadog' } } });
    expect(byHand!.summary).toContain('Helm release datadog');
  });
});
