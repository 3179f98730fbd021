#!/usr/bin/env bash
# scripts/ovmf-vars.py, the host-side editor of a machine's OVMF variable
# store, against the real firmware: a HiberloadConfig variable written from
# the host is what hiberload reads at the next power-on; after the firmware
# has written its own variables (boot options, ...) into the same store, the
# tool still parses it, replaces the variable (old copy marked deleted, new
# one appended) and the next power-on sees the new value.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"
source "$repo/scripts/lib/ovmf-vars.sh"
trap hl_cleanup EXIT

BUILD=${HL_BUILD:-$repo/build}
EFI=$BUILD/hiberload.efi
tl_begin ovmf-vars
[[ -f $EFI ]] || { echo "ovmf-vars: $EFI not built (run make)"; exit 1; }
hl_require_tools

M=ovmf-vars
hl_machine_create "$M" --mem 256 >/dev/null
hl_esp_put "$M" "$EFI" 'EFI/BOOT/BOOTX64.EFI'
hl_esp_put_text "$M" 'EFI/hiberload/test.conf' $'exit=isa-debug-exit\n'
vars=$(hl_machine_conf "$M" HL_M_VARS)

# --- boot 1: a configuration written into the pristine store ----------------------
hl_set_config "$M" $'version=1\nmode=off\nkernel=\\EFI\\test\\first.efi\ncmdline=hltest first\n'
tl_check "the variable reads back from the store file" \
  bash -c "python3 '$repo/scripts/ovmf-vars.py' get '$vars' HiberloadConfig $HL_VENDOR_GUID | grep -qx 'cmdline=hltest first'"
hl_boot "$M" --timeout 120 --expect exit:0x12 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "hiberload ran and returned to the firmware (no kernel on the ESP)" test "$verdict" -eq 0
tl_log_has "it read its configuration from the variable" "$log" \
  'hiberload: configuration read from EFI variable HiberloadConfig \(67 bytes\)'
tl_log_has "with the values written from the host" "$log" 'hiberload:   command line: hltest first'
tl_log_has "mode=off took effect" "$log" 'hiberload: resume is off \(mode=off\): booting \\EFI\\test\\first.efi'

# --- boot 2: replaced after the firmware wrote its own variables ------------------
before=$(python3 "$repo/scripts/ovmf-vars.py" list "$vars" 2>/dev/null | wc -l)
tl_check "the firmware added its own variables to the store ($before live now)" test "$before" -gt 5
hl_set_config "$M" $'version=1\nmode=off\nkernel=\\EFI\\test\\second.efi\ncmdline=hltest second\n'
tl_check "exactly one live HiberloadConfig remains, the old copy is marked deleted" \
  bash -c "python3 '$repo/scripts/ovmf-vars.py' list --all '$vars' 2>/dev/null | grep HiberloadConfig | awk '{print \$NF}' | tr '\n' ' ' | grep -qx 'deleted added '"
hl_boot "$M" --timeout 120 --expect exit:0x12 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "second power-on returned to the firmware" test "$verdict" -eq 0
tl_log_has "hiberload sees the replaced value" "$log" 'hiberload:   command line: hltest second'
tl_log_lacks "and not the old one" "$log" 'hltest first'

# --- boot 3: a malformed configuration falls back to the defaults -----------------
hl_set_config "$M" $'version=1\nmode=sometimes\n'
hl_boot "$M" --timeout 120 --expect exit:0x12 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "third power-on returned to the firmware" test "$verdict" -eq 0
tl_log_has "a malformed variable is reported with its line" "$log" \
  'configuration variable HiberloadConfig is malformed: line 2'
tl_finish
