#!/usr/bin/env bash
# `make demo`: the direct round trip, narrated for someone who has never seen
# hiberload. One virtual machine (QEMU, OVMF, 512 MiB, one CPU) is powered
# on three times:
#   boot 1  no image: hiberload boots kernel A with the scratch region kept
#           out of its memory; A starts a workload and hibernates through
#           kexec jump; kernel B writes the image and powers off;
#   boot 2  hiberload places the image and jumps back into A: no kernel boots;
#           A's workload goes on (same token, counter continues, md5 unchanged);
#   boot 3  the image is consumed: a normal boot, a new workload.
# Prints what happens before each boot, the serial lines that show it as they
# come, and the proof at the end. Exits non-zero if the round trip did not
# happen. Serial logs: build/logs/demo-boot{1,2,3}.log. About 2-3 minutes
# with the kernel already built and cached (the first run builds it: longer).
#
# The same building blocks as scripts/tests/ovmf-roundtrip.sh, through
# scripts/lib/roundtrip.sh; the test is the one that checks every detail.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/lib/harness.sh
source scripts/lib/ovmf-vars.sh
source scripts/lib/roundtrip.sh

BUILD=${HL_BUILD:-build}
export HL_BUILD=$BUILD
M=demo
SCRATCH=$RT_DEFAULT_SCRATCH            # 0x2000000+192M
WORK=$BUILD/demo
started=$SECONDS
problems=()

# --- presentation --------------------------------------------------------
if [[ -t 1 ]]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B="" G="" R="" N=""; fi
title() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
para() { printf '%s\n' "$*" | fold -s -w 78; echo; }
problem() { problems+=("$1"); printf '%s  !! %s%s\n' "$R" "$1" "$N"; }

# show_lines LOG FROM TO: the selected serial lines among lines FROM+1..TO of
# LOG, indented: hiberload's own, the workload's, the hibernate and save
# tools', B's save progress at each quarter, and one line where a Linux
# kernel starts. The whole log is read each time so that the progress
# quarters are judged against the lines before them.
show_lines() {
	awk -v from="$2" -v to="$3" '
	NR > to { exit }
	match($0, /^\[ *[0-9.]+\][ +]/) {
		stamp = substr($0, 1, RLENGTH - 1); text = substr($0, RLENGTH + 1); out = ""
		if (text ~ /^(hiberload|workload|hiberload-hibernate|hiberload-save-init|hiberload-save):/) {
			out = text
		} else if (text ~ /^saving \/proc\/vmcore: +[0-9.]+%/) {
			pct = text; sub(/^saving \/proc\/vmcore: +/, "", pct); pct = int(pct)
			if (int(pct / 25) > int(prev / 25) || pct == 100) { out = text; sub(/ +$/, "", out) }
			prev = pct
		} else if (text ~ /^\[ *[0-9.]+\] Linux version /) {
			sub(/^\[ *[0-9.]+\] /, "", text); split(text, w, " ")
			out = "(a Linux kernel starts: " w[1] " " w[2] " " w[3] ")"
		} else if (text ~ /^\[ *[0-9.]+\] Restarting tasks/) {
			sub(/^\[ *[0-9.]+\] /, "", text); out = "(kernel A: " text ")"
		}
		if (out != "" && NR > from) print "    " stamp " " out
	}' "$1"
}

# follow LOG STOPFILE: prints the selected lines of LOG as the boot writes
# them, until STOPFILE exists (then one last pass).
follow() {
	local log=$1 stop=$2 n=0 total last
	while :; do
		last=0
		[[ -e $stop ]] && last=1
		if [[ -f $log ]]; then
			total=$(wc -l <"$log")
			if ((total > n)); then
				show_lines "$log" "$n" "$total"
				n=$total
			fi
		fi
		((last)) && return 0
		sleep 0.5
	done
}

# boot LABEL [--until REGEX] -- one power-on with live lines; sets LOG and
# VERDICT_OK (0 = the boot ended as expected). With --until, the power is cut
# once a line matches REGEX (the workload would otherwise hibernate again).
boot() {
	local until="" stop verdict
	[[ ${1:-} == --until ]] && until=$2
	hl_boot_start "$M" --timeout 420 --expect "$([[ -n $until ]] && echo power-cut || echo poweroff)" >/dev/null
	LOG=$(hl_boot_log "$M")
	stop=$(hl_machine_dir "$M")/run/demo-follow-stop
	rm -f "$stop"
	follow "$LOG" "$stop" &
	FOLLOWER=$!
	if [[ -n $until ]]; then
		hl_wait_for_log "$LOG" "$until" 300 >/dev/null 2>&1 || true
		if hl_machine_running "$M"; then hl_power_cut "$M" >/dev/null 2>&1 || true; fi
	fi
	VERDICT_OK=0
	verdict=$(hl_boot_wait "$M") || VERDICT_OK=1
	touch "$stop"
	wait "$FOLLOWER" || true
	FOLLOWER=
	printf '    %s\n' "$verdict"
}

