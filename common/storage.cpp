#include "common/storage.h"

#include <string.h>

namespace hl {

Status MemoryStorage::read(uint64_t offset, void* buffer, size_t length) {
  if (!range_inside(offset, length, size_)) {
    return Error::make("read of {} bytes at {x} is outside the {}-byte storage", length,
                       offset, size_);
  }
  memcpy(buffer, data_ + offset, length);
  return ok_status();
}

Status MemoryStorage::write(uint64_t offset, const void* buffer, size_t length) {
  if (!writable_) return Error::make("storage is read-only");
  if (!range_inside(offset, length, size_)) {
    return Error::make("write of {} bytes at {x} is outside the {}-byte storage", length,
                       offset, size_);
  }
  memcpy(data_ + offset, buffer, length);
  return ok_status();
}

Status WindowStorage::read(uint64_t offset, void* buffer, size_t length) {
  if (!range_inside(offset, length, size_)) {
    return Error::make("read of {} bytes at {x} is outside the {}-byte partition", length, offset,
                       size_);
  }
  return base_.read(offset_ + offset, buffer, length);
}

Status WindowStorage::write(uint64_t offset, const void* buffer, size_t length) {
  if (!range_inside(offset, length, size_)) {
    return Error::make("write of {} bytes at {x} is outside the {}-byte partition", length, offset,
                       size_);
  }
  return base_.write(offset_ + offset, buffer, length);
}

}  // namespace hl
