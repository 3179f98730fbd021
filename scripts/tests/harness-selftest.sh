#!/usr/bin/env bash
# Self-test of the OVMF test harness (scripts/lib/harness.sh). Needs no
# hiberload.efi: it drives Debian's OVMF and the EFI shell built into
# OVMF_CODE_4M.fd (startup.nsh on the ESP, keys, serial input, `mm` on the
# isa-debug-exit port, `reset -s`, `reset`).
#
#   scripts/tests/harness-selftest.sh        (HL_BUILD=... to use another build dir)
#
# Leaves its machine in build/machines/harness-selftest/ and its logs in
# build/logs/harness-selftest-boot*.log* for inspection. Exit status 0 when
# every check passed. Takes about a minute under TCG.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/harness.sh
source "$here/../lib/harness.sh"
trap hl_cleanup EXIT

M=harness-selftest
VARGUID=5b1c3f4e-7d2a-4c3b-9e8f-0a1b2c3d4e5f # a test-only vendor GUID
BOOT_TIMEOUT=${HL_SELFTEST_BOOT_TIMEOUT:-90}
passed=0 failed=0
tmp=$(mktemp -d)
trap 'hl_cleanup; rm -rf -- "$tmp"' EXIT

pass() { passed=$((passed + 1)); printf 'harness-selftest: ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'harness-selftest: FAIL %s\n' "$1"; }
check() { # DESCRIPTION COMMAND... -> pass when COMMAND succeeds
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}
check_not() { # DESCRIPTION COMMAND... -> pass when COMMAND fails
	local d=$1
	shift
	if "$@"; then fail "$d"; else pass "$d"; fi
}
same_file() { cmp -s -- "$1" "$2"; }
log_has() { hl_wait_for_log "$1" "$2" 0 >/dev/null 2>&1; }
waitlog() { hl_wait_for_log "$@" >/dev/null; } # the harness message (stderr) is enough
boot_log() { hl_boot_log "$M"; }
utf16_in() { # FILE STRING -> the UTF-16LE STRING occurs in FILE
	python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode("utf-16le") in open(sys.argv[1], "rb").read() else 1)' "$1" "$2"
}
# Skip the EFI shell's 5 s startup.nsh countdown ("any other key to continue").
skip_countdown() {
	hl_wait_for_log "$(boot_log)" 'Press ESC in [0-9] seconds' "$BOOT_TIMEOUT" >/dev/null &&
		hl_serial_send "$M" ' '
}

# --- tools --------------------------------------------------------------
check "tools present (hl_require_tools)" hl_require_tools

# --- machine and GPT ------------------------------------------------------
check "hl_machine_create $M" hl_machine_create "$M"
mdir=$(hl_machine_dir "$M")
disk=$(hl_partition_path "$M")
check "machine.conf written" test -s "$mdir/machine.conf"
check "vars file is a fresh copy of $HL_OVMF_VARS" same_file "$mdir/OVMF_VARS.fd" "$HL_OVMF_VARS"
check "disk image is sparse" test "$(du -k "$disk" | cut -f1)" -lt 16384
sgdisk -p "$disk" >"$tmp/sgdisk-p" 2>&1 || true
check "sgdisk -p: partition 1 is the ESP (EF00)" grep -Eq '^ +1 +2048 +[0-9]+ +64\.0 MiB +EF00 ' "$tmp/sgdisk-p"
check "sgdisk -p: partition 2 is hiberload-image" grep -Eq '^ +2 +[0-9]+ +[0-9]+ +768\.0 MiB +[0-9A-F]{4} +hiberload-image$' "$tmp/sgdisk-p"
for i in 1 2; do sgdisk -i "$i" "$disk" >"$tmp/sgdisk-i$i" 2>&1 || true; done
check "sgdisk -i 1: ESP type GUID" grep -qi '^Partition GUID code: C12A7328-F81F-11D2-BA4B-00A0C93EC93B' "$tmp/sgdisk-i1"
check "sgdisk -i 2: type GUID $HL_HIB_TYPE_GUID" grep -qi "^Partition GUID code: $HL_HIB_TYPE_GUID" "$tmp/sgdisk-i2"
check "sgdisk -i 2: name hiberload-image" grep -q "^Partition name: 'hiberload-image'" "$tmp/sgdisk-i2"
for i in 1 2; do
	first=$(awk '/^First sector:/ { print $3 }' "$tmp/sgdisk-i$i")
	uuid=$(awk '/^Partition unique GUID:/ { print tolower($4) }' "$tmp/sgdisk-i$i")
	check "machine.conf: partition $i offset = $first * 512" test "$(hl_partition_offset "$M" "$i")" = $((first * 512))
	check "machine.conf: partition $i PARTUUID = $uuid" test "$(hl_partition_partuuid "$M" "$i")" = "$uuid"
