import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KSERVE_NAMESPACES_NS } from '../../../connectors/kubeflow/audit/kserve-config.js';
import { auditEvent, startAuditRoute } from './helpers.js';

/**
 * The KServe controller namespace learned from its own requests (a Helm release's `kserve-system`, not in
 * `kserve_namespaces`) is kept in the bridge's spool state: after a restart, a write of `inferenceservice-config`
 * there is still read as the controller's (before, it was forgotten until the controller's next write). Records: the
 * helpers' k8s audit Event shape (the real falco fixture's), a controller status write and a ConfigMap patch.
 */
const TOKEN = 'kserve-ns-restart-token-7f3a';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const controllerStatusWrite = (code = 200) => auditEvent({
  level: 'Metadata', verb: 'update',
  requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices/sklearn-iris/status',
  user: { username: 'system:serviceaccount:kserve-system:kserve-controller-manager', groups: ['system:serviceaccounts', 'system:serviceaccounts:kserve-system', 'system:authenticated'] },
  objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'sklearn-iris', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1', subresource: 'status' },
  responseStatus: { metadata: {}, code },
});
const agentPatch = () => auditEvent({
  level: 'RequestResponse', verb: 'patch',
  requestURI: '/api/v1/namespaces/kserve-system/configmaps/inferenceservice-config',
  user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
  objectRef: { resource: 'configmaps', namespace: 'kserve-system', name: 'inferenceservice-config', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  requestObject: { data: { agent: '{"image": "quay.io/mallory/agent:5"}' } },
});
const configWrites = (events: Array<{ operation?: string; details?: Record<string, unknown>; ml?: { deployment?: { images?: string[] } } }>) =>
  events.filter((e) => e.operation === 'patch configmaps').map((e) => [e.details?.kserve_config_keys, e.ml?.deployment?.images]);

describe('the learned KServe controller namespace, across a restart', () => {
  it('is kept in the spool state: a restarted bridge still reads inferenceservice-config there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-ns-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startAuditRoute({ namespaces: ['kubeflow-user-alice'] }, { ingestToken: TOKEN, spoolDir: dir });
    await first.send(TOKEN, controllerStatusWrite());
    expect(first.h.spool.state.list(KSERVE_NAMESPACES_NS)).toEqual([{ key: 'cluster:', value: ['kserve-system'] }]);
    await first.close();
    // Restarted: another config object, the same spool.
    const second = await startAuditRoute({ namespaces: ['kubeflow-user-alice'] }, { ingestToken: TOKEN, spoolDir: dir });
    cleanup.push(second.close);
    await second.send(TOKEN, agentPatch());
    expect(configWrites(second.h.events())).toEqual([[['agent'], ['quay.io/mallory/agent:5']]]);
  });

  it('a bridge that never saw the controller (another spool), or saw it denied, does not read it', async () => {
    const fresh = await startAuditRoute({ namespaces: ['kubeflow-user-alice'] }, { ingestToken: TOKEN });
    cleanup.push(fresh.close);
    await fresh.send(TOKEN, controllerStatusWrite(403), agentPatch());
    expect(configWrites(fresh.h.events())).toEqual([[undefined, undefined]]);
    expect(fresh.h.spool.state.list(KSERVE_NAMESPACES_NS)).toEqual([]);
  });

  it('reads back only namespace names from the state (other values skipped)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-ns-bad-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startAuditRoute({ namespaces: ['kubeflow-user-alice'] }, { ingestToken: TOKEN, spoolDir: dir });
    first.h.spool.state.set(KSERVE_NAMESPACES_NS, 'cluster:', ['Kserve_System!', 42, 'kserve-system']);
    await first.close();
    const second = await startAuditRoute({ namespaces: ['kubeflow-user-alice'] }, { ingestToken: TOKEN, spoolDir: dir });
    cleanup.push(second.close);
    await second.send(TOKEN, agentPatch());
    expect(configWrites(second.h.events())).toEqual([[['agent'], ['quay.io/mallory/agent:5']]]);
  });
});
