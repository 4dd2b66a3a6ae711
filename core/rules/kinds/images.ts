import { globMatch } from '../facts.js';

/**
 * Provenance of container images, judged alike for the images a model is trained with
 * (training.unverified_dependency) and the ones it is served with (serving.unverified_image):
 * pinned by digest, from a registry on the allow list, unless a trusted repository (a platform's
 * own prebuilt containers, published by tag).
 */

export interface ImagePolicy {
  /** Registry host globs; empty allows every registry. */
  allowed_registries: readonly string[];
  require_digest: boolean;
  /** `registry/repository` globs accepted by tag and from their registry. */
  trusted_images?: readonly string[];
  /**
   * `registry/repository` globs an image must match besides its registry; empty allows every repository. The host
   * alone cannot say whose repository it is on Artifact Registry, gcr.io or Docker Hub (the project or organization
   * is in the path).
   */
  allowed_repositories?: readonly string[];
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The host an image reference names before its first `/` (a dot, a port or `localhost` marks one), if any. */
function hostOf(image: string): string | undefined {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
}

/** Registry host of an image reference (`docker.io` when it has none). */
export function registryOf(image: string): string {
  return hostOf(image)?.replace(/:\d+$/, '') ?? 'docker.io';
}

/**
 * The repository an image reference names, without tag or digest, as `{ registry, path }`; Docker Hub's
 * short forms completed (`python:3.12` → docker.io `library/python`, `kserve/sklearnserver` → docker.io
 * `kserve/sklearnserver`) and its other host names read as docker.io.
 */
export function repositoryOf(image: string): { registry: string; path: string } {
  const host = hostOf(image);
  const registry = registryOf(image);
  let path = (host ? image.slice(host.length + 1) : image).replace(/@.*$/, '');
  const colon = path.indexOf(':', path.lastIndexOf('/') + 1);
  if (colon >= 0) path = path.slice(0, colon);
  if (!DOCKER_HUB.has(registry)) return { registry, path };
  return { registry: 'docker.io', path: path.includes('/') ? path : `library/${path}` };
}

/**
 * Whether an image is in a trusted repository. Each glob's host part (before the first `/`) is matched
 * against the registry alone and the rest against the repository path: a `*` can never reach across the
 * host, so `*-docker.pkg.dev/vertex-ai/prediction/*` does not match `evil.example/x-docker.pkg.dev/vertex-ai/prediction/y`.
 */
export function isTrustedImage(globs: readonly string[] | undefined, image: string): boolean {
  return !!globs?.length && inRepositories(globs, repositoryOf(image));
}

/** A glob list split once: its entries with no wildcard as a set (lower-cased, as globMatch compares), the rest as [host, path]. */
interface RepositoryGlobs { exact: Set<string>; patterns: Array<[string, string]> }
const compiledGlobs = new WeakMap<readonly string[], RepositoryGlobs>();

/** The default trusted lists hold hundreds of exact repositories (the AWS algorithm table): looked up, not scanned. */
function compileGlobs(globs: readonly string[]): RepositoryGlobs {
  let c = compiledGlobs.get(globs);
  if (c) return c;
  c = { exact: new Set(), patterns: [] };
  for (const g of globs) {
    const i = g.indexOf('/');
    if (i < 0) continue;
    if (/[*?]/.test(g)) c.patterns.push([g.slice(0, i), g.slice(i + 1)]);
    else c.exact.add(g.toLowerCase());
  }
  compiledGlobs.set(globs, c);
  return c;
}

/** Whether a repository matches one of the `registry/repository` globs, the host part against the registry alone. */
function inRepositories(globs: readonly string[], { registry, path }: { registry: string; path: string }): boolean {
  const { exact, patterns } = compileGlobs(globs);
  if (exact.size && exact.has(`${registry}/${path}`.toLowerCase())) return true;
  return patterns.some(([host, rest]) => globMatch(host, registry) && globMatch(rest, path));
}

/** Whether an image reference pins its content by digest. */
export const isPinnedImage = (image: string): boolean => /@sha256:[0-9a-f]{64}$/i.test(image);

/**
 * Every image against the policy: the reasons (each once) and the images that failed, so an alert names
 * (and is suppressed by) the offenders rather than a pinned first image. `pinned` may override the reading
 * of the reference (a connector's verdict, a digest given apart).
 */
export function judgeImages(images: readonly string[], policy: ImagePolicy, pinned: (image: string) => boolean = isPinnedImage): { reasons: string[]; offenders: string[] } {
  const reasons: string[] = [];
  const offenders: string[] = [];
  for (const image of images) {
    if (isTrustedImage(policy.trusted_images, image)) continue;
    let bad = false;
    if (policy.require_digest && !pinned(image)) {
      reasons.push(`image ${image} is not pinned by digest`);
      bad = true;
    }
    const reg = registryOf(image);
    if (policy.allowed_registries.length && !policy.allowed_registries.some((g) => globMatch(g, reg))) {
      const reason = `registry ${reg} is not on the allow list`;
      if (!reasons.includes(reason)) reasons.push(reason);
      bad = true;
    }
    const repo = repositoryOf(image);
    if (policy.allowed_repositories?.length && !inRepositories(policy.allowed_repositories, repo)) {
      const reason = `repository ${repo.registry}/${repo.path} is not on allowed_repositories`;
      if (!reasons.includes(reason)) reasons.push(reason);
      bad = true;
    }
    if (bad) offenders.push(image);
  }
  return { reasons, offenders };
}
