/**
 * Download-then-run in a lifecycle script: a file fetched to disk (`curl -o`, `wget -O`, `aws s3 cp`, `gsutil cp`,
 * `gcloud storage cp`, `git clone`, `aws s3 sync`) and later run by the same script (`bash f`, `sh f`, `source f`,
 * `python f`, `./f`, `pip install f`) is run sight unseen, as a download piped into a shell is. A fetched file only
 * read (a config file handed to a program, `cat`, `cp`) is not run.
 *
 * Written by hand: no shell parser on npm reads bash with the leniency a lifecycle script needs (heredocs, `\`
 * continuations already joined by the caller) in a few lines; this reads commands only as far as the words above,
 * with the one shell word reader of core/integrity/shell-words.ts.
 */
import { readShell } from '../../core/integrity/shell-words.js';

/** A command's words, its substitution depth, and the command its output is piped into, if it is (`curl … | bash`). */
interface Command {
  words: string[];
  depth: number;
  pipedInto?: string[];
}

/**
 * The commands of one logical shell line (core/integrity/shell-words.ts: quotes removed, a quoted `&` or `;` stays
 * in its word, a substitution is one word and its commands are commands too), each with the command its output is
 * piped into: the next one at its depth (`curl $(cat u) | bash` pipes curl into bash, not into cat).
 */
function commandsOf(line: string): Command[] {
  const read = readShell(line);
  const out: Command[] = read.map((c) => ({ words: c.words, depth: c.depth }));
  const nextAt = new Map<number, number>();
  for (let c = read.length - 1; c >= 0; c--) {
    const { op, depth } = read[c]!;
    const next = nextAt.get(depth);
    if ((op === '|' || op === '|&') && next !== undefined) out[c]!.pipedInto = read[next]!.words;
    nextAt.set(depth, c);
    // A deeper command's successor is not past the end of its substitution.
    for (const d of nextAt.keys()) if (d > depth) nextAt.delete(d);
  }
  return out;
}

