import { Platform, type NormalizedEvent } from '../schema/index.js';
import type { StateStore } from '../state/index.js';
import type { RulesConfigParsed } from './config.js';
import { isAwsDlcImage } from './aws-images.js';
import {
  approvalOf, asS3Uri, compareVersions, deployedModelNames, currentStageOf, deploymentConfigOf, endpointOf, identityOf, inputsOf, imageDigestsOf, imagesOf, inferenceArtifactsOf, isAutoDeployment, isDeployment, modelRefOf, extraArtifactsOf, normUri, outputsOf, packageRef, partitionOfUri, partitionOfVersion, samePartition, readingsDiffer, endpointKey, sagemakerScopeOf, scopeOf, scopedName, serverScopeOf, uriAncestors, uriOverlap, versionKey, type ModelRef,
} from './facts.js';

/**
 * Shared registry state derived from events, across platforms: model
 * versions, who trained / evaluated / registered / approved them, registered
 * hashes, approval state, training inputs, and what each endpoint serves.
 * Everything lives in the StateStore (namespace `rules.registry`), so it
 * commits with the rules cursor and replay rebuilds it identically.
 */
export const REGISTRY_NS = 'rules.registry';

export interface Party {
  identity: string;
  event: string;
  time: string;
  platform: string;
}

/** How a deployed `models:/…` reference was resolved (Registry.resolveModelUri), as alert details say it. */
export interface ModelUriResolution {
  /** `stage:<stage>` as the URI spells it, or `latest`. */
  resolved_from?: string;
  /** The version it loads now. */
  resolved_version?: string;
  /** Why it names no version. */
  unresolved?: string;
}

export interface VersionRec {
  key: string;
  platform: string;
  name: string;
  version: string;
  /** SageMaker: the `<account>:<region>` the package lives in; MLflow: the configured server's id (ModelRef.scope), part of its key; unset where not known. */
  scope?: string;
  artifact?: string;
  sha256?: string;
  shaEvent?: string;
  runId?: string;
  created?: Party;
  trainers: Party[];
  evaluators: Party[];
  registrants: Party[];
  approval?: { state: 'approved' | 'rejected' | 'pending'; time: string; event: string; identity?: string };
  approvedEver: boolean;
  /**
   * The last rejection no approval has followed: a pending marker set after it (`approval_status=pending`, a review
   * asked for again) reopens no decision, so the version is still rejected for what a move of the approval alias deploys.
   */
  rejected?: { time: string; event: string; identity?: string };
  metrics: Record<string, { value: number; event: string; time: string }>;
  adversarial: Array<{ key: string; value: unknown; event: string }>;
  trainingInputs: Array<{ uri: string; event: string }>;
  /** Runs that produced this version's artifact. */
  producerRuns?: string[];
  /** Aliases pointing at this version (an alias names one version of a model). */
  aliases?: string[];
  /** MLflow: the stage the last transition seen moved it to (`Production`), what a `models:/<name>/<stage>` URI loads by. */
  stage?: { name: string; time: string; event: string };
  /**
   * Keys of records of the same name+version on other platforms that were known only from
   * evaluations or deployments before this registry record appeared; their facts were copied in
   * (rule state keyed by version still names them).
   */
  adopted?: string[];
  /**
   * SageMaker: the `<account>:<region>` scopes the approvals of this version were made in. A deployment of a
   * package ARN from another scope (a package of the same group and version shared in from another account
   * or region) is not vouched for by them. Unset on records approved before scopes were kept.
   */
  approvedScopes?: string[];
  /** Serving images the version was registered with (SageMaker package containers), when it names them. */
  images?: string[];
  /** Their digests (`sha256:…`), given apart or in the references. */
  imageDigests?: string[];
  /** Artifacts of its containers after the first (a multi-container package): they are its artifacts too. */
  moreArtifacts?: string[];
  /**
   * Artifacts of its additional inference specifications (SageMaker: a Neo-compiled or optimized copy registered in
   * the package): its artifacts too, judged by its approval. Only the registry links a copy to its version: the
   * compilation job's output location does not (anyone who can write there could put other weights in it).
   */
  inferenceArtifacts?: string[];
  /**
   * MLflow: where the files of a version registered from a logged model (`models:/m-…`, MLflow 3's `log_model`) or a run
   * (`runs:/<run>/<path>`) are, as the registry answers for it (the MLflow auditor's download URI, `s3://…/models/m-…/artifacts`):
   * its source names them only through MLflow, so an object-store write or a deployment naming them is judged by this.
   */
  storage?: string;
  /**
   * SageMaker: the evaluation reports registered with the package (its ModelMetrics: `model_quality.statistics`, the
   * `evaluation.json` a pipeline's evaluation step wrote; bias and explainability reports), by the object each names.
   * Not its artifacts (nothing serves them), but what its approval was judged on: a write to one after the approval
   * rewrites the evidence (registry.approved_model_modified `evaluation_report_overwritten`).
   */
  evaluationReports?: Array<{ report: string; uri: string; content_digest?: string; event: string; time: string }>;
  /** The checkpoint a deployment naming none serves (Vertex Model.defaultCheckpointId), as last set. */
  defaultCheckpoint?: string;
  /** The default checkpoint when the version was last approved, if known: the weights the approval vouches for. */
  approvedCheckpoint?: string;
}

/** An upload whose version number was not logged, until the version is seen (see Registry.claimUpload). */
interface PendingUpload {
  event: string;
  time: string;
  /** The version number Vertex gives it: one above the highest known or queued when it was uploaded. */
  expect?: string;
  /**
   * Whether that number is sure: the highest version known was seen being made (its upload or creation),
   * or is a sure upload waiting. One known only from an evaluation or a read may have unseen successors
   * (made before mltrail watched, or by a call it does not read as one, a CopyModel into the model).
   */
  sure?: boolean;
  aliases: string[];
  approval?: 'approved' | 'rejected' | 'pending';
  who?: Party;
  artifact?: string;
}

/** A Vertex job's resource name (`projects/P/locations/L/customJobs/123`, `…/tuningJobs/456`): unique, unlike its display name. */
const VERTEX_JOB = /^projects\/[^/]+\/locations\/[^/]+\/(?:customJobs|tuningJobs|hyperparameterTuningJobs|nasJobs|trainingPipelines|pipelineJobs)\/[^/@]+$/;

/** Uploads without a version number waiting for theirs, per model (the oldest first). */
const MAX_PENDING_UPLOADS = 20;

/** Where rules keep what an upload without a version number says of its version (adversarial evidence). */
export const uploadKey = (eventId: string): string => `upload:${eventId}`;

/** What a job / pipeline run (or the producer of an output URI) contributed. */
export interface JobRec {
  trainers: Party[];
  inputs: Array<{ uri: string; event: string }>;
  /** Runs (KFP run, SageMaker pipeline execution, job) behind this record. */
  runIds?: string[];
  /** Evaluations of the run that came before any version was registered from it. */
  evaluators?: Party[];
  metrics?: Record<string, { value: number; event: string; time: string }>;
  evalInputs?: Array<{ uri: string; event: string }>;
}

interface ModelResource {
  ref: ModelRef;
  event: string;
  /** Artifacts of its containers after the first. */
  artifacts?: string[];
  /** The images its containers run, when given (not when it is made from a package). */
  images?: string[];
  /** Packages of its containers after the first (an inference pipeline of packages), each served too. */
  packages?: ModelRef[];
  /** When the call that made it was (unset on records kept before this was). */
  time?: string;
  /**
   * A Model the service created from an inference-optimization job's output (CreateOptimizationJob
   * `OutputConfig.SageMakerModel`): `ref` and the rest are its source's, as the job named it (a Model's, or an S3 URI).
   */
  optimization?: { job: string; event: string; source: string };
  /**
   * The MLflow model a SageMaker Model says it was made from: the `model_uri` tag `mlflow.sagemaker`'s deploy (and
   * `mlflow deployments create -t sagemaker`) puts on the Model it creates (`models:/fraud/3`, `runs:/<run>/model`, an
   * `s3://` URI), whose ModelDataUrl is a re-packed copy in its own bucket. A claim of the caller, not a link the bytes prove.
   */
  mlflowModelUri?: string;
}

/**
 * A Neo compilation job as CloudTrail logs its creation (CreateCompilationJob): what it read, where it writes. The job's
 * result is not logged; Neo writes `<input name>-<target device>.tar.gz` into the output location.
 */
export interface CompilationRec {
  job: string;
  event: string;
  time: string;
  /** `<account>:<region>` the job ran in. */
  scope?: string;
  /** `InputConfig.S3Uri` (normalized), or the package version it compiled (`ModelPackageVersionArn`). */
  input_uri?: string;
  input_package?: string;
  /** `OutputConfig.S3OutputLocation` (normalized). */
  output: string;
  target_device?: string;
  /** `OutputConfig.TargetPlatform` as `<Os>_<Arch>[_<Accelerator>]`, when the job names no device. */
  target_platform?: string;
  /** `RoleArn`: the role SageMaker writes the job's output with (its S3 writes are the job's own). */
  role?: string;
}

/** A rejection kept by the artifact it judged (`rja|<uri>`, an https:// S3 URL as the s3:// object it names): the version it was made on, when, by whom. */
export interface RejectedArtifact {
  key: string; name: string; version: string; time: string; event: string; identity?: string;
  /** The partition of the rejected version's artifact (partitionOfVersion), when not `aws`: a bucket of another partition is other weights. */
  partition?: string;
}

