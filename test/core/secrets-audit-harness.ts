import { expect } from 'vitest';
import { normalizeAudit } from '../../connectors/kubeflow/audit.js';
import { redactAuditBody } from '../../connectors/kubeflow/audit/redact-body.js';
import { readFixtureJson } from '../helpers/fixtures.js';
import { sinkBody } from '../helpers/sink-body.js';
import { ctx as kfCtx } from '../connectors/kubeflow/helpers.js';

/** Audit records carrying secrets, and where a secret in them can end up: a sink's line, the raw record, quarantine. */
type Obj = Record<string, any>;
export const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');

/** The falco RequestResponse fixture made a ConfigMap create carrying `data`. */
export function configMapRecord(data: Record<string, string>): Obj {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trainer', namespace: 'ml' }, data };
  return { ...structuredClone(AUDIT), objectRef: { resource: 'configmaps', namespace: 'ml', name: 'trainer', apiVersion: 'v1' }, requestObject: cm, responseObject: undefined };
}

/** What a sink gets for a record (normalize → spool → file sink line), and the record as kept in quarantine. */
export async function sinkAndQuarantine(record: Obj): Promise<{ text: string; raw: Obj; quarantine: string }> {
  const out = normalizeAudit(record, kfCtx({ keepRaw: true }));
  expect(out.rejected).toEqual([]);
  const { text, docs } = await sinkBody(out.events);
  // The same record in a body the route could not take whole (a cut line after it): kept redacted in quarantine.
  const quarantine = redactAuditBody(Buffer.from(`${JSON.stringify(record)}\n{"kind":"Event","cut`)).toString();
  return { text, raw: docs[0]!.raw, quarantine };
}
