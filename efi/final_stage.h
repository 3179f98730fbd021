// Preparing and running the final stage (efi/final_stage_code.S).
//
// prepare() runs while boot services are still up: it copies the code into
// its scratch area and writes its arguments, GDT, stack, copy list and page
// tables there. run() is the last call hiberload makes, after
// ExitBootServices and SetVirtualAddressMap.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/placement.h"
#include "common/span.h"

namespace hl::efi {

class FinalStage {
 public:
  // Bytes of scratch the final stage needs to map [0, top) and to hold up
  // to max_copies deferred copies.
  static uint64_t bytes_needed(uint64_t top, size_t max_copies);

  // area: page-aligned, allocated, identity-mapped, bytes_needed() long.
  static Result<FinalStage> prepare(MemoryRange area, uint64_t top,
                                    Span<const DeferredCopy> copies, uint64_t entry);

  // Never returns. Boot services must be gone.
  [[noreturn]] void run() const;

 private:
  FinalStage(uint64_t code, uint64_t args) : code_(code), args_(args) {}
  uint64_t code_;
  uint64_t args_;
};

}  // namespace hl::efi
