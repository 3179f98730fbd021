// The EFI runtime regions: the hibernated kernel's record versus the firmware
// now.
//
// A resumed kernel calls EFI runtime services through the virtual mapping it
// gave SetVirtualAddressMap at its own boot (recorded in the image from
// /sys/firmware/efi/runtime-map). hiberload must call SetVirtualAddressMap
// with that same mapping, which is only right if the firmware placed its
// runtime regions exactly where it did then. check_runtime_map() says
// whether it did; recorded_virtual_address() gives the mapping.
#pragma once

#include <stdint.h>

#include "common/error.h"
#include "common/image_format.h"
#include "common/span.h"

namespace hl {

// EFI_MEMORY_RUNTIME (UEFI 2.10, 7.2.3).
inline constexpr uint64_t kEfiMemoryRuntime = 0x8000000000000000ull;

// A runtime region of the current memory map (descriptor with
// EFI_MEMORY_RUNTIME set).
struct RuntimeRegion {
  uint64_t physical_address = 0;
  uint64_t page_count = 0;
  uint32_t type = 0;
};

// Every current runtime region must be recorded with the same address, size
// and type, and every recorded region must exist now, except boot-services
// regions Linux itself marked runtime (efi_mem_reserve), which are ignored.
Status check_runtime_map(Span<const image::RuntimeMapEntry> recorded,
                         Span<const RuntimeRegion> current);

// The virtual address the hibernated kernel gave the region at physical
// address `physical` (false if it recorded none).
bool recorded_virtual_address(Span<const image::RuntimeMapEntry> recorded, uint64_t physical,
                              uint64_t* virtual_address);

}  // namespace hl
