#include "common/gpt.h"

#include <string.h>

#include <utility>

#include "common/crc32.h"

namespace hl {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "GptHeader and GptEntry are read by memcpy from little-endian disk data");

// Legacy MBR in the first 512 bytes of LBA 0 (spec 5.2.1, 5.2.3).
constexpr size_t kMbrSize = 512;
constexpr size_t kMbrRecordsOffset = 446;
constexpr size_t kMbrRecordSize = 16;
constexpr size_t kMbrOsTypeOffset = 4;
constexpr uint8_t kMbrProtectiveOsType = 0xee;

const char* copy_name(GptCopy copy) { return copy == GptCopy::kPrimary ? "primary" : "backup"; }

bool is_zero(const Guid& guid) { return guid == Guid{}; }

bool is_power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

// Inclusive LBA ranges [a_first, a_last] and [b_first, b_last].
bool overlaps(uint64_t a_first, uint64_t a_last, uint64_t b_first, uint64_t b_last) {
  return a_first <= b_last && b_first <= a_last;
}

void decode_entry(const uint8_t* raw, uint32_t index, GptPartition* out) {
  GptEntry entry;
  memcpy(&entry, raw, sizeof entry);
  out->index = index;
  out->type = entry.type;
  out->unique = entry.unique;
  out->first_lba = entry.first_lba;
  out->last_lba = entry.last_lba;
  out->attributes = entry.attributes;
  memcpy(out->name, entry.name, sizeof out->name);
}

struct GuidText {
  char text[37];
  explicit GuidText(const Guid& guid) { guid_to_string(guid, text); }
};

// The checks of spec 5.3.2 ("GPT Header" validity) plus the bounds a reader
// needs before trusting any LBA in the header. `block` holds the header's
// whole block, so the CRC can cover a header_size larger than 92.
Status check_header(const GptHeader& h, const uint8_t* block, uint32_t block_size,
                    uint64_t block_count, uint64_t lba) {
  if (h.signature != kGptSignature) {
    return Error::make("no \"EFI PART\" signature (found {x})", h.signature);
  }
  if (h.revision >> 16 != kGptRevision >> 16) {
    return Error::make("unsupported revision {x} (expected {x})", h.revision, kGptRevision);
  }
  if (h.header_size < kGptHeaderSize || h.header_size > block_size) {
    return Error::make("header size {} is outside [{}, {}]", h.header_size, kGptHeaderSize,
                       block_size);
  }
  // The CRC covers header_size bytes with its own field taken as zero.
  constexpr size_t kCrcOffset = __builtin_offsetof(GptHeader, header_crc32);
  constexpr uint8_t kZeros[sizeof h.header_crc32] = {};
  uint32_t crc = crc32(block, kCrcOffset);
  crc = crc32(kZeros, sizeof kZeros, crc);
  crc = crc32(block + kCrcOffset + sizeof kZeros, h.header_size - kCrcOffset - sizeof kZeros, crc);
  if (crc != h.header_crc32) {
    return Error::make("CRC mismatch (stored {x}, computed {x})", h.header_crc32, crc);
  }
  // Past the CRC, a bad value is a buggy writer rather than a torn write.
  if (h.my_lba != lba) return Error::make("MyLBA is {}, expected {}", h.my_lba, lba);
  // LBA 0 (MBR), LBA 1 (primary header) and the last LBA (backup header)
  // belong to neither the partitions nor the entry arrays.
  const uint64_t last_inner = block_count - 2;
  if (h.first_usable_lba > h.last_usable_lba || h.first_usable_lba < 2 ||
      h.last_usable_lba > last_inner) {
    return Error::make("usable LBAs {}-{} are not inside LBAs 2-{} of a {}-block disk",
                       h.first_usable_lba, h.last_usable_lba, last_inner, block_count);
  }
  // Spec 5.3.2: SizeOfPartitionEntry is 128 * 2^n.
  if (h.size_of_partition_entry < kGptMinEntrySize || !is_power_of_two(h.size_of_partition_entry)) {
    return Error::make("partition entry size {} is not 128 times a power of two",
                       h.size_of_partition_entry);
  }
  // Two 32-bit factors: the 64-bit product cannot overflow.
  const uint64_t array_bytes = uint64_t{h.number_of_partition_entries} * h.size_of_partition_entry;
  if (array_bytes > kGptMaxEntryArrayBytes) {
    return Error::make("partition entry array of {} x {} bytes exceeds the {}-byte limit",
                       h.number_of_partition_entries, h.size_of_partition_entry,
                       kGptMaxEntryArrayBytes);
  }
  if (array_bytes == 0) return ok_status();
  const uint64_t array_blocks = (array_bytes + block_size - 1) / block_size;
  if (!range_inside(h.partition_entry_lba, array_blocks, block_count)) {
    return Error::make("partition entry array at LBA {} ({} blocks) is beyond the disk's {} blocks",
                       h.partition_entry_lba, array_blocks, block_count);
  }
  const uint64_t array_last = h.partition_entry_lba + array_blocks - 1;
  if (h.partition_entry_lba < 2 || array_last > last_inner ||
      overlaps(h.partition_entry_lba, array_last, h.first_usable_lba, h.last_usable_lba)) {
    return Error::make(
        "partition entry array (LBA {}-{}) overlaps the MBR, a header or the usable LBAs",
        h.partition_entry_lba, array_last);
  }
  return ok_status();
}

