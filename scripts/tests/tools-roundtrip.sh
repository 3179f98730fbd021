#!/usr/bin/env bash
# End-to-end test of hiberload-save and hiberload-inspect on generated ELF64
# cores (real /proc/vmcore needs a kexec-jump guest; these cores carry the
# same shapes: a PT_NOTE, zero tails with p_memsz > p_filesz, touching
# PT_LOADs, a duplicated kernel-text PT_LOAD, zero/random/text pages).
#
#   scripts/tests/tools-roundtrip.sh          (HL_BUILD=... for another build dir)
#   scripts/tests/tools-roundtrip.sh --perf [MIB]
#       instead: times save and verify of a MIB-MiB core (default 512) of the
#       same kinds of pages (docs/image-format.md, "Performance")
#
# Checks: save -> inspect -> --verify -> --extract gives back every byte of
# memory; --et-exec; a second round trip is identical; corruption of a chunk,
# of the header and truncation are reported; bad input leaves no image; the
# GPT partition type check (on a loop device, when this machine allows it).
# Prints "tools-roundtrip: N passed, M failed"; exit status 1 on failures.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/testlib.sh"

BUILD=${HL_BUILD:-$repo/build}
SAVE=$BUILD/tools/hiberload-save
INSPECT=$BUILD/tools/hiberload-inspect
tl_begin tools-roundtrip
for tool in "$SAVE" "$INSPECT"; do
  [[ -x $tool ]] || { echo "tools-roundtrip: $tool not built (make tools)"; exit 1; }
done

