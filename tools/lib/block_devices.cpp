#include "tools/lib/block_devices.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <memory>

#include "tools/lib/file_storage.h"
#include "tools/lib/heap_allocator.h"
#include "tools/lib/resume_inputs.h"

namespace hl {
namespace {

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string unescape_mount_field(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() + 0 && isdigit(field[i + 1]) &&
        isdigit(field[i + 2]) && isdigit(field[i + 3])) {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::vector<std::string> split_spaces(const std::string& line) {
  std::vector<std::string> fields;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && line[at] == ' ') ++at;
    size_t end = line.find(' ', at);
    if (end == std::string::npos) end = line.size();
    if (end > at) fields.push_back(line.substr(at, end - at));
    at = end;
  }
  return fields;
}

std::string guid_text(const Guid& guid) {
  char text[37];
  guid_to_string(guid, text);
  return text;
}

// The /dev path of a disk whose sysfs directory is `sys_disk`.
std::string disk_device_path(const std::string& sys_disk) {
  auto dev = read_text_file(sys_disk + "/dev");
  if (dev) {
    const std::string by_number = "/dev/block/" + trim(*dev);
    struct stat st;
    if (stat(by_number.c_str(), &st) == 0) {
      // Prefer the kernel's name when it exists: messages read better.
      const std::string named = "/dev/" + sys_disk.substr(sys_disk.rfind('/') + 1);
      if (stat(named.c_str(), &st) == 0) return named;
      return by_number;
    }
  }
  return "/dev/" + sys_disk.substr(sys_disk.rfind('/') + 1);
}

// The partition's /dev name: the child of /sys/block/DISK whose `partition`
// file holds `number`.
std::string partition_device_name(const std::string& disk_name, uint32_t number) {
  const std::string sys = "/sys/block/" + disk_name;
  DIR* dir = opendir(sys.c_str());
  if (dir == nullptr) return "";
  std::string found;
  while (const dirent* entry = readdir(dir)) {
    const std::string child = entry->d_name;
    if (child.compare(0, disk_name.size(), disk_name) != 0) continue;
    auto text = read_text_file(sys + "/" + child + "/partition");
    if (text && trim(*text) == std::to_string(number)) {
      found = "/dev/" + child;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> mounts;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::vector<std::string> f = split_spaces(text.substr(at, end - at));
    at = end + 1;
    // id parent MAJ:MIN root mount-point options [optional...] - type source super-options
    auto dash = std::find(f.begin(), f.end(), std::string("-"));
    if (f.size() < 6 || dash == f.end() || f.end() - dash < 3) continue;
    MountEntry m;
    if (sscanf(f[2].c_str(), "%u:%u", &m.major, &m.minor) != 2) continue;
    m.mount_point = unescape_mount_field(f[4]);
    const std::string& options = f[5];
    m.read_only = options == "ro" || options.compare(0, 3, "ro,") == 0;
    m.fs_type = dash[1];
    m.source = unescape_mount_field(dash[2]);
    mounts.push_back(m);
  }
  return mounts;
}

Result<PartitionInfo> partition_of_devnum(unsigned major_number, unsigned minor_number) {
  const std::string name = std::to_string(major_number) + ":" + std::to_string(minor_number);
  const std::string sys = "/sys/dev/block/" + name;
  auto number_text = read_text_file(sys + "/partition");
  if (!number_text) return Error::make("block device {} is not a partition", name.c_str());
  auto number = parse_sysfs_number(trim(*number_text));
  auto start_text = read_text_file(sys + "/start");
  if (!number || !start_text) {
    return Error::make("cannot read the partition number and start of {} from {}", name.c_str(),
                       sys.c_str());
  }
  auto start = parse_sysfs_number(trim(*start_text));
  if (!start) return start.error();
  char resolved[PATH_MAX], parent[PATH_MAX];
  if (realpath(sys.c_str(), resolved) == nullptr ||
      realpath((std::string(resolved) + "/..").c_str(), parent) == nullptr) {
    return Error::make("cannot find the disk of block device {}", name.c_str());
  }
  const std::string self_name = std::string(resolved).substr(std::string(resolved).rfind('/') + 1);
  const std::string disk = disk_device_path(parent);

  auto opened = FileStorage::open(disk, FileStorage::Mode::kReadOnly);
  if (!opened) return opened.error().with_context("reading the partition table of {}", disk.c_str());
  std::unique_ptr<FileStorage> storage(*opened);
  HeapAllocator allocator;
  auto gpt = read_gpt(*storage, allocator);
  if (!gpt) return gpt.error().with_context("partition table of {}", disk.c_str());
  PartitionInfo info;
  info.device = "/dev/" + self_name;
  info.disk = disk;
  info.number = static_cast<uint32_t>(*number);
  info.block_size = gpt->block_size();
  if (*number == 0 || *number > UINT32_MAX ||
      !gpt->entry(static_cast<uint32_t>(*number - 1), &info.entry) ||
      info.entry.first_lba * gpt->block_size() != *start * 512) {
    return Error::make("{}: no GPT entry {} starting at sector {} on {} (not a GPT partition?)",
                       info.device.c_str(), *number, *start, disk.c_str());
  }
  return info;
}

Result<PartitionInfo> partition_of_device(const std::string& device) {
  struct stat st;
  if (stat(device.c_str(), &st) != 0) {
    return Error::make("{}: {}", device.c_str(), strerror(errno));
  }
  if (!S_ISBLK(st.st_mode)) return Error::make("{} is not a block device", device.c_str());
  auto info = partition_of_devnum(major(st.st_rdev), minor(st.st_rdev));
  if (!info) return info;
  PartitionInfo copy = *info;
  copy.device = device;
  return copy;
}

Result<std::vector<PartitionInfo>> gpt_partitions_of_disk(const std::string& disk) {
  auto opened = FileStorage::open(disk, FileStorage::Mode::kReadOnly);
  if (!opened) return opened.error();
  std::unique_ptr<FileStorage> storage(*opened);
  HeapAllocator allocator;
  auto gpt = read_gpt(*storage, allocator);
  if (!gpt) return gpt.error().with_context("partition table of {}", disk.c_str());
  const std::string disk_name = disk.compare(0, 5, "/dev/") == 0 ? disk.substr(5) : "";
  std::vector<PartitionInfo> partitions;
  for (const GptPartition& entry : gpt->partitions()) {
    PartitionInfo info;
    info.disk = disk;
    info.number = entry.index + 1;
    info.block_size = gpt->block_size();
    info.entry = entry;
    if (storage->is_block_device() && !disk_name.empty()) {
      info.device = partition_device_name(disk_name, info.number);
    }
    partitions.push_back(info);
  }
  return partitions;
}

std::vector<std::string> list_disks() {
  std::vector<std::string> disks;
  DIR* dir = opendir("/sys/block");
  if (dir == nullptr) return disks;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name[0] == '.' || name.compare(0, 4, "loop") == 0 || name.compare(0, 3, "ram") == 0 ||
        name.compare(0, 4, "zram") == 0 || name.compare(0, 2, "sr") == 0) {
      continue;
    }
    disks.push_back(disk_device_path("/sys/block/" + name));
  }
  closedir(dir);
  std::sort(disks.begin(), disks.end());
  return disks;
}