// Spec 5.3.3: every used entry lies inside the usable LBAs, and no two used
// entries share blocks (which would let a write to one clobber the other) or
// a unique GUID (which would make a lookup by GUID ambiguous).
Status check_entries(const GptHeader& h, const uint8_t* entries) {
  const uint32_t size = h.size_of_partition_entry;
  for (uint32_t i = 0; i < h.number_of_partition_entries; ++i) {
    GptPartition p;
    decode_entry(entries + size_t{i} * size, i, &p);
    if (is_zero(p.type)) continue;
    if (p.first_lba > p.last_lba || p.first_lba < h.first_usable_lba ||
        p.last_lba > h.last_usable_lba) {
      return Error::make("partition {} (LBA {}-{}) is not inside the usable LBAs {}-{}", i + 1,
                         p.first_lba, p.last_lba, h.first_usable_lba, h.last_usable_lba);
    }
    for (uint32_t j = 0; j < i; ++j) {
      GptPartition q;
      decode_entry(entries + size_t{j} * size, j, &q);
      if (is_zero(q.type)) continue;
      if (overlaps(p.first_lba, p.last_lba, q.first_lba, q.last_lba)) {
        return Error::make("partition {} (LBA {}-{}) overlaps partition {} (LBA {}-{})", i + 1,
                           p.first_lba, p.last_lba, j + 1, q.first_lba, q.last_lba);
      }
      if (p.unique == q.unique) {
        return Error::make("partitions {} and {} share the unique GUID {}", j + 1, i + 1,
                           GuidText(p.unique).text);
      }
    }
  }
  return ok_status();
}

// What a disk must be before either copy is worth reading.
Status check_geometry(Storage& disk) {
  const uint32_t block_size = disk.block_size();
  if (block_size < 512 || block_size > kGptMaxBlockSize || !is_power_of_two(block_size)) {
    return Error::make("GPT: unsupported block size {}", block_size);
  }
  // Room for the MBR, both headers and at least one usable LBA.
  if (disk.size() / block_size < 4) {
    return Error::make("GPT: disk of {} bytes is too small for a GPT", disk.size());
  }
  return ok_status();
}

