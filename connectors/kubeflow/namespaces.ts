/**
 * Namespace globs: `*` matches any run of characters, `?` one character;
 * everything else is literal (Kubernetes names hold no regex metacharacters
 * except `.`, which is escaped).
 *
 * @example
 * const watched = namespaceMatcher(['kubeflow', 'kubeflow-*']);
 * watched('kubeflow-user-alice') // true
 */
export function namespaceMatcher(globs: readonly string[]): (ns: string | undefined) => boolean {
  const res = globs.map(
    (g) => new RegExp(`^${g.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$+.()|[\]{}]/g, '\\$&'))).join('')}$`),
  );
  return (ns) => !!ns && res.some((r) => r.test(ns));
}

/** The watched-namespace test of a `namespaces` list, built once per list (a replay calls it per record). */
const matchers = new WeakMap<readonly string[], (ns: string | undefined) => boolean>();
export function watchedBy(globs: readonly string[]): (ns: string | undefined) => boolean {
  let m = matchers.get(globs);
  if (!m) matchers.set(globs, (m = namespaceMatcher(globs)));
  return m;
}
