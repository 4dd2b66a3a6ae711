import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Why `file` cannot serve as a PEM CA bundle, or undefined when it holds at
 * least one certificate, every one parses and no private key is in it. Node
 * ignores a `ca` without a usable certificate, so such a file would only show
 * up as every request failing with "unable to verify the first certificate".
 * Shared by every `ca_file` setting (sinks' `tls.ca_file`, Kubeflow
 * `mlmd.ca_file`, `client_ca_file`).
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
  return readCaBundle(file, 'a CA bundle');
}

/** The certificates of the PEM bundle `file` (`what` it is, as said in a problem), refused when it holds a private key. */
function readCaBundle(file: string, what: string): { certs: X509Certificate[] } | { problem: string } {
  const read = readPemFile(file, 'certificate(s)');
  if ('problem' in read) return read;
  // A CA bundle is copied to whatever trusts the CA (clients, hosts, a ConfigMap): a key in it leaks with every
  // copy. Named by its PEM label only, never a byte of it.
  const keyLabel = privateKeyLabel(read.text);
  if (keyLabel) return { problem: `${file} holds a private key (-----BEGIN ${keyLabel}-----): ${what} is handed out and must hold CA certificates only; remove the key from it (and replace that key if the file was shared)` };
  return parseCertificates(read.text, file);
}

/**
 * A config key naming a CA bundle to trust (sinks' `tls.ca_file`, Kubeflow `mlmd.ca_file`), checked as the field
 * itself (as ClientCaFile): an object's refinement is skipped once another of its keys failed.
 */
