// GPT reader (common/gpt) and writer (tools/lib/gpt_writer) tests, on disks
// built in memory, plus a cross-check against sgdisk's view of a real image.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "common/crc32.h"
#include "common/gpt.h"
#include "common/guids.h"
#include "tools/lib/file_storage.h"
#include "tools/lib/gpt_writer.h"

namespace {

// A disk in memory with any block size (MemoryStorage is fixed at 512).
class TestDisk final : public hl::Storage {
 public:
  TestDisk(uint64_t blocks, uint32_t block_size)
      : bytes(blocks * block_size), block_size_(block_size) {}
  uint64_t size() const override { return bytes.size(); }
  uint32_t block_size() const override { return block_size_; }
  hl::Status read(uint64_t offset, void* buffer, size_t length) override {
    if (!hl::range_inside(offset, length, bytes.size())) return hl::Error::make("read outside");
    std::memcpy(buffer, bytes.data() + offset, length);
    return hl::ok_status();
  }
  hl::Status write(uint64_t offset, const void* buffer, size_t length) override {
    if (!hl::range_inside(offset, length, bytes.size())) return hl::Error::make("write outside");
    std::memcpy(bytes.data() + offset, buffer, length);
    return hl::ok_status();
  }
  hl::Status flush() override { return hl::ok_status(); }

  // The header stored at `lba`, and a way to change it and re-seal its CRC
  // (so a test reaches the checks behind the CRC).
  hl::GptHeader header(uint64_t lba) const {
    hl::GptHeader h;
    std::memcpy(&h, &bytes[lba * block_size_], sizeof h);
    return h;
  }
  template <typename F>
  void patch_header(uint64_t lba, F change) {
    hl::GptHeader h = header(lba);
    change(h);
    hl::seal_gpt_header(&h);
    std::memcpy(&bytes[lba * block_size_], &h, hl::kGptHeaderSize);
  }
  uint64_t last_lba() const { return bytes.size() / block_size_ - 1; }

  std::vector<uint8_t> bytes;

