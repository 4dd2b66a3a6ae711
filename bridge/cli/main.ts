#!/usr/bin/env node
// First: signal handling that must exist before the other modules load (see early-signals).
import './early-signals.js';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliCommand, CliIo } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';

/**
 * Every command: built-ins, then those connectors and sinks contribute. Loaded on demand, so that this
 * module (the process's entry) installs its early signal handling before the rest of the code loads.
 */
export async function allCommands(): Promise<CliCommand[]> {
  const [{ connectorPlugins }, admin, { rulesCommand, rulesUsage }, { normalizeCommand, normalizeUsage, replayCommand, replayUsage }, { serveCommand, serveUsage }, { extraCommands }] = await Promise.all([
    import('../../connectors/index.js'),
    import('./admin.js'),
    import('./rules.js'),
    import('./normalize.js'),
    import('./serve.js'),
    import('./extra.js'),
  ]);
  const builtins: CliCommand[] = [
    { name: 'serve', summary: 'start the bridge', usage: serveUsage, run: serveCommand },
    { name: 'normalize', summary: 'normalize native records to events (or OCSF/ECS/UDM/CIM)', usage: normalizeUsage, run: normalizeCommand },
    { name: 'replay', summary: 'run files through rules in event-time order, print alerts', usage: replayUsage, run: replayCommand },
    { name: 'check-config', summary: 'validate a config file', usage: admin.checkConfigUsage, run: admin.checkConfigCommand },
    { name: 'schema', summary: 'print the JSON Schema of events or alerts', usage: admin.schemaUsage, run: admin.schemaCommand },
    { name: 'rules', summary: 'list (and tune) the alert rules', usage: rulesUsage, run: rulesCommand },
    { name: 'dlq', summary: 'list, re-send or purge dead-lettered records', usage: admin.dlqUsage, run: admin.dlqCommand },
    { name: 'quarantine', summary: 'list or purge quarantined input', usage: admin.quarantineUsage, run: admin.quarantineCommand },
  ];
  return [...builtins, ...connectorPlugins.flatMap((p) => p.commands ?? []), ...extraCommands];
}

function help(commands: CliCommand[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return `mltrail — security telemetry for ML pipelines

Usage: mltrail <command> [options]   (mltrail <command> --help for details)
       mltrail --version                 print the version

Commands:
${commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}
`;
}

function groupHelp(word: string, group: CliCommand[]): string {
  const subs = group.map((c) => ({ sub: c.name.split(' ').slice(1).join(' '), summary: c.summary }));
  const w = Math.max(...subs.map((x) => x.sub.length));
  return `Usage: mltrail ${word} <subcommand> [options]   (mltrail ${word} <subcommand> --help for details)

Subcommands:
${subs.map((x) => `  ${x.sub.padEnd(w)}  ${x.summary}`).join('\n')}
`;
}

/**
 * Run the CLI; returns the exit code (0 ok, 1 some input rejected / check
 * failed, 2 unusable input or arguments).
 *
 * @example
 * process.exitCode = await main(['normalize', 'trail.json'], { stdout: process.stdout, … });
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const commands = await allCommands();
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(help(commands));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    io.stdout.write('mltrail 0.1.0\n');
    return 0;
  }
  // Longest match first, so `backfill vertex` wins over a hypothetical `backfill`.
  const byLength = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  const cmd = byLength.find((c) => {
    const words = c.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  });
  if (!cmd) {
    // The first word of two-word commands (`backfill vertex`, `setup elastic`) is a group: it lists them.
    const group = commands.filter((c) => c.name.split(' ').length > 1 && c.name.split(' ')[0] === argv[0]);
    if (group.length) {
      const sub = argv[1];
      if (sub === '--help' || sub === '-h' || sub === 'help') return (io.stdout.write(groupHelp(argv[0]!, group)), 0);
      if (sub === undefined) return (io.stderr.write(groupHelp(argv[0]!, group)), 2);
      io.stderr.write(`mltrail: unknown ${argv[0]} subcommand "${sub}"\n\n${groupHelp(argv[0]!, group)}`);
      return 2;
    }
    io.stderr.write(`mltrail: unknown command "${argv[0]}"\n\n${help(commands)}`);
    return 2;
  }
  const rest = argv.slice(cmd.name.split(' ').length);
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof MltrailError) {
      io.stderr.write(`mltrail ${cmd.name}: ${err.code}: ${err.message}\n`);
      if (err.kind === 'USAGE') io.stderr.write(`\n${cmd.usage}\n`);
      return err.kind === 'USAGE' || err.kind === 'CONFIG' || err.kind === 'NOT_IMPLEMENTED' || err.kind === 'OUTPUT' ? 2 : 1;
    }
    io.stderr.write(`mltrail ${cmd.name}: MLTRAIL_ERR_INTERNAL: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

const invokedDirectly = (() => {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  // `mltrail … | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    // Disk full or another write fault: what was printed is incomplete. Say so in one line (exit 2).
    process.stderr.write(`mltrail: MLTRAIL_ERR_OUTPUT: cannot write to standard output: ${err.code ?? err.message}\n`);
    process.exit(2);
  });
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`mltrail: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