// A warning, not an error: the UEFI spec (5.2.3) requires the protective MBR,
// but firmware that reads the GPT does not need it, and refusing to resume
// over a missing MBR would help nobody.
bool protective_mbr_warning(Storage& disk, char* out, size_t capacity) {
  uint8_t mbr[kMbrSize];
  if (!disk.read(0, mbr, sizeof mbr)) return false;  // The header read will say why.
  if (mbr[510] != 0x55 || mbr[511] != 0xaa) {
    format_to(out, capacity,
              "GPT: LBA 0 holds no MBR (no 0x55aa signature), so no protective "
              "MBR; legacy tools may see this disk as empty");
    return true;
  }
  for (size_t i = 0; i < 4; ++i) {
    if (mbr[kMbrRecordsOffset + i * kMbrRecordSize + kMbrOsTypeOffset] == kMbrProtectiveOsType) {
      return false;
    }
  }
  format_to(out, capacity,
            "GPT: the MBR at LBA 0 has no protective (type 0xee) record; "
            "legacy tools may overwrite the GPT");
  return true;
}

}  // namespace

GptDisk::GptDisk(GptDisk&& other)
    : allocator_(other.allocator_),
      entries_(std::exchange(other.entries_, nullptr)),
      block_size_(other.block_size_),
      block_count_(other.block_count_),
      header_(other.header_),
      copy_(other.copy_),
      warning_count_(other.warning_count_) {
  memcpy(warnings_, other.warnings_, sizeof warnings_);
}

GptDisk::~GptDisk() {
  if (entries_ != nullptr) allocator_->release(entries_);
}

void GptDisk::add_warning(const char* text) {
  if (warning_count_ == kMaxWarnings) return;
  format_to(warnings_[warning_count_++], Error::kMaxReason, "{}", text);
}

bool GptDisk::entry(uint32_t index, GptPartition* out) const {
  if (index >= header_.number_of_partition_entries) return false;
  decode_entry(entries_ + size_t{index} * header_.size_of_partition_entry, index, out);
  return !is_zero(out->type);
}

void GptDisk::Iterator::advance(uint32_t index) {
  const uint32_t count = disk_->header_.number_of_partition_entries;
  for (index_ = index; index_ < count; ++index_) {
    if (disk_->entry(index_, &current_)) return;
  }
}

Result<GptDisk> read_gpt_copy(Storage& disk, Allocator& allocator, GptCopy copy) {
  HL_TRY(check_geometry(disk));
  const uint32_t block_size = disk.block_size();
  GptDisk gpt(&allocator, block_size, disk.size() / block_size);
  gpt.copy_ = copy;
  const uint64_t lba = copy == GptCopy::kPrimary ? 1 : gpt.block_count_ - 1;

  alignas(8) uint8_t block[kGptMaxBlockSize];
  if (auto s = disk.read(lba * block_size, block, block_size); !s) {
    return s.error().with_context("GPT {} header at LBA {}", copy_name(copy), lba);
  }
  memcpy(&gpt.header_, block, kGptHeaderSize);
  const GptHeader& h = gpt.header_;
  if (auto s = check_header(h, block, block_size, gpt.block_count_, lba); !s) {
    return s.error().with_context("GPT {} header at LBA {}", copy_name(copy), lba);
  }

  const size_t array_bytes = size_t{h.number_of_partition_entries} * h.size_of_partition_entry;
  if (array_bytes > 0) {
    gpt.entries_ = static_cast<uint8_t*>(allocator.allocate(array_bytes));
    if (gpt.entries_ == nullptr) {
      return Error::make("GPT: out of memory for a {}-byte partition entry array", array_bytes);
    }
    if (auto s = disk.read(h.partition_entry_lba * block_size, gpt.entries_, array_bytes); !s) {
      return s.error().with_context("GPT {} entry array at LBA {}", copy_name(copy),
                                    h.partition_entry_lba);
    }
  }
  const uint32_t crc = crc32(gpt.entries_, array_bytes);
  if (crc != h.partition_entry_array_crc32) {
    return Error::make("GPT {} entry array at LBA {}: CRC mismatch (stored {x}, computed {x})",
                       copy_name(copy), h.partition_entry_lba, h.partition_entry_array_crc32, crc);
  }
  if (auto s = check_entries(h, gpt.entries_); !s) {
    return s.error().with_context("GPT {} entry array", copy_name(copy));
  }
  return gpt;
}

