#!/usr/bin/env bash
# OVMF test of the firmware boot menu (efi/boot_menu.h) and the progress
# display: a synthetic image that hiberload accepts (as in
# ovmf-direct-resume.sh: its jump back entry is a payload that exits QEMU with
# debug-exit 0x20) and keys sent to the serial console, which OVMF maps to
# ConIn.
#
#   boot 1  probe the memory map (no image)
#   boot 2  timeout=30, key '2': boot normally, the image stays valid (state 1)
#   boot 3  timeout=30, key '3': discard: state 2, no resume
#   boot 4  timeout=30, key '1': resume (payload 0x20), progress reaches 100 %
#   boot 5  timeout=2, no key: the default (resume) after the countdown
#   boot 6  timeout=0, a key pressed while hiberload starts opens the menu;
#           Esc boots normally (image kept)
#   boot 7  timeout=0, no key: no menu, straight resume
# Without a kernel on the ESP, "boot normally" ends in "cannot boot the
# kernel" and a return to the firmware: debug-exit 0x12.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"
source "$repo/scripts/lib/synthetic-image.sh"
source "$repo/scripts/lib/ovmf-vars.sh"

BUILD=${HL_BUILD:-$repo/build}
EFI=$BUILD/hiberload.efi
SAVE=$BUILD/tools/hiberload-save
SYNTH=$BUILD/host-tests/synthetic-core
PAYLOAD=$BUILD/host-tests/resume-payload.bin
TOOL=$BUILD/tools/hiberload
M=ovmf-menu
tl_begin ovmf-menu
for f in "$EFI" "$SAVE" "$SYNTH" "$PAYLOAD" "$TOOL"; do
  [[ -e $f ]] || { echo "ovmf-menu: $f not built (run make)"; exit 1; }
done
hl_require_tools

work=$(mktemp -d)
trap 'hl_cleanup; rm -rf -- "$work"' EXIT

