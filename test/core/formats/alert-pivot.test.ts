import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { formatter } from '../../../core/formats/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { T0, at, ev } from '../../rules/events.js';

/**
 * From an alert to the events behind it in the SIEM: the caller named the way the forwarded events name it (the
 * role-session ARN, where the alert's person is the session name mltrail resolved), and the account it happened in.
 */
describe('an alert pivots to its events by the caller and the account', () => {
  const arn = 'arn:aws:sts::111122223333:assumed-role/MLDeployer/bob@corp.example';
  const deploy = ev({
    id: 'deploy', time: at(T0), platform: 'sagemaker', stage: 'serving', action: 'endpoint.update', operation: 'UpdateEndpoint', service: 'sagemaker.amazonaws.com',
    actor: { id: arn, name: 'MLDeployer/bob@corp.example', type: 'user', session_issuer: 'arn:aws:iam::111122223333:role/MLDeployer' },
    cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' },
    resource: { type: 'endpoint', name: 'fraud-prod' }, ml: { deployment: { endpoint: 'fraud-prod' }, model: { name: 'fraud', version: '2' } },
  });
  const [alert] = replayEvents([deploy], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
  type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- mapped documents, read by path

  it('ECS: the alert\'s related.user holds the ARN the event\'s related.user holds, and cloud.account.id / region', () => {
    const [a, e] = [formatter('ecs').alert(alert!) as Doc, formatter('ecs').event(deploy) as Doc];
    expect(a.user.name).toBe('bob@corp.example');
    expect(e.related.user).toContain(arn);
    expect(a.related.user).toContain(arn);
    expect([a.cloud.account.id, a.cloud.region]).toEqual([e.cloud.account.id, e.cloud.region]);
  });

  it('CIM: the alert\'s mltrail.details.actor_id is the event\'s user', () => {
    const [a, e] = [formatter('cim').alert(alert!) as Doc, formatter('cim').event(deploy) as Doc];
    expect(a.event.user).toBe('bob@corp.example');
    expect(a.event.mltrail.details.actor_id).toBe(e.event.user);
  });

  it('UDM: the alert\'s principal.user.userid is the event\'s (the ARN), the person its display name', () => {
    const [a, e] = [formatter('udm').alert(alert!) as Doc, formatter('udm').event(deploy) as Doc];
    expect(a.principal.user.userid).toBe(e.principal.user.userid);
    expect(a.principal.user.user_display_name).toBe('bob@corp.example');
  });

  it('OCSF: the finding\'s actor uid is the event\'s actor uid, and its cloud account the event\'s', () => {
    const [a, e] = [formatter('ocsf').alert(alert!) as Doc, formatter('ocsf').event(deploy) as Doc];
    expect(a.evidences[0].actor.user.uid).toBe(e.actor.user.uid);
    expect(a.cloud).toEqual(e.cloud);
  });
});

describe('an alert whose caller is logged by the name it is known by (a Vertex caller\'s email) pivots by user id too', () => {
  const email = 'ci-deployer@proj.iam.gserviceaccount.com';
  const deploy = ev({
    id: 'deploy-v', time: at(T0), platform: 'vertex', stage: 'serving', action: 'endpoint.deploy', operation: 'DeployModel', service: 'aiplatform.googleapis.com',
    actor: { id: email, email, type: 'service' }, cloud: { provider: 'gcp', project: 'fraud-ml-prod', region: 'us-central1' },
    resource: { type: 'endpoint', id: 'projects/fraud-ml-prod/locations/us-central1/endpoints/9' },
    ml: { deployment: { endpoint: 'projects/fraud-ml-prod/locations/us-central1/endpoints/9' }, model: { name: 'projects/fraud-ml-prod/locations/us-central1/models/55', version: '3' } },
  });
  const [alert] = replayEvents([deploy], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
  type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- mapped documents, read by path

  it('OCSF: the finding\'s actor uid is the event\'s; UDM: principal.user.userid is, with no display name repeating it', () => {
    expect(alert!.details.actor_id).toBe(email);
    expect((formatter('ocsf').alert(alert!) as Doc).evidences[0].actor.user.uid).toBe((formatter('ocsf').event(deploy) as Doc).actor.user.uid);
    expect((formatter('udm').alert(alert!) as Doc).principal.user).toEqual({ userid: (formatter('udm').event(deploy) as Doc).principal.user.userid });
    expect((formatter('ecs').alert(alert!) as Doc).related.user).toEqual([email]);
  });
});
