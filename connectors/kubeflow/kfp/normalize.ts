import type { NormalizeContext, NormalizeOutput } from '../../../core/connector.js';
import { canonicalJson, makeEvent, stableId, toRfc3339, type NormalizedEvent } from '../../../core/schema/index.js';
import { packageSourceFactsOf, type PackageSourceFacts } from '../../../core/integrity/packages.js';
import { redactJobSecrets, redactSecretText, redactValueMap } from '../../../core/secrets.js';

/** KFP v2beta1 objects as the API server renders them (proto field names, int64 as strings). */
type Obj = Record<string, any>;

export type KfpKind = 'run' | 'recurring_run' | 'pipeline' | 'pipeline_version' | 'experiment';

const LIST_KEYS: Record<string, KfpKind> = {
  runs: 'run',
  recurringRuns: 'recurring_run',
  pipelines: 'pipeline',
  pipeline_versions: 'pipeline_version',
  experiments: 'experiment',
};

/** The KFP object kind of a record, from its identifying fields. */
export function kfpKind(x: unknown): KfpKind | undefined {
  if (!x || typeof x !== 'object' || Array.isArray(x) || 'schema_version' in x) return undefined;
  const o = x as Obj;
  const str = (k: string) => typeof o[k] === 'string' && o[k] !== '';
  if (str('run_id') && ('state' in o || 'runtime_config' in o || 'created_at' in o || 'pipeline_version_reference' in o)) return 'run';
  if (str('recurring_run_id') && ('trigger' in o || 'mode' in o || 'status' in o)) return 'recurring_run';
  if (str('pipeline_version_id') && str('pipeline_id')) return 'pipeline_version';
  if (str('pipeline_id') && ('display_name' in o || 'name' in o) && 'created_at' in o) return 'pipeline';
  if (str('experiment_id') && 'storage_state' in o && !('run_id' in o)) return 'experiment';
  return undefined;
}

/** Items of a KFP record: one object, or a List*Response page. */
export function kfpItems(record: unknown): Array<{ kind: KfpKind; item: Obj; path: string }> | undefined {
  const k = kfpKind(record);
  if (k) return [{ kind: k, item: record as Obj, path: '' }];
  if (!record || typeof record !== 'object' || Array.isArray(record)) return undefined;
  for (const [key, kind] of Object.entries(LIST_KEYS)) {
    const arr = (record as Obj)[key];
    if (Array.isArray(arr)) return arr.map((item, i) => ({ kind, item: item as Obj, path: `${key}[${i}]` }));
  }
  return undefined;
}

/** RFC 3339, treating the zero Timestamp (1970-01-01) the API renders for "unset" as absent. */
function ts(v: unknown): string | undefined {
  const t = toRfc3339(v);
  return t && !t.startsWith('1970-01-01T00:00:00') ? t : undefined;
}

/** Container images of a compiled pipeline spec (`deploymentSpec.executors.*.container.image`). */
export function specImages(spec: unknown): string[] {
  const executors = (spec as Obj | undefined)?.deploymentSpec?.executors;
  if (!executors || typeof executors !== 'object') return [];
  const out = new Set<string>();
  for (const ex of Object.values(executors as Obj)) if (typeof ex?.container?.image === 'string') out.add(ex.container.image);
  return [...out];
}

/**
 * Package sources of a compiled pipeline spec: the indexes and URL requirements of its executors' pip installs (a
 * component's `pip_index_urls` and `packages_to_install` compile into `container.command`) and env, and the ones
 * they name but do not show (`--index-url $IDX`, an env `valueFrom`).
 */
export function specPackageSourceFacts(spec: unknown): PackageSourceFacts {
  const executors = (spec as Obj | undefined)?.deploymentSpec?.executors;
  if (!executors || typeof executors !== 'object') return { sources: [], unverifiable: [] };
  const sources = new Set<string>();
  const unverifiable = new Set<string>();
  for (const ex of Object.values(executors as Obj)) {
    const c = ex?.container;
    if (!c || typeof c !== 'object') continue;
    const facts = packageSourceFactsOf({ env: c.env, command: [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])] });
    for (const src of facts.sources) sources.add(src);
    for (const hidden of facts.unverifiable) unverifiable.add(hidden);
  }
  return { sources: [...sources], unverifiable: [...unverifiable] };
}

