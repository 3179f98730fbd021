# shellcheck shell=bash
# Shared set-up of the chain-load tests (scripts/tests/kernel-*.sh): Debian's
# kernel, the reporting initramfs, a machine with hiberload as its default
# boot entry, and log helpers. Source after harness.sh, testlib.sh and
# ovmf-vars.sh.

_KT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KT_BUILD=${HL_BUILD:-$_KT_REPO/build}
KT_EFI=$KT_BUILD/hiberload.efi
KT_WORK=$KT_BUILD/kernel-tests

# kt_prepare [--with-fallback-tools] -- sets KT_KERNEL_DIR, KT_KERNEL,
# KT_RELEASE, KT_INITRD (built from scripts/tests/guest/kernel-report-init.sh;
# with the fallback hook, hiberload-inspect, blkid, kexec and the virtio-blk
# modules when asked)
kt_prepare() {
	[[ -f $KT_EFI ]] || { echo "kernel-test: $KT_EFI not built (run make)" >&2; return 1; }
	KT_KERNEL_DIR=$("$_KT_REPO/scripts/kernel/fetch-debian-kernel.sh") || return 1
	KT_KERNEL=$KT_KERNEL_DIR/vmlinuz
	KT_RELEASE=$(cat "$KT_KERNEL_DIR/release")
	mkdir -p "$KT_WORK"
	local -a extra=()
	local name=initrd-report.img
	if [[ ${1:-} == --with-fallback-tools ]]; then
		name=initrd-fallback.img
		local inspect=$KT_BUILD/tools/hiberload-inspect consume=$KT_BUILD/tools/hiberload-consume
		[[ -x $inspect ]] || { echo "kernel-test: $inspect not built (run make)" >&2; return 1; }
		extra+=(--with-kexec
			--add-binary "$inspect:/sbin/hiberload-inspect"
			--add-binary "$(command -v blkid):/sbin/blkid"
			--add-file "$_KT_REPO/scripts/initramfs/fallback-restore.sh:/sbin/hiberload-fallback-restore"
			--add-dir "$KT_KERNEL_DIR/modules:/lib/modules/hiberload")
		[[ -x $consume ]] && extra+=(--add-binary "$consume:/sbin/hiberload-consume")
	fi
	KT_INITRD=$("$_KT_REPO/scripts/initramfs/build-initramfs.sh" --out "$KT_WORK/$name" \
		--init "$_KT_REPO/scripts/tests/guest/kernel-report-init.sh" "${extra[@]}") || return 1
}

# kt_machine NAME -- a 512 MiB machine whose ESP has hiberload as
# \EFI\BOOT\BOOTX64.EFI, the kernel and the initrd at hiberload's default
# paths, and a test.conf that ends QEMU through isa-debug-exit if hiberload
# returns to the firmware (instead of sitting in the boot manager)
kt_machine() {
	hl_machine_create "$1" --mem 512 >/dev/null || return 1
	hl_esp_put "$1" "$KT_EFI" 'EFI/BOOT/BOOTX64.EFI' || return 1
	hl_esp_put "$1" "$KT_KERNEL" 'EFI/hiberload/vmlinuz' || return 1
	hl_esp_put "$1" "$KT_INITRD" 'EFI/hiberload/initrd.img' || return 1
	hl_esp_put_text "$1" 'EFI/hiberload/test.conf' $'# test machines only\nexit=isa-debug-exit\n'
}

# kt_text LOG -- the log without the harness's time stamps
kt_text() { sed -E 's/^\[ *[0-9.]+\][ +]//' "$1"; }

# kt_field LOG PREFIX -- the rest of the first line starting with PREFIX
# (awk reads to the end: exiting early would kill kt_text with SIGPIPE, which
# pipefail turns into a failure.)
kt_field() { kt_text "$1" | awk -v p="$2" '!found && index($0, p) == 1 { print substr($0, length(p) + 1); found = 1 }'; }

# kt_time LOG REGEX -- seconds since QEMU started of the first matching line
kt_time() { hl_log_time "$1" "$2" 2>/dev/null || echo "?"; }

# kt_timeline LOG -- one line: power-on → hiberload → kernel start → init
kt_timeline() {
	local log=$1
	printf 'timeline (s since QEMU start, TCG): hiberload banner %s, kernel started %s, '\
'Linux running %s, init %s, QEMU exit %s\n' \
		"$(kt_time "$log" 'hiberload: hiberload [0-9]')" \
		"$(kt_time "$log" 'hiberload: starting the kernel')" \
		"$(kt_time "$log" 'Linux version ')" \
		"$(kt_time "$log" '^HLTEST: init started')" \
		"$(printf '%.1f' "${HL_ELAPSED:-0}")"
}
