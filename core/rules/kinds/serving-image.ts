import type { NormalizedEvent } from '../../schema/index.js';
import type { Entity } from '../baseline.js';
import { hubModelRef, isPinnedHubModel, type HubModel } from '../../integrity/hub.js';
import { anyGlob, endpointOf, identityOf, isBatchInference, isCarriedOut, jobFamilyOf, namedEntity, scopeOf, scopedName, servingImagesOf } from '../facts.js';
import { endpointEntity, projectSetting, setting, versionEntity, type KindImpl } from './context.js';
import { untrustedCode } from './code-locations.js';
import { judgeImages } from './images.js';
import { isAllowedSource } from './packages.js';

/**
 * Provenance of the images a model is served with, judged where they are written: a SageMaker Model's
 * or model package's containers, an inference component's, a Vertex UploadModel's containerSpec (Vertex
 * copies the image then and never reads the path again), a KServe InferenceService's predictor,
 * transformer and explainer containers, a ServingRuntime's. Whether a deployment serves the images its
 * approved package names is another question (registry.unapproved_deployment, substitution).
 */

/**
 * Writes that set serving containers; reads and deletes name images that were judged when written. A batch job too
 * (`transform_job.create`): a Vertex batch prediction job's `unmanagedContainerModel` names its serving image there
 * and nowhere else (a SageMaker transform job names a Model, whose image was judged at CreateModel).
 */
const WRITES = /^(model|model_version|endpoint|resource)\.(create|update|upload|deploy)$|^transform_job\.create$/;

/** Who is alerted about: the endpoint, else the model or runtime (namespace-qualified: names repeat across profiles). */
function subjectOf(ev: NormalizedEvent): Entity {
  const ep = endpointOf(ev);
  if (ep) return endpointEntity(ev, ep);
  // A batch job by its family, as serving.unapproved_batch_inference names it (a Vertex job's resource name is a number).
  const job = isBatchInference(ev) ? ev.ml?.job?.name : undefined;
  if (job) return namedEntity('batch_job', scopedName(jobFamilyOf(ev, job), scopeOf(ev)), jobFamilyOf(ev, job), ev.platform);
  const r = ev.resource;
  const name = r?.name ?? r?.id ?? ev.ml?.model?.name ?? 'unknown';
  // A SageMaker Model or package is named in its account and region (names repeat across accounts), a runtime in its cluster.
  return namedEntity(r?.type ?? 'model', scopedName(r?.namespace ? `${r.namespace}/${name}` : name, scopeOf(ev)), name, ev.platform);
}

/** The code archives a model's containers download and run besides their images (`ml.model.code_uris`, `additional_code_uris`). */
function servingCodeOf(ev: NormalizedEvent): string[] {
  const m = ev.ml?.model as Record<string, unknown> | undefined;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((u): u is string => typeof u === 'string' && !!u) : []);
  return [...new Set([...list(m?.code_uris), ...list(m?.additional_code_uris)])];
}

/** Strings of a list field. */
const stringsOf = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/**
 * A registered model version whose own environment files (`ml.model.package_sources`: an MLflow model's
 * `requirements.txt` / `conda.yaml` index and channel lines, as the registry auditor hashed them) point at a source
 * outside `allowed_package_sources` / `allowed_conda_channels`: what `mlflow.pyfunc`'s env restore and
 * `mlflow models serve` install wherever the version is served; or whose flavor loads its weights from a Hugging Face
 * Hub repository (`ml.model.hub_models`) not pinned to a commit or outside `allowed_hub_models`. Judged once, when its
 * hash is registered.
 */
function judgeModelEnvironment(ev: NormalizedEvent, ctx: Parameters<KindImpl>[1]): void {
  const m = ev.ml?.model;
  const foreign = stringsOf(m?.package_sources).filter((s) => !isAllowedSource(s, projectSetting<string[]>(ctx, ev, 'allowed_package_sources'), setting<string[]>(ctx, 'allowed_conda_channels')));
  const hidden = setting<boolean>(ctx, 'trust_hidden_package_sources') ? [] : stringsOf(m?.package_sources_unverifiable);
  // The Hub repositories its flavor loads its weights from when loaded (an MLflow transformers model saved without
  // them): judged as a serving container's HF_MODEL_ID is, since the hashed files do not hold those weights.
  const hub = judgeHubModels(servingHubModelsOf(ev), setting<boolean>(ctx, 'require_hub_commit') !== false, setting<string[]>(ctx, 'allowed_hub_models') ?? []);
  if (!foreign.length && !hidden.length && !hub.length) return;
  const reasons = [
    ...foreign.map((s) => (s.startsWith('conda:') ? `its environment installs packages from conda channel ${s.slice(6)}, not in allowed_conda_channels` : `its environment installs packages from ${s}, not an allowed package source`)),
    ...hidden.map((s) => `its environment installs packages from a source its files do not show (${s})`),
    ...hub.map((h) => `it loads its weights from the Hugging Face Hub when loaded: ${h.reason}`),
  ];
  const hubRefs = [...new Set(hub.map((h) => h.ref))];
  // The version is the subject: its files are what every deployment of it restores (a configured server's as `team:fraud/3`).
  const entity = m?.name && m.version ? versionEntity({ name: m.name, version: m.version, platform: ev.platform, scope: scopeOf(ev) }) : subjectOf(ev);
  ctx.detect({
    entity, key: [...foreign, ...hidden, ...hubRefs.map((h) => `hf:${h}`)].join(','), evidence: [ev.id], title: 'Unverified model environment',
    summary: `${entity.id} (${ev.platform}): ${reasons.join('; ')}`,
    details: { model: m?.name, version: m?.version, ...(foreign.length ? { package_sources: foreign } : {}), ...(hidden.length ? { package_sources_unverifiable: hidden } : {}), ...(hubRefs.length ? { hub_models: hubRefs } : {}), reasons, action: ev.action },
    ...(foreign.length || hub.length ? {} : { severity_cap: 'medium' as const }),
  });
}

