/**
 * Assignments to a secret's name whose right-hand side is an expression (Python, JavaScript, a shell word): every
 * string literal in it, not only the first (`token = get_token() or "x"`, `x if c else "x"`, `"a" + "b"`,
 * `my_wrap("x")`).
 */
import { holdsSecret, REDACTED, SECRET_NAME } from './names.js';
import { isTemplateOfNames, namesOnly } from './python.js';

/**
 * An assignment's target and its `=`: a name, dotted or subscripted by a literal (`token`, `self.api_key`,
 * `os.environ["HF_TOKEN"]`), a Python annotation (`api_key: Optional[str] =`, its bracket read for 120 characters at
 * most), `+=`, `:=`. Not `==`, `!=`, `<=`, `>=`, `=>`. Group 1 the name, 3 a subscript's key, 4 the blanks after the name.
 */
const TARGET = /(?<![\w$.\]])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?:\[[ \t]*(["'])([A-Za-z_][\w.-]{0,100})\2[ \t]*\])?([ \t]*)(?::[ \t]*[\w.]+(?:\[[^\]\n=]{0,120}\]+)?(?:[ \t]*\|[ \t]*[\w.]+)*[ \t]*)?[+:]?=(?![=>])/g;
/** How far a right-hand side is read (one opened over many lines, `token = (` …): past it the rest is left as it is. */
const RHS_LIMIT = 64 * 1024;
/**
 * Calls that look a secret up rather than hold it: their literals name where it is (`os.getenv("HF_TOKEN")`,
 * `cfg.get("token")`, `dbutils.secrets.get(scope="ml", key="db")`, `open("/run/secrets/t")`, `vault.read("ml/x")`,
 * `getpass("Password: ")`, `get_token("hub")`), and stay unless one reads as a credential or is a fallback value.
 */
const LOOKUP_CALL = /^(?:get|getenv|getpass|input|open|Path|lookup|fetch|read|load|resolve|retrieve|access|(?:get|read|fetch|load|lookup|retrieve|resolve|access)(?:_\w+|[A-Z]\w*))$/;
/** Lookups whose arguments after the first are a fallback value (`cfg.get("token", "x")`, `os.getenv("K", "x")`). */
const DEFAULT_TAKING = /^(?:get|getenv|pop|setdefault)$/;
/** A secret store's read (`dbutils.secrets.get("scope", "key")`): every argument names the secret. */
const SECRET_STORE_READ = /(?:^|\.)secrets\.get$/;
/** Keyword arguments and dict keys naming who or where, not a secret (`user="svc"`, `url=…`, `{"host": "db"}`). */
const NOT_SECRET_KEY = /^(?:user(?:name)?|login|host(?:name)?|port|url|uri|endpoint|region|database|db|schema|namespace|kind|name|type|scope|encoding|errors|mode|method|timeout|prompt|sep|format)$|(?:name|ref|file|path|dir|arn)$/i;
/** Literals that name no secret whatever their place: an auth scheme (`"Bearer " + tok`), a text encoding (`"utf-8"`). */
const HARMLESS_LITERAL = /^(?:(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]*|utf-?8|utf-?16(?:-?[lb]e)?|ascii|latin-?1|iso-8859-1|base64|hex)$/i;
/** Words before '(' that open no call (`x if (a) else b`). */
const NOT_CALLEE = /^(?:if|else|elif|or|and|not|in|is|return|await|lambda|yield|for|while|typeof|new)$/;

interface Frame {
  kind: 'call' | 'sub' | 'dict' | 'list' | 'group';
  /** A list opening the side (`API_KEYS = [` …): the list rules hide it whole (FLOW_LIST, MULTI_LINE_LIST), not item by item. */
  skip?: boolean;
  /** The innermost call this frame is in (itself when a call): kept on the frame, so no literal walks the stack. */
  call?: Frame;
  callee: string;
  index: number;
  keyword: string;
}

/**
 * Text with the string literals of the right-hand side of every assignment to a secret's name hidden, quotes and prefix
 * kept (`token = get_token() or "[redacted]"`, `api_key = my_wrap("[redacted]")`, `secret = "[redacted]" + "[redacted]"`,
 * `f"[redacted]"` for an f-string with text). What names where the secret is stays: a lookup's arguments
 * (LOOKUP_CALL) unless one reads as a credential (`isCredential`) or is a fallback, a subscript's or dict's key
 * (`cfg["token"]`), a literal compared (`mode == "dev"`), an f-string (it names variables), an empty literal, an auth scheme,
 * an encoding, the value of a key naming who or where (`user="svc"`), and a value the name's shape rules keep
 * (holdsSecret: `storage_key = prefix + "models/x.pkl"`). The side ends at its line's end (brackets open over lines, a
 * `\` continuation), `;` or a comment; after `NAME=` with no blank before '=' (a shell word) at a blank, `&` or `|`;
 * as a keyword argument (`f(token=…)`) at its ',' or ')'. Each side is read once, at most RHS_LIMIT characters, and
 * assignments inside one are not read again: linear in the text (`work.steps` counts the characters read, for tests).
 * The same string when nothing is hidden.
 *
 * @example
 * redactAssignedExpressions('token = get_token() or "s3cr3t"', () => false) // 'token = get_token() or "[redacted]"'
 */
export function redactAssignedExpressions(text: string, isCredential: (word: string) => boolean, work?: { steps: number }): string {
  if (!text.includes('=') || !SECRET_NAME.test(text)) return text;
  let out = '';
  let done = 0;
  // Where the last side read ends: an assignment inside it (`token = f(token = …`) is not read again.
  let read = 0;
  for (const m of targets(text)) {
    if (m.index < read) continue;
    const name = (m[3] ?? m[1]!.slice(m[1]!.lastIndexOf('.') + 1)).replace(/-/g, '_');
    if (!SECRET_NAME.test(name)) continue;
    const before = text.slice(Math.max(0, m.index - 200), m.index).replace(/[ \t]+$/, '');
    const mode = before.endsWith('(') || before.endsWith(',') ? 'argument' : m[4] !== '' || m[0].includes(':') ? 'line' : 'tight';
    const from = m.index + m[0].length;
    const rhs = hideRhsLiterals(text, from, mode, name, isCredential);
    if (work) work.steps += rhs.end - from + 1;
    read = rhs.end;
    if (rhs.text === undefined) continue;
    out += text.slice(done, from) + rhs.text;
    done = rhs.end;
  }
  return done === 0 ? text : out + text.slice(done);
}

/**
 * TARGET's matches, read only on the lines holding a '=' and a secret's name (a target is on one line): most lines of
 * a script hold neither, and the pattern tried at every word of them was most of this pass's cost. Indices are the text's.
 */
function* targets(text: string): Generator<{ index: number; 0: string; 1: string; 3: string | undefined; 4: string }> {
  for (let start = 0; start < text.length; ) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(start, end);
    if (line.includes('=') && SECRET_NAME.test(line)) {
      for (const m of line.matchAll(TARGET)) yield { index: start + m.index, 0: m[0], 1: m[1]!, 3: m[3], 4: m[4]! };
    }
    start = end + 1;
  }
}

/** The right-hand side opening at `from` with its literals hidden (undefined when none was) and where it ends. */
function hideRhsLiterals(text: string, from: number, mode: 'argument' | 'line' | 'tight', name: string, isCredential: (word: string) => boolean): { text: string | undefined; end: number } {
  const limit = Math.min(text.length, from + RHS_LIMIT);
  const stack: Frame[] = [];
  let out = '';
  let copied = from;
  let changed = false;
  let i = from;
  if (mode === 'line') while (i < limit && (text[i] === ' ' || text[i] === '\t')) i++;
  // A shell word (`TOKEN=abc ./run "x"`) is the assignment rules': a tight side is read only when it opens with a
  // literal, a call or a value hidden before (`token="a"+"b"`, `token=get()or"x"`).
  if (mode === 'tight' && !/^(?:\[redacted\]|[rRbBuUfF]{0,2}["'`]|[A-Za-z_$][\w$.]*\()/.test(text.slice(i, i + 200))) return { text: undefined, end: i };
  const start = i;
  const opensList = text[i] === '[';
  for (; i < limit; i++) {
    const c = text[i]!;
    const top = stack[stack.length - 1];
    // A value hidden before (`[redacted]`) is one word, no list.
    if (c === '[' && text.startsWith(REDACTED, i)) {
      i += REDACTED.length - 1;
      continue;
    }
    const lit = literalAt(text, i, limit);
    if (lit === 'stop') break;
    if (lit !== undefined) {
      const body = text.slice(lit.bodyFrom, lit.bodyTo);
      if (!stack[0]?.skip && !keepLiteral(text, i, lit.end, lit.prefix, body, stack, name, isCredential, i === start)) {
        out += text.slice(copied, lit.bodyFrom) + REDACTED;
        copied = lit.bodyTo;
        changed = true;
      } else if (top?.kind === 'dict' && /^[ \t]*:(?!=)/.test(text.slice(lit.end, lit.end + 20))) top.keyword = body;
      i = lit.end - 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      const frame = openFrame(text, i, from);
      if (opensList && i === start) frame.skip = true;
      frame.call = frame.kind === 'call' ? frame : top?.call;
      stack.push(frame);
    } else if (c === ')' || c === ']' || c === '}') {
      if (stack.length === 0) break;
      stack.pop();
    } else if (c === ',') {
      if (stack.length === 0 && mode === 'argument') break;
      if (top) {
        top.index++;
        top.keyword = '';
      }
    } else if (c === '=' && top?.kind === 'call' && text[i + 1] !== '=' && !/[=!<>]/.test(text[i - 1] ?? '')) {
      top.keyword = /([A-Za-z_]\w*)[ \t]*$/.exec(text.slice(Math.max(from, i - 100), i))?.[1] ?? '';
    } else if (c === '#' || (c === '/' && text[i + 1] === '/' && /[\s]/.test(text[i - 1] ?? ' '))) {
      // A comment: to its line's end; a statement ends there unless a bracket is still open.
      if (stack.length === 0) break;
      const nl = text.indexOf('\n', i);
      i = (nl < 0 || nl > limit ? limit : nl) - 1;
    } else if (c === '\n') {
      if (stack.length === 0 && !/\\\r?$/.test(text.slice(Math.max(from, i - 2), i))) break;
    } else if (stack.length === 0 && (c === ';' || (mode === 'tight' && (c === ' ' || c === '\t' || c === '&' || c === '|')))) {
      break;
    } else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === "'")) {
      // An escaped quote outside a literal: code inside an escaped JSON string, read by other rules.
      break;
    }
  }
  return { text: changed ? out + text.slice(copied, i) : undefined, end: i };
}

/** A literal opening at `at`: its end, its body's bounds and prefix; 'stop' for one left open on its line; undefined for none. */
function literalAt(text: string, at: number, limit: number): { end: number; bodyFrom: number; bodyTo: number; prefix: string } | 'stop' | undefined {
  const c = text[at]!;
  let q = at;
  if (/[rRbBuUfF]/.test(c)) {
    if (at > 0 && /[\w$]/.test(text[at - 1]!)) return undefined;
    while (q < at + 2 && /[rRbBuUfF]/.test(text[q] ?? '')) q++;
  }
  const quote = text[q];
  if (quote !== '"' && quote !== "'" && quote !== '`') return undefined;
  if (q === at && at > 0 && text[at - 1] === '\\') return undefined;
  // A quote glued to a word or a closing bracket (`x"…`, `[redacted]"`) opens no literal of code: it closes a string
  // the side sits in (a JSON text's `"token=x","verb":…`), and reading on would take the text around for code.
  if (q === at && at > 0 && /[\w$\])}]/.test(text[at - 1]!)) return 'stop';
  const prefix = text.slice(at, q);
  const triple = quote !== '`' && text.startsWith(quote.repeat(3), q);
  const open = q + (triple ? 3 : 1);
  if (triple) {
    const close = text.indexOf(quote.repeat(3), open);
    if (close < 0 || close + 3 > limit) return { end: limit, bodyFrom: open, bodyTo: limit, prefix };
    return { end: close + 3, bodyFrom: open, bodyTo: close, prefix };
  }
  for (let i = open; i < limit; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    // A closing quote glued to a word (`b","verb"`: a JSON text's quotes, read from a word that looked like a prefix) is no literal's.
    else if (ch === quote) return /[\w$]/.test(text[i + 1] ?? '') ? 'stop' : { end: i + 1, bodyFrom: open, bodyTo: i, prefix };
    else if (ch === '\n' && quote !== '`') return 'stop';
  }
  // Cut by the text's end (a quarantined line): what is left of it is hidden.
  return limit === text.length ? { end: limit, bodyFrom: open, bodyTo: limit, prefix } : 'stop';
}

