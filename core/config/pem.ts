import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Why `file` cannot serve as a PEM CA bundle, or undefined when it holds at
 * least one certificate and every one parses. Node ignores a `ca` without a
 * usable certificate, so such a file would only show up as every request
 * failing with "unable to verify the first certificate". Shared by every
 * `ca_file` setting (sinks' `tls.ca_file`, Kubeflow `mlmd.ca_file`, `client_ca_file`).
 *
 * @example
 * caFileProblem('/etc/ssl/splunk-ca.pem') // undefined, or 'cannot read /etc/ssl/splunk-ca.pem: ENOENT'
 */
export function caFileProblem(file: string): string | undefined {
  const read = readCaCertificates(file);
  return 'problem' in read ? read.problem : undefined;
}

/**
 * The certificates of the PEM bundle `file`, in order, or why it cannot serve as one (see `caFileProblem`).
 *
 * @example
 * readCaCertificates('/etc/mltrail/cluster-b-ca.pem') // { certs: [X509Certificate] } or { problem: 'cannot read …: ENOENT' }
 */
export function readCaCertificates(file: string): { certs: X509Certificate[] } | { problem: string } {
  // The certificate pasted where its path belongs: say so rather than print "cannot read -----BEGIN…: ENOENT".
  if (file.includes('-----BEGIN')) return { problem: 'is PEM text, not a file name: put the certificate(s) in a file and give its path' };
  let text: string;
  try {
    if (!statSync(file).isFile()) return { problem: `${file} is not a file` };
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (!blocks.length) return { problem: `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` };
  const certs: X509Certificate[] = [];
  for (const [i, pem] of blocks.entries()) {
    try {
      certs.push(new X509Certificate(pem));
    } catch (err) {
      return { problem: `${file}: certificate ${i + 1} does not parse: ${(err as Error).message}` };
    }
  }
  return { certs };
}
