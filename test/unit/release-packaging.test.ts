/**
 * The release's packaging scripts (issue 18): the Homebrew formula rendered from SHA256SUMS, the
 * kept official checksums of the embedded Node, the Authenticode removal and the archive names.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

interface BuildBinary {
  NODE_VERSION: string;
  TARGETS: Record<string, { archive: string; npm?: { pkg: string; integrity: string } }>;
  archiveName(target: string, version: string): string;
  officialSums(version?: string): Map<string, string>;
  removeAuthenticode(buf: Buffer): Buffer;
  authenticodeEntry(buf: Buffer): { offset: number; size: number };
  checkNative(
    targets: string[],
    o: { host: string; allowMissingNative?: boolean; keytarBuilt?: boolean },
  ): string[];
}
interface Formula {
  parseSums(text: string): Map<string, string>;
  renderFormula(o: { version: string; sums: Map<string, string>; base?: string }): string;
}
const buildBinary = async () => (await import(join(ROOT, "scripts/build-binary.mjs"))) as BuildBinary;
const formula = async () => (await import(join(ROOT, "scripts/homebrew-formula.mjs"))) as Formula;

const hex = (c: string) => c.repeat(64);

describe("Homebrew formula", () => {
  const sums = [
    `${hex("a")}  gigareels_1.2.0_darwin_arm64.tar.gz`,
    `${hex("b")}  gigareels_1.2.0_darwin_x64.tar.gz`,
    `${hex("c")}  gigareels_1.2.0_linux_arm64.tar.gz`,
    `${hex("d")}  gigareels_1.2.0_linux_x64.tar.gz`,
    `${hex("e")}  gigareels_1.2.0_windows_x64.zip`,
  ].join("\n");

  it("names each macOS and Linux archive of the release with its SHA-256 from SHA256SUMS", async () => {
    const { parseSums, renderFormula } = await formula();
    const rb = renderFormula({
      version: "1.2.0",
      sums: parseSums(sums),
      base: "https://example.test/releases/",
    });
    expect(rb).toContain("class Gigareels < Formula\n");
    expect(rb).toContain('  version "1.2.0"\n');
    expect(rb).toContain(
      `    on_arm do\n      url "https://example.test/releases/download/v1.2.0/gigareels_1.2.0_darwin_arm64.tar.gz"\n      sha256 "${hex("a")}"\n`,
    );
    expect(rb).toContain(`gigareels_1.2.0_linux_x64.tar.gz"\n      sha256 "${hex("d")}"`);
    expect(rb).not.toContain("windows");
    expect(rb).toContain('bin.install "bin/gigareels"');
  });

  it("refuses SHA256SUMS without a platform's archive", async () => {
    const { parseSums, renderFormula } = await formula();
    const partial = parseSums(sums.split("\n").slice(1).join("\n"));
    expect(() => renderFormula({ version: "1.2.0", sums: partial })).toThrow(
      "SHA256SUMS has no line for gigareels_1.2.0_darwin_arm64.tar.gz",
    );
  });
});

describe("embedded Node", () => {
  it("is Node 24, and every target's archive has an official SHA-256 kept in the repo", async () => {
    const { NODE_VERSION, TARGETS, officialSums } = await buildBinary();
    expect(NODE_VERSION).toMatch(/^24\.\d+\.\d+$/);
    const sums = officialSums();
    for (const [target, t] of Object.entries(TARGETS)) {
      expect(t.archive, target).toContain(`node-v${NODE_VERSION}-`);
      expect(sums.get(t.archive), target).toMatch(/^[0-9a-f]{64}$/);
      if (t.npm) expect(t.npm.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
    // The file keeps the official format (sha256, two spaces, file name), so a line can be
    // compared with nodejs.org's SHASUMS256.txt as it is.
    const text = readFileSync(join(ROOT, `scripts/node/SHASUMS256-v${NODE_VERSION}.txt`), "utf8");
    for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^[0-9a-f]{64} {2}node-v[\w.-]+$/);
  });

  it("release archives are named gigareels_<version>_<os>_<arch>, .zip for Windows", async () => {
    const { archiveName } = await buildBinary();
    expect(archiveName("linux-x64", "1.2.0")).toBe("gigareels_1.2.0_linux_x64.tar.gz");
    expect(archiveName("darwin-arm64", "1.2.0")).toBe("gigareels_1.2.0_darwin_arm64.tar.gz");
    expect(archiveName("win-x64", "1.2.0")).toBe("gigareels_1.2.0_windows_x64.zip");
  });

  it("a foreign target is refused unless built without its native parts on purpose", async () => {
    const { checkNative } = await buildBinary();
    expect(checkNative(["linux-x64"], { host: "linux-x64" })).toEqual([]);
    expect(() => checkNative(["darwin-arm64"], { host: "linux-x64" })).toThrow(
      /darwin-arm64 is not this machine's platform \(linux-x64\): its binary would have no keytar \(OS keychain\) and no V8 code cache, and would be unsigned/,
    );
    expect(() => checkNative(["linux-x64"], { host: "linux-x64", keytarBuilt: false })).toThrow(
      /keytar's native module is not built/,
    );
    expect(checkNative(["win-x64"], { host: "linux-x64", allowMissingNative: true })).toHaveLength(1);
  });
});

describe("Authenticode removal", () => {
  /** A minimal PE32+ file: headers, 64 bytes of "code", then an 8-byte-aligned certificate table. */
  function signedPe(): Buffer {
    const pe = 0x80;
    const optional = pe + 24;
    const buf = Buffer.alloc(0x200 + 64 + 24, 0);
    buf.write("MZ", 0, "latin1");
    buf.writeUInt32LE(pe, 0x3c);
    buf.write("PE\0\0", pe, "latin1");
    buf.writeUInt16LE(0x20b, optional);
    buf.fill(0x90, 0x200, 0x240);
    buf.writeUInt32LE(0x240, optional + 112 + 32);
    buf.writeUInt32LE(24, optional + 112 + 36);
    buf.fill(0xaa, 0x240);
    buf.writeUInt32LE(0x1234, optional + 64);
    return buf;
  }

  it("cuts the certificate table, zeroes its directory entry and the checksum", async () => {
    const { removeAuthenticode, authenticodeEntry } = await buildBinary();
    const input = signedPe();
    expect(authenticodeEntry(input)).toEqual({ offset: 0x240, size: 24 });
    const out = removeAuthenticode(input);
    expect(out.length).toBe(0x240);
    expect(authenticodeEntry(out)).toEqual({ offset: 0, size: 0 });
    expect(out.subarray(0x200, 0x240).every((b) => b === 0x90)).toBe(true);
    // Unsigned stays as it is.
    expect(removeAuthenticode(out)).toBe(out);
  });

  it("refuses a table that is not at the end of the file (cutting it would lose data)", async () => {
    const { removeAuthenticode } = await buildBinary();
    const input = Buffer.concat([signedPe(), Buffer.alloc(64, 1)]);
    expect(() => removeAuthenticode(input)).toThrow(/is not at the end/);
  });
});
