#!/usr/bin/env node
// Builds the Debian package of a Linux binary with dpkg-deb:
//
//   node scripts/package-deb.mjs --target linux-x64|linux-arm64 [--binary FILE] [--out DIR]
//
// gigareels_<version>_<amd64|arm64>.deb installs /usr/bin/gigareels, with the licence in
// /usr/share/doc/gigareels/copyright. The binary loads libsecret for the OS keychain when it is
// there (Recommends), and falls back to a file otherwise. `gigareels version` then says "Debian
// package" (src/lib/version/info.ts looks for /var/lib/dpkg/info/gigareels.list).
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const DEB_ARCH = { "linux-x64": "amd64", "linux-arm64": "arm64" };

export const debName = (version, target) => `gigareels_${version}_${DEB_ARCH[target]}.deb`;

export function buildDeb({ target, binary, out, version }) {
  const arch = DEB_ARCH[target];
  if (!arch)
    throw new Error(`no Debian architecture for ${target} (one of ${Object.keys(DEB_ARCH).join(", ")})`);
  const stage = join(root, "build/stage", `deb-${target}`);
  rmSync(stage, { recursive: true, force: true });
  for (const d of ["DEBIAN", "usr/bin", "usr/share/doc/gigareels"])
    mkdirSync(join(stage, d), { recursive: true });
  copyFileSync(binary, join(stage, "usr/bin/gigareels"));
  chmodSync(join(stage, "usr/bin/gigareels"), 0o755);
  const license = readFileSync(join(root, "LICENSE"), "utf8");
  writeFileSync(
    join(stage, "usr/share/doc/gigareels/copyright"),
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: gigareels
Source: https://github.com/gigareels/gigareels-cli

Files: *
License: MIT
${license
  .split("\n")
  .map((l) => (l.trim() === "" ? " ." : ` ${l}`))
  .join("\n")}
`,
  );
  const installedKb = Math.ceil(readFileSync(binary).length / 1024);
  writeFileSync(
    join(stage, "DEBIAN/control"),
    `Package: gigareels
Version: ${version}
Architecture: ${arch}
Maintainer: The GigaReels authors <support@gigareels.com>
Installed-Size: ${installedKb}
Recommends: libsecret-1-0
Section: video
Priority: optional
Homepage: https://github.com/gigareels/gigareels-cli
Description: command-line interface for the GigaReels video API
 Renders videos from text with the GigaReels API, follows renders and
 downloads the results. A standalone binary with Node.js inside.
`,
  );
  mkdirSync(out, { recursive: true });
  const file = join(out, debName(version, target));
  rmSync(file, { force: true });
  // gzip: xz takes minutes on a 120 MB binary for a few MB less.
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", stage, file], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  rmSync(stage, { recursive: true, force: true });
  return file;
}

function main(argv) {
  const opts = { out: join(root, "build") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--target") opts.target = argv[++i];
    else if (a === "--binary") opts.binary = argv[++i];
    else if (a === "--out") opts.out = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.target)
    throw new Error("usage: package-deb.mjs --target linux-x64|linux-arm64 [--binary FILE] [--out DIR]");
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  const binary = opts.binary ?? join(root, "build", `gigareels-${opts.target}`);
  const file = buildDeb({ target: opts.target, binary, out: opts.out, version });
  process.stderr.write(`package-deb: ${file}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`package-deb: ${error.message}\n`);
    process.exit(1);
  }
}
