#!/usr/bin/env bash
# Quick start: build tlaunch if needed and run it. With no arguments it inspects
# the event log of a real Secure Boot VM boot (examples/, recorded on this
# project's VM tooling reference machine): Debian shim -> GRUB -> Linux 6.1 under OVMF + swtpm.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  bash scripts/setup.sh >&2
  cmake -S . -B build -G Ninja >/dev/null
fi
cmake --build build --target tlaunch >/dev/null
if [ $# -eq 0 ]; then
  set -- eventlog inspect examples/ovmf-secureboot/eventlog_sb_debian_chain.bin
fi
exec build/tlaunch "$@"
