#!/usr/bin/env bash
# Quick start: the main job on embedded defaults. Builds trustlaunch if needed,
# then runs a real Trusted Launch VM on this machine and attests it end to end:
#   1. `tlaunch image build`: a reproducible EFI disk from Debian's signed
#      shim -> GRUB -> Linux, whose initramfs runs tlaunch-agent;
#   2. the host's vTPM CA (`tlaunch vm ca`) and tlaunchd (SQLite) trusting it;
#   3. `tlaunch vm create` + `vm start`: QEMU (KVM when it can do SMM, else
#      TCG) with OVMF Secure Boot firmware and the VM's own swtpm; the agent in
#      the guest attests to tlaunchd over QEMU user networking;
#   4. `tlaunch vm show`: the fleet monitor's attestation status, Healthy;
#   5. an exportable key whose release policy wants Secure Boot and this VM's
#      id is released into the VM (unwrapped inside its vTPM), and audited.
# With arguments, runs `tlaunch ARGS` instead (e.g. eventlog inspect FILE --json).
# Environment: TLAUNCH_DEMO_KEEP=1 keeps the VM, tlaunchd and the work dir.
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
started=$(date +%s)
say "building tlaunch, tlaunchd and tlaunch-agent"
bash scripts/setup.sh >/dev/null
cmake --build build --target tlaunch tlaunchd tlaunch-agent

work=$(mktemp -d /tmp/trustlaunch-demo-XXXXXX)
export TLAUNCH_HOST_DIR=$work/host
cleanup() {
  if [ "${TLAUNCH_DEMO_KEEP:-0}" = 1 ]; then
    echo "kept: $work (tlaunchd pid ${svc_pid:-?}; stop the VM with: TLAUNCH_HOST_DIR=$TLAUNCH_HOST_DIR build/tlaunch vm stop demo-vm)"
    return
  fi
  build/tlaunch vm stop demo-vm --timeout 10 >/dev/null 2>&1 || true
  kill "${svc_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say "guest image: Debian's signed shim, GRUB and kernel + an initramfs running tlaunch-agent"
build/tlaunch image build --out build/guest-image --cache build/image-cache --force
python3 - build/guest-image/manifest.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print("kernel", m.get("kernel"), "| disk sha256", str(m.get("diskSha256", ""))[:16] + "…")
PY

say "the host's vTPM CA (issues each VM's EK certificate) and tlaunchd trusting it"
ca_json=$(build/tlaunch vm ca --json)
ca_root=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rootCert"])' "$ca_json")
ca_issuer=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["issuerCert"])' "$ca_json")
build/tlaunchd serve --port 0 --db "$work/tlaunchd.db" --ek-ca "$ca_root" --ek-ca "$ca_issuer" 2>"$work/tlaunchd.log" &
svc_pid=$!
svc_port=$(tlaunchd_port "$work/tlaunchd.log")
url=http://127.0.0.1:$svc_port
export TLAUNCH_SERVER=$url TLAUNCH_TOKEN_FILE=$work/tlaunchd.db.admin-token
echo "tlaunchd at $url (SQLite $work/tlaunchd.db, admin token in $TLAUNCH_TOKEN_FILE)"

say "fleet monitor: the group 'demo' learns its trusted baseline from its first Secure Boot boot"
build/tlaunch baseline learn demo on

say "creating a Trusted Launch VM (Secure Boot + vTPM, EK certificate from the host CA)"
build/tlaunch vm create demo-vm --security-type TrustedLaunch --image build/guest-image --group demo \
  --release-key demo-key
vm_id=$(build/tlaunch vm show demo-vm --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["vmId"])')

say "booting it (under TCG this takes about half a minute) and waiting for the guest agent's attestation"
build/tlaunch vm start demo-vm --wait-for attest --wait-timeout 300

say "the VM's attestation status"
build/tlaunch vm show demo-vm

say "key vault: an exportable AES-256 key, released only to a Secure Boot VM with id $vm_id"
cat >"$work/policy.json" <<JSON
{"version": "1.0.0", "anyOf": [{"authority": "$url", "allOf": [
  {"claim": "secureboot", "equals": true},
  {"claim": "x-ms-azurevm-vmid", "equals": "$vm_id"}]}]}
JSON
build/tlaunch key create demo-key --kty oct --exportable --policy "$work/policy.json"
build/tlaunch key access set "vm:$vm_id" --scope demo-key --ops get,release

say "the guest agent releases it into its vTPM (TPM2_RSA_Decrypt inside the VM)"
console=$TLAUNCH_HOST_DIR/vms/demo-vm/console.log
for _ in $(seq 120); do
  grep -aq "TLAUNCH-GUEST: key-re" "$console" && break
  sleep 1
done
grep -a "TLAUNCH-GUEST:" "$console" | tr -d '\r' | sed 's/^/guest: /'
grep -aq "TLAUNCH-GUEST: key-released demo-key" "$console" || { echo "the key was not released (see $console)" >&2; exit 1; }
build/tlaunch key audit demo-key

say "stopping the VM (ACPI shutdown)"
build/tlaunch vm stop demo-vm
build/tlaunch vm list
say "done in $(( $(date +%s) - started )) s: docs/host.md, docs/guest-image.md, docs/fleet-api.md and docs/keyvault.md explain each step; scripts/test.sh runs every test"
