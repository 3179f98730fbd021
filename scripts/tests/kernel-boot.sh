#!/usr/bin/env bash
# Chain-load test, normal boot: hiberload (the default boot entry, configured
# through the HiberloadConfig variable written into the machine's OVMF_VARS
# from the host) boots Debian's packaged kernel (6.1, EFI stub) with a busybox
# initramfs that prints /proc/cmdline, /proc/iomem and /sys/firmware/memmap
# and powers off. It shows:
#   - the configured command line arrived (LoadOptions), plus hiberload's
#     memmap=SIZE$BASE reservations;
#   - the initrd went through LoadFile2 (hiberload saw the kernel fetch it,
#     the EFI stub says so, and the initramfs ran);
#   - the scratch region and the trampoline window are not usable RAM for the
#     kernel, while /sys/firmware/memmap still calls them RAM (kexec-tools
#     needs that to load the hibernating kernel there), and the kernel's own
#     image lies outside them;
# and, on a second machine without a kernel or configuration, that a missing
# kernel file and a file that is no PE image give a clear message and a return
# to the firmware (isa-debug-exit 0x12), not a hang.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"
source "$repo/scripts/lib/ovmf-vars.sh"
source "$repo/scripts/lib/kernel-test.sh"
trap hl_cleanup EXIT

tl_begin kernel-boot
hl_require_tools
kt_prepare

SCRATCH_BASE=0x2000000
SCRATCH_SIZE=256M
TOKEN=hltest.token=$RANDOM$RANDOM
USER_CMDLINE="console=ttyS0 panic=-1 $TOKEN"

# --- normal boot -------------------------------------------------------------
M=kernel-normal
kt_machine "$M"
hl_set_config "$M" "version=1
kernel=\\EFI\\hiberload\\vmlinuz
initrd=\\EFI\\hiberload\\initrd.img
cmdline=$USER_CMDLINE
scratch=$SCRATCH_BASE+$SCRATCH_SIZE
mode=auto
"
tl_check "the configuration variable is in the machine's OVMF_VARS" \
  bash -c "source '$repo/scripts/lib/harness.sh'; source '$repo/scripts/lib/ovmf-vars.sh'; hl_get_config $M | grep -q '^scratch=$SCRATCH_BASE+$SCRATCH_SIZE\$'"

hl_boot "$M" --timeout 240 --expect poweroff && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "the kernel booted, its init ran and powered off" test "$verdict" -eq 0
tl_log_has "hiberload read its configuration from the EFI variable" "$log" \
  'hiberload: configuration read from EFI variable HiberloadConfig'
tl_log_has "it chose the normal boot and said why" "$log" \
  'hiberload: nothing to resume: booting \\EFI\\hiberload\\vmlinuz$'
tl_log_has "it named the kernel's version" "$log" "hiberload: kernel .*Linux $KT_RELEASE"
expected="$USER_CMDLINE memmap=64K\$0x10000 memmap=$SCRATCH_SIZE\$$SCRATCH_BASE hiberload.scratch=$SCRATCH_BASE+$SCRATCH_SIZE hiberload.low=0x10000+64K hiberload.partition=$(hl_partition_partuuid "$M" hib)"
got=$(kt_field "$log" 'HLTEST: cmdline: ')
tl_check "the kernel's /proc/cmdline is the configured one plus the reservations and the hibernate parameters" \
  test "$got" = "$expected"
[[ $got == "$expected" ]] || printf '    | expected: %s\n    | got:      %s\n' "$expected" "$got"
initrd_size=$(stat -c %s "$KT_INITRD")
tl_log_has "the kernel fetched the $initrd_size-byte initrd through hiberload's LoadFile2" "$log" \
  "hiberload: initrd: the kernel loaded $initrd_size bytes through LoadFile2"
tl_log_has "the EFI stub says it loaded the initrd from the LINUX_EFI_INITRD_MEDIA_GUID device path" \
  "$log" 'Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path'
tl_log_has "the initramfs's /init ran" "$log" '^\[ *[0-9.]+\] HLTEST: init started'
tl_log_lacks "no initrd= on the command line" "$log" 'HLTEST: cmdline: .*initrd='
tl_check "/proc/iomem: no System RAM in the scratch region or the trampoline window" \
  python3 "$repo/scripts/lib/iomem-check.py" "$log" \
  --ram-outside "$SCRATCH_BASE+$SCRATCH_SIZE" --ram-outside 0x10000+64K
tl_check "/sys/firmware/memmap still calls the scratch region System RAM (kexec-tools needs it)" \
  python3 "$repo/scripts/lib/iomem-check.py" "$log" --firmware-ram "$SCRATCH_BASE+$SCRATCH_SIZE"
kernel_code=$(kt_text "$log" | sed -n '/^HLTEST: iomem begin/,/^HLTEST: iomem end/p' |
  awk '/: Kernel code$/ { print $1; exit }')
tl_check "the kernel's image lies outside the scratch region (Kernel code ${kernel_code:-?})" \
  python3 -c "
import sys
s, e = (int(x, 16) for x in '${kernel_code:-0-0}'.split('-'))
lo, hi = $SCRATCH_BASE, $SCRATCH_BASE + (256 << 20)
sys.exit(0 if e and (e < lo or s >= hi) else 1)"
echo "kernel-boot: /proc/iomem (top level) and the kernel's image, normal boot:"
python3 "$repo/scripts/lib/iomem-check.py" "$log" --show || true
echo "kernel-boot: $(kt_timeline "$log")"

# --- a missing kernel, and a file that is no kernel ------------------------------
M=kernel-missing
hl_machine_create "$M" --mem 512 >/dev/null
hl_esp_put "$M" "$KT_EFI" 'EFI/BOOT/BOOTX64.EFI'
hl_esp_put_text "$M" 'EFI/hiberload/test.conf' $'exit=isa-debug-exit\n'
hl_boot "$M" --timeout 120 --expect exit:0x12 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "no kernel: hiberload returned to the firmware (debug-exit 0x12), no hang" test "$verdict" -eq 0
tl_log_has "it says the configuration is the default one" "$log" 'hiberload: no configuration: EFI variable HiberloadConfig'
tl_log_has "it names the missing file and what to do" "$log" \
  'the kernel \\EFI\\hiberload\\vmlinuz is not on the ESP hiberload was started from: copy a Linux EFI-stub kernel there, or set kernel= in HiberloadConfig'
tl_log_has "it says it returns to the firmware's boot manager" "$log" "returning to the firmware's boot manager"

hl_esp_put "$M" "$KT_INITRD" 'EFI/hiberload/vmlinuz'
hl_boot "$M" --timeout 120 --expect exit:0x12 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "not a kernel: hiberload returned to the firmware (debug-exit 0x12)" test "$verdict" -eq 0
tl_log_has "it says the file is not an EFI executable" "$log" \
  'cannot boot the kernel: \\EFI\\hiberload\\vmlinuz: not an EFI executable'

tl_finish
