import { createHash } from 'node:crypto';
import type { Canon } from './names.js';
import { maskPaths } from './facts.js';
import { isObj, str, type Json } from './logentry.js';

/**
 * What a Vertex AI Agent Engine deployment (ReasoningEngineService.CreateReasoningEngine / UpdateReasoningEngine)
 * runs: a pickled Python object (`spec.packageSpec.pickleObjectGcsUri`) with its `requirementsGcsUri` and
 * `dependencyFilesGcsUri`, or source code (`spec.sourceCodeSpec`: an inline archive or a Developer Connect Git
 * repository), or a container image (`spec.containerSpec.imageUri`). Loading a pickle runs its code: the agent
 * is code deployed to a managed serving runtime, judged as a deployment.
 */
export interface AgentDeploy {
  /** The engine (`…/reasoningEngines/{id}`): the Update's target, a Create's operation name. */
  engine?: string;
  pickle?: string;
  requirements?: string;
  dependencies?: string;
  /**
   * Source code: `inline:sha256:<hex>` (an archive in the request, by the digest of its bytes), `inline` (an archive
   * whose bytes the log does not carry, or an ADK agent config), or `{gitRepositoryLink}/{dir}@{revision}`.
   */
  source?: string;
  /** An inline archive known only as `inline`: what it contains cannot be compared with another deployment's. */
  source_unverifiable?: boolean;
  /** A Git source's repository link and revision (a branch, tag, commit SHA or any ref, as requested). */
  git?: { repository: string; dir?: string; revision?: string };
  image?: string;
  python_version?: string;
  framework?: string;
  service_account?: string;
  /** Every location the code comes from (pickle, requirements, dependencies, source), as logged. */
  code: string[];
}

const AGENT_DEPLOY = /^(CreateReasoningEngine|UpdateReasoningEngine)$/;

/**
 * @example
 * agentDeploy('ReasoningEngineService', 'CreateReasoningEngine', { reasoningEngine: { spec: { packageSpec: { pickleObjectGcsUri: 'gs://b/a.pkl' } } } }, undefined, undefined, (n) => n)
 * // { pickle: 'gs://b/a.pkl', code: ['gs://b/a.pkl'] }
 */
export function agentDeploy(
  service: string | undefined,
  rpc: string,
  req: Json,
  resp: unknown,
  resourceName: string | undefined,
  canon: Canon,
  /** The entry is one part of a split audit entry: a string in its request may be a part of the logged value. */
  partial = false,
): AgentDeploy | undefined {
  if (service !== 'ReasoningEngineService' || !AGENT_DEPLOY.test(rpc)) return undefined;
  const body = isObj(req.reasoningEngine) ? req.reasoningEngine : {};
  const opName = isObj(resp) ? str(resp.name) : undefined;
  const engine =
    (resourceName && /\/reasoningEngines\/[^/]+$/.test(resourceName) ? resourceName : undefined) ??
    canon(/^(.*\/reasoningEngines\/[^/]+)\/operations\/[^/]+$/.exec(opName ?? '')?.[1]) ??
    canon(str(body.name));
  // An update changes only what its mask names: a spec in the body beside a mask without `spec` is ignored by the service.
  const mask = maskPaths(req.updateMask);
  const setsSpec = rpc === 'CreateReasoningEngine' || !mask.length || mask.some((p) => /^spec(\.|$)/.test(p));
  const spec = setsSpec && isObj(body.spec) ? body.spec : undefined;
  if (!spec) return { engine, code: [] };
  const pkg = isObj(spec.packageSpec) ? spec.packageSpec : {};
  const src = isObj(spec.sourceCodeSpec) ? spec.sourceCodeSpec : undefined;
  const container = isObj(spec.containerSpec) ? spec.containerSpec : undefined;
  // An agent built from an ADK config (`agentConfigSource`: the config, and optionally an inline archive of the files
  // it needs) is defined by the pair, which has no identity here: `inline`, unverifiable, whatever the archive.
  const inline = !src ? undefined : isObj(src.inlineSource) ? inlineSourceOf(src.inlineSource, partial) : isObj(src.agentConfigSource) ? 'inline' : undefined;
  const git = src && !inline ? gitSourceOf(src, canon) : undefined;
  const out: AgentDeploy = {
    engine,
    pickle: str(pkg.pickleObjectGcsUri),
    requirements: str(pkg.requirementsGcsUri),
    dependencies: str(pkg.dependencyFilesGcsUri),
    source: inline ?? (git ? `${git.repository}${git.dir ? `/${git.dir}` : ''}${git.revision ? `@${git.revision}` : ''}` : undefined),
    source_unverifiable: inline === 'inline' ? true : undefined,
    git,
    image: container ? str(container.imageUri) : undefined,
    python_version: str(pkg.pythonVersion) ?? (src && isObj(src.pythonSpec) ? str(src.pythonSpec.version) : undefined),
    framework: str(spec.agentFramework),
    service_account: str(spec.serviceAccount),
    code: [],
  };
  for (const c of [out.pickle, out.requirements, out.dependencies, out.source]) if (c && !out.code.includes(c)) out.code.push(c);
  return out;
}

/** proto3 JSON writes `bytes` as base64 (standard or URL-safe alphabet, padded or not). */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * An inline archive (`inlineSource.sourceArchive`, a .tar.gz as bytes) by what it is: `inline:sha256:<hex>` of the
 * decoded bytes, so another archive is another identity wherever it was uploaded from. AuditLog's `request` "should
 * never include user-generated data, such as file contents" and drops large fields, so the bytes are expected
 * absent: then, as for a value that is not base64 or an entry split in parts, the archive is only `inline`.
 */
function inlineSourceOf(inline: Json, partial: boolean): string {
  const archive = str(inline.sourceArchive);
  if (!archive || partial || !BASE64.test(archive)) return 'inline';
  return `inline:sha256:${createHash('sha256').update(Buffer.from(archive, 'base64')).digest('hex')}`;
}

/**
 * A Developer Connect source (`developerConnectSource.config`): the repository link
 * (`projects/*\/locations/*\/connections/*\/gitRepositoryLinks/*`, its project as the rules name projects), the
 * directory the build runs in (`.`, the root, is none) and the revision asked for.
 */
function gitSourceOf(src: Json, canon: Canon): AgentDeploy['git'] {
  const dc = isObj(src.developerConnectSource) ? src.developerConnectSource : undefined;
  const cfg = dc && isObj(dc.config) ? dc.config : undefined;
  const link = cfg ? canon(str(cfg.gitRepositoryLink)) : undefined;
  if (!cfg || !link) return undefined;
  const dir = str(cfg.dir)?.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
  return { repository: link, dir: dir && dir !== '.' ? dir : undefined, revision: str(cfg.revision) };
}
