import type { CliIo } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { isSecretName, redactUrlUserinfo } from '../../core/secrets.js';
import { jsonSchemaOf } from '../../core/schema/index.js';
import { Spool } from '../../core/spool/index.js';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { configErrorReport, isConfigError } from './config-errors.js';
import { common, parse, positiveInt } from './args.js';

export const checkConfigUsage = `mltrail check-config [FILE | --config FILE]

Validate a YAML config (with environment variables applied) and print the
effective settings with secrets hidden. Errors name the key path; every
problem is said in one run (unset \${VAR}s and the other keys' errors). Without a
FILE, MLTRAIL_CONFIG names it; with neither, the defaults and the environment
are checked. Invalid: an MLTRAIL_ERR_CONFIG line, then every problem, one a
line (as serve says them). Exit 0 valid, 1 invalid, 2 bad arguments.`;

export async function checkConfigCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) return (io.stdout.write(`${checkConfigUsage}\n`), 0);
  // One file a run: the others (\`check-config *.yaml\`) were not read, and the first's "ok" read as all of them valid.
  if (positionals.length > 1) throw new MltrailError('USAGE', `check-config checks one file, got ${positionals.length} (${positionals.join(', ')}): run it once per file`);
  if (positionals[0] !== undefined && values.config !== undefined && positionals[0] !== values.config) {
    throw new MltrailError('USAGE', `two files named (${positionals[0]} and --config ${values.config}): give one, as FILE or --config FILE`);
  }
  // MLTRAIL_CONFIG is the file loadConfig reads when none is named: the messages name it too (an empty value names none).
  const file = positionals[0] ?? values.config ?? (io.env.MLTRAIL_CONFIG || undefined);
  try {
    const cfg = loadConfig({ file, env: io.env });
    io.stdout.write(`${file ?? 'configuration'}: ok\n`);
    io.stdout.write(`${JSON.stringify(redact(cfg), null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.stderr.write(configErrorReport('check-config', err, file, 'invalid'));
    return 1;
  }
}

/** Names of where a secret is, not the secret: a header's name (api_key_header), a file's path (token_file). */
const NOT_SECRET_KEY = /_(header|file)$/i;
/** Webhook URLs carry their secret in the path (Slack): show only the origin. */
function redact(v: unknown, key = '', parent: Record<string, unknown> = {}): unknown {
  if (typeof v === 'string' && isSecretName(key) && !NOT_SECRET_KEY.test(key)) return '[redacted]';
  if (typeof v === 'string' && key === 'url' && 'flavor' in parent) {
    try {
      return `${new URL(v).origin}/[redacted]`;
    } catch {
      return '[redacted]';
    }
  }
  // Any URL with user-info (https://user:password@host): the credentials go, the rest stays readable.
  if (typeof v === 'string') return redactUrlUserinfo(v);
  if (Array.isArray(v)) return v.map((x) => redact(x, key, parent));
  if (v && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    return Object.fromEntries(Object.entries(obj).map(([k, x]) => [k, redact(x, k, obj)]));
  }
  return v;
}

export const schemaUsage = `mltrail schema event|alert

Print the JSON Schema (draft 2020-12) of the normalized event or alert.`;

export async function schemaCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { help: common.help });
  if (values.help) return (io.stdout.write(`${schemaUsage}\n`), 0);
  const kind = positionals[0];
  if (kind !== 'event' && kind !== 'alert') throw new MltrailError('USAGE', 'schema takes "event" or "alert"');
  io.stdout.write(`${JSON.stringify(jsonSchemaOf(kind), null, 2)}\n`);
  return 0;
}

/** Rows a `list` prints unless --limit says otherwise. */
const LIST_LIMIT = 1000;

/** How many rows a table holds (under the same filter as the listing), so a cut-off listing says so. */
function countRows(spool: Spool, table: 'dead_letters' | 'quarantine', column: 'sink' | 'channel', value: string | undefined): number {
  const sql = `SELECT COUNT(*) FROM ${table}${value === undefined ? '' : ` WHERE ${column} = ?`}`;
  return spool.db.prepare(sql).pluck().get(...(value === undefined ? [] : [value])) as number;
}

function listFooter(shown: number, total: number, what: string): string {
  if (shown >= total) return `${total} ${what}\n`;
  return `${total} ${what} in all, ${shown} shown (the oldest; --limit N shows more)\n`;
}

function openSpool(values: { config?: string; 'data-dir'?: string }, io: CliIo, check?: (cfg: ReturnType<typeof loadConfig>) => void): Spool {
  const cfg = loadConfig({ file: values.config, env: io.env, overrides: values['data-dir'] ? { data_dir: values['data-dir'] } : {} });
  check?.(cfg);
  const dir = resolve(cfg.data_dir);
  if (!existsSync(resolve(dir, 'spool.db'))) throw new MltrailError('USAGE', `no spool at ${dir} (set --data-dir or MLTRAIL_DATA_DIR)`);
  return Spool.open({ dir });
}

/** `dlq retry --to NAME` hands dead letters to a sink the bridge runs: one the config (as serve reads it) names. */
function requireConfiguredSink(name: string): (cfg: ReturnType<typeof loadConfig>) => void {
  return (cfg) => {
    const names = cfg.sinks.map((s) => s.name);
    // A sink turned off (enabled: false) runs no runner: what it is handed would be stranded again.
    if (cfg.sinks.some((s) => s.name === name && (s.config as { enabled?: boolean }).enabled === false)) {
      throw new MltrailError('USAGE', `--to ${name}: that sink is turned off (enabled: false), nothing would re-send what it is handed; name a sink that is on`);
    }
    if (!names.includes(name)) {
      throw new MltrailError('USAGE', `--to ${name}: no sink of that name in the configuration (configured: ${names.join(', ') || 'none'}); name the config serve runs with --config or MLTRAIL_CONFIG`);
    }
  };
}

export const dlqUsage = `mltrail dlq list [--sink NAME] [--limit N] [--config FILE] [--data-dir DIR]
mltrail dlq retry [--sink NAME] [--id N]... [--config FILE] [--data-dir DIR]
mltrail dlq retry --sink OLD --to NEW [--id N]... [--config FILE] [--data-dir DIR]
mltrail dlq purge (--sink NAME | --id N... | --all) [--config FILE] [--data-dir DIR]

Show records a sink refused permanently, with the reason; mark them to be
re-sent (a running bridge picks them up within a second, else at next start);
or delete them for good. Dead letters count toward spool.max_bytes.
retry --to hands the dead letters of a sink renamed or removed (OLD) to a
configured sink (NEW), which re-sends them: nothing runs under the old name.
list prints the oldest N (--limit, default ${LIST_LIMIT}) and says on stderr
how many there are in all. The spool is the data dir's: --data-dir, else
MLTRAIL_DATA_DIR, else data_dir of --config FILE (or MLTRAIL_CONFIG), else ./data.`;

export async function dlqCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, sink: { type: 'string' }, to: { type: 'string' }, id: { type: 'string', multiple: true }, limit: { type: 'string' }, all: { type: 'boolean' } });
  const sub = positionals[0];
  if (values.help || !sub) return (io.stdout.write(`${dlqUsage}\n`), values.help ? 0 : 2);
  // Before the spool is looked for: a misspelt subcommand is named as such, not as a missing spool.
  if (sub !== 'list' && sub !== 'retry' && sub !== 'purge') throw new MltrailError('USAGE', `unknown dlq subcommand "${sub}" (list, retry, purge)`);
  if (sub === 'purge' && !values.sink && !values.id?.length && !values.all) {
    throw new MltrailError('USAGE', 'dlq purge deletes dead letters for good: name them with --sink or --id, or pass --all');
  }
  if (values.to !== undefined && (sub !== 'retry' || !values.sink)) {
    throw new MltrailError('USAGE', '--to goes with dlq retry --sink OLD: it hands the dead letters of sink OLD to sink NEW');
  }
  const limit = positiveInt(values.limit, '--limit', LIST_LIMIT);
  const spool = openSpool(values, io, values.to !== undefined ? requireConfiguredSink(values.to) : undefined);
  try {
    if (sub === 'list') {
      const rows = spool.listDeadLetters({ sink: values.sink, limit });
      for (const d of rows) {
        io.stdout.write(
          `${JSON.stringify({ dlq_id: d.dlq_id, sink: d.sink, kind: d.kind, record_id: d.record_id, status: d.status, attempts: d.attempts, reason: d.reason, added: new Date(d.added).toISOString() })}\n`,
        );
      }
      io.stderr.write(listFooter(rows.length, countRows(spool, 'dead_letters', 'sink', values.sink), 'dead letter(s)'));
      return 0;
    }
    if (sub === 'retry' && values.to !== undefined) {
      const ids = idNumbers(values.id, 'dlq_id');
      const n = spool.moveDeadLetters({ from: values.sink!, to: values.to, ids });
      io.stdout.write(`${n} dead letter(s) of ${values.sink} handed to ${values.to} and marked for re-sending\n`);
      return 0;
    }
    if (sub === 'retry') {
      const n = spool.markDeadLettersForRetry({ sink: values.sink, ids: idNumbers(values.id, 'dlq_id') });
      io.stdout.write(`${n} dead letter(s) marked for re-sending\n`);
      return 0;
    }
    const n = spool.purgeDeadLetters({ sink: values.sink, ids: idNumbers(values.id, 'dlq_id'), all: values.all });
    io.stdout.write(`${n} dead letter(s) deleted\n`);
    return 0;
  } finally {
    spool.close();
  }
}

export const quarantineUsage = `mltrail quarantine list [--channel CH] [--body] [--limit N] [--config FILE] [--data-dir DIR]
mltrail quarantine purge (--channel CH | --id N... | --all) [--config FILE] [--data-dir DIR]

Show input that could not be parsed or validated, with the reason (--body
prints the kept bytes, base64 when not UTF-8 text); or delete it for good once
inspected. Quarantined input counts toward spool.max_bytes. list prints the
oldest N (--limit, default ${LIST_LIMIT}) and says on stderr how many there are
in all. The spool is the data dir's: --data-dir, else MLTRAIL_DATA_DIR, else
data_dir of --config FILE (or MLTRAIL_CONFIG), else ./data.`;

export async function quarantineCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, channel: { type: 'string' }, body: { type: 'boolean' }, limit: { type: 'string' }, id: { type: 'string', multiple: true }, all: { type: 'boolean' } });
  const sub = positionals[0];
  if (values.help || !sub) return (io.stdout.write(`${quarantineUsage}\n`), values.help ? 0 : 2);
  if (sub !== 'list' && sub !== 'purge') throw new MltrailError('USAGE', `unknown quarantine subcommand "${sub}" (list, purge)`);
  if (sub === 'purge' && !values.channel && !values.id?.length && !values.all) {
    throw new MltrailError('USAGE', 'quarantine purge deletes kept input for good: name it with --channel or --id, or pass --all');
  }
  const limit = positiveInt(values.limit, '--limit', LIST_LIMIT);
  const spool = openSpool(values, io);
  try {
    if (sub === 'purge') {
      const n = spool.purgeQuarantine({ channel: values.channel, ids: idNumbers(values.id, 'q_id'), all: values.all });
      io.stdout.write(`${n} quarantined input(s) deleted\n`);
      return 0;
    }
    const rows = spool.listQuarantine({ channel: values.channel, limit });
    for (const q of rows) {
      const text = q.body.toString('utf8');
      const isText = Buffer.from(text, 'utf8').equals(q.body);
      const out: Record<string, unknown> = { q_id: q.q_id, channel: q.channel, reason: q.reason, bytes: q.body.length, meta: q.meta, added: new Date(q.added).toISOString() };
      if (values.body) out[isText ? 'body' : 'body_base64'] = isText ? text : q.body.toString('base64');
      io.stdout.write(`${JSON.stringify(out)}\n`);
    }
    io.stderr.write(listFooter(rows.length, countRows(spool, 'quarantine', 'channel', values.channel), 'quarantined input(s)'));
    return 0;
  } finally {
    spool.close();
  }
}

/** `--id` values as integers, or a usage error naming the bad one. */
function idNumbers(ids: string[] | undefined, what: string): number[] {
  return (ids ?? []).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new MltrailError('USAGE', `--id takes a ${what} number, got "${s}"`);
    return n;
  });
}
