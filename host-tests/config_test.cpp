#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "common/config.h"
#include "common/guids.h"
#include "common/key_value.h"

namespace {
hl::Result<hl::Config> parse(const std::string& text) {
  return hl::parse_config(text.data(), text.size());
}
}  // namespace

TEST_CASE("an empty configuration gives the documented defaults") {
  auto config = parse("");
  REQUIRE(config.ok());
  CHECK(std::string(config->kernel) == "\\EFI\\hiberload\\vmlinuz");
  CHECK(std::string(config->initrd) == "\\EFI\\hiberload\\initrd.img");
  CHECK(config->mode == hl::ResumeMode::kAuto);
  CHECK_FALSE(config->has_partition);
  CHECK(config->scratch.size == 0);
}

TEST_CASE("a full configuration parses, with comments, CRLF and spaces") {
  auto config = parse(
      "# hiberload\r\nversion=1\r\npartition = 5c49d72f-cab3-4271-b25a-f0bbf15c433b\n"
      "kernel=\\EFI\\Linux\\vmlinuz\ninitrd=none\ncmdline=console=ttyS0 quiet\n"
      "scratch=0x1000000+256M\nmode=fallback\ntimeout=3\n");
  REQUIRE(config.ok());
  CHECK(config->has_partition);
  char guid[37];
  hl::guid_to_string(config->partition, guid);
  CHECK(std::string(guid) == "5c49d72f-cab3-4271-b25a-f0bbf15c433b");
  CHECK(std::string(config->kernel) == "\\EFI\\Linux\\vmlinuz");
  CHECK(config->initrd[0] == '\0');
  CHECK(std::string(config->cmdline) == "console=ttyS0 quiet");
  CHECK(config->scratch.base == 0x1000000);
  CHECK(config->scratch.size == 256ull << 20);
  CHECK(config->mode == hl::ResumeMode::kFallbackOnly);
  CHECK(config->timeout_seconds == 3);
}

TEST_CASE("serialize_config round-trips through parse_config") {
  auto original = parse("partition=5c49d72f-cab3-4271-b25a-f0bbf15c433b\nscratch=0x100000+0x12000000\n"
                        "mode=direct\ncmdline=root=/dev/vda2\ntimeout=10\n");
  REQUIRE(original.ok());
  char text[hl::kMaxConfigBytes];
  auto length = hl::serialize_config(*original, text, sizeof text);
  REQUIRE(length.ok());
  auto again = hl::parse_config(text, *length);
  REQUIRE(again.ok());
  CHECK(again->scratch.base == original->scratch.base);
  CHECK(again->scratch.size == original->scratch.size);
  CHECK(again->mode == original->mode);
  CHECK(again->partition == original->partition);
  CHECK(std::string(again->cmdline) == original->cmdline);
  CHECK(again->timeout_seconds == 10);
}

TEST_CASE("invalid values are refused with a reason naming the line and key") {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {
      {"mode=sometimes\n", "line 1: mode: expected auto, direct, fallback or off"},
      {"\n\nkernel=EFI\\vmlinuz\n", "line 3: kernel: path must start with a backslash"},
      {"kernel=\\EFI\\..\\x\n", "line 1: kernel: path must not contain '..'"},
      {"scratch=0x1000+0x800\n", "line 1: scratch: base and size must be multiples of 4 KiB"},
      {"scratch=0xfffffffffffff000+8K\n", "line 1: scratch: range wraps around"},
      {"scratch=0x1000+0\n", "line 1: scratch: size must not be zero"},
      {"scratch=0x1000+99999999999999999999\n", "line 1: scratch: BASE and SIZE must be numbers"},
      {"timeout=601\n", "line 1: timeout: expected seconds from 0 to 600"},
      {"partition=not-a-guid\n", "line 1: partition: expected a PARTUUID"},
      {"version=2\n", "line 1: version: this hiberload reads configuration version 1"},
      {"colour=blue\n", "line 1: unknown key 'colour'"},
      {"just words\n", "line 1: expected key=value"},
      {"=value\n", "line 1: empty key before '='"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto config = parse(c.text);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().reason(), Catch::StartsWith(c.reason));
  }
}

TEST_CASE("control characters and NUL bytes are refused") {
  std::string with_nul("cmdline=a\0b\n", 12);
  CHECK_FALSE(parse(with_nul).ok());
  CHECK_FALSE(parse("cmdline=a\x01" "b\n").ok());
  std::string huge(hl::kMaxConfigBytes + 1, '#');
  auto config = parse(huge);
  REQUIRE_FALSE(config.ok());
  CHECK_THAT(config.error().reason(), Catch::Contains("more than the 4096 allowed"));
}

TEST_CASE("parse_u64 rejects overflow, signs and junk") {
  uint64_t v = 0;
  CHECK(hl::parse_u64({"18446744073709551615", 20}, &v));
  CHECK(v == UINT64_MAX);
  CHECK_FALSE(hl::parse_u64({"18446744073709551616", 20}, &v));
  CHECK(hl::parse_u64({"0x10", 4}, &v));
  CHECK(v == 16);
  CHECK_FALSE(hl::parse_u64({"0x", 2}, &v));
  CHECK_FALSE(hl::parse_u64({"-1", 2}, &v));
  CHECK_FALSE(hl::parse_u64({"12a", 3}, &v));
  CHECK_FALSE(hl::parse_u64({"", 0}, &v));
}

TEST_CASE("GUID text round trip and strictness") {
  hl::Guid g;
  REQUIRE(hl::guid_from_string("182aad0a-d5e4-4b60-b136-a6c091f30d90", &g));
  CHECK(g == hl::kHibernationPartitionType);
  char text[37];
  hl::guid_to_string(hl::kVendorGuid, text);
  CHECK(std::string(text) == "7046435b-270f-4f8c-b50c-ec76266272b9");
  CHECK_FALSE(hl::guid_from_string("182aad0a-d5e4-4b60-b136-a6c091f30d9", &g));
  CHECK_FALSE(hl::guid_from_string("182aad0a-d5e4-4b60-b136-a6c091f30d900", &g));
  CHECK_FALSE(hl::guid_from_string("182aad0ad-5e4-4b60-b136-a6c091f30d90", &g));
  CHECK_FALSE(hl::guid_from_string("", &g));
}
