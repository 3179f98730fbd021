// libFuzzer target for common/gpt: the input is a whole disk.
//
// The last input byte holds flags, the rest is the disk:
//   bit 0  4096-byte blocks instead of 512
//   bit 1  re-seal the primary copy's CRCs before reading
//   bit 2  re-seal the backup copy's CRCs before reading
//   bit 3  before re-sealing, stamp the fixed header fields (signature,
//          revision, header size, MyLBA) and fold every LBA, the entry
//          count and size into plausible ranges, so that even an empty
//          corpus reaches the entry checks (random 64-bit LBAs never land
//          inside a small disk)
// Without re-sealing, random bytes almost never pass the two CRC-32 checks
// and everything behind them would go unexercised; the fuzzer fixes the CRCs
// here rather than the reader skipping them in fuzzing builds.
//
// Beyond "no crash, no sanitizer report", it checks the reader's promises:
// every partition it returns lies inside the usable LBAs, which lie inside
// the disk, and nothing it allocated outlives the GptDisk.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "common/crc32.h"
#include "common/gpt.h"
#include "common/guids.h"
#include "common/storage.h"

namespace {

class FuzzDisk final : public hl::Storage {
 public:
  FuzzDisk(std::vector<uint8_t>& bytes, uint32_t block_size)
      : bytes_(bytes), block_size_(block_size) {}
  uint64_t size() const override { return bytes_.size(); }
  uint32_t block_size() const override { return block_size_; }
  hl::Status read(uint64_t offset, void* buffer, size_t length) override {
    if (!hl::range_inside(offset, length, bytes_.size())) return hl::Error::make("outside");
    memcpy(buffer, bytes_.data() + offset, length);
    return hl::ok_status();
  }
  hl::Status write(uint64_t, const void*, size_t) override {
    abort();  // The reader never writes.
  }
  hl::Status flush() override { return hl::ok_status(); }

 private:
  std::vector<uint8_t>& bytes_;
  uint32_t block_size_;
};

class CountingAllocator final : public hl::Allocator {
 public:
  void* allocate(size_t size) override {
    ++outstanding;
    return malloc(size);
  }
  void release(void* pointer) override {
    --outstanding;
    free(pointer);
  }
  int outstanding = 0;
};

#define FUZZ_ASSERT(condition) \
  do {                         \
    if (!(condition)) abort(); \
  } while (0)

// Recomputes the entry array CRC (when the array lies inside the disk) and
// the header CRC of the header at `lba`, whatever the other fields say.
void reseal(std::vector<uint8_t>& disk, uint32_t block_size, uint64_t lba, bool stamp) {
  if (!hl::range_inside(lba * block_size, block_size, disk.size())) return;
  uint8_t* block = &disk[lba * block_size];
  hl::GptHeader h;
  memcpy(&h, block, hl::kGptHeaderSize);
  const uint64_t blocks = disk.size() / block_size;
  if (stamp) {
    h.signature = hl::kGptSignature;
    h.revision = hl::kGptRevision;
    h.header_size = hl::kGptHeaderSize;
    h.my_lba = lba;
    h.first_usable_lba %= blocks;
    h.last_usable_lba %= blocks;
    h.partition_entry_lba %= blocks;
    h.number_of_partition_entries %= 257;
    h.size_of_partition_entry = hl::kGptMinEntrySize << (h.size_of_partition_entry % 4);
  }
  const uint64_t array_bytes = uint64_t{h.number_of_partition_entries} * h.size_of_partition_entry;
  if (h.partition_entry_lba < blocks &&
      hl::range_inside(h.partition_entry_lba * block_size, array_bytes, disk.size())) {
    for (uint64_t i = 0; stamp && i < h.number_of_partition_entries; ++i) {
      hl::GptEntry entry;
      uint8_t* raw = &disk[h.partition_entry_lba * block_size + i * h.size_of_partition_entry];
      memcpy(&entry, raw, sizeof entry);
      entry.first_lba %= blocks;
      entry.last_lba %= blocks;
      memcpy(raw, &entry, sizeof entry);
    }
    h.partition_entry_array_crc32 =
        hl::crc32(&disk[h.partition_entry_lba * block_size], array_bytes);
  }
  const uint32_t header_size = h.header_size >= hl::kGptHeaderSize && h.header_size <= block_size
                                   ? h.header_size
                                   : hl::kGptHeaderSize;
  h.header_crc32 = 0;
  memcpy(block, &h, hl::kGptHeaderSize);
  h.header_crc32 = hl::crc32(block, header_size);
  memcpy(block, &h, hl::kGptHeaderSize);
}

void check_disk(const hl::GptDisk& gpt) {
  const hl::GptHeader& h = gpt.header();
  FUZZ_ASSERT(h.first_usable_lba <= h.last_usable_lba && h.last_usable_lba < gpt.block_count());
  uint32_t used = 0;
  for (const hl::GptPartition& p : gpt.partitions()) {
    FUZZ_ASSERT(p.first_lba >= h.first_usable_lba && p.last_lba <= h.last_usable_lba);
    FUZZ_ASSERT(p.first_lba <= p.last_lba);
    FUZZ_ASSERT(p.index < h.number_of_partition_entries);
    char name[160];
    hl::gpt_name_to_utf8(p, name, sizeof name);
    FUZZ_ASSERT(strlen(name) < sizeof name);
    // Unique GUIDs are unique, so a lookup finds this very entry.
    auto found = hl::find_partition_by_unique_guid(gpt, p.unique);
    FUZZ_ASSERT(found.ok() && found->index == p.index);
    auto by_type = hl::find_first_partition_by_type(gpt, p.type);
    FUZZ_ASSERT(by_type.ok() && by_type->index <= p.index);
    ++used;
  }
  FUZZ_ASSERT(used <= h.number_of_partition_entries);
  auto hibernation = hl::find_first_partition_by_type(gpt, hl::kHibernationPartitionType);
  if (!hibernation.ok()) FUZZ_ASSERT(hibernation.error().reason()[0] != '\0');
  for (size_t i = 0; i < gpt.warning_count(); ++i) FUZZ_ASSERT(gpt.warning(i)[0] != '\0');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[size - 1];
  const uint32_t block_size = (flags & 1) ? 4096 : 512;
  std::vector<uint8_t> bytes(data, data + size - 1);
  const bool stamp = flags & 8;
  if (flags & 2) reseal(bytes, block_size, 1, stamp);
  if ((flags & 4) && bytes.size() >= block_size) {
    reseal(bytes, block_size, bytes.size() / block_size - 1, stamp);
  }

  FuzzDisk disk(bytes, block_size);
  CountingAllocator allocator;
  {
    auto gpt = hl::read_gpt(disk, allocator);
    if (gpt.ok()) {
      check_disk(*gpt);
    } else {
      FUZZ_ASSERT(gpt.error().reason()[0] != '\0');
    }
    for (auto copy : {hl::GptCopy::kPrimary, hl::GptCopy::kBackup}) {
      auto one = hl::read_gpt_copy(disk, allocator, copy);
      if (one.ok()) check_disk(*one);
    }
  }
  FUZZ_ASSERT(allocator.outstanding == 0);
  return 0;
}
