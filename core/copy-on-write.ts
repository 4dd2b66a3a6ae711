/**
 * Copy-on-write maps over JSON values, for the walkers that hide secrets in records (core/secrets, core/integrity):
 * only what changes is copied, so a record with nothing to hide comes back as it is (===) and costs no allocation.
 */

/**
 * `list` with each element replaced by `f(element, index)`, copied only when one comes back different (!==); the same
 * array (===) when none does.
 *
 * @example
 * mapElements(['a', 'b'], (v) => (v === 'b' ? 'x' : v)) // ['a', 'x'] (a copy)
 */
export function mapElements<T extends readonly unknown[]>(list: T, f: (v: unknown, i: number) => unknown): T {
  let out: unknown[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const r = f(list[i], i);
    if (r !== list[i]) (out ??= [...list])[i] = r;
  }
  return (out ?? list) as T;
}

/**
 * `obj` with each own enumerable property's value replaced by `f(value, key)`, copied (shallow) only when one comes back
 * different (!==); the same object (===) when none does.
 *
 * @example
 * mapValues({ token: 'x', lr: 0.1 }, (v, k) => (k === 'token' ? '[redacted]' : v)) // { token: '[redacted]', lr: 0.1 }
 */
export function mapValues<T extends object>(obj: T, f: (v: unknown, k: string) => unknown): T {
  const o = obj as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    const r = f(o[k], k);
    if (r !== o[k]) (out ??= { ...o })[k] = r;
  }
  return (out ?? obj) as T;
}
