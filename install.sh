#!/bin/sh
# Installs the standalone gigareels binary (Linux, macOS) from a GitHub release, no root needed:
#
#   curl -fsSL https://github.com/gigareels/gigareels-cli/releases/latest/download/install.sh | sh
#   sh install.sh [--version VERSION] [--prefix DIR]
#
# It detects the OS and CPU, downloads gigareels_<version>_<os>_<arch>.tar.gz and SHA256SUMS,
# checks the archive against SHA256SUMS, and puts the binary in DIR/bin (default DIR: ~/.local,
# so ~/.local/bin/gigareels). Without --version it installs the latest release.
# GIGAREELS_DOWNLOAD_BASE replaces https://github.com/gigareels/gigareels-cli/releases (a mirror
# with the same layout: <base>/download/v<version>/<file> and <base>/latest/download/<file>).
set -eu

BASE="${GIGAREELS_DOWNLOAD_BASE:-https://github.com/gigareels/gigareels-cli/releases}"
BASE="${BASE%/}"
VERSION=""
PREFIX="${HOME:-}/.local"

say() { printf '%s\n' "$*" >&2; }
die() {
  say "install.sh: $*"
  exit 1
}
usage() {
  say "Usage: install.sh [--version VERSION] [--prefix DIR]"
  say "  --version VERSION  a release such as 1.2.0 (default: the latest)"
  say "  --prefix DIR       install to DIR/bin (default: ~/.local, so ~/.local/bin)"
}

while [ $# -gt 0 ]; do
  case "$1" in
  --version)
    [ $# -ge 2 ] || die "--version needs a value, e.g. --version 1.2.0"
    VERSION="$2"
    shift 2
    ;;
  --version=*)
    VERSION="${1#--version=}"
    shift
    ;;
  --prefix)
    [ $# -ge 2 ] || die "--prefix needs a folder, e.g. --prefix \"\$HOME/.local\""
    PREFIX="$2"
    shift 2
    ;;
  --prefix=*)
    PREFIX="${1#--prefix=}"
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    usage
    die "unknown argument: $1"
    ;;
  esac
done
VERSION="${VERSION#v}"
[ -n "$PREFIX" ] || die "no install folder: pass --prefix DIR (HOME is not set)"

case "$(uname -s)" in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN*) die "on Windows use install.ps1 (PowerShell): irm $BASE/latest/download/install.ps1 | iex" ;;
*) die "no release for $(uname -s); install with npm instead: npm install --global @gigareels/sdk" ;;
esac
case "$(uname -m)" in
x86_64 | amd64) arch=x64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no release for $(uname -m) CPUs; install with npm instead: npm install --global @gigareels/sdk" ;;
esac
# An x64 shell on Apple Silicon (Rosetta) still gets the native arm64 binary.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
  arch=arm64
fi

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "needs curl or wget"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
elif command -v openssl >/dev/null 2>&1; then
  sha256() { openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1; }
else
  die "needs sha256sum, shasum or openssl to check the download"
fi

if [ -n "$VERSION" ]; then
  url="$BASE/download/v$VERSION"
else
  url="$BASE/latest/download"
fi

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t gigareels)"
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS" || die "cannot download $url/SHA256SUMS${VERSION:+ (is $VERSION a release?)}"
if [ -z "$VERSION" ]; then
  # The latest release's archive names carry its version.
  name="$(grep -oE "gigareels_[0-9][^ ]*_${os}_${arch}\.tar\.gz" "$tmp/SHA256SUMS" | head -n 1 || true)"
  [ -n "$name" ] || die "the latest release has no archive for $os-$arch"
  VERSION="${name#gigareels_}"
  VERSION="${VERSION%_"${os}"_"${arch}".tar.gz}"
else
  name="gigareels_${VERSION}_${os}_${arch}.tar.gz"
fi
expected="$(awk -v f="$name" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] || die "SHA256SUMS of $VERSION has no line for $name"

say "Downloading gigareels $VERSION ($os-$arch)"
fetch "$url/$name" "$tmp/$name" || die "cannot download $url/$name"
actual="$(sha256 "$tmp/$name")"
[ "$actual" = "$expected" ] || die "checksum mismatch for $name: expected $expected, got $actual (nothing installed)"

tar -xzf "$tmp/$name" -C "$tmp"
folder="${name%.tar.gz}"
[ -f "$tmp/$folder/bin/gigareels" ] || die "$name has no $folder/bin/gigareels"

mkdir -p "$PREFIX/bin" || die "cannot create $PREFIX/bin (choose another folder with --prefix)"
# Copy beside the target, then rename: a running gigareels is never overwritten in place.
cp "$tmp/$folder/bin/gigareels" "$PREFIX/bin/.gigareels.new.$$"
chmod 755 "$PREFIX/bin/.gigareels.new.$$"
mv -f "$PREFIX/bin/.gigareels.new.$$" "$PREFIX/bin/gigareels"

say "Installed gigareels $VERSION to $PREFIX/bin/gigareels"
case ":${PATH:-}:" in
*":$PREFIX/bin:"*) ;;
*)
  say "$PREFIX/bin is not on your PATH. Add it, e.g. in ~/.profile or ~/.zshrc:"
  say "  export PATH=\"$PREFIX/bin:\$PATH\""
  ;;
esac