export interface EndpointRec {
  endpoint: string;
  platform: string;
  name?: string;
  version?: string;
  versionKeys: string[];
  event: string;
  time: string;
}

const MAX_PARTIES = 20;
const MAX_LIST = 50;

function pushParty(list: Party[], p: Party | undefined): void {
  if (!p || list.some((x) => x.identity === p.identity)) return;
  list.push(p);
  if (list.length > MAX_PARTIES) list.shift();
}

/**
 * The versions holding an alias, the one holding it exactly first, then those holding it in another case:
 * MLflow stores aliases as given, and on MySQL (case-insensitive collation) `@Champion` reaches `champion`.
 */
function aliasHolders(versions: VersionRec[], alias: string): VersionRec[] {
  const folded = alias.toLowerCase();
  const exact = versions.filter((v) => v.aliases?.includes(alias));
  return [...exact, ...versions.filter((v) => !exact.includes(v) && v.aliases?.some((a) => a.toLowerCase() === folded))];
}

/**
 * @example
 * const reg = new Registry(spool.state, cfg);
 * reg.resolve(modelRefOf(ev, cfg)).named?.approvedEver
 */
/** Compilation jobs kept by output location (the oldest forgotten first): see Registry.compilationJob. */
const MAX_COMPILATIONS = 200;

export class Registry {
  constructor(
    private readonly state: StateStore,
    private readonly cfg: RulesConfigParsed,
  ) {}

  /**
   * One-time rewrites of registry state written in an older shape, each recorded by name under `migrations` when
   * done (run again, a finished one reads one key; one cut short redoes what is left, each step idempotent).
   * `rja-object-keys`: rejections kept by an artifact were keyed by its URI as written before they were keyed by
   * the object it names (asS3Uri); one kept under an `https://` S3 URL (or the CLI's `s3://<access point ARN>/…`)
   * was not found from the `s3://` form, so it moves to that key, with the partition the URL tells. Where both keys
   * hold one, the later decision stays. Returns how many keys were moved.
   */
  migrate(): number {
    const done = this.get<string[]>('migrations') ?? [];
    if (done.includes('rja-object-keys')) return 0;
    let moved = 0;
    for (const prefix of ['rja|https://', 'rja|s3://arn:']) {
      for (const { key, value } of this.state.list<RejectedArtifact>(REGISTRY_NS, prefix)) {
        const written = key.slice('rja|'.length);
        const object = asS3Uri(written);
        if (object === written) continue;
        const partition = value.partition ?? partitionOfUri(written);
        const rec: RejectedArtifact = { ...value, ...(partition && partition !== 'aws' ? { partition } : {}) };
        const there = this.get<RejectedArtifact>(`rja|${object}`);
        if (!there || Date.parse(there.time) < Date.parse(rec.time)) this.set(`rja|${object}`, rec);
        this.delete(key);
        moved++;
      }
    }
    this.set('migrations', [...done, 'rja-object-keys']);
    return moved;
  }

  private get<T>(key: string): T | undefined {
    return this.state.get<T>(REGISTRY_NS, key);
  }
  private set(key: string, v: unknown): void {
    this.state.set(REGISTRY_NS, key, v);
  }
  private delete(key: string): void {
    this.state.delete(REGISTRY_NS, key);
  }
  private addToIndex(key: string, value: string): void {
    const list = this.get<string[]>(key) ?? [];
    if (list.includes(value)) return;
    list.push(value);
    if (list.length > MAX_LIST) list.shift();
    this.set(key, list);
  }

  /** The versions whose registered evaluation reports (ModelMetrics) include the object at `uri` (an `s3://` URI). */
  versionsWithReport(uri: string): VersionRec[] {
    return (this.get<string[]>(`er|${asS3Uri(uri)}`) ?? []).map((k) => this.version(k)).filter((v): v is VersionRec => !!v);
  }

  version(key: string): VersionRec | undefined {
    return this.get<VersionRec>(`v|${key}`);
  }
  saveVersion(v: VersionRec): void {
    this.set(`v|${v.key}`, v);
  }
  /**
   * A record of a SageMaker-named resource (endpoint, config, Model, inference component) under its scoped name
   * (`<account>:<region>:<name>`), else under the bare name: state written before names were scoped (read on, so
   * an upgrade does not forget what was deployed and approved), or by events that do not say where they happened.
   * A configured cluster's (`<id>:<name>`) only under its own name (readsBare).
   */
  private named<T>(prefix: string, platform: string, name: string, scope: string | undefined): T | undefined {
    const bare = `${prefix}|${platform}|${name}`;
    if (!scope) return this.get<T>(bare);
    const own = this.get<T>(`${prefix}|${platform}|${scope}:${name}`);
    return own !== undefined || !readsBare(platform) ? own : this.get<T>(bare);
  }

  /** What an endpoint serves (SageMaker endpoint names are case-insensitive: folded, see endpointKey). */
  endpoint(platform: string, endpoint: string, scope?: string): EndpointRec | undefined {
    return this.named<EndpointRec>('ep', platform, platform === 'sagemaker' ? endpoint.toLowerCase() : endpoint, scope);
  }
  /** Versions of one model (same platform and name, and SageMaker scope), oldest first by registration. */
  versionsOf(platform: string, name: string, scope?: string): VersionRec[] {
    const keys = this.get<string[]>(`mv|${platform}|${scopedName(name, scope)}`) ?? [];
    // Records kept under the bare name before packages were scoped (see ownVersion).
    const legacy = scope && readsBare(platform) ? (this.get<string[]>(`mv|${platform}|${name}`) ?? []) : [];
    return [...legacy, ...keys].map((k) => this.version(k)).filter((v): v is VersionRec => !!v && (!scope || mayBeIn(v, scope)));
  }

  /**
   * The record of a version in its scope, else one kept under the bare name (written before packages were scoped,
   * or by events that do not say where) that may be that scope's: not scoped elsewhere, not approved only elsewhere.
   */
  ownVersion(platform: string, name: string, version: string, scope: string | undefined): VersionRec | undefined {
    const own = this.version(versionKey(platform, name, version, scope));
    if (own || !scope || !readsBare(platform)) return own;
    const bare = this.version(versionKey(platform, name, version));
    return bare && mayBeIn(bare, scope) ? bare : undefined;
  }

  /**
   * Job / run records that produced an artifact (an output URI equal to it or
   * enclosing it), with the runs behind them.
   */
  producersOfArtifact(artifact: string): JobRec[] {
    const out: JobRec[] = [];
    for (const anc of uriAncestors(artifact)) {
      const j = this.get<JobRec>(`o|${anc}`);
      if (!j) continue;
      out.push(j);
      for (const r of j.runIds ?? []) {
        const rj = this.get<JobRec>(`r|${r}`);
        if (rj) out.push(rj);
      }
    }
    return out;
  }

  /** Producers of what a model reference names (artifact and run), for facts known before its version exists. */
  producers(ref: ModelRef | undefined): JobRec[] {
    if (!ref) return [];
    const out = ref.artifact ? this.producersOfArtifact(ref.artifact) : [];
    const r = ref.runId ? this.get<JobRec>(`r|${ref.runId}`) : undefined;
    if (r) out.push(r);
    return out;
  }

  /** Link a version with a producer record (and the runs behind it). */
  private link(v: VersionRec, j: JobRec, runId?: string): void {
    linkJob(v, j);
    for (const r of [...(j.runIds ?? []), ...(runId ? [runId] : [])]) {
      if (!(v.producerRuns ??= []).includes(r)) v.producerRuns.push(r);
      this.addToIndex(`rv|${r}`, v.key);
    }
  }

  private removeFromIndex(key: string, value: string): void {
    const list = this.get<string[]>(key);
    if (!list?.includes(value)) return;
    this.set(key, list.filter((x) => x !== value));
  }

  /**
   * Index a version by an artifact as the object it names: an `https://` S3 URL (SageMaker and MLflow take one) under
   * its `s3://bucket/key`, so an S3 write event (which names `s3://`) on it finds the version, whatever form registered it.
   */
  private indexArtifact(artifact: string, key: string): void {
    this.addToIndex(`a|${asS3Uri(artifact)}`, key);
  }
  /** Take a version out of an artifact's index: as indexed now, and as written (state kept before https:// was mapped). */
  private unindexArtifact(artifact: string, key: string): void {
    for (const a of new Set([artifact, asS3Uri(artifact)])) this.removeFromIndex(`a|${a}`, key);
  }

  /**
   * A registered model renamed (MLflow `registered_model.rename`, old → new):
   * its versions keep what is known of them (approval, hash, trainers…)
   * under the new name, so rules keep judging them. Renames arrive one by
   * one, also when two names are swapped in between polls: records a rename
   * would overwrite are set aside (`sw|`) for the rename that takes them on.
   */
  renameModel(platform: string, oldName: string, newName: string, scope?: string): void {
    if (oldName === newName) return;
    const stashKey = (name: string) => `sw|${platform}|${scopedName(name, scope)}`;
    const stashed = this.get<VersionRec[]>(stashKey(oldName));
    const moving = stashed ?? this.versionsOf(platform, oldName, scope);
    if (stashed) this.state.delete(REGISTRY_NS, stashKey(oldName));
    // The records under the new name belong to the model that had it before: set aside, not overwritten.
    const displaced = this.versionsOf(platform, newName, scope);
    if (displaced.length) {
      this.set(stashKey(newName), displaced);
      for (const d of displaced) this.unindex(d);
    }
    if (!stashed) for (const v of moving) this.unindex(v);
    for (const v of moving) {
      const key = versionKey(platform, newName, v.version, v.scope);
      const moved: VersionRec = { ...v, key, name: newName };
      this.saveVersion(moved);
      this.addToIndex(`mv|${platform}|${scopedName(newName, v.scope)}`, key);
      this.addToIndex(`n|${newName}|${v.version}`, key);
      this.addToIndex(`np|${newName}`, platform);
      for (const art of artifactsOfVersion(moved)) this.indexArtifact(art, key);
      for (const r of new Set([...(moved.producerRuns ?? []), ...(moved.runId ? [moved.runId] : [])])) this.addToIndex(`rv|${r}`, key);
    }
  }

