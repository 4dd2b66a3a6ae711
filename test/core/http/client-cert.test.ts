import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { subjectAltNameEntries } from '../../../core/http/client-cert.js';

const dir = mkdtempSync(join(tmpdir(), 'mltrail-san-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate made by openssl with these SAN entries (openssl section syntax: values verbatim). */
function certWithSans(sans: string[]): X509Certificate {
  writeFileSync(join(dir, 'san.cnf'), `[req]\ndistinguished_name=dn\nx509_extensions=ext\n[dn]\n[ext]\nsubjectAltName=@alt\n[alt]\n${sans.join('\n')}\n[dir]\nCN=ops, team\n`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=t', '-config', 'san.cnf', '-keyout', 'k.pem', '-out', 'c.pem'], { cwd: dir, stdio: 'pipe' });
  return new X509Certificate(readFileSync(join(dir, 'c.pem')));
}

describe("subjectAltNameEntries reads Node's subjectaltname string (CVE-2021-44532 escaping)", () => {
  it('decodes quoted values with commas and backslashes and keeps every entry whole', () => {
    const cert = certWithSans([
      'DNS.1 = plain.example.com',
      'URI.1 = https://cluster-c.example.com/apiserver?roles=audit,webhook',
      'DNS.2 = x.example.com, DNS:cluster-b-apiserver',
      'DNS.3 = back\\\\slash', // two backslashes in the file, which openssl reads as one
      'IP.1 = 10.0.0.7',
      'email.1 = ops@example.com',
      'dirName.1 = dir',
      'RID.1 = 1.2.3.4',
    ]);
    // What Node 20 writes: quoted JSON literals where a value holds a comma or a backslash.
    expect(cert.subjectAltName).toContain('URI:"https://cluster-c.example.com/apiserver?roles=audit\\u002cwebhook"');
    expect(subjectAltNameEntries(cert.subjectAltName!)).toEqual([
      { kind: 'DNS', value: 'plain.example.com' },
      { kind: 'URI', value: 'https://cluster-c.example.com/apiserver?roles=audit,webhook' },
      { kind: 'DNS', value: 'x.example.com, DNS:cluster-b-apiserver' },
      { kind: 'DNS', value: 'back\\slash' },
      { kind: 'IP Address', value: '10.0.0.7' },
      { kind: 'email', value: 'ops@example.com' },
      { kind: 'DirName', value: 'CN=ops\\, team' },
      { kind: 'Registered ID', value: '1.2.3.4' },
    ]);
  });

  it('a string Node would not write does not parse (refused, not half-read)', () => {
    for (const bad of ['DNS:"unterminated', 'DNS:"a"b', 'DNS:"\\x41"', 'no-kind', 'DNS:a,DNS:b']) expect(subjectAltNameEntries(bad), bad).toBeUndefined();
    expect(subjectAltNameEntries('')).toEqual([]);
  });
});
