#include "tools/lib/file_storage.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hl {

Result<FileStorage*> FileStorage::open(const std::string& path, Mode mode) {
  const bool writable = mode == Mode::kReadWrite;
  const int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Error::make("cannot open {}: {}", path.c_str(), std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int saved = errno;
    ::close(fd);
    return Error::make("cannot stat {}: {}", path.c_str(), std::strerror(saved));
  }
  uint64_t size = 0;
  uint32_t block_size = 512;
  const bool block_device = S_ISBLK(st.st_mode);
  if (block_device) {
    int logical = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0 || ioctl(fd, BLKSSZGET, &logical) != 0) {
      const int saved = errno;
      ::close(fd);
      return Error::make("cannot query block device {}: {}", path.c_str(), std::strerror(saved));
    }
    block_size = static_cast<uint32_t>(logical);
  } else if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
  } else {
    ::close(fd);
    return Error::make("{} is neither a regular file nor a block device", path.c_str());
  }
  return new FileStorage(path, fd, size, block_size, block_device, writable);
}

FileStorage::~FileStorage() { ::close(fd_); }

Status FileStorage::read(uint64_t offset, void* buffer, size_t length) {
  if (!range_inside(offset, length, size_)) {
    return Error::make("read of {} bytes at {x} is past the end of {} ({} bytes)", length,
                       offset, path_.c_str(), size_);
  }
  auto* out = static_cast<uint8_t*>(buffer);
  while (length > 0) {
    const ssize_t n = pread(fd_, out, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::make("read error on {} at {x}: {}", path_.c_str(), offset, std::strerror(errno));
    if (n == 0) return Error::make("unexpected end of {} at {x}", path_.c_str(), offset);
    out += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  return ok_status();
}

Status FileStorage::write(uint64_t offset, const void* buffer, size_t length) {
  if (!writable_) return Error::make("{} is open read-only", path_.c_str());
  if (!range_inside(offset, length, size_)) {
    return Error::make("write of {} bytes at {x} is past the end of {} ({} bytes)", length,
                       offset, path_.c_str(), size_);
  }
  const auto* in = static_cast<const uint8_t*>(buffer);
  while (length > 0) {
    const ssize_t n = pwrite(fd_, in, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::make("write error on {} at {x}: {}", path_.c_str(), offset, std::strerror(errno));
    in += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  return ok_status();
}

Status FileStorage::flush() {
  if (fsync(fd_) != 0) return Error::make("fsync of {} failed: {}", path_.c_str(), std::strerror(errno));
  return ok_status();
}

}  // namespace hl