work=$(mktemp -d)
loop=""
cleanup() {
  [[ -n $loop ]] && losetup -d "$loop" 2>/dev/null
  rm -rf -- "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------- inputs
# gen-core OUT FLAT MIB SEED [partial-overlap]: an ELF64 core and the flat
# memory it describes (its ranges' bytes in address order, duplicates merged).
cat >"$work/gen-core.py" <<'EOF'
import random, struct, sys
out, flat, mib, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
overlap = len(sys.argv) > 5
rng = random.Random(seed)
words = [b"task_struct", b"inode", b"dentry", b"0000000000000000", b"ffff888012345678",
         b"GFP_KERNEL", b"/usr/lib/x86_64-linux-gnu/", b"\x00\x00\x00\x00", b"\xff\xff"]
text = bytearray()
while len(text) < 1 << 20: text += rng.choice(words)
text = bytes(text)
def pages(n):
    # Like a kernel's memory: runs (mean 64 pages) of free (zero) pages,
    # incompressible pages, and compressible pages with scattered zero pages.
    buf = bytearray()
    while len(buf) < n * 4096:
        k, run = rng.random(), int(rng.expovariate(1 / 64)) + 1
        if k < 0.62: buf += bytes(4096 * run)
        elif k < 0.74: buf += rng.randbytes(4096 * run)
        else:
            for _ in range(run):
                o = rng.randrange(len(text) - 4096)
                buf += bytes(4096) if rng.random() < 0.1 else text[o:o + 4096]
    return bytes(buf[:n * 4096])
half = mib * 128
# (paddr, file pages, memory pages)
layout = [(0x1000, 158, 158), (0x100000, half, half),
          (0x100000 + half * 4096, half - 300, half - 100), (0x100000000, 64, 64)]
loads, blobs, memory = [], [], []
for paddr, file_pages, mem_pages in layout:
    data = pages(file_pages)
    loads.append([paddr, data, mem_pages * 4096]); blobs.append(data)
    memory.append((paddr, data + bytes(mem_pages * 4096 - len(data))))
phnum = len(loads) + 2
off = (64 + 56 * phnum + 4095) // 4096 * 4096
phdrs = [struct.pack('<IIQQQQQQ', 4, 0, 0, 0, 0, 0, 0, 4)]  # PT_NOTE
offsets = []
for paddr, data, memsz in loads:
    offsets.append(off)
    phdrs.append(struct.pack('<IIQQQQQQ', 1, 7, off, 0xffff888000000000 + paddr, paddr,
                             len(data), memsz, 4096))
    off += len(data)
# The kernel-text duplicate: part of the second range again, other vaddr.
dup = (0x100000 + 0x200000, offsets[1] + 0x200000, 0x100000)
if overlap:  # ... or a PT_LOAD that sticks out of it: refused.
    dup = (0x100000 + half * 4096 - 0x1000, offsets[1], 0x3000)
phdrs.append(struct.pack('<IIQQQQQQ', 1, 5, dup[1], 0xffffffff81000000, dup[0], dup[2], dup[2], 4096))
with open(out, 'wb') as f:
    f.write(b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8) +
            struct.pack('<HHIQQQIHHHHHH', 4, 62, 1, 0, 64, 0, 0, 64, 56, phnum, 0, 0, 0))
    f.write(b"".join(phdrs))
    f.write(bytes((64 + 56 * phnum + 4095) // 4096 * 4096 - f.tell()))
    for blob in blobs: f.write(blob)
with open(flat, 'wb') as f:
    for paddr, data in memory: f.write(data)
EOF
# flat-memory CORE: the memory of an ELF64 core's PT_LOADs in address order.
cat >"$work/flat-memory.py" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
phoff, = struct.unpack_from('<Q', d, 32); phnum, = struct.unpack_from('<H', d, 56)
loads = []
for i in range(phnum):
    t, _, o, _, pa, fsz, msz, _ = struct.unpack_from('<IIQQQQQQ', d, phoff + 56 * i)
    if t == 1: loads.append((pa, o, fsz, msz))
out = sys.stdout.buffer
for pa, o, fsz, msz in sorted(loads):
    out.write(d[o:o + fsz]); out.write(bytes(msz - fsz))
EOF
if [[ ${1:-} == --perf ]]; then
  mib=${2:-512}
  python3 "$work/gen-core.py" "$work/perf.core" "$work/perf.flat" "$mib" 7
  printf '0x0 0x9efff System RAM\n0x100000 0x%x System RAM\n0x100000000 0x10003ffff System RAM\n' \
    $((0x100000 + mib * 1048576 + 0x3ffffff)) >"$work/perf.memmap"
  TIMEFORMAT='   wall %R s, user %U s, sys %S s'
  for level in 1 0 6; do
    echo "== hiberload-save --level $level"
    time "$SAVE" --jump-back-entry 0x1000000 --memmap "$work/perf.memmap" --runtime-map /dev/null \
      --kernel-release perf --level "$level" -o "$work/perf.img" "$work/perf.core"
  done
  "$SAVE" -q --jump-back-entry 0x1000000 --memmap "$work/perf.memmap" --runtime-map /dev/null \
    --kernel-release perf -o "$work/perf.img" "$work/perf.core"
  echo "== hiberload-inspect --verify"
  time "$INSPECT" --verify "$work/perf.img" | tail -1
  exit 0
fi

python3 "$work/gen-core.py" "$work/a.core" "$work/a.flat" 16 1
python3 "$work/gen-core.py" "$work/bad-overlap.core" "$work/unused.flat" 4 2 overlap

cat >"$work/memmap" <<'EOF'
0x0 0x9efff System RAM
0x9f000 0xfffff Reserved
0x100000 0x1fffffff System RAM
0x100000000 0x10003ffff System RAM
EOF
mkdir -p "$work/runtime-map/0" "$work/runtime-map/1"
for n in 0 1; do
  echo "0x1f${n}00000" >"$work/runtime-map/$n/phys_addr"
  echo "0xfffffffeff${n}00000" >"$work/runtime-map/$n/virt_addr"
  echo "0x10" >"$work/runtime-map/$n/num_pages"
  echo "$((5 + n))" >"$work/runtime-map/$n/type"
  echo "0x800000000000000f" >"$work/runtime-map/$n/attribute"
done
echo "console=ttyS0 kexec_jump_back_entry=0x1f8e3a5c quiet" >"$work/cmdline"
# quiet COMMAND...: runs it with its standard output and error discarded.
quiet() { "$@" >/dev/null 2>&1; }

common=(--cmdline "$work/cmdline" --memmap "$work/memmap" --runtime-map "$work/runtime-map"
        --kernel-release 6.12.117-test -q)

# ---------------------------------------------------------------- round trip
img=$work/a.img
tl_check "save a 16 MiB core" quiet "$SAVE" "${common[@]}" -o "$img" "$work/a.core"
"$INSPECT" "$img" >"$work/inspect.txt" 2>&1 || true
tl_log_has "inspect: state valid" "$work/inspect.txt" 'state +valid'
tl_log_has "inspect: jump back entry from the command line" "$work/inspect.txt" 'jump back entry +0x1f8e3a5c'
tl_log_has "inspect: kernel release" "$work/inspect.txt" 'kernel release +6\.12\.117-test'
tl_log_has "inspect: runtime map" "$work/inspect.txt" 'EFI runtime map +2 entries'
tl_log_has "inspect: 3 segments (duplicate dropped, touching merged)" "$work/inspect.txt" '^segments +3,'
tl_log_has "inspect: zlib ratio" "$work/inspect.txt" 'zlib .*ratio'
tl_log_has "inspect: default scratch ranges" "$work/inspect.txt" 'scratch ranges +[1-9]'
"$INSPECT" --verify "$img" >"$work/verify.txt" 2>&1 && verify_rc=0 || verify_rc=$?
tl_check "verify exits 0" test "$verify_rc" = 0
tl_log_has "verify: all chunks OK" "$work/verify.txt" '^verify: all [0-9]+ chunks OK'

tl_check "extract" quiet "$INSPECT" -x "$work/a.out" "$img"
python3 "$work/flat-memory.py" "$work/a.out" >"$work/a.out.flat"
tl_check "extracted memory equals the core's, byte for byte" cmp -s "$work/a.out.flat" "$work/a.flat"
tl_check "extracted core is ET_CORE" test "$(od -An -tu2 -j16 -N2 "$work/a.out" | tr -d ' ')" = 4
tl_check "extract --et-exec" quiet "$INSPECT" -x "$work/a.exec" --et-exec "$img"
tl_check "ET_EXEC core is ET_EXEC" test "$(od -An -tu2 -j16 -N2 "$work/a.exec" | tr -d ' ')" = 2
tl_check "second round trip: save the extracted core" quiet "$SAVE" "${common[@]}" -o "$work/b.img" "$work/a.out"
tl_check "second round trip: extract" quiet "$INSPECT" -x "$work/b.out" "$work/b.img"
tl_check "second round trip is identical" cmp -s "$work/a.out" "$work/b.out"
tl_check "level 0 stores no zlib chunks" \
  bash -c "'$SAVE' ${common[*]} --level 0 -o '$work/c.img' '$work/a.core' 2>/dev/null && '$INSPECT' '$work/c.img' | grep -Eq '^  zlib +0 chunks'"
tl_check "--exclude removes a range" \
  bash -c "'$SAVE' ${common[*]} --exclude 0x100000000+0x40000 -o '$work/d.img' '$work/a.core' 2>/dev/null && '$INSPECT' '$work/d.img' | grep -Eq '^segments +2,'"
tl_check "--scratch replaces the default" \
  bash -c "'$SAVE' ${common[*]} --scratch 0x10000000+16M -o '$work/e.img' '$work/a.core' 2>/dev/null && '$INSPECT' '$work/e.img' | grep -Eq 'scratch ranges +1$'"

# ---------------------------------------------------------------- damage
"$INSPECT" --chunks "$img" >"$work/chunks.txt"
first_stored=$(awk '$2 == "dest" && ($6 == "zlib" || $6 == "raw") { print; exit }' "$work/chunks.txt")
chunk=$(awk '{ print $1 }' <<<"$first_stored")
offset=$(sed -E 's/.* at (0x[0-9a-f]+) .*/\1/' <<<"$first_stored")
cp "$img" "$work/damaged.img"
printf '\xff' | dd of="$work/damaged.img" bs=1 seek=$((offset + 10)) conv=notrunc status=none
tl_check "a damaged chunk still inspects" quiet "$INSPECT" "$work/damaged.img"
"$INSPECT" --verify "$work/damaged.img" >/dev/null 2>"$work/damaged.txt" && rc=0 || rc=$?
tl_check "--verify fails on a damaged chunk" test "$rc" = 1
tl_log_has "--verify names the chunk and its location" "$work/damaged.txt" "chunk $chunk: SHA-256 mismatch in stored bytes at $offset"
cp "$img" "$work/header.img"
printf '\x01' | dd of="$work/header.img" bs=1 seek=$((4096 + 3000)) conv=notrunc status=none
"$INSPECT" "$work/header.img" >/dev/null 2>"$work/header.txt" && rc=0 || rc=$?
tl_check "a damaged header is refused" test "$rc" = 1
tl_log_has "... with its reason" "$work/header.txt" 'header digest does not match'
cp "$img" "$work/short.img"
truncate -s $(( $(stat -c %s "$img") - 4096 )) "$work/short.img"
"$INSPECT" "$work/short.img" >/dev/null 2>"$work/short.txt" && rc=0 || rc=$?
tl_check "a truncated image is refused" test "$rc" = 1
tl_log_has "... as truncated" "$work/short.txt" 'truncated image'

# ---------------------------------------------------------------- bad input
cp "$img" "$work/old.img"
head -c 8192 /dev/urandom >"$work/not-elf"
"$SAVE" "${common[@]}" -o "$work/old.img" "$work/not-elf" 2>"$work/bad.txt" && rc=0 || rc=$?
tl_check "save refuses a non-ELF input" test "$rc" = 1
tl_log_has "... saying so" "$work/bad.txt" 'not an ELF file'
tl_check "... and leaves no image (not even the old one)" bash -c "! '$INSPECT' '$work/old.img' >/dev/null 2>&1"
"$SAVE" "${common[@]}" -o "$work/f.img" "$work/bad-overlap.core" 2>"$work/overlap.txt" && rc=0 || rc=$?
tl_check "save refuses partly overlapping PT_LOADs" test "$rc" = 1
tl_log_has "... saying so" "$work/overlap.txt" 'partly overlap'
echo "console=ttyS0" >"$work/cmdline-none"
"$SAVE" --cmdline "$work/cmdline-none" --memmap "$work/memmap" -q -o "$work/g.img" "$work/a.core" \
  2>"$work/noentry.txt" && rc=0 || rc=$?
tl_check "save needs a jump back entry" test "$rc" = 1
tl_log_has "... saying where it looked" "$work/noentry.txt" 'no kexec_jump_back_entry='

# ---------------------------------------------------------------- partitions
# A GPT disk on a loop device: the wrong type is refused, --force overrides,
# the hibernation type is accepted. Skipped where loop devices are not allowed.
if [[ $(id -u) = 0 ]] && command -v sgdisk >/dev/null && command -v losetup >/dev/null &&
   truncate -s 64M "$work/disk" && sgdisk -q -n 1:2048:+40M -t 1:8300 "$work/disk" >/dev/null &&
   loop=$(losetup -P -f --show "$work/disk" 2>/dev/null) && sleep 0.5 && [[ -b ${loop}p1 ]]; then
  "$SAVE" "${common[@]}" -o "${loop}p1" "$work/a.core" 2>"$work/type.txt" && rc=0 || rc=$?
  tl_check "save refuses a partition of another type" test "$rc" = 1
  tl_log_has "... naming the type" "$work/type.txt" 'not the hibernation type 182aad0a-d5e4-4b60-b136-a6c091f30d90'
  tl_check "save --force writes it anyway" quiet "$SAVE" "${common[@]}" --force -o "${loop}p1" "$work/a.core"
  sgdisk -q -t 1:182aad0a-d5e4-4b60-b136-a6c091f30d90 "$loop" >/dev/null
  blockdev --rereadpt "$loop" 2>/dev/null || partx -u "$loop" 2>/dev/null || true
  tl_check "save accepts a hibernation partition" quiet "$SAVE" "${common[@]}" -o "${loop}p1" "$work/a.core"
  tl_check "the partition's image verifies" bash -c "'$INSPECT' --verify '${loop}p1' >/dev/null"
else
  echo "tools-roundtrip: skip partition checks (no root, sgdisk or loop devices here)"
fi

tl_finish
