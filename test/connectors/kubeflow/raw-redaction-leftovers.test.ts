import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { normalizeAudit } from '../../../connectors/kubeflow/audit.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx } from './helpers.js';

/**
 * End to end through the Kubernetes audit connector's `raw` (what the spool and every sink get): a ConfigMap create,
 * the falco RequestResponse fixture made one, carrying a Python settings file, a log excerpt and a long gzip file.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');

function configMapCreate(cm: Obj): Obj {
  const ev = structuredClone(AUDIT);
  return { ...ev, objectRef: { resource: 'configmaps', namespace: 'prod', name: cm.metadata.name, apiVersion: 'v1' }, requestObject: cm, responseObject: undefined };
}

describe('Kubernetes audit raw redaction: leftovers (unset values, Python containers, quoted values in text, long gzip)', () => {
  it('a ConfigMap settings file and log excerpt: literal secrets in annotated dicts, tuples over lines and quoted message values are hidden; unset secrets, env lookups and keys stay', () => {
    const settings = 'class Settings:\n    tokens: Dict[str, str] = {"hf": "e2e-left-1", "gh": os.environ["GH_TOKEN"]}\n    password: Optional[str] = None\n    api_key: str = ""\n    pairs = [\n        ("password",\n         "e2e-left-2"),\n    ]\n';
    const log = 'INFO connecting\nWARN retry with token: "e2e-left-3" failed\n';
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trainer-settings' }, data: { 'settings.py': settings, 'last-run.log': log } };
    const [out] = normalizeAudit(configMapCreate(cm), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(/e2e-left-\d/);
    expect((out!.raw as Obj).requestObject.data).toEqual({
      'settings.py': 'class Settings:\n    tokens: Dict[str, str] = {"hf": "[redacted]", "gh": os.environ["GH_TOKEN"]}\n    password: Optional[str] = None\n    api_key: str = ""\n    pairs = [\n        ("password",\n         "[redacted]"),\n    ]\n',
      'last-run.log': 'INFO connecting\nWARN retry with token: "[redacted]" failed\n',
    });
    expect(out!.details?.raw_redacted).toEqual(['requestObject.data.settings.py', 'requestObject.data.last-run.log']);
  });

  it('a ConfigMap binaryData file gzip-compressed past what is inflated (256 KiB), its secret beyond that: kept as [unscanned: N bytes], never as sent; a short gzip file stays', () => {
    const long = gzipSync(`${'LOG_LEVEL=debug\n'.repeat(20_000)}DB_PASSWORD=e2e-gz-1\n`);
    const short = gzipSync('LOG_LEVEL=debug\n').toString('base64');
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'env-archive' }, binaryData: { 'app.env.gz': long.toString('base64'), 'small.env.gz': short } };
    const [out] = normalizeAudit(configMapCreate(cm), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toContain(long.toString('base64').slice(0, 40));
    expect((out!.raw as Obj).requestObject.binaryData).toEqual({ 'app.env.gz': `[unscanned: ${long.length} bytes]`, 'small.env.gz': short });
    expect(out!.details?.raw_redacted).toEqual(['requestObject.binaryData.app.env.gz']);
  });
});