 private:
  uint32_t block_size_;
};

// Counts outstanding allocations, and can be told to fail.
class CountingAllocator final : public hl::Allocator {
 public:
  void* allocate(size_t size) override {
    if (fail) return nullptr;
    ++outstanding;
    return std::malloc(size);
  }
  void release(void* pointer) override {
    --outstanding;
    std::free(pointer);
  }
  int outstanding = 0;
  bool fail = false;
};

// Also used for constants at static initialization, before Catch2 is up.
hl::Guid guid(const char* text) {
  hl::Guid g;
  if (!hl::guid_from_string(text, &g)) std::abort();
  return g;
}

std::string text(const hl::Guid& g) {
  char buf[37];
  hl::guid_to_string(g, buf);
  return buf;
}

const hl::Guid kEspType = guid("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
const hl::Guid kEspUnique = guid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
const hl::Guid kHibernationUnique = guid("5c49d72f-cab3-4271-b25a-f0bbf15c433b");

hl::GptPartition partition(uint32_t index, const hl::Guid& type, const hl::Guid& unique,
                           uint64_t first, uint64_t last, const char* name) {
  hl::GptPartition p = {index, type, unique, first, last, 0, {}};
  for (size_t i = 0; name[i] != '\0' && i < 36; ++i) p.name[i] = static_cast<char16_t>(name[i]);
  return p;
}

// A disk with an ESP (entry 0) and a hibernation partition (entry 2, so
// iteration has an unused entry to skip), as write_gpt lays it out.
TestDisk standard_disk(uint32_t block_size = 512, uint64_t blocks = 2048) {
  TestDisk disk(blocks, block_size);
  hl::GptLayout layout;
  layout.disk_guid = guid("11111111-2222-3333-4444-555555555555");
  const auto usable = hl::gpt_usable_range(blocks, block_size, layout);
  layout.partitions = {
      partition(0, kEspType, kEspUnique, usable.first_lba, usable.first_lba + 99, "ESP"),
      partition(2, hl::kHibernationPartitionType, kHibernationUnique, usable.first_lba + 100,
                usable.last_lba, "hibernate"),
  };
  REQUIRE(hl::write_gpt(disk, layout).ok());
  return disk;
}

std::string first_warning_containing(const hl::GptDisk& gpt, const std::string& needle) {
  for (size_t i = 0; i < gpt.warning_count(); ++i) {
    if (std::string(gpt.warning(i)).find(needle) != std::string::npos) return gpt.warning(i);
  }
  return "";
}

// read_gpt must fail; returns the reason.
std::string read_error(TestDisk& disk, CountingAllocator&& allocator = CountingAllocator()) {
  auto gpt = hl::read_gpt(disk, allocator);
  REQUIRE_FALSE(gpt.ok());
  CHECK(allocator.outstanding == 0);
  return gpt.error().reason();
}

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

}  // namespace

TEST_CASE("crc32 matches zlib's, in one piece and in several") {
  CHECK(hl::crc32("123456789", 9) == 0xcbf43926);  // The standard check value.
  CHECK(hl::crc32(nullptr, 0) == 0);
  std::mt19937 random(1);
  std::vector<uint8_t> data(1000);
  for (auto& b : data) b = static_cast<uint8_t>(random());
  for (size_t offset : {0, 1, 3, 7}) {
    for (size_t length : {0, 1, 7, 8, 9, 63, 64, 65, 500, 993}) {
      const uint8_t* p = data.data() + offset;
      const uint32_t expected = static_cast<uint32_t>(::crc32(0, p, static_cast<uInt>(length)));
      CHECK(hl::crc32(p, length) == expected);
      const size_t half = length / 3;
      CHECK(hl::crc32(p + half, length - half, hl::crc32(p, half)) == expected);
    }
  }
}

TEST_CASE("a GPT written by write_gpt reads back, with lookups by unique and type GUID") {
  TestDisk disk = standard_disk();
  CountingAllocator allocator;
  {
    auto gpt = hl::read_gpt(disk, allocator);
    REQUIRE(gpt.ok());
    CHECK(gpt->copy() == hl::GptCopy::kPrimary);
    CHECK(gpt->warning_count() == 0);
    CHECK(gpt->block_size() == 512);
    CHECK(gpt->block_count() == 2048);
    CHECK(text(gpt->header().disk_guid) == "11111111-2222-3333-4444-555555555555");
    CHECK(gpt->header().first_usable_lba == 34);  // 2 + 16 KiB of entries.
    CHECK(gpt->header().last_usable_lba == 2014);

    std::vector<uint32_t> indices;
    for (const hl::GptPartition& p : gpt->partitions()) indices.push_back(p.index);
    CHECK(indices == std::vector<uint32_t>{0, 2});

    auto hib = hl::find_first_partition_by_type(*gpt, hl::kHibernationPartitionType);
    REQUIRE(hib.ok());
    CHECK(hib->index == 2);
    CHECK(hib->unique == kHibernationUnique);
    CHECK(hib->first_lba == 134);
    CHECK(hib->last_lba == 2014);
    CHECK(hib->block_count() == 1881);
    char name[64];
    CHECK(hl::gpt_name_to_utf8(*hib, name, sizeof name) == 9);
    CHECK(std::string(name) == "hibernate");

    auto esp = hl::find_partition_by_unique_guid(*gpt, kEspUnique);
    REQUIRE(esp.ok());
    CHECK(esp->type == kEspType);
    CHECK(esp->first_lba == 34);

    auto missing = hl::find_partition_by_unique_guid(*gpt, kEspType);
    REQUIRE_FALSE(missing.ok());
    CHECK(std::string(missing.error().reason()) ==
          "GPT: no partition has the unique GUID c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    CHECK_FALSE(hl::find_first_partition_by_type(*gpt, kEspUnique).ok());
    CHECK(allocator.outstanding == 1);  // The entry array, owned by the GptDisk.
  }
  CHECK(allocator.outstanding == 0);

  // Both copies are valid on their own.
  auto backup = hl::read_gpt_copy(disk, allocator, hl::GptCopy::kBackup);
  REQUIRE(backup.ok());
  CHECK(backup->header().my_lba == 2047);
  CHECK(backup->header().partition_entry_lba == 2015);
}

TEST_CASE("a disk with 4096-byte blocks") {
  TestDisk disk = standard_disk(4096, 256);
  CountingAllocator allocator;
  auto gpt = hl::read_gpt(disk, allocator);
  REQUIRE(gpt.ok());
  CHECK(gpt->block_size() == 4096);
  CHECK(gpt->header().first_usable_lba == 6);  // 2 + 16 KiB / 4 KiB.
  auto hib = hl::find_partition_by_unique_guid(*gpt, kHibernationUnique);
  REQUIRE(hib.ok());
  CHECK(hib->first_lba == 106);
  CHECK(hib->last_lba == 250);  // Backup entries at 251-254, header at 255.

  // A 4096-byte header block may declare a header larger than 512 bytes.
  TestDisk big = standard_disk(4096, 256);
  std::vector<uint8_t> block(4096, 0);
  hl::GptHeader h = big.header(1);
  h.header_size = 1024;
  h.header_crc32 = 0;
  std::memcpy(block.data(), &h, hl::kGptHeaderSize);
  h.header_crc32 = hl::crc32(block.data(), 1024);
  std::memcpy(&big.bytes[4096], &h, hl::kGptHeaderSize);
  auto again = hl::read_gpt(big, allocator);
  REQUIRE(again.ok());
  CHECK(again->copy() == hl::GptCopy::kPrimary);
}

TEST_CASE("a bad primary header falls back to the backup, and says so") {
  CountingAllocator allocator;
  SECTION("bad signature") {
    TestDisk disk = standard_disk();
    disk.bytes[512] = 'X';
    auto gpt = hl::read_gpt(disk, allocator);
    REQUIRE(gpt.ok());
    CHECK(gpt->copy() == hl::GptCopy::kBackup);
    CHECK(std::string(gpt->warning(0)) ==
          "GPT primary header at LBA 1: no \"EFI PART\" signature (found 0x5452415020494658); "
          "using the backup header at LBA 2047");
    CHECK(hl::find_first_partition_by_type(*gpt, hl::kHibernationPartitionType).ok());
  }
  SECTION("bad header CRC") {
    TestDisk disk = standard_disk();
    const uint32_t stored = disk.header(1).header_crc32;
    disk.bytes[512 + 60] ^= 1;  // A bit of the disk GUID.
    auto gpt = hl::read_gpt(disk, allocator);
    REQUIRE(gpt.ok());
    CHECK(gpt->copy() == hl::GptCopy::kBackup);
    char expected[64];
    hl::format_to(expected, sizeof expected, "CRC mismatch (stored {x}, computed", stored);
    CHECK_THAT(gpt->warning(0),
               Contains(expected) && Contains("using the backup header at LBA 2047"));
  }
  SECTION("bad entry array CRC") {
    TestDisk disk = standard_disk();
    disk.bytes[2 * 512 + 130] ^= 0x80;  // In entry 1, which is unused.
    auto gpt = hl::read_gpt(disk, allocator);
    REQUIRE(gpt.ok());
    CHECK(gpt->copy() == hl::GptCopy::kBackup);
    CHECK_THAT(gpt->warning(0), Contains("GPT primary entry array at LBA 2: CRC mismatch"));
  }
}

TEST_CASE("both copies bad is an error naming both reasons") {
  TestDisk disk = standard_disk();
  disk.bytes[512] = 'X';
  disk.bytes[2047 * 512 + 70] ^= 1;
  CHECK_THAT(read_error(disk),
             StartsWith("GPT primary header at LBA 1: no \"EFI PART\" signature (found "
                        "0x5452415020494658); GPT backup header at LBA 2047: CRC mismatch"));
  TestDisk arrays = standard_disk();
  arrays.bytes[2 * 512] ^= 1;
  arrays.bytes[2015 * 512] ^= 1;
  CHECK_THAT(read_error(arrays), Contains("primary entry array at LBA 2: CRC mismatch") &&
                                     Contains("backup entry array at LBA 2015: CRC mismatch"));
  TestDisk blank(2048, 512);
  CHECK_THAT(read_error(blank), Contains("no \"EFI PART\" signature (found 0x0)"));
  TestDisk tiny(3, 512);
  CHECK(read_error(tiny) == "GPT: disk of 1536 bytes is too small for a GPT");
}

// Each case breaks a field behind the primary header's CRC: the backup is
// used instead, with the reason as a warning.
TEST_CASE("header fields are checked after the CRC") {
  TestDisk disk = standard_disk();
  auto primary = [&](auto change) { disk.patch_header(1, change); };
  std::string expected;
  SECTION("entries beyond the disk") {
    primary([](hl::GptHeader& h) { h.partition_entry_lba = 0xfffffffffffffff0ull; });
    expected =
        "partition entry array at LBA 18446744073709551600 (32 blocks) is beyond the "
        "disk's 2048 blocks";
  }
  SECTION("huge entry count, whose byte size overflows 32 bits") {
    primary([](hl::GptHeader& h) {
      h.number_of_partition_entries = 0xffffffff;
      h.size_of_partition_entry = 0x80000000;
    });
    expected =
        "partition entry array of 4294967295 x 2147483648 bytes exceeds the 131072-byte limit";
  }
  SECTION("entry size not a multiple of 128") {
    primary([](hl::GptHeader& h) { h.size_of_partition_entry = 130; });
    expected = "partition entry size 130 is not 128 times a power of two";
  }
  SECTION("entry size a multiple of 128 but not 128 * 2^n") {
    primary([](hl::GptHeader& h) { h.size_of_partition_entry = 384; });
    expected = "partition entry size 384 is not 128 times a power of two";
  }
  SECTION("header size too small") {
    primary([](hl::GptHeader& h) { h.header_size = 91; });
    expected = "header size 91 is outside [92, 512]";
  }
  SECTION("header size larger than a block") {
    primary([](hl::GptHeader& h) { h.header_size = 513; });
    expected = "header size 513 is outside [92, 512]";
  }
  SECTION("revision 2.0") {
    primary([](hl::GptHeader& h) { h.revision = 0x00020000; });
    expected = "unsupported revision 0x20000 (expected 0x10000)";
  }
  SECTION("MyLBA pointing elsewhere") {
    primary([](hl::GptHeader& h) { h.my_lba = 5; });
    expected = "MyLBA is 5, expected 1";
  }
  SECTION("last usable LBA past the disk") {
    primary([](hl::GptHeader& h) { h.last_usable_lba = 2048; });
    expected = "usable LBAs 34-2048 are not inside LBAs 2-2046 of a 2048-block disk";
  }
  SECTION("usable LBAs covering the header") {
    primary([](hl::GptHeader& h) { h.first_usable_lba = 1; });
    expected = "usable LBAs 1-2014 are not inside LBAs 2-2046 of a 2048-block disk";
  }
  SECTION("entry array overlapping the usable LBAs") {
    primary([](hl::GptHeader& h) { h.first_usable_lba = 20; });
    expected = "partition entry array (LBA 2-33) overlaps the MBR, a header or the usable LBAs";
  }
  CountingAllocator allocator;
  auto gpt = hl::read_gpt(disk, allocator);
  REQUIRE(gpt.ok());
  CHECK(gpt->copy() == hl::GptCopy::kBackup);
  CHECK(std::string(gpt->warning(0)) ==
        "GPT primary header at LBA 1: " + expected + "; using the backup header at LBA 2047");
}

TEST_CASE("every used entry is checked") {
  hl::GptLayout layout;
  const auto usable = hl::gpt_usable_range(2048, 512, layout);
  const hl::Guid other = guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  std::string expected;
  SECTION("first LBA after last LBA") {
    layout.partitions = {partition(0, kEspType, kEspUnique, 200, 100, "")};
    expected = "partition 1 (LBA 200-100) is not inside the usable LBAs 34-2014";
  }
  SECTION("before the usable range") {
    layout.partitions = {partition(3, kEspType, kEspUnique, 2, 100, "")};
    expected = "partition 4 (LBA 2-100) is not inside the usable LBAs 34-2014";
  }
  SECTION("past the usable range") {
    layout.partitions = {partition(0, kEspType, kEspUnique, 100, usable.last_lba + 1, "")};
    expected = "partition 1 (LBA 100-2015) is not inside the usable LBAs 34-2014";
  }
  SECTION("overlapping partitions") {
    layout.partitions = {partition(0, kEspType, kEspUnique, 100, 199, ""),
                         partition(1, kEspType, other, 199, 300, "")};
    expected = "partition 2 (LBA 199-300) overlaps partition 1 (LBA 100-199)";
  }
  SECTION("duplicate unique GUIDs") {
    layout.partitions = {partition(0, kEspType, kEspUnique, 100, 199, ""),
                         partition(5, kEspType, kEspUnique, 200, 300, "")};
    expected = "partitions 1 and 6 share the unique GUID 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  }
  TestDisk disk(2048, 512);
  REQUIRE(hl::write_gpt(disk, layout).ok());
  CHECK_THAT(read_error(disk), Contains("GPT primary entry array: " + expected));
}

TEST_CASE("a missing protective MBR and a moved backup are warnings only") {
  CountingAllocator allocator;
  TestDisk disk = standard_disk();
  disk.bytes[446 + 4] = 0x83;  // A Linux MBR partition instead of 0xee.
  {
    auto gpt = hl::read_gpt(disk, allocator);
    REQUIRE(gpt.ok());
    CHECK(gpt->warning_count() == 1);
    CHECK_THAT(gpt->warning(0), Contains("no protective (type 0xee) record"));
  }
  std::memset(disk.bytes.data(), 0, 512);
  {
    auto gpt = hl::read_gpt(disk, allocator);
    REQUIRE(gpt.ok());
    CHECK_THAT(gpt->warning(0), Contains("no 0x55aa signature"));
  }

  // The image grown to 4096 blocks after partitioning: the backup is now in
  // the middle, and the last LBA holds nothing.
  disk.bytes.resize(4096 * 512);
  auto gpt = hl::read_gpt(disk, allocator);
  REQUIRE(gpt.ok());
  CHECK(gpt->copy() == hl::GptCopy::kPrimary);
  CHECK(first_warning_containing(*gpt, "resized") ==
        "GPT: the primary header puts the backup at LBA 2047, not at the last LBA 4095 (was the "
        "disk resized?)");
}

TEST_CASE("entries larger than 128 bytes and out-of-memory") {
  hl::GptLayout layout;
  layout.entry_count = 64;
  layout.entry_size = 256;
  layout.partitions = {
      partition(63, hl::kHibernationPartitionType, kHibernationUnique, 40, 50, "")};
  TestDisk disk(2048, 512);
  REQUIRE(hl::write_gpt(disk, layout).ok());
  CountingAllocator allocator;
  {
    auto gpt = hl::read_gpt(disk, allocator);
    REQUIRE(gpt.ok());
    auto hib = hl::find_first_partition_by_type(*gpt, hl::kHibernationPartitionType);
    REQUIRE(hib.ok());
    CHECK(hib->index == 63);
    CHECK(hib->first_lba == 40);
  }
  allocator.fail = true;
  CHECK_THAT(read_error(disk, std::move(allocator)),
             Contains("out of memory for a 16384-byte partition entry array"));
}

TEST_CASE("gpt_name_to_utf8 converts UTF-16 and never splits a character") {
  hl::GptPartition p = {};
  const char16_t name[] = u"swap \u00e9\u20ac\U0001F600";
  std::memcpy(p.name, name, sizeof name);
  char out[64];
  CHECK(hl::gpt_name_to_utf8(p, out, sizeof out) == 14);
  CHECK(std::string(out) == "swap \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(hl::gpt_name_to_utf8(p, out, 10) == 7);  // The euro sign does not fit.
  CHECK(std::string(out) == "swap \xc3\xa9");
  p.name[0] = 0xd800;  // A lone surrogate.
  hl::gpt_name_to_utf8(p, out, sizeof out);
  CHECK(std::string(out).substr(0, 3) == "\xef\xbf\xbd");
  for (auto& c : p.name) c = u'x';  // All 36 units, no terminator.
  CHECK(hl::gpt_name_to_utf8(p, out, sizeof out) == 36);
}

TEST_CASE("set_gpt_partition_type stamps both copies") {
  TestDisk disk = standard_disk();
  CountingAllocator allocator;
  const hl::Guid linux_swap = guid("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f");
  REQUIRE(hl::set_gpt_partition_type(disk, allocator, 2, linux_swap).ok());
  for (auto copy : {hl::GptCopy::kPrimary, hl::GptCopy::kBackup}) {
    auto gpt = hl::read_gpt_copy(disk, allocator, copy);
    REQUIRE(gpt.ok());
    hl::GptPartition p;
    REQUIRE(gpt->entry(2, &p));
    CHECK(p.type == linux_swap);
    CHECK(p.unique == kHibernationUnique);
  }
  auto unused = hl::set_gpt_partition_type(disk, allocator, 1, linux_swap);
  REQUIRE_FALSE(unused.ok());
  CHECK(std::string(unused.error().reason()) == "GPT entry 1 (partition 2) is unused");
  CHECK(allocator.outstanding == 0);
}

// The reference: a real tool's table and a real tool's reading of ours.
TEST_CASE("cross-check with sgdisk") {
  if (std::system("command -v sgdisk >/dev/null 2>&1") != 0) {
    WARN("sgdisk (package gdisk) is missing; skipping the cross-check");
    return;
  }
  char path[] = "/tmp/hiberload-gpt-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, 64 << 20) == 0);
  close(fd);
  struct Remove {
    const char* path;
    ~Remove() { std::remove(path); }
  } remove_at_exit{path};
  auto run = [](const std::string& command) {
    std::string output;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
    const int status = pclose(pipe);
    INFO(command << "\n" << output);
    REQUIRE(status == 0);
    return output;
  };
  // The value on the line of `sgdisk -i` output that starts with label.
  auto field = [](const std::string& info, const std::string& label) {
    const size_t at = info.find(label);
    REQUIRE(at != std::string::npos);
    const size_t start = at + label.size();
    return info.substr(start, info.find_first_of(" \n", start) - start);
  };
  const std::string file = path;
  run("sgdisk -o -n 1:2048:+16M -t 1:ef00 -c 1:ESP -n 2:0:+8M -t 2:" +
      text(hl::kHibernationPartitionType) + " -c 2:hibernate " + file);

  CountingAllocator allocator;
  {
    auto storage = hl::FileStorage::open(file, hl::FileStorage::Mode::kReadOnly);
    REQUIRE(storage.ok());
    auto gpt = hl::read_gpt(**storage, allocator);
    REQUIRE(gpt.ok());
    CHECK(gpt->warning_count() == 0);
    CHECK(gpt->copy() == hl::GptCopy::kPrimary);
    for (int number : {1, 2}) {
      const std::string info = run("sgdisk -i " + std::to_string(number) + " " + file);
      hl::Guid unique;
      REQUIRE(hl::guid_from_string(field(info, "Partition unique GUID: ").c_str(), &unique));
      auto p = hl::find_partition_by_unique_guid(*gpt, unique);
      REQUIRE(p.ok());
      CHECK(p->index == static_cast<uint32_t>(number - 1));
      CHECK(p->first_lba == std::stoull(field(info, "First sector: ")));
      CHECK(p->last_lba == std::stoull(field(info, "Last sector: ")));
      hl::Guid type;
      REQUIRE(hl::guid_from_string(field(info, "Partition GUID code: ").c_str(), &type));
      CHECK(p->type == type);
      char name[40];
      hl::gpt_name_to_utf8(*p, name, sizeof name);
      CHECK("'" + std::string(name) + "'" == field(info, "Partition name: "));
    }
    CHECK(hl::find_first_partition_by_type(*gpt, kEspType)->first_lba == 2048);
    CHECK(hl::find_first_partition_by_type(*gpt, hl::kHibernationPartitionType)->first_lba ==
          2048 + (16 << 11));
    delete *storage;
  }

  // And sgdisk finds nothing wrong with what write_gpt and
  // set_gpt_partition_type write.
  {
    auto storage = hl::FileStorage::open(file, hl::FileStorage::Mode::kReadWrite);
    REQUIRE(storage.ok());
    hl::GptLayout layout;
    layout.disk_guid = guid("11111111-2222-3333-4444-555555555555");
    layout.partitions = {partition(0, kEspType, kEspUnique, 2048, 34815, "ESP"),
                         partition(1, kEspType, kHibernationUnique, 34816, 51199, "hibernate")};
    REQUIRE(hl::write_gpt(**storage, layout).ok());
    REQUIRE(
        hl::set_gpt_partition_type(**storage, allocator, 1, hl::kHibernationPartitionType).ok());
    delete *storage;
  }
  CHECK_THAT(run("sgdisk -v " + file), Contains("No problems found"));
  const std::string info = run("sgdisk -i 2 " + file);
  CHECK(field(info, "Partition GUID code: ") == "182AAD0A-D5E4-4B60-B136-A6C091F30D90");
  CHECK(field(info, "Partition unique GUID: ") == "5C49D72F-CAB3-4271-B25A-F0BBF15C433B");
  CHECK(allocator.outstanding == 0);
}