Result<GptDisk> read_gpt(Storage& disk, Allocator& allocator) {
  HL_TRY(check_geometry(disk));
  char mbr_warning[Error::kMaxReason];
  const bool has_mbr_warning = protective_mbr_warning(disk, mbr_warning, sizeof mbr_warning);

  // Returning a Result<GptDisk> variable would copy it; move the value out.
  auto primary = read_gpt_copy(disk, allocator, GptCopy::kPrimary);
  if (primary) {
    if (has_mbr_warning) primary->add_warning(mbr_warning);
    // Not an error: a disk image grown after partitioning has its backup in
    // the middle until a tool (sgdisk -e) moves it. Only the primary is read.
    const uint64_t last_lba = primary->block_count_ - 1;
    if (primary->header_.alternate_lba != last_lba) {
      const Error moved = Error::make(
          "GPT: the primary header puts the backup at LBA {}, not at the last LBA {} (was the "
          "disk resized?)",
          primary->header_.alternate_lba, last_lba);
      primary->add_warning(moved.reason());
    }
    return std::move(*primary);
  }

  auto backup = read_gpt_copy(disk, allocator, GptCopy::kBackup);
  if (!backup) {
    return Error::make("{}; {}", primary.error().reason(), backup.error().reason());
  }
  if (has_mbr_warning) backup->add_warning(mbr_warning);
  const Error fallback = Error::make("{}; using the backup header at LBA {}",
                                     primary.error().reason(), backup->header_.my_lba);
  backup->add_warning(fallback.reason());
  return std::move(*backup);
}

Result<GptPartition> find_partition_by_unique_guid(const GptDisk& gpt, const Guid& unique) {
  for (const GptPartition& p : gpt.partitions()) {
    if (p.unique == unique) return p;
  }
  return Error::make("GPT: no partition has the unique GUID {}", GuidText(unique).text);
}

Result<GptPartition> find_first_partition_by_type(const GptDisk& gpt, const Guid& type) {
  for (const GptPartition& p : gpt.partitions()) {
    if (p.type == type) return p;
  }
  return Error::make("GPT: no partition has the type GUID {}", GuidText(type).text);
}

size_t gpt_name_to_utf8(const GptPartition& partition, char* out, size_t capacity) {
  if (capacity == 0) return 0;
  const size_t kUnits = sizeof partition.name / sizeof partition.name[0];
  size_t n = 0;
  for (size_t i = 0; i < kUnits && partition.name[i] != 0; ++i) {
    uint32_t c = partition.name[i];
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < kUnits && partition.name[i + 1] >= 0xdc00 &&
        partition.name[i + 1] <= 0xdfff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (partition.name[++i] - 0xdc00);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      c = 0xfffd;
    }
    uint8_t bytes[4];
    size_t len;
    if (c < 0x80) {
      bytes[0] = static_cast<uint8_t>(c);
      len = 1;
    } else if (c < 0x800) {
      bytes[0] = static_cast<uint8_t>(0xc0 | c >> 6);
      bytes[1] = static_cast<uint8_t>(0x80 | (c & 0x3f));
      len = 2;
    } else if (c < 0x10000) {
      bytes[0] = static_cast<uint8_t>(0xe0 | c >> 12);
      bytes[1] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3f));
      bytes[2] = static_cast<uint8_t>(0x80 | (c & 0x3f));
      len = 3;
    } else {
      bytes[0] = static_cast<uint8_t>(0xf0 | c >> 18);
      bytes[1] = static_cast<uint8_t>(0x80 | ((c >> 12) & 0x3f));
      bytes[2] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3f));
      bytes[3] = static_cast<uint8_t>(0x80 | (c & 0x3f));
      len = 4;
    }
    if (n + len >= capacity) break;  // Keep room for the NUL; never split a character.
    memcpy(out + n, bytes, len);
    n += len;
  }
  out[n] = '\0';
  return n;
}

}  // namespace hl
