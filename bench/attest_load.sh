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

# A local vTPM CA and a provisioned vTPM (as libvirt does it).
mkdir -p "$work/ca" "$work/state"
cat >"$work/localca.conf" <<CONF
statedir = $work/ca
signingkey = $work/ca/signkey.pem
issuercert = $work/ca/issuercert.pem
certserial = $work/ca/certserial
CONF
cat >"$work/setup.conf" <<CONF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $work/localca.conf
create_certs_tool_options = /etc/swtpm-localca.options
active_pcr_banks = sha256
CONF
swtpm_setup --tpm2 --tpmstate "$work/state" --create-ek-cert --config "$work/setup.conf" >"$work/setup.log" 2>&1
# A free port pair: retry on collisions with other processes.
for attempt in 1 2 3 4 5; do
  port=$(( 20000 + RANDOM % 20000 ))
  swtpm socket --tpm2 --tpmstate dir="$work/state" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear &
  tpm_pid=$!
  export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
  for _ in $(seq 50); do tpm2_pcrread sha256:0 >/dev/null 2>&1 && break 2; kill -0 $tpm_pid 2>/dev/null || break; sleep 0.1; done
  kill $tpm_pid 2>/dev/null || true
done
tpm2_pcrread sha256:0 >/dev/null || { echo "swtpm did not start on port $port" >&2; exit 1; }
# Replay the recorded boot into the PCRs.
python3 - "$log" <<'PY' | while read -r spec; do tpm2_pcrextend "$spec"; done
import struct, sys
d = open(sys.argv[1], "rb").read()
# Header (TCG_PCR_EVENT, SHA-1 format): pcr, type, digest[20], size, data.
off = 32 + struct.unpack_from("<I", d, 28)[0]
while off < len(d):
    pcr, typ, count = struct.unpack_from("<III", d, off); off += 12
    digests = {}
    for _ in range(count):
        alg = struct.unpack_from("<H", d, off)[0]; off += 2
        size = {0x4: 20, 0xB: 32, 0xC: 48, 0xD: 64, 0x12: 32}[alg]
        digests[alg] = d[off:off + size].hex(); off += size
    size = struct.unpack_from("<I", d, off)[0]; off += 4 + size
    if typ != 3 and 0xB in digests:
        print(f"{pcr}:sha256={digests[0xB]}")
PY

${TL_SERVER_WRAPPER:-} "$build/tlaunchd" serve --port 0 --db "$work/tlaunchd.db" \
  --ek-ca "$work/ca/swtpm-localca-rootca-cert.pem" --ek-ca "$work/ca/issuercert.pem" \
  --challenge-lifetime 3600 2>"$work/tlaunchd.log" &
svc_pid=$!
# Successful requests log at debug only, so the log stays quiet under load.
for _ in $(seq 100); do
  svc_port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/tlaunchd.log" | head -1)
  [ -n "$svc_port" ] && break
  sleep 0.1
done
[ -n "${svc_port:-}" ] || { echo "tlaunchd did not start: $(cat "$work/tlaunchd.log")" >&2; exit 1; }

echo "attest-load: $requests attestations over $connections connections (evidence is made first)" >&2
TSS2_LOG=all+NONE "$build/attest-load" --endpoint "http://127.0.0.1:$svc_port" \
  --tcti "swtpm:host=127.0.0.1,port=$port" --eventlog "$log" \
  --requests "$requests" --connections "$connections" --seconds 60 --rate "$rate"
