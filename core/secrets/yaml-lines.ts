/** YAML lines at any depth of JSON escaping: line splitting, escaped line breaks and quotes, line shapes. */

/**
 * The YAML line breaks in a text: real ones, and those escaped in a JSON string at any depth (`\n` in a ConfigMap file
 * kept in kubectl's last-applied JSON, `\\n` one string deeper; 2^(d-1) backslashes), by their backslash count.
 */
const ESCAPED_NEWLINE = /(?<!\\)(\\+)n/g;
/** Where a YAML line may start at that depth: the text's start, or an escaped string's opening quote. */
export function lineStart(depth: number): string {
  return depth === 0 ? '^' : `(?:^|(?<=(?:^|[^\\\\])${backslashesSource(2 ** (depth - 1) - 1)}"))`;
}
/**
 * Pattern source for `n` backslashes, as a count (`\\{n}`): written out, a string escaped 20 deep (2^19 backslashes
 * before its `n`, a 1 MB body) made a pattern V8 refuses ("Regular expression too large") and redaction threw.
 */
export function backslashesSource(n: number): string {
  return n === 0 ? '' : `\\\\{${n}}`;
}
/** A YAML sequence entry (`- x`, `-` alone). */
export const SEQUENCE_ITEM = /^-(?:[ \t]|\r?$)/;
/** A line under a key that is a nested mapping's key (`  name: x`, `- name: x`): the key's value is no scalar. */
export const YAML_MAPPING_LINE = /^[ \t]*(?:-[ \t]+)?(?:\\*["'][^"']*\\*["']|[\w.-]+)[ \t]*:(?:[ \t]|$)/;
export const LEADING_BLANKS = /^[ \t]*/;
/** The same in an escaped string, whose tabs are written `\\t` (`\\\\t` a string deeper). */
export const LEADING_BLANKS_ESCAPED = /^(?:[ \t]|\\+t)*/;
const stringEndAt = new Map<number, RegExp>();
/** Where an escaped string of that depth ends in a line (its closing quote: 2^(d-1)-1 backslashes), -1 if not in it. */
export function stringEnd(line: string, depth: number): number {
  if (depth === 0) return -1;
  let re = stringEndAt.get(depth);
  if (!re) stringEndAt.set(depth, (re = new RegExp(`(?:^|[^\\\\])(${backslashesSource(2 ** (depth - 1) - 1)}")`)));
  const m = re.exec(line);
  return m ? m.index + m[0].length - m[1]!.length : -1;
}

/** The text's lines at that depth of escaping (split at real line breaks, or at `\\n` escaped 2^(d-1) times). */
export function yamlLines(text: string, depth: number): string[] {
  if (depth === 0) return text.split('\n');
  let re = lineBreakAt.get(depth);
  if (!re) lineBreakAt.set(depth, (re = new RegExp(`(?<!\\\\)${backslashesSource(2 ** (depth - 1))}n`)));
  return text.split(re);
}
const lineBreakAt = new Map<number, RegExp>();
/** The line break that joins lines of that depth again. */
export function yamlLineBreak(depth: number): string {
  return depth === 0 ? '\n' : `${'\\'.repeat(2 ** (depth - 1))}n`;
}
/** The depths of JSON escaping at which the text holds line breaks (0: real ones), so YAML may be read there. */
export function yamlDepths(text: string): Set<number> {
  const depths = new Set<number>(text.includes('\n') ? [0] : []);
  if (text.includes('\\')) for (const m of text.matchAll(ESCAPED_NEWLINE)) if ((m[1]!.length & (m[1]!.length - 1)) === 0) depths.add(Math.log2(m[1]!.length) + 1);
  return depths;
}
/** A value on its key's line that is code going on, not YAML (`password: str = (`, `token: x,`, `key: f(`). */
export const CODE_GOES_ON = /[([{,\\:=][ \t]*\r?$/;
/** A YAML anchor or tag (`&pw`, `!!str`), and a line's end after one. */
export const YAML_PROPERTY = /^[&!]/;
export const YAML_LINE_END = /^\r?\n/;
/** A YAML block scalar's header (`|`, `>-`, `|2+`): the value follows on the next lines. */
export const YAML_BLOCK_INDICATOR = /^[|>][+-]?[1-9]?[+-]?$/;
