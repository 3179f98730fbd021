// hl::Allocator over the boot-services pool (EfiLoaderData). Used before
// placement starts; memory it hands out counts as busy for the placement plan.
#pragma once

#include "common/allocator.h"
#include "efi/firmware.h"

namespace hl::efi {

class PoolAllocator final : public Allocator {
 public:
  void* allocate(size_t size) override {
    void* p = nullptr;
    if (EFI_ERROR(BS->AllocatePool(EfiLoaderData, size ? size : 1, &p))) return nullptr;
    return p;
  }
  void release(void* pointer) override {
    if (pointer != nullptr) BS->FreePool(pointer);
  }
};

}  // namespace hl::efi
