// hl::Allocator over malloc/free, for the host tools and tests.
#pragma once

#include <cstdlib>

#include "common/allocator.h"

namespace hl {

class HeapAllocator final : public Allocator {
 public:
  void* allocate(size_t size) override { return std::malloc(size); }
  void release(void* pointer) override { std::free(pointer); }
};

}  // namespace hl