export const CaFile = z.string().min(1).superRefine((file, ctx) => {
  const problem = caFileProblem(file);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The label of the first PEM private key block in `text` (`RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`…), or undefined. */
function privateKeyLabel(text: string): string | undefined {
  return /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/.exec(text)?.[1];
}

/** The PEM certificates of `text` (read from `file`), in order, or why they cannot serve. */
function parseCertificates(text: string, file: string): { certs: X509Certificate[] } | { problem: string } {
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

/** The text of the PEM file `file`, or why it cannot be read (PEM text given in place of a path is named as such). */
function readPemFile(file: string, what: string): { text: string } | { problem: string } {
  // The PEM pasted where its path belongs: say so rather than print "cannot read -----BEGIN…: ENOENT" (or a key).
  if (file.includes('-----BEGIN')) return { problem: `is PEM text, not a file name: put the ${what} in a file and give its path` };
  try {
    if (!statSync(file).isFile()) return { problem: `${file} is not a file` };
    return { text: readFileSync(file, 'utf8') };
  } catch (err) {
    return { problem: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/**
 * Why `file` cannot serve as a bundle of CAs that issue client certificates, or undefined: a CA bundle as every
 * `ca_file` is, holding CA certificates only (a client certificate put there would verify nothing: every client refused).
 *
 * @example
 * clientCaFileProblem('/etc/mltrail/edge-1-ca.pem') // undefined, or '…: certificate 1 (CN=edge-1) is not a CA certificate …'
 */
export function clientCaFileProblem(file: string): string | undefined {
  const read = readClientCaCertificates(file);
  return 'problem' in read ? read.problem : undefined;
}

/**
 * A config key naming a client CA bundle (`server.tls.client_ca_files[]`, a Kubeflow `client_ca_file`), checked as
 * the field itself: zod skips an object's own refinements once any of its keys failed, so a check there hid the file's
 * problem behind another key's (an unset variable) until that one was fixed.
 */
export const ClientCaFile = z.string().min(1).superRefine((file, ctx) => {
  const problem = clientCaFileProblem(file);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * The certificates of the client CA bundle `file`, or why it cannot serve as one (see `clientCaFileProblem`): read
 * once, so what is checked is what is used (a file re-read while it is being replaced).
 *
 * @example
 * readClientCaCertificates('/etc/mltrail/edge-1-ca.pem') // { certs: [X509Certificate] } or { problem: '…' }
 */
export function readClientCaCertificates(file: string): { certs: X509Certificate[] } | { problem: string } {
  // The CA bundle is what clients are given to make their certificates: refused with a key in it, as every CA bundle.
  const read = readCaBundle(file, 'a client CA bundle');
  if ('problem' in read) return read;
  const i = read.certs.findIndex((cert) => !cert.ca);
  if (i < 0) return read;
  const subject = read.certs[i]!.subject.replaceAll('\n', ', ');
  return { problem: `${file}: certificate ${i + 1} (${subject}) is not a CA certificate (basicConstraints CA:TRUE): give the CA that issues the client certificates, not a client certificate` };
}

/** A file of a server's certificate and key pair that cannot serve (`in`: `cert` or `key`) and why. */
export interface KeyPairProblem {
  in: 'cert' | 'key';
  problem: string;
}

/**
 * A server's certificate chain (`certFile`, leaf first) and its private key (`keyFile`, unencrypted PEM), each read
 * and parsed, the key checked against the leaf: else every file that is wrong and why, the certificate's first. Both
 * files are read whatever the other's problem: a run that named only the certificate when both were missing left
 * the key's problem to the next run.
 *
 * @example
 * readKeyPair('/etc/mltrail/tls.crt', '/etc/mltrail/tls.key') // { cert, key, leaf } or { problems: [{ in: 'key', problem: '… does not match …' }] }
 */
export function readKeyPair(certFile: string, keyFile: string): { cert: string; key: string; leaf: X509Certificate } | { problems: KeyPairProblem[] } {
  const certText = readPemFile(certFile, 'certificate(s)');
  const certs = 'problem' in certText ? certText : parseCertificates(certText.text, certFile);
  const key = readPrivateKey(keyFile);
  const problems: KeyPairProblem[] = [];
  if ('problem' in certs) problems.push({ in: 'cert', problem: certs.problem });
  if ('problem' in key) problems.push({ in: 'key', problem: key.problem });
  if ('problem' in certs || 'problem' in key || 'problem' in certText) return { problems };
  const leaf = certs.certs[0]!;
  if (!leaf.checkPrivateKey(key.key)) {
    // A chain written CA first (a bundle concatenated the other way round): the key is right, the order is not.
    const later = certs.certs.findIndex((c, i) => i > 0 && c.checkPrivateKey(key.key));
    if (later > 0) {
      return { problems: [{ in: 'cert', problem: `${certFile}: the key in ${keyFile} is for certificate ${later + 1} (${certs.certs[later]!.subject.replaceAll('\n', ', ')}), not the first (${leaf.subject.replaceAll('\n', ', ')}): put the server's certificate first, then its intermediates` }] };
    }
    return { problems: [{ in: 'key', problem: `${keyFile} does not match the certificate in ${certFile} (${leaf.subject.replaceAll('\n', ', ')}): give the key that certificate was made for` }] };
  }
  return { cert: certText.text, key: key.text, leaf };
}

/** The unencrypted PEM private key of `keyFile` (its text and the key), or why it cannot serve. */
function readPrivateKey(keyFile: string): { text: string; key: KeyObject } | { problem: string } {
  const read = readPemFile(keyFile, 'private key');
  if ('problem' in read) return read;
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(read.text)) return { problem: `${keyFile} holds no PEM private key (-----BEGIN PRIVATE KEY-----)` };
  // The server starts unattended: nobody is there to type a passphrase. (PKCS#8 `ENCRYPTED PRIVATE KEY`, or a
  // traditional key's `Proc-Type: 4,ENCRYPTED` header; OpenSSL's own error for them says only "interrupted".)
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(read.text)) {
    return { problem: `${keyFile} is encrypted: give an unencrypted key (no passphrase is asked for)` };
  }
  try {
    return { text: read.text, key: createPrivateKey(read.text) };
  } catch (err) {
    return { problem: `${keyFile}: the private key does not parse: ${(err as Error).message}` };
  }
}
