#!/bin/sh
# hiberload's fallback restore hook, for the initramfs of the kernel that
# hiberload boots when an image exists but cannot be placed from firmware
# (docs/kernel-loading.md, "Fallback resume"). busybox sh.
#
# hiberload booted this kernel inside the memory the image does not cover and
# put hiberload.image=PARTUUID=<uuid> on its command line. This hook:
#   1. finds the partition with that PARTUUID (util-linux blkid, else by
#      reading the GPT of every disk itself);
#   2. checks every chunk of the image     hiberload-inspect --verify
#   3. writes it as an ELF core kexec-tools accepts, and reads the jump back
#      entry                                hiberload-inspect --extract F --et-exec
#   4. loads it                             kexec -l --args-none --entry=ENTRY F
#   5. marks the image consumed             hiberload-consume PARTITION
#   6. jumps                                kexec -e   (the hibernated kernel continues)
# If anything fails it says why and returns, and the normal boot continues;
# the image is never consumed unless it is loaded, and never restored twice.
#
# Usage: fallback-restore.sh [--cmdline FILE]   (default /proc/cmdline)
# Command line parameters it reads:
#   hiberload.image=PARTUUID=<uuid>   the image (set by hiberload); absent: nothing to do
#   hiberload.remaining=B+S,...       hiberload placed all but these ranges: load only them
#   hiberload.restore=dry-run         do 1-4, then unload and return (no consume, no jump)
#   hiberload.restore=off             do nothing
# Exit status (only when no jump happened): 0 nothing to do or dry run done,
# 1 the restore failed (the reason is on stderr and the console).
#
# Needs in the initramfs: hiberload-inspect, hiberload-consume, kexec
# (kexec-tools), blkid (optional), and RAM in tmpfs for the core (the image's
# memory size): kexec-tools reads the whole file, so the kernel needs about
# twice the image's memory free. The tools are looked up in PATH.

say() { echo "hiberload-fallback: $*"; }
fail() { echo "hiberload-fallback: restore not possible: $*" >&2; say "continuing the normal boot"; exit 1; }

cmdline_file=/proc/cmdline
[ "${1:-}" = --cmdline ] && cmdline_file=${2:?--cmdline needs a file}
workdir=${HIBERLOAD_WORKDIR:-/run/hiberload}

param() { # NAME -> the value of NAME= on the command line (the last one)
    tr ' ' '\n' <"$cmdline_file" | sed -n "s/^$1=//p" | tail -n 1
}

image_spec=$(param hiberload.image)
# Set when hiberload already placed the rest of the image from firmware:
# only these ranges (the ones the firmware held) are left to load.
remaining=$(param hiberload.remaining)
mode=$(param hiberload.restore)
[ -n "$image_spec" ] || { say "no hiberload.image= on the command line: nothing to restore"; exit 0; }
[ "$mode" = off ] && { say "hiberload.restore=off: not restoring"; exit 0; }
case "$image_spec" in
PARTUUID=*) partuuid=$(echo "${image_spec#PARTUUID=}" | tr 'A-F' 'a-f') ;;
*) fail "hiberload.image=$image_spec: expected PARTUUID=<uuid>" ;;
esac

# --- 1. the partition ---------------------------------------------------------
hex_le() { # HEX-BYTES (e.g. "00 10 00 00") -> the little-endian number, decimal
    # shellcheck disable=SC2086  # one word per byte, on purpose
    set -- $1
    v=0 i=$#
    while [ "$i" -gt 0 ]; do
        b=""
        eval "b=\${$i}"
        v=$((v * 256 + 0x$b))
        i=$((i - 1))
    done
    echo "$v"
}
bytes_at() { # DEVICE OFFSET COUNT -> "xx xx ..." hex bytes
    dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | od -A n -t x1 -v | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}