/** The package sources a compiled pipeline spec shows (specPackageSourceFacts). */
export const specPackageSources = (spec: unknown): string[] => specPackageSourceFacts(spec).sources;

/** The package source facts of a run: its own spec's, else its pipeline version's as the poller listed them. */
function runPackageSources(ctx: NormalizeContext, spec: unknown, versionId: unknown): PackageSourceFacts {
  return spec ? specPackageSourceFacts(spec) : { sources: versionImagesOf(ctx, versionId, 'version_package_sources'), unverifiable: versionImagesOf(ctx, versionId, 'version_package_sources_unverifiable') };
}

/**
 * Images of a pipeline version, from `ctx.meta.version_images` (version id →
 * images) that the poller fills from the versions it listed; its package
 * sources likewise from `ctx.meta.version_package_sources` (and the hidden ones
 * from `version_package_sources_unverifiable`).
 */
function versionImagesOf(ctx: NormalizeContext, versionId: unknown, meta: 'version_images' | 'version_package_sources' | 'version_package_sources_unverifiable' = 'version_images'): string[] {
  const known = ctx.meta?.[meta];
  if (typeof versionId !== 'string' || !(known instanceof Map)) return [];
  const images = known.get(versionId);
  return Array.isArray(images) ? images.filter((i): i is string => typeof i === 'string') : [];
}

const pinned = (image: string) => /@sha256:[0-9a-f]{64}$/.test(image);

/**
 * The namespace a run or recurring run executes in, where its service account
 * lives. A v2beta1 Run carries none: KFP runs it in its experiment's namespace
 * and, when that is empty (single-user mode), in the namespace KFP itself runs
 * in. So: the object's own `namespace`, the namespace it was listed in
 * (`meta.namespace`, multi-user), its experiment's (`meta.experiment_namespaces`,
 * from the experiments listed), then `meta.install_namespace` (single-user mode
 * only: the poller sets it from `kfp.install_namespace`). Undefined when unknown
 * (`mltrail normalize` of a bare run, whose mode is not known).
 *
 * @example
 * kfpRunNamespace({ run_id: 'r', experiment_id: '' }, { install_namespace: 'kubeflow' }) // 'kubeflow'
 */
export function kfpRunNamespace(item: Obj, meta: Record<string, unknown> | undefined): string | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const experiments = meta?.experiment_namespaces;
  const ofExperiment = experiments instanceof Map && typeof item.experiment_id === 'string' ? str(experiments.get(item.experiment_id)) : undefined;
  return str(item.namespace) ?? str(meta?.namespace) ?? ofExperiment ?? str(meta?.install_namespace);
}

function actorOf(sa: unknown, namespace: string | undefined): NormalizedEvent['actor'] {
  if (typeof sa !== 'string' || !sa) return undefined;
  return { type: 'service', name: sa, id: namespace ? `system:serviceaccount:${namespace}:${sa}` : sa };
}

function jobOf(o: Obj, type: string, images: string[], packageSources: PackageSourceFacts): NonNullable<NormalizedEvent['ml']>['job'] {
  return {
    name: o.display_name || undefined,
    type,
    role: o.service_account || undefined,
    status: o.state ?? o.status ?? undefined,
    params: o.runtime_config?.parameters && Object.keys(o.runtime_config.parameters).length ? redactValueMap(o.runtime_config.parameters) : undefined,
    ...imageFacts(images),
    package_sources: packageSources.sources.length ? packageSources.sources : undefined,
    package_sources_unverifiable: packageSources.unverifiable.length ? packageSources.unverifiable : undefined,
  };
}

/**
 * A KFP item as `raw` keeps it: the secrets a run, recurring run or pipeline version carries in clear hidden — its
 * pipeline spec's executor containers (`env` values, secret flags in `args` / `command`, an inline component's code:
 * redactJobSecrets), the values of secret-named run parameters (`runtime_config.parameters`), and an error message
 * echoing one (redactSecretText). Copy-on-write: the item itself (which the normalizer reads) is never changed, and
 * comes back as is (===) when nothing was hidden.
 */
