#include "kernel-loader/memory_restriction.h"

#include "efi/memory_map.h"

namespace hl::kernel_loader {
namespace {

constexpr size_t kMaxRegions = 1024;
constexpr int kMaxClaimPasses = 8;

// Static: the firmware stack is small, and hiberload is single-threaded.
MemoryRegion g_regions[kMaxRegions];
RangeList g_pieces;

}  // namespace

Result<Span<const MemoryRegion>> read_firmware_memory_map() {
  auto size = efi::memory_map_buffer_size();
  if (!size) return size.error();
  efi::FirmwareMemoryMap map;
  map.capacity = *size;
  EFI_STATUS status =
      BS->AllocatePool(EfiLoaderData, map.capacity, reinterpret_cast<void**>(&map.buffer));
  if (EFI_ERROR(status)) return efi::firmware_error("allocating the memory map buffer", status);
  Status read = efi::read_memory_map(&map);
  Result<size_t> count = read ? efi::to_memory_regions(map, g_regions, kMaxRegions)
                              : Result<size_t>(read.error());
  BS->FreePool(map.buffer);
  if (!count) return count.error();
  return Span<const MemoryRegion>(g_regions, *count);
}

EFI_STATUS MemoryClaims::claim(uint64_t base, uint64_t size) {
  if (count_ == kCapacity) return EFI_OUT_OF_RESOURCES;
  EFI_PHYSICAL_ADDRESS address = base;
  EFI_STATUS status = BS->AllocatePages(AllocateAddress, EfiLoaderData, size >> 12, &address);
  if (EFI_ERROR(status)) return status;
  ranges_[count_++] = MemoryRange{base, size};
  bytes_ += size;
  return EFI_SUCCESS;
}

void MemoryClaims::release_all() {
  while (count_ > 0) {
    const MemoryRange& r = ranges_[--count_];
    BS->FreePages(r.base, r.size >> 12);
  }
  bytes_ = 0;
}

Result<uint64_t> claim_free_memory(ClaimScope scope, Span<const MemoryRange> ranges,
                                   MemoryClaims* claims) {
  uint64_t left = 0;
  for (int pass = 0; pass < kMaxClaimPasses; ++pass) {
    auto map = read_firmware_memory_map();
    if (!map) return map.error();
    HL_TRY(scope == ClaimScope::kInside ? free_memory_inside(*map, ranges, &g_pieces)
                                        : free_memory_outside(*map, ranges, &g_pieces));
    left = g_pieces.total_bytes();
    if (left == 0) return uint64_t{0};
    bool progress = false;
    for (size_t i = 0; i < g_pieces.size(); ++i) {
      const MemoryRange& piece = g_pieces[i];
      EFI_STATUS status = claims->claim(piece.base, piece.size);
      // Not free any more: something allocated in between; the next pass
      // reads the map again.
      if (status == EFI_NOT_FOUND) continue;
      if (EFI_ERROR(status)) {
        return efi::firmware_error("AllocatePages", status)
            .with_context("claiming {x}-{x}", piece.base, piece.end() - 1);
      }
      progress = true;
    }
    if (!progress) break;
  }
  return left;
}

}  // namespace hl::kernel_loader
