#include <catch2/catch.hpp>
#include <vector>

#include "common/memory_map.h"
#include "common/runtime_map.h"

using hl::RuntimeRegion;
using hl::image::RuntimeMapEntry;

namespace {
RuntimeMapEntry recorded(uint64_t phys, uint64_t virt, uint64_t pages, uint32_t type) {
  return RuntimeMapEntry{phys, virt, pages, hl::kEfiMemoryRuntime, type, 0};
}
}  // namespace

TEST_CASE("runtime regions that match the record pass, and give their virtual addresses") {
  std::vector<RuntimeMapEntry> then = {recorded(0x1f800000, 0xfffffffeffe00000, 0x100, hl::kEfiRuntimeServicesData),
                                       recorded(0x1f900000, 0xfffffffeffd00000, 0x80, hl::kEfiRuntimeServicesCode)};
  std::vector<RuntimeRegion> now = {{0x1f900000, 0x80, hl::kEfiRuntimeServicesCode},
                                    {0x1f800000, 0x100, hl::kEfiRuntimeServicesData}};
  CHECK(hl::check_runtime_map({then.data(), then.size()}, {now.data(), now.size()}).ok());
  uint64_t virt = 0;
  REQUIRE(hl::recorded_virtual_address({then.data(), then.size()}, 0x1f900000, &virt));
  CHECK(virt == 0xfffffffeffd00000);
  CHECK_FALSE(hl::recorded_virtual_address({then.data(), then.size()}, 0x1000, &virt));
}

TEST_CASE("moved, resized, retyped, new or missing runtime regions are refused with a reason") {
  std::vector<RuntimeMapEntry> then = {recorded(0x1f800000, 0xfffffffeffe00000, 0x100, hl::kEfiRuntimeServicesData)};
  struct Case {
    std::vector<RuntimeRegion> now;
    const char* reason;
  } cases[] = {
      {{{0x1f800000, 0x101, hl::kEfiRuntimeServicesData}}, "is now 257 pages of runtime services data, but was 256 pages"},
      {{{0x1f800000, 0x100, hl::kEfiRuntimeServicesCode}}, "the firmware changed"},
      {{{0x1f800000, 0x100, hl::kEfiRuntimeServicesData}, {0x1fa00000, 1, hl::kEfiRuntimeServicesCode}},
       "at 0x1fa00000 (1 pages of runtime services code) was not there at hibernation"},
      {{}, "at 0x1f800000 (256 pages) of the hibernated system is gone now"},
  };
  for (const Case& c : cases) {
    auto status = hl::check_runtime_map({then.data(), then.size()}, {c.now.data(), c.now.size()});
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().reason(), Catch::Contains(c.reason));
  }
}

TEST_CASE("boot-services regions Linux marked runtime (efi_mem_reserve) are not required") {
  std::vector<RuntimeMapEntry> then = {
      recorded(0x1f800000, 0xfffffffeffe00000, 0x100, hl::kEfiRuntimeServicesData),
      recorded(0x1e530000, 0xfffffffefe130000, 20, hl::kEfiBootServicesData),
      recorded(0x0, 0xfffffffefcc00000, 1, hl::kEfiBootServicesCode)};
  std::vector<RuntimeRegion> now = {{0x1f800000, 0x100, hl::kEfiRuntimeServicesData}};
  CHECK(hl::check_runtime_map({then.data(), then.size()}, {now.data(), now.size()}).ok());
}
