#!/usr/bin/env bash
# Measures Secure Key Release throughput and latency over HTTP: a real vTPM
# (swtpm provisioned by a local CA, the recorded Secure Boot boot replayed into
# its PCRs) attests once to tlaunchd on 127.0.0.1; release-load then releases
# an RSA-2048 and an AES-256 key to its runtime key over many connections.
#   [TLAUNCHD_ARGS="--threads 2"] bench/release_load.sh [BUILD_DIR] [REQUESTS] [CONNECTIONS]
# Loopback only; bounded by REQUESTS and 60 s per key.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
requests=${2:-20000}
connections=${3:-32}
shared=${TL_SHARED_DIR:-$root/../shared}
log=$shared/vectors/ovmf-secureboot/eventlog_sb_debian_chain.bin
work=$(mktemp -d /tmp/tl-release-load-XXXXXX)
cleanup() { kill "${svc_pid:-}" "${tpm_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work" /tmp/tl-release-load-state; }
trap cleanup EXIT

source "$root/scripts/vtpm.sh"
vtpm_provision "$work"
vtpm_start "$work"
port=${TPM2TOOLS_TCTI##*port=}
vtpm_replay "$log"

"$build/tlaunchd" serve --port 0 --db "$work/tlaunchd.db" \
  --ek-ca "$work/ca/swtpm-localca-rootca-cert.pem" --ek-ca "$work/ca/issuercert.pem" ${TLAUNCHD_ARGS:-} 2>"$work/tlaunchd.log" &
svc_pid=$!
svc_port=$(tlaunchd_port "$work/tlaunchd.log") || { echo "tlaunchd did not start" >&2; exit 1; }

echo "release-load: $requests releases per key over $connections connections" >&2
TSS2_LOG=all+NONE "$build/release-load" --endpoint "http://127.0.0.1:$svc_port" \
  --admin-token-file "$work/tlaunchd.db.admin-token" \
  --tcti "swtpm:host=127.0.0.1,port=$port" --eventlog "$log" \
  --requests "$requests" --connections "$connections" --seconds 60
