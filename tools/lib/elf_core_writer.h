// Lays out an ELF64 core with one PT_LOAD per physical range (what
// hiberload-inspect --extract writes and the tests build their inputs with).
//
// The file is compact: ELF header, program headers, then each range's bytes
// at a 4096-aligned offset, in order, with no holes between ranges — so
// kexec-tools, which reads a whole file into memory, needs no more than the
// memory itself. kexec-tools refuses ET_CORE (reference README, trap 7):
// pass ET_EXEC to produce a file `kexec -l --entry=...` accepts.
#pragma once

#include <stdint.h>

#include <vector>

#include "tools/lib/memory_source.h"

namespace hl {

struct ElfCoreLayout {
  std::vector<uint8_t> headers;         // Bytes for offset 0.
  std::vector<uint64_t> range_offsets;  // File offset of each range's first byte.
  uint64_t file_size = 0;
};

ElfCoreLayout layout_elf_core(const std::vector<PhysicalRange>& ranges, uint16_t elf_type);

}  // namespace hl