  /** Take a version record out from under its key and the indexes that name it. */
  private unindex(v: VersionRec): void {
    this.state.delete(REGISTRY_NS, `v|${v.key}`);
    this.removeFromIndex(`mv|${v.platform}|${scopedName(v.name, v.scope)}`, v.key);
    this.removeFromIndex(`n|${v.name}|${v.version}`, v.key);
    for (const art of artifactsOfVersion(v)) this.unindexArtifact(art, v.key);
    for (const r of v.evaluationReports ?? []) this.removeFromIndex(`er|${asS3Uri(r.uri)}`, v.key);
    for (const r of new Set([...(v.producerRuns ?? []), ...(v.runId ? [v.runId] : [])])) this.removeFromIndex(`rv|${r}`, v.key);
  }

  /** Versions registered from a run. */
  versionsForRun(runId: string): VersionRec[] {
    return (this.get<string[]>(`rv|${runId}`) ?? []).map((k) => this.version(k)).filter((v): v is VersionRec => !!v);
  }

  party(ev: NormalizedEvent): Party | undefined {
    const identity = identityOf(ev.actor, this.cfg);
    return identity ? { identity, event: ev.id, time: ev.time, platform: ev.platform } : undefined;
  }

  /** The version record for a ref with name+version, created on first sight. */
  ensureVersion(ref: ModelRef, registryFact = true): VersionRec | undefined {
    if (!ref.name || !ref.version) return undefined;
    let v = this.ownVersion(ref.platform, ref.name, ref.version, ref.scope);
    const key = v?.key ?? versionKey(ref.platform, ref.name, ref.version, ref.scope);
    if (!v) {
      v = { key, platform: ref.platform, name: ref.name, version: ref.version, ...(ref.scope ? { scope: ref.scope } : {}), trainers: [], evaluators: [], registrants: [], approvedEver: false, metrics: {}, adversarial: [], trainingInputs: [] };
      this.claimUpload(v);
      this.addToIndex(`mv|${ref.platform}|${scopedName(ref.name, ref.scope)}`, key);
    }
    // Only the registry's own records name a version across platforms; a version first
    // seen in an evaluation or deployment stays local (`u|`) so it cannot make a name ambiguous.
    const nKey = `n|${ref.name}|${ref.version}`;
    if (!registryFact) this.addToIndex(`u|${ref.name}|${ref.version}`, key);
    else if (!(this.get<string[]>(nKey) ?? []).includes(key)) {
      this.addToIndex(nKey, key);
      this.addToIndex(`np|${ref.name}`, ref.platform);
      // The first registry record of this name+version takes over what was learnt before it
      // from other platforms (an evaluation that came first), as if it had been linked then.
      if ((this.get<string[]>(nKey) ?? []).length === 1) {
        for (const local of this.localVersions(ref.name, ref.version, key)) {
          adopt(v, local);
          for (const r of local.producerRuns ?? []) this.addToIndex(`rv|${r}`, key);
        }
      }
    }
    return v;
  }

  /**
   * A version seen for the first time whose number an upload without a number was expected to get
   * (Vertex numbers versions in the order they are made; seen in any order) is that upload's: it takes
   * its aliases no later upload took, approval, uploader and artifact, and the evidence kept under the
   * upload (`uploadKey`).
   */
  private claimUpload(v: VersionRec): void {
    const upKey = `up|${v.platform}|${v.name}`;
    const pending = this.pendingUploads(v.platform, v.name);
    // The upload whose number this is (whatever order the versions are seen in); none when it cannot be told.
    const up = pending.find((u) => u.expect === v.version);
    if (!up) return;
    const rest = pending.filter((u) => u !== up);
    if (rest.length) this.set(upKey, rest);
    else this.delete(upKey);
    v.adopted = [...(v.adopted ?? []), uploadKey(up.event)];
    // Only the aliases no later upload took since: `default` moved on to the next upload's version.
    const still = up.aliases.filter((alias) => this.get<NonNullable<VersionRec['approval']>>(`ua|${v.platform}|${v.name}|${alias}`)?.event === up.event);
    for (const alias of still) this.delete(`ua|${v.platform}|${v.name}|${alias}`);
    if (still.length) v.aliases = [...new Set([...(v.aliases ?? []), ...still])];
    // A number that is not sure may belong to another version (a copy into the model, one made before mltrail
    // watched): the upload's aliases and evidence go with it, but not its approval, uploader or artifact — a
    // deployment of it must be approved on its own.
    if (!up.sure) return;
    if (up.approval) {
      v.approval = { state: up.approval, time: up.time, event: up.event, identity: up.who?.identity };
      if (up.approval === 'approved') v.approvedEver = true;
    }
    if (up.who) {
      v.created ??= up.who;
      pushParty(v.registrants, up.who);
    }
    if (up.artifact && !v.artifact) {
      v.artifact = up.artifact;
      this.indexArtifact(up.artifact, v.key);
    }
  }

  /** Uploads of a model waiting for their version to be seen, oldest first. */
  private pendingUploads(platform: string, name: string): PendingUpload[] {
    return this.get<PendingUpload[]>(`up|${platform}|${name}`) ?? [];
  }

  /**
   * The one other platform whose registry holds versions of this model name, for a version known on
   * `platform` only from evaluations (a Kubeflow evaluation of a new version of an MLflow model).
   */
  homePlatform(platform: string, name: string): string | undefined {
    const others = (this.get<string[]>(`np|${name}`) ?? []).filter((p) => p !== platform);
    return others.length === 1 && !(this.get<string[]>(`np|${name}`) ?? []).includes(platform) ? others[0] : undefined;
  }

  /** Records of name+version known only from evaluations / deployments (never registered), except `except`. */
  private localVersions(name: string, version: string, except?: string): VersionRec[] {
    const registered = this.get<string[]>(`n|${name}|${version}`) ?? [];
    return (this.get<string[]>(`u|${name}|${version}`) ?? [])
      .filter((k) => k !== except && !registered.includes(k))
      .map((k) => this.version(k))
      .filter((v): v is VersionRec => !!v);
  }

  /**
   * Versions a model reference resolves to: the named version, model
   * resources (SageMaker Model, Vertex Model) and endpoint configs it points
   * at, and every version with the same artifact (or an enclosing directory,
   * mirrors applied) or the same registered hash.
   */
  resolve(ref: ModelRef | undefined, extraModels: string[] = [], platform = ref?.platform ?? '', unversionedToDefault = false, scope: string | undefined = ref?.scope): { named?: VersionRec; linked: VersionRec[]; refs: ModelRef[] } {
    const refs: ModelRef[] = [];
    if (ref) refs.push(ref);
    // `extraModels` are model resources of `scope` (the deployment's account and region: SageMaker serves only its own Models).
    for (const m of extraModels) {
      const res = this.named<ModelResource>('mr', platform, m, scope);
      if (res) refs.push(res.ref);
    }
    const keys = new Set<string>();
    let named: VersionRec | undefined;
    for (const r of [...refs]) {
      if (r.name) {
        const res = (r.version ? this.named<ModelResource>('mr', r.platform, `${r.name}@${r.version}`, r.scope) : undefined) ?? this.named<ModelResource>('mr', r.platform, r.name, r.scope);
        if (res && res.ref !== r) refs.push(res.ref);
      }
    }
    for (const r of refs) {
      // A stage or `latest` names no version until stageVersion resolves it: not the default one.
      if (unversionedToDefault && r.name && !r.version && !r.stage && r.platform === platform) {
        // A model named without a version (Vertex deploys its default version): the version holding
        // the `default` alias, else the newest registered one. Named by an alias: the version holding
        // it, else an approval that alias got at an upload whose version was not known yet.
        const all = this.aliasScope(r);
        // Vertex gives a model's first version `default` without logging it: `@default` held by no version
        // seen is the newest one, as a deploy without a version.
        const alias = r.alias ?? 'default';
        const holder = aliasHolders(all, alias)[0];
        // An upload whose number is not known yet took the alias (`default` too: the SDK sets it on every upload).
        const pending = holder ? undefined : this.get<NonNullable<VersionRec['approval']>>(`ua|${r.platform}|${r.name}|${alias}`);
        const v = holder ?? (!pending && alias === 'default' ? all.at(-1) : undefined);
        if (v) {
          named ??= v;
          keys.add(v.key);
        } else if (pending) named ??= pendingVersion(r.platform, r.name, alias, pending);
      }
      if (r.name && r.version && r.mlflowServer) {
        // A `models:/` URI of a cluster that says which MLflow server (or workspace) it loads from: that registry's version, only.
        const v = this.ownVersion('mlflow', r.name, r.version, r.mlflowServer);
        if (v) {
          named ??= v;
          keys.add(v.key);
        }
      } else if (r.name && r.version) {
        // Same platform first when the registry knows it there; else the one registered version of
        // that name+version on another platform (a Kubeflow evaluation of an MLflow-registered model).
        // Ambiguous names link nothing. Order does not matter: before any registry record exists,
        // the records other platforms made of it (an evaluation that came first) are linked too.
        const own = this.ownVersion(r.platform, r.name, r.version, r.scope);
        const registered = this.get<string[]>(`n|${r.name}|${r.version}`) ?? [];
        let v = own && registered.includes(own.key) ? own : undefined;
        if (!v) {
          const others = registered.filter((k) => k !== own?.key);
          const other = others.length === 1 ? this.version(others[0]!) : undefined;
          // The same package group and version in another account or region is another package: linked (a
          // deployment of it is judged against that approval, approvedScopes), never the version named.
          const apart = !!other && other.platform === r.platform && other.scope !== r.scope;
          if (!apart) v = other;
          else if (readsBare(r.platform)) {
            if (r.scope) keys.add(other!.key);
            else v = other;
          }
          // Another MLflow server's or cluster's version of the name is another model: neither named nor linked.
        }
        v ??= own;
        if (v) {
          named ??= v;
          keys.add(v.key);
        } else if (unversionedToDefault) {
          // Judging a deployment (never stored): not seen yet, but an upload waits for this number (deployed
          // by `@N` before anything else named it).
          const up = this.pendingUploads(r.platform, r.name).find((u) => u.expect === r.version && u.sure);
          if (up) named ??= { ...pendingVersion(r.platform, r.name, up.aliases[0] ?? '', { state: up.approval ?? 'pending', time: up.time, event: up.event, identity: up.who?.identity }), key: `up|${up.event}`, version: r.version, aliases: up.aliases, artifact: up.artifact, adopted: [uploadKey(up.event)] };
        }
        if (!registered.length) for (const local of this.localVersions(r.name, r.version, own?.key)) keys.add(local.key);
      }
      // By the object an https:// S3 URL names (as indexed), and as written (state indexed before that mapping).
      if (r.artifact) for (const a of artifactLookups(r.artifact)) for (const k of this.get<string[]>(`a|${a}`) ?? []) keys.add(k);
      // MLflow's `runs:/<run>/<path>`: the versions registered from that run whose artifact is that path of it
      // (their source is the run's resolved location, `…/<run>/artifacts/<path>`, or the runs:/ URI itself).
      const fromRun = r.artifact ? /^runs:\/([^/]+)\/(.+)$/.exec(r.artifact) : null;
      if (fromRun && !readingsDiffer(r.artifact!)) {
        for (const v of this.versionsForRun(fromRun[1]!)) if (v.artifact === r.artifact || v.artifact?.endsWith(`/${fromRun[2]}`)) keys.add(v.key);
      }
      if (r.sha256) for (const k of this.get<string[]>(`s|${r.sha256}`) ?? []) keys.add(k);
    }
    const linked = [...keys].map((k) => this.version(k)).filter((v): v is VersionRec => !!v);
    return { named, linked, refs };
  }

