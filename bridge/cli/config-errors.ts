import { MltrailError } from '../../core/errors.js';

/**
 * The lines a config error is said in, one problem a line, each starting with the file (`configuration` when none
 * was named): what `check-config` prints, and `serve` too, so a problem reads the same from either command.
 * A message without a list of issues (a YAML error, a file that cannot be read) may already name the file: not twice.
 *
 * @example
 * configProblemLines(err, 'mltrail.yaml') // ['mltrail.yaml: server: unknown key(s): prot', 'mltrail.yaml: spool.max_bytes: …']
 */
export function configProblemLines(err: MltrailError, file: string | undefined): string[] {
  const where = `${file ?? 'configuration'}: `;
  const issues = err.extra.issues as string[] | undefined;
  if (!issues) return [`${err.message.startsWith(where) ? '' : where}${err.message}`];
  return issues.map((i) => `${where}${i}`);
}

/**
 * What `command` writes to stderr for a config error: one line with the error code (what a log alert matches) and
 * how many problems, then configProblemLines. check-config and serve say it alike, whether the error came from
 * loading the file or from a check made once it was loaded (a TLS file gone bad since, a token a non-loopback
 * address needs), so a problem reads the same from either command and at either moment.
 *
 * @example
 * configErrorReport('serve', err, 'mltrail.yaml', 'not started') // 'mltrail serve: MLTRAIL_ERR_CONFIG: not started, 2 problems in the configuration:\n…'
 */
export function configErrorReport(command: string, err: MltrailError, file: string | undefined, verdict: string): string {
  const lines = configProblemLines(err, file);
  const head = `mltrail ${command}: ${err.code}: ${verdict}, ${lines.length} problem${lines.length === 1 ? '' : 's'} in the configuration:`;
  return `${[head, ...lines].join('\n')}\n`;
}

/** Whether `err` is a config error to say with configProblemLines. */
export function isConfigError(err: unknown): err is MltrailError {
  return err instanceof MltrailError && err.kind === 'CONFIG';
}