/** The frame a bracket at `at` opens: a call (a name before '('), a subscript (a value before '['), a dict, a list, a group. */
function openFrame(text: string, at: number, from: number): Frame {
  const c = text[at];
  const before = text.slice(Math.max(from, at - 200), at);
  if (c === '{') return { kind: 'dict', callee: '', index: 0, keyword: '' };
  if (c === '[') return { kind: /[\w$)\]"']$/.test(before) ? 'sub' : 'list', callee: '', index: 0, keyword: '' };
  const callee = /(?:^|[^\w$.])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)$/.exec(before)?.[1] ?? '';
  return callee === '' || NOT_CALLEE.test(callee) ? { kind: 'group', callee: '', index: 0, keyword: '' } : { kind: 'call', callee, index: 0, keyword: '' };
}

/**
 * Whether a literal of the right-hand side stays (see redactAssignedExpressions). `first`: it opens the side
 * (`token = f"…"`), where it is the value given, judged as the script rules judge it.
 */
function keepLiteral(text: string, at: number, end: number, prefix: string, body: string, stack: Frame[], name: string, isCredential: (word: string) => boolean, first: boolean): boolean {
  if (body === '' || body === REDACTED) return true;
  // A template literal of interpolations and an auth scheme names variables (isTemplateOfNames); one with literal text
  // (`` `Bearer abc…` ``) is judged as a literal is. An f-string with a replacement field names variables too, its text
  // a prefix or a format, unless a word of it reads as a credential (`f"Bearer ghp_…{x}"`); one without a field
  // (`f"Bearer abc…"`) is a literal with a prefix.
  const quote = text[at + prefix.length]!;
  if (quote === '`' && isTemplateOfNames(`\`${body}\``)) return true;
  if (/[fF]/.test(prefix)) {
    // The value itself (`token = f"{x}hunter2"`): kept only with no literal text beside its fields (an auth scheme,
    // punctuation), as the script rules keep it; its text was shown in one line of text while a script hid it.
    if (first) return isTemplateOfNames(`f${quote}${body}${quote}`);
    const fields = body.replace(/\{\{|\}\}/g, ' ').match(/\{[^{}]*\}/g) ?? [];
    const words = body.replace(/\{\{|\}\}/g, ' ').split(/\{[^{}]*\}/);
    // A field holding a literal (`f"{'sk-…'}"`) is text, not a variable's name.
    if (isTemplateOfNames(`f${quote}${body}${quote}`) || (words.length > 1 && fields.every((f) => namesOnly(f.slice(1, -1))) && !words.some((w) => w.split(/[\s:=,;]+/).some(isCredential)))) return true;
  }
  if (HARMLESS_LITERAL.test(body)) return true;
  const after = text.slice(end, end + 20);
  const top = stack[stack.length - 1];
  if (top?.kind === 'dict' && /^[ \t]*:(?!=)/.test(after)) return true;
  if (top?.kind === 'sub' && /^[ \t]*\]/.test(after)) return true;
  if (/^[ \t]*[=!]=/.test(after) || /[=!]=[ \t]*$/.test(text.slice(Math.max(0, at - 10), at))) return true;
  if (top !== undefined && top.keyword !== '' && NOT_SECRET_KEY.test(top.keyword)) return true;
  const call = top?.call;
  if (call !== undefined) {
    const last = call.callee.slice(call.callee.lastIndexOf('.') + 1);
    if (LOOKUP_CALL.test(last) && call === top) {
      if (isCredential(body)) return false;
      const fallback = DEFAULT_TAKING.test(last) && !SECRET_STORE_READ.test(call.callee) && ((call.index > 0 && call.keyword === '') || call.keyword === 'default');
      return !fallback;
    }
  }
  return !holdsSecret(name, body);
}
