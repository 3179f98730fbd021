// The placement plan: where each byte of a hibernation image goes while the
// firmware still runs, and what is left for the final stage.
//
// Almost all of RAM is a destination, including memory that the firmware and
// hiberload occupy until ExitBootServices. Following XNU's restore (see
// docs/restore.md): destinations that are free now are allocated at their
// address and written in place ("direct"); destinations that are busy now are
// written to staging memory in the scratch ranges (RAM the image does not
// cover) and copied into place by the final stage after the last firmware
// call ("deferred"). The final stage, its page tables, stack and copy list,
// and hiberload's work buffers also live in scratch. A destination that is
// not RAM now (runtime services, ACPI, MMIO, reserved, a hole) means the
// machine changed since hibernation: no plan.
//
// plan_placement() is pure: it reads the image's destinations and scratch
// ranges and a snapshot of the memory map, and fills caller-owned arrays.
// Properties the host tests check on generated inputs:
//   - every destination byte is either direct or deferred, exactly once;
//   - deferred = exactly the destination bytes that are busy now;
//   - staging, final stage and work area lie in scratch ∩ free-now, and
//     overlap neither each other nor any destination;
//   - nothing is planned outside the image's destinations and scratch.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/error.h"
#include "common/memory_map.h"
#include "common/span.h"

namespace hl {

inline constexpr uint64_t kPlacementPageSize = 4096;

// DeferredCopy::staging of a deferred range nobody stages (stage_deferred
// false).
inline constexpr uint64_t kNotStaged = ~0ull;

// A deferred destination range and where its bytes wait until the final stage.
struct DeferredCopy {
  uint64_t destination = 0;
  uint64_t staging = 0;
  uint64_t size = 0;
};

struct PlacementInput {
  // The image's memory segments: sorted, non-overlapping, page-aligned.
  Span<const MemoryRange> destinations;
  // RAM the image does not cover (recorded at hibernation).
  Span<const MemoryRange> scratch;
  // The firmware's memory map now, normalized (normalize_memory_map).
  Span<const MemoryRegion> memory;
  // Bytes for the final stage (code, GDT, page tables, stack, copy list).
  uint64_t final_stage_bytes = 0;
  // Bytes for hiberload's own buffers while placing (chunk reads, inflate).
  uint64_t work_area_bytes = 0;
  // False when the deferred bytes are left to someone else (the fallback
  // kernel, which loads them with kexec after the firmware is gone): they
  // are listed but get no staging space.
  bool stage_deferred = true;
};

// Caller-owned output arrays; the plan's spans point into them.
struct PlacementBuffers {
  Span<MemoryRange> direct;
  Span<DeferredCopy> deferred;
  Span<MemoryRange> staging;  // The scratch pieces holding deferred data.
};

struct PlacementPlan {
  Span<const MemoryRange> direct;     // Sorted; allocate at address, write in place.
  Span<const DeferredCopy> deferred;  // Sorted by destination.
  Span<const MemoryRange> staging;    // Allocate at address; holds deferred data.
  MemoryRange final_stage;            // Page-aligned, in scratch, free now.
  MemoryRange work_area;              // Page-aligned, in scratch, free now.
  uint64_t direct_bytes = 0;
  uint64_t deferred_bytes = 0;
  uint64_t scratch_free_bytes = 0;    // Scratch that is free now, in total.

  // Where the bytes for destination address `address` are to be written
  // now: the address itself (direct) or its staging address (deferred).
  // *contiguous is set to how many bytes from there map contiguously.
  // Returns false if the address is not a destination. A deferred address
  // without staging (stage_deferred = false) maps to kNotStaged.
  bool write_address(uint64_t address, uint64_t* out, uint64_t* contiguous) const;
};

Result<PlacementPlan> plan_placement(const PlacementInput& input, const PlacementBuffers& buffers);

}  // namespace hl
