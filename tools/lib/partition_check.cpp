#include "tools/lib/partition_check.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <memory>

#include "common/gpt.h"
#include "common/guids.h"
#include "tools/lib/file_storage.h"
#include "tools/lib/heap_allocator.h"
#include "tools/lib/resume_inputs.h"

namespace hl {
namespace {

std::string trim_newline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Status check_hibernation_partition(const std::string& device) {
  struct stat st;
  if (stat(device.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) {
    return Error::make("{} is not a block device", device.c_str());
  }
  const std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" +
                          std::to_string(minor(st.st_rdev));
  auto number_text = read_text_file(sys + "/partition");
  if (!number_text) return Error::make("{} is not a partition (a whole disk?)", device.c_str());
  auto number = parse_sysfs_number(trim_newline(*number_text));
  auto start = read_text_file(sys + "/start");
  auto start_sector = start ? parse_sysfs_number(trim_newline(*start)) : Result<uint64_t>(start.error());
  if (!number || !start_sector) {
    return Error::make("cannot read the partition number and start of {} from {}", device.c_str(),
                       sys.c_str());
  }
  char parent[PATH_MAX];
  if (realpath((sys + "/..").c_str(), parent) == nullptr) {
    return Error::make("cannot find the disk of {}", device.c_str());
  }
  auto disk_dev = read_text_file(std::string(parent) + "/dev");
  if (!disk_dev) return disk_dev.error();
  // udev's /dev/block/MAJ:MIN, or the kernel's name where there is no udev.
  std::string disk_path = "/dev/block/" + trim_newline(*disk_dev);
  struct stat disk_st;
  if (stat(disk_path.c_str(), &disk_st) != 0) {
    const std::string parent_path = parent;
    disk_path = "/dev/" + parent_path.substr(parent_path.rfind('/') + 1);
  }

  auto opened = FileStorage::open(disk_path, FileStorage::Mode::kReadOnly);
  if (!opened) return opened.error().with_context("reading the partition table of {}", device.c_str());
  std::unique_ptr<FileStorage> disk(*opened);
  return check_gpt_entry_type(*disk, *number, *start_sector, device);
}

Status check_gpt_entry_type(Storage& disk, uint64_t number, uint64_t start_sector,
                            const std::string& device) {
  HeapAllocator allocator;
  auto gpt = read_gpt(disk, allocator);
  if (!gpt) return gpt.error().with_context("partition table of the disk of {}", device.c_str());
  GptPartition entry;
  if (number == 0 || number > UINT32_MAX || !gpt->entry(static_cast<uint32_t>(number - 1), &entry) ||
      entry.first_lba * gpt->block_size() != start_sector * 512) {
    return Error::make("{}: no GPT entry {} starting at sector {} (not a GPT partition?)",
                       device.c_str(), number, start_sector);
  }
  if (!(entry.type == kHibernationPartitionType)) {
    char found[37], wanted[37];
    guid_to_string(entry.type, found);
    guid_to_string(kHibernationPartitionType, wanted);
    return Error::make("{} has partition type {}, not the hibernation type {} (use --force to "
                       "write anyway)",
                       device.c_str(), found, wanted);
  }
  return ok_status();
}

}  // namespace hl

#include <dirent.h>

namespace hl {

Result<std::string> find_partition_by_partuuid(const std::string& partuuid) {
  Guid wanted;
  if (!guid_from_string(partuuid.c_str(), &wanted)) {
    return Error::make("'{}' is not a partition GUID", partuuid.c_str());
  }
  DIR* dir = opendir("/sys/class/block");
  if (dir == nullptr) return Error::make("cannot list /sys/class/block (is sysfs mounted?)");
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') names.push_back(entry->d_name);
  }
  closedir(dir);
  for (const std::string& disk : names) {
    struct stat st;
    if (stat(("/sys/class/block/" + disk + "/partition").c_str(), &st) == 0) continue;
    auto storage = FileStorage::open("/dev/" + disk, FileStorage::Mode::kReadOnly);
    if (!storage) continue;
    std::unique_ptr<FileStorage> device(*storage);
    HeapAllocator allocator;
    auto gpt = read_gpt(*device, allocator);
    if (!gpt) continue;
    auto found = find_partition_by_unique_guid(*gpt, wanted);
    if (!found) continue;
    const std::string number = std::to_string(found->index + 1);
    for (const std::string& child : names) {
      auto text = read_text_file("/sys/class/block/" + disk + "/" + child + "/partition");
      if (text && trim_newline(*text) == number) return "/dev/" + child;
    }
    return Error::make("partition {} of /dev/{} has PARTUUID {} but no device node", number.c_str(),
                       disk.c_str(), partuuid.c_str());
  }
  return Error::make("no disk has a partition with PARTUUID {}", partuuid.c_str());
}

}  // namespace hl
