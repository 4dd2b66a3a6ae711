/** YAML values begun on their key's line and going on over the next ones: quoted or plain, in escaped JSON too. */
import { holdsSecret, isSecretKey, REDACTED, SECRET_NAME } from './names.js';
import { backslashesSource, CODE_GOES_ON, LEADING_BLANKS, LEADING_BLANKS_ESCAPED, lineStart, stringEnd, YAML_MAPPING_LINE, yamlLineBreak, yamlLines } from './yaml-lines.js';

/** A YAML key line with its value begun on it, in an escaped string of that depth: group 1 the key's column, 3 its name, 5 the value. */
function yamlValueLine(depth: number): RegExp {
  let re = yamlValueLineAt.get(depth);
  if (!re) {
    const blank = '(?:[ \\t]|\\\\+t)';
    yamlValueLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}(${blank}*(?:-${blank}+)?)(\\\\*["']|)([A-Za-z_][\\w.-]*)\\2(${blank}*:${blank}+(?:[&!][^\\s#\\\\]*${blank}+)*)(\\S.*)$`)));
  }
  return re;
}
const yamlValueLineAt = new Map<number, RegExp>();
/** A double quote inside a string of that depth (2^d-1 backslashes before it), not one escaped in YAML too. */
function escapedQuote(depth: number): RegExp {
  let re = escapedQuoteAt.get(depth);
  if (!re) escapedQuoteAt.set(depth, (re = new RegExp(`(?<!\\\\)${backslashesSource(2 ** depth - 1)}"`)));
  return re;
}
const escapedQuoteAt = new Map<number, RegExp>();
/** A YAML single-quoted scalar's closing quote: a lone `'` (`''` is a quote inside it). */
const SINGLE_QUOTE_END = /(?<!')(?:'')*'(?!')/;
/**
 * In YAML held in an escaped string of that depth: a secret-named key's quoted value spanning lines (`password: \\"a`
 * … `b\\"`, `'a` … `b'`) and a plain value continued on more-indented lines, hidden whole on the key's line (as
 * redactMultiLineStrings and redactYamlPlainContinued do on real lines). The value ends at its string's end when cut there.
 */
export function redactYamlSpansAt(text: string, depth: number): string {
  const nl = yamlLineBreak(depth);
  const lines = yamlLines(text, depth);
  if (lines.length < 2) return text;
  const valueLine = yamlValueLine(depth);
  const dq = escapedQuote(depth);
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    if (i === lines.length - 1 || !SECRET_NAME.test(line)) continue;
    const m = valueLine.exec(line);
    // A value its string ends on this line with is the one-line rules'.
    if (!m || !isSecretKey(m[3]!) || stringEnd(m[5]!, depth) >= 0) continue;
    const value = m[5]!;
    const head = line.slice(0, m.index + m[0].length - value.length);
    const quote = dq.exec(value);
    const q = quote?.index === 0 ? quote[0] : value[0] === "'" ? "'" : '';
    let last = -1;
    let rest = '';
    if (q !== '') {
      // Quoted: up to its closing quote on a later line (one on this line is the one-line rules'), or the string's end.
      const close = q === "'" ? SINGLE_QUOTE_END : dq;
      if (close.test(value.slice(q.length))) continue;
      for (let j = i + 1; j < lines.length && last < 0; j++) {
        const end = stringEnd(lines[j]!, depth);
        const own = end < 0 ? lines[j]! : lines[j]!.slice(0, end);
        const c = close.exec(own);
        if (c) [last, rest] = [j, `${q}${own.slice(c.index + c[0].length)}${end < 0 ? '' : lines[j]!.slice(end)}`];
        else if (end >= 0) [last, rest] = [j, lines[j]!.slice(end)];
      }
    } else {
      // Plain: YAML folds the more-indented lines under the key into the value; a nested key or a comment ends it.
      if ((value !== REDACTED && /^[|>[{#&!*]/.test(value)) || CODE_GOES_ON.test(value) || !holdsSecret(m[3]!, value)) continue;
      const indent = m[1]!.length;
      for (let j = i + 1; j < lines.length; j++) {
        const end = stringEnd(lines[j]!, depth);
        const own = end < 0 ? lines[j]! : lines[j]!.slice(0, end);
        const lead = LEADING_BLANKS_ESCAPED.exec(own)![0].length;
        if (own.trim() !== '') {
          if (lead <= indent || own[lead] === '#' || YAML_MAPPING_LINE.test(own.slice(lead))) break;
          [last, rest] = [j, end < 0 ? '' : lines[j]!.slice(end)];
        }
        if (end >= 0) break;
      }
    }
    if (last < 0) continue;
    out[out.length - 1] = `${head}${q}${REDACTED}${rest}`;
    i = last;
    changed = true;
  }
  return changed ? out.join(nl) : text;
}
/**
 * A YAML key line with a plain value on it (`password: x`, `- token: x`): group 1 the key's column, 5 where its value
 * starts. Not a quoted, block, flow, anchored or commented value (those are other rules'); one the header rule hid
 * (`[redacted]`) is.
 */
const YAML_PLAIN_VALUE_LINE = /^([ \t]*(?:-[ \t]+)?)(["']?)([A-Za-z_][\w.-]*)\2([ \t]*:[ \t]+)(\[redacted\]|[^\s"'|>&!#[{](?:[^#\n]*[^\s#])?)[ \t]*\r?$/;
/**
 * A secret-named key's plain value continued on the more-indented lines under it (`password: x` then `  more`: YAML
 * folds those lines into the value) hidden whole, on the key's line; the one-line rules hid its first line only. A
 * nested key or a comment under it ends the value, as in YAML. Real line breaks only.
 */
export function redactYamlPlainContinued(text: string): string {
  if (!text.includes('\n')) return text;
  const lines = text.split('\n');
  // Built anew, not spliced: a splice per value was quadratic in a file of many.
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    if (!line.includes(':') || i === lines.length - 1) continue;
    const m = YAML_PLAIN_VALUE_LINE.exec(line);
    if (!m || CODE_GOES_ON.test(m[5]!) || !holdsSecret(m[3]!, m[5]!)) continue;
    const indent = m[1]!.length;
    let last = -1;
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j]!;
      if (next.trim() === '') continue;
      const lead = LEADING_BLANKS.exec(next)![0].length;
      if (lead <= indent || next[lead] === '#' || YAML_MAPPING_LINE.test(next)) break;
      last = j;
    }
    if (last < 0) continue;
    const cr = lines[last]!.endsWith('\r') ? '\r' : '';
    out[out.length - 1] = `${line.slice(0, m[1]!.length + m[2]!.length * 2 + m[3]!.length + m[4]!.length)}${REDACTED}${cr}`;
    i = last;
    changed = true;
  }
  return changed ? out.join('\n') : text;
}
