#!/usr/bin/env bash
# Quick start: the main job on embedded defaults. Builds trustlaunch if needed,
# then attests a "VM" end to end on this machine:
#   1. a local vTPM CA provisions a vTPM (swtpm_setup, EK certificate in NV);
#   2. the recorded Secure Boot boot of a Debian VM (OVMF -> shim -> GRUB ->
#      Linux 6.1, examples/ovmf-secureboot) is replayed into its PCRs;
#   3. tlaunchd starts on 127.0.0.1 trusting that CA;
#   4. tlaunch-agent enrolls the vTPM (credential activation) and attests;
#   5. the token is checked against /certs with standard tools and its claims shown;
#   6. the fleet monitor: the VM was registered and its group given a trusted
#      baseline from the same boot, so it shows Healthy; the fleet summary;
#   7. the key vault: an exportable key whose release policy wants Secure Boot
#      and this VM id is released into the vTPM (unwrapped inside it).
# With arguments, runs `tlaunch ARGS` instead (e.g. eventlog inspect FILE --json).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ ! -f build/build.ninja ]; then
  bash scripts/setup.sh >&2
  cmake -S . -B build -G Ninja -DTL_BENCH=OFF >/dev/null
fi
if [ $# -gt 0 ]; then
  cmake --build build --target tlaunch >/dev/null
  exec build/tlaunch "$@"
fi

source scripts/vtpm.sh
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "building tlaunch, tlaunchd and tlaunch-agent"
cmake --build build --target tlaunch tlaunchd tlaunch-agent

log=$root/examples/ovmf-secureboot/eventlog_sb_debian_chain.bin
work=$(mktemp -d /tmp/trustlaunch-demo-XXXXXX)
cleanup() { kill "${svc_pid:-}" "${tpm_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

say "the boot to attest: a real Secure Boot VM's event log"
build/tlaunch eventlog inspect "$log" | sed -n '1,2p;/^Secure Boot/p;/^Boot applications/,/^$/p'

say "provisioning a vTPM with an EK certificate from a local vTPM CA (swtpm_setup)"
vtpm_provision "$work"
vtpm_start "$work"
echo "vTPM on ${TPM2TOOLS_TCTI#swtpm:}; EK certificate issued by $(openssl x509 -in "$work/ca/issuercert.pem" -noout -subject)"

say "replaying the recorded boot into the vTPM's PCRs"
vtpm_replay "$log"
tpm2_pcrread sha256:0,4,7

say "starting tlaunchd on 127.0.0.1 (SQLite in $work, trusting the vTPM CA)"
build/tlaunchd serve --port 0 --db "$work/tlaunchd.db" \
  --ek-ca "$work/ca/swtpm-localca-rootca-cert.pem" --ek-ca "$work/ca/issuercert.pem" 2>"$work/tlaunchd.log" &
svc_pid=$!
svc_port=$(tlaunchd_port "$work/tlaunchd.log")
url=http://127.0.0.1:$svc_port
echo "tlaunchd at $url"

export TLAUNCH_SERVER=$url TLAUNCH_TOKEN_FILE=$work/tlaunchd.db.admin-token
vm_id=7f3c9a2e-51b4-4c1d-9e2a-0d8f6b4a1c55
say "fleet monitor: a trusted baseline for the group, and the VM registered (admin token in $TLAUNCH_TOKEN_FILE)"
build/tlaunch baseline create debian-12 --from-eventlog "$log" --variant recorded-boot
build/tlaunch vm register demo-vm --vm-id "$vm_id" --group debian-12 --security-type TrustedLaunch
build/tlaunch vm show demo-vm | sed -n '1,20p'

say "tlaunch-agent: enroll (credential activation) and attest"
printf 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' >"$work/os-release"
TSS2_LOG=all+NONE build/tlaunch-agent attest --once --endpoint "$url" --tcti "$TPM2TOOLS_TCTI" \
  --vm-id "$vm_id" --eventlog "$log" --os-release "$work/os-release" \
  --state-dir "$work/agent" >"$work/token.jwt"
echo "token: $(cut -c1-72 "$work/token.jwt")…"

say "checking the token like a relying party (OpenID discovery, /certs, PyJWT and openssl dgst)"
/usr/bin/python3 tests/e2e/check_token.py "$url" "$work/token.jwt" >"$work/verified.json"
/usr/bin/python3 - "$work/verified.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
c = v["claims"]
print(f"signature OK ({v['header']['alg']}, kid {v['header']['kid'][:16]}…), issuer {c['iss']}")
for k in ["x-ms-attestation-type", "secureboot", "x-ms-azurevm-vmid", "x-ms-azurevm-attested-pcrs",
          "x-ms-azurevm-dbvalidated", "x-ms-azurevm-dbxvalidated", "x-ms-azurevm-bootdebug-enabled",
          "x-ms-azurevm-osdistro", "x-tl-kernel-cmdline", "x-tl-ek-cert-validated"]:
    print(f"  {k:45} {json.dumps(c.get(k))}")
for app in c.get("x-tl-boot-apps", []):
    print(f"  boot app  {app.get('sha256', '')[:16]}…  {app.get('devicePath') or '(no device path)'}")
key = c["x-ms-runtime"]["keys"][0]
print(f"  runtime key (in the vTPM, for key release): {key['kid']} RSA {len(key['n']) * 6 // 8 * 8} bits")
PY
say "fleet monitor: the VM's attestation status after that attestation"
build/tlaunch vm show demo-vm
say "fleet summary"
build/tlaunch status
say "key vault: an exportable AES-256 key, released only to a Secure Boot VM with this VM id"
cat >"$work/policy.json" <<JSON
{"version": "1.0.0", "anyOf": [{"authority": "$url", "allOf": [
  {"claim": "secureboot", "equals": true},
  {"claim": "x-ms-azurevm-vmid", "equals": "$vm_id"}]}]}
JSON
build/tlaunch key create demo-key --kty oct --exportable --policy "$work/policy.json"
build/tlaunch key access set "vm:$vm_id" --scope demo-key --ops get,release

say "tlaunch-agent release: attest, release, unwrap inside the vTPM (TPM2_RSA_Decrypt), write the key (0600)"
TSS2_LOG=all+NONE build/tlaunch-agent release --key demo-key --out "$work/demo.key" --endpoint "$url" \
  --tcti "$TPM2TOOLS_TCTI" --vm-id "$vm_id" --eventlog "$log" --os-release "$work/os-release" \
  --state-dir "$work/agent"
echo "released key: $(stat -c '%s bytes, mode %a' "$work/demo.key"), SHA-256 $(sha256sum "$work/demo.key" | cut -c1-16)…"
build/tlaunch key audit demo-key
say "done: docs/attestation-flow.md, docs/fleet-api.md and docs/keyvault.md explain each step; scripts/test.sh runs every test"
