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
# It is published only when a source (its own or of a project it references) is newer than the last publish;
# the publish's output goes to stderr, so --output json on stdout stays one clean document. ReadyToRun: the
# tool's code and its libraries are compiled ahead, so a command spends a quarter less CPU on JIT (README).
if [ "${1:-}" = "cmd" ]; then
  shift
  [ "${1:-}" = "--" ] && shift
  out=src/SmartGrid.Cmd/bin/ready
  tool=$out/SmartGrid.Cmd.dll
  if [ ! -f "$tool" ] || [ -n "$(find src/SmartGrid.Cmd src/SmartGrid.Contracts src/SmartGrid.Domain Directory.Build.props Directory.Packages.props \
      global.json \( -path '*/bin' -o -path '*/obj' \) -prune -o -type f -newer "$tool" -print | head -n 1)" ]; then
    case "$(uname -m)" in
      x86_64 | amd64) rid=linux-x64 ;;
      aarch64 | arm64) rid=linux-arm64 ;;
      *) rid= ;;
    esac
    # Without a known runtime (or its crossgen package) the tool is published as plain IL: slower to start, same answers.
    { [ -n "$rid" ] && dotnet publish src/SmartGrid.Cmd -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true \
        -o "$out" -nologo -v q >&2; } ||
      dotnet publish src/SmartGrid.Cmd -c Release -o "$out" -nologo -v q >&2 ||
      { echo "build: publishing src/SmartGrid.Cmd failed" >&2; exit 1; }
    # A publish that changed nothing leaves the dll as it was: mark it as checked against the sources now.
    touch "$tool"
  fi
  exec dotnet "$tool" "$@"
fi
dotnet tool restore >/dev/null || { echo "build: 'dotnet tool restore' failed (PowerShell 7.6.9 local tool)" >&2; exit 1; }
exec dotnet tool run pwsh -NoLogo -NoProfile -File ./build.ps1 "$@"
