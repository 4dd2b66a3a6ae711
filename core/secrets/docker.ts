/** Docker configs: the auth under auths, in JSON (any escaping) and YAML. */
import { REDACTED } from './names.js';
import { LEADING_BLANKS, LEADING_BLANKS_ESCAPED, lineStart, stringEnd, yamlDepths, yamlLineBreak, yamlLines } from './yaml-lines.js';

/**
 * A docker config's `auths` object (`config.json`, `.dockerconfigjson`: `{"auths": {"<registry>": {"auth": "<base64
 * user:password>"}}}`), quoted at any depth of JSON escaping (a ConfigMap file, last-applied JSON). `auth` names no
 * secret elsewhere, so its value is hidden only under `auths`.
 */
const DOCKER_AUTHS = /(?<![\w\\])(\\*["']?)auths\1(?:\s|\\+[nrt])*:(?:\s|\\+[nrt])*\{/g;
const DOCKER_AUTH_VALUE = /((?<![\w\\])(\\*["']?)auth\2(?:\s|\\+[nrt])*:(?:\s|\\+[nrt])*\2)[A-Za-z0-9+/_-]+=*(?=\2)/g;
/** Text with the `auth` value of every registry under a docker config's `auths` hidden; the same string (===) when none. */
export function redactDockerAuths(text: string): string {
  if (!text.includes('auths')) return text;
  let yaml = text;
  for (const depth of yamlDepths(text)) yaml = redactDockerAuthsYamlAt(yaml, depth);
  return redactDockerAuthsJson(yaml);
}
/** A YAML `auths:` key line (a docker config written as YAML), group 1 its column. */
function yamlAuthsLine(depth: number): RegExp {
  let re = yamlAuthsLineAt.get(depth);
  if (!re) {
    const blank = depth === 0 ? '[ \\t]' : '(?:[ \\t]|\\\\+t)';
    yamlAuthsLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}(${blank}*(?:-${blank}+)?)(\\\\*["']|)auths\\2${blank}*:${blank}*(?:#[^\\n\\r]*)?\\r?$`)));
  }
  return re;
}
const yamlAuthsLineAt = new Map<number, RegExp>();
/** A YAML `auth: <base64>` line (quoted or not, also in an escaped string): group 1 up to the value, 3 its quote. */
const YAML_AUTH_LINE = /^((?:[ \t]|\\+t)*(\\*["']|)auth\2(?:[ \t]|\\+t)*:(?:[ \t]|\\+t)+(\\*["']|))[A-Za-z0-9+/_-]+=*(?=\3(?:[ \t]|\\+t)*(?:#.*)?\r?$)/;
/**
 * A docker config written as YAML (`auths:` then `<registry>:` then `auth: <base64>`, in a ConfigMap file or a Helm
 * values file), at any depth of escaping: every `auth` value in the lines under `auths` hidden.
 */
function redactDockerAuthsYamlAt(text: string, depth: number): string {
  const lines = yamlLines(text, depth);
  const authsLine = yamlAuthsLine(depth);
  const leading = depth === 0 ? LEADING_BLANKS : LEADING_BLANKS_ESCAPED;
  let changed = false;
  for (let i = 0; i < lines.length - 1; i++) {
    const m = lines[i]!.includes('auths') ? authsLine.exec(lines[i]!) : null;
    if (!m) continue;
    const indent = m[1]!.length;
    for (let j = i + 1; j < lines.length; j++) {
      const end = stringEnd(lines[j]!, depth);
      const own = end < 0 ? lines[j]! : lines[j]!.slice(0, end);
      if (own.trim() !== '') {
        if (leading.exec(own)![0].length <= indent) break;
        const a = YAML_AUTH_LINE.exec(own);
        if (a) {
          lines[j] = `${a[1]}${REDACTED}${lines[j]!.slice(a[0].length)}`;
          changed = true;
        }
      }
      if (end >= 0) break;
      i = j;
    }
  }
  return changed ? lines.join(yamlLineBreak(depth)) : text;
}
/** The JSON form (`{"auths": {…}}`, a flow mapping `auths: {r: {auth: x}}` too). */
function redactDockerAuthsJson(text: string): string {
  let out = '';
  let done = 0;
  for (const m of text.matchAll(DOCKER_AUTHS)) {
    if (m.index < done) continue;
    // The auths object ends at its closing brace (registries and base64 hold none), or at the text's end when cut.
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      if (c === 123 /* { */) depth++;
      else if (c === 125 /* } */ && --depth === 0) break;
    }
    out += text.slice(done, m.index) + text.slice(m.index, end).replace(DOCKER_AUTH_VALUE, `$1${REDACTED}`);
    done = end;
  }
  return done === 0 ? text : out + text.slice(done);
}
