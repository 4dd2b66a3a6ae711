import { redactUrlSecrets } from '../secrets.js';

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

/** Flags of `pip install` / `uv pip install` whose value is an index or a links page. */
const INDEX_FLAGS = new Set(['--index-url', '-i', '--extra-index-url', '--find-links', '-f', '--index', '--default-index']);

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

/** A `pip install` (also `pip3`, `python -m pip`, `uv pip`): the one command whose flags and URLs are read. */
const PIP_INSTALL = /\bpip3?(?:\.exe)?\s+install\b/;

/**
 * The package sources the `pip install` commands in a container's command and args name: index flags
 * (`--index-url URL`, `--extra-index-url=URL`, `-i URL`, `--find-links`, uv's `--index` / `--default-index`)
 * and requirements given as URLs (`git+https://…`, `pkg @ https://…/pkg.whl`). Each string is split into shell
 * commands first (`&&`, `;`, `|`, newlines), so a `-f` of another command (`rm -f`) is not read. This is how a
 * compiled KFP component installs its `packages_to_install` from its `pip_index_urls`.
 *
 * @example
 * packageSourcesOfCommand(['sh', '-c', "python3 -m pip install --index-url https://pypi.evil.example/simple 'x' && \"$0\""]) // ['https://pypi.evil.example/simple']
 */
export function packageSourcesOfCommand(parts: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const part of parts) {
    if (typeof part !== 'string' || !PIP_INSTALL.test(part)) continue;
    for (const command of part.split(/&&|\|\||[;|\n]/)) {
      if (!PIP_INSTALL.test(command)) continue;
      const tokens = command.split(/\s+/).map((t) => t.replace(/^['"]+|['"]+$/g, '')).filter(Boolean);
      for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i]!;
        const eq = t.indexOf('=');
        if (t.startsWith('-') && eq > 0 && INDEX_FLAGS.has(t.slice(0, eq))) out.push(...urlsOfValue(t.slice(eq + 1)));
        else if (INDEX_FLAGS.has(t) && tokens[i + 1] !== undefined) out.push(...urlsOfValue(tokens[++i]!));
        // KFP writes each index again as a trusted host (`--trusted-host https://…`): a host to trust, no source.
        else if (t === '--trusted-host') i++;
        else if (!t.startsWith('-') && URL.test(t)) out.push(t);
      }
    }
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
