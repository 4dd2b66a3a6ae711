/**
 * Container images AWS publishes for SageMaker to run: who vouches for the code in them is AWS, not the caller.
 * Facts from the SageMaker Python SDK's image URI tables (`image_uri_config/*.json`).
 */

/** The account most regions' Deep Learning Containers are published from. */
const DLC_DEFAULT_ACCOUNT = '763104351884';

/**
 * The regions whose Deep Learning Containers another account publishes (the SDK's `image_uri_config` registries, e.g.
 * `huggingface-llm.json`, `pytorch.json`, `djl-lmi.json`): opt-in regions, China, GovCloud, ISO, the European
 * Sovereign Cloud. There the default account's images are not the region's DLCs.
 */
const DLC_REGIONAL_ACCOUNTS: Record<string, string> = {
  'af-south-1': '626614931356', 'ap-east-1': '871362719292', 'ap-east-2': '975050140332', 'ap-northeast-3': '364406365360',
  'ap-south-2': '772153158452', 'ap-southeast-3': '907027046896', 'ap-southeast-4': '457447274322', 'ap-southeast-5': '550225433462',
  'ap-southeast-6': '633930458069', 'ap-southeast-7': '590183813437', 'ca-west-1': '204538143572', 'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807', 'eu-central-2': '380420809688', 'eu-isoe-west-1': '371248457586', 'eu-south-1': '692866216735',
  'eu-south-2': '503227376785', 'eusc-de-east-1': '204133271717', 'il-central-1': '780543022126', 'me-central-1': '914824155844',
  'me-south-1': '217643126080', 'mx-central-1': '637423239942', 'us-gov-east-1': '446045086412', 'us-gov-west-1': '442386744353',
  'us-iso-east-1': '886529160074', 'us-isob-east-1': '094389454867', 'us-isof-east-1': '303241398832', 'us-isof-south-1': '454834333376',
};

/**
 * The repositories of SageMaker Neo's inference images: `neo-{mxnet,pytorch,tensorflow}` (`sagemaker-inference-*`),
 * `inferentia-*` (`sagemaker-neo-*`), `xgboost-neo`, `image-classification-neo`.
 */
const NEO_REPOSITORIES = new Set([
  'sagemaker-inference-mxnet', 'sagemaker-inference-pytorch', 'sagemaker-inference-tensorflow',
  'sagemaker-neo-mxnet', 'sagemaker-neo-pytorch', 'sagemaker-neo-tensorflow', 'xgboost-neo', 'image-classification-neo',
]);

/** The account that publishes Neo's images in each region (one per region; ap-northeast-3 is listed under two). */
const NEO_ACCOUNTS: Record<string, string[]> = {
  'af-south-1': ['774647643957'], 'ap-east-1': ['110948597952'], 'ap-northeast-1': ['941853720454'], 'ap-northeast-2': ['151534178276'],
  'ap-northeast-3': ['925152966179', '364406365360'], 'ap-south-1': ['763008648453'], 'ap-southeast-1': ['324986816169'],
  'ap-southeast-2': ['355873309152'], 'ca-central-1': ['464438896020'], 'cn-north-1': ['472730292857'], 'cn-northwest-1': ['474822919863'],
  'eu-central-1': ['746233611703'], 'eu-central-2': ['010526262399'], 'eu-north-1': ['601324751636'], 'eu-south-1': ['966458181534'],
  'eu-west-1': ['802834080501'], 'eu-west-2': ['205493899709'], 'eu-west-3': ['254080097072'], 'il-central-1': ['275950707576'],
  'me-south-1': ['836785723513'], 'sa-east-1': ['756306329178'], 'us-east-1': ['785573368785'], 'us-east-2': ['007439368137'],
  'us-gov-east-1': ['227234621604'], 'us-gov-west-1': ['263933020539'], 'us-iso-east-1': ['167761179201'], 'us-isob-east-1': ['406031935815'],
  'us-isof-east-1': ['751086301963'], 'us-isof-south-1': ['935523707064'], 'us-west-1': ['710691900526'], 'us-west-2': ['301217895009'],
};

/**
 * The domain of a region's endpoints where it is not `amazonaws.com` (the SDK's `ALTERNATE_DOMAINS`): an image's ECR
 * host is `<account>.dkr.ecr.<region>.<domain>`, so the ISO and sovereign regions' images are judged too.
 */
const REGION_DOMAINS: Record<string, string> = {
  'cn-north-1': 'amazonaws.com.cn', 'cn-northwest-1': 'amazonaws.com.cn', 'us-iso-east-1': 'c2s.ic.gov', 'us-iso-west-1': 'c2s.ic.gov',
  'us-isob-east-1': 'sc2s.sgov.gov', 'us-isob-west-1': 'sc2s.sgov.gov', 'us-isof-east-1': 'csp.hci.ic.gov', 'us-isof-south-1': 'csp.hci.ic.gov',
  'eu-isoe-west-1': 'cloud.adc-e.uk', 'eusc-de-east-1': 'amazonaws.eu',
};

const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.([a-z0-9.-]+)\/([^:@]+)/;

/** An ECR image's account, region and repository, when its host is ECR's in that region's domain. */
function ecrImage(image: string): { account: string; region: string; repository: string } | undefined {
  const m = ECR_HOST.exec(image);
  if (!m || m[3] !== (REGION_DOMAINS[m[2]!] ?? 'amazonaws.com')) return undefined;
  return { account: m[1]!, region: m[2]!, repository: m[4]! };
}

/**
 * Whether an image is one AWS publishes to serve a Neo-compiled model: a Neo repository in the account that publishes
 * Neo's images in the image's region (the same repository name in any other account is anyone's), or a Deep Learning
 * Container.
 *
 * @example
 * isAwsNeoImage('785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-pytorch:1.8-cpu-py3') // true
 * isAwsNeoImage('111122223333.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-pytorch:1.8-cpu-py3') // false
 */
export function isAwsNeoImage(image: string): boolean {
  if (isAwsDlcImage(image)) return true;
  const m = ecrImage(image);
  return !!m && !!NEO_ACCOUNTS[m.region]?.includes(m.account) && NEO_REPOSITORIES.has(m.repository);
}

/**
 * Whether an image is a Deep Learning Container of its region: the region's own DLC account where it has one
 * (DLC_REGIONAL_ACCOUNTS), else 763104351884 (also in a region the table does not know yet: that account is AWS's, and
 * new regions have mostly been served from it).
 *
 * @example
 * isAwsDlcImage('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310') // true
 * isAwsDlcImage('217643126080.dkr.ecr.me-south-1.amazonaws.com/pytorch-inference:2.1-cpu-py310') // true
 * isAwsDlcImage('763104351884.dkr.ecr.me-south-1.amazonaws.com/pytorch-inference:2.1-cpu-py310') // false
 */
export function isAwsDlcImage(image: string): boolean {
  const m = ecrImage(image);
  return !!m && m.account === (DLC_REGIONAL_ACCOUNTS[m.region] ?? DLC_DEFAULT_ACCOUNT);
}
