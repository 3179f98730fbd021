#!/usr/bin/env bash
# Chain-load test, fallback resume: an image exists (a small synthetic one
# written by hiberload-save from a synthetic ELF core) and the configuration
# says mode=fallback, so hiberload boots Debian's kernel restricted to the RAM
# the image does not cover, with hiberload.image=PARTUUID=<uuid>; the
# initramfs runs scripts/initramfs/fallback-restore.sh.
#
# Boot 1: one chunk of the image is corrupt (hiberload only checks the
#   metadata before a fallback; the hook checks every chunk): the hook says
#   why, the normal boot continues (init powers off), the image stays valid.
# Boot 2: the image is intact: /proc/iomem shows System RAM only inside the
#   image's scratch ranges, and the hook finds the partition, verifies,
#   extracts, `kexec -l`s, marks the image consumed and `kexec -e`s into the
#   image's jump back entry, where the synthetic code ends QEMU through
#   isa-debug-exit 0x13. The image is consumed afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"
source "$repo/scripts/lib/ovmf-vars.sh"
source "$repo/scripts/lib/kernel-test.sh"
trap hl_cleanup EXIT

tl_begin kernel-fallback
hl_require_tools
kt_prepare --with-fallback-tools
SAVE=$KT_BUILD/tools/hiberload-save
INSPECT=$KT_BUILD/tools/hiberload-inspect
for t in "$SAVE" "$INSPECT" "$KT_BUILD/tools/hiberload-consume"; do
  [[ -x $t ]] || { echo "kernel-fallback: $t not built (run make)"; exit 1; }
done

work=$(mktemp -d)
trap 'hl_cleanup; rm -rf -- "$work"' EXIT

# The image: 1 MiB of "memory" at 320 MiB, whose jump back entry is code that
# ends QEMU with debug-exit 0x13; scratch ranges as a hibernated kernel booted
# by hiberload would leave them: the trampoline window and the scratch region.
SCRATCH_BASE=0x2000000
SCRATCH_SIZE=256M
ENTRY=0x14000080
python3 "$repo/scripts/tests/guest/make-test-core.py" "$work/core.elf" 0x14000000 0x100000 0x80 0x13
printf '0x0 0x9ffff System RAM\n0x100000 0x1fffffff System RAM\n' >"$work/memmap"
: >"$work/runtime-map"
"$SAVE" -q -o "$work/image.bin" --jump-back-entry "$ENTRY" --memmap "$work/memmap" \
  --runtime-map "$work/runtime-map" --scratch 0x10000+64K --scratch "$SCRATCH_BASE+$SCRATCH_SIZE" \
  --kernel-release synthetic-test "$work/core.elf"
cp "$work/image.bin" "$work/corrupt.bin"
# Flip a byte in the first chunk's stored data (block 3, where data begins).
printf '\xff' | dd of="$work/corrupt.bin" bs=1 seek=$((3 * 4096 + 100)) conv=notrunc status=none

M=kernel-fallback
kt_machine "$M"
partuuid=$(hl_partition_partuuid "$M" hib)
hl_set_config "$M" "version=1
cmdline=console=ttyS0 panic=-1
scratch=$SCRATCH_BASE+$SCRATCH_SIZE
mode=fallback
"
image_state() { hl_partition_read "$M" hib 0 $((1 << 20)) "$work/part.bin" &&
  "$INSPECT" "$work/part.bin" 2>/dev/null | sed -n 's/^  state  *//p'; }

# --- boot 1: a corrupt chunk ----------------------------------------------------
hl_partition_write "$M" hib 0 "$work/corrupt.bin"
hl_boot "$M" --timeout 240 --expect poweroff && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "corrupt chunk: the kernel booted and the normal boot went on to power off" test "$verdict" -eq 0
tl_log_has "hiberload took the fallback and said why" "$log" \
  'hiberload: mode=fallback: booting \\EFI\\hiberload\\vmlinuz to restore the image with kexec'
