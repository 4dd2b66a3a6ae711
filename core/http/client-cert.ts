import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Context } from 'hono';

/** SAN kinds whose value names the client (as `client_cert_subjects` lists them); DirName, othername… do not. */
const NAME_KINDS = new Set(['DNS', 'URI', 'email', 'IP Address']);

/** Longest issuer chain walked; real ones are 2-3 certificates. */
const MAX_CHAIN = 10;

/** A client certificate the TLS layer of this process verified. */
export interface VerifiedClientCert {
  /** Subject CN(s) and DNS / URI / email / IP SAN values, decoded. */
  names: string[];
  /** The peer's certificate, then its issuers as the TLS layer found them (unverified links: see `issuedByAny`). */
  chain: X509Certificate[];
}

/**
 * The entries of Node's `subjectaltname` / `X509Certificate.subjectAltName` string, or undefined when it does not
 * parse. Entries are `Kind:value` joined by `, `; since CVE-2021-44532 a value holding a comma, a quote or other
 * unsafe characters is written as a JSON string literal (`DNS:"a\u002c b"`), so splitting at commas both cuts such
 * a value apart and leaves it quoted. Written here because Node's own parser (used by `tls.checkServerIdentity`)
 * is not exported.
 *
 * @example
 * subjectAltNameEntries('DNS:a.example, URI:"spiffe://c/x\\u002cy"') // [{kind:'DNS',value:'a.example'},{kind:'URI',value:'spiffe://c/x,y'}]
 */
export function subjectAltNameEntries(san: string): Array<{ kind: string; value: string }> | undefined {
  const out: Array<{ kind: string; value: string }> = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) return undefined;
    const kind = san.slice(i, colon);
    let end: number;
    let value: string;
    if (san[colon + 1] === '"') {
      // A JSON string literal: up to the first quote not escaped.
      end = colon + 2;
      while (end < san.length && san[end] !== '"') end += san[end] === '\\' ? 2 : 1;
      if (end >= san.length) return undefined;
      end++;
      try {
        value = JSON.parse(san.slice(colon + 1, end)) as string;
      } catch {
        return undefined;
      }
    } else {
      // A plain value holds no comma, quote or backslash (Node quotes one that does).
      const sep = san.indexOf(', ', colon + 1);
      end = sep < 0 ? san.length : sep;
      value = san.slice(colon + 1, end);
      if (/[,"\\]/.test(value)) return undefined;
    }
    out.push({ kind, value });
    if (end === san.length) break;
    if (!san.startsWith(', ', end)) return undefined;
    i = end + 2;
  }
  return out;
}

/**
 * The client certificate the TLS layer of this process verified (`requestCert` + `ca`), or undefined: plain HTTP,
 * no certificate, one that did not verify, or a SAN string that does not parse (refused rather than half-read).
 */
export function verifiedClientCert(c: Context): VerifiedClientCert | undefined {
  const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket as TLSSocket | undefined;
  // `authorizationError` too: after a renegotiation presenting another certificate `authorized` stays true while the
  // new one failed verification (the server refuses renegotiation, bridge/tls.ts; this holds for any server).
  if (!socket || !(socket as { encrypted?: boolean }).encrypted || !socket.authorized || socket.authorizationError) return undefined;
  const cert = socket.getPeerCertificate(true);
  if (!cert || !cert.subject || !cert.raw) return undefined;
  const names: string[] = [];
  const cn = cert.subject.CN;
  if (cn) names.push(...(Array.isArray(cn) ? cn : [cn]));
  const sans = cert.subjectaltname ? subjectAltNameEntries(cert.subjectaltname) : [];
  if (!sans) return undefined;
  for (const { kind, value } of sans) if (NAME_KINDS.has(kind) && value) names.push(value);
  return { names, chain: peerChain(cert) };
}

/**
 * A client certificate that was presented but that the TLS layer did not verify (issued by no trusted client CA,
 * expired…): its subject CN(s) and why (Node's `authorizationError`, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`). It
 * names no one; it only lets a refusal say that a certificate came and was not trusted, not that none came.
 */
export function unverifiedClientCert(c: Context): { names: string[]; error: string } | undefined {
  const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket as TLSSocket | undefined;
  if (!socket || !(socket as { encrypted?: boolean }).encrypted || socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  const cn = cert.subject?.CN;
  return { names: cn ? (Array.isArray(cn) ? cn : [cn]) : [], error: String(socket.authorizationError ?? 'not verified') };
}

/** The peer certificate and the issuers Node attached to it, leaf first, up to a self-issued root. */
function peerChain(cert: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cur: DetailedPeerCertificate | undefined = cert;
  const seen = new Set<DetailedPeerCertificate>();
  while (cur?.raw && !seen.has(cur) && chain.length < MAX_CHAIN) {
    seen.add(cur);
    chain.push(new X509Certificate(cur.raw));
    cur = cur.issuerCertificate;
  }
  return chain;
}

/**
 * Whether the chain's leaf was issued, directly or through CA certificates of the chain, by one of `cas`. Every
 * link is checked by signature, not by name: the intermediates come from the peer, and two CAs may share a name
 * (every kubeadm cluster's is CN=kubernetes), so Node may attach the wrong one. Each certificate is tried against
 * `cas` directly, which also finds a pinned CA that Node's name lookup passed over.
 */
export function issuedByAny(chain: readonly X509Certificate[], cas: readonly X509Certificate[]): boolean {
  for (let i = 0; i < chain.length; i++) {
    const cur = chain[i]!;
    if (cas.some((ca) => cur.checkIssued(ca) && cur.verify(ca.publicKey))) return true;
    const next = chain[i + 1];
    if (!next || !next.ca || !cur.checkIssued(next) || !cur.verify(next.publicKey)) return false;
  }
  return false;
}
