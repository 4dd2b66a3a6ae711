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

/** Whether `err` is a config error to say with configProblemLines. */
export function isConfigError(err: unknown): err is MltrailError {
  return err instanceof MltrailError && err.kind === 'CONFIG';
}
