import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCommands } from '../../../bridge/cli/main.js';
import { ROOT } from '../../helpers/fixtures.js';
import { runCli } from '../../helpers/cli.js';

/**
 * The README's CLI section and each command's `--help` name the same flags, and every flag the help names is
 * one the command takes (a flag the parser does not know is a usage error, exit 2).
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CLI_SECTION = README.slice(README.indexOf('\n## CLI\n'), README.indexOf('\n## Benchmark\n'));

/** `--long` flags in a text, `--help` left out (every command takes it). */
const flagsIn = (text: string): string[] => [...new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!))].filter((f) => f !== 'help').sort();

/** The flags the README gives a command: its CLI table row, and every `mltrail <command> …` code span. */
function readmeFlags(name: string): string[] {
  const row = CLI_SECTION.split('\n').filter((l) => l.startsWith(`| \`mltrail ${name} `) || l.startsWith(`| \`mltrail ${name}\``)).join('\n');
  const spans = [...README.matchAll(/`(mltrail [^`]+)`/g)].map((m) => m[1]!).filter((s) => s === `mltrail ${name}` || s.startsWith(`mltrail ${name} `));
  return flagsIn([row, ...spans].join('\n'));
}

describe('README CLI flags and --help agree', async () => {
  const commands = await allCommands();

  it.each(commands.map((c) => [c.name, c.usage] as const))('%s', async (name, usage) => {
    expect(readmeFlags(name), 'README vs --help').toEqual(flagsIn(usage));
    // Every flag the help names is taken (with a value, for those that take one; a boolean leaves it as a FILE).
    for (const flag of flagsIn(usage)) {
      const r = await runCli([...name.split(' '), `--${flag}`, 'x', '--help']);
      expect(r.code, `${name} --${flag}: ${r.err}`).toBe(0);
    }
  });

  it('mltrail --version is in the top-level help and the README', async () => {
    const help = await runCli(['--help']);
    expect(flagsIn(help.out)).toEqual(['version']);
    expect(CLI_SECTION).toContain('`mltrail --version`');
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^mltrail \d+\.\d+\.\d+\n$/);
  });
});