Result<Esp> find_esp(const std::string& path) {
  auto text = read_text_file("/proc/self/mountinfo");
  if (!text) return text.error().with_context("finding the ESP");
  const std::vector<MountEntry> mounts = parse_mountinfo(*text);

  auto check = [&](const MountEntry& m) -> Result<Esp> {
    if (m.fs_type != "vfat") {
      return Error::make("{} is a {} file system, not an EFI system partition (vfat)",
                         m.mount_point.c_str(), m.fs_type.c_str());
    }
    auto partition = partition_of_devnum(m.major, m.minor);
    if (!partition) return partition.error().with_context("{}", m.mount_point.c_str());
    if (!(partition->entry.type == kEspPartitionType)) {
      return Error::make("{} ({}) has partition type {}, not the EFI system partition's {}",
                         m.mount_point.c_str(), partition->device.c_str(),
                         guid_text(partition->entry.type).c_str(),
                         guid_text(kEspPartitionType).c_str());
    }
    if (m.read_only) {
      return Error::make("the ESP at {} is mounted read-only: mount -o remount,rw {}",
                         m.mount_point.c_str(), m.mount_point.c_str());
    }
    return Esp{m.mount_point, *partition};
  };
  // The last mount at a point is the visible one.
  auto mount_at = [&](const std::string& point) -> const MountEntry* {
    const MountEntry* found = nullptr;
    for (const MountEntry& m : mounts) {
      if (m.mount_point == point) found = &m;
    }
    return found;
  };

  if (!path.empty()) {
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) == nullptr) {
      return Error::make("--esp {}: {}", path.c_str(), strerror(errno));
    }
    const MountEntry* m = mount_at(resolved);
    if (m == nullptr) {
      return Error::make("--esp {}: not a mount point (mount the EFI system partition there)",
                         path.c_str());
    }
    return check(*m);
  }
  for (const char* point : {"/efi", "/boot", "/boot/efi"}) {
    const MountEntry* m = mount_at(point);
    if (m != nullptr && m->fs_type == "vfat") return check(*m);
  }
  for (const MountEntry& m : mounts) {
    if (m.fs_type != "vfat") continue;
    auto esp = check(m);
    if (esp) return esp;
  }
  return Error::make("no EFI system partition is mounted (looked at /efi, /boot, /boot/efi and "
                     "every vfat mount): mount it, or give --esp PATH");
}

std::string detect_filesystem(const uint8_t* b, size_t n) {
  auto at = [&](size_t offset, const char* magic, size_t length) {
    return offset + length <= n && memcmp(b + offset, magic, length) == 0;
  };
  if (at(0, "HLCOMMIT", 8)) return "";  // A hiberload image: not a file system.
  if (at(0x438, "\x53\xef", 2)) return "ext2/3/4";
  if (at(0, "XFSB", 4)) return "xfs";
  if (at(0x10040, "_BHRfS_M", 8)) return "btrfs";
  if (at(0, "LUKS\xba\xbe", 6)) return "LUKS";
  if (at(0x200, "LABELONE", 8)) return "LVM2 physical volume";
  if (at(0x400, "\x10\x20\xf5\xf2", 4)) return "f2fs";
  if (at(0, "hsqs", 4)) return "squashfs";
  if (at(0x8001, "CD001", 5)) return "iso9660";
  for (size_t page : {4096u, 8192u, 16384u, 65536u}) {
    if (at(page - 10, "SWAPSPACE2", 10) || at(page - 10, "SWAP-SPACE", 10)) return "swap";
  }
  if (at(3, "NTFS    ", 8)) return "ntfs";
  if (at(0x1fe, "\x55\xaa", 2) && (at(0x36, "FAT1", 4) || at(0x52, "FAT32", 5))) return "vfat";
  if (at(3, "EXFAT   ", 8)) return "exfat";
  return "";
}

}  // namespace hl
