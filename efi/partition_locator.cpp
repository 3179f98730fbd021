#include "efi/partition_locator.h"

#include "efi/console.h"

namespace hl::efi {

Result<HibernationPartition> locate_hibernation_partition(const Config& config,
                                                          Allocator& allocator) {
  UINTN handle_count = 0;
  EFI_HANDLE* handles = nullptr;
  EFI_STATUS status =
      BS->LocateHandleBuffer(ByProtocol, &BlockIoProtocol, nullptr, &handle_count, &handles);
  if (EFI_ERROR(status)) return firmware_error("listing block devices", status);

  char wanted[37] = "";
  if (config.has_partition) guid_to_string(config.partition, wanted);
  unsigned disks_with_gpt = 0;
  bool found_one = false;
  HibernationPartition partition;

  for (UINTN i = 0; i < handle_count; ++i) {
    EFI_BLOCK_IO* io = nullptr;
    if (EFI_ERROR(BS->HandleProtocol(handles[i], &BlockIoProtocol, reinterpret_cast<void**>(&io)))) continue;
    if (io->Media->LogicalPartition || !io->Media->MediaPresent) continue;
    auto disk = BlockIoStorage::open(io);
    if (!disk) continue;
    auto gpt = read_gpt(**disk, allocator);
    if (!gpt) {
      (*disk)->~BlockIoStorage();
      BS->FreePool(*disk);
      continue;
    }
    ++disks_with_gpt;
    for (size_t w = 0; w < gpt->warning_count(); ++w) say("disk {}: {}", i, gpt->warning(w));
    auto found = config.has_partition ? find_partition_by_unique_guid(*gpt, config.partition)
                                      : find_first_partition_by_type(*gpt, kHibernationPartitionType);
    if (found && config.has_partition && !(found->type == kHibernationPartitionType)) {
      say("partition {} has the configured PARTUUID but not hiberload's type GUID; using it anyway",
          found->index + 1);
    }
    if (found) {
      partition.disk = *disk;
      partition.offset = found->first_lba * gpt->block_size();
      partition.size = found->block_count() * gpt->block_size();
      partition.unique = found->unique;
      partition.number = found->index + 1;
      found_one = true;
      break;
    }
    (*disk)->~BlockIoStorage();
    BS->FreePool(*disk);
  }
  BS->FreePool(handles);
  if (found_one) return partition;
  if (disks_with_gpt == 0) return Error::make("no disk with a GPT partition table");
  if (config.has_partition) {
    return Error::make("no partition with PARTUUID {} on {} disks with a GPT", wanted, disks_with_gpt);
  }
  return Error::make("no partition of hiberload's type (182aad0a-d5e4-4b60-b136-a6c091f30d90) on {} disks with a GPT",
                     disks_with_gpt);
}

}  // namespace hl::efi
