#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <vector>

#include "common/identity_map.h"

namespace {

// Walks the tables as the CPU would (4-level, 2 MiB leaves): returns the
// physical address `virt` translates to, or ~0 if not present.
uint64_t translate(const std::vector<uint64_t>& memory, uint64_t base, uint64_t cr3, uint64_t virt) {
  auto entry = [&](uint64_t table_physical, uint64_t index) {
    return memory[(table_physical - base) / 8 + index];
  };
  const uint64_t mask = 0x000ffffffffff000ull;
  uint64_t e = entry(cr3 & mask, (virt >> 39) & 511);
  if (!(e & hl::kPtePresent)) return ~0ull;
  e = entry(e & mask, (virt >> 30) & 511);
  if (!(e & hl::kPtePresent)) return ~0ull;
  e = entry(e & mask, (virt >> 21) & 511);
  if (!(e & hl::kPtePresent) || !(e & hl::kPteLargePage)) return ~0ull;
  return (e & 0x000fffffffe00000ull) | (virt & 0x1fffff);
}

}  // namespace

TEST_CASE("identity map translates every address below top to itself") {
  for (uint64_t top : {512ull << 20, 4ull << 30, (64ull << 30) + 1}) {
    const uint64_t base = 0x7654000;  // Physical address of the buffer.
    std::vector<uint64_t> memory(hl::identity_map_bytes(top) / 8);
    auto cr3 = hl::build_identity_map(memory.data(), base, top);
    REQUIRE(cr3.ok());
    CHECK(*cr3 == base);
    std::mt19937_64 rng(top);
    for (int i = 0; i < 10000; ++i) {
      const uint64_t address = rng() % top;
      REQUIRE(translate(memory, base, *cr3, address) == address);
    }
    CHECK(translate(memory, base, *cr3, 0) == 0);
    CHECK(translate(memory, base, *cr3, top - 1) == top - 1);
    // Beyond the rounded-up GiB nothing is mapped.
    const uint64_t rounded = (top + hl::kGiB - 1) / hl::kGiB * hl::kGiB;
    CHECK(translate(memory, base, *cr3, rounded) == ~0ull);
  }
  CHECK(hl::identity_map_bytes(512ull << 20) == 3 * 4096);
}

TEST_CASE("identity map refuses unaligned buffers and impossible tops") {
  std::vector<uint64_t> memory(4 * 512);
  CHECK_FALSE(hl::build_identity_map(memory.data(), 0x1234, 1ull << 30).ok());
  CHECK_FALSE(hl::build_identity_map(memory.data(), 0x1000, 0).ok());
  CHECK_FALSE(hl::build_identity_map(memory.data(), 0x1000, hl::kMaxIdentityMapTop + 1).ok());
}
