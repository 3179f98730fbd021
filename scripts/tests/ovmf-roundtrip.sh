#!/usr/bin/env bash
# The real round trip on OVMF: a Linux kernel hibernates through kexec jump
# and comes back through hiberload.
#
#   scripts/tests/ovmf-roundtrip.sh [direct|fallback|direct-smp2]...  (default: all three)
#
# For each variant, one machine (512 MiB, TCG, no network card, the same
# virtual hardware in every boot):
#   boot 0  hiberload at the removable-media path, unconfigured, boots the
#           kernel from its default place on the ESP; the kernel's init runs
#           `hiberload install` (Boot#### entry first in BootOrder, the
#           HiberloadConfig variable); the test then deletes
#           \EFI\BOOT\BOOTX64.EFI, so only the new entry starts hiberload;
#   boot 1  hiberload finds no image and chain-loads kernel A with the scratch
#           region kept out of its memory; A starts the workload (a random
#           token, a counter every second, a 64 MiB tmpfs file and its md5),
#           hibernates with hiberload-hibernate; kernel B writes the image and
#           powers off;
#   boot 2  direct: hiberload places the image and jumps back into A, no
#           kernel boots; fallback: hiberload boots the kernel restricted to
#           the scratch region and its initramfs restores A with kexec. A
#           continues: same token, the counter goes on, the md5 is unchanged;
#   boot 3  the image is consumed: a normal boot with a new token.
# Each run prints power-on → hiberload → image verified → jump → first
# workload line after the resume, from the host's serial timestamps.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"
source "$repo/scripts/lib/ovmf-vars.sh"
source "$repo/scripts/lib/roundtrip.sh"

BUILD=${HL_BUILD:-$repo/build}
EFI=$BUILD/hiberload.efi
WORK=$BUILD/roundtrip
tl_begin ovmf-roundtrip
hl_require_tools
trap hl_cleanup EXIT

