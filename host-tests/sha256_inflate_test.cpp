#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>
#include <zlib.h>

#include "common/format.h"
#include "common/sha256.h"
#include "common/zlib_inflate.h"

namespace {

class CountingAllocator final : public hl::Allocator {
 public:
  void* allocate(size_t size) override {
    ++allocations;
    bytes += size;
    return std::malloc(size);
  }
  void release(void* p) override {
    if (p) ++releases;
    std::free(p);
  }
  int allocations = 0;
  int releases = 0;
  size_t bytes = 0;
};

std::string hex(const hl::Sha256Digest& d) {
  char text[65];
  hl::format_hex(text, sizeof text, d.bytes, sizeof d.bytes);
  return text;
}

std::vector<uint8_t> deflate_bytes(const std::vector<uint8_t>& raw, int level) {
  uLongf size = compressBound(raw.size());
  std::vector<uint8_t> out(size);
  REQUIRE(compress2(out.data(), &size, raw.data(), raw.size(), level) == Z_OK);
  out.resize(size);
  return out;
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-2 vectors") {
  CHECK(hex(hl::sha256("abc", 3)) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(hl::sha256("", 0)) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hl::Sha256 incremental;
  incremental.update("a", 1);
  incremental.update("bc", 2);
  CHECK(incremental.finish() == hl::sha256("abc", 3));
}

TEST_CASE("inflate_exact restores the raw bytes with a small, freed state") {
  std::vector<uint8_t> raw(1 << 20);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  auto stream = deflate_bytes(raw, 1);
  std::vector<uint8_t> out(raw.size());
  CountingAllocator allocator;
  auto status = hl::inflate_exact(stream.data(), stream.size(), out.data(), out.size(), allocator);
  REQUIRE(status.ok());
  CHECK(out == raw);
  CHECK(allocator.allocations == allocator.releases);
  CHECK(allocator.bytes < 16 * 1024);  // No 32 KiB window: output is complete.
}

TEST_CASE("inflate_exact refuses wrong sizes, truncation, trailing and corrupt data") {
  std::vector<uint8_t> raw(10000, 0x5a);
  auto stream = deflate_bytes(raw, 6);
  CountingAllocator allocator;
  std::vector<uint8_t> out(raw.size() + 1);

  auto longer = hl::inflate_exact(stream.data(), stream.size(), out.data(), raw.size() + 1, allocator);
  REQUIRE_FALSE(longer.ok());
  CHECK_THAT(longer.error().reason(), Catch::Contains("ended after 10000 of 10001"));

  auto shorter = hl::inflate_exact(stream.data(), stream.size(), out.data(), raw.size() - 1, allocator);
  REQUIRE_FALSE(shorter.ok());
  CHECK_THAT(shorter.error().reason(), Catch::Contains("more than 9999"));

  auto truncated = hl::inflate_exact(stream.data(), stream.size() - 3, out.data(), raw.size(), allocator);
  REQUIRE_FALSE(truncated.ok());

  std::vector<uint8_t> trailing = stream;
  trailing.push_back(0);
  auto extra = hl::inflate_exact(trailing.data(), trailing.size(), out.data(), raw.size(), allocator);
  REQUIRE_FALSE(extra.ok());
  CHECK_THAT(extra.error().reason(), Catch::Contains("1 trailing bytes"));

  std::vector<uint8_t> corrupt = stream;
  corrupt[0] ^= 0xff;
  auto bad = hl::inflate_exact(corrupt.data(), corrupt.size(), out.data(), raw.size(), allocator);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().reason(), Catch::Contains("corrupt"));
  CHECK(allocator.allocations == allocator.releases);
}