done
check "PARTUUIDs differ" test "$(hl_partition_partuuid "$M" esp)" != "$(hl_partition_partuuid "$M" hib)"
check "hib partition size 768 MiB" test "$(hl_partition_size "$M" hib)" = $((768 << 20))

# --- ESP access -----------------------------------------------------------
head -c 307200 /dev/urandom >"$tmp/blob"
check "hl_esp_put into a new directory" hl_esp_put "$M" "$tmp/blob" 'EFI/hiberload/blob.bin'
check "hl_esp_get returns the same bytes" hl_esp_get "$M" '\EFI\hiberload\blob.bin' "$tmp/blob.back"
check "  ... identical" same_file "$tmp/blob" "$tmp/blob.back"
hl_esp_ls "$M" >"$tmp/ls" 2>&1 || true
check "hl_esp_ls lists /EFI/hiberload/blob.bin" grep -qx '/EFI/hiberload/blob.bin' "$tmp/ls"
check "hl_esp_put_text + overwrite" hl_esp_put_text "$M" 'EFI/hiberload/ctl.txt' "first"
hl_esp_put_text "$M" 'EFI/hiberload/ctl.txt' "second" || true
check "  ... reads back the new text" test "$(hl_esp_get "$M" EFI/hiberload/ctl.txt -)" = second
check "hl_esp_rm a directory tree" hl_esp_rm "$M" EFI/hiberload
check_not "  ... gone (hl_esp_exists)" hl_esp_exists "$M" EFI/hiberload/blob.bin

# --- raw hibernation partition access ----------------------------------------
head -c 4096 /dev/urandom >"$tmp/pattern"
check "hl_partition_write hib @4096" hl_partition_write "$M" hib 4096 "$tmp/pattern"
hl_partition_read "$M" hib 4096 4096 "$tmp/pattern.back" || true
check "hl_partition_read returns it" same_file "$tmp/pattern" "$tmp/pattern.back"
dd if="$disk" of="$tmp/pattern.dd" bs=4096 skip=$((($(hl_partition_offset "$M" hib) + 4096) / 4096)) count=1 status=none
check "  ... at partition offset + 4096 in disk.img" same_file "$tmp/pattern" "$tmp/pattern.dd"
check_not "a write past the partition end is refused" \
	hl_partition_write "$M" hib $(($(hl_partition_size "$M" hib) - 100)) "$tmp/pattern"
check "hl_partition_zero" hl_partition_zero "$M" hib 0 65536
hl_partition_read "$M" hib 4096 4096 "$tmp/zero.back" || true
check "  ... zeroed" cmp -s "$tmp/zero.back" <(head -c 4096 /dev/zero)
check "the ESP is intact after partition writes" hl_esp_exists "$M" /

# --- boot 1: empty ESP, fresh variables; keys, serial, power cut --------------
echo "harness-selftest: boot 1: fresh OVMF variables, empty ESP -> EFI shell; keys; serial; power cut"
hl_boot_start "$M" --timeout "$BOOT_TIMEOUT" --expect power-cut >"$tmp/pid" || true
log1=$(boot_log)
check "hl_boot_start printed the QEMU pid" hl_machine_running "$M"
check "boot 1: OVMF's boot manager tries the boot options" \
	waitlog "$log1" '^BdsDxe: (failed to load|loading|starting) Boot[0-9A-F]{4} ' "$BOOT_TIMEOUT"
check "boot 1: the EFI shell starts (no bootable disk)" \
	waitlog "$log1" '^BdsDxe: starting Boot[0-9A-F]{4} "EFI Internal Shell"' 30
check "boot 1: shell prompt" waitlog "$log1" '^Shell> ' 30
check "boot 1: hl_send_text (PS/2 keys)" hl_send_text "$M" $'echo hl-keys-ok\n'
check "boot 1: ... the shell ran the typed command" waitlog "$log1" '^hl-keys-ok$' 30
check "boot 1: hl_serial_send" hl_serial_send "$M" $'echo hl-serial-ok\r'
check "boot 1: ... the shell ran the serial command" waitlog "$log1" '^hl-serial-ok$' 30
qmp_running() { hl_qmp "$M" query-status | grep -q '"running": true'; }
check "boot 1: hl_qmp query-status says running" qmp_running
check "boot 1: hl_power_cut" hl_power_cut "$M"
check_not "boot 1: QEMU is gone" hl_machine_running "$M"
check "boot 1: verdict power-cut (PASS)" hl_boot_wait "$M"
check "boot 1: verdict kind power-cut" test "$HL_VERDICT_KIND" = power-cut
check "boot 1: time-stamped log lines" grep -Eq '^\[ +[0-9]+\.[0-9]{3}\] BdsDxe: ' "$log1"
check "boot 1: raw log kept" test -s "$log1.raw"
check "boot 1: QEMU command line recorded" grep -q -- '-device virtio-blk-pci,drive=disk0' "$log1.cmd"
check "boot 1: OVMF wrote to the machine's vars file" test "$(md5sum <"$mdir/OVMF_VARS.fd")" != "$(md5sum <"$HL_OVMF_VARS")"
t_bds=$(hl_log_time "$log1" '^BdsDxe: ' || echo "?")
t_shell=$(hl_log_time "$log1" '^BdsDxe: starting Boot[0-9A-F]{4} "EFI Internal Shell"' || echo "?")

