#!/usr/bin/env python3
"""Writes a small synthetic ELF64 core (what kernel B's /proc/vmcore is, in
miniature) for the fallback-restore test: one PT_LOAD of SIZE bytes at
physical address PADDR, each page starting with its own address, and at
PADDR + ENTRY_OFFSET a few instructions that end QEMU through its
isa-debug-exit port with value VALUE:

    mov $VALUE, %al ; mov $0x501, %dx ; out %al, (%dx) ; 1: hlt ; jmp 1b

so that `kexec -e` to that entry proves the whole chain (load, jump) ran.

    make-test-core.py OUT PADDR SIZE ENTRY_OFFSET VALUE
"""
import struct
import sys

out, paddr, size, entry_off, value = sys.argv[1], *(int(a, 0) for a in sys.argv[2:6])
DATA = 4096
elf_header = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + bytes(9),
                         4, 62, 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0)  # ET_CORE, EM_X86_64
program_header = struct.pack("<IIQQQQQQ", 1, 7, DATA, 0xFFFF888000000000 + paddr, paddr,
                             size, size, 4096)  # PT_LOAD, RWX
code = bytes([0xB0, value, 0x66, 0xBA, 0x01, 0x05, 0xEE, 0xF4, 0xEB, 0xFD])
filler = (b"hiberload fallback test page " * 150)[:4096]
with open(out, "wb") as f:
    f.write(elf_header + program_header + bytes(DATA - 64 - 56))
    for i in range(size // 4096):
        page = bytearray(struct.pack("<Q", paddr + i * 4096) + filler[8:])
        if i == entry_off // 4096:
            o = entry_off % 4096
            page[o:o + len(code)] = code
        f.write(page)
