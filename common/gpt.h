// GUID Partition Table reader (UEFI spec 2.10, chapter 5).
//
// The firmware uses it to find the hibernation partition on a whole-disk
// Block I/O (by the unique partition GUID from the configuration, or else by
// kHibernationPartitionType); the Linux tools use it to check that the
// partition they are given carries that type. Both read through hl::Storage.
//
//   auto gpt = hl::read_gpt(disk, allocator);
//   if (!gpt) return gpt.error();                  // both copies unusable
//   for (size_t i = 0; i < gpt->warning_count(); ++i) log(gpt->warning(i));
//   auto part = hl::find_first_partition_by_type(*gpt, hl::kHibernationPartitionType);
//   if (!part) return part.error();
//   uint64_t offset = part->first_lba * gpt->block_size();
//
//   for (const hl::GptPartition& p : gpt->partitions()) ...  // non-empty only
//
// Trust: the table is validated completely before anything is returned, since
// the firmware later *writes* to the partition it finds (the image's consume
// record): header and entry array CRCs, every LBA inside the disk, every
// partition inside the usable range, no two partitions overlapping, no
// duplicate unique GUIDs. A copy failing any check is not used. The primary
// copy (LBA 1) is preferred; the backup (last LBA) is used only when the
// primary fails, and that is reported as a warning. The reader never writes.
//
// Memory: the entry array (at most kGptMaxEntryArrayBytes) is the only
// allocation, from the caller's Allocator, owned by GptDisk until it is
// destroyed. Headers are read into a stack buffer of one block, so block sizes
// above kGptMaxBlockSize are refused.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/guids.h"
#include "common/storage.h"

namespace hl {

// Header signature "EFI PART" as a little-endian 64-bit value (spec 5.3.2).
inline constexpr uint64_t kGptSignature = 0x5452415020494645ull;
// Revision 1.0, the only one defined (spec 5.3.2, Table 5-5).
inline constexpr uint32_t kGptRevision = 0x00010000;
// The header's defined fields; HeaderSize may be larger (up to one block),
// the rest being reserved bytes covered by the CRC.
inline constexpr uint32_t kGptHeaderSize = 92;
inline constexpr uint32_t kGptMinEntrySize = 128;
// A bound on what the firmware reads and allocates. The spec asks for at least
// 16 KiB reserved (128 entries of 128 bytes); tools that grow the table
// (sgdisk --resize-table) rarely go past 1024 entries = 128 KiB.
inline constexpr uint32_t kGptMaxEntryArrayBytes = 128 * 1024;
inline constexpr uint32_t kGptMaxBlockSize = 4096;

// The header as stored at LBA 1 and the last LBA (spec 5.3.2, Table 5-5).
// Little-endian, like every x86_64 target of this project; Guid's in-memory
// layout then matches the on-disk mixed-endian encoding (spec Appendix A).
struct GptHeader {
  uint64_t signature;
  uint32_t revision;
  uint32_t header_size;
  uint32_t header_crc32;  // Over header_size bytes, with this field zero.
  uint32_t reserved;
  uint64_t my_lba;
  uint64_t alternate_lba;
  uint64_t first_usable_lba;
  uint64_t last_usable_lba;
  Guid disk_guid;
  uint64_t partition_entry_lba;
  uint32_t number_of_partition_entries;
  uint32_t size_of_partition_entry;
  uint32_t partition_entry_array_crc32;  // Over count * size bytes.
};
static_assert(__builtin_offsetof(GptHeader, partition_entry_array_crc32) + 4 == kGptHeaderSize);

// One entry of the partition entry array (spec 5.3.3, Table 5-6). An entry
// whose type is all zero is unused. Entries may be larger than this (128 * 2^n
// bytes); the extra bytes are reserved and ignored.
struct GptEntry {
  Guid type;
  Guid unique;
  uint64_t first_lba;
  uint64_t last_lba;  // Inclusive.
  uint64_t attributes;
  char16_t name[36];  // UTF-16LE, NUL-padded (not terminated when full).
};
static_assert(sizeof(GptEntry) == kGptMinEntrySize);

// A used entry, as returned by iteration and the find_* helpers.
struct GptPartition {
  uint32_t index;  // Position in the entry array; Linux names it index + 1.
  Guid type;
  Guid unique;
  uint64_t first_lba;
  uint64_t last_lba;  // Inclusive.
  uint64_t attributes;
  char16_t name[36];