# --- boot 2: set a non-volatile variable, power off ---------------------------
echo "harness-selftest: boot 2: startup.nsh sets a variable and powers off (reset -s)"
md5_before=$(md5sum <"$mdir/OVMF_VARS.fd")
hl_esp_put_text "$M" startup.nsh "setvar HlSelftest -guid $VARGUID -nv -bs =L\"hl-persist\""$'\r\n'"reset -s"$'\r\n'
hl_boot_start "$M" --timeout "$BOOT_TIMEOUT" --expect poweroff >/dev/null || true
skip_countdown || true
check "boot 2: verdict poweroff (PASS)" hl_boot_wait "$M"
log2=$(boot_log)
t_bds2=$(hl_log_time "$log2" '^BdsDxe: ' || echo "?")
check "boot 2: started with boot 1's vars file (persisted)" test -n "$md5_before"
check "boot 2: the variable is in the vars file (host view)" utf16_in "$mdir/OVMF_VARS.fd" HlSelftest
check "boot 2: ... with its value" utf16_in "$mdir/OVMF_VARS.fd" hl-persist

# --- boot 3: read the variable back, exit through isa-debug-exit --------------
echo "harness-selftest: boot 3: power on again; the variable is still there; debug-exit 0x2a"
hl_esp_put_text "$M" startup.nsh "setvar HlSelftest -guid $VARGUID"$'\r\n'"mm 501 2a -w 1 -IO"$'\r\n'
hl_boot_start "$M" --timeout "$BOOT_TIMEOUT" --expect exit:0x2a >/dev/null || true
skip_countdown || true
check "boot 3: verdict debug-exit 0x2a (PASS)" hl_boot_wait "$M"
log3=$(boot_log)
check "boot 3: the firmware still has the variable" log_has "$log3" "${VARGUID^^} - HlSelftest - 0014 Bytes"
check "boot 3: ... with its value (UTF-16 hl-persist)" log_has "$log3" '^68 00 6C 00 2D 00 70 00 65 00 72 00 73 00 69 00 '

# --- boot 4: guest reset --------------------------------------------------
echo "harness-selftest: boot 4: startup.nsh resets (guest reset under -no-reboot)"
hl_esp_put_text "$M" startup.nsh $'reset\r\n'
hl_boot_start "$M" --timeout "$BOOT_TIMEOUT" --expect reset >/dev/null || true
skip_countdown || true
check "boot 4: verdict reset (PASS)" hl_boot_wait "$M"

# --- boot 5: timeout ------------------------------------------------------
echo "harness-selftest: boot 5: nothing ends the boot -> timeout"
hl_esp_rm "$M" startup.nsh || true
check "boot 5: verdict timeout with --expect timeout (PASS)" hl_boot "$M" --timeout 10 --expect timeout
check "boot 5: timeout took about 10 s" awk -v e="$HL_ELAPSED" 'BEGIN { exit !(e >= 9.9 && e < 16) }'
check_not "boot 5: the same run judged against --expect exit:0x10 FAILs" hl_boot_wait "$M" --expect exit:0x10 --quiet
check_not "boot 5: hl_wait_for_log returns 1 at once on an ended boot" hl_wait_for_log "$(boot_log)" 'never printed' 30

# --- boot 6: QEMU error ---------------------------------------------------
echo "harness-selftest: boot 6: a bad QEMU option -> qemu-error (the FAIL verdict line below is the expected outcome)"
check_not "boot 6: qemu-error FAILs the default expectation" hl_boot "$M" --timeout 30 --extra-qemu -device --extra-qemu no-such-device
check "boot 6: verdict kind qemu-error" test "$HL_VERDICT_KIND" = qemu-error

# --- machine bookkeeping -------------------------------------------------------
check "boot counter is 6" test "$(cat "$mdir/run/boots")" = 6
check_not "no QEMU left running" hl_machine_running "$M"

echo "harness-selftest: OVMF timing (TCG): boot 1 (fresh vars) first BdsDxe line at ${t_bds} s, shell started at ${t_shell} s; boot 2 first BdsDxe line at ${t_bds2} s"
echo "harness-selftest: $passed passed, $failed failed"
((failed == 0))
