// Is a block device a hiberload hibernation partition?
//
// Linux names the partition's disk in sysfs (/sys/dev/block/MAJ:MIN/.. is
// the disk, .../partition its number, .../start its first 512-byte sector);
// the type GUID comes from the disk's GPT, read and validated by
// common/gpt.h, and must be kHibernationPartitionType.
#pragma once

#include <string>

#include "common/error.h"
#include "common/storage.h"

namespace hl {

// OK if `device` is a partition whose GPT entry has the hibernation type;
// otherwise an error saying what it is instead.
Status check_hibernation_partition(const std::string& device);

// The part that reads the GPT: entry `number` (1-based, as Linux counts) of
// `disk` must start at 512-byte sector `start_sector` and have the
// hibernation type. `device` names the partition in messages.
Status check_gpt_entry_type(Storage& disk, uint64_t number, uint64_t start_sector,
                            const std::string& device);

}  // namespace hl

namespace hl {

// The device node (/dev/vda2, /dev/nvme0n1p3) of the partition whose unique
// GPT partition GUID is `partuuid`, found by reading the GPT of every disk
// in /sys/class/block (busybox and initramfs systems have no udev links).
Result<std::string> find_partition_by_partuuid(const std::string& partuuid);

}  // namespace hl
