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

/** Built-in algorithm repositories published together in most regions (the SDK's `linear-learner.json`, `kmeans.json`…). */
const TABULAR = ['factorization-machines', 'ipinsights', 'kmeans', 'knn', 'linear-learner', 'ntm', 'object2vec', 'pca', 'randomcutforest'];
/** `blazingtext.json`, `image-classification.json`…; `xgboost` is the legacy XGBoost (version 1), `sagemaker-xgboost` the current one. */
const VISION_TEXT = ['blazingtext', 'image-classification', 'object-detection', 'semantic-segmentation', 'seq2seq', 'xgboost'];

/**
 * SageMaker's built-in algorithm images, which its SDK (`image_uris.retrieve('xgboost', …)`) and console run by tag:
 * region → publishing account → its algorithm repositories, from the SDK's image URI tables (`xgboost.json`,
 * `linear-learner.json`, `blazingtext.json`, `kmeans.json`, `forecasting-deepar.json`, `lda.json`…). Only these
 * repositories: the same accounts publish other images (683313688378 scikit-learn, SparkML Serving and Spark
 * processing too): the scikit-learn and SparkML Serving ones are added below (BUILT_IN_REPOSITORIES), the rest judged as anyone's.
 */
const ALGORITHM_REPOSITORIES: Record<string, Record<string, string[]>> = {
  'af-south-1': { '455444449433': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'], '510948584623': ['sagemaker-xgboost'] },
  'ap-east-1': { '286214385809': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'], '651117190479': ['sagemaker-xgboost'] },
  'ap-northeast-1': { '258307448986': ['lda'], '351501993468': [...TABULAR], '354813040037': ['sagemaker-xgboost'], '501404015308': [...VISION_TEXT], '633353088612': ['forecasting-deepar'] },
  'ap-northeast-2': { '204372634319': ['forecasting-deepar'], '293181348795': ['lda'], '306986355934': [...VISION_TEXT], '366743142698': ['sagemaker-xgboost'], '835164637446': [...TABULAR] },
  'ap-northeast-3': { '867004704886': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'ap-south-1': { '720646828776': ['sagemaker-xgboost'], '991648021394': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'] },
  'ap-south-2': { '628508329040': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'ap-southeast-1': { '121021644041': ['sagemaker-xgboost'], '475088953585': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'] },
  'ap-southeast-2': { '297031611018': ['lda'], '514117268639': ['forecasting-deepar'], '544295431143': [...VISION_TEXT], '712309505854': [...TABULAR], '783357654285': ['sagemaker-xgboost'] },
  'ap-southeast-3': { '951798379941': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'ap-southeast-4': { '106583098589': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'ca-central-1': { '341280168497': ['sagemaker-xgboost'], '469771592824': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'] },
  'ca-west-1': { '190319476487': [...TABULAR, 'blazingtext', 'forecasting-deepar', 'image-classification', 'object-detection', 'sagemaker-xgboost', 'semantic-segmentation', 'seq2seq'] },
  'cn-north-1': { '390948362332': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'], '450853457545': ['sagemaker-xgboost'] },
  'cn-northwest-1': { '387376663083': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'], '451049120500': ['sagemaker-xgboost'] },
  'eu-central-1': { '353608530281': ['lda'], '492215442770': ['sagemaker-xgboost'], '495149712605': ['forecasting-deepar'], '664544806723': [...TABULAR], '813361260812': [...VISION_TEXT] },
  'eu-central-2': { '680994064768': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'eu-north-1': { '662702820516': ['sagemaker-xgboost'], '669576153137': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'] },
  'eu-south-1': { '257386234256': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'], '978288397137': ['sagemaker-xgboost'] },
  'eu-south-2': { '104374241257': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'eu-west-1': { '141502667606': ['sagemaker-xgboost'], '224300973850': ['forecasting-deepar'], '438346466558': [...TABULAR], '685385470294': [...VISION_TEXT], '999678624901': ['lda'] },
  'eu-west-2': { '644912444149': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'], '764974769150': ['sagemaker-xgboost'] },
  'eu-west-3': { '659782779980': ['sagemaker-xgboost'], '749696950732': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'] },
  'il-central-1': { '898809789911': [...TABULAR, 'blazingtext', 'forecasting-deepar', 'image-classification', 'object-detection', 'sagemaker-xgboost', 'semantic-segmentation', 'seq2seq'] },
  'me-central-1': { '272398656194': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'me-south-1': { '249704162688': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'], '801668240914': ['sagemaker-xgboost'] },
  'sa-east-1': { '737474898029': ['sagemaker-xgboost'], '855470959533': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar'] },
  'us-east-1': { '382416733822': [...TABULAR], '522234722520': ['forecasting-deepar'], '683313688378': ['sagemaker-xgboost'], '766337827248': ['lda'], '811284229777': [...VISION_TEXT] },
  'us-east-2': { '257758044811': ['sagemaker-xgboost'], '404615174143': [...TABULAR], '566113047672': ['forecasting-deepar'], '825641698319': [...VISION_TEXT], '999911452149': ['lda'] },
  'us-gov-east-1': { '237065988967': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'sagemaker-xgboost'] },
  'us-gov-west-1': { '226302683700': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'], '414596584902': ['sagemaker-xgboost'] },
  'us-iso-east-1': { '490574956308': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'], '833128469047': ['sagemaker-xgboost'] },
  'us-isob-east-1': { '281123927165': ['sagemaker-xgboost'], '765400339828': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'] },
  'us-isof-east-1': { '108575199400': [...TABULAR, 'blazingtext', 'forecasting-deepar', 'image-classification', 'object-detection', 'sagemaker-xgboost', 'semantic-segmentation', 'seq2seq'] },
  'us-isof-south-1': { '124985052026': [...TABULAR, 'blazingtext', 'forecasting-deepar', 'image-classification', 'object-detection', 'sagemaker-xgboost', 'semantic-segmentation', 'seq2seq'] },
  'us-west-1': { '632365934929': [...TABULAR, ...VISION_TEXT, 'forecasting-deepar', 'lda'], '746614075791': ['sagemaker-xgboost'] },
  'us-west-2': { '156387875391': ['forecasting-deepar'], '174872318107': [...TABULAR], '246618743249': ['sagemaker-xgboost'], '266724342769': ['lda'], '433757028032': [...VISION_TEXT] },
};

/**
 * The account publishing SageMaker's scikit-learn framework images (`sagemaker-scikit-learn`, training and serving: the
 * SDK's `SKLearn` estimator and `SKLearnModel` run them by tag) in each region, from the SDK's `sklearn.json`; the
 * same accounts as `sagemaker-xgboost`'s.
 */
const SKLEARN_ACCOUNTS: Record<string, string> = {
  'af-south-1': '510948584623', 'ap-east-1': '651117190479', 'ap-northeast-1': '354813040037', 'ap-northeast-2': '366743142698',
  'ap-northeast-3': '867004704886', 'ap-south-1': '720646828776', 'ap-south-2': '628508329040', 'ap-southeast-1': '121021644041',
  'ap-southeast-2': '783357654285', 'ap-southeast-3': '951798379941', 'ap-southeast-4': '106583098589', 'ca-central-1': '341280168497',
  'ca-west-1': '190319476487', 'cn-north-1': '450853457545', 'cn-northwest-1': '451049120500', 'eu-central-1': '492215442770',
  'eu-central-2': '680994064768', 'eu-north-1': '662702820516', 'eu-south-1': '978288397137', 'eu-south-2': '104374241257',
  'eu-west-1': '141502667606', 'eu-west-2': '764974769150', 'eu-west-3': '659782779980', 'il-central-1': '898809789911',
  'me-central-1': '272398656194', 'me-south-1': '801668240914', 'sa-east-1': '737474898029', 'us-east-1': '683313688378',
  'us-east-2': '257758044811', 'us-gov-east-1': '237065988967', 'us-gov-west-1': '414596584902', 'us-iso-east-1': '833128469047',
  'us-isob-east-1': '281123927165', 'us-isof-east-1': '108575199400', 'us-isof-south-1': '124985052026', 'us-west-1': '746614075791',
  'us-west-2': '246618743249',
};

/**
 * The regions of SageMaker's SparkML Serving image (`sagemaker-sparkml-serving`: the SDK's `SparkMLModel`, an inference
 * pipeline's MLeap stage), published from the region's scikit-learn account (the SDK's `sparkml-serving.json`).
 */
const SPARKML_SERVING_REGIONS = [
  'af-south-1', 'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2',
  'ap-southeast-3', 'ca-central-1', 'cn-north-1', 'cn-northwest-1', 'eu-central-1', 'eu-north-1', 'eu-south-1', 'eu-west-1', 'eu-west-2',
  'eu-west-3', 'me-south-1', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'us-west-1', 'us-west-2',
];

/** ALGORITHM_REPOSITORIES with the framework images AWS's algorithm accounts publish beside them (scikit-learn, SparkML Serving). */
const BUILT_IN_REPOSITORIES: Record<string, Record<string, string[]>> = (() => {
  const out: Record<string, Record<string, string[]>> = Object.fromEntries(Object.entries(ALGORITHM_REPOSITORIES).map(([region, accounts]) => [region, Object.fromEntries(Object.entries(accounts).map(([a, repos]) => [a, [...repos]]))]));
  const add = (region: string, account: string, repository: string) => ((out[region] ??= {})[account] ??= []).push(repository);
  for (const [region, account] of Object.entries(SKLEARN_ACCOUNTS)) add(region, account, 'sagemaker-scikit-learn');
  for (const region of SPARKML_SERVING_REGIONS) add(region, SKLEARN_ACCOUNTS[region]!, 'sagemaker-sparkml-serving');
  return out;
})();

/**
 * `registry/repository` globs of SageMaker's built-in algorithm images and the scikit-learn and SparkML Serving images
 * their accounts publish, one per region, account and repository (no
 * wildcard: another repository of the account, or the account's in another partition, is not one):
 * `382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner`, `390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/kmeans`.
 */
export const AWS_ALGORITHM_IMAGES: readonly string[] = Object.entries(BUILT_IN_REPOSITORIES).flatMap(([region, accounts]) =>
  Object.entries(accounts).flatMap(([account, repos]) => repos.map((repo) => `${account}.dkr.ecr.${region}.${REGION_DOMAINS[region] ?? 'amazonaws.com'}/${repo}`)),
);

/**
 * The images AWS runs a processing job with by tag (the SageMaker Python SDK's `PySparkProcessor` / `SparkJarProcessor`,
 * Data Wrangler's export jobs, `SageMakerClarifyProcessor`, Model Monitor's `DefaultModelMonitor` baselining and
 * monitoring jobs): repository → region → the account(s) publishing it there (space-separated), from the SDK's
 * `spark.json`, `data-wrangler.json`, `clarify.json` and `model-monitor.json` (and the SageMaker developer guide's
 * "Docker registry paths and example code" pages, which list the same accounts). Data Wrangler's ap-northeast-3 image
 * moved account between SDK releases: both are listed.
 */
const PROCESSING_ACCOUNTS: Record<string, Record<string, string>> = {
  'sagemaker-spark-processing': {
    'af-south-1': '309385258863', 'ap-east-1': '732049463269', 'ap-east-2': '533267296287',
    'ap-northeast-1': '411782140378', 'ap-northeast-2': '860869212795', 'ap-northeast-3': '102471314380',
    'ap-south-1': '105495057255', 'ap-south-2': '873151114052', 'ap-southeast-1': '759080221371',
    'ap-southeast-2': '440695851116', 'ap-southeast-3': '800295151634', 'ap-southeast-4': '819679513684',
    'ap-southeast-5': '841784149062', 'ap-southeast-7': '471112967968', 'ca-central-1': '446299261295',
    'ca-west-1': '000907499111', 'cn-north-1': '671472414489', 'cn-northwest-1': '844356804704',
    'eu-central-1': '906073651304', 'eu-central-2': '142351485170', 'eu-north-1': '330188676905',
    'eu-south-1': '753923664805', 'eu-south-2': '833944533722', 'eu-west-1': '571004829621',
    'eu-west-2': '836651553127', 'eu-west-3': '136845547031', 'il-central-1': '408426139102',
    'me-central-1': '395420993607', 'me-south-1': '750251592176', 'mx-central-1': '211125459255',
    'sa-east-1': '737130764395', 'us-east-1': '173754725891', 'us-east-2': '314815235551',
    'us-gov-east-1': '260923028637', 'us-gov-west-1': '271483468897', 'us-west-1': '667973535471',
    'us-west-2': '153931337802',
  },
  'sagemaker-data-wrangler-container': {
    'af-south-1': '143210264188', 'ap-east-1': '707077482487', 'ap-northeast-1': '649008135260',
    'ap-northeast-2': '131546521161', 'ap-northeast-3': '364406365360 913387583493', 'ap-south-1': '089933028263',
    'ap-southeast-1': '119527597002', 'ap-southeast-2': '422173101802', 'ca-central-1': '557239378090',
    'cn-north-1': '245909111842', 'cn-northwest-1': '249157047649', 'eu-central-1': '024640144536',
    'eu-north-1': '054986407534', 'eu-south-1': '488287956546', 'eu-west-1': '245179582081',
    'eu-west-2': '894491911112', 'eu-west-3': '807237891255', 'il-central-1': '406833011540',
    'me-south-1': '376037874950', 'sa-east-1': '424196993095', 'us-east-1': '663277389841', 'us-east-2': '415577184552',
    'us-west-1': '926135532090', 'us-west-2': '174368400705',
  },
  'sagemaker-clarify-processing': {
    'af-south-1': '811711786498', 'ap-east-1': '098760798382', 'ap-northeast-1': '377024640650',
    'ap-northeast-2': '263625296855', 'ap-northeast-3': '912233562940', 'ap-south-1': '452307495513',
    'ap-southeast-1': '834264404009', 'ap-southeast-2': '007051062584', 'ap-southeast-3': '705930551576',
    'ca-central-1': '675030665977', 'cn-north-1': '122526803553', 'cn-northwest-1': '122578899357',
    'eu-central-1': '017069133835', 'eu-central-2': '730335477804', 'eu-north-1': '763603941244',
    'eu-south-1': '638885417683', 'eu-west-1': '131013547314', 'eu-west-2': '440796970383', 'eu-west-3': '341593696636',
    'me-south-1': '835444307964', 'sa-east-1': '520018980103', 'us-east-1': '205585389593', 'us-east-2': '211330385671',
    'us-gov-west-1': '598674086554', 'us-isof-east-1': '579539705040', 'us-isof-south-1': '411392592546',
    'us-west-1': '740489534195', 'us-west-2': '306415355426',
  },
  'sagemaker-model-monitor-analyzer': {
    'af-south-1': '875698925577', 'ap-east-1': '001633400207', 'ap-northeast-1': '574779866223',
    'ap-northeast-2': '709848358524', 'ap-northeast-3': '990339680094', 'ap-south-1': '126357580389',
    'ap-southeast-1': '245545462676', 'ap-southeast-2': '563025443158', 'ap-southeast-3': '669540362728',
    'ca-central-1': '536280801234', 'cn-north-1': '453000072557', 'cn-northwest-1': '453252182341',
    'eu-central-1': '048819808253', 'eu-central-2': '590183933784', 'eu-north-1': '895015795356',
    'eu-south-1': '933208885752', 'eu-south-2': '437450045455', 'eu-west-1': '468650794304',
    'eu-west-2': '749857270468', 'eu-west-3': '680080141114', 'il-central-1': '843974653677',
    'me-central-1': '588750061953', 'me-south-1': '607024016150', 'sa-east-1': '539772159869',
    'us-east-1': '156813124566', 'us-east-2': '777275614652', 'us-isof-east-1': '853188333426',
    'us-isof-south-1': '467912361380', 'us-west-1': '890145073186', 'us-west-2': '159807026194',
  },
};

/**
 * `registry/repository` globs of AWS's processing images (Spark, Data Wrangler, Clarify, Model Monitor), one per
 * region, account and repository, as AWS_ALGORITHM_IMAGES: another repository of the account, or the same repository
 * name in any other account, is not one.
 *
 * @example
 * AWS_PROCESSING_IMAGES.includes('173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing') // true
 */
export const AWS_PROCESSING_IMAGES: readonly string[] = Object.entries(PROCESSING_ACCOUNTS).flatMap(([repo, regions]) =>
  Object.entries(regions).flatMap(([region, accounts]) => accounts.split(' ').map((account) => `${account}.dkr.ecr.${region}.${REGION_DOMAINS[region] ?? 'amazonaws.com'}/${repo}`)),
);

/**
 * `registry/*` globs of the Deep Learning Containers of the regions that have their own DLC account (opt-in regions,
 * China, GovCloud, ISO, the European Sovereign Cloud), each in its region's domain only: the SDK's framework estimators
 * run these by tag there, as 763104351884's elsewhere.
 *
 * @example
 * AWS_REGIONAL_DLC_IMAGES.includes('727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/*') // true
 */
export const AWS_REGIONAL_DLC_IMAGES: readonly string[] = Object.entries(DLC_REGIONAL_ACCOUNTS).map(([region, account]) => `${account}.dkr.ecr.${region}.${REGION_DOMAINS[region] ?? 'amazonaws.com'}/*`);

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
