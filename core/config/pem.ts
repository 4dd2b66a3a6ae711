import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/**
 * Why `file` cannot serve as a PEM CA bundle, or undefined when it holds at
 * least one certificate and every one parses. Node ignores a `ca` without a
 * usable certificate, so such a file would only show up as every request
 * failing with "unable to verify the first certificate". Shared by every
 * `ca_file` setting (sinks' `tls.ca_file`, Kubeflow `mlmd.ca_file`).
 *
 * @example
 * caFileProblem('/etc/ssl/splunk-ca.pem') // undefined, or 'cannot read /etc/ssl/splunk-ca.pem: ENOENT'
 */
export function caFileProblem(file: string): string | undefined {
  let text: string;
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) return `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  for (const [i, pem] of blocks.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      return `${file}: certificate ${i + 1} does not parse: ${(err as Error).message}`;
    }
  }
  return undefined;
}
