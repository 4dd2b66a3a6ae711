import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { issuedByAny, subjectAltNameEntries } from '../../../core/http/client-cert.js';

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

describe('issuedByAny checks each link by signature, not by name', () => {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (f: string) => new X509Certificate(readFileSync(join(dir, f)));
  /** Two CAs of one name (as every kubeadm cluster's CN=kubernetes), an intermediate under the first, and leaves without a key id. */
  function pki() {
    for (const ca of ['ca-1', 'ca-2']) ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kubernetes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`);
    writeFileSync(join(dir, 'int.cnf'), '[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=int', '-keyout', 'int.key', '-out', 'int.csr');
    ssl('x509', '-req', '-in', 'int.csr', '-CA', 'ca-1.pem', '-CAkey', 'ca-1.key', '-CAcreateserial', '-days', '1', '-extfile', 'int.cnf', '-extensions', 'ext', '-out', 'int.pem');
    for (const [leaf, ca] of [['leaf-2', 'ca-2'], ['leaf-int', 'int']]) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=apiserver', '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`);
      ssl('x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-out', `${leaf}.pem`);
    }
    return { ca1: read('ca-1.pem'), ca2: read('ca-2.pem'), int: read('int.pem'), leaf2: read('leaf-2.pem'), leafInt: read('leaf-int.pem') };
  }

  it("a same-named CA is not the issuer, even where the chain puts it there; a signed intermediate leads to its root", () => {
    const p = pki();
    // Names alone match: the leaf of CA 2 reads as issued by CA 1.
    expect(p.leaf2.checkIssued(p.ca1)).toBe(true);
    expect(issuedByAny([p.leaf2, p.ca1], [p.ca1])).toBe(false);
    expect(issuedByAny([p.leaf2, p.ca1], [p.ca2])).toBe(true);
    expect(issuedByAny([p.leafInt, p.int, p.ca1], [p.ca1])).toBe(true);
    expect(issuedByAny([p.leafInt, p.int, p.ca1], [p.int])).toBe(true);
    expect(issuedByAny([p.leafInt, p.int, p.ca1], [p.ca2])).toBe(false);
    // A peer-sent "intermediate" that did not sign the leaf leads nowhere.
    expect(issuedByAny([p.leaf2, p.int, p.ca1], [p.ca1])).toBe(false);
  });
});
