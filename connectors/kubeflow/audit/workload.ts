/**
 * Security facts of the pods an object runs (privileged containers, host
 * namespaces and paths, capabilities, images and whether they are pinned),
 * found in Pods, controllers, notebooks, Argo/KFP workflows and training jobs.
 */

import { parse as parseYaml } from 'yaml';
import { packageSourceFactsOf } from '../../../core/integrity/packages.js';
import { definedOnly, isObject, listOf } from './objects.js';

interface Container {
  name?: string;
  image?: string;
  command?: unknown[];
  args?: unknown[];
  env?: unknown[];
  /** An Argo script template's program. */
  source?: string;
  securityContext?: { privileged?: boolean; allowPrivilegeEscalation?: boolean; runAsUser?: number; capabilities?: { add?: string[] } };
}
interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  hostPID?: boolean;
  hostNetwork?: boolean;
  hostIPC?: boolean;
  serviceAccountName?: string;
  volumes?: Array<{ name?: string; hostPath?: { path?: string } }>;
}

/**
 * Pod specs inside a Pod, a pod-template controller, a Notebook, an Argo
 * Workflow (also inside a KFP ScheduledWorkflow or CronWorkflow), a training
 * operator job (`spec.<kind>ReplicaSpecs.<role>.template`), a Kubeflow Trainer
 * TrainJob (`spec.trainer.image`) or runtime (JobSet `replicatedJobs`), or a
 * Katib Experiment's trial template. `depth` bounds the nesting followed.
 */
function podSpecsOf(obj: unknown, depth = 0): PodSpec[] {
  const o = obj as { kind?: string; spec?: Record<string, any> } | undefined;
  const spec = o?.spec;
  if (!spec || typeof spec !== 'object' || depth > 4) return [];
  if (Array.isArray(spec.containers)) return [spec as PodSpec];
  if (spec.template?.spec) {
    // A JobSet-based Trainer runtime: each replicated job is a Job with its own pod template.
    const jobs = listOf(spec.template.spec.replicatedJobs as unknown[]);
    if (jobs.length) return jobs.flatMap((j) => podSpecsOf((j as { template?: unknown } | null)?.template, depth + 1));
    return podSpecsOf(spec.template, depth + 1);
  }
  if (spec.jobTemplate?.spec) return podSpecsOf(spec.jobTemplate.spec.template ?? spec.jobTemplate, depth + 1);
  const out: PodSpec[] = [];
  // PyTorchJob/TFJob/XGBoostJob/MPIJob/…: one pod template per replica role.
  for (const [k, roles] of Object.entries(spec)) {
    if (!k.endsWith('ReplicaSpecs') || !isObject(roles)) continue;
    for (const r of Object.values(roles)) out.push(...podSpecsOf((r as { template?: unknown } | null)?.template, depth + 1));
  }
  // Kubeflow Trainer TrainJob: the trainer image overrides the runtime's.
  if (isObject(spec.trainer) && typeof spec.trainer.image === 'string') out.push({ containers: [{ name: 'trainer', image: spec.trainer.image }] });
  if (isObject(spec.trialTemplate) && isObject(spec.trialTemplate.trialSpec)) out.push(...podSpecsOf(spec.trialTemplate.trialSpec, depth + 1));
  // KFP ScheduledWorkflow (`spec.workflow.spec`) and Argo CronWorkflow (`spec.workflowSpec`).
  const wf = spec.workflow?.spec ?? spec.workflowSpec ?? spec;
  if (Array.isArray(wf.templates)) {
    // Argo: each template runs as its own pod; PSA never evaluates the Workflow itself.
    const params = workflowParams(wf);
    const kfp = (wf.templates as unknown[]).some((t) => isObject(t) && t.name === KFP_CONTAINER_DRIVER);
    for (const t of wf.templates as Array<Record<string, any>>) {
      if (t === null || typeof t !== 'object') continue;
      // A patch may be written out or come from a workflow parameter (`{{workflow.parameters.p}}`): both are known here.
      const patch = typeof t.podSpecPatch === 'string' ? withWorkflowParams(t.podSpecPatch, params) : undefined;
      const patchContainers = patch !== undefined ? literalPatchContainers(patch) : [];
      // KFP's placeholder image is always replaced by a patch: left out where the patch is known (its containers are
      // listed instead) or is KFP v2's driver's (its steps are read below). A patch of any other input keeps it, so a
      // hand-written Workflow naming it over a patch mltrail cannot read is still judged.
      const replaced = patchContainers.length > 0 || (kfp && patch !== undefined && KFP_EXECUTOR_PATCH.test(patch));
      const main = replaced && t.container?.image === KFP_PLACEHOLDER_IMAGE ? { ...t.container, image: undefined } : t.container;
      const containers = [main, t.script, ...listOf(t.containerSet?.containers), ...listOf(t.sidecars), ...patchContainers].filter(Boolean);
      if (containers.length || t.initContainers) out.push({ containers, initContainers: t.initContainers, hostNetwork: t.hostNetwork, volumes: wf.volumes });
    }
    // Argo's workflow-level podSpecPatch is merged into every pod of the run.
    if (typeof wf.podSpecPatch === 'string') {
      const containers = literalPatchContainers(withWorkflowParams(wf.podSpecPatch, params));
      if (containers.length) out.push({ containers });
    }
    const steps = kfpV2Containers(wf);
    if (steps.length) out.push({ containers: steps });
  }
  return out;
}

