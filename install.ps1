# Installs the standalone gigareels binary on Windows from a GitHub release, no administrator needed:
#
#   irm https://github.com/gigareels/gigareels-cli/releases/latest/download/install.ps1 | iex
#   powershell -ExecutionPolicy Bypass -File install.ps1 [--version VERSION] [--prefix DIR]
#
# It downloads gigareels_<version>_windows_<arch>.zip and SHA256SUMS, checks the archive against
# SHA256SUMS, puts gigareels.exe in DIR\bin (default DIR: %LOCALAPPDATA%\Programs\gigareels) and
# adds that folder to the user's PATH. Without --version it installs the latest release.
# GIGAREELS_DOWNLOAD_BASE replaces https://github.com/gigareels/gigareels-cli/releases (a mirror
# with the same layout: <base>/download/v<version>/<file> and <base>/latest/download/<file>).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

function Fail([string]$Message) {
  [Console]::Error.WriteLine("install.ps1: $Message")
  exit 1
}

$Base = if ($env:GIGAREELS_DOWNLOAD_BASE) { $env:GIGAREELS_DOWNLOAD_BASE.TrimEnd('/') } else { 'https://github.com/gigareels/gigareels-cli/releases' }
$Version = ''
$Prefix = Join-Path $env:LOCALAPPDATA 'Programs\gigareels'

# --version / --prefix as install.sh takes them (also -Version / -Prefix).
for ($i = 0; $i -lt $args.Count; $i++) {
  $a = [string]$args[$i]
  switch -Regex ($a) {
    '^(--version|-Version)$' {
      if ($i + 1 -ge $args.Count) { Fail '--version needs a value, e.g. --version 1.2.0' }
      $i++; $Version = [string]$args[$i]; continue
    }
    '^--version=' { $Version = $a.Substring(10); continue }
    '^(--prefix|-Prefix)$' {
      if ($i + 1 -ge $args.Count) { Fail '--prefix needs a folder' }
      $i++; $Prefix = [string]$args[$i]; continue
    }
    '^--prefix=' { $Prefix = $a.Substring(9); continue }
    '^(-h|--help)$' {
      Write-Host 'Usage: install.ps1 [--version VERSION] [--prefix DIR]'
      exit 0
    }
    default { Fail "unknown argument: $a" }
  }
}
$Version = $Version.TrimStart('v')

$arch = switch ($env:PROCESSOR_ARCHITECTURE) {
  'AMD64' { 'x64' }
  default { Fail "no Windows release for $($env:PROCESSOR_ARCHITECTURE) CPUs; install with npm instead: npm install --global @gigareels/sdk" }
}
$url = if ($Version) { "$Base/download/v$Version" } else { "$Base/latest/download" }

$tmp = Join-Path ([IO.Path]::GetTempPath()) ("gigareels-" + [Guid]::NewGuid())
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
  $ProgressPreference = 'SilentlyContinue'
  try {
    Invoke-WebRequest -UseBasicParsing -Uri "$url/SHA256SUMS" -OutFile "$tmp\SHA256SUMS"
  } catch {
    Fail "cannot download $url/SHA256SUMS$(if ($Version) { " (is $Version a release?)" })"
  }
  $sums = Get-Content "$tmp\SHA256SUMS"
  if (-not $Version) {
    $m = $sums | Select-String -Pattern "gigareels_([0-9][^ ]*)_windows_$($arch)\.zip" | Select-Object -First 1
    if (-not $m) { Fail "the latest release has no archive for windows-$arch" }
    $Version = $m.Matches[0].Groups[1].Value
  }
  $name = "gigareels_$($Version)_windows_$($arch).zip"
  $line = $sums | Where-Object { ($_ -split '\s+')[1] -eq $name -or ($_ -split '\s+')[1] -eq "*$name" } | Select-Object -First 1
  if (-not $line) { Fail "SHA256SUMS of $Version has no line for $name" }
  $expected = ($line -split '\s+')[0].ToLowerInvariant()

  [Console]::Error.WriteLine("Downloading gigareels $Version (windows-$arch)")
  try {
    Invoke-WebRequest -UseBasicParsing -Uri "$url/$name" -OutFile "$tmp\$name"
  } catch {
    Fail "cannot download $url/$name"
  }
  $actual = (Get-FileHash -Algorithm SHA256 "$tmp\$name").Hash.ToLowerInvariant()
  if ($actual -ne $expected) { Fail "checksum mismatch for $($name): expected $expected, got $actual (nothing installed)" }

  Expand-Archive -Path "$tmp\$name" -DestinationPath "$tmp\x"
  $folder = $name -replace '\.zip$', ''
  $exe = Join-Path "$tmp\x" "$folder\bin\gigareels.exe"
  if (-not (Test-Path $exe)) { Fail "$name has no $folder\bin\gigareels.exe" }

  $bin = Join-Path $Prefix 'bin'
  New-Item -ItemType Directory -Force -Path $bin | Out-Null
  $target = Join-Path $bin 'gigareels.exe'
  # A running gigareels.exe cannot be overwritten, but it can be renamed out of the way.
  if (Test-Path $target) { Move-Item -Force $target "$target.old" -ErrorAction SilentlyContinue }
  Copy-Item $exe $target
  Remove-Item "$target.old" -ErrorAction SilentlyContinue

  [Console]::Error.WriteLine("Installed gigareels $Version to $target")
  $userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
  if (-not (($userPath -split ';') -contains $bin)) {
    [Environment]::SetEnvironmentVariable('Path', ($(if ($userPath) { "$userPath;" }) + $bin), 'User')
    [Console]::Error.WriteLine("Added $bin to your PATH; open a new terminal to use gigareels.")
  }
} finally {
  Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}
