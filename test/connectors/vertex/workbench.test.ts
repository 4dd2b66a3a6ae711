import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { vertexLogSelection } from '../../../connectors/vertex/selection.js';
import { auditEntry, normOneConfigured } from './samples.js';

/**
 * Vertex AI Workbench instances (notebooks.googleapis.com): the post-startup script an instance downloads and runs as
 * root after boot — v2 `Instance.gceSetup.metadata["post-startup-script"]`, v1 `Instance.postStartupScript` — is read
 * as a lifecycle script (platform.notebook_exposure).
 */
const RULE = 'platform.notebook_exposure';
const NAME = 'projects/ml-proj/locations/us-central1-a/instances/wb-1';
const workbench = (method: string, request: Record<string, unknown>) => {
  const e = auditEntry({ method, resourceName: NAME, request, principal: 'alice@corp.example' });
  (e.protoPayload as Record<string, unknown>).serviceName = 'notebooks.googleapis.com';
  return NormalizedEvent.parse(normOneConfigured(e, {}));
};
const v2 = (script: string) => workbench('google.cloud.notebooks.v2.NotebookService.CreateInstance', {
  '@type': 'type.googleapis.com/google.cloud.notebooks.v2.CreateInstanceRequest', parent: 'projects/ml-proj/locations/us-central1-a', instanceId: 'wb-1',
  instance: { gceSetup: { machineType: 'e2-standard-4', metadata: { 'post-startup-script': script, 'proxy-mode': 'service_account' }, serviceAccounts: [{ email: 'nb@ml-proj.iam.gserviceaccount.com' }] } },
});
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);

describe('Vertex AI Workbench post-startup scripts', () => {
  it('are read from a v2 and a v1 request; one from the internet is run unread and alerts by default', () => {
    const web = v2('https://paste.example.net/raw/wb.sh?token=abc123');
    expect(web.details).toMatchObject({ lifecycle_scripts: true, script_hooks: ['post_startup_script'], script_code_uris: ['https://paste.example.net/raw/wb.sh?token=[redacted]'], script_piped_to_shell: ['https://paste.example.net/raw/wb.sh?token=[redacted]'] });
    // The URL's token is hidden in raw too.
    expect(JSON.stringify(web.raw)).not.toContain('abc123');
    const [a, ...more] = alertsOf([web]);
    expect(more).toEqual([]);
    expect(a!.entity.id).toBe(NAME);
    const v1 = workbench('google.cloud.notebooks.v1.NotebookService.CreateInstance', { instanceId: 'wb-1', instance: { postStartupScript: 'gs://team-nb/setup.sh', machineType: 'n1-standard-4' } });
    expect(v1.details).toMatchObject({ script_code_uris: ['gs://team-nb/setup.sh'] });
    expect(v1.details?.script_piped_to_shell).toBeUndefined();
  });

  it('a script in Cloud Storage is judged by trusted_code_locations only; an instance without one is nothing', () => {
    const team = v2('gs://team-nb/setup.sh');
    expect(alertsOf([team])).toEqual([]);
    const rules = { [RULE]: { trusted_code_locations: ['gs://ml-platform-code/*'] } };
    expect(alertsOf([team], rules).map((a) => a.details?.code_uris)).toEqual([['gs://team-nb/setup.sh']]);
    expect(alertsOf([v2('gs://ml-platform-code/wb/setup.sh')], rules)).toEqual([]);
    const plain = workbench('google.cloud.notebooks.v2.NotebookService.CreateInstance', { instanceId: 'wb-2', instance: { gceSetup: { machineType: 'e2-standard-4' } } });
    expect(plain.details?.lifecycle_scripts).toBeUndefined();
  });

  it('the connector\'s log selection takes Workbench entries', () => {
    expect(vertexLogSelection('ml-proj')).toContain('protoPayload.serviceName="notebooks.googleapis.com"');
  });
});
