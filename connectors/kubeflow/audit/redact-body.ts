import { REDACTED, isSecretFlag, isSecretName, redactSecretText } from '../../../core/secrets.js';
import { redactAuditInput } from './redact.js';

const JSON_STRING = '"((?:[^"\\\\]|\\\\.)*)"';
/** `{"name":"<name>","value":"<value>"}` as the apiserver writes an env entry (name first), in text that does not parse. */
const ENV_PAIR_TEXT = new RegExp(`("name"\\s*:\\s*${JSON_STRING}\\s*,\\s*"value"\\s*:\\s*)${JSON_STRING}`, 'g');
/** A JSON patch op writing `…/env/N/value` (path first, as kubectl and client-go write ops). */
const ENV_VALUE_OP_TEXT = new RegExp(`("path"\\s*:\\s*"[^"]*/env/\\d+/value"\\s*,\\s*"value"\\s*:\\s*)${JSON_STRING}`, 'g');
/** `"--token", "value"` in a JSON args list. */
const FLAG_PAIR_TEXT = new RegExp(`"(--?[A-Za-z][\\w.-]*)"(\\s*,\\s*)${JSON_STRING}`, 'g');

/** Text-level rules for what does not parse: env pairs, `/env/N/value` ops, args flag pairs, and redactSecretText. */
function redactUnparsedText(text: string): string {
  const out = redactSecretText(text)
    .replace(ENV_PAIR_TEXT, (all, head: string, name: string) => (isSecretName(name) ? `${head}"${REDACTED}"` : all))
    .replace(ENV_VALUE_OP_TEXT, (_all, head: string) => `${head}"${REDACTED}"`)
    .replace(FLAG_PAIR_TEXT, (all, flag: string, sep: string, value: string) => (isSecretFlag(flag) && !value.startsWith('--') ? `"${flag}"${sep}"${REDACTED}"` : all));
  return out === text ? text : out;
}

/**
 * A request body of the audit route that does not parse as a whole (one bad NDJSON line, a truncated EventList), as
 * kept in quarantine: each line that parses is redacted as a rejected record is (redactAuditInput) and written back
 * compact; a line that does not gets text-level rules (env `name`/`value` pairs, `…/env/N/value` ops, secret flags
 * and assignments, URL user-info) — best effort, since what is cut off mid-object cannot be judged by its name.
 * The same bytes when nothing is hidden.
 *
 * @example
 * ingest.quarantine(AUDIT_CHANNEL, reason, redactAuditBody(body))
 */
export function redactAuditBody(body: Buffer): Buffer {
  const lines = body.toString('utf8').split('\n');
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let r: string;
    try {
      const rec: unknown = JSON.parse(line);
      const red = redactAuditInput(rec);
      r = red === rec ? line : JSON.stringify(red);
    } catch {
      r = redactUnparsedText(line);
    }
    if (r !== line) {
      lines[i] = r;
      changed = true;
    }
  }
  return changed ? Buffer.from(lines.join('\n')) : body;
}