export function redactKfpItem(item: Obj): Obj {
  let out = redactJobSecrets(item);
  const rc = out.runtime_config;
  if (rc && typeof rc === 'object' && rc.parameters && typeof rc.parameters === 'object') {
    const parameters = redactValueMap(rc.parameters);
    if (parameters !== rc.parameters) out = { ...out, runtime_config: { ...rc, parameters } };
  }
  const err = out.error;
  if (err && typeof err === 'object' && typeof err.message === 'string') {
    const message = redactSecretText(err.message);
    if (message !== err.message) out = { ...out, error: { ...err, message } };
  }
  return out;
}

/**
 * Image facts of a job: every image (the dependency rule checks each), pinned
 * only when all are, and `image` the first unpinned one so an alert names it.
 */
function imageFacts(images: string[]): { image?: string; image_pinned?: boolean; images?: string[] } {
  if (!images.length) return {};
  return { image: images.find((i) => !pinned(i)) ?? images[0], image_pinned: images.every(pinned), images };
}

const RUN_STATE_ACTION: Record<string, NormalizedEvent['action']> = {
  RUNNING: 'pipeline_run.start',
  SUCCEEDED: 'pipeline_run.complete',
  FAILED: 'pipeline_run.fail',
  CANCELED: 'pipeline_run.stop',
  CANCELING: 'pipeline_run.stop',
};

/**
 * Normalize KFP v2beta1 REST objects (Run, RecurringRun, Pipeline,
 * PipelineVersion, Experiment, or a List response page). Each fact gets an id
 * from the object's own id plus what changed (state, schedule content), so a
 * poller re-reading the same object produces duplicates that collapse, and
 * every real change produces a new event.
 *
 * @example
 * normalizeKfp(run, { channel: 'kubeflow.kfp', receivedTime, keepRaw: true, config, meta: { namespace: 'kubeflow-user' } })
 */
