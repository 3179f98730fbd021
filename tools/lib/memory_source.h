// Physical memory as the image writer consumes it: a sorted list of disjoint
// ranges and a way to read bytes from them. An ELF core (elf_core.h) is one;
// tests use in-memory sources.
#pragma once

#include <stdint.h>

#include <vector>

#include "common/error.h"

namespace hl {

struct PhysicalRange {
  uint64_t base = 0;
  uint64_t size = 0;
  uint64_t end() const { return base + size; }
  bool operator==(const PhysicalRange&) const = default;
};

class MemorySource {
 public:
  virtual ~MemorySource() = default;
  // Sorted by base, disjoint, non-empty; adjacent ranges are merged.
  virtual const std::vector<PhysicalRange>& ranges() const = 0;
  // Reads [address, address + length), which lies inside one range. Called
  // from several threads at once.
  virtual Status read(uint64_t address, void* buffer, size_t length) const = 0;
};

// Parses a decimal or 0x-hex number with an optional K, M or G suffix.
Result<uint64_t> parse_size(const char* text);

// Parses "BASE+SIZE" (each decimal or 0x-hex; SIZE may end in K, M or G).
Result<PhysicalRange> parse_physical_range(const char* text);

// Removes `cut` from every range of `ranges` (sorted, disjoint), splitting
// where needed.
std::vector<PhysicalRange> subtract_range(const std::vector<PhysicalRange>& ranges,
                                          const PhysicalRange& cut);

}  // namespace hl
