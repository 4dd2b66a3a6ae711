import { packageSourceLocation } from '../../integrity/packages.js';
import { globMatch } from '../facts.js';

/**
 * Whether a package source (`ml.job.package_sources`: an index URL, a `git+https://…` requirement) is on the allow
 * list. A glob's part before its first `/` is matched against the host alone and the rest against the path (a glob
 * without `/` allows every path of its hosts), so `*-python.pkg.dev/*` cannot match `evil.example/x-python.pkg.dev/y`.
 *
 * @example
 * isAllowedPackageSource(['pypi.org'], 'https://pypi.org/simple') // true
 * isAllowedPackageSource(['github.com/my-org/*'], 'git+https://github.com/evil/x.git') // false
 */
export function isAllowedPackageSource(globs: readonly string[], url: string): boolean {
  const { host, path } = packageSourceLocation(url);
  return globs.some((g) => {
    const i = g.indexOf('/');
    return i < 0 ? globMatch(g, host) : globMatch(g.slice(0, i), host) && globMatch(g.slice(i + 1), path);
  });
}

/** The channels conda's `defaults` stands for (its default_channels on repo.anaconda.com). */
const DEFAULTS_CHANNELS = new Set(['pkgs/main', 'pkgs/r', 'pkgs/msys2']);
/** conda's channel_alias: a channel name is a user or organization there (`https://conda.anaconda.org/<name>`). */
const CHANNEL_ALIAS_HOST = 'conda.anaconda.org';

/**
 * Whether a conda channel named in a job (`conda:<name>` in `ml.job.package_sources`) is allowed by
 * `allowed_conda_channels` (name globs): the name, or its owner when it has a label (`conda-forge/label/dev` is
 * conda-forge's); `pkgs/main`, `pkgs/r`, `pkgs/msys2` are the channels `defaults` stands for.
 *
 * @example
 * isAllowedCondaChannel(['defaults', 'conda-forge'], 'conda-forge/label/rc') // true
 * isAllowedCondaChannel(['defaults', 'conda-forge'], 'some-user') // false
 */
export function isAllowedCondaChannel(globs: readonly string[], name: string): boolean {
  const owner = name.split('/')[0]!;
  const names = DEFAULTS_CHANNELS.has(name) || name === 'defaults' ? ['defaults', name] : [name, owner];
  return globs.some((g) => names.some((n) => globMatch(g, n)));
}

/**
 * Whether a package source passes: a `conda:<name>` channel by `allowed_conda_channels`; a URL by
 * `allowed_package_sources`, else, when it is a conda channel URL (`https://conda.anaconda.org/<name>`,
 * `https://repo.anaconda.com/pkgs/main`), by the channel it names.
 */
export function isAllowedSource(source: string, allowedSources: readonly string[], allowedChannels: readonly string[]): boolean {
  if (source.startsWith('conda:')) return isAllowedCondaChannel(allowedChannels, source.slice(6));
  if (isAllowedPackageSource(allowedSources, source)) return true;
  const { host, path } = packageSourceLocation(source);
  const channel = path.replace(/\/+$/, '');
  if (host === CHANNEL_ALIAS_HOST && channel) return isAllowedCondaChannel(allowedChannels, channel);
  if (host === 'repo.anaconda.com' && DEFAULTS_CHANNELS.has(channel.split('/').slice(0, 2).join('/'))) return isAllowedCondaChannel(allowedChannels, 'defaults');
  return false;
}