  /**
   * The version a `models:/<name>/<stage>` URI loads (ModelRef.stage), in the registry an alias would be looked up in:
   * MLflow's `get_latest_versions(name, [stage])`, the highest version whose current stage is that one (stage names
   * compared case-insensitively; `None` holds the versions never moved to another, as new ones are); `latest`, the highest
   * version of all. Undefined when none is known.
   */
  stageVersion(r: ModelRef): VersionRec | undefined {
    if (!r.name || r.version || !r.stage) return undefined;
    const stage = r.stage.toLowerCase();
    // Stage `None` (any case) is a stage to MLflow: a version is in it from its creation until a transition.
    const inStage = this.aliasScope(r).filter((v) => stage === 'latest' || (v.stage?.name.toLowerCase() ?? 'none') === stage);
    return inStage.reduce<VersionRec | undefined>((best, v) => (!best || compareVersions(v.version, best.version) > 0 ? v : best), undefined);
  }

  /**
   * The version a `models:/<name>@<alias>` URI loads now: the one holding the alias (exactly, else in another case, as
   * resolve reads it), in the registry stageVersion looks in. Undefined when no version seen holds it.
   */
  aliasVersion(r: ModelRef): VersionRec | undefined {
    if (!r.name || r.version || !r.alias) return undefined;
    return aliasHolders(this.aliasScope(r), r.alias)[0];
  }

  /** The version a reference resolved when its predictor starts loads now: by stage (or `latest`), else by alias. */
  loadTimeVersion(r: ModelRef): VersionRec | undefined {
    return r.stage ? this.stageVersion(r) : this.aliasVersion(r);
  }

  /**
   * Every version a reference resolved at load may load now, as a deployment of it is judged (servedParts): the
   * stage's one, or every holder of the alias, the exact one first, then those holding it in another case
   * (aliasVariants: MLflow on MySQL matches aliases case-insensitively, on PostgreSQL or SQLite exactly).
   */
  loadTimeVersions(r: ModelRef): VersionRec[] {
    if (r.stage) {
      const v = this.stageVersion(r);
      return v ? [v] : [];
    }
    if (!r.name || r.version || !r.alias) return [];
    return aliasHolders(this.aliasScope(r), r.alias);
  }

  /**
   * A deployed reference as the version it loads now, for every rule that judges what a deployment or job runs: a
   * `models:/<name>/<stage>` or `/latest` one (ModelRef.stage) as the `models:/<name>/<n>` of its stageVersion, with
   * `details` saying how (`resolved_from`, `resolved_version`) or why not (`unresolved`: no version seen there, or a
   * URI MLflow refuses: ModelRef.improperUri). Any other reference is returned as it is, with no details.
   */
  resolveModelUri(ref: ModelRef | undefined): { ref: ModelRef | undefined; details: ModelUriResolution } {
    if (ref?.improperUri) return { ref, details: { unresolved: ref.improperUri } };
    if (!ref?.stage || ref.version) return { ref, details: {} };
    const latest = ref.stage.toLowerCase() === 'latest';
    const from = latest ? 'latest' : `stage:${ref.stage}`;
    const v = this.stageVersion(ref);
    if (!v) return { ref, details: { resolved_from: from, unresolved: latest ? `no version of ${ref.name} seen` : `no version seen in stage ${ref.stage}` } };
    return { ref: { ...ref, version: v.version }, details: { resolved_from: from, resolved_version: v.version } };
  }

  /** The versions an alias of `r` can name: its model's, else those of the one other platform that registers the name. */
  private aliasScope(r: ModelRef): VersionRec[] {
    // A `models:/…@alias` of a cluster that says which MLflow server (or workspace) it loads from: that registry's versions.
    if (r.mlflowServer) return this.versionsOf('mlflow', r.name!, r.mlflowServer);
    const all = this.versionsOf(r.platform, r.name!, r.scope);
    // Named by an alias of a model registered on one other platform (KServe serving `models:/fraud@champion`
    // of MLflow's registry): that platform's versions.
    if (all.length || (!r.alias && !r.stage)) return all;
    const elsewhere = Platform.options.filter((p) => p !== r.platform).map((p) => this.versionsOf(p, r.name!)).filter((l) => l.length);
    return elsewhere.length === 1 ? elsewhere[0]! : all;
  }

  /**
   * The versions other than the one `resolve` names that hold the alias a reference names in another case
   * (`CHAMPION` beside `champion`). Which one the serving side reaches depends on the registry's database:
   * MLflow on MySQL (case-insensitive collation) can reach either, on PostgreSQL or SQLite only the exact one.
   */
  aliasVariants(r: ModelRef | undefined, platform: string): VersionRec[] {
    if (!r?.name || r.version || !r.alias || r.platform !== platform) return [];
    return aliasHolders(this.aliasScope(r), r.alias).slice(1);
  }

