import { describe, expect, it } from 'vitest';
import { LOC, PROJECT, V1, auditEntry, normOne as vertexOne } from './samples.js';

/** `ml.provenance.pipeline_run` on Vertex AI: the PipelineJob's resource name (see the SageMaker test for why). */
describe('Vertex AI: the pipeline job on its own events and on the Model it produced', () => {
  const NUMBER = '123456789012';
  const JOB = `${LOC}/pipelineJobs/fraud-train-20261120`;

  it('CreatePipelineJob names the job; UploadModel with model.pipelineJob (project number) names the same', () => {
    const created = vertexOne(
      auditEntry({
        method: `${V1}PipelineService.CreatePipelineJob`,
        resourceName: LOC,
        request: { '@type': `type.googleapis.com/${V1}CreatePipelineJobRequest`, parent: LOC, pipelineJobId: 'fraud-train-20261120', pipelineJob: { displayName: 'fraud-train', serviceAccount: `runner@${PROJECT}.iam.gserviceaccount.com`, runtimeConfig: { gcsOutputDirectory: 'gs://ml-root/fraud' } } },
        response: { '@type': `type.googleapis.com/${V1}PipelineJob`, name: `projects/${NUMBER}/locations/us-central1/pipelineJobs/fraud-train-20261120`, state: 'PIPELINE_STATE_PENDING' },
      }),
    );
    expect(created.resource?.id).toBe(JOB);
    expect(created.ml?.provenance?.pipeline_run).toBe(JOB);
    const uploaded = vertexOne(
      auditEntry({
        method: `${V1}ModelService.UploadModel`,
        request: { '@type': `type.googleapis.com/${V1}UploadModelRequest`, parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://ml-root/fraud/train/model', containerSpec: { imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-0:latest' }, pipelineJob: `projects/${NUMBER}/locations/us-central1/pipelineJobs/fraud-train-20261120` } },
        response: { '@type': 'type.googleapis.com/google.longrunning.Operation', name: `projects/${NUMBER}/locations/us-central1/models/77/operations/1` },
      }),
    );
    expect(uploaded.ml?.provenance?.pipeline_run).toBe(JOB);
    expect(uploaded.ml?.provenance?.run_id).toBeUndefined();
  });

  it('a Model uploaded by hand, or a pipelineJob that names no pipeline job, names none', () => {
    const upload = (model: Record<string, unknown>) => vertexOne(auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://b/m', ...model } } }));
    expect(upload({}).ml?.provenance).toBeUndefined();
    expect(upload({ pipelineJob: 'gs://b/pipelineJobs/x' }).ml?.provenance).toBeUndefined();
  });
});
