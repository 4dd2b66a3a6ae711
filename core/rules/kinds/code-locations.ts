import { anyGlob } from '../facts.js';

/** The SageMaker Python SDK's default bucket, `sagemaker-<region>-<account>`: whose account its name says. */
const SDK_BUCKET = /^s3:\/\/sagemaker-[a-z0-9-]+-(\d{12})\//i;

/**
 * The code archives (a script-mode source bundle, a Vertex python package, a serving container's
 * SAGEMAKER_SUBMIT_DIRECTORY) that should not run: outside `trusted` (URI globs, `trusted_code_locations`) when that
 * is set; whatever it is, one in the SDK default bucket of another account than `account`, whose name says so. An
 * unset list judges nothing else: the URI does not say whose bucket it is.
 */
export function untrustedCode(uris: readonly string[], account: string | undefined, trusted: readonly string[]): Array<{ uri: string; reason: string }> {
  const out: Array<{ uri: string; reason: string }> = [];
  for (const uri of uris) {
    if (anyGlob(trusted, uri)) continue;
    const owner = SDK_BUCKET.exec(uri)?.[1];
    if (owner && account && owner !== account) out.push({ uri, reason: `code from ${uri}, the SageMaker SDK bucket of account ${owner}` });
    else if (trusted.length) out.push({ uri, reason: `code from ${uri}, not in trusted_code_locations` });
  }
  return out;
}

/**
 * The accounts SageMaker Ground Truth publishes its built-in pre-annotation (`PRE-<task type>`) and annotation
 * consolidation (`ACS-<task type>`) Lambda functions from, per region (the SageMaker API reference,
 * `HumanTaskConfig.PreHumanTaskLambdaArn` / `AnnotationConsolidationConfig.AnnotationConsolidationLambdaArn`).
 */
const GROUND_TRUTH_ACCOUNTS: Readonly<Record<string, string>> = {
  'us-east-1': '432418664414', 'us-east-2': '266458841044', 'us-west-2': '081040173940', 'ca-central-1': '918755190332',
  'eu-west-1': '568282634449', 'eu-west-2': '487402164563', 'eu-central-1': '203001061592', 'ap-northeast-1': '477331159723',
  'ap-northeast-2': '845288260483', 'ap-south-1': '565803892007', 'ap-southeast-1': '377565633583', 'ap-southeast-2': '454466003867',
};

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)/;

/** Whether a Lambda ARN is one of Ground Truth's built-in functions (AWS's code, in AWS's account for its region). */
export function isGroundTruthBuiltIn(arn: string): boolean {
  const m = LAMBDA_ARN.exec(arn);
  return !!m && GROUND_TRUTH_ACCOUNTS[m[1]!] === m[2] && /^(PRE|ACS)-/.test(m[3]!);
}

/**
 * The Lambda functions a labeling job runs over every data object and its labels (`ml.job.lambda_functions`: the
 * pre-annotation and annotation-consolidation functions) that should not: a function of another account than the
 * job's, unless it is one of Ground Truth's built-in functions or matches `trusted` (globs, `trusted_code_locations`);
 * the job's own account's functions only when `trusted` names Lambda ARNs (`arn:aws:lambda:…`): a list of S3 code
 * locations says nothing about them. A consolidation function decides the labels the model will learn.
 */
export function untrustedFunctions(job: Record<string, unknown> | undefined, account: string | undefined, trusted: readonly string[]): Array<{ arn: string; reason: string }> {
  const arns = Array.isArray(job?.lambda_functions) ? job.lambda_functions.filter((a): a is string => typeof a === 'string') : [];
  const judgesLambdas = trusted.some((g) => /^arn:/i.test(g));
  const out: Array<{ arn: string; reason: string }> = [];
  for (const arn of arns) {
    if (anyGlob(trusted, arn) || isGroundTruthBuiltIn(arn)) continue;
    const owner = LAMBDA_ARN.exec(arn)?.[2];
    const m = LAMBDA_ARN.exec(arn);
    // Named like a built-in (PRE-/ACS-) in a region the API reference lists no Ground Truth account for: Ground Truth is
    // offered in those 12 regions only, so whose account this is cannot be told; it alerts, saying so (a name is free
    // to take in any account; a new region's built-ins are listed in trusted_code_locations until added here).
    const unknownRegion = m && /^(PRE|ACS)-/.test(m[3]!) && !GROUND_TRUTH_ACCOUNTS[m[1]!] ? ` (named like a Ground Truth built-in, but no built-in account is known for ${m[1]})` : '';
    if (owner && account && owner !== account) out.push({ arn, reason: `labeling Lambda ${arn} of account ${owner} runs over the data and its labels${unknownRegion}` });
    else if (judgesLambdas) out.push({ arn, reason: `labeling Lambda ${arn}, not in trusted_code_locations` });
  }
  return out;
}
