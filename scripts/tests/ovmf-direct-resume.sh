#!/usr/bin/env bash
# OVMF test of the direct resume, without Linux: hiberload verifies and places
# a synthetic image that covers all of the OS's RAM on this firmware (so that,
# as with a real image, ~40 MiB of destinations are busy in firmware and must
# be staged and copied by the final stage), leaves boot services and jumps to
# a payload at the image's jump back entry. The payload hashes all restored
# memory and reports through isa-debug-exit.
#
#   boot 1  probe: hiberload prints the firmware's memory map (no image yet)
#   boot 2  resume: the payload must report "memory intact" (debug-exit 0x20)
#   boot 3  the consumed image is not placed again
#   boot 4  one flipped bit in a chunk: refused before anything irreversible,
#           image not consumed
#   boot 5  a tampered header: refused at open
#   boot 6  a runtime region that differs from the record: refused
#   then, on a second machine with two CPUs: probe and resume again
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"
source "$repo/scripts/lib/synthetic-image.sh"

BUILD=${HL_BUILD:-$repo/build}
EFI=$BUILD/hiberload.efi
SAVE=$BUILD/tools/hiberload-save
INSPECT=$BUILD/tools/hiberload-inspect
SYNTH=$BUILD/host-tests/synthetic-core
PAYLOAD=$BUILD/host-tests/resume-payload.bin
M=ovmf-direct-resume
tl_begin ovmf-direct-resume
for f in "$EFI" "$SAVE" "$INSPECT" "$SYNTH" "$PAYLOAD"; do
  [[ -e $f ]] || { echo "ovmf-direct-resume: $f not built (run make)"; exit 1; }
done
hl_require_tools

work=$(mktemp -d)
trap 'hl_cleanup; rm -rf -- "$work"' EXIT

# --- boot 1: probe the firmware's memory map ------------------------------
si_probe_machine "$M" "$work"
probe=$SI_PROBE_LOG
tl_check "probe boot: no image, hiberload returns to the firmware (0x12)" test "$SI_PROBE_RC" -eq 0
tl_log_has "an empty partition is 'no image'" "$probe" 'no image to resume on partition 2: .*no image'

scratch=$(si_scratch_from_probe "$probe")
echo "ovmf-direct-resume: scratch range $scratch"

# --- the image -------------------------------------------------------------
si_build "$probe" "$scratch" "$work" core
entry=$SI_ENTRY
expected_hash=$SI_HASH
cp "$work/core.bin" "$work/image.bin"
tl_check "hiberload-inspect --verify accepts the image on the host" "$INSPECT" --verify "$work/image.bin"
ls -l "$work/image.bin" | awk '{print "ovmf-direct-resume: image " $5 " bytes"}'
hl_partition_write "$M" hib 0 "$work/image.bin"

# --- boot 2: the direct resume --------------------------------------------
hl_boot "$M" --timeout 300 --expect exit:0x20 && rc=0 || rc=$?
log=$HL_LAST_LOG
tl_check "the payload at the jump back entry ran and found memory intact (0x20)" test "$rc" -eq 0
tl_log_has "hiberload found the image" "$log" 'image on partition 2: Linux synthetic-test'
tl_log_has "it planned deferred pages in scratch" "$log" 'plan: .* written in place, [0-9.]+ [KMG]iB busy in firmware now'
tl_log_has "every chunk verified" "$log" 'image verified: [0-9]+ chunks, every SHA-256 matched'
tl_log_has "consumed before the jump" "$log" "image marked consumed; leaving the firmware and jumping to $entry"
tl_log_has "the payload's hash equals the host's" "$log" "memory hash $expected_hash"
tl_log_has "memory intact" "$log" 'resume-payload: memory intact'
tl_check "the commit record on disk now says consumed (state 2)" test "$(si_state "$M")" = 2