/** A command or process substitution as a word (`$(…)`, `` `…` ``, `<(…)`; not arithmetic, `$((…))`). */
const isSubstitution = (w: string) => /^(?:\$\((?!\()|\\?`|<\()/.test(w);

/**
 * Which commands' output a shell runs as a command line or script: those in a substitution standing as a command
 * (`$(curl …)`, `` `curl …` ``), evaluated (`eval "$(…)"`, `` eval `…` ``), given to a shell's `-c`, or a process
 * substitution given to a shell or interpreter as its script (`bash <(curl …)`, `source <(…)`). Read from the words,
 * so that a backquoted command and a `case` inside `$(…)` are found as `$(curl …)` is. Each command is looked at once
 * per substitution level holding it (at most 16): linear.
 */
function outputRun(commands: readonly Command[]): boolean[] {
  const run = commands.map(() => false);
  for (let c = 0; c < commands.length; c++) {
    const words = commandWords(withoutRedirects(commands[c]!.words).words);
    const name = words[0]?.split('/').pop() ?? '';
    const dashC = words.indexOf('-c');
    const holds = (words[0] !== undefined && isSubstitution(words[0]) && !words[0].startsWith('<('))
      || (name === 'eval' && words.slice(1).some(isSubstitution))
      || (/^(?:(?:ba|z|da|k)?sh|su)$/.test(name) && dashC > 0 && isSubstitution(words[dashC + 1] ?? ''))
      || (INTERPRETER.test(name) && words.slice(1).some((w) => w.startsWith('<(')))
      // A command that is run and echoes its substitutions' output (`eval "$(echo $(curl …))"`) passes it on to be run.
      || (run[c] && /^(?:echo|printf)$/.test(name) && words.slice(1).some(isSubstitution));
    if (!holds) continue;
    const depth = commands[c]!.depth;
    for (let j = c + 1; j < commands.length && commands[j]!.depth > depth; j++) if (commands[j]!.depth === depth + 1) run[j] = true;
  }
  return run;
}

/** Words that only prefix the command that follows: `sudo -u ec2-user`, `env A=b`, `nohup`, `exec`, `then`… */
function commandWords(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    if (/^(?:then|do|else|elif|if|while|until|!|time|nohup|exec|command|builtin|setsid|nice|stdbuf)$/.test(w) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) {
      i++;
    } else if (w === 'sudo' || w === 'env' || w === 'timeout') {
      i++;
      // Their options, with the argument of those that take one (`sudo -u user`, `timeout 60`).
      while (i < words.length && (words[i]!.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || (w === 'timeout' && /^\d/.test(words[i]!)))) {
        if (w === 'sudo' && /^-[ugpCDhrt]$/.test(words[i]!)) i++;
        i++;
      }
    } else break;
  }
  return words.slice(i);
}

/**
 * A command's words without its redirections, and where its standard output goes (`> f`, `>>f`, `1>f`, `&>f`).
 * Input redirections and here-documents (`<f`, `<<EOF`) are dropped; a process substitution (`<(…)`) is kept.
 */
function withoutRedirects(words: string[]): { words: string[]; stdout?: string } {
  const out: string[] = [];
  let stdout: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const m = /^(\d*|&)(>>?|<<?-?)(.*)$/.exec(w);
    if (!m || w.startsWith('<(')) {
      out.push(w);
      continue;
    }
    const target = m[3] || words[++i];
    // `2>&1`, `>&2`: a stream joined to another, no file.
    if (m[2]!.startsWith('>') && (m[1] === '' || m[1] === '1' || m[1] === '&') && target && !target.startsWith('&')) stdout = target;
  }
  return { words: out, stdout };
}

/** A path as compared: `./` and trailing `/` off, `//` collapsed. */
function normPath(p: string): string {
  return p.replace(/\/{2,}/g, '/').replace(/^(?:\.\/)+/, '').replace(/(.)\/$/, '$1');
}

const dirOf = (p: string) => (p.includes('/') ? p.replace(/\/[^/]*$/, '') : '');
const basename = (u: string) => normPath(u.replace(/[?#].*$/, '')).split('/').pop() ?? '';
const isUrl = (w: string) => /^(?:https?|s3|gs):\/\/\S+$/i.test(w);
/** A word left with a variable the script does not set, or a command's output (`$BASE/x.sh`, `$(…)/x`): only the running script knows it. */
export const isHidden = (w: string) => /\$|`/.test(w);

/** curl's and wget's options that take a value: the word after one is no URL (`curl -o "$F" "$U"`). */
const VALUE_OPTIONS: Record<string, RegExp> = {
  curl: /^(?:-[A-Za-z]*[oHduXAebcTwmxEKrCFPQtYyz]|--(?:output|header|data[a-z-]*|user|cookie(?:-jar)?|request|user-agent|referer|upload-file|write-out|max-time|proxy|cert|config|range|continue-at|form|retry(?:-delay|-max-time)?|connect-timeout|cacert|key|limit-rate|resolve|connect-to))$/,
  wget: /^(?:-[A-Za-z]*[OPoaetTwUl]|--(?:output-document|directory-prefix|output-file|append-output|execute|tries|timeout|wait|user-agent|header|user|password|level))$/,
};

/**
 * The URLs a curl or wget command names: its literal URLs, else its arguments whose value only the running script
 * knows (`curl "${BASE}/${FILE}"` of a BASE the script does not set), not an option's value.
 */
function urlArgs(name: string, args: string[]): string[] {
  const urls = args.filter(isUrl);
  if (urls.length || !VALUE_OPTIONS[name]) return urls;
  return args.filter((a, i) => isHidden(a) && !a.startsWith('-') && !(i > 0 && VALUE_OPTIONS[name]!.test(args[i - 1]!)));
}

/** Where a fetch wrote: a file, or a directory (a clone, a sync) whose files it wrote. */
interface Fetched {
  path: string;
  dir: boolean;
  url: string;
}

/** curl's output file for its URL: `-o f`, `--output f`, `-fsSLo f`, `-O` (the URL's last segment). */
function curlOutputs(args: string[]): Fetched[] {
  const urls = urlArgs('curl', args);
  if (!urls.length) return [];
  let out: string | undefined;
  let remote = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--output' || a === '-o') out = args[i + 1];
    else if (a.startsWith('--output=')) out = a.slice(9);
    else if (a === '--remote-name' || a === '--remote-name-all') remote = true;
    else if (/^-[A-Za-z]+$/.test(a) && !a.startsWith('--')) {
      const at = a.indexOf('o');
      if (at > 0) out = at === a.length - 1 ? args[i + 1] : a.slice(at + 1);
      if (a.includes('O')) remote = true;
    } else if (/^-o\S/.test(a)) out = a.slice(2);
  }
  if (out && out !== '-') return [{ path: out, dir: false, url: urls[0]! }];
  return remote ? urls.map((u) => ({ path: basename(u), dir: false, url: u })) : [];
}

/** wget's output: `-O f` / `--output-document=f`, else the URL's last segment under `-P dir` (or here). */
function wgetOutputs(args: string[]): Fetched[] {
  const urls = urlArgs('wget', args);
  let out: string | undefined;
  let dir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-O' || a === '--output-document') out = args[i + 1];
    else if (a.startsWith('--output-document=')) out = a.slice(18);
    else if (/^-[A-Za-z]*O\S/.test(a)) out = a.slice(a.indexOf('O') + 1);
    else if (a === '-P' || a === '--directory-prefix') dir = args[i + 1];
    else if (a.startsWith('--directory-prefix=')) dir = a.slice(19);
  }
  if (out === '-') return [];
  if (out) return urls.length ? [{ path: out, dir: false, url: urls[0]! }] : [];
  return urls.map((u) => ({ path: dir ? `${dir}/${basename(u)}` : basename(u), dir: false, url: u }));
}

/** A copy's destination (`aws s3 cp SRC DST`, `gsutil cp SRC… DST`): the file, or the directory it went into. */
function copyOutputs(args: string[], sync: boolean): Fetched[] {
  const plain = args.filter((a) => !a.startsWith('-'));
  if (plain.length < 2) return [];
  const dest = plain[plain.length - 1]!;
  if (isUrl(dest)) return [];
  // A source only the running script knows is a download when the destination is a local path (`aws s3 cp "$SRC"
  // /tmp/x`); into a hidden destination it may be an upload.
  return plain.slice(0, -1).filter((a) => isUrl(a) || (isHidden(a) && !isHidden(dest))).flatMap((src): Fetched[] =>
    sync || /\/$/.test(src)
      ? [{ path: dest, dir: true, url: src }]
      : // A file copied to `dest`, or into it when it is a directory (`.`, `/tmp/`): both are the file.
        [{ path: dest, dir: false, url: src }, { path: `${dest}/${basename(src)}`, dir: false, url: src }],
  );
}

/** The URL a command writes to its standard output, if it fetches one there: `curl URL`, `wget -O- URL`, `aws s3 cp URL -`, `gsutil cat URL`. */
function fetchedToStdout(words: string[]): string | undefined {
  const [cmd, ...args] = words;
  const name = cmd?.split('/').pop() ?? '';
  const plain = args.filter((a) => !a.startsWith('-'));
  // A hidden source copied to standard output (`aws s3 cp "$SRC" -`) is a download too.
  const url = name === 'curl' || name === 'wget' ? urlArgs(name, args)[0] : (args.find(isUrl) ?? (args.at(-1) === '-' ? plain.slice(0, -1).find(isHidden) : undefined));
  if (!url) return undefined;
  if (name === 'curl') return curlOutputs(args).length ? undefined : url;
  if (name === 'wget') return args.some((a, i) => (a === '-O' || a === '--output-document') && args[i + 1] === '-') || args.some((a) => /^-[A-Za-z]*O-$/.test(a) || a === '--output-document=-') ? url : undefined;
  const copy = (rest: string[]) => (rest.filter((a) => !a.startsWith('-') || a === '-').pop() === '-' ? url : undefined);
  if (name === 'aws' && args[0] === 's3' && args[1] === 'cp') return copy(args.slice(2));
  if (name === 'gsutil') {
    const rest = args[0] === '-m' ? args.slice(1) : args;
    if (rest[0] === 'cat') return url;
    if (rest[0] === 'cp') return copy(rest.slice(1));
  }
  if (name === 'gcloud' && args[0] === 'storage' && (args[1] === 'cat' || args[1] === 'cp')) return args[1] === 'cat' ? url : copy(args.slice(2));
  return undefined;
}

/** The files a command fetches, if it is a fetch. */
function fetchesOf(words: string[]): Fetched[] {
  const [cmd, ...args] = words;
  const name = cmd?.split('/').pop();
  if (name === 'curl') return curlOutputs(args);
  if (name === 'wget') return wgetOutputs(args);
  if (name === 'aws' && args[0] === 's3' && (args[1] === 'cp' || args[1] === 'sync')) return copyOutputs(args.slice(2), args[1] === 'sync');
  if (name === 'gsutil') {
    const rest = args[0] === '-m' ? args.slice(1) : args;
    if (rest[0] === 'cp' || rest[0] === 'rsync') return copyOutputs(rest.slice(1), rest[0] === 'rsync' || rest.includes('-r') || rest.includes('-R'));
  }
  if (name === 'gcloud' && args[0] === 'storage' && (args[1] === 'cp' || args[1] === 'rsync')) return copyOutputs(args.slice(2), args[1] === 'rsync' || args.includes('-r') || args.includes('--recursive'));
  // git's own options before the subcommand (`git -C /opt clone …`, `git -c http.sslVerify=false clone …`): skipped,
  // or the clone went unseen; `-C dir` is where a relative directory is.
  let g = 0;
  let base = '';
  while (name === 'git' && g < args.length && args[g]!.startsWith('-')) {
    if (args[g] === '-C') base = args[g + 1] ?? '';
    g += GIT_VALUE_OPTION.test(args[g]!) ? 2 : 1;
  }
  if (name === 'git' && args[g] === 'clone') {
    // Its operands: the repository, then the directory (an option's value, `-b "$BRANCH"`, is neither).
    const plain: string[] = [];
    for (let i = g + 1; i < args.length; i++) {
      const a = args[i]!;
      if (GIT_CLONE_VALUE_OPTION.test(a)) i++;
      else if (!a.startsWith('-')) plain.push(a);
    }
    // A repository only the running script knows (`git clone "$REPO"` of a variable it does not set, `$(…)`): cloned
    // from an unknown place, so run as a download whose URL cannot be shown trusted; one it sets is resolved before.
    const url = plain.find((a) => /^(?:https?:\/\/|git@|ssh:\/\/|git:\/\/)/.test(a)) ?? (plain[0] !== undefined && isHidden(plain[0]) ? plain[0] : undefined);
    if (!url) return [];
    const dir = plain[plain.indexOf(url) + 1] ?? basename(url).replace(/\.git$/, '');
    return [{ path: base && !/^[/$~]/.test(dir) ? `${base.replace(/\/+$/, '')}/${dir}` : dir, dir: true, url }];
  }
  return [];
}

/** git's options before its subcommand that take the next word as their value (`-C dir`, `-c name=value`). */
const GIT_VALUE_OPTION = /^(?:-[Cc]|--(?:git-dir|work-tree|namespace|exec-path|config-env))$/;
/** git clone's options that take the next word as their value (`-b main`, `--depth 1`). */
const GIT_CLONE_VALUE_OPTION = /^(?:-[bocuj]|--(?:branch|origin|config|upload-pack|jobs|depth|reference(?:-if-able)?|template|separate-git-dir|filter|shallow-since|shallow-exclude|server-option|bundle-uri|ref-format))$/;

/** Interpreters whose first non-option argument is a script they run. */
const INTERPRETER = /^(?:(?:ba|z|da|k)?sh|source|\.|python[\d.]*|perl|ruby|node|Rscript)$/;

/** A file run, or a directory whose files are (`pip install --find-links d`, `pip install d/*`). */
interface Run {
  path: string;
  dir: boolean;
}

/** The files a command runs: an interpreter's script, the command itself when it is a path, `pip install <file>`. */
function runsOf(words: string[]): Run[] {
  const [cmd, ...args] = words;
  if (!cmd) return [];
  const name = cmd.split('/').pop()!;
  if (INTERPRETER.test(name)) {
    // `python -m mod`, `bash -c '…'` run no file; other options precede the script.
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-c' || a === '-m' || a === '-') return [];
      if (a.startsWith('-')) continue;
      return [{ path: a, dir: false }];
    }
    return [];
  }
  if (/^pip[\d.]*$/.test(name) || (/^python[\d.]*$/.test(name) && args[0] === '-m')) {
    const pipArgs = name.startsWith('pip') ? args : args.slice(2);
    if (pipArgs[0] !== 'install') return [];
    // `pip install ./dir/pkg.whl`, `pip install /tmp/w/*`, `--find-links /tmp/w`: the fetched files are installed.
    const out: Run[] = [];
    for (let i = 1; i < pipArgs.length; i++) {
      const a = pipArgs[i]!;
      if (a === '-f' || a === '--find-links') {
        if (pipArgs[i + 1]) out.push({ path: pipArgs[++i]!, dir: true });
      } else if (a.startsWith('--find-links=')) out.push({ path: a.slice(13), dir: true });
      else if (a === '-r' || a === '--requirement' || a === '-e' || a === '--editable') {
        if (pipArgs[i + 1]) out.push({ path: pipArgs[++i]!, dir: false });
      } else if (!a.startsWith('-') && /[/.]/.test(a) && !isUrl(a)) out.push(/\/\*[^/]*$/.test(a) ? { path: a.replace(/\/\*[^/]*$/, ''), dir: true } : { path: a, dir: false });
    }
    return out;
  }
  // A path run as a command (after `chmod +x`): `./x.sh`, `/tmp/x.sh`, `$HOME/x.sh`.
  const self: Run[] = cmd.includes('/') ? [{ path: cmd, dir: false }] : [];
  // A command only the running script knows (`$PYTHON_DIR x.py`, `$(which python) x.py`: an interpreter found at run
  // time) runs its first argument as an interpreter would.
  const first = isHidden(cmd) ? args.find((a) => !a.startsWith('-')) : undefined;
  return first ? [...self, { path: first, dir: false }] : self;
}

/** Where an archive extraction writes: `tar x…f A [-C d]`, `unzip A [-d d]`; the archive `-` for a tar reading its standard input. */
function extractionOf(words: string[]): { archive: string; dir: string } | undefined {
  const [cmd, ...args] = words;
  const name = cmd?.split('/').pop() ?? '';
  if (/^(?:bsd|gnu)?tar$/.test(name)) {
    let extract = false;
    let archive: string | undefined;
    let dir = '';
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      // The first word may be an option bundle without its dash (`tar xzf a.tgz`); `f` takes the next word.
      const bundle = /^-[A-Za-z]+$/.test(a) ? a.slice(1) : i === 0 && /^[A-Za-z]+$/.test(a) ? a : undefined;
      if (bundle !== undefined) {
        if (bundle.includes('x')) extract = true;
        const f = bundle.indexOf('f');
        if (f >= 0) archive = f === bundle.length - 1 ? args[++i] : bundle.slice(f + 1);
        if (bundle === 'C') dir = args[++i] ?? '';
      } else if (a === '--extract' || a === '--get') extract = true;
      else if (a === '--file' || a === '--directory') {
        if (a === '--file') archive = args[++i];
        else dir = args[++i] ?? '';
      } else if (a.startsWith('--file=')) archive = a.slice(7);
      else if (a.startsWith('--directory=')) dir = a.slice(12);
      else if (/^-C\S/.test(a)) dir = a.slice(2);
    }
    return extract ? { archive: archive ?? '-', dir } : undefined;
  }
  if (name === 'unzip') {
    let archive: string | undefined;
    let dir = '';
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-d') dir = args[++i] ?? '';
      else if (!a.startsWith('-') && archive === undefined) archive = a;
    }
    return archive ? { archive, dir } : undefined;
  }
  return undefined;
}

/** A cron table line's command: after five time fields (and a user, in `/etc/crontab` and `/etc/cron.d`), or `@reboot`… */
const CRON_FIELD = String.raw`(?:[\d*][\d*,/?LW#-]*|[A-Za-z]{3}(?:[-,][A-Za-z]{3})*)`;
const CRON_LINE = new RegExp(String.raw`^\s*(?:@(?:reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)|(?:${CRON_FIELD}\s+){4}${CRON_FIELD})\s+(.+)$`);
/** Files cron reads as system tables (a user field before the command), and a user's table. */
const SYSTEM_CRONTAB = /^\/etc\/(?:crontab$|cron\.d\/)/;
const USER_CRONTAB = /^\/var\/spool\/cron\//;

/** The commands of the cron lines in a text an `echo` or `printf` writes (real or `\n` newlines). */
function cronCommands(text: string, system: boolean): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n|\\n/)) {
    const m = CRON_LINE.exec(line);
    if (!m) continue;
    out.push(system ? m[1]!.replace(/^\S+\s+/, '') : m[1]!);
  }
  return out;
}