tl_log_has "the hook found the partition by its PARTUUID" "$log" \
  "hiberload-fallback: image partition: /dev/vda2 \\(PARTUUID $partuuid\\)"
tl_log_has "the hook says why it cannot restore" "$log" \
  'hiberload-fallback: restore not possible: hiberload-inspect: verify failed: chunk 0'
tl_log_has "and that the normal boot continues" "$log" 'HLTEST: fallback hook returned 1 \(the normal boot continues\)'
tl_check "the corrupt image was not consumed" test "$(image_state)" = valid

# --- boot 2: the image is intact ------------------------------------------------
hl_partition_write "$M" hib 0 "$work/image.bin"
hl_boot "$M" --timeout 240 --expect exit:0x13 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "kexec -e reached the image's jump back entry (its code exited QEMU with 0x13)" test "$verdict" -eq 0
tl_log_has "hiberload listed the usable RAM" "$log" 'hiberload:   usable 0x2000000-0x11ffffff \(256 MiB\)'
# hiberload placed the image (all its destinations are free), so only the
# jump back entry's page is left for the kernel to load (kexec's identity
# map then covers the entry).
entry_page=$(printf '0x%x' $((ENTRY & ~0xfff)))
expected="console=ttyS0 panic=-1 memmap=exactmap memmap=64K@0x10000 memmap=$SCRATCH_SIZE@$SCRATCH_BASE hiberload.remaining=$entry_page+0x1000 hiberload.image=PARTUUID=$partuuid"
got=$(kt_field "$log" 'HLTEST: cmdline: ')
tl_check "the kernel's /proc/cmdline: exactmap over the image's scratch ranges, what is left to load, and the image's PARTUUID" \
  test "$got" = "$expected"
[[ $got == "$expected" ]] || printf '    | expected: %s\n    | got:      %s\n' "$expected" "$got"
initrd_size=$(stat -c %s "$KT_INITRD")
tl_log_has "the initrd went through LoadFile2" "$log" "hiberload: initrd: the kernel loaded $initrd_size bytes through LoadFile2"
tl_check "/proc/iomem: all System RAM lies inside the image's scratch ranges" \
  python3 "$repo/scripts/lib/iomem-check.py" "$log" \
  --ram-inside "$SCRATCH_BASE+$SCRATCH_SIZE" --ram-inside 0x10000+64K
kernel_code=$(kt_text "$log" | sed -n '/^HLTEST: iomem begin/,/^HLTEST: iomem end/p' |
  awk '/: Kernel code$/ { print $1; exit }')
tl_check "the kernel's image lies inside the scratch region (Kernel code ${kernel_code:-?})" \
  python3 -c "
import sys
s, e = (int(x, 16) for x in '${kernel_code:-0-0}'.split('-'))
sys.exit(0 if $SCRATCH_BASE <= s and e < $SCRATCH_BASE + (256 << 20) else 1)"
tl_log_has "hiberload verified and placed the image from firmware" "$log" 'hiberload: image verified: [0-9]+ chunks, every SHA-256 matched'
tl_log_has "the hook loads only what hiberload left" "$log" 'hiberload-fallback: hiberload placed the image except 1 ranges: loading only those'
tl_log_has "it loaded the core with the image's jump back entry" "$log" \
  "hiberload-fallback: loading it: kexec -l --args-none --entry=$ENTRY"
tl_log_has "it marked the image consumed before kexec -e" "$log" \
  'hiberload-fallback: image marked consumed; jumping back into the hibernated kernel'
tl_check "the image is consumed on disk" test "$(image_state)" = consumed
echo "kernel-fallback: /proc/iomem (top level) and the kernel's image, fallback resume:"
python3 "$repo/scripts/lib/iomem-check.py" "$log" --show || true
echo "kernel-fallback: $(kt_timeline "$log")"
echo "kernel-fallback: the hook: $(kt_time "$log" '^HLTEST: fallback hook begin') s -> kexec -e at $(kt_time "$log" 'jumping back into the hibernated kernel') s"

tl_finish
