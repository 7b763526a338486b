/**
 * A throwaway certificate authority for the tests (openssl): a CA certificate, and a server
 * certificate it signed for `gigareels.test`, `localhost` and 127.0.0.1. Clients trust it only
 * through NODE_EXTRA_CA_CERTS (the CA file), as behind a corporate TLS-inspecting proxy.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  /** Path of the CA certificate (PEM): the value for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  caPem: string;
  /** The server's key and certificate (PEM), for startEmulator({ tls }). */
  tls: { key: string; cert: string };
  /** The host name the certificate is for (besides localhost and 127.0.0.1). */
  host: string;
  cleanup(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync("openssl", args, { cwd, stdio: "pipe" });

export function createTestCa(host = "gigareels.test"): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "gigareels-ca-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=GigaReels Test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  openssl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${host}`], dir);
  writeFileSync(
    join(dir, "ext.cnf"),
    `subjectAltName=DNS:${host},DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.pem",
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
    ],
    dir,
  );
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    caFile: join(dir, "ca.pem"),
    caPem: read("ca.pem"),
    tls: { key: read("server.key"), cert: read("server.pem") },
    host,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
