#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <vector>

#include "common/memory_map.h"
#include "common/placement.h"

using hl::DeferredCopy;
using hl::MemoryKind;
using hl::MemoryRange;
using hl::MemoryRegion;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t MiB = 1 << 20;

MemoryRegion region(uint64_t base, uint64_t size, uint32_t efi_type) {
  return MemoryRegion{base, size, hl::classify_efi_memory_type(efi_type), efi_type};
}

struct Planned {
  std::vector<MemoryRange> direct_buf = std::vector<MemoryRange>(4096);
  std::vector<DeferredCopy> deferred_buf = std::vector<DeferredCopy>(4096);
  std::vector<MemoryRange> staging_buf = std::vector<MemoryRange>(4096);
};

hl::Result<hl::PlacementPlan> plan(Planned& p, const std::vector<MemoryRange>& destinations,
                                   const std::vector<MemoryRange>& scratch,
                                   std::vector<MemoryRegion> memory, uint64_t final_stage = 64 * 1024,
                                   uint64_t work = 2 * MiB) {
  size_t count = memory.size();
  REQUIRE(hl::normalize_memory_map(memory.data(), &count).ok());
  memory.resize(count);
  static std::vector<MemoryRegion> keep;  // The plan does not keep input spans.
  keep = memory;
  hl::PlacementInput input;
  input.destinations = {destinations.data(), destinations.size()};
  input.scratch = {scratch.data(), scratch.size()};
  input.memory = {keep.data(), keep.size()};
  input.final_stage_bytes = final_stage;
  input.work_area_bytes = work;
  hl::PlacementBuffers buffers{{p.direct_buf.data(), p.direct_buf.size()},
                               {p.deferred_buf.data(), p.deferred_buf.size()},
                               {p.staging_buf.data(), p.staging_buf.size()}};
  return hl::plan_placement(input, buffers);
}

// Page-level model of the memory map, for checking plans independently.
MemoryKind kind_at(const std::vector<MemoryRegion>& memory, uint64_t page) {
  for (const MemoryRegion& r : memory) {
    if (page >= r.base && page < r.end()) return r.kind;
  }
  return MemoryKind::kNotRam;
}

bool inside_any(const std::vector<MemoryRange>& ranges, uint64_t address) {
  for (const MemoryRange& r : ranges) {
    if (address >= r.base && address < r.end()) return true;
  }
  return false;
}

// Checks every property the planner promises, page by page.
void check_plan(const hl::PlacementPlan& plan, const std::vector<MemoryRange>& destinations,
                const std::vector<MemoryRange>& scratch, const std::vector<MemoryRegion>& memory) {
  std::map<uint64_t, int> destination_uses;  // page -> times placed
  uint64_t direct_bytes = 0, deferred_bytes = 0;
  for (const MemoryRange& d : plan.direct) {
    direct_bytes += d.size;
    for (uint64_t p = d.base; p < d.end(); p += kPage) {
      REQUIRE(inside_any(destinations, p));
      REQUIRE(kind_at(memory, p) == MemoryKind::kFree);
      destination_uses[p]++;
    }
  }
  std::map<uint64_t, int> scratch_uses;  // page -> times handed out
  for (const DeferredCopy& c : plan.deferred) {
    deferred_bytes += c.size;
    for (uint64_t off = 0; off < c.size; off += kPage) {
      REQUIRE(inside_any(destinations, c.destination + off));
      REQUIRE(kind_at(memory, c.destination + off) == MemoryKind::kBusyUntilExit);
      destination_uses[c.destination + off]++;
      scratch_uses[c.staging + off]++;
      std::vector<MemoryRange> staging(plan.staging.begin(), plan.staging.end());
      REQUIRE(inside_any(staging, c.staging + off));
    }
  }
  CHECK(direct_bytes == plan.direct_bytes);
  CHECK(deferred_bytes == plan.deferred_bytes);
  // Every destination page exactly once; busy pages are exactly the deferred ones.
  uint64_t busy_bytes = 0;
  for (const MemoryRange& d : destinations) {
    for (uint64_t p = d.base; p < d.end(); p += kPage) {
      REQUIRE(destination_uses[p] == 1);
      if (kind_at(memory, p) == MemoryKind::kBusyUntilExit) busy_bytes += kPage;
    }
  }
  CHECK(busy_bytes == plan.deferred_bytes);
  for (const MemoryRange& r : {plan.final_stage, plan.work_area}) {
    for (uint64_t p = r.base; p < r.end(); p += kPage) scratch_uses[p]++;
  }
  for (const auto& [page, uses] : scratch_uses) {
    REQUIRE(uses == 1);
    REQUIRE(inside_any(scratch, page));
    REQUIRE_FALSE(inside_any(destinations, page));
    REQUIRE(kind_at(memory, page) == MemoryKind::kFree);
  }
}