  uint64_t block_count() const { return last_lba - first_lba + 1; }
};

// Which copy of the table a GptDisk was read from.
enum class GptCopy : uint8_t { kPrimary, kBackup };

// A validated table. Move-only: owns the entry array, allocated from the
// Allocator passed to read_gpt, which must outlive it.
class GptDisk {
 public:
  static constexpr size_t kMaxWarnings = 3;

  GptDisk(GptDisk&& other);
  GptDisk& operator=(GptDisk&&) = delete;
  GptDisk(const GptDisk&) = delete;
  ~GptDisk();

  uint32_t block_size() const { return block_size_; }
  uint64_t block_count() const { return block_count_; }
  // The header of the copy in use, as read (CRC-checked, validated).
  const GptHeader& header() const { return header_; }
  GptCopy copy() const { return copy_; }

  // Non-fatal findings: no protective MBR, primary copy unusable (so the
  // backup is in use), backup header not at the last LBA (disk resized).
  size_t warning_count() const { return warning_count_; }
  const char* warning(size_t i) const { return warnings_[i]; }

  // Entry `index` (< header().number_of_partition_entries); false if unused.
  bool entry(uint32_t index, GptPartition* out) const;

  // Range over the used entries, in array order.
  class Iterator {
   public:
    const GptPartition& operator*() const { return current_; }
    Iterator& operator++() {
      advance(index_ + 1);
      return *this;
    }
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }

   private:
    friend class GptDisk;
    Iterator(const GptDisk* disk, uint32_t index) : disk_(disk) { advance(index); }
    void advance(uint32_t index);
    const GptDisk* disk_;
    uint32_t index_ = 0;
    GptPartition current_ = {};
  };
  struct Partitions {
    const GptDisk* disk;
    Iterator begin() const { return Iterator(disk, 0); }
    Iterator end() const { return Iterator(disk, disk->header_.number_of_partition_entries); }
  };
  Partitions partitions() const { return Partitions{this}; }

 private:
  friend Result<GptDisk> read_gpt_copy(Storage&, Allocator&, GptCopy);
  friend Result<GptDisk> read_gpt(Storage&, Allocator&);
  GptDisk(Allocator* allocator, uint32_t block_size, uint64_t block_count)
      : allocator_(allocator), block_size_(block_size), block_count_(block_count) {}
  void add_warning(const char* text);

  Allocator* allocator_;
  uint8_t* entries_ = nullptr;  // count * size bytes, CRC-checked.
  uint32_t block_size_;
  uint64_t block_count_;
  GptHeader header_ = {};
  GptCopy copy_ = GptCopy::kPrimary;
  size_t warning_count_ = 0;
  char warnings_[kMaxWarnings][Error::kMaxReason] = {};
};

// Reads and validates the GPT of a whole disk: the primary copy, or the
// backup when the primary fails (see the top of this file). The error names
// the reasons both copies were refused.
Result<GptDisk> read_gpt(Storage& disk, Allocator& allocator);

// Reads and validates one copy only, without the protective MBR check (for
// tools that rewrite both copies, and for tests).
Result<GptDisk> read_gpt_copy(Storage& disk, Allocator& allocator, GptCopy copy);

Result<GptPartition> find_partition_by_unique_guid(const GptDisk& gpt, const Guid& unique);
Result<GptPartition> find_first_partition_by_type(const GptDisk& gpt, const Guid& type);

// Writes the partition name as UTF-8 (lone surrogates become U+FFFD) into
// out, NUL-terminated and truncated to capacity. Returns the length.
size_t gpt_name_to_utf8(const GptPartition& partition, char* out, size_t capacity);

}  // namespace hl
