#!/usr/bin/env bash
# Builds the round trip's two initramfs images into OUTDIR:
#   save-initrd.img  the saving kernel's: busybox, hiberload-save, save-init
#   a-initrd.img     the hibernating system's: busybox, kexec-tools,
#                    hiberload-hibernate, the fallback restore hook and its
#                    tools, the workload init, and the saving kernel +
#                    save-initrd.img under /boot
#   build-initrds.sh OUTDIR BZIMAGE
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
out=$1
bzimage=$2
build=${HL_BUILD:-$repo/build}
mkdir -p "$out"
"$repo/scripts/initramfs/build-initramfs.sh" --out "$out/save-initrd.img" \
  --init "$repo/scripts/hibernate/save-init" \
  --add-binary "$build/tools/hiberload-save:/bin/hiberload-save" >/dev/null
"$repo/scripts/initramfs/build-initramfs.sh" --out "$out/a-initrd.img" \
  --init "$repo/scripts/tests/roundtrip/workload-init" --with-kexec \
  --add-file "$repo/scripts/hibernate/hiberload-hibernate:/bin/hiberload-hibernate" \
  --add-binary "$build/tools/hiberload-save:/bin/hiberload-save" \
  --add-binary "$build/tools/hiberload:/bin/hiberload" \
  --add-file "$build/hiberload.efi:/boot/hiberload.efi" \
  --add-binary "$build/tools/hiberload-inspect:/bin/hiberload-inspect" \
  --add-binary "$build/tools/hiberload-consume:/bin/hiberload-consume" \
  --add-file "$repo/scripts/initramfs/fallback-restore.sh:/bin/hiberload-fallback-restore" \
  --add-file "$bzimage:/boot/vmlinuz" \
  --add-file "$out/save-initrd.img:/boot/save-initrd.img" >/dev/null
ls -l "$out"/*.img | awk '{print "build-initrds: " $9 " " $5 " bytes"}'
