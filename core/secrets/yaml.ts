/** YAML values written on the lines under their key (block scalars, plain values, lists), explicit keys too. */
import { holdsSecret, isSecretKey, REDACTED } from './names.js';
import { LEADING_BLANKS, LEADING_BLANKS_ESCAPED, lineStart, SEQUENCE_ITEM, stringEnd, YAML_MAPPING_LINE, yamlDepths, yamlLineBreak, yamlLines } from './yaml-lines.js';
import { redactYamlSpansAt } from './yaml-spans.js';

/**
 * A YAML line holding only a key (`password:`, `"api_key": |`, `token: >- # note`, `- token:` in a list): its value is
 * on the lines under it (a block scalar, or a plain scalar continued there); group 1 is its column. In an escaped string the key may follow the string's
 * opening quote (`{\"config.yaml\":\"password: |\n…`).
 */
function yamlKeyLine(depth: number): RegExp {
  let re = yamlKeyLineAt.get(depth);
  if (!re) {
    const blank = depth === 0 ? '[ \\t]' : '(?:[ \\t]|\\\\+t)';
    re = new RegExp(`${lineStart(depth)}(${blank}*(?:-${blank}+)*)(\\\\*["']|)([A-Za-z_][\\w.-]*)\\2${blank}*:(?:[ \\t]+[&!][^\\s#]*)*[ \\t]*([|>][+-]?[1-9]?[+-]?)?[ \\t]*(?:#[^\\n\\r]*)?\\r?$`);
    yamlKeyLineAt.set(depth, re);
  }
  return re;
}
const yamlKeyLineAt = new Map<number, RegExp>();
/** An explicit YAML key (`? password`, `? "api_key"`), group 1 its column, 3 its name; its value follows on a ':' line. */
function explicitKeyLine(depth: number): RegExp {
  let re = explicitKeyLineAt.get(depth);
  if (!re) explicitKeyLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}([ \\t]*(?:-[ \\t]+)*)\\?[ \\t]+(\\\\*["']|)([A-Za-z_][\\w.-]*)\\2[ \\t]*(?:#[^\\n\\r]*)?\\r?$`)));
  return re;
}
const explicitKeyLineAt = new Map<number, RegExp>();
/** The ':' line of an explicit key's value: group 1 its column. */
function explicitValueLine(depth: number): RegExp {
  let re = explicitValueLineAt.get(depth);
  if (!re) explicitValueLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}([ \\t]*):`)));
  return re;
}
const explicitValueLineAt = new Map<number, RegExp>();
/** A value on an explicit key's ':' line (after its blanks, an anchor or tag kept): not a block indicator or a comment. */
const EXPLICIT_INLINE_VALUE = /^([ \t]+(?:[&!][^\s#]*[ \t]+)*)([^\s#|>&!](?:[^\r]*[^\s])?)[ \t]*\r?$/;
/**
 * A secret-named YAML key's value written on the lines under it — a block scalar (`password: |`, `private_key: >-`)
 * or a plain scalar or list continued there (`password:` then the value indented on the next line) — hidden as one
 * `[redacted]` line at the first line's indentation; the `|` indicator, blank lines after, and the next keys stay.
 * Read at every depth of JSON escaping the text holds (a YAML file inside last-applied JSON, inside a JSON file): an
 * escaped string ends the value at its closing quote. A nested mapping under the key is left to the key rules.
 */
export function redactYamlValuesUnder(text: string): string {
  const depths = yamlDepths(text);
  let out = text;
  for (const depth of depths) out = redactYamlValuesAt(out, depth);
  // Real lines are redactMultiLineStrings' and redactYamlPlainContinued's.
  for (const depth of depths) if (depth > 0) out = redactYamlSpansAt(out, depth);
  return out;
}
function redactYamlValuesAt(text: string, depth: number): string {
  const nl = yamlLineBreak(depth);
  const lines = yamlLines(text, depth);
  if (lines.length < 2) return text;
  const keyLine = yamlKeyLine(depth);
  const leading = depth === 0 ? LEADING_BLANKS : LEADING_BLANKS_ESCAPED;
  let changed = false;
  for (let i = 0; i < lines.length - 1; i++) {
    let m = keyLine.exec(lines[i]!);
    if (!m && lines[i]!.includes('?')) {
      // An explicit key (`? password`, then `: value` at its column): the value is judged on the ':' line, or under it.
      const k = explicitKeyLine(depth).exec(lines[i]!);
      const v = k && isSecretKey(k[3]!) ? explicitValueLine(depth).exec(lines[i + 1]!) : null;
      if (!v || v[1]!.length !== k![1]!.length) continue;
      const end = stringEnd(lines[i + 1]!, depth);
      const own = end < 0 ? lines[i + 1]! : lines[i + 1]!.slice(0, end);
      const inline = EXPLICIT_INLINE_VALUE.exec(own.slice(v[0].length));
      if (inline) {
        if (inline[2] !== REDACTED && holdsSecret(k![3]!, inline[2]!)) {
          lines[i + 1] = `${v[0]}${inline[1]}${REDACTED}${own.endsWith('\r') ? '\r' : ''}${end < 0 ? '' : lines[i + 1]!.slice(end)}`;
          changed = true;
        }
        continue;
      }
      // `:` alone or a block indicator: the lines under it are the value, as under a key line.
      i++;
      m = keyLine.exec(`${v[1]}${k![3]}:${own.slice(v[1]!.length + 1)}`);
      if (!m) continue;
    }
    if (!m || !isSecretKey(m[3]!)) continue;
    const indent = m[1]!.length;
    // The value's lines: deeper than the key (blank lines among them), up to the last deeper one or the string's end.
    let last = -1;
    let tail = '';
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!;
      const end = stringEnd(line, depth);
      const own = end < 0 ? line : line.slice(0, end);
      if (own.trim() === '') {
        if (end >= 0) break;
        continue;
      }
      const lineIndent = leading.exec(own)![0].length;
      // A plain key's list may be written at the key's own indentation (`tokens:` then `- x`, as kubectl writes YAML).
      if (lineIndent < indent || (lineIndent === indent && !(m[4] === undefined && SEQUENCE_ITEM.test(own.slice(indent))))) break;
      // A plain key's value is a scalar or a list of scalars; a mapping under it is judged key by key. Told by its first
      // line, before reading further: nested keys each read every deeper line, cubic in a staircase of indented keys.
      if (last < 0 && m[4] === undefined && YAML_MAPPING_LINE.test(own)) break;
      last = j;
      if (end >= 0) {
        tail = line.slice(end);
        break;
      }
    }
    if (last < 0) continue;
    const first = lines.slice(i + 1, last + 1).find((l) => l.trim() !== '')!;
    const lead = leading.exec(first)![0];
    const body = lines.slice(i + 1, last + 1).join('\n').trim();
    if (body === REDACTED || body === `- ${REDACTED}`) continue;
    // A CRLF file keeps its line ends.
    const cr = tail === '' && lines[last]!.endsWith('\r') ? '\r' : '';
    lines.splice(i + 1, last - i, `${lead}${lead.length === indent ? '- ' : ''}${REDACTED}${tail}${cr}`);
    changed = true;
  }
  return changed ? lines.join(nl) : text;
}