# --- boot 1: probe --------------------------------------------------------
si_probe_machine "$M" "$work"
probe=$SI_PROBE_LOG
tl_check "probe boot (no image): returns to the firmware (0x12)" test "$SI_PROBE_RC" -eq 0
tl_log_lacks "no image: no menu" "$probe" 'boot menu'
scratch=$(si_scratch_from_probe "$probe")
si_build "$probe" "$scratch" "$work" core >/dev/null
cp "$work/core.bin" "$work/image.bin"
fresh_image() { hl_partition_write "$M" hib 0 "$work/image.bin"; }
config() { hl_set_config "$M" "version=1
timeout=$1
"; }

# status on the host, through the disk image (what a user sees in Linux)
efivars=$work/efivars; mkdir -p "$efivars"
fresh_image
"$TOOL" --efivarfs "$efivars" status --disk "$(hl_partition_path "$M")" >"$work/status-valid.txt" || true
tl_check "hiberload status: valid image of N MiB from <date>" \
  grep -Eq 'Image: valid image of [0-9.]+ [KMG]iB from [0-9]{4}-[0-9]{2}-[0-9]{2} .*\(Linux synthetic-test\)' "$work/status-valid.txt"

# menu_boot N KEY EXPECT: power on, wait for the countdown, send KEY.
menu_boot() {
  local key=$1 expect=$2
  hl_boot_start "$M" --timeout 300 --expect "$expect" >/dev/null
  local log; log=$(hl_boot_log "$M")
  if hl_wait_for_log "$log" 'resuming in [0-9]+ s; press 1, 2 or 3' 120 >/dev/null; then
    sleep 0.5
    hl_serial_send "$M" "$key"
  fi
  hl_boot_wait "$M" && rc=0 || rc=$?
  log=$HL_LAST_LOG
  [[ -n ${log:-} ]] || log=$(hl_boot_log "$M")
  LOG=$log
}

# --- boot 2: "boot normally", the image stays ------------------------------
config 30
menu_boot 2 exit:0x12
tl_check "key 2: boot normally, no resume (0x12)" test "$rc" -eq 0
tl_log_has "the menu opened from the configuration's timeout" "$LOG" 'boot menu \(timeout in the configuration\): a hibernated system is waiting: Linux synthetic-test'
tl_log_has "the menu lists the three choices" "$LOG" 'menu: 3 = discard the image and boot normally'
tl_log_has "choice 2 was taken" "$LOG" 'menu: chosen: boot normally, keep the image'
tl_log_has "hiberload says why it boots normally" "$LOG" 'chosen in the menu \(image kept for a later boot\): booting'
tl_log_lacks "nothing placed" "$LOG" 'placing image'
tl_check "the image is still valid (state 1)" test "$(si_state "$M")" = 1

# --- boot 3: discard -------------------------------------------------------
menu_boot 3 exit:0x12
tl_check "key 3: discard, no resume (0x12)" test "$rc" -eq 0
tl_log_has "it says the image was discarded" "$LOG" 'image discarded: marked consumed'
tl_check "the image is consumed (state 2)" test "$(si_state "$M")" = 2
"$TOOL" --efivarfs "$efivars" status --disk "$(hl_partition_path "$M")" >"$work/status-consumed.txt" || true
tl_check "hiberload status says consumed" grep -q 'Image: consumed image of' "$work/status-consumed.txt"

# --- boot 4: resume by key ---------------------------------------------------
fresh_image
menu_boot 1 exit:0x20
tl_check "key 1: resume, the payload ran (0x20)" test "$rc" -eq 0
tl_log_has "choice 1 was taken" "$LOG" 'menu: chosen: resume'
tl_log_has "the payload found memory intact" "$LOG" 'resume-payload: memory intact'
tl_check "progress reached 100 % on the text console" grep -q '100%' "$LOG.raw"

# --- boot 5: timeout -> the default ------------------------------------------
fresh_image
config 2
hl_boot "$M" --timeout 300 --expect exit:0x20 && rc=0 || rc=$?
LOG=$HL_LAST_LOG
tl_check "no key: after the countdown the default, resume (0x20)" test "$rc" -eq 0
tl_log_has "it says the countdown ran out" "$LOG" 'menu: no choice within 2 s: resume \(the default\)'

# --- boot 6: timeout=0, a key at start opens the menu ------------------------
fresh_image
config 0
hl_boot_start "$M" --timeout 300 --expect exit:0x12 >/dev/null
log=$(hl_boot_log "$M")
# Keep a key waiting from the banner on: the menu looks once, when the image
# has been found; then Esc (boot normally) once the menu is up.
if hl_wait_for_log "$log" 'hiberload: hiberload [0-9]' 120 >/dev/null; then
  hl_serial_send "$M" ' '
  if hl_wait_for_log "$log" 'resuming in [0-9]+ s; press 1, 2 or 3' 60 >/dev/null; then
    sleep 0.5
    hl_serial_send "$M" $'\e'
  fi
fi
hl_boot_wait "$M" && rc=0 || rc=$?
LOG=$HL_LAST_LOG
tl_check "timeout=0 and a key at start: the menu opened, Esc booted normally (0x12)" test "$rc" -eq 0
tl_log_has "opened by a key, 30 s countdown" "$LOG" 'boot menu \(opened by a key\)'
tl_check "the image is still valid (state 1)" test "$(si_state "$M")" = 1

# --- boot 7: timeout=0, no key: no menu ---------------------------------------
hl_boot "$M" --timeout 300 --expect exit:0x20 && rc=0 || rc=$?
LOG=$HL_LAST_LOG
tl_check "timeout=0, no key: straight to the resume (0x20)" test "$rc" -eq 0
tl_log_lacks "no menu" "$LOG" 'boot menu'

echo "ovmf-menu: hiberload status with a valid image (host, disk image):"
sed 's/^/  | /' "$work/status-valid.txt"
tl_finish
