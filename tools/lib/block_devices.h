// Partitions as Linux sees them, with their GPT entries.
//
// sysfs gives a partition's disk, number and start (/sys/dev/block/MAJ:MIN:
// partition, start, size, and .. for the disk); the GPT entry (type and
// unique GUID) comes from reading the disk's table with common/gpt.h, so no
// udev or blkid is needed (the tools also run in a bare initramfs). The ESP
// is found through /proc/self/mountinfo like bootctl does: /efi, /boot,
// /boot/efi, then any other vfat mount, each checked for the ESP type GUID.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/gpt.h"
#include "common/guids.h"

namespace hl {

// c12a7328-f81f-11d2-ba4b-00a0c93ec93b
inline constexpr Guid kEspPartitionType = {
    0xc12a7328, 0xf81f, 0x11d2, {0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b}};

struct PartitionInfo {
  std::string device;     // /dev/vda2 ("" when Linux has no device for it)
  std::string disk;       // /dev/vda, or a disk image file
  uint32_t number = 0;    // 1-based
  uint32_t block_size = 512;
  GptPartition entry = {};  // Type, unique GUID, first/last LBA (in block_size units).
  uint64_t size_bytes() const { return entry.block_count() * block_size; }
  uint64_t offset_bytes() const { return entry.first_lba * block_size; }
};

// One line of /proc/self/mountinfo, the fields this tool needs.
struct MountEntry {
  unsigned major = 0, minor = 0;
  std::string mount_point;  // Octal escapes (\040) decoded.
  std::string fs_type;
  std::string source;
  bool read_only = false;
};
std::vector<MountEntry> parse_mountinfo(const std::string& text);

// The GPT partition behind a block device (a path like /dev/vda2) or a
// device number. The GPT entry must start where the kernel says.
Result<PartitionInfo> partition_of_device(const std::string& device);
Result<PartitionInfo> partition_of_devnum(unsigned major, unsigned minor);

// Every used GPT entry of one disk (a block device or an image file).
Result<std::vector<PartitionInfo>> gpt_partitions_of_disk(const std::string& disk);

// Every whole disk in /sys/block with a GPT (loop, ram and zram devices
// skipped), as /dev paths.
std::vector<std::string> list_disks();

struct Esp {
  std::string mount_point;
  PartitionInfo partition;
};

// `path` given: it must be the mount point of a vfat file system on a
// partition of type kEspPartitionType. Without `path`: the first ESP mounted
// at /efi, /boot, /boot/efi, or else any other vfat mount point.
Result<Esp> find_esp(const std::string& path);

// Does the device hold a file system or other known content? Returns its
// name ("ext4", "vfat", "swap", "LUKS", ...) or "" for none recognised.
std::string detect_filesystem(const uint8_t* first_bytes, size_t length);
inline constexpr size_t kFilesystemProbeBytes = 128 * 1024;

}  // namespace hl
