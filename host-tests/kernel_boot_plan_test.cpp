#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "common/kernel_boot_plan.h"
#include "common/linux_kernel_image.h"

namespace {

using hl::MemoryKind;
using hl::MemoryRange;
using hl::MemoryRegion;

constexpr uint64_t MiB = 1ull << 20;

MemoryRegion region(uint64_t base, uint64_t end, uint32_t efi_type) {
  return MemoryRegion{base, end - base, hl::classify_efi_memory_type(efi_type), efi_type};
}

// OVMF's map while hiberload runs, 512 MiB guest (TECHNICAL-NOTES.md), simplified.
std::vector<MemoryRegion> ovmf_map() {
  return {
      region(0x0, 0x1000, hl::kEfiBootServicesData),
      region(0x1000, 0xa0000, hl::kEfiConventionalMemory),
      region(0x100000, 0x806000, hl::kEfiConventionalMemory),
      region(0x806000, 0x808000, hl::kEfiACPIMemoryNVS),
      region(0x808000, 0x810000, hl::kEfiConventionalMemory),
      region(0x810000, 0x900000, hl::kEfiACPIMemoryNVS),
      region(0x900000, 0x1500000, hl::kEfiBootServicesData),
      region(0x1500000, 0x1bb75000, hl::kEfiConventionalMemory),
      region(0x1bb75000, 0x1f76c000, hl::kEfiBootServicesData),
      region(0x1f76c000, 0x1f77e000, hl::kEfiACPIReclaimMemory),
      region(0x1f77e000, 0x20000000, hl::kEfiRuntimeServicesData),
  };
}

hl::Span<const MemoryRegion> span(const std::vector<MemoryRegion>& v) {
  return hl::Span<const MemoryRegion>(v.data(), v.size());
}

std::string build(const hl::KernelCommandLine& parts) {
  char out[hl::kMaxKernelCommandLine];
  auto n = hl::build_kernel_command_line(parts, out, sizeof out);
  REQUIRE(n.ok());
  CHECK(std::strlen(out) == *n);
  return out;
}

}  // namespace

TEST_CASE("RangeList merges touching ranges and refuses disorder") {
  hl::RangeList list;
  REQUIRE(list.append(0x1000, 0x1000).ok());
  REQUIRE(list.append(0x2000, 0x1000).ok());
  REQUIRE(list.append(0x5000, 0).ok());
  REQUIRE(list.append(0x8000, 0x1000).ok());
  REQUIRE(list.size() == 2);
  CHECK(list[0].base == 0x1000);
  CHECK(list[0].size == 0x2000);
  CHECK(list.total_bytes() == 0x3000);
  CHECK(list.bytes_within(0x2800, 0x8800) == 0x800 + 0x800);
  CHECK(list.contains(0x1000, 0x2000));
  CHECK_FALSE(list.contains(0x2000, 0x7000));
  CHECK_FALSE(list.append(0x1000, 0x1000).ok());
}

TEST_CASE("normal boot reserves the scratch region and the trampoline window") {
  const auto map = ovmf_map();
  hl::RangeList reserve, claim;
  REQUIRE(hl::plan_normal_boot(MemoryRange{0x2000000, 256 * MiB}, span(map), &reserve, &claim).ok());
  REQUIRE(reserve.size() == 2);
  CHECK(reserve[0].base == 0x10000);
  CHECK(reserve[0].size == 0x10000);
  CHECK(reserve[1].base == 0x2000000);
  CHECK(reserve[1].size == 256 * MiB);
  // Both are free now: both are claimed whole.
  REQUIRE(claim.size() == 2);
  CHECK(claim.total_bytes() == 256 * MiB + 64 * 1024);

  hl::KernelCommandLine parts;
  parts.user = "  console=ttyS0 root=/dev/vda3 ";
  parts.reserved = reserve.span();
  const MemoryRange scratch{0x2000000, 256 * MiB};
  parts.scratch = &scratch;
  CHECK(build(parts) ==
        "console=ttyS0 root=/dev/vda3 memmap=64K$0x10000 memmap=256M$0x2000000 "
        "hiberload.scratch=0x2000000+256M");
}

