#include "common/identity_map.h"

#include <string.h>

namespace hl {
namespace {

constexpr uint64_t kTwoMiB = 2ull << 20;
constexpr uint64_t kPageTableBytes = 4096;

uint64_t gibibytes_for(uint64_t top) { return (top + kGiB - 1) / kGiB; }

}  // namespace

uint64_t identity_map_bytes(uint64_t top) {
  // PML4 + PDPT + one page directory per GiB.
  return (2 + gibibytes_for(top)) * kPageTableBytes;
}

Result<uint64_t> build_identity_map(void* buffer, uint64_t physical, uint64_t top) {
  if (top == 0 || top > kMaxIdentityMapTop) {
    return Error::make("cannot identity-map up to {x}: at most 512 GiB", top);
  }
  if (physical % kPageTableBytes != 0 || reinterpret_cast<uintptr_t>(buffer) % 8 != 0) {
    return Error::make("page tables at {x} are not page-aligned", physical);
  }
  const uint64_t gibibytes = gibibytes_for(top);
  memset(buffer, 0, identity_map_bytes(top));
  auto* table = static_cast<uint64_t*>(buffer);
  uint64_t* pml4 = table;
  uint64_t* pdpt = table + 512;
  const uint64_t pdpt_physical = physical + kPageTableBytes;
  pml4[0] = pdpt_physical | kPtePresent | kPteWritable;
  for (uint64_t g = 0; g < gibibytes; ++g) {
    uint64_t* pd = table + 512 * (2 + g);
    const uint64_t pd_physical = physical + (2 + g) * kPageTableBytes;
    pdpt[g] = pd_physical | kPtePresent | kPteWritable;
    for (uint64_t i = 0; i < 512; ++i) {
      pd[i] = (g * kGiB + i * kTwoMiB) | kPtePresent | kPteWritable | kPteLargePage;
    }
  }
  return physical;
}

}  // namespace hl
