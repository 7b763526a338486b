/**
 * Which certificate authority a verified TLS connection rests on, and where Node found it:
 * its bundled (Mozilla) store, the file named by NODE_EXTRA_CA_CERTS, or the system's
 * OpenSSL store (--use-openssl-ca). For `gigareels doctor`; verification itself is Node's.
 */
import { readFileSync } from "node:fs";
import { type DetailedPeerCertificate, rootCertificates } from "node:tls";

export interface TrustAnchor {
  /** The CA's common name (or organisation, or the whole subject). */
  name: string;
  /** "bundled": Node's CA store; "extra": NODE_EXTRA_CA_CERTS; "system": the OS/OpenSSL store. */
  store: "bundled" | "extra" | "system";
  /** The NODE_EXTRA_CA_CERTS file, for "extra". */
  file?: string;
}

function pemBodies(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.add(m[1]!.replace(/\s+/g, ""));
  }
  return out;
}

/** The last certificate of the chain Node verified (the trust anchor). */
export function chainTop(peer: DetailedPeerCertificate): DetailedPeerCertificate {
  let c = peer;
  for (let i = 0; i < 10 && c.issuerCertificate && c.issuerCertificate !== c; i++) {
    if (c.issuerCertificate.fingerprint256 === c.fingerprint256) break;
    c = c.issuerCertificate;
  }
  return c;
}

export function certName(subject: Record<string, string | string[]> | undefined): string {
  const v = subject?.CN ?? subject?.O;
  if (Array.isArray(v)) return v.join(", ");
  return v ?? "an unnamed CA";
}

/** Where the anchor of a verified chain comes from. */
export function trustAnchorOf(
  peer: DetailedPeerCertificate,
  env: NodeJS.ProcessEnv = process.env,
): TrustAnchor {
  const top = chainTop(peer);
  const name = certName(top.subject as unknown as Record<string, string>);
  const der = top.raw?.toString("base64");
  if (der && rootCertificates.some((pem) => pemBodies(pem).has(der))) return { name, store: "bundled" };
  const file = env.NODE_EXTRA_CA_CERTS;
  if (der && file) {
    try {
      if (pemBodies(readFileSync(file, "utf8")).has(der)) return { name, store: "extra", file };
    } catch {}
  }
  return { name, store: "system" };
}

/** NODE_EXTRA_CA_CERTS names a file Node could not use (Node only warns at start-up): why, else null. */
export function extraCaProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `NODE_EXTRA_CA_CERTS=${file} cannot be read (${code === "ENOENT" ? "no such file" : code}), so Node ignored it`;
  }
  if (pemBodies(text).size === 0)
    return `NODE_EXTRA_CA_CERTS=${file} holds no PEM certificate, so Node ignored it`;
  return null;
}