TEST_CASE("normal boot claims only the free pieces of a scratch region that spans firmware memory") {
  const auto map = ovmf_map();
  hl::RangeList reserve, claim;
  // 1 MiB .. 33 MiB: crosses ACPI NVS (not RAM) and boot-services data (busy).
  REQUIRE(hl::plan_normal_boot(MemoryRange{0x100000, 32 * MiB}, span(map), &reserve, &claim).ok());
  CHECK(reserve.size() == 2);
  REQUIRE(claim.size() == 4);
  CHECK(claim[0].base == 0x10000);
  CHECK(claim[1].base == 0x100000);
  CHECK(claim[1].end() == 0x806000);
  CHECK(claim[2].base == 0x808000);
  CHECK(claim[3].base == 0x1500000);
  CHECK(claim[3].end() == 0x2100000);
}

TEST_CASE("normal boot without a scratch region changes nothing; one without RAM is an error") {
  const auto map = ovmf_map();
  hl::RangeList reserve, claim;
  REQUIRE(hl::plan_normal_boot(MemoryRange{}, span(map), &reserve, &claim).ok());
  CHECK(reserve.empty());
  CHECK(claim.empty());
  auto bad = hl::plan_normal_boot(MemoryRange{0x40000000, 64 * MiB}, span(map), &reserve, &claim);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.error().reason()).find("holds no RAM") != std::string::npos);
  auto low = hl::plan_normal_boot(MemoryRange{0x18000, 0x10000}, span(map), &reserve, &claim);
  REQUIRE_FALSE(low.ok());
}

TEST_CASE("fallback: usable RAM is the image's scratch minus what is not RAM, claims everything else") {
  const auto map = ovmf_map();
  const MemoryRange scratch[] = {{0x10000, 0x10000}, {0x2000000, 256 * MiB}};
  hl::RangeList usable, keep, claim;
  REQUIRE(hl::plan_fallback_boot(hl::Span<const MemoryRange>(scratch, 2), span(map), &usable,
                                 &keep, &claim).ok());
  REQUIRE(usable.size() == 2);
  CHECK(usable[0].base == 0x10000);
  CHECK(usable[1].base == 0x2000000);
  CHECK(usable[1].size == 256 * MiB);
  REQUIRE(keep.size() == 1);
  CHECK(keep[0].base == 0x2000000);
  // Claimed: all free memory but the part of the scratch region above 1 MiB.
  CHECK(claim.bytes_within(0x2000000, 0x12000000) == 0);
  CHECK(claim.contains(0x1000, 0x9f000));  // the low memory too
  CHECK(claim.contains(0x1500000, 0x2000000 - 0x1500000));
  CHECK(claim.contains(0x12000000, 0x1bb75000 - 0x12000000));

  hl::KernelCommandLine parts;
  parts.user = "console=ttyS0";
  parts.exact_ram = usable.span();
  const hl::Guid partition = {0x5c49d72f, 0xcab3, 0x4271, {0xb2, 0x5a, 0xf0, 0xbb, 0xf1, 0x5c, 0x43, 0x3b}};
  parts.image_partition = &partition;
  CHECK(build(parts) ==
        "console=ttyS0 memmap=exactmap memmap=64K@0x10000 memmap=256M@0x2000000 "
        "hiberload.image=PARTUUID=5c49d72f-cab3-4271-b25a-f0bbf15c433b");
}

TEST_CASE("fallback: the trampoline window is added when the image leaves no low memory") {
  const auto map = ovmf_map();
  // Scratch crossing NVS and boot-services data: the NVS piece is dropped,
  // busy-until-exit memory is RAM for the kernel.
  const MemoryRange scratch[] = {{0x800000, 200 * MiB}};
  hl::RangeList usable, keep, claim;
  REQUIRE(hl::plan_fallback_boot(hl::Span<const MemoryRange>(scratch, 1), span(map), &usable,
                                 &keep, &claim).ok());
  REQUIRE(usable.size() == 4);
  CHECK(usable[0].base == 0x10000);  // the window
  CHECK(usable[1].base == 0x800000);
  CHECK(usable[1].end() == 0x806000);
  CHECK(usable[2].base == 0x808000);
  CHECK(usable[2].end() == 0x810000);
  CHECK(usable[3].base == 0x900000);
  CHECK(usable[3].end() == 0x800000 + 200 * MiB);
}

TEST_CASE("fallback: too little scratch above 16 MiB is refused with a reason") {
  const auto map = ovmf_map();
  const MemoryRange scratch[] = {{0x10000, 0x10000}, {0x2000000, 32 * MiB}};
  hl::RangeList usable, keep, claim;
  auto plan = hl::plan_fallback_boot(hl::Span<const MemoryRange>(scratch, 2), span(map), &usable,
                                     &keep, &claim);
  REQUIRE_FALSE(plan.ok());
  CHECK(std::string(plan.error().reason()).find("leaves 32 MiB") != std::string::npos);
}

