#!/usr/bin/env python3
"""Checks a guest's /proc/iomem and /sys/firmware/memmap, as printed by
scripts/tests/guest/kernel-report-init.sh into a harness log, against the
memory shape hiberload promised.

  iomem-check.py LOG [--ram-outside BASE+SIZE]... [--ram-inside BASE+SIZE]...
                     [--firmware-ram BASE+SIZE]... [--show]

--ram-outside R   no top-level "System RAM" range of /proc/iomem overlaps R
--ram-inside R    every top-level "System RAM" range lies inside the union of
                  the --ram-inside ranges
--firmware-ram R  /sys/firmware/memmap calls all of R "System RAM" (what
                  kexec-tools reads)
--show            print the top-level /proc/iomem lines and "Kernel code"
Exit status 0 when every check holds; each failure is printed.
"""
import re
import sys

STAMP = re.compile(r"^\[ *[0-9.]+\][ +]")


def parse_range(text):
    base, size = text.split("+")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if size[-1] in mult:
        size = int(size[:-1], 0) * mult[size[-1]]
    else:
        size = int(size, 0)
    return int(base, 0), int(base, 0) + size  # [start, end)


def section(lines, begin, end):
    out, inside = [], False
    for line in lines:
        if line.startswith(begin):
            inside, out = True, []
            continue
        if line.startswith(end) and inside:
            return out
        if inside:
            out.append(line)
    return None


def main(argv):
    log, args = argv[0], argv[1:]
    outside, inside, fw_ram, show = [], [], [], False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--show":
            show = True
            i += 1
            continue
        val = parse_range(args[i + 1])
        {"--ram-outside": outside, "--ram-inside": inside, "--firmware-ram": fw_ram}[a].append(val)
        i += 2
    lines = [STAMP.sub("", l.rstrip("\n")) for l in open(log, encoding="utf-8", errors="replace")]
    iomem = section(lines, "HLTEST: iomem begin", "HLTEST: iomem end")
    if iomem is None:
        print("iomem-check: no /proc/iomem section in the log")
        return 1
    top, kernel = [], []
    for l in iomem:
        m = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", l)
        if not m:
            continue
        entry = (int(m.group(2), 16), int(m.group(3), 16) + 1, m.group(4), l)
        if m.group(1) == "":
            top.append(entry)
        elif m.group(4).startswith("Kernel "):
            kernel.append(entry)
    ram = [e for e in top if e[2] == "System RAM"]
    if show:
        for e in top:
            print("  " + e[3])
        for e in kernel:
            print("  " + e[3])
    failures = 0
    if not ram:
        print("iomem-check: no System RAM at all in /proc/iomem")
        failures += 1
    for lo, hi in outside:
        for s, e, _, text in ram:
            if s < hi and lo < e:
                print(f"iomem-check: System RAM overlaps {lo:#x}-{hi - 1:#x}: {text.strip()}")
                failures += 1
    if inside:
        for s, e, _, text in ram:
            if not any(lo <= s and e <= hi for lo, hi in inside):
                print(f"iomem-check: System RAM outside the allowed ranges: {text.strip()}")
                failures += 1
    if fw_ram:
        fw = section(lines, "HLTEST: firmware memmap begin", "HLTEST: firmware memmap end") or []
        fw_ranges = []
        for l in fw:
            p = l.split(None, 2)
            if len(p) == 3 and p[2] == "System RAM":
                fw_ranges.append((int(p[0], 16), int(p[1], 16) + 1))
        fw_ranges.sort()
        for lo, hi in fw_ram:
            cur = lo
            for s, e in fw_ranges:
                if s <= cur < e:
                    cur = e
            if cur < hi:
                print(f"iomem-check: /sys/firmware/memmap does not call {cur:#x}-{hi - 1:#x} System RAM")
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
