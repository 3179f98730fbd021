// The firmware's memory map as the placement planner sees it.
//
// efi/memory_map.cpp turns GetMemoryMap's descriptors into MemoryRegion
// values with classify_efi_memory_type(); host tests build them directly.
// What matters for a resume is only whether a physical range is
//   - free now (conventional memory: allocate it and write in place),
//   - busy now but RAM for the OS after ExitBootServices (firmware boot
//     services and hiberload's own code and data: write it last, from the
//     final stage), or
//   - never RAM for the OS (runtime services, ACPI, reserved, MMIO...): an
//     image page there means the machine changed, and nothing is placed.
#pragma once

#include <stdint.h>

#include "common/error.h"
#include "common/span.h"

namespace hl {

enum class MemoryKind : uint8_t {
  kFree,          // EfiConventionalMemory
  kBusyUntilExit, // Loader/boot-services code and data
  kNotRam,        // Everything else, including holes (absent from the map)
};

const char* memory_kind_name(MemoryKind kind);

// UEFI memory types (UEFI 2.10, 7.2.1, EFI_MEMORY_TYPE).
enum EfiMemoryType : uint32_t {
  kEfiReservedMemoryType = 0,
  kEfiLoaderCode = 1,
  kEfiLoaderData = 2,
  kEfiBootServicesCode = 3,
  kEfiBootServicesData = 4,
  kEfiRuntimeServicesCode = 5,
  kEfiRuntimeServicesData = 6,
  kEfiConventionalMemory = 7,
  kEfiUnusableMemory = 8,
  kEfiACPIReclaimMemory = 9,
  kEfiACPIMemoryNVS = 10,
  kEfiMemoryMappedIO = 11,
  kEfiMemoryMappedIOPortSpace = 12,
  kEfiPalCode = 13,
  kEfiPersistentMemory = 14,
  kEfiUnacceptedMemoryType = 15,
};

MemoryKind classify_efi_memory_type(uint32_t efi_type);
const char* efi_memory_type_name(uint32_t efi_type);

struct MemoryRegion {
  uint64_t base = 0;
  uint64_t size = 0;
  MemoryKind kind = MemoryKind::kNotRam;
  uint32_t efi_type = 0;  // For messages.

  uint64_t end() const { return base + size; }
};

// Sorts regions by base (insertion sort: maps have tens to a few hundred
// entries), merges touching regions of the same kind, and checks that none
// overlap or wrap. Returns the new count through *count.
Status normalize_memory_map(MemoryRegion* regions, size_t* count);

// Calls visit(base, size, kind, efi_type) for consecutive pieces that
// together cover [base, base + size) exactly, splitting at region
// boundaries; parts not in the map are reported as kNotRam with type ~0u.
// `regions` must be normalized.
template <typename Visitor>
void for_each_piece(Span<const MemoryRegion> regions, uint64_t base, uint64_t size,
                    Visitor&& visit) {
  const uint64_t end = base + size;
  uint64_t cursor = base;
  for (const MemoryRegion& r : regions) {
    if (cursor >= end) break;
    if (r.end() <= cursor) continue;
    if (r.base >= end) break;
    if (r.base > cursor) {
      visit(cursor, r.base - cursor, MemoryKind::kNotRam, ~0u);
      cursor = r.base;
    }
    const uint64_t piece_end = r.end() < end ? r.end() : end;
    visit(cursor, piece_end - cursor, r.kind, r.efi_type);
    cursor = piece_end;
  }
  if (cursor < end) visit(cursor, end - cursor, MemoryKind::kNotRam, ~0u);
}

}  // namespace hl
