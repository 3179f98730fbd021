#include "common/memory_map.h"

namespace hl {

const char* memory_kind_name(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::kFree: return "free";
    case MemoryKind::kBusyUntilExit: return "busy until ExitBootServices";
    case MemoryKind::kNotRam: return "not RAM";
  }
  return "?";
}

MemoryKind classify_efi_memory_type(uint32_t efi_type) {
  switch (efi_type) {
    case kEfiConventionalMemory:
      return MemoryKind::kFree;
    case kEfiLoaderCode:
    case kEfiLoaderData:
    case kEfiBootServicesCode:
    case kEfiBootServicesData:
      return MemoryKind::kBusyUntilExit;
    default:
      // Runtime services, ACPI tables and NVS, reserved, MMIO, unusable,
      // persistent and unaccepted memory: Linux never had these as RAM
      // that a hibernation image could cover.
      return MemoryKind::kNotRam;
  }
}

const char* efi_memory_type_name(uint32_t efi_type) {
  static const char* const kNames[] = {
      "reserved",         "loader code",          "loader data",   "boot services code",
      "boot services data", "runtime services code", "runtime services data",
      "conventional",     "unusable",             "ACPI reclaim",  "ACPI NVS",
      "MMIO",             "MMIO port space",      "PAL code",      "persistent",
      "unaccepted",
  };
  if (efi_type < sizeof kNames / sizeof kNames[0]) return kNames[efi_type];
  if (efi_type == ~0u) return "absent from the memory map";
  return "OEM/OS-specific type";
}

Status normalize_memory_map(MemoryRegion* regions, size_t* count) {
  size_t n = *count;
  for (size_t i = 0; i < n; ++i) {
    if (regions[i].size == 0) return Error::make("memory map entry {} is empty", i);
    if (regions[i].base > UINT64_MAX - regions[i].size) {
      return Error::make("memory map entry {} at {x} wraps around", i, regions[i].base);
    }
  }
  for (size_t i = 1; i < n; ++i) {
    const MemoryRegion r = regions[i];
    size_t j = i;
    while (j > 0 && regions[j - 1].base > r.base) {
      regions[j] = regions[j - 1];
      --j;
    }
    regions[j] = r;
  }
  size_t out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (out > 0) {
      MemoryRegion& last = regions[out - 1];
      if (regions[i].base < last.end()) {
        return Error::make("memory map entries overlap at {x}", regions[i].base);
      }
      if (regions[i].base == last.end() && regions[i].kind == last.kind &&
          regions[i].efi_type == last.efi_type) {
        last.size += regions[i].size;
        continue;
      }
    }
    regions[out++] = regions[i];
  }
  *count = out;
  return ok_status();
}

}  // namespace hl