guid_at() { # DEVICE OFFSET -> the GPT GUID stored there, as text
    # shellcheck disable=SC2046  # one word per byte, on purpose
    set -- $(bytes_at "$1" "$2" 16)
    echo "$4$3$2$1-$6$5-$8$7-$9${10}-${11}${12}${13}${14}${15}${16}"
}
find_by_gpt() { # UUID -> /dev/NAME of the partition, read from each disk's GPT
    for sys in /sys/class/block/*; do
        [ -e "$sys/partition" ] && continue
        disk=/dev/${sys##*/}
        [ -b "$disk" ] || continue
        lbs=$(cat "$sys/queue/logical_block_size" 2>/dev/null || echo 512)
        [ "$(dd if="$disk" bs=1 skip="$lbs" count=8 2>/dev/null)" = "EFI PART" ] || continue
        entries=$(hex_le "$(bytes_at "$disk" $((lbs + 72)) 8)")
        count=$(hex_le "$(bytes_at "$disk" $((lbs + 80)) 4)")
        size=$(hex_le "$(bytes_at "$disk" $((lbs + 84)) 4)")
        [ "$count" -le 256 ] || count=256
        n=1
        while [ "$n" -le "$count" ]; do
            if [ "$(guid_at "$disk" $((entries * lbs + (n - 1) * size + 16)))" = "$1" ]; then
                for part in "$sys"/*/partition; do
                    [ "$(cat "$part")" = "$n" ] && { echo "/dev/$(basename "$(dirname "$part")")"; return 0; }
                done
            fi
            n=$((n + 1))
        done
    done
    return 1
}
find_partition() {
    dev=""
    if blkid -V 2>/dev/null | grep -q util-linux; then
        dev=$(blkid -c /dev/null -l -o device -t "PARTUUID=$1" 2>/dev/null)
    fi
    [ -n "$dev" ] || dev=$(find_by_gpt "$1")
    [ -n "$dev" ] && echo "$dev"
}

device=""
for _ in 1 2 3 4 5; do  # block devices may still be probing
    device=$(find_partition "$partuuid") && break
    sleep 1
done
[ -n "$device" ] || fail "no partition with PARTUUID $partuuid (is its disk driver in the initramfs?)"
say "image partition: $device (PARTUUID $partuuid)"

# --- 2. verify ------------------------------------------------------------------
command -v hiberload-inspect >/dev/null || fail "hiberload-inspect is not in the initramfs"
command -v kexec >/dev/null || fail "kexec (kexec-tools) is not in the initramfs"
summary=$(hiberload-inspect "$device" 2>&1) || fail "$(echo "$summary" | tail -n 1)"
state=$(echo "$summary" | sed -n 's/^  state  *//p')
[ "$state" = valid ] || fail "the image on $device is $state, not valid"
entry=$(echo "$summary" | sed -n 's/^  jump back entry  *//p')
case "$entry" in 0x[0-9a-fA-F]*) ;; *) fail "no jump back entry in the image's header" ;; esac
only=""
if [ -n "$remaining" ]; then
    # hiberload verified and placed the rest; the extraction below verifies
    # every chunk it reads.
    say "hiberload placed the image except $(echo "$remaining" | tr ',' '\n' | wc -l) ranges: loading only those"
    only="--only $remaining"
else
    say "verifying every chunk"
    out=$(hiberload-inspect --verify "$device" 2>&1) || fail "$(echo "$out" | grep -m1 'verify failed' || echo "$out" | tail -n 1)"
fi

# --- 3. extract -----------------------------------------------------------------
mkdir -p "$workdir" && mount -t tmpfs -o mode=0700 hiberload "$workdir" 2>/dev/null
core=$workdir/image.elf
cleanup() { rm -f "$core"; umount "$workdir" 2>/dev/null; }
say "extracting the memory to $core"
out=$(hiberload-inspect --extract "$core" --et-exec $only "$device" 2>&1) || { cleanup; fail "$(echo "$out" | tail -n 1)"; }

# --- 4. load ----------------------------------------------------------------------
say "loading it: kexec -l --args-none --entry=$entry"
out=$(kexec -l --args-none --entry="$entry" "$core" 2>&1) || { cleanup; fail "kexec -l: $(echo "$out" | tail -n 1)"; }
# kexec_load copied the segments into the kernel: the file is no longer needed.
cleanup

if [ "$mode" = dry-run ]; then
    kexec -u >/dev/null 2>&1
    say "dry run (hiberload.restore=dry-run): image loaded and unloaded; not consumed, no jump"
    say "continuing the normal boot"
    exit 0
fi

# --- 5. consume, 6. jump -----------------------------------------------------------
command -v hiberload-consume >/dev/null || { kexec -u; fail "hiberload-consume is not in the initramfs"; }
out=$(hiberload-consume "$device" 2>&1) || { kexec -u; fail "$(echo "$out" | tail -n 1)"; }
sync
say "image marked consumed; jumping back into the hibernated kernel (kexec -e)"
kexec -e
# Only reached if the jump did not happen. The image is consumed: a second
# attempt could restore stale memory, so the normal boot continues.
kexec -u >/dev/null 2>&1
fail "kexec -e returned (status $?): the image stays consumed"