variants=("$@")
[[ ${#variants[@]} -gt 0 ]] || variants=(direct fallback direct-smp2)

rt_build_inputs "$WORK"   # RT_KERNEL, RT_A_INITRD; fails if the tools are not built

# run VARIANT: one full round trip on a fresh machine.
run() {
  local variant=$1 mode=auto smp=1 scratch=0x2000000+192M
  case $variant in
    direct) ;;
    direct-smp2) smp=2 ;;
    # hiberload places what the firmware does not hold and the fallback
    # kernel (inside the same 192 MiB region) loads the rest with kexec.
    fallback) mode=fallback ;;
    *) echo "ovmf-roundtrip: unknown variant $variant"; return 1 ;;
  esac
  local M=roundtrip-$variant
  echo "=== round trip: $variant (mode=$mode, -smp $smp, scratch=$scratch)"
  rt_machine_setup "$M" --install --scratch "$scratch" --mode "$mode" --smp "$smp" --efi "$EFI"

  # --- boot 0: unconfigured, install ---------------------------------------
  rt_install_boot "$M" && rc=0 || rc=$?
  tl_check "$variant boot 0: the unconfigured boot installed hiberload and powered off" test "$rc" -eq 0
  tl_log_has "$variant boot 0: hiberload said it is unconfigured" "${RT_INSTALL_LOG:-/dev/null}" 'unconfigured: using the defaults'
  tl_log_has "$variant boot 0: hiberload install succeeded" "${RT_INSTALL_LOG:-/dev/null}" 'workload: INSTALLED'

  # --- boot 1: normal boot, workload, hibernate --------------------------
  local rc log1 log2 log3
  hl_boot "$M" --timeout 420 --expect poweroff && rc=0 || rc=$?
  log1=$HL_LAST_LOG
  tl_check "$variant boot 1: A hibernated, B wrote the image and powered off" test "$rc" -eq 0
  tl_log_has "$variant boot 1: the firmware started hiberload from the entry install made" "$log1" 'BdsDxe: starting Boot[0-9A-F]{4} "hiberload" .*\\EFI\\hiberload\\hiberload.efi'
  tl_log_has "$variant boot 1: hiberload read the configuration install wrote" "$log1" 'configuration read from EFI variable HiberloadConfig'
  tl_log_has "$variant boot 1: hiberload found no image and booted A normally" "$log1" 'nothing to resume: booting'
  tl_log_has "$variant boot 1: the scratch region was kept from A" "$log1" 'hiberload.scratch=0x2000000'
  tl_log_has "$variant boot 1: B saved the image" "$log1" 'hiberload-save-init: image written'
  local token md5 last_tick
  token=$(rt_token "$log1" || true)
  md5=$(rt_md5 "$log1" || true)
  last_tick=$(rt_last_tick "$log1" "${token:-none}" || true)
  echo "ovmf-roundtrip: $variant: token=$token md5=$md5 last tick before hibernation=$last_tick"
  tl_check "$variant boot 1: token and md5 recorded" test -n "$token" -a -n "$md5"

  # --- boot 2: the resume ------------------------------------------------
  hl_boot "$M" --timeout 420 --expect poweroff && rc=0 || rc=$?
  log2=$HL_LAST_LOG
  tl_check "$variant boot 2: A ran to its end after the resume" test "$rc" -eq 0
  tl_log_has "$variant boot 2: A continued with the same token and an unchanged file" "$log2" "workload: RESUMED-OK token=$token"
  tl_log_has "$variant boot 2: md5 after the resume equals md5 before" "$log2" "token=$token md5=$md5"
  local first_tick
  first_tick=$(rt_first_tick "$log2" "$token" || true)
  tl_check "$variant boot 2: the counter went on ($last_tick → ${first_tick:-none})" \
    test -n "$first_tick" -a "${first_tick:-0}" -gt "${last_tick:-0}"
  tl_log_lacks "$variant boot 2: A never started afresh" "$log2" 'workload: started token='
  if [[ $mode == fallback ]]; then
    tl_log_has "$variant boot 2: hiberload chose the fallback kernel" "$log2" 'mode=fallback: booting'
    tl_log_has "$variant boot 2: hiberload placed the rest from firmware" "$log2" 'fallback: placing .* of the image now'
    tl_log_has "$variant boot 2: the fallback kernel loaded the remaining ranges" "$log2" 'loading only those'
    tl_log_has "$variant boot 2: the fallback kernel restored with kexec" "$log2" 'kexec -e'
  else
    tl_log_has "$variant boot 2: hiberload verified the image" "$log2" 'image verified'
    tl_log_has "$variant boot 2: hiberload jumped back into A" "$log2" 'leaving the firmware and jumping to'
    tl_log_lacks "$variant boot 2: no kernel booted before the resume" "$log2" 'Linux version|booting \\EFI'
  fi

  # --- boot 3: consumed -> normal boot ------------------------------------
  hl_boot_start "$M" --timeout 300 >/dev/null
  log3=$(hl_boot_log "$M")
  if hl_wait_for_log "$log3" 'workload: started token=' 300; then
    tl_pass "$variant boot 3: a kernel booted"
  else
    tl_fail "$variant boot 3: no kernel booted"
  fi
  hl_power_cut "$M" >/dev/null 2>&1 || true
  hl_boot_wait "$M" --quiet >/dev/null 2>&1 || true
  tl_log_has "$variant boot 3: the consumed image was not resumed" "$log3" 'no image to resume on partition 2: .*consumed'
  local token3
  token3=$(rt_token "$log3" || true)
  tl_check "$variant boot 3: a new token ($token3)" test -n "$token3" -a "$token3" != "$token"

  # --- timing, from the host's timestamps of boot 2 -----------------------
  rt_timing "$log2" "$token"
  printf 'ovmf-roundtrip: timing %-12s %s\n' "$variant" "$RT_TIMING" | tee -a "$BUILD/logs/roundtrip-timing.txt"
}

mkdir -p "$BUILD/logs"
: >"$BUILD/logs/roundtrip-timing.txt"
for v in "${variants[@]}"; do run "$v"; done
tl_finish
