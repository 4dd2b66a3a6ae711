/**
 * The one shell word reader: the simple commands of a POSIX shell script (a container's `sh -c` string, a lifecycle
 * script) as word lists, quotes removed, as the shell sees them before expansion. Single and double quotes (in double
 * quotes a backslash escapes only `$`, `` ` ``, `"`, `\` and newline), backslash escapes, `\`-newline continuations
 * and `#` comments are read; a command ends at an unquoted `;`, `&`, `|`, `&&`, `||`, `;;`, `|&`, `(`, `)` or newline
 * (a `&` of a redirection, `2>&1`, `&>f`, stays in its word). A command or process substitution (`$(…)`, `<(…)`,
 * `>(…)`, a backquoted `` `…` ``, also inside double quotes) is one word as written (`"$(cat /run/secrets/idx)"` is the
 * word `$(cat /run/secrets/idx)`), and its commands are commands too, after the one holding it. A `case … in … esac`
 * is followed, so that a pattern's `)` (`$(case $x in a) …;; esac)`) does not close the substitution holding it.
 * Expansions (`$VAR`) stay as written; here-document bodies are read as commands (a `sudo -i <<EOF` body is run as
 * such), each apart, up to its delimiter line, so that a quote left open in one (a file's text written with
 * `cat > f <<EOF`) does not run on over the rest of the script. A backquote inside backquotes (`` \` ``, the old nesting) is a character of the outer one.
 *
 * Written by hand: no shell parser is a dependency, and a split on the operators alone broke at a `;` inside quotes
 * (a PEP 508 marker) and lost the flags after it. One pass over the text, linear in its length: substitutions deeper
 * than MAX_DEPTH are kept as text of the word holding them (a script of 30 000 nested `$(` is read in one pass).
 */

/** One simple command, and the control operator that ended it. */
export interface ShellCommand {
  words: string[];
  /**
   * The operator after it: `|` or `|&` (its output piped into the next command at its depth), `&&`, `||`, `;`, `;;`,
   * `;&`, `&`, `(`, `)`, or a newline `\n`; none at the end of the script or of a substitution.
   */
  op?: string;
  /** Inside how many substitutions it is: 0 at the top. */
  depth: number;
}

/** Substitutions nested deeper than this are text of the word holding them, not read for commands. */
const MAX_DEPTH = 16;

/** Control operators, longest first. */
const OPERATORS = ['&&', '||', ';;&', ';;', ';&', '|&', ';', '|', '&', '\n'];

/** A command's words being read: the script's top, or one substitution. */
interface Frame {
  words: string[];
  word: string;
  inWord: boolean;
  /** Where its text starts (`$(`, `<(`, `` ` ``), to keep it as the holding word; -1 at the top. */
  start: number;
  /** Opened by a backquote: the next unescaped backquote closes it, not a `)`. */
  bq: boolean;
  /** Opened by an escaped backquote inside a backquoted command (`` `echo \`curl …\`` ``): the next `` \` `` closes it. */
  nested?: boolean;
  /** Opened inside double quotes: they resume when it closes. */
  dq: boolean;
  /** Plain `(` opened in it and not closed (`$( (a; b) )`, `$((1+2))`): a `)` closes them first. */
  parens: number;
  /** Where its current command's first word starts: commands are returned in script order. */
  cmdStart: number;
  /** A `case` read in it: 1 its subject is next, 2 `in` is next; 0 none. */
  caseHead: number;
  /** Its open `case … esac`, innermost last: true while a pattern is read (its `)` ends the pattern), false in a body. */
  cases: boolean[];
}

/**
 * The simple commands of a script, in the order they start (a substitution's commands after the one holding it),
 * with the operator ending each and its substitution depth. `work.steps`, when given, is increased by the characters
 * read and copied (a test bounds it by the script's length).
 *
 * @example
 * readShell(`bash <(curl -s https://x.example/i.sh) && echo "ok; $(date)"`)
 * // [{ words: ['bash', '<(curl -s https://x.example/i.sh)'], op: '&&', depth: 0 },
 * //  { words: ['curl', '-s', 'https://x.example/i.sh'], depth: 1 },
 * //  { words: ['echo', 'ok; $(date)'], depth: 0 }, { words: ['date'], depth: 1 }]
 */
export function readShell(script: string, work?: { steps: number }): ShellCommand[] {
  // Stable: commands starting at the same place keep the order they ended in.
  return readShellAt(script, work, 0).sort((a, b) => a.at - b.at).map(({ at: _at, ...c }) => c);
}

