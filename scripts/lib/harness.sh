# shellcheck shell=bash
# shellcheck disable=SC2034 # HL_* results and constants are read by the tests
# hiberload OVMF test harness -- a bash library, to be sourced:
#
#     source "$(dirname "$0")/../lib/harness.sh"
#
# A "machine" is a directory build/machines/NAME/ holding a private copy of the
# OVMF variable store, a GPT disk image (ESP + hiberload hibernation partition)
# and machine.conf. One hl_boot (or hl_boot_start + hl_boot_wait) is one
# power-on: one QEMU process. Two boots in a row on the same machine model a
# power-off and a later power-on (the vars file and the disk persist);
# hl_power_cut kills QEMU (SIGKILL) and models a power cut.
#
# Every serial byte is time-stamped on the host, relative to the launch of
# QEMU, by a small python3 supervisor (see _hl_py_supervisor):
#   LOG         "[   6.123] text" lines (escape sequences stripped, \r\n, \r
#               and cursor moves end a line; a line the firmware left open for
#               0.2 s is written out and its continuation is "[   6.456]+rest")
#   LOG.raw     the raw serial bytes
#   LOG.events  the QMP events of the run (SHUTDOWN reason ...), time-stamped
#   LOG.qemu    QEMU's own stdout/stderr (and timeout's)
#   LOG.cmd     the exact QEMU command line
#   LOG.meta    key=value facts: machine, boot, t0, rc, elapsed, verdict ...
# See docs/testing.md, section "OVMF harness".
#
# Compatible with `set -euo pipefail`. Sourcing only defines functions and the
# defaults below; nothing is run, no trap is installed (call hl_cleanup from
# your own EXIT trap if you want leftover QEMUs killed).

# ---------------------------------------------------------------------------
# Defaults (each can be set in the environment before or after sourcing)
# ---------------------------------------------------------------------------
_HL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_HL_REPO=$(cd "$_HL_LIB_DIR/../.." && pwd)
: "${HL_OVMF_CODE:=/usr/share/OVMF/OVMF_CODE_4M.fd}"
: "${HL_OVMF_VARS:=/usr/share/OVMF/OVMF_VARS_4M.fd}"
: "${HL_QEMU:=qemu-system-x86_64}"
: "${HL_ACCEL:=tcg}"            # KVM does not work with OVMF on this machine kind
: "${HL_KILL_AFTER:=10}"       # timeout --kill-after (s) after the SIGTERM
: "${HL_DEFAULT_TIMEOUT:=120}" # hl_boot --timeout default (s)
HL_HIB_TYPE_GUID=182aad0a-d5e4-4b60-b136-a6c091f30d90
HL_HIB_PART_NAME=hiberload-image
HL_ESP_TYPE_GUID=c12a7328-f81f-11d2-ba4b-00a0c93ec93b

# Set by hl_boot / hl_boot_wait (when not run in a subshell).
HL_VERDICT=""        # the verdict line
HL_VERDICT_KIND=""   # debug-exit | poweroff | reset | quit | timeout | power-cut | qemu-error
HL_VERDICT_VALUE=""  # debug-exit value (decimal) for kind debug-exit
HL_ELAPSED=""        # seconds from QEMU launch to QEMU exit
HL_LAST_LOG=""       # log of the last boot started by this shell

