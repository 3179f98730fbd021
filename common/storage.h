// The one way common/ reaches bytes on a disk.
//
// An image is read and updated through this interface so the same format code
// runs against a file or a partition in the host tools (tools/file_storage),
// a memory buffer in the host tests, and Block I/O in the firmware
// (efi/block_storage). Offsets are bytes from the start of the storage (for a
// partition: from the partition's first byte). Implementations must refuse,
// with an Error, any access that is not fully inside [0, size()).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

namespace hl {

class Storage {
 public:
  // Size in bytes.
  virtual uint64_t size() const = 0;
  // The device's logical block size (512 for a file). Writes that must be
  // atomic (the image's commit and consume records) are one block long.
  virtual uint32_t block_size() const = 0;
  virtual Status read(uint64_t offset, void* buffer, size_t length) = 0;
  virtual Status write(uint64_t offset, const void* buffer, size_t length) = 0;
  // Makes every completed write durable (fsync, Block I/O FlushBlocks).
  virtual Status flush() = 0;

 protected:
  ~Storage() = default;
};

// True if [offset, offset + length) lies inside [0, size), without overflow.
constexpr bool range_inside(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

// Storage over a caller-owned memory buffer (host tests, fuzzers, and the
// firmware when an image has been read into memory).
class MemoryStorage final : public Storage {
 public:
  MemoryStorage(uint8_t* data, uint64_t size, bool writable = true)
      : data_(data), size_(size), writable_(writable) {}

  uint64_t size() const override { return size_; }
  uint32_t block_size() const override { return 512; }
  Status read(uint64_t offset, void* buffer, size_t length) override;
  Status write(uint64_t offset, const void* buffer, size_t length) override;
  Status flush() override { return ok_status(); }

 private:
  uint8_t* data_;
  uint64_t size_;
  bool writable_;
};

// A window [offset, offset + size) of another storage, e.g. one partition
// of a whole disk. Offsets are relative to the window's start.
class WindowStorage final : public Storage {
 public:
  // Precondition: range_inside(offset, size, base.size()).
  WindowStorage(Storage& base, uint64_t offset, uint64_t size)
      : base_(base), offset_(offset), size_(size) {}

  uint64_t size() const override { return size_; }
  uint32_t block_size() const override { return base_.block_size(); }
  Status read(uint64_t offset, void* buffer, size_t length) override;
  Status write(uint64_t offset, const void* buffer, size_t length) override;
  Status flush() override { return base_.flush(); }

 private:
  Storage& base_;
  uint64_t offset_;
  uint64_t size_;
};

}  // namespace hl