# --- boot 3: never resumed twice ------------------------------------------
hl_boot "$M" --timeout 120 --expect exit:0x12 && rc=0 || rc=$?
log=$HL_LAST_LOG
tl_check "a consumed image is not placed again (returns 0x12)" test "$rc" -eq 0
tl_log_has "it says the image was consumed" "$log" 'no image to resume on partition 2: .*consumed'
tl_log_lacks "no placement" "$log" 'placing image'

# --- boot 4: one flipped bit in the data -----------------------------------
cp "$work/image.bin" "$work/corrupt.bin"
python3 - "$work/corrupt.bin" <<'PY'
import sys
path = sys.argv[1]
with open(path, "r+b") as f:
    data = bytearray(f.read())
    # Flip a bit in the middle of the data area (chunks start at block 3).
    header = data[4096:8192]
    data_offset = int.from_bytes(header[80:88], "little")
    data_size = int.from_bytes(header[88:96], "little")
    at = data_offset + data_size // 2
    data[at] ^= 0x10
    f.seek(0); f.write(data)
PY
hl_partition_write "$M" hib 0 "$work/corrupt.bin"
hl_boot "$M" --timeout 300 --expect exit:0x12 && rc=0 || rc=$?
log=$HL_LAST_LOG
tl_check "a corrupt chunk is refused and hiberload goes on to boot (0x12)" test "$rc" -eq 0
tl_log_has "it names the chunk and the mismatch" "$log" 'direct resume not possible: placing the image: chunk [0-9]+: .*(SHA-256|sha256|digest)'
tl_log_lacks "no jump" "$log" 'leaving the firmware'
tl_check "the corrupt image was not marked consumed (state 1)" test "$(si_state "$M")" = 1

# --- boot 5: a tampered header --------------------------------------------
cp "$work/image.bin" "$work/tampered.bin"
printf '\x01' | dd of="$work/tampered.bin" bs=1 seek=$((4096 + 64)) conv=notrunc status=none
hl_partition_write "$M" hib 0 "$work/tampered.bin"
hl_boot "$M" --timeout 120 --expect exit:0x12 && rc=0 || rc=$?
log=$HL_LAST_LOG
tl_check "a tampered header is refused (0x12)" test "$rc" -eq 0
tl_log_has "it says why" "$log" 'no image to resume on partition 2: .*header'

# --- boot 6: the firmware's runtime regions changed ------------------------
# The first runtime region recorded one page higher and one page shorter.
read -r phys virt pages type attr < <(head -n 1 "$work/core.runtime-map")
printf '%#x %s %#x %s %s\n' $((phys + 4096)) "$virt" $((pages - 1)) "$type" "$attr" >"$work/runtime-moved.txt"
tail -n +2 "$work/core.runtime-map" >>"$work/runtime-moved.txt"
si_save "$work" core "$scratch" "$work/runtime-moved.txt" "$work/moved.bin"
hl_partition_write "$M" hib 0 "$work/moved.bin"
hl_boot "$M" --timeout 120 --expect exit:0x12 && rc=0 || rc=$?
log=$HL_LAST_LOG
tl_check "a changed runtime map is refused before placing (0x12)" test "$rc" -eq 0
tl_log_has "it says the firmware changed" "$log" 'direct resume not possible: machine check: EFI runtime region'

# --- two CPUs: the firmware parks the second one; the resume must not care --
M2=ovmf-direct-resume-smp2
si_probe_machine "$M2" "$work" --smp 2
probe2=$SI_PROBE_LOG
rc=$SI_PROBE_RC
tl_check "smp 2: probe boot" test "$rc" -eq 0
si_build "$probe2" "$scratch" "$work" core2 >/dev/null
cp "$work/core2.bin" "$work/image2.bin"
hl_partition_write "$M2" hib 0 "$work/image2.bin"
hl_boot "$M2" --timeout 300 --expect exit:0x20 && rc=0 || rc=$?
tl_check "smp 2: the payload found memory intact (0x20)" test "$rc" -eq 0
tl_log_has "smp 2: memory intact" "$HL_LAST_LOG" 'resume-payload: memory intact'

tl_finish
