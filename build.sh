#!/bin/sh
# Thin POSIX shim: the logic lives in build.ps1, run by the repository's pinned PowerShell tool.
set -e
cd "$(dirname "$0")"
if ! command -v dotnet >/dev/null 2>&1; then
  echo "build: the .NET 10 SDK is required (dotnet not on PATH)" >&2
  exit 1
fi
dotnet tool restore >/dev/null || { echo "build: 'dotnet tool restore' failed (PowerShell 7.6.9 local tool)" >&2; exit 1; }
# The SRE tool's own options (-r meter, -n 20, -d 3) would be taken by PowerShell for build.ps1's
# parameters: run it directly.
if [ "${1:-}" = "cmd" ]; then
  shift
  [ "${1:-}" = "--" ] && shift
  exec dotnet run --project src/SmartGrid.Cmd -c Release -- "$@"
fi
exec dotnet tool run pwsh -NoLogo -NoProfile -File ./build.ps1 "$@"