  /**
   * Fold one event into the registry state (called after the rules saw the pre-event state). `echo`: it is a
   * second report of a change already folded in (core/rules/echo.ts): its facts are merged, but an approval
   * it repeats keeps the first report's time and event.
   */
  update(ev: NormalizedEvent, echo = false): void {
    if (ev.action === 'registered_model.rename' && ev.outcome !== 'failure') {
      const { old_name: from, new_name: to } = (ev.details ?? {}) as { old_name?: unknown; new_name?: unknown };
      if (typeof from === 'string' && typeof to === 'string') this.renameModel(ev.platform, from, to, serverScopeOf(ev));
      return;
    }
    const ref = modelRefOf(ev, this.cfg);
    const who = this.party(ev);
    const a = ev.action;
    /** Where the call was made (SageMaker, a configured cluster): the resources it creates are named there. */
    const scope = scopeOf(ev);
    // A model or version deleted, or a model created under a name that still has versions here (MLflow sends
    // no webhook for a delete, and a name is free again only once deleted): what was known of the old one —
    // its approval above all — must not pass to the new one. Its versions leave the registry.
    // Who assumed which role session: a later call made in that session is theirs, whatever its name says.
    // Any caller but a service (SageMaker assuming a job's role): a user, or a session of one (role chaining: its
    // own caller already resolved by the engine, whatever type the connector could give it).
    if (ev.action === 'role.assume' && ev.outcome !== 'failure' && ev.actor?.type !== 'service' && ev.actor?.type !== 'system' && typeof ev.details?.assumed_role_arn === 'string') {
      const caller = identityOf(ev.actor, this.cfg);
      if (caller) {
        this.set(`sess|${ev.details.assumed_role_arn.toLowerCase()}`, { identity: caller, event: ev.id });
        const key = ev.details.assumed_access_key_id;
        if (typeof key === 'string' && key) this.set(`sessk|${key}`, { identity: caller, event: ev.id });
      }
    }
    const modelName = ref?.name ?? ev.resource?.name;
    if (modelName && ev.outcome !== 'failure') {
      if (a === 'registered_model.delete') for (const old of this.versionsOf(ev.platform, modelName, ref?.scope)) this.unindex(old);
      else if (a === 'registered_model.create') {
        // Only versions created before this model was (a late or second report of the same creation — the
        // auditor dates it at the model's creation_timestamp — leaves the model's own versions alone).
        const at = Date.parse(ev.time);
        for (const old of this.versionsOf(ev.platform, modelName, ref?.scope)) if (old.created && Date.parse(old.created.time) < at) this.unindex(old);
      }
      else if (a === 'model_version.delete' && ref?.version) {
        const old = this.ownVersion(ev.platform, modelName, ref.version, ref.scope);
        if (old) this.unindex(old);
        return;
      } else if (a === 'model_version.create' && ref?.version && ref.artifact) {
        // The same version number created again from another artifact: the model was deleted and re-created
        // (a second report of the same create, webhook then auditor, names the same artifact).
        const old = this.ownVersion(ev.platform, modelName, ref.version, ref.scope);
        if (old?.artifact && !uriOverlap(old.artifact, ref.artifact)) this.unindex(old);
      }
    }
    const training = ev.stage === 'training' || a.startsWith('training_job.') || a.startsWith('tuning_job.');
    const evaluation = ev.stage === 'evaluation' || a.startsWith('evaluation.');

    // Jobs and runs: who trained, from which inputs, into which outputs.
    if (training && ev.outcome !== 'failure') {
      const submit = /\.(create|start|retry)$/.test(a) || a === 'run.create';
      const inputs = inputsOf(ev).map((u) => ({ uri: normUri(u, this.cfg), event: ev.id }));
      // A SageMaker job's name is unique only in its account and region, a Kubernetes one in its cluster (a pipeline execution's ARN is unique).
      const jobName = ev.ml?.job?.name;
      // A Vertex job is one run by its resource name: its display name (a CustomJob's displayName, a tuning job's
      // tunedModelDisplayName) is every run's of a family, whose trainers and inputs are not one run's.
      const vertexJob = ev.platform === 'vertex' && VERTEX_JOB.test(ev.resource?.id ?? '') ? ev.resource!.id : undefined;
      const runId = ev.ml?.provenance?.run_id ?? ev.ml?.model?.run_id ?? vertexJob ?? (jobName && scopedName(jobName, scope));
      const job = (prev?: JobRec): JobRec => {
        const j = prev ?? { trainers: [], inputs: [] };
        if (submit) pushParty(j.trainers, who);
        for (const i of inputs) if (!j.inputs.some((x) => x.uri === i.uri)) j.inputs.push(i);
        j.inputs = j.inputs.slice(-MAX_LIST);
        if (runId && !(j.runIds ??= []).includes(runId)) j.runIds = [...j.runIds, runId].slice(-MAX_LIST);
        return j;
      };
      if (runId) this.set(`r|${runId}`, job(this.get<JobRec>(`r|${runId}`)));
      for (const o of outputsOf(ev)) {
        const k = `o|${normUri(o, this.cfg)}`;
        this.set(k, job(this.get<JobRec>(k)));
      }
    }

    // Model resources a deployment may name (SageMaker CreateModel, Vertex UploadModel).
    if ((a === 'model.create' || a === 'model.upload' || a === 'model.update') && ref && ev.outcome !== 'failure') {
      const resName = ev.resource?.name ?? ev.resource?.id ?? ref.name;
      // A SageMaker Model made from a model package serves that package version.
      const pkg = packageRef(ev.ml?.model?.source_package as string | undefined);
      const resRef: ModelRef = pkg ? { ...ref, name: pkg.name, version: pkg.version, ...(pkg.scope ? { scope: pkg.scope } : {}) } : { ...ref, name: ref.version ? ref.name : undefined };
      // A model of several containers serves each one's artifact: the ones after the first are kept to be judged too.
      // A package container names no model data: beside a package it is another container's (an inference pipeline
      // mixing packages and raw containers), every one judged — the package's approval does not cover it.
      const firstArtifact = ev.ml?.model?.artifact_uri;
      const more = pkg ? [...new Set([...(typeof firstArtifact === 'string' ? [firstArtifact] : []), ...extraArtifactsOf(ev)])] : extraArtifactsOf(ev);
      const images = pkg ? [] : imagesOf(ev);
      const sources = ev.ml?.model?.source_packages;
      const packages = (Array.isArray(sources) ? sources.slice(1) : []).flatMap((arn) => {
        if (typeof arn !== 'string') return [];
        const p = packageRef(arn);
        if (p) return [{ platform: ev.platform, name: p.name, version: p.version, ...(p.scope ? { scope: p.scope } : {}) } satisfies ModelRef];
        // An unversioned package (`…:model-package/<name>` or its name) has no approval: named, it is judged as one never approved.
        const name = arn.startsWith('arn:') ? /:model-package\/([^/]+)$/.exec(arn)?.[1] : arn;
        return name ? [{ platform: ev.platform, name: `model-package/${name}`, ...(scope ? { scope } : {}) } satisfies ModelRef] : [];
      });
      // A SageMaker Model, config or component lives in the account and region it was created in (where the call was made).
      // Not over an optimization job's output Model made after this call (read first): the name was free again by then.
      const made = resName ? this.get<ModelResource>(`mr|${ev.platform}|${scopedName(resName, scope)}`) : undefined;
      const superseded = !!made?.optimization && !!made.time && Date.parse(made.time) > Date.parse(ev.time);
      // The MLflow model mlflow.sagemaker's deploy tagged the Model with (its ModelDataUrl is a re-packed copy).
      const claimed = ev.platform === 'sagemaker' && a === 'model.create' ? ev.ml?.model?.tags?.model_uri : undefined;
      const mlflowModelUri = typeof claimed === 'string' && claimed.trim() ? claimed.trim() : undefined;
      if (resName && !superseded) this.set(`mr|${ev.platform}|${scopedName(resName, scope)}`, { ref: resRef, event: ev.id, time: ev.time, ...(more.length ? { artifacts: more.map((u) => normUri(u, this.cfg)) } : {}), ...(images.length ? { images } : {}), ...(packages.length ? { packages } : {}), ...(mlflowModelUri ? { mlflowModelUri } : {}) } satisfies ModelResource);
      if (ref.name && ref.version) this.set(`mr|${ev.platform}|${scopedName(`${ref.name}@${ref.version}`, ref.scope)}`, { ref, event: ev.id } satisfies ModelResource);
    }
    if (ev.resource?.type === 'optimization_job' && a === 'resource.create' && ev.outcome !== 'failure') this.optimizationOutput(ev, scope);
    if (ev.resource?.type === 'compilation_job' && a === 'resource.create' && ev.outcome !== 'failure') this.compilationJob(ev, scope);
    // A SageMaker inference component lives on an endpoint; its updates name only the component.
    if (ev.resource?.type === 'inference_component' && ev.outcome !== 'failure') {
      const icEndpoint = endpointOf(ev);
      const icName = ev.resource.name ?? ev.resource.id;
      if (icEndpoint && icName) this.set(`ic|${ev.platform}|${scopedName(icName, scope)}`, icEndpoint);
    }
    if (a === 'endpoint_config.create' && ev.outcome !== 'failure') {
      const name = deploymentConfigOf(ev) ?? ev.resource?.name ?? ev.resource?.id;
      const models = deployedModelNames(ev);
      if (name) this.set(`ec|${ev.platform}|${scopedName(name, scope)}`, { models, ref, event: ev.id });
    }

    // An alias removed without naming the version (MLflow alias webhook): whichever version held it.
    if (a === 'model_version.alias_delete' && ref?.name && !ref.version && typeof ev.details?.alias === 'string') {
      for (const other of this.versionsOf(ev.platform, ref.name, ref.scope)) {
        if (!other.aliases?.includes(ev.details.alias)) continue;
        other.aliases = other.aliases.filter((x) => x !== ev.details!.alias);
        this.saveVersion(other);
      }
    }

    // A version uploaded before its number is known (Vertex logs UploadModel of a new version of a parent model
    // at acceptance): its aliases leave the versions that held them and name it, with its approval or none, until
    // a version is seen holding them; the next new version seen of the model is it (see claimUpload).
    if (ref?.name && !ref.version && /^(model_version|model)\.(create|upload)$/.test(a) && ev.outcome !== 'failure') {
      const approval = approvalOf(ev, this.cfg);
      const added = (ev.ml?.model?.aliases ?? []).filter((x) => !x.startsWith('-'));
      for (const other of this.versionsOf(ref.platform, ref.name)) {
        if (!other.aliases?.some((x) => added.includes(x))) continue;
        other.aliases = other.aliases.filter((x) => !added.includes(x));
        this.saveVersion(other);
      }
      for (const alias of added) this.set(`ua|${ref.platform}|${ref.name}|${alias}`, { state: approval ?? 'pending', time: ev.time, event: ev.id, identity: who?.identity } satisfies NonNullable<VersionRec['approval']>);
      // Uploads wait in order: Vertex numbers versions as they are made, so the next new version seen is the oldest.
      const queue = this.get<PendingUpload[]>(`up|${ref.platform}|${ref.name}`) ?? [];
      // Vertex numbers a model's versions in the order they are made: with the highest number known, this
      // upload's is the next after it and after the uploads still waiting (none known: not guessed).
      const known = this.versionsOf(ref.platform, ref.name).filter((o) => Number.isInteger(Number(o.version)));
      const highest = known.reduce<VersionRec | undefined>((h, o) => (!h || Number(o.version) > Number(h.version) ? o : h), undefined);
      const last = queue.at(-1);
      const lastExpect = Number(last?.expect ?? 0);
      const top = Math.max(Number(highest?.version ?? 0), lastExpect);
      const expect = top > 0 ? String(top + 1) : undefined;
      const sure = !!expect && (last && lastExpect >= Number(highest?.version ?? 0) ? !!last.sure : !!highest?.created);
      if (!queue.some((u) => u.event === ev.id)) queue.push({ event: ev.id, time: ev.time, expect, sure, aliases: added, approval, who, artifact: ref.artifact });
      this.set(`up|${ref.platform}|${ref.name}`, queue.slice(-MAX_PENDING_UPLOADS));
    }

    // Model versions.
    const registryFact = ev.stage === 'registry' || /^(model_version|model)\./.test(a);
    let v = ref ? this.resolve(ref).named : undefined;
    // A registry fact about a version known here only locally (evaluated, then registered) registers it.
    if (ref && (!v || (registryFact && v.key === this.ownVersion(ref.platform, ref.name ?? '', ref.version ?? '', ref.scope)?.key))) v = this.ensureVersion(ref, registryFact) ?? v;
    if (v && ref) {
      const isCreate = /^(model_version|model)\.(create|upload)$/.test(a);
      // A SageMaker Model made from packages resolves to its (first) package version, but the artifacts and images it
      // names are its raw containers' (a mixed inference pipeline): folded in, they became that approved version's own.
      const besidePackage = a === 'model.create' && typeof ev.ml?.model?.source_package === 'string';
      // The images a version is registered to run with (a package's containers): a model serving its artifact with another is judged.
      // An approving call that also adds copies (UpdateModelPackage with AdditionalInferenceSpecificationsToAdd) registers their images as an update does.
      if (ev.outcome !== 'failure' && !besidePackage && (isCreate || a === 'model_version.update' || inferenceArtifactsOf(ev).length > 0)) {
        const union = (a1: string[] | undefined, b: string[]) => (b.length ? [...new Set([...(a1 ?? []), ...b])].slice(-MAX_LIST) : a1);
        v.images = union(v.images, imagesOf(ev));
        v.imageDigests = union(v.imageDigests, imageDigestsOf(ev));
      }
      // Copies registered in the package (additional inference specifications), by any call that adds them: one that
      // approves in the same request too. Its approval judges them; adding one to an approved version is a change of it
      // (registry.approved_model_modified), and a later write to one is a write to an approved artifact.
      const copies = ev.outcome !== 'failure' && !besidePackage ? inferenceArtifactsOf(ev).map((u) => normUri(u, this.cfg)) : [];
      if (copies.length) {
        v.inferenceArtifacts = [...new Set([...(v.inferenceArtifacts ?? []), ...copies])].slice(-MAX_LIST);
        for (const art of copies) this.indexArtifact(art, v.key);
      }
      // The package's evaluation reports, as its create (or the service's state change event) names them.
      const reports = ev.outcome !== 'failure' ? reportsOfEvent(ev) : [];
      for (const r of reports) {
        const uri = normUri(r.uri, this.cfg);
        if ((v.evaluationReports ?? []).some((x) => x.uri === uri)) continue;
        v.evaluationReports = [...(v.evaluationReports ?? []), { report: r.report, uri, ...(r.content_digest ? { content_digest: r.content_digest } : {}), event: ev.id, time: ev.time }].slice(-MAX_LIST);
        this.addToIndex(`er|${asS3Uri(uri)}`, v.key);
      }
      if (isCreate) {
        v.created ??= who;
        if (who) pushParty(v.registrants, who);
      }
      if (ref.artifact && !besidePackage && (isCreate || !v.artifact || a === 'model_version.source_change')) {
        v.artifact = ref.artifact;
        this.indexArtifact(ref.artifact, v.key);
        // The other containers' artifacts of a multi-container package are what it serves too.
        const more = extraArtifactsOf(ev).map((u) => normUri(u, this.cfg)).filter((u) => u !== ref.artifact);
        for (const old of v.moreArtifacts ?? []) if (!more.includes(old)) this.unindexArtifact(old, v.key);
        v.moreArtifacts = more.length ? more.slice(0, MAX_LIST) : undefined;
        for (const art of v.moreArtifacts ?? []) this.indexArtifact(art, v.key);
        for (const j of this.producersOfArtifact(ref.artifact)) this.link(v, j);
      }
      // The MLflow auditor's record of where a version's files are (its hash record, also one that could not read them:
      // the location is the registry's answer, the failure the download's) for a source that names them only through
      // MLflow: indexed as its artifact too.
      if (a === 'model_version.hash_registered' && ev.platform === 'mlflow' && ref.artifact && v.artifact && ref.artifact !== v.artifact && INDIRECT_SOURCE.test(v.artifact) && !INDIRECT_SOURCE.test(ref.artifact) && v.storage !== ref.artifact) {
        if (v.storage) this.unindexArtifact(v.storage, v.key);
        v.storage = ref.artifact;
        this.indexArtifact(ref.artifact, v.key);
      }
      if (ref.runId) {
        v.runId ??= ref.runId;
        this.addToIndex(`rv|${ref.runId}`, v.key);
        const j = this.get<JobRec>(`r|${ref.runId}`);
        if (j && !evaluation) this.link(v, j, ref.runId);
      }
      const registersHash = a === 'model_version.hash_registered' || ((isCreate || a === 'model_version.update') && ref.sha256);
      if (registersHash && ref.sha256 && ev.outcome !== 'failure') {
        v.sha256 = ref.sha256;
        v.shaEvent = ev.id;
        this.addToIndex(`s|${ref.sha256}`, v.key);
      }
      const added = ev.outcome === 'failure' ? [] : (ev.ml?.model?.aliases ?? []).filter((x) => !x.startsWith('-'));
      if (added.length && /alias_set|approve|reject|update|upload|create/.test(a)) {
        v.aliases = [...new Set([...(v.aliases ?? []), ...added])];
        for (const other of this.versionsOf(v.platform, v.name, v.scope)) {
          if (other.key === v.key || !other.aliases?.some((x) => added.includes(x))) continue;
          other.aliases = other.aliases.filter((x) => !added.includes(x));
          this.saveVersion(other);
        }
      } else if (a === 'model_version.alias_delete' && typeof ev.details?.alias === 'string') {
        v.aliases = v.aliases?.filter((x) => x !== ev.details!.alias);
      }
      // Each version's own transition is reported (the auditor diffs every version's current_stage, so one archived by
      // archive_existing_versions has its own event); one logged before the stage held, read late, does not undo it.
      const movedTo = currentStageOf(ev);
      if (movedTo && !(v.stage && Date.parse(ev.time) < Date.parse(v.stage.time))) v.stage = { name: movedTo, time: ev.time, event: ev.id };
      const defaultCheckpoint = ev.ml?.model?.default_checkpoint_id;
      if (typeof defaultCheckpoint === 'string' && defaultCheckpoint && ev.outcome !== 'failure' && (isCreate || /\.(update|approve)$/.test(a))) v.defaultCheckpoint = defaultCheckpoint;
      // A tuning job's report (the one on its main endpoint) says what the default was when the job ended: taken only
      // while none is known, so rereading an old job (GetTuningJob) does not undo a default UpdateModel moved since.
      else if (typeof defaultCheckpoint === 'string' && defaultCheckpoint && ev.outcome !== 'failure' && isAutoDeployment(ev)) v.defaultCheckpoint ??= defaultCheckpoint;
      const approval = approvalOf(ev, this.cfg);
      // A pending marker (an MLflow `approval_status=pending` tag) on a version that still holds an approval alias
      // leaves it approved, as the MLflow auditor reads its markers (approvalOfVersion: any approving marker wins):
      // the version is still the champion served. Else a pending tag would hide the changes made under it.
      const stillApproved = approval === 'pending' && v.approval?.state === 'approved' && !!v.aliases?.some((x) => this.cfg.approval.aliases.includes(x));
      // An approval state older than the one held came late (CloudTrail delivers out of order): the newer stands,
      // so a rejection logged before an approval, read after it, does not undo it, nor a create's pending status.
      const older = !!v.approval && Date.parse(ev.time) < Date.parse(v.approval.time);
      if (approval && !stillApproved && !(echo && v.approval?.state === approval)) {
        if (!older) v.approval = { state: approval, time: ev.time, event: ev.id, identity: who?.identity };
        if (!older && approval === 'rejected') v.rejected = { time: ev.time, event: ev.id, identity: who?.identity };
        if (!older && approval === 'approved') delete v.rejected;
        // The rejection is kept by the version's main artifact too, past its deletion: the same weights registered
        // again as another version and approved there reverse it as well (rejectedArtifact); an approval of them
        // settles it. Not by the other containers' artifacts: a preprocessing model shared by versions is not what was rejected.
        // Keyed by the object an https:// S3 URL names (asS3Uri), as the artifact index is: either form finds it.
        // With its partition: a bucket of the same name in another partition holds other weights, neither rejected
        // by this nor settled by an approval there.
        if (!older && v.artifact && approval === 'rejected') {
          const partition = partitionOfVersion(v, this.cfg);
          this.set(`rja|${asS3Uri(v.artifact)}`, { key: v.key, name: v.name, version: v.version, time: ev.time, event: ev.id, identity: who?.identity, ...(partition && partition !== 'aws' ? { partition } : {}) } satisfies RejectedArtifact);
        }
        if (!older && v.artifact && approval === 'approved' && this.rejectedArtifact(v.artifact, partitionOfVersion(v, this.cfg))) for (const k of rejectionKeys(v.artifact)) this.delete(k);
        // What the approval saw: the checkpoint a deployment then served (a default set later is not approved by it).
        if (!older && approval === 'approved') v.approvedCheckpoint = v.defaultCheckpoint;
        // Approved once, whatever came after: a later rejection is then a revocation.
        if (approval === 'approved') v.approvedEver = true;
        // The scope of the package approved: its ARN's account and region (a prod account may approve a central
        // registry's package through the group's resource policy), else where the call was made.
        const approvedIn = approval === 'approved' ? (packageRef(ev.resource?.id)?.scope ?? sagemakerScopeOf(ev)) : undefined;
        if (approvedIn && !v.approvedScopes?.includes(approvedIn)) v.approvedScopes = [...(v.approvedScopes ?? []), approvedIn].slice(-MAX_LIST);
      }
      if (evaluation || a === 'model_version.create') {
        for (const [k, val] of Object.entries(ev.ml?.metrics ?? {})) v.metrics[k] = { value: val, event: ev.id, time: ev.time };
      }
      if (evaluation && who && ev.outcome !== 'failure') pushParty(v.evaluators, who);
      if (training) {
        if (who && /\.(create|start)$/.test(a)) pushParty(v.trainers, who);
        for (const i of inputsOf(ev)) {
          const uri = normUri(i, this.cfg);
          if (!v.trainingInputs.some((x) => x.uri === uri)) v.trainingInputs.push({ uri, event: ev.id });
        }
      }
      this.saveVersion(v);
    }
    // Evaluations that name only the run (KFP metrics artifacts): attach to that run's versions,
    // and keep them on the run for versions registered from it later.
    const evalRun = ref?.runId ?? ev.ml?.provenance?.run_id;
    if (evaluation && !v && evalRun && ev.outcome !== 'failure') {
      for (const rv of this.versionsForRun(evalRun)) {
        if (who) pushParty(rv.evaluators, who);
        for (const [mk, val] of Object.entries(ev.ml?.metrics ?? {})) rv.metrics[mk] = { value: val, event: ev.id, time: ev.time };
        this.saveVersion(rv);
      }
      const j = this.get<JobRec>(`r|${evalRun}`) ?? { trainers: [], inputs: [], runIds: [evalRun] };
      if (who) pushParty((j.evaluators ??= []), who);
      for (const [mk, val] of Object.entries(ev.ml?.metrics ?? {})) (j.metrics ??= {})[mk] = { value: val, event: ev.id, time: ev.time };
      for (const u of inputsOf(ev)) {
        const uri = normUri(u, this.cfg);
        if (!(j.evalInputs ??= []).some((x) => x.uri === uri)) j.evalInputs.push({ uri, event: ev.id });
      }
      j.evalInputs = j.evalInputs?.slice(-MAX_LIST);
      this.set(`r|${evalRun}`, j);
    }

    // Endpoints: what each one serves now.
    const ep = endpointOf(ev);
    if (ep && (isDeployment(ev) || isAutoDeployment(ev))) {
      // A stage or `latest` URI serves the version it resolves to now (a later rollback is judged from it).
      const served = this.resolveModelUri(ref).ref;
      const { named, linked } = this.resolve(served, this.deployedModels(ev), ev.platform, true, scope);
      const target = named ?? linked[0];
      if (served || target) {
        this.set(`ep|${ev.platform}|${endpointKey(ev, ep)}`, {
          endpoint: ep, platform: ev.platform, name: target?.name ?? served?.name, version: target?.version ?? served?.version,
          versionKeys: [...new Set([named?.key, ...linked.map((l) => l.key)].filter((k): k is string => !!k))], event: ev.id, time: ev.time,
        } satisfies EndpointRec);
      }
    }
  }

