// hl::Storage over a regular file or a block device (host tools and tests).
#pragma once

#include <string>

#include "common/storage.h"

namespace hl {

class FileStorage final : public Storage {
 public:
  enum class Mode { kReadOnly, kReadWrite };

  // Opens path; for a block device the size and logical block size come from
  // the kernel (BLKGETSIZE64, BLKSSZGET), for a file from its length.
  static Result<FileStorage*> open(const std::string& path, Mode mode);
  ~FileStorage();
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  uint64_t size() const override { return size_; }
  uint32_t block_size() const override { return block_size_; }
  Status read(uint64_t offset, void* buffer, size_t length) override;
  Status write(uint64_t offset, const void* buffer, size_t length) override;
  Status flush() override;

  const std::string& path() const { return path_; }
  bool is_block_device() const { return is_block_device_; }
  int fd() const { return fd_; }

 private:
  FileStorage(std::string path, int fd, uint64_t size, uint32_t block_size, bool block_device,
              bool writable)
      : path_(std::move(path)), fd_(fd), size_(size), block_size_(block_size),
        is_block_device_(block_device), writable_(writable) {}

  std::string path_;
  int fd_;
  uint64_t size_;
  uint32_t block_size_;
  bool is_block_device_;
  bool writable_;
};

}  // namespace hl