TEST_CASE("the command line never exceeds its limit") {
  std::string user(2040, 'x');
  hl::KernelCommandLine parts;
  parts.user = user.c_str();
  const MemoryRange r[] = {{0x2000000, 256 * MiB}};
  parts.reserved = hl::Span<const MemoryRange>(r, 1);
  char out[hl::kMaxKernelCommandLine];
  auto n = hl::build_kernel_command_line(parts, out, sizeof out);
  REQUIRE_FALSE(n.ok());
  CHECK(std::string(n.error().reason()).find("exceed") != std::string::npos);
  parts.reserved = {};
  parts.user = "";
  auto empty = hl::build_kernel_command_line(parts, out, sizeof out);
  REQUIRE(empty.ok());
  CHECK(*empty == 0);
}

TEST_CASE("sizes are written the way memparse() reads them") {
  char out[32];
  hl::format_memparse_size(out, sizeof out, 1ull << 30);
  CHECK(std::string(out) == "1G");
  hl::format_memparse_size(out, sizeof out, 288 * MiB);
  CHECK(std::string(out) == "288M");
  hl::format_memparse_size(out, sizeof out, 0x10000);
  CHECK(std::string(out) == "64K");
  hl::format_memparse_size(out, sizeof out, 1000);
  CHECK(std::string(out) == "1000");
}

TEST_CASE("command_line_has finds whole parameters only") {
  CHECK(hl::command_line_has("quiet memmap=1M$2M", "memmap"));
  CHECK(hl::command_line_has("quiet memmap=1M$2M", "quiet"));
  CHECK_FALSE(hl::command_line_has("quietly", "quiet"));
  CHECK_FALSE(hl::command_line_has("", "mem"));
}

// ---------------------------------------------------------------- kernel image

namespace {
std::vector<uint8_t> fake_kernel(uint16_t machine = 0x8664, uint16_t subsystem = 10,
                                 bool setup_header = true) {
  std::vector<uint8_t> d(0x1000, 0);
  d[0] = 'M';
  d[1] = 'Z';
  const uint32_t pe = 0x40;
  std::memcpy(&d[0x3c], &pe, 4);
  std::memcpy(&d[pe], "PE\0\0", 4);
  std::memcpy(&d[pe + 4], &machine, 2);
  const uint16_t magic = 0x20b;
  std::memcpy(&d[pe + 24], &magic, 2);
  std::memcpy(&d[pe + 24 + 68], &subsystem, 2);
  if (setup_header) {
    std::memcpy(&d[0x202], "HdrS", 4);
    const uint16_t protocol = 0x20f, version = 0x300;
    std::memcpy(&d[0x206], &protocol, 2);
    std::memcpy(&d[0x20e], &version, 2);
    std::strcpy(reinterpret_cast<char*>(&d[0x500]), "6.1.0-56-amd64 (test) #1 SMP");
  }
  return d;
}
}  // namespace

TEST_CASE("a Linux EFI-stub kernel is recognised, with its version") {
  auto d = fake_kernel();
  auto info = hl::inspect_kernel_image(d.data(), d.size());
  REQUIRE(info.ok());
  CHECK(info->linux_setup_header);
  CHECK(info->boot_protocol == 0x20f);
  CHECK(std::string(info->version) == "6.1.0-56-amd64 (test) #1 SMP");
  auto plain = fake_kernel(0x8664, 10, false);
  auto app = hl::inspect_kernel_image(plain.data(), plain.size());
  REQUIRE(app.ok());
  CHECK_FALSE(app->linux_setup_header);
  CHECK(app->version[0] == '\0');
}

TEST_CASE("files that are not x86_64 EFI applications are refused with a reason") {
  auto reason = [](const std::vector<uint8_t>& d) {
    auto r = hl::inspect_kernel_image(d.data(), d.size());
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().reason());
  };
  std::vector<uint8_t> gzip = {0x1f, 0x8b, 8, 0};
  gzip.resize(0x100);
  CHECK(reason(gzip).find("not an EFI executable") != std::string::npos);
  CHECK(reason(fake_kernel(0xaa64)).find("arm64") != std::string::npos);
  CHECK(reason(fake_kernel(0x8664, 3)).find("subsystem 3") != std::string::npos);
  auto truncated = fake_kernel();
  truncated.resize(0x60);
  CHECK(reason(truncated).find("outside") != std::string::npos);
  auto no_pe = fake_kernel();
  no_pe[0x40] = 'X';
  CHECK(reason(no_pe).find("no 'PE' signature") != std::string::npos);
}