/** The text an `echo` or `printf` command writes: echo's arguments, printf's (or its format, when it has no `%`). */
function printed(words: string[]): string | undefined {
  const [cmd, ...args] = words;
  if (cmd === 'echo') {
    // Its leading options only (`echo -e '…'`); a later `-n` is text.
    let i = 0;
    while (i < args.length && /^-[neE]+$/.test(args[i]!)) i++;
    return args.slice(i).join(' ');
  }
  if (cmd === 'printf' && args.length) return args[0]!.includes('%') ? args.slice(1).join('\n') : args[0]!;
  return undefined;
}

/** What a script's reading found: every location downloaded (the URL its variables make), and those run unread. */
export interface ScriptRuns {
  /** The URLs fetched (to a file or to standard output), resolved through the script's own assignments; a bare variable (`curl -o f "$CONF_URL"`) is none. */
  fetched: string[];
  /** The downloads run unread, in script order: a URL only the running script knows is kept as written (`$BASE/x.sh`). */
  ran: string[];
  /** A text with the variables the script sets replaced by their last values (`https://$H/i.sh` → `https://tools.corp.example/i.sh`). */
  expand(text: string): string;
}

/**
 * The URLs of the files a script fetches and later runs (download-then-run), in script order. `lines` are the script's
 * logical lines (continuations joined, comments dropped). `cd` into a fetched directory is followed, so a clone's
 * `cd repo && ./install.sh` is a run of what it cloned.
 *
 * @example
 * fetchedAndRun(['curl -fsSL -o /tmp/i.sh https://x.example/i.sh', 'bash /tmp/i.sh']) // ['https://x.example/i.sh']
 */
