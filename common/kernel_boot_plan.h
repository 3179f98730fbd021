// What the chain-loaded kernel may use, and the command line that tells it.
//
// hiberload boots the normal Linux kernel in one of two memory shapes
// (docs/kernel-loading.md has the reasoning and the measurements):
//
//   normal boot      the scratch region (and a 64 KiB window below 1 MiB for
//                    the hibernating kernel's real-mode trampoline) is kept
//                    out of the kernel's usable RAM with `memmap=SIZE$BASE`,
//                    and claimed from the firmware before StartImage so that
//                    the EFI stub puts nothing there;
//   fallback resume  the kernel may use only the RAM the image does not
//                    cover: `memmap=exactmap` plus one `memmap=SIZE@BASE` per
//                    range, with all free memory outside those ranges claimed
//                    from the firmware before StartImage so that the EFI stub
//                    and the decompressor place the kernel, its initrd and
//                    its boot data inside them.
//
// This file is the pure part: ranges in, ranges and text out. The firmware
// part (GetMemoryMap, AllocatePages, LoadOptions) is kernel-loader/.
//
//   hl::RangeList claim, reserve;
//   HL_TRY(hl::plan_normal_boot(config.scratch, map, &reserve, &claim));
//   hl::KernelCommandLine parts;
//   parts.user = config.cmdline;
//   parts.reserved = reserve.span();
//   HL_TRY(hl::build_kernel_command_line(parts, text, sizeof text));
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/error.h"
#include "common/guids.h"
#include "common/memory_map.h"
#include "common/span.h"

namespace hl {

// Linux's physical load address floor on x86_64 (LOAD_PHYSICAL_ADDR with
// the default CONFIG_PHYSICAL_START): the kernel never runs below it.
inline constexpr uint64_t kLinuxMinLoadAddress = 16ull << 20;
// Below this Linux looks for its real-mode trampoline (SMP start-up, reboot).
inline constexpr uint64_t kLowMemoryLimit = 1ull << 20;
// Low memory set aside for a kernel's trampoline: reserved in the normal
// kernel for the hibernating kernel (the proof of concept's 64K@64K), usable
// by the fallback kernel when the image leaves no low memory of its own.
inline constexpr MemoryRange kTrampolineWindow = {0x10000, 0x10000};
// The fallback kernel needs this much RAM above kLinuxMinLoadAddress at
// least (Debian's 6.1 kernel with a small initramfs boots in far less; a
// scratch region smaller than this is a configuration error).
inline constexpr uint64_t kMinFallbackMemory = 64ull << 20;
// x86's COMMAND_LINE_SIZE, the NUL included.
inline constexpr size_t kMaxKernelCommandLine = 2048;
// At most this many memmap= ranges on a command line: each costs ~25
// characters, and the decompressor's KASLR only avoids the first four
// memmap= ranges (arch/x86/boot/compressed/kaslr.c, MAX_MEMMAP_REGIONS).
inline constexpr size_t kMaxMemmapRanges = 32;

// Sorted, disjoint, fixed-capacity list of physical ranges. append() merges a
// range that touches the previous one.
class RangeList {
 public:
  static constexpr size_t kCapacity = 256;

  // Ranges must be appended in increasing order; a zero size is ignored.
  Status append(uint64_t base, uint64_t size);
  Status append(const MemoryRange& r) { return append(r.base, r.size); }
  void clear() { count_ = 0; }

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const MemoryRange& operator[](size_t i) const { return ranges_[i]; }
  Span<const MemoryRange> span() const { return Span<const MemoryRange>(ranges_, count_); }
  uint64_t total_bytes() const;
  // Bytes of the list inside [base, end).
  uint64_t bytes_within(uint64_t base, uint64_t end) const;
  // True when [base, base + size) lies entirely inside one range.
  bool contains(uint64_t base, uint64_t size) const;

 private:
  MemoryRange ranges_[kCapacity];
  size_t count_ = 0;
};

// Normal boot. `scratch` (config.scratch; size 0: nothing to do) plus
// kTrampolineWindow become `reserve` (for memmap=SIZE$BASE); their pieces
// that are free in `map` now become `claim` (allocate before StartImage).
// Fails if the scratch region holds no RAM at all (a mistyped address).
Status plan_normal_boot(const MemoryRange& scratch, Span<const MemoryRegion> map,
                        RangeList* reserve, RangeList* claim);

// Fallback resume. `image_scratch` (sorted, disjoint: the image's scratch
// ranges) intersected with what is RAM for the OS in `map` becomes `usable`
// (for memmap=exactmap memmap=SIZE@BASE); kTrampolineWindow is added when
// none of it lies below 1 MiB. usable ∩ [1 MiB, ∞) is `keep_free`: where the
// EFI stub may allocate; every free piece of `map` outside it becomes
// `claim`. Fails, saying why, when the ranges leave less than
// kMinFallbackMemory above the kernel's load floor or need more than
// kMaxMemmapRanges entries.
Status plan_fallback_boot(Span<const MemoryRange> image_scratch, Span<const MemoryRegion> map,
                          RangeList* usable, RangeList* keep_free, RangeList* claim);

// Free pieces of `map` outside `keep_free` (sorted, disjoint): what the
// fallback claims, and what a last sweep right before StartImage claims
// again when firmware freed memory in the meantime.
Status free_memory_outside(Span<const MemoryRegion> map, Span<const MemoryRange> keep_free,
                           RangeList* out);

// Free pieces of `map` inside `ranges`.
Status free_memory_inside(Span<const MemoryRegion> map, Span<const MemoryRange> ranges,
                          RangeList* out);

struct KernelCommandLine {
  const char* user = "";               // config.cmdline, first and unchanged
  Span<const MemoryRange> reserved;    // memmap=SIZE$BASE each
  Span<const MemoryRange> exact_ram;   // non-empty: memmap=exactmap, memmap=SIZE@BASE each
  const Guid* image_partition = nullptr;  // hiberload.image=PARTUUID=<uuid>
  const MemoryRange* scratch = nullptr;   // hiberload.scratch=BASE+SIZE
  // hiberload.low=BASE+SIZE: the reserved window below 1 MiB where the
  // hibernating kernel puts its real-mode trampoline.
  const MemoryRange* trampoline = nullptr;
  // hiberload.partition=<uuid>: where a hibernation of this system goes.
  const Guid* hibernation_partition = nullptr;
  // hiberload.remaining=BASE+SIZE,...: what a fallback kernel must still load
  // after hiberload placed the rest of the image.
  Span<const MemoryRange> remaining;
};

// Writes the kernel's command line: the user's text, then hiberload's
// parameters, separated by single spaces. Fails (nothing useful in out) if
// it does not fit in capacity or in kMaxKernelCommandLine.
Result<size_t> build_kernel_command_line(const KernelCommandLine& parts, char* out,
                                         size_t capacity);

// "256M", "64K", "4096": the largest exact binary unit memparse() accepts.
size_t format_memparse_size(char* out, size_t capacity, uint64_t bytes);

// True if the command line has the parameter `name` (as `name` or `name=...`).
bool command_line_has(const char* cmdline, const char* name);

}  // namespace hl