export function normalizeKfp(record: unknown, ctx: NormalizeContext): NormalizeOutput {
  const out: NormalizeOutput = { events: [], rejected: [], skipped: [] };
  const items = kfpItems(record);
  if (!items) {
    out.rejected.push({ reason: 'not a KFP v2beta1 run, recurring run, pipeline, pipeline version or experiment', record });
    return out;
  }
  const ns = typeof ctx.meta?.namespace === 'string' ? ctx.meta.namespace : undefined;
  for (const { kind, item, path } of items) {
    // What raw shows: the item with its secrets hidden (facts below are read from the item as sent).
    const shown = kind === 'experiment' ? item : redactKfpItem(item);
    const emit = (draft: Omit<Parameters<typeof makeEvent>[0], 'platform' | 'channel' | 'received_time' | 'service'>) =>
      out.events.push(
        makeEvent(
          { ...draft, platform: 'kubeflow', channel: ctx.channel, received_time: ctx.receivedTime, service: 'ml-pipeline' },
          { raw: shown, keepRaw: ctx.keepRaw },
        ),
      );
    const namespace = kind === 'run' || kind === 'recurring_run' ? kfpRunNamespace(item, ctx.meta) : item.namespace || ns;
    const created = ts(item.created_at);
    if (!created && kind !== 'run') {
      out.rejected.push({ reason: `${kind} has no created_at`, path, field: 'created_at', record: item });
      continue;
    }
    switch (kind) {
      case 'run': {
        const ref = item.pipeline_version_reference ?? {};
        const versionId = ref.pipeline_version_id || item.pipeline_version_id || undefined;
        // A run of a registered version carries no spec: its images are the version's (the poller lists them).
        const images = item.pipeline_spec ? specImages(item.pipeline_spec) : versionImagesOf(ctx, versionId);
        const packageSources = runPackageSources(ctx, item.pipeline_spec, versionId);
        const common = {
          stage: 'training' as const,
          actor: actorOf(item.service_account, namespace),
          resource: { type: 'pipeline_run', id: item.run_id, name: item.display_name || undefined, namespace },
          ml: {
            job: jobOf(item, 'kfp.run', images, packageSources),
            provenance: { run_id: item.run_id, pipeline: ref.pipeline_id || undefined, pipeline_version: versionId, parent_run_id: item.recurring_run_id || undefined, pipeline_run: item.run_id },
          },
          details: {
            experiment_id: item.experiment_id || undefined,
            storage_state: item.storage_state,
            // An inline spec ran code that was never registered as a pipeline version.
            pipeline_source: item.pipeline_spec ? 'inline_spec' : versionId ? 'pipeline_version' : 'unknown',
            pipeline_root: item.runtime_config?.pipeline_root || undefined,
            images: images.length ? images : undefined,
            recurring_run_id: item.recurring_run_id || undefined,
            description: item.description || undefined,
            state: item.state,
            pipeline_context_id: item.run_details?.pipeline_context_id,
            pipeline_run_context_id: item.run_details?.pipeline_run_context_id,
          },
        };
        const t0 = created ?? ts(item.scheduled_at);
        if (!t0) {
          out.rejected.push({ reason: 'run has no created_at', path, field: 'created_at', record: item });
          continue;
        }
        emit({ ...common, id: stableId('kubeflow', 'kfp', 'run', item.run_id, 'create'), time: t0, action: 'pipeline_run.create', operation: 'CreateRun', outcome: 'success' });
        const state = typeof item.state === 'string' ? item.state : undefined;
        if (state && state !== 'PENDING' && state !== 'RUNTIME_STATE_UNSPECIFIED') {
          const history = Array.isArray(item.state_history) ? item.state_history : [];
          const when = history.filter((h: Obj) => h?.state === state).map((h: Obj) => ts(h.update_time)).find(Boolean);
          const terminal = ['SUCCEEDED', 'FAILED', 'CANCELED', 'SKIPPED'].includes(state);
          emit({
            ...common,
            id: stableId('kubeflow', 'kfp', 'run', item.run_id, 'state', state),
            time: when ?? (terminal ? ts(item.finished_at) : undefined) ?? t0,
            action: RUN_STATE_ACTION[state] ?? 'pipeline_run.status_change',
            operation: `run.${state.toLowerCase()}`,
            outcome: state === 'FAILED' ? 'failure' : 'success',
            error: state === 'FAILED' && item.error ? { code: item.error.code !== undefined ? String(item.error.code) : undefined, message: shown.error?.message } : undefined,
          });
        }
        if (item.storage_state === 'ARCHIVED') {
          emit({ ...common, id: stableId('kubeflow', 'kfp', 'run', item.run_id, 'archived'), time: ts(item.finished_at) ?? t0, action: 'pipeline_run.archive', operation: 'ArchiveRun', outcome: 'success' });
        }
        break;
      }
      case 'recurring_run': {
        const ref = item.pipeline_version_reference ?? {};
        const images = item.pipeline_spec ? specImages(item.pipeline_spec) : versionImagesOf(ctx, ref.pipeline_version_id || item.pipeline_version_id);
        const packageSources = runPackageSources(ctx, item.pipeline_spec, ref.pipeline_version_id || item.pipeline_version_id);
        const trigger = item.trigger ?? {};
        const schedule = trigger.cron_schedule ? { cron: trigger.cron_schedule.cron, start_time: trigger.cron_schedule.start_time, end_time: trigger.cron_schedule.end_time }
          : trigger.periodic_schedule ? { interval_second: trigger.periodic_schedule.interval_second, start_time: trigger.periodic_schedule.start_time, end_time: trigger.periodic_schedule.end_time }
          : undefined;
        const common = {
          stage: 'training' as const,
          actor: actorOf(item.service_account, namespace),
          resource: { type: 'recurring_run', id: item.recurring_run_id, name: item.display_name || undefined, namespace },
          ml: {
            job: jobOf(item, 'kfp.recurring_run', images, packageSources),
            provenance: { pipeline: ref.pipeline_id || undefined, pipeline_version: ref.pipeline_version_id || item.pipeline_version_id || undefined },
          },
          details: {
            schedule,
            mode: item.mode,
            status: item.status,
            max_concurrency: item.max_concurrency !== undefined ? Number(item.max_concurrency) : undefined,
            no_catchup: item.no_catchup,
            experiment_id: item.experiment_id || undefined,
            pipeline_source: item.pipeline_spec ? 'inline_spec' : ref.pipeline_version_id ? 'pipeline_version' : 'unknown',
            images: images.length ? images : undefined,
          },
        };
        emit({ ...common, id: stableId('kubeflow', 'kfp', 'recurring_run', item.recurring_run_id, 'create'), time: created!, action: 'recurring_run.create', operation: 'CreateRecurringRun', outcome: 'success' });
        const updated = ts(item.updated_at);
        const disabled = item.mode === 'DISABLE' || item.status === 'DISABLED';
        if ((updated && updated !== created) || disabled) {
          // The id hashes the schedule's content: each distinct configuration is one event.
          const config = canonicalJson({ trigger, mode: item.mode, status: item.status, rc: item.runtime_config, ref, pv: item.pipeline_version_id, mc: item.max_concurrency, sa: item.service_account, nc: item.no_catchup });
          emit({
            ...common,
            id: stableId('kubeflow', 'kfp', 'recurring_run', item.recurring_run_id, 'config', config),
            time: updated ?? created!,
            action: disabled ? 'recurring_run.disable' : 'recurring_run.enable',
            operation: disabled ? 'DisableRecurringRun' : 'EnableRecurringRun',
            outcome: 'success',
          });
        }
        break;
      }
      case 'pipeline':
        emit({
          id: stableId('kubeflow', 'kfp', 'pipeline', item.pipeline_id, 'create'),
          time: created!,
          stage: 'training',
          action: 'pipeline.create',
          operation: 'CreatePipeline',
          outcome: 'success',
          resource: { type: 'pipeline', id: item.pipeline_id, name: item.name || item.display_name || undefined, namespace },
          ml: { provenance: { pipeline: item.pipeline_id } },
          details: { display_name: item.display_name || undefined, description: item.description || undefined, tags: item.tags && Object.keys(item.tags).length ? item.tags : undefined },
        });
        break;
      case 'pipeline_version': {
        const images = specImages(item.pipeline_spec);
        const packageSources = specPackageSourceFacts(item.pipeline_spec);
        emit({
          id: stableId('kubeflow', 'kfp', 'pipeline_version', item.pipeline_version_id, 'create'),
          time: created!,
          stage: 'training',
          action: 'pipeline_version.create',
          operation: 'CreatePipelineVersion',
          outcome: 'success',
          resource: { type: 'pipeline_version', id: item.pipeline_version_id, name: item.name || item.display_name || undefined, namespace },
          ml: {
            job: images.length || packageSources.sources.length || packageSources.unverifiable.length
              ? { ...imageFacts(images), package_sources: packageSources.sources.length ? packageSources.sources : undefined, package_sources_unverifiable: packageSources.unverifiable.length ? packageSources.unverifiable : undefined }
              : undefined,
            code: item.code_source_url ? { source: item.code_source_url } : undefined,
            provenance: { pipeline: item.pipeline_id, pipeline_version: item.pipeline_version_id },
          },
          details: {
            pipeline_id: item.pipeline_id,
            pipeline_name: item.pipeline_spec?.pipelineInfo?.name,
            package_url: item.package_url?.pipeline_url || undefined,
            images: images.length ? images : undefined,
            unpinned_images: images.filter((i) => !pinned(i)).length ? images.filter((i) => !pinned(i)) : undefined,
            sdk_version: item.pipeline_spec?.sdkVersion,
            display_name: item.display_name || undefined,
          },
        });
        break;
      }
      case 'experiment': {
        const common = {
          stage: 'training' as const,
          outcome: 'success' as const,
          resource: { type: 'experiment', id: item.experiment_id, name: item.display_name || undefined, namespace },
          details: { storage_state: item.storage_state, description: item.description || undefined, last_run_created_at: ts(item.last_run_created_at) },
        };
        emit({ ...common, id: stableId('kubeflow', 'kfp', 'experiment', item.experiment_id, 'create'), time: created!, action: 'experiment.create', operation: 'CreateExperiment' });
        if (item.storage_state === 'ARCHIVED') {
          emit({ ...common, id: stableId('kubeflow', 'kfp', 'experiment', item.experiment_id, 'archived'), time: ts(item.last_run_created_at) ?? created!, action: 'experiment.update', operation: 'ArchiveExperiment' });
        }
        break;
      }
    }
  }
  return out;
}
