// Memory for common/ code comes only from an Allocator the caller passes in,
// so the firmware decides where every byte lives (a boot-services pool before
// placement, a scratch arena during it) and host tests can count allocations.
#pragma once

#include <stddef.h>

namespace hl {

class Allocator {
 public:
  // Returns nullptr when out of memory. Memory is not zeroed.
  virtual void* allocate(size_t size) = 0;
  virtual void release(void* pointer) = 0;

 protected:
  ~Allocator() = default;
};

}  // namespace hl
