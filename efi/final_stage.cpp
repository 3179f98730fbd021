#include "efi/final_stage.h"

#include <stddef.h>
#include <string.h>

#include "common/identity_map.h"
#include "efi/firmware.h"

extern "C" const uint8_t hl_final_stage_begin[];
extern "C" const uint8_t hl_final_stage_end[];

namespace hl::efi {
namespace {

// Must match the ARG_* offsets in final_stage_code.S.
struct FinalStageArgs {
  uint64_t cr3;
  uint64_t stack_top;
  uint64_t entry;
  uint64_t copy_count;
  uint64_t copies;
  uint64_t gdt_descriptor;
  uint64_t set_nxe;
  uint8_t idt_descriptor[10];  // limit 0, base 0
};
static_assert(offsetof(FinalStageArgs, cr3) == 0);
static_assert(offsetof(FinalStageArgs, stack_top) == 8);
static_assert(offsetof(FinalStageArgs, entry) == 16);
static_assert(offsetof(FinalStageArgs, copy_count) == 24);
static_assert(offsetof(FinalStageArgs, copies) == 32);
static_assert(offsetof(FinalStageArgs, gdt_descriptor) == 40);
static_assert(offsetof(FinalStageArgs, set_nxe) == 48);
static_assert(offsetof(FinalStageArgs, idt_descriptor) == 56);
// The copy list is the planner's DeferredCopy array as is.
static_assert(sizeof(DeferredCopy) == 24 && offsetof(DeferredCopy, destination) == 0 &&
              offsetof(DeferredCopy, staging) == 8 && offsetof(DeferredCopy, size) == 16);

// Layout of the area, in bytes from its start.
constexpr uint64_t kPage = 4096;
constexpr uint64_t kCodeOffset = 0;
constexpr uint64_t kArgsOffset = kPage;
constexpr uint64_t kGdtOffset = kArgsOffset + 256;
constexpr uint64_t kGdtDescriptorOffset = kArgsOffset + 512;
constexpr uint64_t kStackOffset = 2 * kPage;
constexpr uint64_t kStackBytes = 4 * kPage;
constexpr uint64_t kCopyListOffset = kStackOffset + kStackBytes;

uint64_t copy_list_bytes(size_t max_copies) {
  return (max_copies * sizeof(DeferredCopy) + kPage - 1) / kPage * kPage;
}

// The hibernated kernel's selectors: flat 64-bit code at 0x10 (__KERNEL_CS)
// and data at 0x18 (__KERNEL_DS); see final_stage_code.S for why they must
// match Linux's.
constexpr uint64_t kGdt[] = {0, 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull};

bool cpu_has_nx() {
  uint32_t eax = 0x80000000u, ebx, ecx, edx;
  __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
  if (eax < 0x80000001u) return false;
  eax = 0x80000001u;
  __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
  return (edx & (1u << 20)) != 0;
}

}  // namespace

uint64_t FinalStage::bytes_needed(uint64_t top, size_t max_copies) {
  return kCopyListOffset + copy_list_bytes(max_copies) + identity_map_bytes(top);
}

Result<FinalStage> FinalStage::prepare(MemoryRange area, uint64_t top,
                                       Span<const DeferredCopy> copies, uint64_t entry) {
  const size_t code_bytes = static_cast<size_t>(hl_final_stage_end - hl_final_stage_begin);
  static_assert(kArgsOffset - kCodeOffset >= 256);
  if (code_bytes > kArgsOffset - kCodeOffset) return Error::make("final stage code too large");
  if (area.size < bytes_needed(top, copies.size())) {
    return Error::make("final stage area of {} bytes is too small", area.size);
  }
  if (area.base % kPage != 0) return Error::make("final stage area is not page-aligned");

  uint8_t* base = reinterpret_cast<uint8_t*>(area.base);
  memset(base, 0, kCopyListOffset);
  memcpy(base + kCodeOffset, hl_final_stage_begin, code_bytes);
  memcpy(base + kGdtOffset, kGdt, sizeof kGdt);
  // lgdt operand: 16-bit limit, 64-bit base.
  const uint16_t gdt_limit = sizeof kGdt - 1;
  const uint64_t gdt_base = area.base + kGdtOffset;
  memcpy(base + kGdtDescriptorOffset, &gdt_limit, 2);
  memcpy(base + kGdtDescriptorOffset + 2, &gdt_base, 8);

  const uint64_t copy_list = area.base + kCopyListOffset;
  memcpy(reinterpret_cast<void*>(copy_list), copies.data(), copies.size() * sizeof(DeferredCopy));

  const uint64_t tables = copy_list + copy_list_bytes(copies.size());
  auto cr3 = build_identity_map(reinterpret_cast<void*>(tables), tables, top);
  if (!cr3) return cr3.error();

  auto* args = reinterpret_cast<FinalStageArgs*>(base + kArgsOffset);
  args->cr3 = *cr3;
  // The System V ABI wants %rsp + 8 16-byte aligned at a call; the entry
  // pushes nothing before reading 0(%rsp), so any 16-byte top is fine.
  args->stack_top = area.base + kStackOffset + kStackBytes;
  args->entry = entry;
  args->copy_count = copies.size();
  args->copies = copy_list;
  args->gdt_descriptor = area.base + kGdtDescriptorOffset;
  args->set_nxe = cpu_has_nx() ? 1 : 0;
  return FinalStage(area.base + kCodeOffset, area.base + kArgsOffset);
}

void FinalStage::run() const {
  using Entry = void (*)(const void*);
  reinterpret_cast<Entry>(code_)(reinterpret_cast<const void*>(args_));
  __builtin_unreachable();
}

}  // namespace hl::efi
