#include <catch2/catch.hpp>
#include <string>

#include "common/error.h"
#include "common/format.h"

using hl::format_to;

TEST_CASE("format_to substitutes decimal, hex and strings") {
  char buf[128];
  format_to(buf, sizeof buf, "chunk {} at {x} ({X}) in {}", 7u, uint64_t{0x1f000}, 255, "disk");
  CHECK(std::string(buf) == "chunk 7 at 0x1f000 (ff) in disk");
  format_to(buf, sizeof buf, "{} {} {{}}", -42, 'c');
  CHECK(std::string(buf) == "-42 c {}");
  format_to(buf, sizeof buf, "min {}", INT64_MIN);
  CHECK(std::string(buf) == "min -9223372036854775808");
}

TEST_CASE("format_to marks missing arguments and truncates safely") {
  char buf[8];
  size_t n = format_to(buf, sizeof buf, "{} and {}", 1);
  CHECK(std::string(buf) == "1 and ?");
  CHECK(n == 7);
  n = format_to(buf, sizeof buf, "0123456789");
  CHECK(std::string(buf) == "0123456");
  CHECK(n == 7);
  char tiny[1] = {'x'};
  format_to(tiny, sizeof tiny, "abc");
  CHECK(tiny[0] == '\0');
}

TEST_CASE("format_size picks a readable unit") {
  char buf[32];
  hl::format_size(buf, sizeof buf, 512);
  CHECK(std::string(buf) == "512 bytes");
  hl::format_size(buf, sizeof buf, 1536);
  CHECK(std::string(buf) == "1.5 KiB");
  hl::format_size(buf, sizeof buf, 64ull << 20);
  CHECK(std::string(buf) == "64 MiB");
}

TEST_CASE("Error carries a formatted reason and context") {
  hl::Error e = hl::Error::make("bad magic {x}", 0xdeadu);
  CHECK(std::string(e.reason()) == "bad magic 0xdead");
  CHECK(std::string(e.with_context("header").reason()) == "header: bad magic 0xdead");
  hl::Result<int> r = e;
  CHECK_FALSE(r.ok());
  hl::Result<int> v = 5;
  REQUIRE(v.ok());
  CHECK(*v == 5);
}
