// Step 2a: find the hibernation partition.
//
// Every whole-disk Block I/O device is read through the common GPT parser;
// the partition is the one whose unique GUID the configuration names, or
// else the first one of hiberload's partition type. Reading through the
// whole disk (rather than the firmware's partition handles) keeps the
// partition-table logic in common/, where it is tested and fuzzed.
#pragma once

#include "common/allocator.h"
#include "common/config.h"
#include "common/gpt.h"
#include "common/storage.h"
#include "efi/block_storage.h"

namespace hl::efi {

struct HibernationPartition {
  BlockIoStorage* disk = nullptr;  // Owned; lives until the boot ends.
  uint64_t offset = 0;             // Bytes from the start of the disk.
  uint64_t size = 0;
  Guid unique = {};
  uint32_t number = 0;             // 1-based, as Linux numbers partitions.
};

Result<HibernationPartition> locate_hibernation_partition(const Config& config,
                                                          Allocator& allocator);

}  // namespace hl::efi