/** The image KFP v2's compiler gives `system-container-impl`, replaced at run time through its `podSpecPatch`. */
const KFP_PLACEHOLDER_IMAGE = 'gcr.io/ml-pipeline/should-be-overridden-during-runtime';
/** KFP v2's driver template: its `container` input is a step's container spec, what the step's pod will run. */
const KFP_CONTAINER_DRIVER = 'system-container-driver';

/** KFP v2's executor template's patch: the pod-spec patch its driver task wrote, passed in as an input. */
const KFP_EXECUTOR_PATCH = /^\s*\{\{\s*inputs\.parameters\.pod-spec-patch\s*\}\}\s*$/;

/** A Workflow's `arguments.parameters` by name (their literal values). */
function workflowParams(wf: Record<string, any>): Map<string, unknown> {
  const params = new Map<string, unknown>();
  for (const p of listOf(wf.arguments?.parameters as Array<Record<string, unknown>>)) if (isObject(p) && typeof p.name === 'string') params.set(p.name, p.value);
  return params;
}

/** Text with its `{{workflow.parameters.<name>}}` references replaced by the parameters' literal values (others left). */
function withWorkflowParams(text: string, params: Map<string, unknown>): string {
  if (!text.includes('{{')) return text;
  return text.replace(/\{\{\s*workflow\.parameters\.([^}\s]+)\s*\}\}/g, (ref, name: string) => {
    const v = params.get(name);
    return typeof v === 'string' ? v : ref;
  });
}

/** A JSON object in a string, or undefined. */
function jsonObject(v: unknown): Record<string, any> | undefined {
  if (typeof v !== 'string' || !v.trimStart().startsWith('{')) return undefined;
  try {
    const o = JSON.parse(v) as unknown;
    return isObject(o) ? o : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The containers of a template's `podSpecPatch` when it is written out (Argo merges it into the pod: its images run
 * instead of the template's). One filled in at run time (`{{inputs.parameters.pod-spec-patch}}`, KFP v2's) is not.
 */
function literalPatchContainers(patch: string): Container[] {
  if (patch.includes('{{')) return [];
  let o: unknown;
  try {
    // Argo takes the patch as JSON or YAML (a superset of JSON).
    o = parseYaml(patch, { maxAliasCount: 0 });
  } catch {
    return [];
  }
  return isObject(o) ? [...listOf(o.containers as Container[]), ...listOf(o.initContainers as Container[])].filter(isObject) : [];
}

/**
 * The steps' own containers of a KFP v2 Workflow (compiled by the KFP backend's argocompiler). Its templates run KFP's
 * driver, launcher and a placeholder; each step's image, command, args and env are a PipelineContainerSpec in JSON that
 * the driver turns into the executor pod's spec patch: a workflow parameter `implementations-<hash>` the driver task
 * passes as `{{workflow.parameters.implementations-<hash>}}` (KFP 2.1+), or written into the driver task's `container`
 * argument (KFP 2.0). Read only when the Workflow has the driver template.
 */
function kfpV2Containers(wf: Record<string, any>): Container[] {
  const templates = listOf(wf.templates as Array<Record<string, any>>).filter((t): t is Record<string, any> => isObject(t));
  if (!templates.some((t) => t.name === KFP_CONTAINER_DRIVER)) return [];
  const params = workflowParams(wf);
  const specs = new Map<string, Record<string, any>>();
  const add = (name: string, value: unknown) => {
    const c = jsonObject(value);
    if (c && typeof c.image === 'string' && !specs.has(name)) specs.set(name, c);
  };
  for (const [name, value] of params) if (name.startsWith('implementations-')) add(name, value);
  for (const t of templates) {
    const tasks = [...listOf(t.dag?.tasks as unknown[]), ...listOf(t.steps as unknown[]).flat()];
    for (const task of tasks as Array<Record<string, any>>) {
      if (task === null || typeof task !== 'object' || task.template !== KFP_CONTAINER_DRIVER) continue;
      const arg = listOf(task.arguments?.parameters as Array<Record<string, unknown>>).find((p) => isObject(p) && p.name === 'container');
      const ref = typeof arg?.value === 'string' ? /^\{\{\s*workflow\.parameters\.([^}\s]+)\s*\}\}$/.exec(arg.value) : null;
      if (ref) add(ref[1]!, params.get(ref[1]!));
      else if (arg) add(`${String(task.name)}.container`, arg.value);
    }
  }
  return [...specs].map(([name, c]) => ({ name, image: c.image, command: listOf(c.command), args: listOf(c.args), env: listOf(c.env) }));
}

