import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { formatter } from '../../../core/formats/index.js';
import { outputSchemas } from '../../../core/formats/validate.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { ctRecord, normOne } from '../../connectors/sagemaker/helpers.js';

/**
 * Alerts carrying `details.lineage` (nested objects and lists) and events carrying `actor.key_id` and
 * `ml.provenance.pipeline_run` stay valid in every output format, with the lineage where each puts an alert's details.
 */
const ACC = '111122223333';
const EXEC = `arn:aws:sagemaker:us-east-1:${ACC}:pipeline/fraud-pipeline/execution/4r83jejmhorv`;
const PKG = `arn:aws:sagemaker:us-east-1:${ACC}:model-package/fraud-models/3`;
const who = (u: string) => ({ type: 'IAMUser', principalId: `AIDA${u}`, arn: `arn:aws:iam::${ACC}:user/${u}`, accountId: ACC, accessKeyId: `AKIA${u.toUpperCase()}`, userName: u });
let n = 0;
const rec = (name: string, u: string, p: Record<string, unknown>, resp: Record<string, unknown>): NormalizedEvent =>
  normOne(ctRecord(name, p, { userIdentity: who(u), eventTime: `2026-11-25T10:${String(++n).padStart(2, '0')}:00Z`, eventID: `fmt-${n}`, requestID: `req-fmt-${n}`, responseElements: resp }));

describe('lineage in the output formats', () => {
  it('every format accepts the alerts and events, and keeps details.lineage', () => {
    const events = [
      rec('CreateModelPackage', 'alice', {
        modelPackageGroupName: 'fraud-models', modelApprovalStatus: 'PendingManualApproval', metadataProperties: { generatedBy: EXEC },
        inferenceSpecification: { containers: [{ image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', modelDataUrl: 's3://fraud-models/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
        tags: [{ key: 'sagemaker:pipeline-execution-arn', value: EXEC }],
      }, { modelPackageArn: PKG }),
      rec('UpdateModelPackage', 'bob', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }),
    ];
    expect(events[0]!.actor?.key_id).toBe('AKIAALICE');
    const alerts = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.details.lineage);
    expect(alerts.length).toBeGreaterThan(0);
    for (const f of ['core', 'ocsf', 'ecs', 'udm', 'cim'] as const) {
      const fmt = formatter(f);
      for (const ev of events) outputSchemas[f].event.parse(fmt.event(ev));
      for (const a of alerts) {
        const out = fmt.alert(a);
        outputSchemas[f].alert.parse(out);
        // The registry part of the lineage reaches the sink as sent.
        expect(JSON.stringify(out), f).toContain('s3://fraud-models/model.tar.gz');
      }
    }
  });
});
