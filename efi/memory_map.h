// GetMemoryMap, and its conversion to the planner's MemoryRegion list.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/memory_map.h"
#include "efi/firmware.h"

namespace hl::efi {

struct FirmwareMemoryMap {
  uint8_t* buffer = nullptr;   // Caller-owned.
  size_t capacity = 0;
  UINTN size = 0;              // Bytes of descriptors returned.
  UINTN descriptor_size = 0;   // Stride: may exceed sizeof(EFI_MEMORY_DESCRIPTOR).
  UINTN map_key = 0;
  UINT32 descriptor_version = 0;

  size_t count() const { return descriptor_size ? size / descriptor_size : 0; }
  EFI_MEMORY_DESCRIPTOR* at(size_t i) const {
    return reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(buffer + i * descriptor_size);
  }
};

// Fills map (whose buffer/capacity the caller set) without allocating, so it
// can be called right before ExitBootServices.
Status read_memory_map(FirmwareMemoryMap* map);

// Bytes to reserve for a memory map buffer: the current size plus room for
// the descriptors that allocations made in the meantime add.
Result<size_t> memory_map_buffer_size();

// Converts and normalizes; fails if out is too small or the map is invalid.
Result<size_t> to_memory_regions(const FirmwareMemoryMap& map, MemoryRegion* out, size_t capacity);

}  // namespace hl::efi

namespace hl::efi {

// Prints the firmware's memory map, one "memmap: BASE PAGES TYPE ATTRIBUTE"
// line per descriptor (test machines use it to build synthetic images that
// fit this firmware).
void print_memory_map();

}  // namespace hl::efi