// Roughly what OVMF shows at 512 MiB (TECHNICAL-NOTES.md).
std::vector<MemoryRegion> ovmf_like_map() {
  return {
      region(0x0, 0x1000, hl::kEfiBootServicesData),
      region(0x1000, 0x9f000, hl::kEfiConventionalMemory),
      region(0x100000, 0x706000, hl::kEfiConventionalMemory),
      region(0x806000, 0xa000, hl::kEfiACPIMemoryNVS),
      region(0x810000, 0xf0000, hl::kEfiACPIMemoryNVS),
      region(0x900000, 0xc00000, hl::kEfiBootServicesData),
      region(0x1500000, 0x1a675000, hl::kEfiConventionalMemory),
      region(0x1bb75000, 0x3000000, hl::kEfiBootServicesData),
      region(0x1eb75000, 0x200000, hl::kEfiLoaderCode),
      region(0x1ed75000, 0xa8b000, hl::kEfiBootServicesCode),
      region(0x1f800000, 0x600000, hl::kEfiRuntimeServicesData),
      region(0x1fe00000, 0x200000, hl::kEfiReservedMemoryType),
  };
}

}  // namespace

TEST_CASE("an OVMF-like map: busy pages deferred, the rest direct, staging in scratch") {
  // The hibernated kernel's RAM minus B's region [1 MiB, 289 MiB) (scratch)
  // and minus the ACPI NVS holes it never had.
  std::vector<MemoryRange> destinations = {{0x1000, 0x9f000}, {0x12100000, 0x1f800000 - 0x12100000}};
  std::vector<MemoryRange> scratch = {{0x100000, 0x706000}, {0x900000, 0x12100000 - 0x900000}};
  Planned p;
  auto memory = ovmf_like_map();
  auto result = plan(p, destinations, scratch, memory);
  REQUIRE(result.ok());
  check_plan(*result, destinations, scratch, memory);
  CHECK(result->deferred_bytes == 0x3000000 + 0x200000 + 0xa8b000);
  CHECK(result->direct_bytes + result->deferred_bytes == 0x9f000 + (0x1f800000 - 0x12100000));
  // Staging begins above the firmware's boot-services data inside scratch.
  CHECK(result->final_stage.base == 0x100000);
}

TEST_CASE("a destination in runtime, ACPI, reserved memory or a hole is refused") {
  std::vector<MemoryRange> scratch = {{0x100000, 0x700000}};
  Planned p;
  struct Case {
    MemoryRange destination;
    const char* what;
  } cases[] = {
      {{0x806000, 0x1000}, "is ACPI NVS now"},
      {{0x1f800000, 0x2000}, "is runtime services data now"},
      {{0x1fe00000, 0x1000}, "is reserved now"},
      {{0x40000000, 0x1000}, "is absent from the memory map now"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto result = plan(p, {c.destination}, scratch, ovmf_like_map());
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().reason(), Catch::Contains(c.what));
    CHECK_THAT(result.error().reason(), Catch::Contains("machine's memory layout changed"));
  }
}

TEST_CASE("too little free scratch is refused with the numbers") {
  std::vector<MemoryRange> destinations = {{0x1bb75000, 0x3000000}};  // 48 MiB busy
  std::vector<MemoryRange> scratch = {{0x100000, 0x700000}};           // ~7 MiB
  Planned p;
  auto result = plan(p, destinations, scratch, ovmf_like_map());
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error().reason(), Catch::Contains("not enough free scratch memory"));
  CHECK_THAT(result.error().reason(), Catch::Contains("48 MiB of image pages busy"));
}

