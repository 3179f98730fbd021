# shellcheck shell=bash
# Synthetic hibernation images for OVMF tests that need no Linux: the image
# covers all of the OS's RAM on the test machine's firmware (as a real one
# does), and its jump back entry is host-tests/ovmf/resume_payload.S, which
# hashes the restored memory and exits QEMU with 0x20 (intact) or 0x21.
#
#   source scripts/lib/synthetic-image.sh
#   # after a boot with print-memory-map=1 in test.conf, log in $probe:
#   scratch=$(si_scratch_from_probe "$probe")
#   si_build "$probe" "$scratch" "$work" image   # $work/image.bin, SI_ENTRY, SI_HASH
#   si_save "$work" image "$scratch" runtime-map.txt moved.bin   # same memory, other resume data
#
# Needs HL_BUILD (or build/) to hold synthetic-core, resume-payload.bin and
# hiberload-save.

_SI_BUILD() { printf '%s\n' "${HL_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"; }

# si_scratch_from_probe LOG -- 96 MiB from 16 MiB into the largest
# conventional range of the probe's memory map (hiberload's working space;
# the hibernating kernel's region on a real system).
si_scratch_from_probe() {
  python3 - "${1:?probe log}" <<'PY'
import re, sys
best = (0, 0)
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"memmap: (0x[0-9a-f]+) (0x[0-9a-f]+) 7 ", line)
    if m and int(m.group(2), 16) > best[1]:
        best = (int(m.group(1), 16), int(m.group(2), 16))
base = (best[0] + (16 << 20) + (2 << 20) - 1) & ~((2 << 20) - 1)
assert base + (96 << 20) <= best[0] + best[1] * 4096, "largest conventional range too small"
print(f"{base:#x}+{96 << 20:#x}")
PY
}

# si_build PROBE_LOG SCRATCH WORK NAME -- WORK/NAME.{elf,memmap,runtime-map,bin};
# sets SI_ENTRY (the payload's address) and SI_HASH (the memory hash the
# payload must find).
si_build() {
  local probe=${1:?probe log} scratch=${2:?scratch} work=${3:?work dir} name=${4:?name}
  local build out
  build=$(_SI_BUILD)
  out=$("$build/host-tests/synthetic-core" --probe-log "$probe" --scratch "$scratch" \
    --payload "$build/host-tests/resume-payload.bin" --out-core "$work/$name.elf" \
    --out-memmap "$work/$name.memmap" --out-runtime-map "$work/$name.runtime-map") || return 1
  echo "$out"
  SI_ENTRY=$(sed -n 's/.*entry=\(0x[0-9a-f]*\).*/\1/p' <<<"$out")
  SI_HASH=$(sed -n 's/.*expected_hash=\([0-9a-f]*\).*/\1/p' <<<"$out")
  si_save "$work" "$name" "$scratch" "$work/$name.runtime-map" "$work/$name.bin"
}

# si_save WORK NAME SCRATCH RUNTIME_MAP OUT -- hiberload-save of WORK/NAME.elf
# with the jump back entry SI_ENTRY and the given runtime map.
si_save() {
  local work=${1:?} name=${2:?} scratch=${3:?} runtime_map=${4:?} out=${5:?}
  "$(_SI_BUILD)/tools/hiberload-save" -q -o "$out" --jump-back-entry "${SI_ENTRY:?si_build first}" \
    --memmap "$work/$name.memmap" --runtime-map "$runtime_map" --scratch "$scratch" \
    --kernel-release synthetic-test --page-size 4096 "$work/$name.elf"
}

# si_state NAME -- the commit record's state field (offset 12 of the
# hibernation partition): 1 valid, 2 consumed (docs/image-format.md).
si_state() { hl_partition_read "${1:?machine}" hib 12 4 | od -An -t u4 | tr -d ' '; }

# si_probe_machine NAME WORK [hl_machine_create options...] -- a fresh machine
# with hiberload at the removable-media path and a test-control file that
# makes it print the firmware's memory map and report through
# isa-debug-exit (the same file in every boot, so hiberload allocates the
# same way each time), then the probe boot. Sets SI_PROBE_LOG and
# SI_PROBE_RC (0 when hiberload found no image and returned, 0x12).
si_probe_machine() {
  local name=${1:?machine} work=${2:?work dir}
  shift 2
  hl_machine_create "$name" --mem 512 "$@" >/dev/null || return 1
  hl_esp_put "$name" "$(_SI_BUILD)/hiberload.efi" 'EFI/BOOT/BOOTX64.EFI' || return 1
  printf 'exit=isa-debug-exit\nprint-memory-map=1\n' >"$work/test.conf"
  hl_esp_put "$name" "$work/test.conf" 'EFI/hiberload/test.conf' || return 1
  hl_boot "$name" --timeout 120 --expect exit:0x12 && SI_PROBE_RC=0 || SI_PROBE_RC=$?
  SI_PROBE_LOG=$HL_LAST_LOG
}
