#!/usr/bin/env bash
# Measures verified attestations/s and latency of the whole HTTP path:
# a real vTPM (swtpm provisioned with an EK certificate by a local CA, the
# recorded Secure Boot log replayed into its PCRs), tlaunchd on 127.0.0.1,
# and attest-load driving POST /attest with many simulated agents.
#   bench/attest_load.sh [BUILD_DIR] [REQUESTS] [CONNECTIONS] [RATE]
# RATE > 0: open loop at RATE requests/s (latency counted from when each was due).
# Loopback only; bounded by REQUESTS and 60 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
requests=${2:-20000}
connections=${3:-64}
rate=${4:-0}
shared=${TL_SHARED_DIR:-$root/../shared}
log=$shared/vectors/ovmf-secureboot/eventlog_sb_debian_chain.bin
work=$(mktemp -d /tmp/tl-attest-load-XXXXXX)
cleanup() { kill "${svc_pid:-}" "${tpm_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

source "$root/scripts/vtpm.sh"
# A local vTPM CA and a provisioned vTPM (as libvirt does it), the recorded boot in its PCRs.
vtpm_provision "$work"
vtpm_start "$work"
port=${TPM2TOOLS_TCTI##*port=}
vtpm_replay "$log"

${TL_SERVER_WRAPPER:-} "$build/tlaunchd" serve --port 0 --db "$work/tlaunchd.db" \
  --ek-ca "$work/ca/swtpm-localca-rootca-cert.pem" --ek-ca "$work/ca/issuercert.pem" \
  --challenge-lifetime 3600 2>"$work/tlaunchd.log" &
svc_pid=$!
# Successful requests log at debug only, so the log stays quiet under load.
svc_port=$(tlaunchd_port "$work/tlaunchd.log") || { echo "tlaunchd did not start" >&2; exit 1; }

echo "attest-load: $requests attestations over $connections connections (evidence is made first)" >&2
TSS2_LOG=all+NONE "$build/attest-load" --endpoint "http://127.0.0.1:$svc_port" \
  --tcti "swtpm:host=127.0.0.1,port=$port" --eventlog "$log" \
  --requests "$requests" --connections "$connections" --seconds 60 --rate "$rate"
