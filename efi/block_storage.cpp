#include "efi/block_storage.h"

#include <new>
#include <string.h>

namespace hl::efi {

Result<BlockIoStorage*> BlockIoStorage::open(EFI_BLOCK_IO* io) {
  const EFI_BLOCK_IO_MEDIA* media = io->Media;
  if (!media->MediaPresent) return Error::make("no media in the drive");
  const uint32_t bs = media->BlockSize;
  if (bs < 512 || bs > 4096 || (bs & (bs - 1)) != 0) {
    return Error::make("unsupported block size {}", bs);
  }
  if (media->IoAlign > 4096) return Error::make("unsupported I/O alignment {}", media->IoAlign);
  EFI_PHYSICAL_ADDRESS bounce = 0;
  EFI_STATUS status = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, kBouncePages, &bounce);
  if (EFI_ERROR(status)) return firmware_error("allocating the disk bounce buffer", status);
  void* memory = nullptr;
  status = BS->AllocatePool(EfiLoaderData, sizeof(BlockIoStorage), &memory);
  if (EFI_ERROR(status)) {
    BS->FreePages(bounce, kBouncePages);
    return firmware_error("allocating the disk reader", status);
  }
  return new (memory) BlockIoStorage(io, reinterpret_cast<uint8_t*>(bounce));
}

BlockIoStorage::~BlockIoStorage() {
  BS->FreePages(reinterpret_cast<EFI_PHYSICAL_ADDRESS>(bounce_), kBouncePages);
}

bool BlockIoStorage::direct_ok(uint64_t offset, size_t length, const void* buffer) const {
  const uint32_t align = io_->Media->IoAlign;
  const bool buffer_aligned =
      align <= 1 || (reinterpret_cast<uintptr_t>(buffer) & (align - 1)) == 0;
  return offset % block_size_ == 0 && length % block_size_ == 0 && buffer_aligned;
}

Status BlockIoStorage::read(uint64_t offset, void* buffer, size_t length) {
  if (!range_inside(offset, length, size_)) {
    return Error::make("disk read of {} bytes at {x} is past the end of the disk", length, offset);
  }
  if (length == 0) return ok_status();
  if (direct_ok(offset, length, buffer)) {
    EFI_STATUS status = io_->ReadBlocks(io_, media_id_, offset / block_size_, length, buffer);
    if (EFI_ERROR(status)) return firmware_error("disk read", status);
    return ok_status();
  }
  auto* out = static_cast<uint8_t*>(buffer);
  return for_each_bounce_span(offset, length, [&](uint64_t block_start, size_t span, size_t skip,
                                                  size_t take) -> Status {
    EFI_STATUS status = io_->ReadBlocks(io_, media_id_, block_start / block_size_, span, bounce_);
    if (EFI_ERROR(status)) return firmware_error("disk read", status);
    memcpy(out, bounce_ + skip, take);
    out += take;
    return ok_status();
  });
}

Status BlockIoStorage::write(uint64_t offset, const void* buffer, size_t length) {
  if (!range_inside(offset, length, size_)) {
    return Error::make("disk write of {} bytes at {x} is past the end of the disk", length, offset);
  }
  if (io_->Media->ReadOnly) return Error::make("the disk is read-only");
  if (length == 0) return ok_status();
  if (direct_ok(offset, length, buffer)) {
    EFI_STATUS status = io_->WriteBlocks(io_, media_id_, offset / block_size_, length,
                                         const_cast<void*>(buffer));
    if (EFI_ERROR(status)) return firmware_error("disk write", status);
    return ok_status();
  }
  // Read-modify-write one bounce buffer at a time.
  const auto* in = static_cast<const uint8_t*>(buffer);
  return for_each_bounce_span(offset, length, [&](uint64_t block_start, size_t span, size_t skip,
                                                  size_t take) -> Status {
    EFI_STATUS status = io_->ReadBlocks(io_, media_id_, block_start / block_size_, span, bounce_);
    if (EFI_ERROR(status)) return firmware_error("disk read before write", status);
    memcpy(bounce_ + skip, in, take);
    status = io_->WriteBlocks(io_, media_id_, block_start / block_size_, span, bounce_);
    if (EFI_ERROR(status)) return firmware_error("disk write", status);
    in += take;
    return ok_status();
  });
}

Status BlockIoStorage::flush() {
  EFI_STATUS status = io_->FlushBlocks(io_);
  if (EFI_ERROR(status)) return firmware_error("disk flush", status);
  return ok_status();
}

}  // namespace hl::efi
