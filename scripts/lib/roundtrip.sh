# shellcheck shell=bash
# shellcheck disable=SC2034 # RT_* results are read by the scripts that source this
# The real hibernate/resume round trip, shared by scripts/tests/ovmf-roundtrip.sh
# (the test) and scripts/demo.sh (`make demo`, the narrated run): the inputs,
# the machine, and what the serial logs say. A bash library, to be sourced
# after scripts/lib/harness.sh and scripts/lib/ovmf-vars.sh:
#
#   source scripts/lib/harness.sh
#   source scripts/lib/ovmf-vars.sh
#   source scripts/lib/roundtrip.sh
#   rt_build_inputs "$BUILD/roundtrip"        # sets RT_KERNEL, RT_A_INITRD
#   rt_machine_setup M --scratch 0x2000000+192M --mode auto --smp 1
#   hl_boot M --timeout 420 --expect poweroff   # boot 1: A hibernates
#   token=$(rt_token "$HL_LAST_LOG")
#
# Functions print values on stdout and return 1 when the log lacks them;
# nothing here judges (the test and the demo do). Compatible with
# `set -euo pipefail`. Sourcing only defines functions.
#
# What the logs hold (scripts/tests/roundtrip/workload-init prints them):
#   workload: started token=T uptime=U         a fresh start of the workload
#   workload: 64 MiB tmpfs file md5=M          its file's checksum
#   workload: tick N token=T                   once a second
#   workload: after hiberload-hibernate (rc=R) token=T md5=M uptime=U
#   workload: RESUMED-OK token=T               after a resume, md5 unchanged

_RT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_RT_REPO=$(cd "$_RT_LIB_DIR/../.." && pwd)

# The configuration the round trip uses unless told otherwise: the machine
# has 512 MiB; the region hiberload keeps out of kernel A is 192 MiB at 32 MiB.
: "${RT_DEFAULT_SCRATCH:=0x2000000+192M}"
: "${RT_CMDLINE:=console=ttyS0 no_console_suspend}"

# rt_build_inputs WORKDIR
# Builds (or finds in the cache) the test kernel and the two initramfs images
# (scripts/tests/roundtrip/build-initrds.sh) into WORKDIR. Sets RT_KERNEL (the
# bzImage: kernels A and B), RT_A_INITRD (kernel A's initramfs, which carries
# kernel B and its initramfs under /boot) and RT_SAVE_INITRD.
rt_build_inputs() {
	local work=${1:?workdir}
	local build=${HL_BUILD:-$_RT_REPO/build}
	local f
	for f in "$build/hiberload.efi" "$build/tools/hiberload-save" "$build/tools/hiberload-inspect" \
		"$build/tools/hiberload-consume"; do
		[[ -e $f ]] || { printf 'roundtrip: %s not built (run make)\n' "$f" >&2; return 1; }
	done
	mkdir -p "$work"
	RT_KERNEL=$("$_RT_REPO/scripts/kernel/build-test-kernel.sh" | tail -n 1) || return 1
	[[ -f $RT_KERNEL ]] || { printf 'roundtrip: no test kernel (%s)\n' "$RT_KERNEL" >&2; return 1; }
	HL_BUILD=$build "$_RT_REPO/scripts/tests/roundtrip/build-initrds.sh" "$work" "$RT_KERNEL" || return 1
	RT_A_INITRD=$work/a-initrd.img
	RT_SAVE_INITRD=$work/save-initrd.img
}

# rt_config_text SCRATCH MODE -> the HiberloadConfig text of the round trip
rt_config_text() {
	printf 'version=1\ncmdline=%s\nscratch=%s\nmode=%s\n' "$RT_CMDLINE" "${1:?scratch}" "${2:?mode}"
}

# rt_machine_setup NAME [--scratch BASE+SIZE] [--mode auto|direct|fallback]
#                       [--smp N] [--mem MiB] [--efi FILE]
# A fresh machine (hl_machine_create wipes an old one) with hiberload as its
# only boot entry (\EFI\BOOT\BOOTX64.EFI, the removable-media path OVMF boots),
# a copy at \EFI\hiberload\hiberload.efi, the test kernel and kernel A's
# initramfs at hiberload's default paths, and HiberloadConfig set.
# Needs rt_build_inputs first.
rt_machine_setup() {
	local name=${1:?machine} scratch=$RT_DEFAULT_SCRATCH mode=auto smp=1 mem=512 install=0
	local efi=${HL_BUILD:-$_RT_REPO/build}/hiberload.efi
	shift
	while (($#)); do
		case $1 in
		--scratch) scratch=$2 ;;
		--mode) mode=$2 ;;
		--smp) smp=$2 ;;
		--mem) mem=$2 ;;
		--efi) efi=$2 ;;
		--install) install=1; shift; continue ;;
		*) printf 'rt_machine_setup: unknown option %s\n' "$1" >&2; return 1 ;;
		esac
		shift 2
	done
	[[ -n ${RT_KERNEL:-} && -n ${RT_A_INITRD:-} ]] || { printf 'rt_machine_setup: call rt_build_inputs first\n' >&2; return 1; }
	hl_machine_create "$name" --mem "$mem" --smp "$smp" >/dev/null || return 1
	hl_esp_put "$name" "$efi" 'EFI/BOOT/BOOTX64.EFI' || return 1
	hl_esp_put "$name" "$RT_KERNEL" 'EFI/hiberload/vmlinuz' || return 1
	hl_esp_put "$name" "$RT_A_INITRD" 'EFI/hiberload/initrd.img' || return 1
	if ((install)); then
		# No configuration: the first boot runs `hiberload install` (see
		# rt_install_boot) with these settings.
		hl_esp_put_text "$name" 'EFI/hiberload/roundtrip-install.txt' "--scratch $scratch --mode $mode" || return 1
		return 0
	fi
	hl_esp_put "$name" "$efi" 'EFI/hiberload/hiberload.efi' || return 1
	hl_set_config "$name" "$(rt_config_text "$scratch" "$mode")" >/dev/null || return 1
}

