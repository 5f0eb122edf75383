#!/bin/sh
# /init of the trustlaunch guest initramfs (busybox sh, PID 1). Brings up the
# devices, then runs tlaunch-agent as the host asked through fw_cfg, and
# reports on the serial console with "TLAUNCH-GUEST: ..." marker lines, which
# the host parses (docs/guest-image.md: the markers and agent.conf are a contract).
export PATH=/bin
set -f  # no globbing: values from agent.conf are never file patterns
CONF=/sys/firmware/qemu_fw_cfg/by_name/opt/org.trustlaunch/agent.conf/raw
CA=/sys/firmware/qemu_fw_cfg/by_name/opt/org.trustlaunch/ca.pem/raw
STATE=/run/tlaunch
TCTI=device:/dev/tpmrm0

marker() { echo "TLAUNCH-GUEST: $*"; }
log() { echo "tlaunch-init: $*"; }
# One line for a marker: the last non-empty line, carriage returns dropped.
last_line() { tr -d '\r' < "$1" | grep -v '^[[:space:]]*$' | tail -n 1; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$STATE" /run/keys /tmp
chmod 0700 /run/keys
# Kernel messages would split our marker lines on the shared console.
echo 1 > /proc/sys/kernel/printk

while read -r mod; do
  [ -n "$mod" ] || continue
  insmod "/lib/modules/$mod.ko" || log "insmod $mod failed"
done < /lib/modules/load-order
mount -t efivarfs efivarfs /sys/firmware/efi/efivars || log "efivarfs not mounted: Secure Boot state unknown"

ip link set lo up
ip link set eth0 up 2>/dev/null && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 \
  || log "no eth0: the network is down"

# The ACPI power button (QEMU system_powerdown) powers the VM off.
acpid -c /etc/acpi -l /dev/null 2>/dev/null || log "acpid did not start: the power button will not work"

sb=unknown
sbvar=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
if [ -r "$sbvar" ]; then
  # 4 bytes of attributes, then the value byte: the last one. (od -j does not
  # skip on efivarfs, whose files report no size.)
  v=
  for b in $(od -An -tu1 "$sbvar"); do v=$b; done
  case "$v" in 0|1) sb=$v ;; esac
fi
marker "ready kernel=$(uname -r) secureboot=$sb"

idle() { while true; do sleep 3600; done; }

if [ ! -e /dev/tpm0 ]; then
  marker "no-tpm"
  idle
fi

endpoint=
interval=0
keys=
if [ -r "$CONF" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line=$(printf '%s' "$line" | tr -d '\r')
    case "$line" in
      endpoint=*) endpoint=${line#endpoint=} ;;
      attest_interval=*) interval=${line#attest_interval=} ;;
      release_key=*) keys="$keys ${line#release_key=}" ;;
      ''|'#'*) ;;
      *) log "agent.conf: ignoring unknown line '${line%%=*}'" ;;
    esac
  done < "$CONF"
fi
if [ -z "$endpoint" ]; then
  marker "no-config"
  idle
fi
case "$interval" in
  ''|*[!0-9]*) log "agent.conf: attest_interval '$interval' is not a number of seconds; attesting once"; interval=0 ;;
esac

set -- --endpoint "$endpoint" --tcti "$TCTI" --state-dir "$STATE"
[ -r "$CA" ] && cp "$CA" /run/tlaunch-ca.pem && set -- "$@" --ca-file /run/tlaunch-ca.pem

attest() {
  if tlaunch-agent attest --once "$@" --os-release /etc/os-release > "$STATE/token.jwt" 2> "$STATE/attest.err"; then
    marker "attest-ok"
  else
    err=$(last_line "$STATE/attest.err")
    marker "attest-failed: ${err:-tlaunch-agent exited without a message}"
  fi
}

# One release attempt; 0 when the key was released (marker printed).
release_once() {
  name=$1; shift
  tlaunch-agent release --key "$name" --out "/run/keys/$name" "$@" > /dev/null 2> "$STATE/release-$name.err" || return 1
  bytes=$(wc -c < "/run/keys/$name" | tr -d ' ')
  sum=$(sha256sum "/run/keys/$name" | cut -d' ' -f1)
  marker "key-released $name bytes=$bytes sha256=$sum"
}

uptime_s() { cut -d. -f1 /proc/uptime; }

# Everything runs in this one loop, one agent at a time (they share the TPM's
# AK and the state dir). A failed release is retried every 5 s for up to 10
# minutes: the key, or the VM's access to it, may be created after the VM booted.
pending=
for k in $keys; do
  case "$k" in
    .*|*[!A-Za-z0-9._-]*) marker "key-release-failed $k: not a valid key name" ;;
    *) pending="$pending $k" ;;
  esac
done
attest "$@"
last_attest=$(uptime_s)
release_deadline=$(( $(uptime_s) + 600 ))
while true; do
  still=
  for k in $pending; do
    if release_once "$k" "$@"; then
      continue
    elif [ "$(uptime_s)" -ge "$release_deadline" ]; then
      err=$(last_line "$STATE/release-$k.err")
      marker "key-release-failed $k: ${err:-tlaunch-agent exited without a message}"
    else
      still="$still $k"
    fi
  done
  pending=$still
  if [ -z "$pending" ] && [ "$interval" -eq 0 ]; then idle; fi
  if [ -n "$pending" ]; then sleep 5; else sleep "$interval"; fi
  if [ "$interval" -gt 0 ] && [ $(( $(uptime_s) - last_attest )) -ge "$interval" ]; then
    attest "$@"
    last_attest=$(uptime_s)
  fi
done