FOLLOWER=""
trap '[[ -n $FOLLOWER ]] && kill "$FOLLOWER" 2>/dev/null; hl_cleanup' EXIT

# --- introduction ----------------------------------------------------------
title "hiberload demo: a Linux system hibernates and comes back through hiberload"
para "hiberload is an EFI application installed as a machine's only boot entry. \
At every power-on it looks at the hibernation partition. If it holds a valid \
image of a hibernated Linux system, hiberload puts that system's memory back \
at its physical addresses and jumps into it: no kernel boots. Otherwise it \
boots the normal kernel itself, keeping a region of memory out of it for the \
next hibernation."
para "This demo powers one virtual machine on three times (QEMU with OVMF, \
the UEFI firmware; 512 MiB of RAM; one CPU; software emulation, so every step \
is several times slower than on real hardware). It takes 2-3 minutes."

title "Preparing"
para "The test kernel (Linux 6.12 with kexec jump, built once and cached) and \
two initramfs images: kernel A's (a small system running the workload, with \
kexec-tools and hiberload-hibernate) and the saving kernel B's (hiberload-save)."
hl_require_tools
rt_build_inputs "$WORK" > >(sed 's/^/    /') 2>&1 || { echo "demo: could not build the inputs"; exit 1; }
sleep 0.2   # let the indented output above drain
rt_machine_setup "$M" --scratch "$SCRATCH" --mode auto
scratch_size=${SCRATCH#*+} scratch_base=${SCRATCH%+*}
para "The machine ($(hl_machine_dir "$M")): a GPT disk with an EFI system \
partition holding hiberload as \\EFI\\BOOT\\BOOTX64.EFI (the file the \
firmware starts), the kernel and kernel A's initramfs, and an empty \
hibernation partition (GPT type 182aad0a-..., $(($(hl_partition_size "$M" hib) >> 20)) MiB). \
hiberload's configuration, the EFI variable HiberloadConfig, set in the \
machine's firmware variable store:"
rt_config_text "$SCRATCH" auto | sed 's/^/    /'
echo
para "The workload in kernel A proves a resume: it draws a random token, \
prints a counter every second with that token, and keeps 64 MiB of random \
data in RAM (a tmpfs file) with its md5. After hibernating, a resumed system \
still has the same token, the counter goes on, and the md5 is the same; a \
fresh boot would draw a new token and start counting at 0."

# --- boot 1 ------------------------------------------------------------------
title "Boot 1: no image yet; kernel A runs the workload and hibernates"
para "The firmware starts hiberload (the only boot entry). There is no image, \
so hiberload boots the kernel with $scratch_size at $scratch_base kept out of \
its memory (memmap=$scratch_size\$$scratch_base, and 64 KiB at 64 KiB for a \
real-mode trampoline), and tells it where that region and the hibernation \
partition are (hiberload.scratch=, hiberload.low=, hiberload.partition= on \
its command line). This kernel, A, starts the workload, then runs \
hiberload-hibernate: it loads a second kernel, B, into the kept-out region \
(kexec --load-preserve-context) and jumps to it (kexec jump). A stays frozen \
in memory, untouched. B reads A's memory (/proc/vmcore and /dev/mem), writes \
it to the hibernation partition as a compressed image with a SHA-256 per \
chunk (hiberload-save), and powers the machine off. About a minute here. \
Selected serial lines as they come, in seconds since power-on:"
boot
log1=$LOG
token=$(rt_token "$log1" || true)
md5=$(rt_md5 "$log1" || true)
# shellcheck disable=SC2015 # rt_last_tick fails only when there is none
last_tick=$( [[ -n $token ]] && rt_last_tick "$log1" "$token" || true)
echo
if ((VERDICT_OK != 0)) || ! grep -aq 'hiberload-save-init: image written' "$log1" || [[ -z $token || -z $md5 ]]; then
	problem "boot 1 did not end with an image written (see $log1); the rest of the demo needs one"
	tail -n 20 "$log1" | sed 's/^/    | /'
	echo "demo: FAILED"
	exit 1
fi
para "A hibernated with token $token, file md5 $md5; the last counter value \
it printed was ${last_tick:-?}. The two 'Linux kernel starts' lines are A \
(started by hiberload) and B (started by A's kexec jump). The machine is off; \
A's state exists only on the hibernation partition now."

# --- boot 2 ------------------------------------------------------------------
title "Boot 2: hiberload resumes A directly from the firmware"
para "Power on again: the same machine, nothing changed but the disk. \
hiberload finds the image, checks that the firmware's runtime memory is \
where it was when A ran, then reads every chunk, checks its SHA-256 and \
writes it to its physical address. Memory the firmware still uses at that \
moment is staged in the kept-out region and copied last. It marks the image \
consumed, leaves the firmware and jumps to the address where A's kexec jump \
left off. No kernel boots: A returns from its 'kexec -e' as if B had \
handed back control."
boot
log2=$LOG
echo
md5_after=$(rt_md5_after "$log2" "$token" || true)
first_tick=$(rt_first_tick "$log2" "$token" || true)
para "Read from the bottom up: the workload's counter goes on after \
${last_tick:-?} with the same token, its 64 MiB file has the same md5 \
(RESUMED-OK), and before that hiberload-hibernate's 'kexec -e' returned in \
A and A's kernel thawed its processes. (kexec -e reports status 255 after a \
successful return: a cosmetic quirk of kexec-tools 2.0.25.)"
((VERDICT_OK == 0)) || problem "boot 2 did not end with A powering off by itself"
grep -Eaq "workload: RESUMED-OK token=$token" "$log2" || problem "boot 2: the workload did not report RESUMED-OK with token $token"
[[ -n $md5_after && $md5_after == "$md5" ]] || problem "boot 2: md5 after the resume (${md5_after:-none}) differs from before ($md5)"
if ! [[ -n $first_tick && -n $last_tick ]] || ((first_tick <= last_tick)); then
	problem "boot 2: the counter did not go on (${last_tick:-?} → ${first_tick:-none})"
fi
! grep -Eaq 'workload: started token=' "$log2" || problem "boot 2: the workload started afresh"
grep -Eaq 'hiberload: image verified' "$log2" || problem "boot 2: hiberload did not verify the image"
grep -Eaq 'leaving the firmware and jumping to' "$log2" || problem "boot 2: hiberload did not jump back into A"
no_kernel=yes
if rt_kernel_booted "$log2"; then no_kernel=no; problem "boot 2: a kernel booted (the resume was not direct)"; fi
rt_timing "$log2" "$token"

# --- boot 3 ------------------------------------------------------------------
title "Boot 3: the image was used once; a normal boot"
para "Power on once more. hiberload marked the image consumed before the \
jump, so it never resumes it a second time: it boots the kernel normally \
(the region kept out again), and a fresh workload starts with a new token. \
The power is cut once the workload is up (it would hibernate again)."
boot --until 'workload: started token='
log3=$LOG
token3=$(rt_token "$log3" || true)
echo
grep -Eaq 'no image to resume on partition .*consumed' "$log3" || problem "boot 3: hiberload did not refuse the consumed image"
[[ -n $token3 && $token3 != "$token" ]] || problem "boot 3: no fresh workload with a new token"

# --- the proof -----------------------------------------------------------------
title "The proof"
printf '    %-26s %s\n' \
	"token" "before hibernation $token, after the resume $(grep -aq "RESUMED-OK token=$token" "$log2" && echo "$token" || echo none)" \
	"md5 of the 64 MiB file" "before $md5, after ${md5_after:-none}" \
	"counter" "last tick before hibernation ${last_tick:-?}, first tick after the resume ${first_tick:-none}" \
	"boot 2" "$([[ $no_kernel == yes ]] && echo 'no kernel booted in boot 2: hiberload jumped straight into A' || echo 'a kernel booted in boot 2')" \
	"boot 3" "image consumed, not resumed again; fresh workload token ${token3:-none}"
echo
printf '    timing of boot 2 (host clock, seconds since power-on, TCG emulation):\n'
r1() { [[ $1 == "?" ]] && echo "?" || printf '%.1f' "$1"; }
printf '      power-on → hiberload %s s → image found %s s → verified %s s → jump %s s → first workload line after the resume %s s\n' \
	"$(r1 "$RT_T_HIBERLOAD")" "$(r1 "$RT_T_FOUND")" "$(r1 "$RT_T_VERIFIED")" "$(r1 "$RT_T_JUMP")" "$(r1 "$RT_T_FIRST")"
grep -a 'hiberload: image on partition' "$log2" | sed -E 's/^\[ *[0-9.]+\] hiberload: /      /'
echo
printf '    serial logs: %s %s %s\n' "$(_hl_rel "$log1")" "$(_hl_rel "$log2")" "$(_hl_rel "$log3")"
printf '    demo took %d s\n\n' "$((SECONDS - started))"
if ((${#problems[@]})); then
	printf '%sdemo: FAILED: the round trip did not happen as it should:%s\n' "$R" "$N"
	printf '    %s\n' "${problems[@]}"
	exit 1
fi
printf '%sdemo: OK: the hibernated system came back through hiberload, with no second kernel.%s\n' "$G" "$N"
