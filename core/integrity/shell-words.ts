/**
 * The simple commands of a POSIX shell script as word lists, quotes removed, as `sh -c` would see them before
 * expansion: single and double quotes, backslash escapes and `\`-newline continuations are read, and a command ends
 * at an unquoted `;`, `&`, `|`, `&&`, `||`, `(`, `)` or newline. Enough to read what a container's script runs;
 * expansions (`$VAR`, `$(…)`) stay as written. Written by hand: no shell parser is a dependency, and a split on
 * the operators alone broke at a `;` inside quotes (a PEP 508 marker) and lost the flags after it.
 *
 * @example
 * shellCommands(`pip install 'x; python_version>"3"' \\\n --index-url=https://a/s && echo ok`)
 * // [['pip', 'install', 'x; python_version>"3"', '--index-url=https://a/s'], ['echo', 'ok']]
 */
export function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (ch === '\\') {
      const next = script[i + 1];
      i++;
      if (next === '\n' || next === undefined) continue; // a continuation joins the lines
      word += next;
      inWord = true;
    } else if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end < 0 ? script.length : end;
      word += script.slice(i + 1, stop);
      inWord = true;
      i = stop;
    } else if (ch === '"') {
      inWord = true;
      for (i++; i < script.length && script[i] !== '"'; i++) {
        // In double quotes a backslash escapes only $ ` " \ and newline.
        if (script[i] === '\\' && i + 1 < script.length && '$`"\\\n'.includes(script[i + 1]!)) {
          i++;
          if (script[i] !== '\n') word += script[i];
        } else word += script[i];
      }
    } else if (ch === '#' && !inWord) {
      const nl = script.indexOf('\n', i);
      i = (nl < 0 ? script.length : nl) - 1;
    } else if (';&|()\n'.includes(ch)) endCommand();
    else if (/\s/.test(ch)) endWord();
    else {
      word += ch;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}