  /**
   * The Model an inference-optimization job has the service create from its output (SageMaker CreateOptimizationJob
   * `OutputConfig.SageMakerModel`; no CreateModel of it is logged) serves weights the service wrote from the job's
   * source: it is kept as a model resource of the source's — the source Model's (a snapshot: what the job read) or the
   * source S3 location's —, so its deployment is judged by the source's approval, never-approved and rejected sources
   * alike. In the job's account and region, as its source Model is. A CreateModel or UpdateModel of the name made
   * after the job replaces it (judged as any), also when read before it; one made before it (a Model of the name
   * deleted since) does not, also when read after it.
   */
  private optimizationOutput(ev: NormalizedEvent, scope: string | undefined): void {
    const job = ev.ml?.job as { name?: unknown; output_model?: unknown; source_model?: unknown; source_uri?: unknown; optimization_images?: unknown } | undefined;
    const output = typeof job?.output_model === 'string' ? job.output_model : undefined;
    if (!output) return;
    // A step run in a container the caller chose (not one of AWS's Deep Learning Containers of the image's region, the
    // LMI images the service runs by default) wrote the output weights: whatever they are, the source does not vouch for them.
    const own = Array.isArray(job?.optimization_images) ? job.optimization_images.filter((x): x is string => typeof x === 'string' && !isAwsDlcImage(x)) : [];
    const key = `mr|${ev.platform}|${scopedName(output, scope)}`;
    const later = this.get<ModelResource>(key);
    if (later?.time && Date.parse(later.time) > Date.parse(ev.time)) return;
    const jobName = typeof job?.name === 'string' ? job.name : (ev.resource?.name ?? ev.resource?.id ?? '');
    let rec: ModelResource | undefined;
    if (typeof job?.source_model === 'string') {
      // A Model of the name made after the job (read first: log files out of order) is not the one the job read.
      const seen = this.named<ModelResource>('mr', ev.platform, job.source_model, scope);
      const src = seen?.time && Date.parse(seen.time) > Date.parse(ev.time) ? undefined : seen;
      // A source Model not seen here: the output is judged as a Model with nothing known of it (never approved).
      const { optimization: _, ...from } = src ?? { ref: { platform: ev.platform }, event: ev.id };
      rec = { ...from, images: undefined, event: ev.id, time: ev.time, optimization: { job: jobName, event: ev.id, source: src?.optimization ? `${job.source_model} (${src.optimization.source})` : job.source_model } };
    } else if (typeof job?.source_uri === 'string') {
      rec = { ref: { platform: ev.platform, artifact: normUri(job.source_uri, this.cfg) }, event: ev.id, time: ev.time, optimization: { job: jobName, event: ev.id, source: job.source_uri } };
    }
    if (rec && own.length) rec = { ref: { platform: ev.platform }, event: ev.id, time: ev.time, optimization: { ...rec.optimization!, source: `${rec.optimization!.source}, written by the caller's container ${own.join(', ')}` } };
    if (rec) this.set(key, rec);
  }