TEST_CASE("unaligned, unsorted or scratch-overlapping inputs are refused") {
  Planned p;
  auto memory = ovmf_like_map();
  CHECK_FALSE(plan(p, {{0x1500800, 0x1000}}, {{0x100000, 0x700000}}, memory).ok());
  CHECK_FALSE(plan(p, {{0x2000000, 0x1000}, {0x1600000, 0x1000}}, {{0x100000, 0x700000}}, memory).ok());
  auto overlap = plan(p, {{0x1500000, 0x100000}}, {{0x1400000, 0x200000}}, memory);
  REQUIRE_FALSE(overlap.ok());
  CHECK_THAT(overlap.error().reason(), Catch::Contains("overlaps an image segment"));
  CHECK_FALSE(plan(p, {{0xfffffffffffff000, 0x2000}}, {}, memory).ok());
}

TEST_CASE("write_address maps destinations to where they are written now") {
  std::vector<MemoryRange> destinations = {{0x1000, 0x9f000}, {0x12100000, 0x1f800000 - 0x12100000}};
  std::vector<MemoryRange> scratch = {{0x100000, 0x706000}, {0x900000, 0x12100000 - 0x900000}};
  Planned p;
  auto result = plan(p, destinations, scratch, ovmf_like_map());
  REQUIRE(result.ok());
  uint64_t where = 0, run = 0;
  REQUIRE(result->write_address(0x2000, &where, &run));
  CHECK(where == 0x2000);
  CHECK(run == 0xa0000 - 0x2000);
  REQUIRE(result->write_address(0x1bb75000 + 0x5000, &where, &run));
  CHECK(where != 0x1bb75000 + 0x5000);
  CHECK(inside_any({scratch.begin(), scratch.end()}, where));
  CHECK_FALSE(result->write_address(0x100000, &where, &run));
}

