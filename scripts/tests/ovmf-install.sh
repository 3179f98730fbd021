#!/usr/bin/env bash
# OVMF test of `hiberload install / status / remove` as a user runs them: a
# Linux guest (the project's test kernel, scripts/kernel/build-test-kernel.sh,
# with a busybox initramfs holding build/tools/hiberload, hiberload.efi and
# efibootmgr) works on the real efivarfs of OVMF's variable store.
#
#   boot 1  first boot: no configuration; \EFI\BOOT\BOOTX64.EFI is hiberload,
#           which boots the kernel at its default place on the ESP. Linux runs
#           `hiberload install`: Boot#### first in BootOrder, the
#           configuration variable written; `status`; refused commands
#           change nothing.
#   boot 2  BOOTX64.EFI deleted: only the new Boot#### entry can start
#           hiberload, which boots Linux with the configuration install wrote.
#           `status` with no image, then with a valid image, `discard`.
#   boot 3  `hiberload remove`: BootOrder equals the one before install.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"

BUILD=${HL_BUILD:-$repo/build}
EFI=$BUILD/hiberload.efi
TOOL=$BUILD/tools/hiberload
SAVE=$BUILD/tools/hiberload-save
M=ovmf-install
tl_begin ovmf-install
for f in "$EFI" "$TOOL" "$SAVE"; do
  [[ -e $f ]] || { echo "ovmf-install: $f not built (run make)"; exit 1; }
done
hl_require_tools
command -v efibootmgr >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y efibootmgr >/dev/null
work=$(mktemp -d)
trap 'hl_cleanup; rm -rf -- "$work"' EXIT

kernel=$("$repo/scripts/kernel/build-test-kernel.sh" | tail -1)

# A small valid image for `status` in the guest (8 MiB of memory).
python3 - "$work/small.core" <<'PY'
import random, struct, sys
size, paddr = 8 << 20, 0x1000000
rng = random.Random(1)
data = bytearray(size)
for i in range(0, size, 4096 * 8):
    data[i:i + 4096] = rng.randbytes(4096)
ehdr = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + bytes(9), 4, 62, 1, 0, 64, 0, 0,
                   64, 56, 1, 0, 0, 0)
ph = struct.pack("<IIQQQQQQ", 1, 7, 64 + 56, 0xffff888000000000 + paddr, paddr, size, size, 4096)
open(sys.argv[1], "wb").write(ehdr + ph + data)
PY
printf '0x0 0x1fffffff System RAM\n' >"$work/small.memmap"
"$SAVE" -q -o "$work/small.img" --jump-back-entry 0x1000000 --memmap "$work/small.memmap" \
  --runtime-map /dev/null --kernel-release 6.12-guest-test --page-size 4096 "$work/small.core"

initrd=$("$repo/scripts/initramfs/build-initramfs.sh" --out "$BUILD/kernel-tests/initrd-install.img" \
  --init "$repo/scripts/initramfs/install-test-init.sh" \
  --add-binary "$TOOL:/sbin/hiberload" \
  --add-binary "$(command -v efibootmgr):/sbin/efibootmgr" \
  --add-file "$EFI:/usr/lib/hiberload/hiberload.efi" \
  --add-file "$work/small.img:/hltest/image.img" | tail -1)

hl_machine_create "$M" --mem 512 >/dev/null
hl_esp_put "$M" "$EFI" 'EFI/BOOT/BOOTX64.EFI'
hl_esp_put "$M" "$kernel" 'EFI/hiberload/vmlinuz'
hl_esp_put "$M" "$initrd" 'EFI/hiberload/initrd.img'
esp_partuuid=$(hl_partition_partuuid "$M" esp)
# OVMF prints GUIDs in upper case, efibootmgr and hiberload in lower case.
ESP_PARTUUID=${esp_partuuid^^}

field() { sed -E 's/^\[ *[0-9.]+\][ +]//' "$1" | awk -v p="$2" 'index($0, p) == 1 { print substr($0, length(p) + 1); exit }'; }

# --- boot 1: unconfigured first boot, install ---------------------------------
hl_esp_put_text "$M" 'hltest-step' 'install'
hl_boot "$M" --timeout 300 --expect poweroff && rc=0 || rc=$?
log1=$HL_LAST_LOG
tl_check "boot 1: Linux ran the install step and powered off" test "$rc" -eq 0
tl_log_has "hiberload said it is unconfigured and how to configure it" "$log1" \
  "unconfigured: using the defaults; run 'hiberload install' from Linux to configure"
