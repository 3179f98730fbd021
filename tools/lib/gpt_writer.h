// Writing GUID Partition Tables (host only): a fresh table for tests and disk
// images, and the in-place type change `hiberload partition prepare` needs.
// Reading and validation are common/gpt.h's; everything written here is
// meant to be read back with it.
#pragma once

#include <stdint.h>

#include <vector>

#include "common/allocator.h"
#include "common/gpt.h"
#include "common/storage.h"

namespace hl {

struct GptLayout {
  Guid disk_guid = {};
  uint32_t entry_count = 128;  // The spec's minimum reserved 16 KiB at 128 bytes each.
  uint32_t entry_size = kGptMinEntrySize;
  // Each partition goes to the array slot given by its index.
  std::vector<GptPartition> partitions;
};

// The usable LBAs write_gpt() leaves for partitions on a disk of block_count
// blocks: everything between the two entry arrays.
struct GptUsableRange {
  uint64_t first_lba;
  uint64_t last_lba;
};
GptUsableRange gpt_usable_range(uint64_t block_count, uint32_t block_size, const GptLayout& layout);

// Writes a new GPT over the whole disk, in the layout of UEFI spec 5.3.1
// (Figure 5-3) that sgdisk and parted also use: a protective MBR at LBA 0, the
// primary header at LBA 1 and its entries from LBA 2, the backup entries just
// before the backup header at the last LBA. The partitions are not validated
// (tests write broken tables on purpose); read the result with read_gpt().
Status write_gpt(Storage& disk, const GptLayout& layout);

// Sets header->header_crc32 for a 92-byte header (header_size must be 92).
void seal_gpt_header(GptHeader* header);

// Changes the type GUID of the used entry `index` in both copies of the table
// and rewrites their CRCs. Both copies must be valid and agree on that entry.
// The backup is rewritten and flushed first: a crash at any point leaves at
// least one valid copy, old or new, for read_gpt() to use.
Status set_gpt_partition_type(Storage& disk, Allocator& allocator, uint32_t index,
                              const Guid& type);

}  // namespace hl
