import { tagMap } from './facts.js';
import { arr, get, str, type Obj } from './util.js';

/** The tag SageMaker Pipelines puts on the job a step starts, naming the step. */
const PIPELINE_STEP_TAG = 'sagemaker:pipeline-step-name';
/** A job a pipeline step started without a custom name: `pipelines-<execution id>-<StepName>-<random>`. */
const PIPELINE_JOB = /^pipelines-[a-z0-9]{12}-(.+)-[A-Za-z0-9]{10}$/;
/** Words of a name that say it evaluates (`EvaluateAbaloneModel`, `model-evaluation`, `eval`). */
const EVALUATION_WORDS = new Set(['eval', 'evaluate', 'evaluation', 'evaluations', 'evaluating', 'evaluator']);

/** A name's words: CamelCase and separators split (`EvaluateAbaloneModel` → evaluate, abalone, model). */
const wordsOf = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
const evaluates = (name: string | undefined) => !!name && wordsOf(name).some((w) => EVALUATION_WORDS.has(w));

/**
 * Why a CreateProcessingJob request is a model evaluation step, as the record shows it, or undefined: an output named
 * for it (`processingOutputConfig.outputs[].outputName` `evaluation` — the SageMaker SDK's pipeline example writes its
 * `evaluation.json` property file there), or a pipeline step named for it (the `sagemaker:pipeline-step-name` tag
 * Pipelines sets, else the step in a generated job name `pipelines-<execution>-EvaluateModel-<random>`). The image says
 * nothing (scikit-learn, XGBoost processing images run preprocessing as well).
 *
 * @example
 * evaluationStepOf({ processingOutputConfig: { outputs: [{ outputName: 'evaluation' }] } }) // 'output evaluation'
 */
export function evaluationStepOf(params: Obj): string | undefined {
  const output = arr(get(params, 'processingOutputConfig.outputs')).map((o) => str(get(o, 'outputName'))).find(evaluates);
  if (output) return `output ${output}`;
  const tagged = tagMap(params.tags)?.[PIPELINE_STEP_TAG];
  const step = tagged ?? PIPELINE_JOB.exec(str(params.processingJobName) ?? '')?.[1];
  return evaluates(step) ? `pipeline step ${step}` : undefined;
}