# ---------------------------------------------------------------------------
# Small internal helpers
# ---------------------------------------------------------------------------
_hl_say() { printf 'harness: %s\n' "$*" >&2; }
_hl_die() { printf 'harness: ERROR: %s\n' "$*" >&2; return 1; }
_hl_now() { local t=$EPOCHREALTIME; printf '%s\n' "${t/,/.}"; }
_hl_build() { printf '%s\n' "${HL_BUILD:-$_HL_REPO/build}"; }
_hl_abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
_hl_rel() { # a path shown relative to the current directory when under it
	case $1 in "$PWD"/*) printf '%s\n' "${1#"$PWD"/}" ;; *) printf '%s\n' "$1" ;; esac
}
_hl_check_name() {
	[[ ${1:-} =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || _hl_die "bad machine name '${1:-}' (use [A-Za-z0-9._-])"
}
_hl_mdir() { printf '%s/machines/%s\n' "$(_hl_build)" "$1"; }
_hl_need_machine() {
	_hl_check_name "$1" || return 1
	[[ -f $(_hl_mdir "$1")/machine.conf ]] || _hl_die "no machine '$1' (hl_machine_create $1 first)"
}
_hl_meta_get() { # FILE KEY -> last value of KEY= in a key=value file
	[[ -f $1 ]] || return 0
	awk -v k="$2" 'index($0, k "=") == 1 { v = substr($0, length(k) + 2) } END { if (v != "") print v }' "$1"
}
_hl_pid_is_qemu() { # PID -> 0 when PID is a live QEMU process
	local comm
	[[ ${1:-} =~ ^[0-9]+$ ]] || return 1
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	[[ $comm == qemu-system* ]]
}
_hl_qemu_pid() { # NAME -> pid of the machine's running QEMU (or nothing, status 1)
	local f pid
	f=$(_hl_mdir "$1")/run/qemu.pid
	[[ -s $f ]] || return 1
	pid=$(tr -dc 0-9 <"$f")
	_hl_pid_is_qemu "$pid" || return 1
	printf '%s\n' "$pid"
}
_hl_sockdir() { # NAME -> directory for the unix sockets (sun_path is 108 bytes)
	local run
	run=$(_hl_mdir "$1")/run
	if ((${#run} <= 90)); then
		printf '%s\n' "$run"
	else
		printf '/tmp/hl-sock-%s\n' "$(printf '%s' "$run" | md5sum | cut -c1-16)"
	fi
}
_hl_part_num() { # PART (1|2|esp|hib|N) -> partition number
	case ${1:-} in
	esp | ESP) echo 1 ;;
	hib | HIB | hibernation) echo 2 ;;
	[1-9] | [1-9][0-9]) echo "$1" ;;
	*) _hl_die "bad partition '${1:-}' (1, 2, esp or hib)" ;;
	esac
}

# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------
_hl_tool_missing() { # WHAT PACKAGE -> appends to the caller's missing/pkgs arrays
	missing+=("$1")
	[[ " ${pkgs[*]-} " == *" $2 "* ]] || pkgs+=("$2")
}
_hl_scan_tools() { # fills the caller's missing/pkgs arrays
	local t
	missing=() pkgs=()
	command -v "$HL_QEMU" >/dev/null 2>&1 || _hl_tool_missing "$HL_QEMU" qemu-system-x86
	[[ -r $HL_OVMF_CODE ]] || _hl_tool_missing "$HL_OVMF_CODE" ovmf
	[[ -r $HL_OVMF_VARS ]] || _hl_tool_missing "$HL_OVMF_VARS" ovmf
	for t in mformat mcopy mmd mdir mdel mdeltree mtype; do
		command -v "$t" >/dev/null 2>&1 || _hl_tool_missing "$t" mtools
	done
	command -v sgdisk >/dev/null 2>&1 || _hl_tool_missing sgdisk gdisk
	for t in timeout dd truncate md5sum stat mktemp; do
		command -v "$t" >/dev/null 2>&1 || _hl_tool_missing "$t" coreutils
	done
	command -v python3 >/dev/null 2>&1 || _hl_tool_missing python3 python3
	command -v awk >/dev/null 2>&1 || _hl_tool_missing awk mawk
	command -v grep >/dev/null 2>&1 || _hl_tool_missing grep grep
	command -v sed >/dev/null 2>&1 || _hl_tool_missing sed sed
}
# hl_require_tools -- checks that QEMU, OVMF, mtools, sgdisk, timeout, python3 ...
# are there. When something is missing and we are root on Debian (and
# HL_NO_INSTALL is unset), installs the packages with apt-get (apt-get update
# first if the install fails). Otherwise prints exactly what is missing and
# which packages provide it, and returns 1.
hl_require_tools() {
	local -a missing=() pkgs=()
	_hl_scan_tools
	((${#missing[@]})) || return 0
	_hl_say "missing: ${missing[*]} (Debian packages: ${pkgs[*]})"
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 && [[ -z ${HL_NO_INSTALL:-} ]]; then
		_hl_say "installing: ${pkgs[*]}"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2; then
			DEBIAN_FRONTEND=noninteractive apt-get update >&2 || true
			DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2 || true
		fi
		_hl_scan_tools
	fi
	if ((${#missing[@]})); then
		_hl_say "still missing: ${missing[*]} -- install with: apt-get install ${pkgs[*]}"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------------------
# Machines
# ---------------------------------------------------------------------------

# hl_machine_create NAME [--mem MiB] [--smp N] [--esp-mib N] [--hib-mib N]
#                        [--disk-mib N] [--extra-qemu ARG]...
# Wipes and (re)creates build/machines/NAME/. --extra-qemu arguments are stored
# in machine.conf and given to QEMU on every boot of the machine (the hardware
# must stay identical between boots).
hl_machine_create() {
	local name=${1:-}
	_hl_check_name "$name" || return 1
	shift
	local mem=512 smp=1 esp=64 hib=768 disk="" a
	local -a extra=()
	while (($#)); do
		case $1 in
		--mem) mem=${2:?--mem needs MiB}; shift 2 ;;
		--smp) smp=${2:?--smp needs N}; shift 2 ;;
		--esp-mib) esp=${2:?--esp-mib needs MiB}; shift 2 ;;
		--hib-mib) hib=${2:?--hib-mib needs MiB}; shift 2 ;;
		--disk-mib) disk=${2:?--disk-mib needs MiB}; shift 2 ;;
		--extra-qemu) extra+=("${2?--extra-qemu needs an argument}"); shift 2 ;;
		*) _hl_die "hl_machine_create: unknown option '$1'"; return 1 ;;
		esac
	done
	for a in "$mem" "$smp" "$esp" "$hib" ${disk:+"$disk"}; do
		[[ $a =~ ^[1-9][0-9]*$ ]] || { _hl_die "hl_machine_create: '$a' is not a positive integer"; return 1; }
	done
	((esp >= 8)) || { _hl_die "hl_machine_create: --esp-mib must be >= 8"; return 1; }
	local need=$((1 + esp + hib + 1))
	[[ -n $disk ]] || disk=$need
	((disk >= need)) || { _hl_die "hl_machine_create: --disk-mib $disk < $need needed"; return 1; }

	local mdir
	mdir=$(_hl_mdir "$name")
	if _hl_qemu_pid "$name" >/dev/null; then
		_hl_die "machine '$name' is running (QEMU pid $(_hl_qemu_pid "$name")); hl_power_cut it first"
		return 1
	fi
	[[ $mdir == */machines/"$name" ]] || { _hl_die "internal: odd machine dir $mdir"; return 1; }
	rm -rf -- "$mdir"
	mkdir -p -- "$mdir/run"

	cp -- "$HL_OVMF_VARS" "$mdir/OVMF_VARS.fd" || return 1
	local img=$mdir/disk.img
	truncate -s "${disk}M" "$img" || return 1
	sgdisk -o \
		-n "1:2048:+${esp}M" -t "1:EF00" -c "1:EFI system partition" \
		-n "2:0:+${hib}M" -t "2:$HL_HIB_TYPE_GUID" -c "2:$HL_HIB_PART_NAME" \
		"$img" >"$mdir/run/sgdisk.out" 2>&1 || {
		cat "$mdir/run/sgdisk.out" >&2
		_hl_die "sgdisk failed on $img"
		return 1
	}

	# Read the partitions back: offsets, sizes, PARTUUIDs, types, names.
	local -a conf=()
	local i info first last uuid type pname diskguid
	diskguid=$(sgdisk -p "$img" | awk -F': ' '/^Disk identifier \(GUID\)/ { print tolower($2) }')
	for i in 1 2; do
		info=$(sgdisk -i "$i" "$img") || { _hl_die "sgdisk -i $i failed"; return 1; }
		first=$(awk '/^First sector:/ { print $3 }' <<<"$info")
		last=$(awk '/^Last sector:/ { print $3 }' <<<"$info")
		uuid=$(awk '/^Partition unique GUID:/ { print tolower($4) }' <<<"$info")
		type=$(awk '/^Partition GUID code:/ { print tolower($4) }' <<<"$info")
		pname=$(sed -n "s/^Partition name: '\(.*\)'\$/\1/p" <<<"$info")
		[[ $first =~ ^[0-9]+$ && $last =~ ^[0-9]+$ && -n $uuid ]] || {
			_hl_die "cannot parse sgdisk -i $i output"
			return 1
		}
		conf+=("HL_M_P${i}_OFFSET=$((first * 512))" "HL_M_P${i}_SIZE=$(((last - first + 1) * 512))"
			"HL_M_P${i}_PARTUUID=$uuid" "HL_M_P${i}_TYPE=$type" "HL_M_P${i}_NAME=$pname")
	done
	local esp_off=$((2048 * 512))

	# FAT32 needs >= 65525 clusters, which edk2 checks: FAT16 below 64 MiB.
	local -a fat=(-F)
	((esp >= 64)) || fat=()
	MTOOLS_SKIP_CHECK=1 mformat -i "$img@@$esp_off" "${fat[@]}" -T $((esp * 2048)) -H 2048 \
		-v HLESP :: >"$mdir/run/mformat.out" 2>&1 || {
		cat "$mdir/run/mformat.out" >&2
		_hl_die "mformat failed"
		return 1
	}

	{
		echo "# hiberload test machine -- written by hl_machine_create; sourceable"
		printf 'HL_M_NAME=%q\n' "$name"
		printf 'HL_M_DIR=%q\n' "$mdir"
		printf 'HL_M_CREATED=%q\n' "$(date -Is)"
		printf 'HL_M_MEM=%q\n' "$mem"
		printf 'HL_M_SMP=%q\n' "$smp"
		printf 'HL_M_OVMF_CODE=%q\n' "$HL_OVMF_CODE"
		printf 'HL_M_VARS=%q\n' "$mdir/OVMF_VARS.fd"
		printf 'HL_M_DISK=%q\n' "$img"
		printf 'HL_M_DISK_BYTES=%q\n' "$((disk * 1024 * 1024))"
		printf 'HL_M_DISK_GUID=%q\n' "$diskguid"
		printf 'HL_M_ESP_PART=1\nHL_M_HIB_PART=2\n'
		for a in "${conf[@]}"; do printf '%s=%q\n' "${a%%=*}" "${a#*=}"; done
		printf 'HL_M_ESP_FAT=%q\n' "$([[ ${#fat[@]} -gt 0 ]] && echo 32 || echo 16)"
		printf 'HL_M_EXTRA_QEMU=('
		for a in "${extra[@]}"; do printf '%q ' "$a"; done
		printf ')\n'
	} >"$mdir/machine.conf"
	echo 0 >"$mdir/run/boots"
	_hl_say "machine $name: $(_hl_rel "$mdir") (disk ${disk} MiB: ESP ${esp} MiB FAT$(_hl_meta_get "$mdir/machine.conf" HL_M_ESP_FAT), hib ${hib} MiB; -m $mem -smp $smp)"
}

