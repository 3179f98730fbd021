#include "tools/lib/gpt_writer.h"

#include <cstring>

#include "common/crc32.h"

namespace hl {
namespace {

uint64_t array_blocks(const GptLayout& layout, uint32_t block_size) {
  const uint64_t bytes = uint64_t{layout.entry_count} * layout.entry_size;
  return (bytes + block_size - 1) / block_size;
}

// Reads one copy's header block and entry array, lets `patch` change the
// entries, then writes the array, the updated CRCs, and flushes.
template <typename Patch>
Status rewrite_copy(Storage& disk, const GptHeader& header, Patch patch) {
  const uint32_t block_size = disk.block_size();
  const uint64_t header_offset = header.my_lba * block_size;
  const uint64_t array_offset = header.partition_entry_lba * block_size;
  std::vector<uint8_t> block(block_size);
  std::vector<uint8_t> array(size_t{header.number_of_partition_entries} *
                             header.size_of_partition_entry);
  HL_TRY(disk.read(header_offset, block.data(), block.size()));
  HL_TRY(disk.read(array_offset, array.data(), array.size()));
  patch(array.data());

  GptHeader h;
  std::memcpy(&h, block.data(), kGptHeaderSize);
  h.partition_entry_array_crc32 = crc32(array.data(), array.size());
  h.header_crc32 = 0;
  std::memcpy(block.data(), &h, kGptHeaderSize);
  h.header_crc32 = crc32(block.data(), h.header_size);  // Reserved bytes too.
  std::memcpy(block.data(), &h, kGptHeaderSize);

  HL_TRY(disk.write(array_offset, array.data(), array.size()));
  HL_TRY(disk.write(header_offset, block.data(), block.size()));
  return disk.flush();
}

}  // namespace

GptUsableRange gpt_usable_range(uint64_t block_count, uint32_t block_size,
                                const GptLayout& layout) {
  const uint64_t blocks = array_blocks(layout, block_size);
  return {2 + blocks, block_count - 2 - blocks};
}

void seal_gpt_header(GptHeader* header) {
  header->header_crc32 = 0;
  header->header_crc32 = crc32(header, kGptHeaderSize);
}

Status write_gpt(Storage& disk, const GptLayout& layout) {
  const uint32_t block_size = disk.block_size();
  const uint64_t block_count = disk.size() / block_size;
  const uint64_t blocks = array_blocks(layout, block_size);
  if (block_count < 2 * blocks + 4) {
    return Error::make("a {}-block disk is too small for a GPT with {} entries", block_count,
                       layout.entry_count);
  }
  const GptUsableRange usable = gpt_usable_range(block_count, block_size, layout);

  // Protective MBR (spec 5.2.3): one record of type 0xee from LBA 1 to the
  // end of the disk, or 0xffffffff when that does not fit in 32 bits.
  std::vector<uint8_t> mbr(block_size, 0);
  uint8_t* record = &mbr[446];
  record[1] = 0x00;
  record[2] = 0x02;  // CHS 0/0/2, i.e. LBA 1.
  record[4] = 0xee;
  record[5] = record[6] = record[7] = 0xff;
  const uint32_t starting_lba = 1;
  const uint32_t size_in_lba =
      block_count - 1 > 0xffffffffull ? 0xffffffffu : static_cast<uint32_t>(block_count - 1);
  std::memcpy(record + 8, &starting_lba, 4);
  std::memcpy(record + 12, &size_in_lba, 4);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  HL_TRY(disk.write(0, mbr.data(), mbr.size()));

  std::vector<uint8_t> array(blocks * block_size, 0);
  for (const GptPartition& p : layout.partitions) {
    if (p.index >= layout.entry_count) {
      return Error::make("partition index {} is past the {} entries", p.index, layout.entry_count);
    }
    GptEntry entry = {p.type, p.unique, p.first_lba, p.last_lba, p.attributes, {}};
    std::memcpy(entry.name, p.name, sizeof entry.name);
    std::memcpy(&array[size_t{p.index} * layout.entry_size], &entry, sizeof entry);
  }

  GptHeader primary = {};
  primary.signature = kGptSignature;
  primary.revision = kGptRevision;
  primary.header_size = kGptHeaderSize;
  primary.my_lba = 1;
  primary.alternate_lba = block_count - 1;
  primary.first_usable_lba = usable.first_lba;
  primary.last_usable_lba = usable.last_lba;
  primary.disk_guid = layout.disk_guid;
  primary.partition_entry_lba = 2;
  primary.number_of_partition_entries = layout.entry_count;
  primary.size_of_partition_entry = layout.entry_size;
  primary.partition_entry_array_crc32 =
      crc32(array.data(), size_t{layout.entry_count} * layout.entry_size);
  GptHeader backup = primary;
  backup.my_lba = primary.alternate_lba;
  backup.alternate_lba = primary.my_lba;
  backup.partition_entry_lba = usable.last_lba + 1;
  seal_gpt_header(&primary);
  seal_gpt_header(&backup);

  std::vector<uint8_t> block(block_size, 0);
  std::memcpy(block.data(), &primary, kGptHeaderSize);
  HL_TRY(disk.write(1ull * block_size, block.data(), block.size()));
  HL_TRY(disk.write(2ull * block_size, array.data(), array.size()));
  HL_TRY(disk.write(backup.partition_entry_lba * block_size, array.data(), array.size()));
  std::memcpy(block.data(), &backup, kGptHeaderSize);
  HL_TRY(disk.write(backup.my_lba * block_size, block.data(), block.size()));
  return disk.flush();
}

Status set_gpt_partition_type(Storage& disk, Allocator& allocator, uint32_t index,
                              const Guid& type) {
  auto primary = read_gpt_copy(disk, allocator, GptCopy::kPrimary);
  if (!primary) return primary.error();
  auto backup = read_gpt_copy(disk, allocator, GptCopy::kBackup);
  if (!backup) return backup.error();
  GptPartition in_primary;
  GptPartition in_backup;
  if (!primary->entry(index, &in_primary) || !backup->entry(index, &in_backup)) {
    return Error::make("GPT entry {} (partition {}) is unused", index, index + 1);
  }
  if (!(in_primary.unique == in_backup.unique) || in_primary.first_lba != in_backup.first_lba ||
      in_primary.last_lba != in_backup.last_lba) {
    return Error::make(
        "the primary and backup GPT disagree on partition {}; repair the table "
        "(sgdisk -v) first",
        index + 1);
  }
  for (const GptDisk* copy : {&*backup, &*primary}) {
    const uint32_t entry_size = copy->header().size_of_partition_entry;
    HL_TRY(rewrite_copy(disk, copy->header(), [&](uint8_t* array) {
      std::memcpy(array + size_t{index} * entry_size + offsetof(GptEntry, type), &type,
                  sizeof type);
    }));
  }
  return ok_status();
}

}  // namespace hl