  /**
   * A Neo compilation job, kept by its output location so that a copy registered in a package later (or before: log
   * files read out of order) can be traced to what it compiled. At most MAX_COMPILATIONS locations, the oldest
   * forgotten first, and the last 10 jobs of each.
   */
  private compilationJob(ev: NormalizedEvent, scope: string | undefined): void {
    const job = ev.ml?.job as { name?: unknown; source_uri?: unknown; source_package?: unknown; output_location?: unknown; target_device?: unknown; target_platform?: unknown; role?: unknown } | undefined;
    if (typeof job?.output_location !== 'string' || !job.output_location) return;
    // An https:// location (the API takes both) is kept as the s3:// URI it names, as registered artifacts are compared.
    const output = asS3Uri(normUri(job.output_location, this.cfg));
    const rec: CompilationRec = {
      job: typeof job.name === 'string' ? job.name : (ev.resource?.name ?? ev.resource?.id ?? ''), event: ev.id, time: ev.time, output,
      ...(scope ? { scope } : {}),
      ...(typeof job.source_uri === 'string' ? { input_uri: asS3Uri(normUri(job.source_uri, this.cfg)) } : {}),
      ...(typeof job.source_package === 'string' ? { input_package: job.source_package } : {}),
      ...(typeof job.target_device === 'string' ? { target_device: job.target_device } : {}),
      ...(typeof job.target_platform === 'string' ? { target_platform: job.target_platform } : {}),
      ...(typeof job.role === 'string' ? { role: job.role } : {}),
    };
    const kept = this.get<CompilationRec[]>(`cj|${output}`) ?? [];
    if (kept.some((x) => x.event === ev.id)) return;
    this.set(`cj|${output}`, [...kept, rec].slice(-10));
    const index = (this.get<string[]>('cj-index') ?? []).filter((o) => o !== output);
    index.push(output);
    while (index.length > MAX_COMPILATIONS) this.delete(`cj|${index.shift()!}`);
    this.set('cj-index', index);
  }

  /** The compilation jobs whose output location holds an artifact (normalized), newest last. */
  compilationsWriting(artifact: string): CompilationRec[] {
    return uriAncestors(artifact).slice(1).flatMap((o) => this.get<CompilationRec[]>(`cj|${o}`) ?? []);
  }

  /**
   * The last rejection standing on a version's main artifact (normalized, as `VersionRec.artifact`), for a version
   * with none of its own: made on another version (one deleted since, registered from the same source, or of the
   * same number before its model was deleted and created again), so approving it approves the weights that
   * rejection was about.
   */
  rejectedArtifact(artifact: string | undefined, partition: string | undefined): RejectedArtifact | undefined {
    if (!artifact) return undefined;
    for (const k of rejectionKeys(artifact)) {
      const found = this.get<RejectedArtifact>(k);
      // In `partition` (the approved version's, partitionOfVersion; undefined: not known, any). A rejection kept
      // without one is in its version's (an older build kept none, a GovCloud rejection read as `aws` was never
      // found; an MLflow version's is not known), `aws` when that version is gone.
      if (!found) continue;
      const rejectedIn = found.partition ?? (this.version(found.key) ? partitionOfVersion(this.version(found.key)!, this.cfg) : 'aws');
      if (samePartition(asS3Uri(artifact), partition, rejectedIn)) return found;
    }
    return undefined;
  }