# hl_machine_dir NAME -> the machine's directory
hl_machine_dir() { _hl_need_machine "${1:-}" && _hl_mdir "$1"; }

# hl_machine_conf NAME KEY -> value of KEY from machine.conf (e.g. HL_M_P2_PARTUUID)
hl_machine_conf() {
	_hl_need_machine "${1:-}" || return 1
	[[ ${2:-} =~ ^HL_M_[A-Z0-9_]+$ ]] || { _hl_die "hl_machine_conf: bad key '${2:-}'"; return 1; }
	(
		set +u
		# shellcheck source=/dev/null
		. "$(_hl_mdir "$1")/machine.conf"
		if [[ $2 == HL_M_EXTRA_QEMU ]]; then printf '%s\n' "${HL_M_EXTRA_QEMU[@]}"; else printf '%s\n' "${!2}"; fi
	)
}

# hl_machine_running NAME -> status 0 while a QEMU of the machine runs
hl_machine_running() { _hl_qemu_pid "${1:-}" >/dev/null; }

# hl_machine_delete NAME
hl_machine_delete() {
	_hl_check_name "${1:-}" || return 1
	if hl_machine_running "$1"; then _hl_die "machine '$1' is running"; return 1; fi
	rm -rf -- "$(_hl_mdir "$1")"
}

