// hl::Storage over a firmware Block I/O device (a whole disk).
//
// Block I/O transfers whole blocks into buffers aligned to Media->IoAlign.
// Reads and writes that are block-aligned into an aligned buffer go straight
// to the device (how raw image chunks land directly at their physical
// destination); anything else goes through one page-aligned bounce buffer
// (read-modify-write for partial blocks).
#pragma once

#include "common/storage.h"
#include "efi/firmware.h"

namespace hl::efi {

class BlockIoStorage final : public Storage {
 public:
  // Allocates the bounce buffer; fails if the media is absent or its block
  // size is not a power of two up to 4096.
  static Result<BlockIoStorage*> open(EFI_BLOCK_IO* io);
  ~BlockIoStorage();

  uint64_t size() const override { return size_; }
  uint32_t block_size() const override { return block_size_; }
  Status read(uint64_t offset, void* buffer, size_t length) override;
  Status write(uint64_t offset, const void* buffer, size_t length) override;
  Status flush() override;

 private:
  static constexpr size_t kBouncePages = 16;  // 64 KiB

  BlockIoStorage(EFI_BLOCK_IO* io, uint8_t* bounce)
      : io_(io), media_id_(io->Media->MediaId), block_size_(io->Media->BlockSize),
        size_((io->Media->LastBlock + 1) * io->Media->BlockSize), bounce_(bounce) {}
  bool direct_ok(uint64_t offset, size_t length, const void* buffer) const;

  // Splits [offset, offset + length) into bounce-buffer-sized spans of whole
  // blocks and calls f(block_start, span, skip, take) for each: the span's
  // first byte on disk, its length, and the part of it that belongs to the
  // request (skip bytes in, take bytes long).
  template <typename F>
  Status for_each_bounce_span(uint64_t offset, size_t length, F&& f) {
    const size_t bounce_bytes = kBouncePages * 4096;
    while (length > 0) {
      const uint64_t block_start = offset - offset % block_size_;
      const size_t skip = static_cast<size_t>(offset - block_start);
      size_t span = skip + length;
      span = span > bounce_bytes ? bounce_bytes : span;
      span = (span + block_size_ - 1) / block_size_ * block_size_;
      if (block_start + span > size_) span = static_cast<size_t>(size_ - block_start);
      size_t take = span - skip;
      take = take > length ? length : take;
      HL_TRY(f(block_start, span, skip, take));
      offset += take;
      length -= take;
    }
    return ok_status();
  }

  EFI_BLOCK_IO* io_;
  uint32_t media_id_;
  uint32_t block_size_;
  uint64_t size_;
  uint8_t* bounce_;
};

}  // namespace hl::efi