/** A here-document's delimiter after `<<` / `<<-` at `at` (quotes and backslashes removed), or undefined. */
function hereDocAt(script: string, at: number): { delim: string; tabs: boolean } | undefined {
  const m = /^<<(-?)[ \t]*(?:'([^'\n]*)'|"([^"\n]*)"|\\?([A-Za-z_][\w.-]*))/.exec(script.slice(at, at + 260));
  const delim = m ? (m[2] ?? m[3] ?? m[4]) : undefined;
  return m && delim ? { delim, tabs: m[1] === '-' } : undefined;
}

/** readShell's commands with where each starts, unsorted; `level`: how many here-document bodies hold the script. */
function readShellAt(script: string, work: { steps: number } | undefined, level: number): Array<ShellCommand & { at: number }> {
  const out: Array<ShellCommand & { at: number }> = [];
  // Here-documents opened on the current line (`sudo -i <<EOF`, `cat > f <<'X'`): their bodies follow its newline.
  const docs: Array<{ delim: string; tabs: boolean }> = [];
  const frames: Frame[] = [];
  const open = (start: number, dq: boolean, bq = false, nested = false): Frame => {
    const f: Frame = { words: [], word: '', inWord: false, start, bq, dq, parens: 0, cmdStart: -1, caseHead: 0, cases: [], ...(nested ? { nested } : {}) };
    frames.push(f);
    return f;
  };
  let f = open(-1, false);
  let dq = false;
  // `$(` opened past MAX_DEPTH: their `)` are text too.
  let overflow = 0;
  const add = (s: string, at: number) => {
    if (f.cmdStart < 0) f.cmdStart = at;
    f.word += s;
    f.inWord = true;
  };
  const endWord = () => {
    if (f.inWord) {
      // `case WORD in` opens pattern reading; `esac` as a command's first word closes the innermost case.
      const first = f.words.length === 0;
      if (first && f.word === 'esac' && f.cases.length) f.cases.pop();
      if (f.caseHead === 2) {
        f.caseHead = 0;
        if (f.word === 'in') f.cases.push(true);
      } else if (f.caseHead === 1) f.caseHead = 2;
      if (first && f.word === 'case') f.caseHead = 1;
      f.words.push(f.word);
    }
    f.word = '';
    f.inWord = false;
  };
  const endCommand = (op?: string) => {
    endWord();
    if (f.words.length) out.push({ words: f.words, ...(op ? { op } : {}), depth: frames.length - 1, at: f.cmdStart });
    f.words = [];
    f.cmdStart = -1;
  };
  // A substitution closed at `end` (exclusive): its last command ends, its text is the holding word's.
  const close = (end: number) => {
    endCommand();
    const inner = frames.pop()!;
    f = frames[frames.length - 1]!;
    if (work) work.steps += end - inner.start;
    add(script.slice(inner.start, end), inner.start);
    dq = inner.dq;
  };
  // How many characters a substitution opening at i takes (`$(` 2, `` ` `` 1), 0 when none opens there.
  const substitution = (i: number): number => {
    const ch = script[i];
    const bq = ch === '`';
    if (!bq && (script[i + 1] !== '(' || !(ch === '$' || (!dq && (ch === '<' || ch === '>'))))) return 0;
    // A backquote in a backquoted frame closes it (the caller's); past MAX_DEPTH backquotes are text, balanced or not.
    if (frames.length > MAX_DEPTH || overflow) {
      if (!bq) overflow++;
      add(script.slice(i, bq ? i + 1 : i + 2), i);
      return bq ? 1 : 2;
    }
    // The holding word starts here (its command too).
    if (f.cmdStart < 0) f.cmdStart = i;
    f.inWord = true;
    f = open(i, dq, bq);
    dq = false;
    return bq ? 1 : 2;
  };
  // A backquote ending the backquoted frame it is in (the frame's quotes end with it, as the shell reads it first).
  const closesBackquote = (i: number) => script[i] === '`' && f.bq && !overflow;
  let n = 0;
  for (let i = 0; i < script.length; i++) {
    if (work) work.steps++;
    const ch = script[i]!;
    if (closesBackquote(i)) {
      close(i + 1);
      continue;
    }
    // Inside a backquoted command, `` \` `` is a backquote of a command substitution nested in it (the shell removes
    // the backslash first): it opens one, or closes the one it opened. One level; deeper escapes are text.
    if (ch === '\\' && script[i + 1] === '`' && f.bq && !overflow) {
      if (f.nested) close(i + 2);
      else if (frames.length <= MAX_DEPTH) {
        if (f.cmdStart < 0) f.cmdStart = i;
        f.inWord = true;
        f = open(i, dq, true, true);
        dq = false;
      } else add('`', i);
      i++;
      continue;
    }
    if (dq) {
      if (ch === '"') dq = false;
      else if (ch === '\\' && i + 1 < script.length && '$`"\\\n'.includes(script[i + 1]!)) {
        i++;
        if (script[i] !== '\n') add(script[i]!, i);
      } else if ((n = substitution(i))) i += n - 1;
      else add(ch, i);
      continue;
    }
    if (ch === '\\') {
      const next = script[++i];
      if (next === '\n' || next === undefined) continue; // a continuation joins the lines
      add(next, i - 1);
    } else if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end < 0 ? script.length : end;
      if (work) work.steps += stop - i;
      add(script.slice(i + 1, stop), i);
      i = stop;
    } else if (ch === '"') {
      add('', i);
      dq = true;
    } else if (ch === '#' && !f.inWord) {
      const nl = script.indexOf('\n', i);
      if (work) work.steps += (nl < 0 ? script.length : nl) - i;
      i = (nl < 0 ? script.length : nl) - 1;
    } else if ((n = substitution(i))) i += n - 1;
    else if (ch === ')') {
      if (overflow) {
        overflow--;
        add(ch, i);
      } else if ((endWord(), f.cases.at(-1))) {
        // A case pattern's end (`a)`, `*)`; its word read first, so that `esac)` closes its case): its body follows, up to `;;`.
        f.cases[f.cases.length - 1] = false;
        endCommand(ch);
      } else if (f.start >= 0 && f.parens === 0) close(i + 1);
      else {
        if (f.parens) f.parens--;
        endCommand(ch);
      }
    } else if (ch === '(') {
      // A case pattern may open with `(` (`(a) …;;`): no parenthesis for a `)` to close.
      if (f.start >= 0 && !(f.cases.at(-1) && !f.inWord && !f.words.length)) f.parens++;
      endCommand(ch);
    } else if (ch === '&' && (script[i + 1] === '>' || '<>'.includes(f.word.at(-1) ?? '-'))) add(ch, i); // `&>f`, `2>&1`, `<&3`
    else if (ch === '<' && script[i + 1] === '<' && script[i + 2] !== '<' && script[i - 1] !== '<' && frames.length === 1 && level < MAX_DEPTH && !overflow) {
      // A here-document (not a here-string, `<<<`): its body is read apart from the next line on (below).
      const doc = hereDocAt(script, i);
      if (doc) docs.push(doc);
      add(ch, i);
    } else if (ch === '\n' && docs.length && frames.length === 1) {
      // The bodies of the line's here-documents, each up to its delimiter line, read as a script of their own (a
      // `sudo -i <<EOF` body is run): a quote or substitution left open in one (`Don't` in a file written with
      // `cat > f <<EOF`) no longer runs on over the rest of the script and hides its commands.
      endCommand(ch);
      let from = i + 1;
      for (const doc of docs.splice(0)) {
        let end = from;
        let next = script.length;
        for (let at = from; at < script.length; ) {
          const nl = script.indexOf('\n', at);
          const lineEnd = nl < 0 ? script.length : nl;
          const line = script.slice(at, lineEnd).replace(/\r$/, '');
          if (work) work.steps += lineEnd - at + 1;
          if ((doc.tabs ? line.replace(/^\t+/, '') : line) === doc.delim) {
            end = at;
            next = nl < 0 ? script.length : nl + 1;
            break;
          }
          end = nl < 0 ? script.length : nl + 1;
          at = end;
        }
        for (const c of readShellAt(script.slice(from, end), work, level + 1)) out.push({ ...c, at: c.at + from });
        from = next;
      }
      i = from - 1;
    } else if (';&|\n'.includes(ch)) {
      const op = OPERATORS.find((o) => script.startsWith(o, i))!;
      endCommand(op);
      // The end of a case body: the next pattern, or `esac`.
      if (f.cases.length && (op === ';;' || op === ';&' || op === ';;&')) f.cases[f.cases.length - 1] = true;
      i += op.length - 1;
    } else if (/\s/.test(ch)) endWord();
    else add(ch, i);
  }
  // Unclosed substitutions end with the script.
  while (frames.length > 1) close(script.length);
  endCommand();
  return out;
}

/**
 * The simple commands of a POSIX shell script as word lists, quotes removed (readShell without the operators).
 * Enough to read what a container's script runs.
 *
 * @example
 * shellCommands(`pip install 'x; python_version>"3"' \\\n --index-url=https://a/s && echo ok`)
 * // [['pip', 'install', 'x; python_version>"3"', '--index-url=https://a/s'], ['echo', 'ok']]
 */
export function shellCommands(script: string): string[][] {
  return readShell(script).map((c) => c.words);
}
