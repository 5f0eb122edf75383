#!/bin/bash
# Builds the two small boot disks the VM runtime tests boot (tests/host/vm.cmake):
#   OUT/signed/disk.raw    Debian's signed shim -> grub -> kernel
#   OUT/unsigned/disk.raw  the same with the kernel's signature removed
# Each is a FAT32 EFI system partition whose busybox /init prints the image
# contract's marker "TLAUNCH-GUEST: ready kernel=K secureboot=0|1|unknown" and
# then waits (the tests stop or kill the VM).
# Usage: vm_test_esp.sh OUT DEBS   (DEBS: the .deb cache; downloaded with
# apt-get download when it lacks a package). Needs dpkg-deb, cpio, gzip,
# mkfs.vfat, mtools, sbattach.
set -euo pipefail
OUT=$1
DEBS=$2
mkdir -p "$OUT" "$DEBS"
export MTOOLS_SKIP_CHECK=1
have() { ls "$DEBS"/$1_*.deb >/dev/null 2>&1; }
KPKG=$(ls "$DEBS" | sed -n 's/^\(linux-image-[0-9][^_]*-amd64\)_.*\.deb$/\1/p' | head -1)
if [ -z "$KPKG" ]; then
  KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
for p in shim-signed grub-efi-amd64-signed busybox-static "$KPKG"; do
  have "$p" || (cd "$DEBS" && apt-get download -q "$p" >/dev/null)
done
W=$OUT/work
rm -rf "$W"
mkdir -p "$W/x" "$W/initrd/bin" "$W/initrd/lib/modules" "$W/initrd/proc" "$W/initrd/sys" "$W/initrd/dev"
for d in "$DEBS"/shim-signed_*.deb "$DEBS"/grub-efi-amd64-signed_*.deb "$DEBS"/busybox-static_*.deb "$DEBS"/${KPKG}_*.deb; do
  dpkg-deb -x "$d" "$W/x"
done
KVER=$(ls "$W/x/lib/modules" | head -1)
cp "$W/x/bin/busybox" "$W/initrd/bin/"
for l in sh mount cat od tr cut uname sleep insmod echo; do ln -sf busybox "$W/initrd/bin/$l"; done
cp "$W/x/lib/modules/$KVER/kernel/fs/efivarfs/efivarfs.ko" "$W/initrd/lib/modules/"
cat > "$W/initrd/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /lib/modules/efivarfs.ko 2>/dev/null
mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null
f=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
sb=unknown
[ -e $f ] && sb=$(od -An -tu1 $f | tr -s ' ' | cut -d' ' -f6)
echo "TLAUNCH-GUEST: ready kernel=$(uname -r) secureboot=$sb"
while true; do sleep 3600; done
INIT
chmod +x "$W/initrd/init"
(cd "$W/initrd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -n -9) > "$W/initrd.img"
cat > "$W/grub.cfg" <<'EOF2'
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "tlaunch-test" {
  linux /vmlinuz console=ttyS0,115200 quiet panic=-1
  initrd /initrd.img
}
EOF2
cp "$W/x/boot/vmlinuz-$KVER" "$W/vmlinuz.unsigned"
sbattach --remove "$W/vmlinuz.unsigned" >/dev/null
mkesp() { # mkesp DIR KERNEL
  mkdir -p "$1"
  local img=$1/disk.raw
  rm -f "$img"
  truncate -s 64M "$img"
  mkfs.vfat -F 32 -n ESP "$img" >/dev/null
  mmd -i "$img" ::/EFI ::/EFI/BOOT ::/EFI/debian
  mcopy -i "$img" "$W/x/usr/lib/shim/shimx64.efi.signed" ::/EFI/BOOT/BOOTX64.EFI
  mcopy -i "$img" "$W/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ::/EFI/BOOT/grubx64.efi
  mcopy -i "$img" "$W/grub.cfg" ::/EFI/BOOT/grub.cfg
  mcopy -i "$img" "$W/grub.cfg" ::/EFI/debian/grub.cfg
  mcopy -i "$img" "$2" ::/vmlinuz
  mcopy -i "$img" "$W/initrd.img" ::/initrd.img
}
mkesp "$OUT/signed" "$W/x/boot/vmlinuz-$KVER"
mkesp "$OUT/unsigned" "$W/vmlinuz.unsigned"
rm -rf "$W"
echo "$KVER"