  /**
   * A rejection of a version whose artifact is a folder holding `artifact` (an MLflow model directory, `…/artifacts/model`,
   * holding the `model.tar.gz` a SageMaker package names): the rejected weights' files. Only the folder the archive is
   * directly in: one in a subfolder (`s3://models/churn/v2/model.tar.gz` under a rejected `s3://models/churn`) is a
   * layout of versions under one prefix, not the rejected weights, as a folder inside a rejected folder is. Never a
   * bucket root (a version registered from a whole bucket would make every object in it rejected) nor an archive, which
   * holds no other object. The folder is given with the rejection.
   */
  rejectedEnclosing(artifact: string | undefined, partition: string | undefined): { rejected: RejectedArtifact; folder: string } | undefined {
    if (!artifact) return undefined;
    const uri = asS3Uri(artifact);
    for (const folder of uriAncestors(uri).slice(1, 2)) {
      // The literal parent only (uriAncestors leaves out one a `..` reading disagrees with: the next is no parent).
      if (folder !== uri.slice(0, uri.lastIndexOf('/'))) continue;
      const scheme = folder.indexOf('://');
      if (scheme >= 0 && !folder.slice(scheme + 3).includes('/')) continue;
      const rejected = this.rejectedArtifact(folder, partition);
      if (rejected) return { rejected, folder };
    }
    return undefined;
  }

  /** The optimization job a model resource is the output of, and its source, if it is one (see optimizationOutput). */
  optimizationOf(platform: string, name: string, scope?: string): { job: string; event: string; source: string } | undefined {
    return this.named<ModelResource>('mr', platform, name, scope)?.optimization;
  }

  /** Model resource names a deployment event points at (directly or through a SageMaker endpoint config). */
  deployedModels(ev: NormalizedEvent): string[] {
    const out = deployedModelNames(ev);
    const cfgName = deploymentConfigOf(ev);
    if (cfgName) {
      const c = this.named<{ models: string[]; ref?: ModelRef }>('ec', ev.platform, cfgName, scopeOf(ev));
      if (c) out.push(...c.models);
    }
    return out;
  }

  /**
   * The identity that assumed a role session (from its AssumeRole record), if seen: by the session's access
   * key when the call names one (two sessions of one role and name are told apart), else by the role ARN.
   */
  sessionCaller(assumedRoleArn: string, accessKeyId?: string): string | undefined {
    if (accessKeyId) return this.get<{ identity: string }>(`sessk|${accessKeyId}`)?.identity;
    return this.get<{ identity: string }>(`sess|${assumedRoleArn}`)?.identity;
  }

  /** An endpoint config seen here (SageMaker CreateEndpointConfig): the model resources it serves. */
  endpointConfig(platform: string, name: string, scope?: string): { models: string[] } | undefined {
    return this.named<{ models: string[] }>('ec', platform, name, scope);
  }

  /** The images a model resource's containers run, when it named them. */
  imagesOfModel(platform: string, name: string, scope?: string): string[] {
    return this.named<ModelResource>('mr', platform, name, scope)?.images ?? [];
  }
  /**
   * The MLflow model URI a SageMaker Model's `model_uri` tag names (mlflow.sagemaker's deploy sets it), with the
   * CreateModel that said so; undefined for a Model without one or not seen.
   */
  mlflowClaimOf(platform: string, name: string, scope?: string): { uri: string; event: string } | undefined {
    const res = this.named<ModelResource>('mr', platform, name, scope);
    return res?.mlflowModelUri ? { uri: res.mlflowModelUri, event: res.event } : undefined;
  }

  /** The artifacts a model resource serves besides its first (a SageMaker model of several containers). */
  moreArtifactsOf(platform: string, name: string, scope?: string): string[] {
    return this.named<ModelResource>('mr', platform, name, scope)?.artifacts ?? [];
  }

  /** The packages a model resource serves besides its first (a SageMaker inference pipeline of packages). */
  morePackagesOf(platform: string, name: string, scope?: string): ModelRef[] {
    return this.named<ModelResource>('mr', platform, name, scope)?.packages ?? [];
  }

  /** The endpoint an inference component was created on, if seen. */
  componentEndpoint(platform: string, name: string, scope?: string): string | undefined {
    return this.named<string>('ic', platform, name, scope);
  }

  /** Whether a model resource (SageMaker CreateModel, Vertex UploadModel) was seen here. */
  hasModelResource(platform: string, name: string, scope?: string): boolean {
    return this.named('mr', platform, name, scope) !== undefined;
  }

  /** The ref of a SageMaker endpoint config, when the deployment names only the config. */
  configRef(ev: NormalizedEvent): ModelRef | undefined {
    const cfgName = deploymentConfigOf(ev);
    return cfgName ? this.named<{ ref?: ModelRef }>('ec', ev.platform, cfgName, scopeOf(ev))?.ref : undefined;
  }
}

/**
 * Whether a scoped name may read state kept under the bare name. SageMaker's: written before names were scoped, or
 * by events that do not say where (see Registry.named). Not an MLflow server's or a cluster's: the bare name is the
 * default server's, another registry.
 */
const readsBare = (platform: string): boolean => platform === 'sagemaker';

/**
 * Whether a version record may be the one of `scope`: scoped there, or kept under the bare name (before scoping) and
 * not known to be approved only elsewhere.
 */
function mayBeIn(v: VersionRec, scope: string): boolean {
  return v.scope ? v.scope === scope : !v.approvedScopes || v.approvedScopes.includes(scope);
}

/** Copy what a local record of the same name+version learnt (who trained / evaluated it, metrics, inputs, runs). */
function adopt(v: VersionRec, local: VersionRec): void {
  for (const p of local.trainers) pushParty(v.trainers, p);
  for (const p of local.evaluators) pushParty(v.evaluators, p);
  for (const [k, m] of Object.entries(local.metrics)) v.metrics[k] ??= m;
  for (const i of local.trainingInputs) if (!v.trainingInputs.some((x) => x.uri === i.uri)) v.trainingInputs.push(i);
  v.trainingInputs = v.trainingInputs.slice(-MAX_LIST);
  for (const r of local.producerRuns ?? []) if (!(v.producerRuns ??= []).includes(r)) v.producerRuns.push(r);
  v.runId ??= local.runId;
  v.adopted = [...new Set([...(v.adopted ?? []), local.key, ...(local.adopted ?? [])])].slice(-MAX_LIST);
}

function linkJob(v: VersionRec, j: JobRec): void {
  for (const t of j.trainers) pushParty(v.trainers, t);
  for (const i of j.inputs) if (!v.trainingInputs.some((x) => x.uri === i.uri)) v.trainingInputs.push(i);
  for (const e of j.evaluators ?? []) pushParty(v.evaluators, e);
  for (const [k, m] of Object.entries(j.metrics ?? {})) v.metrics[k] ??= m;
}

/** The version an alias names before its number is known: only its approval (see Registry.update). */
function pendingVersion(platform: string, name: string, alias: string, approval: NonNullable<VersionRec['approval']>): VersionRec {
  return {
    key: `ua|${platform}|${name}|${alias}`,
    platform,
    name,
    version: '', // not known yet: no rule compares it (a rollback needs a number)
    trainers: [],
    evaluators: [],
    registrants: [],
    approval,
    approvedEver: approval.state === 'approved',
    metrics: {},
    adversarial: [],
    trainingInputs: [],
    aliases: [alias],
  };
}

/** The artifact index keys a reference looks up: the object it names and its parents, then as written if that differs. */
function artifactLookups(artifact: string): string[] {
  const object = asS3Uri(artifact);
  return object === artifact ? uriAncestors(artifact) : [...uriAncestors(object), ...uriAncestors(artifact)];
}

/**
 * The state keys a rejection kept by an artifact may be under: the object an https:// S3 URL names (as written now),
 * then the URL as written (state kept before rejections were keyed by the object).
 */
function rejectionKeys(artifact: string): string[] {
  return [...new Set([asS3Uri(artifact), artifact])].map((a) => `rja|${a}`);
}

/** Every artifact a version record holds: its own, its other containers', its additional inference specifications'. */
function artifactsOfVersion(v: VersionRec): string[] {
  return [...(v.artifact ? [v.artifact] : []), ...(v.storage ? [v.storage] : []), ...(v.moreArtifacts ?? []), ...(v.inferenceArtifacts ?? [])];
}

/** An MLflow source naming a version's files only through MLflow: a logged model (`models:/m-…`) or a run (`runs:/…`). */
const INDIRECT_SOURCE = /^(?:models|runs):/i;

/** The evaluation reports an event registers with a version (`details.model_metrics`: SageMaker's ModelMetrics). */
function reportsOfEvent(ev: NormalizedEvent): Array<{ report: string; uri: string; content_digest?: string }> {
  const list = ev.details?.model_metrics;
  if (!Array.isArray(list)) return [];
  return list.flatMap((r) => {
    const o = r as Record<string, unknown>;
    return typeof o?.uri === 'string' && typeof o.report === 'string' ? [{ report: o.report, uri: o.uri, ...(typeof o.content_digest === 'string' ? { content_digest: o.content_digest } : {}) }] : [];
  });
}
