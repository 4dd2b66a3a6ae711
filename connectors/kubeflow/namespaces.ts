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