# ---------------------------------------------------------------------------
# ESP access (mtools on the image at the partition's offset; no mounting)
# ---------------------------------------------------------------------------
_hl_esp_img() { # NAME -> "disk.img@@OFFSET"
	local d o
	d=$(hl_machine_conf "$1" HL_M_DISK) || return 1
	o=$(hl_machine_conf "$1" HL_M_P1_OFFSET) || return 1
	printf '%s@@%s\n' "$d" "$o"
}
_hl_esp_path() { # ESP path (EFI/BOOT/x, \EFI\BOOT\x, /EFI/...) -> ::/EFI/BOOT/x
	local p=${1//\\//}
	while [[ $p == /* ]]; do p=${p#/}; done
	printf '::/%s\n' "$p"
}
_hl_not_running() {
	if hl_machine_running "$1"; then
		_hl_die "machine '$1' is running: not touching its disk behind the guest's back"
		return 1
	fi
}

# hl_esp_put NAME HOST_FILE ESP_PATH   (creates directories, overwrites)
hl_esp_put() {
	local name=${1:-} src=${2:-} dst=${3:-}
	_hl_need_machine "$name" || return 1
	[[ -f $src ]] || { _hl_die "hl_esp_put: no file '$src'"; return 1; }
	[[ -n $dst ]] || { _hl_die "hl_esp_put: ESP path missing"; return 1; }
	_hl_not_running "$name" || return 1
	local img path dir cur="" comp
	img=$(_hl_esp_img "$name") || return 1
	path=$(_hl_esp_path "$dst")
	dir=${path#::/}
	dir=${dir%/*}
	[[ $dir == "${path#::/}" ]] && dir=""
	local IFS=/
	for comp in $dir; do
		[[ -n $comp ]] || continue
		cur+=/$comp
		MTOOLS_SKIP_CHECK=1 mdir -i "$img" "::$cur" >/dev/null 2>&1 ||
			MTOOLS_SKIP_CHECK=1 mmd -i "$img" "::$cur" || { _hl_die "mmd ::$cur failed"; return 1; }
	done
	unset IFS
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$img" "$src" "$path" || { _hl_die "mcopy $src -> $path failed"; return 1; }
}

# hl_esp_put_text NAME ESP_PATH TEXT   (writes TEXT, as is, into a file on the ESP)
hl_esp_put_text() {
	local tmp rc=0
	tmp=$(mktemp) || return 1
	printf '%s' "${3-}" >"$tmp"
	hl_esp_put "${1:-}" "$tmp" "${2:-}" || rc=$?
	rm -f -- "$tmp"
	return "$rc"
}

# hl_esp_get NAME ESP_PATH HOST_FILE|-
hl_esp_get() {
	local name=${1:-} src=${2:-} dst=${3:--} img
	_hl_need_machine "$name" || return 1
	img=$(_hl_esp_img "$name") || return 1
	if [[ $dst == - ]]; then
		MTOOLS_SKIP_CHECK=1 mtype -i "$img" "$(_hl_esp_path "$src")"
	else
		MTOOLS_SKIP_CHECK=1 mcopy -n -o -i "$img" "$(_hl_esp_path "$src")" "$dst"
	fi
}

# hl_esp_exists NAME ESP_PATH -> status 0 if the file or directory exists
hl_esp_exists() {
	local img
	_hl_need_machine "${1:-}" || return 1
	img=$(_hl_esp_img "$1") || return 1
	MTOOLS_SKIP_CHECK=1 mdir -i "$img" "$(_hl_esp_path "${2:-}")" >/dev/null 2>&1
}

# hl_esp_ls NAME [ESP_DIR] -> every file and directory below ESP_DIR (recursive),
# one "/EFI/BOOT/BOOTX64.EFI" path per line (directories end with /)
hl_esp_ls() {
	local img
	_hl_need_machine "${1:-}" || return 1
	img=$(_hl_esp_img "$1") || return 1
	MTOOLS_SKIP_CHECK=1 mdir -i "$img" -/ -b "$(_hl_esp_path "${2:-/}")" | sed 's/^:://'
}

# hl_esp_rm NAME ESP_PATH   (a file, or a directory with its contents)
hl_esp_rm() {
	local name=${1:-} img p
	_hl_need_machine "$name" || return 1
	_hl_not_running "$name" || return 1
	img=$(_hl_esp_img "$name") || return 1
	p=$(_hl_esp_path "${2:-}")
	[[ $p != ::/ ]] || { _hl_die "hl_esp_rm: refusing to remove the ESP root"; return 1; }
	MTOOLS_SKIP_CHECK=1 mdel -i "$img" "$p" >/dev/null 2>&1 ||
		MTOOLS_SKIP_CHECK=1 mdeltree -i "$img" "$p" >/dev/null 2>&1 ||
		{ _hl_die "hl_esp_rm: cannot remove $p"; return 1; }
}

# ---------------------------------------------------------------------------
# Raw partition access (the partitions live inside disk.img at an offset)
# ---------------------------------------------------------------------------
# hl_partition_path NAME [PART] -> the disk image holding the partition
hl_partition_path() { hl_machine_conf "${1:-}" HL_M_DISK; }
# hl_partition_offset NAME PART -> byte offset of PART (1|2|esp|hib) in the image
hl_partition_offset() {
	local n
	n=$(_hl_part_num "${2:-}") || return 1
	hl_machine_conf "${1:-}" "HL_M_P${n}_OFFSET"
}
# hl_partition_size NAME PART -> size of PART in bytes
hl_partition_size() {
	local n
	n=$(_hl_part_num "${2:-}") || return 1
	hl_machine_conf "${1:-}" "HL_M_P${n}_SIZE"
}
# hl_partition_partuuid NAME PART -> PARTUUID (lower case)
hl_partition_partuuid() {
	local n
	n=$(_hl_part_num "${2:-}") || return 1
	hl_machine_conf "${1:-}" "HL_M_P${n}_PARTUUID"
}
_hl_part_range() { # NAME PART OFF LEN -> checks [OFF, OFF+LEN) lies in PART; prints abs offset
	local poff psize
	poff=$(hl_partition_offset "$1" "$2") || return 1
	psize=$(hl_partition_size "$1" "$2") || return 1
	[[ $3 =~ ^[0-9]+$ && $4 =~ ^[0-9]+$ ]] || { _hl_die "bad offset/length '$3' '$4'"; return 1; }
	(($3 + $4 <= psize)) || {
		_hl_die "range [$3, $(($3 + $4))) outside partition $2 ($psize bytes)"
		return 1
	}
	echo $((poff + $3))
}
# hl_partition_read NAME PART OFFSET LENGTH [OUTFILE|-]   (OFFSET within the partition)
hl_partition_read() {
	local abs img
	abs=$(_hl_part_range "${1:-}" "${2:-}" "${3:-}" "${4:-}") || return 1
	img=$(hl_partition_path "$1") || return 1
	dd if="$img" of="${5:-/dev/stdout}" bs=1M iflag=skip_bytes,count_bytes skip="$abs" count="$4" status=none
}
# hl_partition_write NAME PART OFFSET INFILE   (bounds-checked; never grows the image)
hl_partition_write() {
	local abs img len
	[[ -f ${4:-} ]] || { _hl_die "hl_partition_write: no file '${4:-}'"; return 1; }
	_hl_not_running "${1:-}" || return 1
	len=$(stat -c %s -- "$4")
	abs=$(_hl_part_range "$1" "${2:-}" "${3:-}" "$len") || return 1
	img=$(hl_partition_path "$1") || return 1
	dd if="$4" of="$img" bs=1M oflag=seek_bytes seek="$abs" conv=notrunc status=none
}
# hl_partition_zero NAME PART [OFFSET LENGTH]   (default: the whole partition)
hl_partition_zero() {
	local abs img size off=${3:-0} len=${4:-}
	_hl_not_running "${1:-}" || return 1
	size=$(hl_partition_size "$1" "${2:-}") || return 1
	[[ -n $len ]] || len=$((size - off))
	abs=$(_hl_part_range "$1" "$2" "$off" "$len") || return 1
	img=$(hl_partition_path "$1") || return 1
	dd if=/dev/zero of="$img" bs=1M oflag=seek_bytes iflag=count_bytes seek="$abs" count="$len" \
		conv=notrunc status=none
}

# ---------------------------------------------------------------------------
# QEMU command line
# ---------------------------------------------------------------------------
# _hl_qemu_args NAME MODE -> NUL-separated QEMU argv. MODE: harness | interactive
_hl_qemu_args() {
	local name=$1 mode=$2 mdir sock
	mdir=$(_hl_mdir "$name")
	sock=$(_hl_sockdir "$name")
	(
		set +u
		# shellcheck source=/dev/null
		. "$mdir/machine.conf"
		# shellcheck disable=SC2054 # the commas are inside QEMU option values
		a=("$HL_QEMU"
			-machine q35 -accel "$HL_ACCEL"
			-m "$HL_M_MEM" -smp "$HL_M_SMP"
			-display none)
		if [[ $mode == harness ]]; then
			# shellcheck disable=SC2054
			a+=(-monitor none
				-chardev "pipe,id=hlser,path=$mdir/run/serial" -serial chardev:hlser
				-chardev "socket,id=hlevt,path=$sock/events.sock" -mon chardev=hlevt,mode=control
				-qmp "unix:$sock/qmp.sock,server=on,wait=off")
		else
			a+=(-serial mon:stdio)
		fi
		# shellcheck disable=SC2054
		a+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$HL_M_OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$HL_M_VARS"
			-drive "if=none,id=disk0,format=raw,file=$HL_M_DISK"
			-device virtio-blk-pci,drive=disk0
			-nic none
			-device isa-debug-exit,iobase=0x501,iosize=1
			-no-reboot)
		[[ $mode == harness ]] && a+=(-pidfile "$mdir/run/qemu.pid")
		a+=("${HL_M_EXTRA_QEMU[@]}")
		printf '%s\0' "${a[@]}"
	)
}

# hl_qemu_cmdline NAME [--interactive] -> the QEMU command line of the machine, one
# line, shell-quoted. --interactive: serial and monitor on stdio (Ctrl-A x quits),
# for running the machine by hand.
hl_qemu_cmdline() {
	local name=${1:-} mode=harness
	_hl_need_machine "$name" || return 1
	[[ ${2:-} == --interactive ]] && mode=interactive
	local -a a=()
	mapfile -d '' a < <(_hl_qemu_args "$name" "$mode")
	((${#a[@]})) || return 1
	local x sep=""
	for x in "${a[@]}"; do
		printf '%s%s' "$sep" "$(_hl_q "$x")"
		sep=" "
	done
	echo
}

_hl_q() { # ARG -> shell-quoted only when needed (readable command lines)
	if [[ $1 =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

_hl_write_cmd_file() { # FILE TIMEOUT ARGS... -> readable, copyable command file
	local f=$1 t=$2 x
	shift 2
	{
		printf '# hiberload OVMF harness: QEMU command line, %s\n' "$(date -Is)"
		printf '# run as: timeout --kill-after=%s %s <this command>\n' "$HL_KILL_AFTER" "$t"
		_hl_q "$1"
		shift
		while (($#)); do
			x=$1
			shift
			printf ' \\\n  %s' "$(_hl_q "$x")"
			if [[ $x == -* && $# -gt 0 && ${1:0:1} != - ]]; then
				printf ' %s' "$(_hl_q "$1")"
				shift
			fi
		done
		echo
	} >"$f"
}

# ---------------------------------------------------------------------------
# The python3 supervisor: starts `timeout ... qemu`, owns the serial and QMP-event
# sockets (QEMU connects to them as a client, so nothing is lost at start), writes
# LOG / LOG.raw / LOG.events, forwards run/serial.in (a FIFO) to the serial port,
# and appends the exit facts to LOG.meta.
# ---------------------------------------------------------------------------
_hl_py_supervisor() {
	cat <<'PYEOF'
import codecs, fcntl, json, os, select, signal, socket, subprocess, sys, time

sockdir, rundir, log, tmo, kill_after, input_file = sys.argv[1:7]
assert sys.argv[7] == '--'
qemu = sys.argv[8:]
IDLE_FLUSH = 0.2

class Lines:
    """Serial bytes -> '[   t.ttt] text' lines (t = arrival of the line's first char)."""
    def __init__(self, f, t0):
        self.f, self.t0 = f, t0
        self.buf, self.t, self.cont = [], None, False
        self.cr = self.crblank = False
        self.esc, self.csi, self.row = None, '', None
        self.dec = codecs.getincrementaldecoder('utf-8')('replace')
        self.last = 0.0
    def emit(self, partial=False, now=None):
        if not self.buf and self.cont and not partial:
            self.cont = False          # terminator of an already flushed partial line
            return
        t = self.t if self.t is not None else (now or time.time())
        self.f.write('[%8.3f]%s%s\n' % (t - self.t0, '+' if self.cont else ' ', ''.join(self.buf)))
        self.f.flush()
        self.buf, self.t, self.cont = [], None, partial
    def feed(self, data, now, final=False):
        self.last = now
        for ch in self.dec.decode(data, final):
            if self.esc == 'esc':
                self.esc = 'csi' if ch == '[' else None
                self.csi = ''
                continue
            if self.esc == 'csi':
                if '\x40' <= ch <= '\x7e':
                    self.esc = None
                    brk = ch == 'J'                # erase display
                    if ch in 'Hf':                 # cursor position: a new line when it
                        try:                       # goes to column 1 or to another row
                            rc = [int(x) if x else 1 for x in self.csi.split(';')] + [1, 1]
                        except ValueError:
                            rc = [None, 1]
                        brk = rc[1] == 1 or rc[0] != self.row
                        self.row = rc[0]
                    if brk:
                        if self.buf and not ''.join(self.buf).isspace():
                            self.emit(now=now)
                        self.buf, self.t, self.cont = [], None, False
                else:
                    self.csi += ch
                    if len(self.csi) > 32:
                        self.esc = None
                continue
            if ch == '\r':
                if self.buf:
                    self.emit(now=now)
                    self.crblank = False
                else:
                    self.crblank = not self.cr or self.crblank
                self.cr = True
                continue
            if ch == '\n':
                if not self.cr or self.crblank:
                    self.emit(now=now)
                self.cr = self.crblank = False
                self.row = None
                continue
            self.cr = self.crblank = False
            if ch == '\x1b':
                self.esc = 'esc'
                continue
            if ch == '\t' or (ch >= ' ' and not ('\x7f' <= ch <= '\x9f')):
                if self.t is None:
                    self.t = now
                self.buf.append(ch)
    def idle(self, now):
        if self.buf and now - self.last >= IDLE_FLUSH:
            self.emit(partial=True, now=now)
    def close(self, now):
        self.feed(b'', now, final=True)
        if self.buf:
            self.emit(now=now)

def meta(**kw):
    with open(log + '.meta', 'a') as m:
        for k, v in kw.items():
            m.write('%s=%s\n' % (k, v))

# QMP events: QEMU connects to this socket as a client at start-up.
listeners = {}
p = os.path.join(sockdir, 'events.sock')
try:
    os.unlink(p)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(p)
s.listen(1)
listeners[s] = 'events'

# Serial: QEMU's pipe chardev writes guest output to serial.out and reads guest
# input from serial.in. Not a socket: QEMU's 16550 writes one byte per write()
# and drops a byte after 4 failed retries; a unix socket's send buffer fills
# after ~200 one-byte writes when this reader is descheduled (a loaded host
# lost bytes that way), a pipe merges them and is enlarged to 1 MiB here.
fifos = {}
for kind in ('in', 'out'):
    p = os.path.join(rundir, 'serial.' + kind)
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass
    os.mkfifo(p, 0o600)
    fifos[kind] = os.open(p, os.O_RDWR | os.O_NONBLOCK)   # RDWR: never blocks, no EOF
try:
    maxsz = int(open('/proc/sys/fs/pipe-max-size').read())
except (OSError, ValueError):
    maxsz = 1 << 20
for fd in fifos.values():
    try:
        fcntl.fcntl(fd, getattr(fcntl, 'F_SETPIPE_SZ', 1031), min(1 << 20, maxsz))
    except OSError:
        pass
out_fd = fifos['out']

logf = open(log, 'w', encoding='utf-8', errors='replace')
rawf = open(log + '.raw', 'wb')
evf = open(log + '.events', 'w')
errf = open(log + '.qemu', 'wb')

stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
signal.signal(signal.SIGINT, lambda *a: stop.append(1))

t0 = time.time()
proc = subprocess.Popen(['timeout', '--kill-after=' + kill_after, tmo] + qemu,
                        stdin=subprocess.DEVNULL, stdout=errf, stderr=subprocess.STDOUT)
meta(t0='%.6f' % t0, supervisor_pid=os.getpid(), timeout_pid=proc.pid)
lines = Lines(logf, t0)
conns = {}                     # socket -> kind
evbuf = b''
shutdown_reason = ''
first_byte = ''
if input_file:
    try:
        os.write(fifos['in'], open(input_file, 'rb').read())
    except OSError as e:
        print('serial input: %s' % e, file=sys.stderr)

def read_serial(now):
    global first_byte
    while True:
        try:
            data = os.read(out_fd, 65536)
        except BlockingIOError:
            return
        if not data:
            return
        if not first_byte:
            first_byte = '%.3f' % (now - t0)
        rawf.write(data)
        rawf.flush()
        lines.feed(data, now)
exited_at = None
exit_status = 0
rusage = None                  # QEMU's CPU time (timeout waits for QEMU, so wait4
killed = False                 # on timeout includes it)

def kill_qemu():
    try:
        pid = int(open(os.path.join(rundir, 'qemu.pid')).read().strip())
        if open('/proc/%d/comm' % pid).read().startswith('qemu-system'):
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        try:
            proc.kill()
        except OSError:
            pass

while True:
    now = time.time()
    if stop and not killed:
        kill_qemu()
        killed = True
    if exited_at is None:
        try:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = proc.pid, 0
        if pid:
            exited_at, exit_status = now, status
    if exited_at is not None:
        # QEMU is gone: take what the serial pipe and the sockets still hold.
        read_serial(now)
        if not conns or now - exited_at > 3.0:
            break
    rl = list(listeners) + list(conns) + [out_fd]
    try:
        ready, _, _ = select.select(rl, [], [], 0.05)
    except InterruptedError:
        continue
    now = time.time()
    for r in ready:
        if r == out_fd:
            read_serial(now)
        elif r in listeners:
            c, _ = r.accept()
            conns[c] = listeners[r]
            c.sendall(b'{"execute": "qmp_capabilities"}\n')
        else:
            try:
                data = r.recv(65536)
            except OSError:
                data = b''
            if not data:
                r.close()
                del conns[r]
                continue
            evbuf += data
            while b'\n' in evbuf:
                ln, evbuf = evbuf.split(b'\n', 1)
                ln = ln.strip()
                if not ln:
                    continue
                evf.write('[%8.3f] %s\n' % (now - t0, ln.decode('utf-8', 'replace')))
                evf.flush()
                try:
                    j = json.loads(ln)
                    if j.get('event') == 'SHUTDOWN':
                        shutdown_reason = j.get('data', {}).get('reason', '')
                except ValueError:
                    pass
    lines.idle(time.time())

if exited_at is None:                  # stopped waiting without an exit: make sure
    kill_qemu()                        # nothing is left behind
    pid, exit_status, rusage = os.wait4(proc.pid, 0)
    exited_at = time.time()
t_end = exited_at
lines.close(time.time())
for f in (logf, rawf, evf, errf):
    f.close()
rc = os.waitstatus_to_exitcode(exit_status)
meta(rc=(128 - rc) if rc < 0 else rc, rc_signal=(-rc if rc < 0 else ''),
     t_end='%.6f' % t_end, elapsed='%.3f' % (t_end - t0),
     cpu_user='%.2f' % rusage.ru_utime if rusage else '',
     cpu_sys='%.2f' % rusage.ru_stime if rusage else '',
     serial_first_byte=first_byte, shutdown_reason=shutdown_reason,
     supervisor_killed=1 if killed else '', finished=1)
PYEOF
}

# ---------------------------------------------------------------------------
# Boots
# ---------------------------------------------------------------------------

# hl_boot_start NAME [--log FILE] [--timeout S] [--expect E] [--serial-input FILE]
#                    [--extra-qemu ARG]... [-- QEMU_ARGS...]
# Powers the machine on (one QEMU process) and returns at once; prints the QEMU
# pid on stdout (safe to call as pid=$(hl_boot_start ...)). hl_boot_wait gives
# the verdict. --serial-input FILE: bytes sent to the serial port as soon as
# QEMU connects. The expectation E is described at hl_boot_wait.
hl_boot_start() {
	local name=${1:-}
	_hl_need_machine "$name" || return 1
	shift
	local log="" tmo=$HL_DEFAULT_TIMEOUT expect=any input=""
	local -a extra=()
	while (($#)); do
		case $1 in
		--log) log=${2:?--log needs a file}; shift 2 ;;
		--timeout) tmo=${2:?--timeout needs seconds}; shift 2 ;;
		--expect) expect=${2:?--expect needs a verdict}; shift 2 ;;
		--serial-input) input=${2:?--serial-input needs a file}; shift 2 ;;
		--extra-qemu) extra+=("${2?--extra-qemu needs an argument}"); shift 2 ;;
		--) shift; extra+=("$@"); break ;;
		*) _hl_die "hl_boot_start: unknown option '$1'"; return 1 ;;
		esac
	done
	[[ $tmo =~ ^[0-9]+(\.[0-9]+)?$ ]] || { _hl_die "bad --timeout '$tmo'"; return 1; }
	_hl_parse_expect "$expect" >/dev/null || return 1
	if [[ -n $input ]]; then
		[[ -r $input ]] || { _hl_die "no serial input file '$input'"; return 1; }
		input=$(_hl_abs "$input")
	fi

	local mdir run sock n pid
	mdir=$(_hl_mdir "$name")
	run=$mdir/run
	mkdir -p "$run"
	if pid=$(_hl_qemu_pid "$name"); then
		_hl_die "machine '$name' is already running (QEMU pid $pid)"
		return 1
	fi
	# A previous run's supervisor may still be draining its sockets: let it end.
	local old i
	old=$(cat "$run/supervisor.pid" 2>/dev/null || true)
	for ((i = 0; i < 100; i++)); do
		if ! [[ $old =~ ^[0-9]+$ ]] || ! kill -0 "$old" 2>/dev/null; then break; fi
		sleep 0.05
	done
	sock=$(_hl_sockdir "$name")
	mkdir -p "$sock"
	n=$(($(cat "$run/boots" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$run/boots"
	[[ -n $log ]] || log=$(_hl_build)/logs/$name-boot$n.log
	log=$(_hl_abs "$log")
	mkdir -p "$(dirname "$log")"
	rm -f -- "$log" "$log.raw" "$log.events" "$log.qemu" "$log.cmd" "$log.meta" \
		"$run/qemu.pid" "$run/powercut" "$run/supervisor.pid"

	local -a cmd=()
	mapfile -d '' cmd < <(_hl_qemu_args "$name" harness)
	((${#cmd[@]})) || { _hl_die "cannot build the QEMU command line"; return 1; }
	cmd+=("${extra[@]}")
	_hl_write_cmd_file "$log.cmd" "$tmo" "${cmd[@]}"
	{
		echo "machine=$name"
		echo "boot=$n"
		echo "log=$log"
		echo "expect=$expect"
		echo "timeout=$tmo"
		echo "owner=$$"
	} >"$log.meta"
	printf '%s\n' "$log" >"$run/current"
	echo "$$" >"$run/owner"
	HL_LAST_LOG=$log

	_hl_py_supervisor >"$run/supervisor.py"
	python3 "$run/supervisor.py" "$sock" "$run" "$log" "$tmo" "$HL_KILL_AFTER" "$input" -- \
		"${cmd[@]}" </dev/null >"$run/supervisor.log" 2>&1 &
	echo "$!" >"$run/supervisor.pid"

	# Wait for QEMU's pid file (or the end of the run, when QEMU failed at once).
	for ((i = 0; i < 300; i++)); do
		if pid=$(_hl_qemu_pid "$name"); then break; fi
		pid=""
		[[ -n $(_hl_meta_get "$log.meta" finished) ]] && break
		kill -0 "$(cat "$run/supervisor.pid")" 2>/dev/null || break
		sleep 0.05
	done
	if [[ -n $pid ]]; then
		_hl_say "boot $name #$n: started, QEMU pid $pid, timeout ${tmo} s, expect $expect — log: $(_hl_rel "$log")"
	else
		_hl_say "boot $name #$n: QEMU did not start (see $(_hl_rel "$log").qemu)"
	fi
	printf '%s\n' "${pid:-0}"
}

# hl_boot_log NAME -> log file of the machine's current (or last) boot
hl_boot_log() {
	_hl_need_machine "${1:-}" || return 1
	cat "$(_hl_mdir "$1")/run/current" 2>/dev/null || { _hl_die "machine '$1' was never booted"; return 1; }
}

_hl_parse_expect() { # E -> validates; prints the alternatives one per line
	local e alt v
	local -a alts
	IFS='|' read -r -a alts <<<"$1"
	((${#alts[@]})) || { _hl_die "empty expectation"; return 1; }
	for alt in "${alts[@]}"; do
		case $alt in
		any | poweroff | reset | quit | timeout | timeout-ok | power-cut | powercut | qemu-error) echo "$alt" ;;
		exit:* | debug-exit:*)
			v=${alt#*:}
			if ! [[ $v =~ ^(0x[0-9a-fA-F]+|[0-9]+)$ ]] || ((v > 127)); then
				_hl_die "bad debug-exit value in '$alt' (0..127, decimal or 0x..)"
				return 1
			fi
			e=$((v))
			echo "exit:$e"
			;;
		*) _hl_die "bad expectation '$alt' (exit:V | poweroff | reset | quit | timeout | power-cut | qemu-error | any, joined with |)"; return 1 ;;
		esac
	done
}

_hl_describe_expect() { # E -> human words
	local alt out=""
	while read -r alt; do
		case $alt in
		exit:*) alt=$(printf 'debug-exit 0x%x' "${alt#exit:}") ;;
		timeout-ok) alt=timeout ;;
		powercut) alt=power-cut ;;
		esac
		out+=${out:+ or }$alt
	done < <(_hl_parse_expect "$1")
	printf '%s\n' "$out"
}

# hl_boot_wait NAME [--expect E] [--quiet]
# Waits for the machine's QEMU to exit and prints the verdict line:
#   harness: boot NAME #N: PASS (debug-exit 0x10) in 6.3 s — log: build/logs/NAME-bootN.log
# Verdict kinds: debug-exit V (QEMU status (V<<1)|1), poweroff (status 0, guest
# shutdown), reset (status 0, guest reset/triple fault under -no-reboot), quit
# (status 0, QMP quit), timeout, power-cut (hl_power_cut), qemu-error.
# Expectation E (default "any" = anything but timeout and qemu-error):
#   exit:V | poweroff | reset | quit | timeout (alias timeout-ok) | power-cut |
#   qemu-error | any, alternatives joined with "|" (e.g. "exit:0x10|poweroff").
# Returns 0 on PASS, 1 on FAIL. Sets HL_VERDICT, HL_VERDICT_KIND,
# HL_VERDICT_VALUE, HL_ELAPSED. Waiting again re-judges the same run.
hl_boot_wait() {
	local name=${1:-}
	_hl_need_machine "$name" || return 1
	shift
	local expect="" quiet=""
	while (($#)); do
		case $1 in
		--expect) expect=${2:?--expect needs a verdict}; shift 2 ;;
		--quiet) quiet=1; shift ;;
		*) _hl_die "hl_boot_wait: unknown option '$1'"; return 1 ;;
		esac
	done
	local run log meta
	run=$(_hl_mdir "$name")/run
	log=$(hl_boot_log "$name") || return 1
	meta=$log.meta
	[[ -n $expect ]] || expect=$(_hl_meta_get "$meta" expect)
	_hl_parse_expect "${expect:=any}" >/dev/null || return 1

	# The supervisor writes finished=1 into LOG.meta as its very last act.
	local tmo limit t_start sup
	tmo=$(_hl_meta_get "$meta" timeout)
	limit=$(awk -v t="${tmo:-0}" -v k="$HL_KILL_AFTER" 'BEGIN { printf "%d", t + k + 30 }')
	t_start=$SECONDS
	while [[ -z $(_hl_meta_get "$meta" finished) ]]; do
		sup=$(cat "$run/supervisor.pid" 2>/dev/null || true)
		if [[ -n $sup ]] && ! kill -0 "$sup" 2>/dev/null; then
			sleep 0.2
			[[ -n $(_hl_meta_get "$meta" finished) ]] && break
			_hl_die "the supervisor of $name died without a result (see $run/supervisor.log)"
			return 1
		fi
		if ((SECONDS - t_start > limit)); then
			_hl_die "boot $name: no end after ${limit} s; killing it"
			hl_power_cut "$name" >/dev/null 2>&1 || true
			if [[ -n $sup ]]; then kill "$sup" 2>/dev/null || true; fi
			sleep 1
			break
		fi
		sleep 0.05
	done
	sup=$(cat "$run/supervisor.pid" 2>/dev/null || true)
	local i
	for ((i = 0; i < 50; i++)); do
		if [[ -z $sup ]] || ! kill -0 "$sup" 2>/dev/null; then break; fi
		sleep 0.05
	done

	local rc sig elapsed reason kind="" value="" desc="" n errline
	rc=$(_hl_meta_get "$meta" rc)
	sig=$(_hl_meta_get "$meta" rc_signal)
	elapsed=$(_hl_meta_get "$meta" elapsed)
	reason=$(_hl_meta_get "$meta" shutdown_reason)
	n=$(_hl_meta_get "$meta" boot)
	errline=$(grep -m1 -E '^(qemu-system[^:]*|timeout): ' "$log.qemu" 2>/dev/null |
		grep -v 'terminating on signal' || true)
	if [[ -f $run/powercut ]] && [[ $(cat "$run/powercut") == "$log" ]]; then
		kind=power-cut desc="power cut (QEMU killed) after $(printf '%.1f' "${elapsed:-0}") s"
	elif [[ -z $rc ]]; then
		kind=qemu-error desc="qemu-error (no exit status recorded)"
	elif [[ $rc == 124 ]] || { [[ $sig == 9 ]] && awk -v e="${elapsed:-0}" -v t="${tmo:-0}" 'BEGIN { exit !(e >= t) }'; }; then
		kind=timeout desc="timeout after ${tmo} s"
	elif [[ -n $sig ]]; then
		kind=qemu-error desc="qemu-error (QEMU killed by signal $sig)"
	elif [[ $rc == 0 ]]; then
		case $reason in
		guest-reset) kind=reset desc="reset (guest reset, -no-reboot)" ;;
		host-qmp-quit) kind=quit desc="quit (QMP quit)" ;;
		host-signal) kind=qemu-error desc="qemu-error (QEMU ended by a signal)" ;;
		*) kind=poweroff desc="poweroff" ;;
		esac
	elif ((rc % 2 == 1)) && [[ -z $errline ]]; then
		kind=debug-exit value=$((rc >> 1))
		desc=$(printf 'debug-exit 0x%x' "$value")
	else
		kind=qemu-error desc="qemu-error (exit status $rc${errline:+: $errline})"
	fi

	local ok=1 alt
	while read -r alt; do
		case $alt in
		any) [[ $kind != timeout && $kind != qemu-error ]] && ok=0 ;;
		exit:*) [[ $kind == debug-exit && $value == "${alt#exit:}" ]] && ok=0 ;;
		timeout | timeout-ok) [[ $kind == timeout ]] && ok=0 ;;
		power-cut | powercut) [[ $kind == power-cut ]] && ok=0 ;;
		*) [[ $kind == "$alt" ]] && ok=0 ;;
		esac
	done < <(_hl_parse_expect "$expect")

	local verdict
	if ((ok == 0)); then
		verdict="harness: boot $name #$n: PASS ($desc) in $(printf '%.1f' "${elapsed:-0}") s — log: $(_hl_rel "$log")"
	else
		verdict="harness: boot $name #$n: FAIL ($desc; expected $(_hl_describe_expect "$expect")) in $(printf '%.1f' "${elapsed:-0}") s — log: $(_hl_rel "$log")"
	fi
	{
		echo "verdict_kind=$kind"
		echo "verdict_value=$value"
		echo "verdict_expect=$expect"
		echo "verdict=$([[ $ok == 0 ]] && echo PASS || echo FAIL)"
	} >>"$meta"
	HL_VERDICT=$verdict HL_VERDICT_KIND=$kind HL_VERDICT_VALUE=$value HL_ELAPSED=$elapsed
	[[ -n $quiet ]] || printf '%s\n' "$verdict"
	return "$ok"
}

# hl_boot NAME [hl_boot_start options]  -- one power-on, waits, verdict; 0 = PASS
hl_boot() {
	local name=${1:-}
	hl_boot_start "$@" >/dev/null || return 1
	HL_LAST_LOG=$(hl_boot_log "$name")
	hl_boot_wait "$name"
}

# hl_power_cut NAME -- SIGKILL the machine's QEMU (a power cut); waits until it is gone
hl_power_cut() {
	local name=${1:-} pid log t0 i
	_hl_need_machine "$name" || return 1
	if ! pid=$(_hl_qemu_pid "$name"); then
		_hl_die "hl_power_cut: machine '$name' is not running"
		return 1
	fi
	log=$(hl_boot_log "$name")
	printf '%s\n' "$log" >"$(_hl_mdir "$name")/run/powercut"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		_hl_pid_is_qemu "$pid" || break
		sleep 0.05
	done
	t0=$(_hl_meta_get "$log.meta" t0)
	_hl_say "boot $name: power cut (QEMU pid $pid killed) at $(awk -v a="$(_hl_now)" -v b="${t0:-0}" 'BEGIN { printf "%.3f", a - b }') s"
}

# hl_cleanup -- kills every QEMU this shell (same $$) started and that still runs.
# Use in an EXIT trap: trap hl_cleanup EXIT
hl_cleanup() {
	local d name pid sup
	for d in "$(_hl_build)"/machines/*/run; do
		[[ -f $d/owner && $(cat "$d/owner" 2>/dev/null) == "$$" ]] || continue
		name=$(basename "$(dirname "$d")")
		if pid=$(_hl_qemu_pid "$name"); then
			_hl_say "cleanup: killing QEMU of $name (pid $pid)"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sup=$(cat "$d/supervisor.pid" 2>/dev/null || true)
		if [[ $sup =~ ^[0-9]+$ ]] && kill -0 "$sup" 2>/dev/null; then
			sleep 0.3
			kill -TERM "$sup" 2>/dev/null || true
		fi
	done
	return 0
}

# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------
# _hl_log_match LOG REGEX -> first line whose text (time stamp removed) matches the
# extended regex (GNU grep -E)
_hl_log_match() {
	local n
	[[ -f $1 ]] || return 1
	n=$(sed -E 's/^\[ *[0-9.]+\][+ ]//' "$1" | grep -n -m1 -E -e "$2" | cut -d: -f1) || true
	[[ -n $n ]] || return 1
	sed -n "${n}p" "$1"
}

# hl_wait_for_log LOG REGEX TIMEOUT
# Polls LOG until a line's text (without the "[   t.ttt] " stamp) matches the
# extended regex REGEX: prints that line on stdout, a message on stderr, returns
# 0. Returns 1 after TIMEOUT seconds, or as soon as the boot writing LOG ended
# without the line.
hl_wait_for_log() {
	local log=${1:-} re=${2:-} tmo=${3:-60} line end ended=""
	[[ -n $log && -n $re ]] || { _hl_die "usage: hl_wait_for_log LOG REGEX TIMEOUT"; return 1; }
	end=$(awk -v a="$(_hl_now)" -v t="$tmo" 'BEGIN { printf "%.3f", a + t }')
	while :; do
		[[ -n $(_hl_meta_get "$log.meta" finished) ]] && ended=1
		if line=$(_hl_log_match "$log" "$re"); then
			_hl_say "wait-for-log: /$re/ found: $line"
			printf '%s\n' "$line"
			return 0
		fi
		if [[ -n $ended ]]; then
			_hl_say "wait-for-log: /$re/ NOT found; the boot ended (log: $(_hl_rel "$log"))"
			return 1
		fi
		if awk -v a="$(_hl_now)" -v e="$end" 'BEGIN { exit !(a >= e) }'; then
			_hl_say "wait-for-log: /$re/ NOT found within $tmo s (log: $(_hl_rel "$log"))"
			return 1
		fi
		sleep 0.1
	done
}

# hl_log_time LOG REGEX -> the time stamp (seconds since QEMU launch) of the first
# line matching REGEX; status 1 if there is none
hl_log_time() {
	local line
	line=$(_hl_log_match "${1:-}" "${2:-}") || return 1
	sed -E 's/^\[ *([0-9.]+)\].*/\1/' <<<"$line"
}

# ---------------------------------------------------------------------------
# Input: keys and serial
# ---------------------------------------------------------------------------
_hl_py_qmp() {
	cat <<'PYEOF'
import json, socket, sys, time
sock, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sock)
f = s.makefile('rwb')
def recv():
    while True:
        ln = f.readline()
        if not ln:
            raise SystemExit('QMP: connection closed')
        j = json.loads(ln)
        if 'event' in j:
            continue
        return j
def call(cmd, **args):
    msg = {'execute': cmd}
    if args:
        msg['arguments'] = args
    f.write(json.dumps(msg).encode() + b'\n')
    f.flush()
    j = recv()
    if 'error' in j:
        raise SystemExit('QMP %s: %s' % (cmd, j['error'].get('desc', j['error'])))
    return j.get('return')
recv()                                   # greeting
call('qmp_capabilities')
SHIFTED = {'!': '1', '@': '2', '#': '3', '$': '4', '%': '5', '^': '6', '&': '7', '*': '8',
           '(': '9', ')': '0', '_': 'minus', '+': 'equal', ':': 'semicolon', '"': 'apostrophe',
           '<': 'comma', '>': 'dot', '?': 'slash', '{': 'bracket_left', '}': 'bracket_right',
           '|': 'backslash', '~': 'grave_accent'}
PLAIN = {' ': 'spc', '\n': 'ret', '\r': 'ret', '\t': 'tab', '-': 'minus', '=': 'equal',
         '.': 'dot', ',': 'comma', '/': 'slash', '\\': 'backslash', ';': 'semicolon',
         "'": 'apostrophe', '[': 'bracket_left', ']': 'bracket_right', '`': 'grave_accent'}
if mode == 'raw':
    for a in sys.argv[3:]:
        j = json.loads(a) if a.lstrip().startswith('{') else {'execute': a}
        print(json.dumps(call(j['execute'], **j.get('arguments', {}))))
elif mode == 'keys':
    for k in sys.argv[3:]:
        call('human-monitor-command', **{'command-line': 'sendkey ' + k})
        time.sleep(0.05)
elif mode == 'text':
    for ch in sys.argv[3]:
        if ch.isalpha() and ch.isascii():
            keys = (['shift'] if ch.isupper() else []) + [ch.lower()]
        elif ch.isdigit():
            keys = [ch]
        elif ch in PLAIN:
            keys = [PLAIN[ch]]
        elif ch in SHIFTED:
            keys = ['shift', SHIFTED[ch]]
        else:
            raise SystemExit('no key for %r' % ch)
        call('send-key', keys=[{'type': 'qcode', 'data': k} for k in keys], **{'hold-time': 30})
        time.sleep(0.05)
PYEOF
}

_hl_qmp_sock() {
	_hl_need_machine "${1:-}" || return 1
	hl_machine_running "$1" || { _hl_die "machine '$1' is not running"; return 1; }
	printf '%s/qmp.sock\n' "$(_hl_sockdir "$1")"
}

# hl_qmp NAME CMD...  -- runs QMP commands, each a JSON object
# ('{"execute":"screendump","arguments":{"filename":"/tmp/s.ppm"}}') or a bare
# command name (query-status); prints each "return" value as JSON
hl_qmp() {
	local sock
	sock=$(_hl_qmp_sock "${1:-}") || return 1
	shift
	python3 -c "$(_hl_py_qmp)" "$sock" raw "$@"
}

# hl_send_keys NAME KEY...  -- PS/2 key presses through QMP, in QEMU's sendkey
# syntax: ret, esc, spc, a, shift-a, ctrl-alt-delete, f2 ...
hl_send_keys() {
	local sock
	sock=$(_hl_qmp_sock "${1:-}") || return 1
	shift
	python3 -c "$(_hl_py_qmp)" "$sock" keys "$@"
}

# hl_send_text NAME TEXT  -- types TEXT on the PS/2 keyboard (US layout; \n = Enter)
hl_send_text() {
	local sock
	sock=$(_hl_qmp_sock "${1:-}") || return 1
	python3 -c "$(_hl_py_qmp)" "$sock" text "${2-}"
}

# hl_serial_send NAME STRING  -- writes STRING, as is, to the serial port (the
# firmware and Linux read it as typed input; Enter is $'\r')
hl_serial_send() {
	local name=${1:-} run
	_hl_need_machine "$name" || return 1
	run=$(_hl_mdir "$name")/run
	if ! [[ -p $run/serial.in ]] || ! hl_machine_running "$name"; then
		_hl_die "machine '$name' is not running"
		return 1
	fi
	# QEMU holds the FIFO open read-write, so this open does not block.
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c 'printf "%s" "$1" >"$2"' _ "${2-}" "$run/serial.in"
}
