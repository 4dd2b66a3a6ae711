import { describe, expect, it } from 'vitest';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { auditEvent, ctx as kubeflowCtx } from './helpers.js';

/** `ml.provenance.pipeline_run` on Kubeflow: the KFP run id (see the SageMaker test for why). */
describe('Kubeflow: the KFP run id on the run and on its pods', () => {
  it('the KFP run (real KFP REST sample) and a pod labelled pipeline/runid', () => {
    const run = kubeflowConnector.normalize!(readFixtureJson('kubeflow', 'kfp-rest', 'run_completed.json'), kubeflowCtx());
    expect(run.rejected).toEqual([]);
    expect(run.events.map((e) => NormalizedEvent.parse(e).ml?.provenance?.pipeline_run)).toEqual(['completed-run-123', 'completed-run-123']);
    const pod = kubeflowConnector.normalize!(
      auditEvent({
        verb: 'create',
        level: 'Request',
        objectRef: { resource: 'pods', namespace: 'kubeflow-user-alice', apiVersion: 'v1' },
        requestObject: { kind: 'Pod', metadata: { generateName: 'train-', labels: { 'pipeline/runid': 'completed-run-123' } }, spec: { containers: [{ name: 'main', image: 'python:3.11' }] } },
        responseStatus: { code: 201 },
      }),
      kubeflowCtx(),
    );
    expect(pod.events.map((e) => e.ml?.provenance?.pipeline_run)).toEqual(['completed-run-123']);
  });
});
