// Keeping the chain-loaded kernel out of memory (normal boot) or inside it
// (fallback resume), on the firmware side: the memory map, and the
// allocations made before StartImage so that the EFI stub, which allocates
// with the firmware's allocator, places nothing where it must not.
//
// The plans themselves (which ranges, which command line) are pure logic in
// common/kernel_boot_plan.h; docs/kernel-loading.md explains the choice.
//
//   MemoryClaims claims;
//   auto left = claim_free_memory(ClaimScope::kInside, reserve.span(), &claims);
//   ... StartImage ...
//   claims.release_all();          // only reached if the kernel returned
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/kernel_boot_plan.h"
#include "common/memory_map.h"
#include "efi/firmware.h"

namespace hl::kernel_loader {

// The firmware's memory map now, normalized (common/memory_map.h). The span
// points into a static buffer, valid until the next call.
Result<Span<const MemoryRegion>> read_firmware_memory_map();

// Pages hiberload allocated (AllocateAddress, EfiLoaderData) to keep them
// from the EFI stub. EfiLoaderData, not a reserved type: the kernel's e820
// then still calls them RAM (/sys/firmware/memmap too, which kexec-tools
// needs), and the command line alone decides what the kernel uses.
class MemoryClaims {
 public:
  static constexpr size_t kCapacity = 1024;

  MemoryClaims() = default;
  ~MemoryClaims() { release_all(); }
  MemoryClaims(const MemoryClaims&) = delete;
  MemoryClaims& operator=(const MemoryClaims&) = delete;

  // Allocates [base, base + size) exactly. EFI_NOT_FOUND when some page of
  // it is no longer free.
  EFI_STATUS claim(uint64_t base, uint64_t size);
  void release_all();

  size_t count() const { return count_; }
  uint64_t bytes() const { return bytes_; }

 private:
  MemoryRange ranges_[kCapacity];
  size_t count_ = 0;
  uint64_t bytes_ = 0;
};

enum class ClaimScope {
  kInside,   // Claim the free memory inside the ranges (normal boot).
  kOutside,  // Claim the free memory outside the ranges (fallback resume).
};

// Claims every page that is free and inside (or outside) `ranges`, reading
// the memory map again until nothing is left to claim: the firmware may
// free or split memory while this allocates. Returns the bytes it could not
// claim (pages the map calls free but AllocatePages refuses): normally 0.
Result<uint64_t> claim_free_memory(ClaimScope scope, Span<const MemoryRange> ranges,
                                   MemoryClaims* claims);

}  // namespace hl::kernel_loader
