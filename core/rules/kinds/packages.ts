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
