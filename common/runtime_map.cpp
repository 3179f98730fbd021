#include "common/runtime_map.h"

#include "common/memory_map.h"

namespace hl {

Status check_runtime_map(Span<const image::RuntimeMapEntry> recorded,
                         Span<const RuntimeRegion> current) {
  for (const RuntimeRegion& now : current) {
    bool found = false;
    for (const image::RuntimeMapEntry& then : recorded) {
      if (then.physical_address != now.physical_address) continue;
      if (then.page_count != now.page_count || then.type != now.type) {
        return Error::make(
            "EFI runtime region at {x} is now {} pages of {}, but was {} pages of {} at "
            "hibernation: the firmware changed",
            now.physical_address, now.page_count, efi_memory_type_name(now.type),
            then.page_count, efi_memory_type_name(then.type));
      }
      found = true;
      break;
    }
    if (!found) {
      return Error::make(
          "EFI runtime region at {x} ({} pages of {}) was not there at hibernation: the "
          "firmware or its configuration changed",
          now.physical_address, now.page_count, efi_memory_type_name(now.type));
    }
  }
  for (const image::RuntimeMapEntry& then : recorded) {
    // Linux marks boot-services regions it keeps (efi_mem_reserve: ESRT,
    // memory attributes table, ...) as runtime in its own map so that kexec
    // preserves them; they are not the firmware's runtime regions, and a new
    // boot has no reason to make them runtime again.
    if (then.type == kEfiBootServicesCode || then.type == kEfiBootServicesData) continue;
    bool found = false;
    for (const RuntimeRegion& now : current) found |= now.physical_address == then.physical_address;
    if (!found) {
      return Error::make("EFI runtime region at {x} ({} pages) of the hibernated system is gone now",
                         then.physical_address, then.page_count);
    }
  }
  return ok_status();
}

bool recorded_virtual_address(Span<const image::RuntimeMapEntry> recorded, uint64_t physical,
                              uint64_t* virtual_address) {
  for (const image::RuntimeMapEntry& then : recorded) {
    if (then.physical_address == physical) {
      *virtual_address = then.virtual_address;
      return true;
    }
  }
  return false;
}

}  // namespace hl