TEST_CASE("generated memory maps and images: every plan keeps its promises") {
  std::mt19937_64 rng(20261122);
  int planned = 0, refused_changed = 0, refused_scratch = 0;
  for (int iteration = 0; iteration < 400; ++iteration) {
    // A memory map over 256 pages... 64 MiB, in runs of random kinds.
    const uint64_t total_pages = 64 + rng() % 16384;
    std::vector<MemoryRegion> memory;
    static const uint32_t kTypes[] = {hl::kEfiConventionalMemory, hl::kEfiConventionalMemory,
                                      hl::kEfiConventionalMemory, hl::kEfiConventionalMemory,
                                      hl::kEfiConventionalMemory, hl::kEfiConventionalMemory,
                                      hl::kEfiConventionalMemory, hl::kEfiBootServicesData,
                                      hl::kEfiBootServicesCode,   hl::kEfiLoaderData,
                                      hl::kEfiLoaderCode,         hl::kEfiACPIMemoryNVS,
                                      hl::kEfiRuntimeServicesData, hl::kEfiReservedMemoryType};
    std::vector<uint32_t> page_type(total_pages);
    for (uint64_t page = 0; page < total_pages;) {
      const uint64_t run = 1 + rng() % 256;
      const uint32_t type = kTypes[rng() % (sizeof kTypes / sizeof kTypes[0])];
      const bool hole = rng() % 20 == 0;
      for (uint64_t i = page; i < std::min(total_pages, page + run); ++i) page_type[i] = hole ? 99 : type;
      if (!hole) memory.push_back(region(page * kPage, std::min(run, total_pages - page) * kPage, type));
      page += run;
    }
    // The image: pages that are RAM (free or busy), mostly, sometimes not;
    // scratch: the free pages the image leaves out.
    std::vector<MemoryRange> destinations, scratch;
    const bool adversarial = rng() % 4 == 0;
    // Decided in runs of pages, as real images and maps come in runs.
    bool want = false;
    for (uint64_t page = 0; page < total_pages; ++page) {
      const bool ram = page_type[page] == hl::kEfiConventionalMemory ||
                       hl::classify_efi_memory_type(page_type[page]) == MemoryKind::kBusyUntilExit;
      if (page % 32 == 0) want = adversarial ? rng() % 3 != 0 : rng() % 2 != 0;
      const bool destination = want && (adversarial || ram);
      auto& list = destination ? destinations : scratch;
      if (!destination && page_type[page] != hl::kEfiConventionalMemory) continue;
      if (!list.empty() && list.back().end() == page * kPage) {
        list.back().size += kPage;
      } else {
        list.push_back({page * kPage, kPage});
      }
    }
    Planned p;
    const uint64_t final_stage = (1 + rng() % 16) * kPage;
    const uint64_t work = (rng() % 8) * kPage;
    auto result = plan(p, destinations, scratch, memory, final_stage, work);
    std::vector<MemoryRegion> normalized = memory;
    size_t count = normalized.size();
    REQUIRE(hl::normalize_memory_map(normalized.data(), &count).ok());
    normalized.resize(count);
    if (result.ok()) {
      ++planned;
      check_plan(*result, destinations, scratch, normalized);
      CHECK(result->final_stage.size == final_stage);
    } else {
      const std::string reason = result.error().reason();
      if (reason.find("memory layout changed") != std::string::npos) {
        ++refused_changed;
        // It must be right: some destination page is not RAM.
        bool some_not_ram = false;
        for (const MemoryRange& d : destinations) {
          for (uint64_t a = d.base; a < d.end(); a += kPage) {
            some_not_ram |= kind_at(normalized, a) == MemoryKind::kNotRam;
          }
        }
        CHECK(some_not_ram);
      } else {
        INFO(reason);
        // The only other acceptable refusal: scratch too small or too fragmented.
        CHECK((reason.find("scratch") != std::string::npos));
        ++refused_scratch;
      }
    }
  }
  INFO("planned " << planned << ", refused (changed) " << refused_changed << ", refused (scratch) "
                  << refused_scratch);
  CHECK(planned > 100);
  CHECK(refused_changed > 20);
}

TEST_CASE("without staging, deferred ranges are listed but cost no scratch") {
  // 48 MiB busy in firmware, only ~9 MiB of free scratch: impossible to stage,
  // fine to leave to a fallback kernel.
  std::vector<MemoryRange> destinations = {{0x1bb75000, 0x3000000}, {0x2000000, 0x1000000}};
  std::sort(destinations.begin(), destinations.end(),
            [](const MemoryRange& a, const MemoryRange& b) { return a.base < b.base; });
  std::vector<MemoryRange> scratch = {{0x100000, 0x700000}};
  std::vector<MemoryRegion> memory = ovmf_like_map();
  size_t count = memory.size();
  REQUIRE(hl::normalize_memory_map(memory.data(), &count).ok());
  memory.resize(count);
  Planned p;
  hl::PlacementInput input;
  input.destinations = {destinations.data(), destinations.size()};
  input.scratch = {scratch.data(), scratch.size()};
  input.memory = {memory.data(), memory.size()};
  input.work_area_bytes = 2 * MiB;
  input.stage_deferred = false;
  hl::PlacementBuffers buffers{{p.direct_buf.data(), p.direct_buf.size()},
                               {p.deferred_buf.data(), p.deferred_buf.size()},
                               {p.staging_buf.data(), p.staging_buf.size()}};
  auto plan = hl::plan_placement(input, buffers);
  REQUIRE(plan.ok());
  CHECK(plan->deferred_bytes >= 0x3000000);
  CHECK(plan->staging.empty());
  for (const DeferredCopy& c : plan->deferred) CHECK(c.staging == hl::kNotStaged);
  uint64_t where = 0, run = 0;
  REQUIRE(plan->write_address(0x1bb75000, &where, &run));
  CHECK(where == hl::kNotStaged);
  REQUIRE(plan->write_address(0x2000000, &where, &run));
  CHECK(where == 0x2000000);
  input.stage_deferred = true;
  CHECK_FALSE(hl::plan_placement(input, buffers).ok());
}