tl_log_has "the removable-media path started it (Boot0002, BOOTX64.EFI)" "$log1" 'BdsDxe: starting Boot0002 "UEFI Misc Device"'
tl_log_has "install succeeded" "$log1" 'HLTEST: \$ hiberload install' 
tl_log_has "install created the boot entry" "$log1" "created Boot[0-9A-F]{4} \"hiberload\": HD\\(1,GPT,$esp_partuuid,"
order_before=$(field "$log1" 'HLTEST: BootOrder before install: ')
order_after=$(field "$log1" 'HLTEST: BootOrder after install: ')
entry=$(sed -n 's/.*created Boot\([0-9A-F]\{4\}\) "hiberload".*/\1/p' "$log1" | head -1)
echo "ovmf-install: BootOrder before install: $order_before; after: $order_after; entry Boot$entry"
tl_check "BootOrder before install was read" test -n "$order_before"
tl_check "the new entry is first, the others kept in order" test "$order_after" = "$entry,$order_before"
tl_log_has "efibootmgr shows the entry with its path" "$log1" "Boot$entry\\* hiberload.*\\\\EFI\\\\hiberload\\\\hiberload.efi"
tl_log_has "status: installed version" "$log1" 'Installed: hiberload [0-9]+\.[0-9]+\.[0-9]+ .* at \\EFI\\hiberload\\hiberload.efi'
tl_log_has "status: the entry is first" "$log1" "Position: 1st of [0-9]+ in BootOrder \\($entry,"
tl_log_has "status: the configuration install wrote" "$log1" '\] +cmdline=console=ttyS0 panic=-1'
tl_log_has "status: no image on the partition" "$log1" 'Image: no image'
tl_log_has "a bad value is refused with the reason" "$log1" 'hiberload: nothing written: timeout: expected seconds from 0 to 600'
tl_log_has "a read-only efivarfs is refused" "$log1" 'is mounted read-only: mount -o remount,rw'
tl_log_has "the ESP is refused as a hibernation partition" "$log1" '/dev/vda1 is the EFI system partition: refusing'
tl_log_has "the hibernation partition is recognised" "$log1" 'is already a hiberload hibernation partition'
tl_log_lacks "the refused commands changed nothing" "$log1" '^timeout=(9999|1)$'

# --- boot 2: only the new entry leads to hiberload ------------------------------
hl_esp_rm "$M" 'EFI/BOOT/BOOTX64.EFI'
hl_esp_put_text "$M" 'hltest-step' 'check'
hl_boot "$M" --timeout 300 --expect poweroff && rc=0 || rc=$?
log2=$HL_LAST_LOG
tl_check "boot 2: Linux ran the check step and powered off" test "$rc" -eq 0
tl_log_has "the firmware started the new entry" "$log2" \
  "BdsDxe: starting Boot$entry \"hiberload\" from HD\\(1,GPT,$ESP_PARTUUID,.*\\\\EFI\\\\hiberload\\\\hiberload.efi"
tl_log_lacks "not the removable-media path" "$log2" 'BdsDxe: starting Boot[0-9A-F]{4} "UEFI Misc Device"'
tl_log_has "hiberload read the configuration install wrote" "$log2" 'cmdline.*console=ttyS0 panic=-1'
tl_log_lacks "hiberload was not unconfigured this time" "$log2" 'unconfigured'
tl_check "Linux sees BootCurrent = the new entry" test "$(field "$log2" 'HLTEST: BootCurrent: ')" = "$entry"
tl_log_has "status: BootCurrent is hiberload" "$log2" "BootCurrent: $entry \"hiberload\""
tl_log_has "status: no image" "$log2" 'Image: no image'
tl_log_has "status: valid image of N MiB from <date>" "$log2" \
  'Image: valid image of 8 MiB from [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC \(Linux 6.12-guest-test\)'
tl_log_has "discard marks it consumed" "$log2" 'discarded: the image is marked consumed'
tl_log_has "status: consumed" "$log2" 'Image: consumed image of 8 MiB'

# --- boot 3: remove -------------------------------------------------------------
hl_esp_put_text "$M" 'hltest-step' 'remove'
hl_boot "$M" --timeout 300 --expect poweroff && rc=0 || rc=$?
log3=$HL_LAST_LOG
tl_check "boot 3: Linux ran the remove step and powered off" test "$rc" -eq 0
order_removed=$(field "$log3" 'HLTEST: BootOrder after remove: ')
echo "ovmf-install: BootOrder after remove: $order_removed"
tl_check "remove restored the BootOrder from before install ($order_before)" test "$order_removed" = "$order_before"
tl_log_has "remove deleted the entry" "$log3" "deleted Boot$entry"
tl_log_has "remove deleted the configuration" "$log3" 'deleted the configuration \(HiberloadConfig\)'
tl_log_has "status afterwards: no entry" "$log3" "Boot entry: none"
tl_check "hiberload.efi is gone from the ESP" bash -c "! (source '$repo/scripts/lib/harness.sh'; hl_esp_exists '$M' 'EFI/hiberload/hiberload.efi')"

for n in 1 2 3; do
  log_var=log$n
  echo "ovmf-install: --- boot $n, the guest's output:"
  sed -E 's/^\[ *[0-9.]+\][ +]//' "${!log_var}" | awk '/^HLTEST: init started/ { on = 1 } on' | sed 's/^/  | /'
done
tl_finish
