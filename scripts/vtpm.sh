# Shell helpers shared by scripts/run.sh and bench/attest_load.sh (source it):
# a local vTPM CA provisioning a vTPM as libvirt does, swtpm on a free port, and
# the recorded boot replayed into the vTPM's PCRs.

# vtpm_provision DIR: DIR/ca (swtpm-localca root + issuer), DIR/vtpm (the state).
vtpm_provision() {
  local dir=$1
  mkdir -p "$dir/ca" "$dir/vtpm"
  printf 'statedir = %s\nsigningkey = %s\nissuercert = %s\ncertserial = %s\n' \
    "$dir/ca" "$dir/ca/signkey.pem" "$dir/ca/issuercert.pem" "$dir/ca/certserial" >"$dir/localca.conf"
  printf 'create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = /etc/swtpm-localca.options\nactive_pcr_banks = sha256\n' \
    "$dir/localca.conf" >"$dir/setup.conf"
  swtpm_setup --tpm2 --tpmstate "$dir/vtpm" --create-ek-cert --config "$dir/setup.conf" >"$dir/setup.log" 2>&1 ||
    { cat "$dir/setup.log" >&2; return 1; }
}

# vtpm_start DIR: swtpm on a free 127.0.0.1 port pair (retried on collisions);
# sets tpm_pid and exports TPM2TOOLS_TCTI.
vtpm_start() {
  local dir=$1 port attempt
  for attempt in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 20000 ))
    swtpm socket --tpm2 --tpmstate dir="$dir/vtpm" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
      --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear &
    tpm_pid=$!
    export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
    for _ in $(seq 50); do
      tpm2_pcrread sha256:0 >/dev/null 2>&1 && return 0
      kill -0 "$tpm_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$tpm_pid" 2>/dev/null || true
  done
  echo "swtpm did not start" >&2
  return 1
}

# vtpm_replay LOG: extends every measured SHA-256 digest of a crypto-agile
# event log into the vTPM at TPM2TOOLS_TCTI, in order (EV_NO_ACTION is never extended).
vtpm_replay() {
  python3 - "$1" <<'PY' | while read -r spec; do tpm2_pcrextend "$spec"; done
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 32 + struct.unpack_from("<I", d, 28)[0]  # skip the SHA-1 format header event
while off < len(d):
    pcr, typ, count = struct.unpack_from("<III", d, off); off += 12
    digests = {}
    for _ in range(count):
        alg = struct.unpack_from("<H", d, off)[0]; off += 2
        size = {0x4: 20, 0xB: 32, 0xC: 48, 0xD: 64, 0x12: 32}[alg]
        digests[alg] = d[off:off + size].hex(); off += size
    off += 4 + struct.unpack_from("<I", d, off)[0]
    if typ != 3 and 0xB in digests:
        print(f"{pcr}:sha256={digests[0xB]}")
PY
}

# tlaunchd_port LOGFILE: waits (10 s) for tlaunchd's "listening" line, prints the port.
tlaunchd_port() {
  local p
  for _ in $(seq 100); do
    p=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  cat "$1" >&2
  return 1
}
