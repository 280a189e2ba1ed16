#!/bin/sh
# Thin POSIX shim: the logic lives in build.ps1, run by the repository's pinned PowerShell tool.
set -e
cd "$(dirname "$0")"
if ! command -v dotnet >/dev/null 2>&1; then
  echo "build: the .NET 10 SDK is required (dotnet not on PATH)" >&2
  exit 1
fi
# The SRE tool runs straight from here: PowerShell would take its options (-r meter, -n 20, -d 3) for
# build.ps1's parameters, and starting pwsh (or dotnet build, even with nothing to do) costs seconds a command.
# It is built only when a source is newer than the last build; the build's output goes to stderr, so
# --output json on stdout stays one clean document.
if [ "${1:-}" = "cmd" ]; then
  shift
  [ "${1:-}" = "--" ] && shift
  tool=src/SmartGrid.Cmd/bin/Release/net10.0/SmartGrid.Cmd.dll
  if [ ! -f "$tool" ] || [ -n "$(find src/SmartGrid.Cmd Directory.Build.props Directory.Packages.props global.json \
      \( -path '*/bin' -o -path '*/obj' \) -prune -o -type f -newer "$tool" -print | head -n 1)" ]; then
    dotnet build src/SmartGrid.Cmd -c Release -nologo -v q >&2 || { echo "build: building src/SmartGrid.Cmd failed" >&2; exit 1; }
    # A build that changed nothing leaves the dll as it was: mark it as checked against the sources now.
    touch "$tool"
  fi
  exec dotnet "$tool" "$@"
fi
dotnet tool restore >/dev/null || { echo "build: 'dotnet tool restore' failed (PowerShell 7.6.9 local tool)" >&2; exit 1; }
exec dotnet tool run pwsh -NoLogo -NoProfile -File ./build.ps1 "$@"