# rt_install_boot NAME -- boot 0 of a machine made with --install: the
# unconfigured hiberload boots the default kernel, whose init runs
# `hiberload install`; then \EFI\BOOT\BOOTX64.EFI is removed, so that from now
# on only the Boot#### entry install created can start hiberload. Sets
# RT_INSTALL_LOG. Fails if the boot did not power off.
rt_install_boot() {
	local name=${1:?machine}
	hl_boot "$name" --timeout 300 --expect poweroff >/dev/null || return 1
	RT_INSTALL_LOG=$HL_LAST_LOG
	hl_esp_rm "$name" 'EFI/BOOT/BOOTX64.EFI'
}

# rt_field KEY: from stdin, the value of the first KEY=VALUE
rt_field() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" | head -n 1; }

_rt_nonempty() { [[ -n $1 ]] && printf '%s\n' "$1"; }

# rt_token LOG -> the token of the workload that started (fresh) in LOG
rt_token() { _rt_nonempty "$(grep -a 'workload: started token=' "${1:?log}" | rt_field token)"; }

# rt_md5 LOG -> the md5 of the workload's file as recorded when it started
rt_md5() { _rt_nonempty "$(grep -a 'workload: 64 MiB tmpfs file md5=' "${1:?log}" | rt_field md5)"; }

# rt_md5_after LOG TOKEN -> the md5 the workload measured after the resume
rt_md5_after() {
	_rt_nonempty "$(grep -a "workload: after hiberload-hibernate .*token=${2:?token}" "${1:?log}" | rt_field md5)"
}

# rt_last_tick LOG TOKEN / rt_first_tick LOG TOKEN -> the counter's last / first
# value printed with TOKEN in LOG
_rt_ticks() { grep -a "workload: tick [0-9]* token=$2" "$1" | sed 's/.*tick \([0-9]*\) .*/\1/'; }
rt_last_tick() { _rt_nonempty "$(_rt_ticks "${1:?log}" "${2:?token}" | tail -n 1)"; }
rt_first_tick() { _rt_nonempty "$(_rt_ticks "${1:?log}" "${2:?token}" | head -n 1)"; }

# rt_time LOG REGEX -> host seconds since power-on (QEMU launch) of the first
# matching line, or "?"
rt_time() { hl_log_time "${1:?log}" "${2:?regex}" 2>/dev/null || echo "?"; }

# rt_timing LOG TOKEN: the milestones of a resume boot, from the host's
# timestamps. Sets RT_T_HIBERLOAD (hiberload's banner), RT_T_FOUND (image
# found), RT_T_VERIFIED (every chunk verified; for the fallback: the fallback
# kernel is being booted), RT_T_JUMP (leaving the firmware; for the fallback:
# kexec -e) and RT_T_FIRST (the first workload line after the resume), each
# "?" when absent, and RT_TIMING, the one-line summary.
rt_timing() {
	local log=${1:?log} token=${2:?token}
	RT_T_HIBERLOAD=$(rt_time "$log" 'hiberload: hiberload [0-9]')
	RT_T_FOUND=$(rt_time "$log" 'hiberload: image on partition')
	RT_T_VERIFIED=$(rt_time "$log" 'hiberload: image verified|mode=fallback: booting|falling back: booting')
	RT_T_JUMP=$(rt_time "$log" 'leaving the firmware and jumping|kexec -e')
	RT_T_FIRST=$(rt_time "$log" "workload: (tick [0-9]+|after hiberload-hibernate).*token=$token")
	RT_TIMING=$(printf 'power-on → hiberload %s s → image found %s s → verified/booting %s s → jump %s s → first workload line %s s' \
		"$RT_T_HIBERLOAD" "$RT_T_FOUND" "$RT_T_VERIFIED" "$RT_T_JUMP" "$RT_T_FIRST")
}

# rt_kernel_booted LOG -> status 0 when a Linux kernel started from the
# beginning in LOG (its banner, or hiberload chain-loading one)
rt_kernel_booted() { grep -Eaq 'Linux version|: booting \\EFI' "${1:?log}"; }
