#include "efi/memory_map.h"

namespace hl::efi {

Status read_memory_map(FirmwareMemoryMap* map) {
  UINTN size = map->capacity;
  EFI_STATUS status = BS->GetMemoryMap(&size, reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(map->buffer),
                                       &map->map_key, &map->descriptor_size,
                                       &map->descriptor_version);
  if (status == EFI_BUFFER_TOO_SMALL) {
    return Error::make("memory map needs {} bytes, buffer has {}", size, map->capacity);
  }
  if (EFI_ERROR(status)) return firmware_error("GetMemoryMap", status);
  if (map->descriptor_size < sizeof(EFI_MEMORY_DESCRIPTOR)) {
    return Error::make("firmware memory descriptors of {} bytes are too small", map->descriptor_size);
  }
  map->size = size;
  return ok_status();
}

Result<size_t> memory_map_buffer_size() {
  UINTN size = 0, key = 0, descriptor_size = 0;
  UINT32 version = 0;
  EFI_STATUS status = BS->GetMemoryMap(&size, nullptr, &key, &descriptor_size, &version);
  if (status != EFI_BUFFER_TOO_SMALL) return firmware_error("GetMemoryMap (size query)", status);
  // Every allocation can split a descriptor in two; leave room for many.
  return static_cast<size_t>(size + 64 * (descriptor_size ? descriptor_size : 48));
}

Result<size_t> to_memory_regions(const FirmwareMemoryMap& map, MemoryRegion* out, size_t capacity) {
  const size_t n = map.count();
  if (n > capacity) return Error::make("memory map has {} entries, more than {}", n, capacity);
  for (size_t i = 0; i < n; ++i) {
    const EFI_MEMORY_DESCRIPTOR* d = map.at(i);
    if (d->NumberOfPages > (UINT64_MAX >> 12)) return Error::make("memory map entry {} is too large", i);
    out[i].base = d->PhysicalStart;
    out[i].size = d->NumberOfPages << 12;
    out[i].efi_type = d->Type;
    out[i].kind = classify_efi_memory_type(d->Type);
  }
  size_t count = n;
  HL_TRY(normalize_memory_map(out, &count));
  return count;
}

}  // namespace hl::efi

#include "efi/console.h"
#include "efi/pool_allocator.h"

namespace hl::efi {

void print_memory_map() {
  auto size = memory_map_buffer_size();
  if (!size) {
    say("memmap: {}", size.error().reason());
    return;
  }
  PoolAllocator pool;
  FirmwareMemoryMap map;
  map.capacity = *size;
  map.buffer = static_cast<uint8_t*>(pool.allocate(map.capacity));
  if (map.buffer == nullptr) return;
  if (Status s = read_memory_map(&map); !s) {
    say("memmap: {}", s.error().reason());
  } else {
    for (size_t i = 0; i < map.count(); ++i) {
      const EFI_MEMORY_DESCRIPTOR* d = map.at(i);
      say("memmap: {x} {x} {} {x}", d->PhysicalStart, d->NumberOfPages, d->Type, d->Attribute);
    }
  }
  pool.release(map.buffer);
}

}  // namespace hl::efi