export function fetchedAndRun(lines: readonly string[]): string[] {
  return scriptRuns(lines).ran;
}

/**
 * What a script fetches, and what of it runs unread: saved and run by name (also moved or copied first), piped into
 * a shell, an archive extracted and a file of it run (`tar xzf x.tgz && bash x/install.sh`, `curl URL | tar xz;
 * ./setup.sh`), or written into a cron table (`echo "0 * * * * curl URL | bash" | crontab -`: cron runs it
 * later). URLs built from the script's own assignments are resolved (`U=$HOST/$P; curl $U | sh`).
 */
export function scriptRuns(lines: readonly string[]): ScriptRuns {
  // Fetched files by path and by their directory, fetched directories by path: a run is looked up, not compared with
  // every fetch (a 64 KiB script of thousands of fetches and runs took a second).
  const files = new Map<string, Set<string>>();
  const filesIn = new Map<string, Set<string>>();
  const dirs = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, k: string, url: string) => (m.get(k) ?? m.set(k, new Set()).get(k)!).add(url);
  const fetched = {
    push(...fs: Fetched[]) {
      for (const f of fs) {
        if (f.dir) add(dirs, f.path, f.url);
        else {
          add(files, f.path, f.url);
          add(filesIn, dirOf(f.path), f.url);
        }
      }
    },
  };
  const ran = new Set<string>();
  const downloads = new Set<string>();
  // Texts echoed into a file, by path: a cron table if `crontab <file>` installs it later (bounded: a script of echoes).
  const echoed = new Map<string, string>();
  // Plain assignments (`U=https://…`, `export F=/tmp/x`): a URL or path named through a variable is the same fetch.
  const vars = new Map<string, string>();
  const expand = (w: string) => w.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, v: string) => vars.get(v) ?? m);
  let cwd = '';
  const resolve = (q: string) => {
    // `$PWD/x` (`${PWD}`, as a cron line the script writes names a file it fetched here) is the directory it is in.
    const p = q.replace(/^\$(?:PWD|\{PWD\})(?=\/|$)/, cwd || '.');
    return normPath(p.startsWith('/') || p.startsWith('~') || p.startsWith('$') || !cwd ? p : `${cwd}/${p}`);
  };
  // The directories a path is in, deepest first, at most 32: looked up among fetched directories. A directory
  // extracted into here (`tar xzf a.tgz` with no `cd` seen, path '') holds every relative path.
  const ancestors = (path: string): string[] => {
    const out: string[] = [];
    for (let i = path.lastIndexOf('/'); i > 0 && out.length < 32; i = path.lastIndexOf('/', i - 1)) out.push(path.slice(0, i));
    if (!/^[/$~]/.test(path)) out.push('');
    return out;
  };
  const readCron = (text: string, system: boolean, depth: number) => {
    if (depth < 3) for (const cmd of cronCommands(text, system)) readLine(cmd, depth + 1);
  };
  const readLine = (line: string, depth: number): void => {
    const commands = commandsOf(line);
    const runsOutput = outputRun(commands);
    // A line installing a cron table from its standard input (`echo … | crontab -`, `(crontab -l; echo …) | crontab -`):
    // what it echoes are cron lines.
    const crontabIn = commands.some((k) => k.words[0] === 'crontab' && !k.words.slice(1).some((w) => /^-[lre]$/.test(w)) && (k.words.length === 1 || k.words.includes('-')));
    for (let c = 0; c < commands.length; c++) {
      const redirected = withoutRedirects(commands[c]!.words.map(expand));
      const raw = redirected.words;
      const stdout = redirected.stdout;
      const assigns = raw[0] === 'export' || raw[0] === 'readonly' || raw[0] === 'local' ? raw.slice(1) : raw;
      if (assigns.length && assigns.length <= 8 && assigns.every((w) => /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(w)) && vars.size < 256) {
        for (const a of assigns) {
          const eq = a.indexOf('=');
          // `U+=/x.sh` appends (a URL built over lines): the value is the whole, not the part before (bounded).
          if (a[eq - 1] === '+') vars.set(a.slice(0, eq - 1), `${vars.get(a.slice(0, eq - 1)) ?? ''}${a.slice(eq + 1)}`.slice(0, 4096));
          else vars.set(a.slice(0, eq), a.slice(eq + 1));
        }
        continue;
      }
      const words = commandWords(raw);
      // A fetched file moved or copied (`mv /tmp/x /tmp/y.sh`, `cp x /usr/local/bin/`): the new name is the fetch too.
      if (words[0] === 'mv' || words[0] === 'cp' || words[0] === 'install') {
        const plain = words.slice(1).filter((w) => !w.startsWith('-'));
        const dest = plain.length >= 2 ? resolve(plain[plain.length - 1]!) : undefined;
        for (const src of dest ? plain.slice(0, -1).map(resolve) : []) {
          for (const url of files.get(src) ?? []) fetched.push({ path: dest!, dir: false, url }, { path: `${dest}/${basename(src)}`, dir: false, url });
        }
      }
      // A cron line written runs later as a command of this script's (as root, on a notebook instance).
      const text = printed(words);
      if (text !== undefined) {
        const to = stdout === undefined ? undefined : resolve(stdout);
        if (to && (SYSTEM_CRONTAB.test(to) || USER_CRONTAB.test(to))) readCron(text, SYSTEM_CRONTAB.test(to), depth);
        else if (to && echoed.size < 256) echoed.set(to, `${echoed.get(to) ?? ''}\n${text}`.slice(-16384));
        else if (!to && crontabIn) readCron(text, false, depth);
      }
      if (words[0] === 'crontab') {
        // Read once: a script installing the same file again adds no job (and is not read again, to stay linear).
        for (const f of words.slice(1).filter((w) => !w.startsWith('-')).map(resolve)) {
          readCron(echoed.get(f) ?? '', false, depth);
          echoed.delete(f);
        }
      }
      if (words[0] === 'cd') {
        const to = words[1];
        cwd = !to || to === '~' ? '' : to === '-' ? cwd : normPath(to.startsWith('/') || !cwd ? to : `${cwd}/${to}`);
        continue;
      }
      // `bash -c '…'`, `su ec2-user -c '…'`: the string is a script of its own.
      const dashC = words.indexOf('-c');
      if (depth < 3 && dashC > 0 && /^(?:(?:ba|z|da|k)?sh|su)$/.test(words[0]!.split('/').pop()!) && words[dashC + 1]) readLine(words[dashC + 1]!, depth + 1);
      for (const f of fetchesOf(words)) {
        fetched.push({ ...f, path: resolve(f.path) });
        if (isUrl(f.url)) downloads.add(f.url);
      }
      const toStdout = fetchedToStdout(words);
      if (toStdout && isUrl(toStdout)) downloads.add(toStdout);
      // An archive fetched earlier, extracted: its files are wherever it went.
      const extraction = extractionOf(words);
      if (extraction && extraction.archive !== '-') {
        for (const url of files.get(resolve(extraction.archive)) ?? []) fetched.push({ path: resolve(extraction.dir), dir: true, url });
      }
      if (toStdout && stdout) fetched.push({ path: resolve(stdout), dir: false, url: toStdout });
      // Its output run as the command line or script a substitution makes (`` eval `curl …` ``).
      else if (toStdout && runsOutput[c]) ran.add(toStdout);
      const into = commands[c]!.pipedInto;
      if (toStdout && into) {
        // Into `tee f` (saved), or into a shell or interpreter reading its standard input (run).
        const next = commandWords(withoutRedirects(into).words);
        const name = next[0]?.split('/').pop() ?? '';
        const piped = extractionOf(next);
        if (name === 'tee') for (const f of next.slice(1).filter((a) => !a.startsWith('-'))) fetched.push({ path: resolve(f), dir: false, url: toStdout });
        else if (piped?.archive === '-') fetched.push({ path: resolve(piped.dir), dir: true, url: toStdout });
        else if (INTERPRETER.test(name) && !runsOf(next).length) ran.add(toStdout);
      }
      for (const run of runsOf(words)) {
        const path = resolve(run.path);
        // A file run is the file fetched, or one in a fetched directory; a directory run (its files installed)
        // holds a fetched file, or is the fetched directory.
        for (const url of (run.dir ? filesIn : files).get(path) ?? []) ran.add(url);
        for (const dir of run.dir ? [path] : ancestors(path)) for (const url of dirs.get(dir) ?? []) ran.add(url);
      }
    }
  };
  // A here-document installed as a cron table (`crontab - <<EOF`, `cat <<EOF | crontab -`, `cat > /etc/cron.d/x <<EOF`):
  // its lines are cron lines, read up to the delimiter.
  let cronDoc: { delim: string; system: boolean } | undefined;
  for (const line of lines) {
    if (cronDoc) {
      if (line.replace(/^\t+/, '').trimEnd() === cronDoc.delim) cronDoc = undefined;
      else readCron(line, cronDoc.system, 0);
      continue;
    }
    readLine(line, 0);
    const doc = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(line);
    if (!doc) continue;
    // Bounded between `cat` and the file: a line of thousands of `cat` words is read in linear time.
    const target = /(?:^|[\s;&|(])crontab(?:\s+-u\s+\S+)?(?:\s+-)?\s*(?:<<|$|[;&|)])/.test(line) ? 'user' : /(?:^|[\s;&|(])(?:cat|tee(?:\s+-a)?)\b[^|;&]{0,256}?(?:>>?\s*|\s)\/etc\/(?:crontab\b|cron\.d\/)/.test(line) ? 'system' : undefined;
    if (target) cronDoc = { delim: doc[2]!, system: target === 'system' };
  }
  return { fetched: [...downloads], ran: [...ran], expand };
}