/** The Hugging Face Hub models a model's containers download at start (`ml.model.hub_models`, `additional_hub_models`). */
function servingHubModelsOf(ev: NormalizedEvent): HubModel[] {
  const m = ev.ml?.model as Record<string, unknown> | undefined;
  const list = (v: unknown): HubModel[] => (Array.isArray(v) ? v.filter((h): h is HubModel => !!h && typeof h === 'object' && typeof (h as HubModel).id === 'string') : []);
  const out = [...list(m?.hub_models), ...list(m?.additional_hub_models)];
  return out.filter((h, i) => out.findIndex((o) => hubModelRef(o) === hubModelRef(h)) === i);
}

/**
 * A Hub model is judged as an image is: its revision a branch or tag (or none: the default branch) is an image by tag,
 * whose content changes with the next push to the repository (`require_hub_commit`, default on); a repository outside
 * `allowed_hub_models` (`owner/name` globs; unset or empty: repositories are not judged) is an image from another registry.
 */
function judgeHubModels(models: HubModel[], requireCommit: boolean, allowed: readonly string[]): Array<{ ref: string; reason: string }> {
  const out: Array<{ ref: string; reason: string }> = [];
  for (const m of models) {
    const reasons: string[] = [];
    if (requireCommit && !isPinnedHubModel(m)) reasons.push(`Hugging Face model ${m.id} ${m.revision ? `at revision ${m.revision}` : 'at no revision (the default branch)'} is not pinned to a commit`);
    if (allowed.length && !anyGlob(allowed, m.id)) reasons.push(`Hugging Face model ${m.id} is not in allowed_hub_models`);
    // Running the repository's own code makes a moving revision code, not only weights: said with the reason.
    if (reasons.length && m.trust_remote_code) reasons[reasons.length - 1] += ' (its remote code trusted)';
    out.push(...reasons.map((reason) => ({ ref: hubModelRef(m), reason })));
  }
  return out;
}

export const unverifiedServingImage: KindImpl = (ev, ctx) => {
  if (ev.action === 'model_version.hash_registered' && ev.outcome !== 'failure') return judgeModelEnvironment(ev, ctx);
  if (!WRITES.test(ev.action) || !isCarriedOut(ev)) return;
  const images = servingImagesOf(ev);
  const code = servingCodeOf(ev);
  const hub = servingHubModelsOf(ev);
  if (!images.length && !code.length && !hub.length) return;
  const { reasons, offenders } = judgeImages(images, {
    allowed_registries: projectSetting(ctx, ev, 'allowed_registries'),
    require_digest: setting(ctx, 'require_digest'),
    trusted_images: projectSetting(ctx, ev, 'trusted_images'),
    allowed_repositories: projectSetting(ctx, ev, 'allowed_repositories'),
  });
  // A trusted framework image by tag runs whatever script archive it is handed (SAGEMAKER_SUBMIT_DIRECTORY): judged as
  // a training job's code archive is.
  const foreignCode = untrustedCode(code, ev.cloud?.account, setting<string[]>(ctx, 'trusted_code_locations'));
  reasons.push(...foreignCode.map((c) => c.reason));
  // The Hub repository an HF / TGI / DJL image by tag downloads: what it serves, judged like an image.
  const hubFindings = judgeHubModels(hub, setting<boolean>(ctx, 'require_hub_commit') !== false, setting<string[]>(ctx, 'allowed_hub_models') ?? []);
  reasons.push(...hubFindings.map((h) => h.reason));
  const hubOffenders = [...new Set(hubFindings.map((h) => h.ref))];
  if (!reasons.length) return;
  const entity = subjectOf(ev);
  const who = identityOf(ev.actor, ctx.cfg);
  ctx.detect({
    entity, key: [...offenders, ...foreignCode.map((c) => c.uri), ...hubOffenders.map((h) => `hf:${h}`)].join(','), evidence: [ev.id], title: 'Unverified serving image',
    summary: `${entity.id} (${ev.platform}) serves with ${reasons.join('; ')}${who ? ` (written by ${who})` : ''}`,
    details: { images: offenders, ...(foreignCode.length ? { code_uris: foreignCode.map((c) => c.uri) } : {}), ...(hubOffenders.length ? { hub_models: hubOffenders } : {}), reasons, action: ev.action, deployer: who },
  });
};
