// x86_64 4-level page tables that identity-map [0, top) with 2 MiB pages.
//
// The final stage loads these before it overwrites firmware memory (where
// the firmware's own page tables may live) and keeps them until it jumps to
// the hibernated kernel's kexec jump back entry, which needs its page and
// the stack identity-mapped (TECHNICAL-NOTES.md, "The jump back entry").
// Built by pure code into a caller-provided buffer whose physical address is
// known, so host tests can walk the result.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

namespace hl {

// Page-table entry bits (Intel SDM vol. 3A, 4.5).
inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteWritable = 1ull << 1;
inline constexpr uint64_t kPteLargePage = 1ull << 7;

inline constexpr uint64_t kGiB = 1ull << 30;
// Up to 512 GiB: one PDPT, one PD per GiB.
inline constexpr uint64_t kMaxIdentityMapTop = 512 * kGiB;

// Bytes of page tables needed to map [0, top) (top rounded up to 1 GiB).
uint64_t identity_map_bytes(uint64_t top);

// Builds the tables in `buffer` (4 KiB-aligned, identity_map_bytes(top)
// long), which the CPU will see at physical address `physical`. Returns the
// value for CR3 (the PML4's physical address).
Result<uint64_t> build_identity_map(void* buffer, uint64_t physical, uint64_t top);

}  // namespace hl