function isPinned(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

/**
 * `ml.job` for the images of a workload: every image (the dependency rule
 * checks each), pinned only when all are, and `image` the first unpinned one
 * so an alert names the offender rather than the main container.
 */
export function jobImages(images: string[], role?: string, packageSources: string[] = [], hiddenSources: string[] = []): Record<string, unknown> {
  const image = images.find((i) => !isPinned(i)) ?? images[0];
  return definedOnly({
    image, image_pinned: images.length ? images.every(isPinned) : undefined, images: images.length ? images : undefined, role,
    package_sources: packageSources.length ? packageSources : undefined, package_sources_unverifiable: hiddenSources.length ? hiddenSources : undefined,
  });
}

/** Security facts of the pod specs in an object (privileged containers, host namespaces, images). */
export function workloadFacts(obj: unknown): Record<string, unknown> | undefined {
  const specs = podSpecsOf(obj);
  if (!specs.length) return undefined;
  const images = new Set<string>();
  const privileged: string[] = [];
  const escalation: string[] = [];
  const capabilities = new Set<string>();
  const hostPaths = new Set<string>();
  let hostPID = false, hostNetwork = false, hostIPC = false;
  const serviceAccounts = new Set<string>();
  const packageSources = new Set<string>();
  const hiddenSources = new Set<string>();
  for (const s of specs) {
    for (const c of [...listOf(s.containers), ...listOf(s.initContainers), ...listOf(s.ephemeralContainers)]) {
      if (c === null || typeof c !== 'object') continue;
      if (typeof c.image === 'string') images.add(c.image);
      // What its pip installs fetch (an index in env or flags, a git+https requirement): code beside the image.
      const facts = packageSourceFactsOf({ env: c.env, command: [...listOf(c.command), ...listOf(c.args), c.source] });
      for (const src of facts.sources) packageSources.add(src);
      for (const hidden of facts.unverifiable) hiddenSources.add(hidden);
      if (c.securityContext?.privileged === true) privileged.push(c.name ?? c.image ?? '?');
      if (c.securityContext?.allowPrivilegeEscalation === true) escalation.push(c.name ?? '?');
      for (const cap of c.securityContext?.capabilities?.add ?? []) capabilities.add(cap);
    }
    hostPID ||= s.hostPID === true;
    hostNetwork ||= s.hostNetwork === true;
    hostIPC ||= s.hostIPC === true;
    for (const v of listOf(s.volumes)) if (v !== null && typeof v === 'object' && v.hostPath?.path) hostPaths.add(v.hostPath.path);
    if (s.serviceAccountName) serviceAccounts.add(s.serviceAccountName);
  }
  return {
    images: [...images],
    privileged: privileged.length > 0,
    privileged_containers: privileged.length ? privileged : undefined,
    allow_privilege_escalation: escalation.length ? escalation : undefined,
    added_capabilities: capabilities.size ? [...capabilities] : undefined,
    host_pid: hostPID || undefined,
    host_network: hostNetwork || undefined,
    host_ipc: hostIPC || undefined,
    host_path_volumes: hostPaths.size ? [...hostPaths] : undefined,
    service_account: serviceAccounts.size ? [...serviceAccounts].join(',') : undefined,
    package_sources: packageSources.size ? [...packageSources] : undefined,
    package_sources_unverifiable: hiddenSources.size ? [...hiddenSources] : undefined,
  };
}
