#!/usr/bin/env bash
# Installs every Debian package trustlaunch needs to build and test. Idempotent.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libssl-dev openssl libsqlite3-dev
  nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev llvm
  swtpm swtpm-tools tpm2-tools libtss2-dev
  softhsm2 libp11-kit-dev
  libboost-dev
  libcpp-httplib-dev libcivetweb-dev
  python3 hyperfine python3-jwt python3-jwcrypto python3-cryptography python3-yaml
  qemu-system-x86 ovmf dosfstools mtools cpio kmod sbsigntool
)

if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
