#include "common/kernel_boot_plan.h"

#include <string.h>

namespace hl {
namespace {

uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

bool is_ram_for_os(MemoryKind kind) { return kind != MemoryKind::kNotRam; }

// Appends the pieces of [base, base + size) that `map` has as RAM for the OS
// (free now, or busy only until ExitBootServices).
Status append_ram_pieces(Span<const MemoryRegion> map, uint64_t base, uint64_t size,
                         RangeList* out) {
  Status status;
  for_each_piece(map, base, size, [&](uint64_t b, uint64_t s, MemoryKind kind, uint32_t) {
    if (status && is_ram_for_os(kind)) status = out->append(b, s);
  });
  return status;
}

Status append_free_pieces(Span<const MemoryRegion> map, uint64_t base, uint64_t size,
                          RangeList* out) {
  Status status;
  for_each_piece(map, base, size, [&](uint64_t b, uint64_t s, MemoryKind kind, uint32_t) {
    if (status && kind == MemoryKind::kFree) status = out->append(b, s);
  });
  return status;
}

// Appends `text` at out[*n]; false when it does not fit (with the NUL).
bool put(char* out, size_t capacity, size_t* n, const char* text) {
  const size_t len = strlen(text);
  if (*n + len + 1 > capacity) return false;
  memcpy(out + *n, text, len);
  *n += len;
  out[*n] = '\0';
  return true;
}

bool put_parameter(char* out, size_t capacity, size_t* n, const char* text) {
  if (*n > 0 && !put(out, capacity, n, " ")) return false;
  return put(out, capacity, n, text);
}

}  // namespace

// ---------------------------------------------------------------- RangeList

Status RangeList::append(uint64_t base, uint64_t size) {
  if (size == 0) return ok_status();
  if (base > UINT64_MAX - size) return Error::make("range at {x} wraps around", base);
  if (count_ > 0) {
    MemoryRange& last = ranges_[count_ - 1];
    if (base < last.end()) {
      return Error::make("range {x}+{x} is not above the previous one ({x}-{x})", base, size,
                         last.base, last.end() - 1);
    }
    if (base == last.end()) {
      last.size += size;
      return ok_status();
    }
  }
  if (count_ == kCapacity) return Error::make("more than {} separate memory ranges", kCapacity);
  ranges_[count_++] = MemoryRange{base, size};
  return ok_status();
}

uint64_t RangeList::total_bytes() const {
  uint64_t total = 0;
  for (size_t i = 0; i < count_; ++i) total += ranges_[i].size;
  return total;
}

uint64_t RangeList::bytes_within(uint64_t base, uint64_t end) const {
  uint64_t total = 0;
  for (size_t i = 0; i < count_; ++i) {
    const uint64_t b = max_u64(ranges_[i].base, base);
    const uint64_t e = min_u64(ranges_[i].end(), end);
    if (b < e) total += e - b;
  }
  return total;
}

bool RangeList::contains(uint64_t base, uint64_t size) const {
  for (size_t i = 0; i < count_; ++i) {
    if (base >= ranges_[i].base && base + size <= ranges_[i].end()) return true;
  }
  return false;
}

// ---------------------------------------------------------------- plans

Status free_memory_outside(Span<const MemoryRegion> map, Span<const MemoryRange> keep_free,
                           RangeList* out) {
  out->clear();
  for (const MemoryRegion& r : map) {
    if (r.kind != MemoryKind::kFree) continue;
    // r minus every keep_free range (both sorted).
    uint64_t cursor = r.base;
    for (const MemoryRange& k : keep_free) {
      if (k.end() <= cursor) continue;
      if (k.base >= r.end()) break;
      if (k.base > cursor) HL_TRY(out->append(cursor, k.base - cursor));
      cursor = k.end();
      if (cursor >= r.end()) break;
    }
    if (cursor < r.end()) HL_TRY(out->append(cursor, r.end() - cursor));
  }
  return ok_status();
}

Status free_memory_inside(Span<const MemoryRegion> map, Span<const MemoryRange> ranges,
                          RangeList* out) {
  out->clear();
  for (const MemoryRange& r : ranges) HL_TRY(append_free_pieces(map, r.base, r.size, out));
  return ok_status();
}

Status plan_normal_boot(const MemoryRange& scratch, Span<const MemoryRegion> map,
                        RangeList* reserve, RangeList* claim) {
  reserve->clear();
  claim->clear();
  if (scratch.size == 0) return ok_status();

  RangeList ram;
  HL_TRY(append_ram_pieces(map, scratch.base, scratch.size, &ram));
  if (ram.empty()) {
    return Error::make("the scratch region {x}-{x} holds no RAM (check scratch= in the "
                       "configuration)", scratch.base, scratch.end() - 1);
  }

  // The trampoline window first: it lies below every sensible scratch base.
  // If the scratch region already covers it, it is not listed twice.
  const MemoryRange& low = kTrampolineWindow;
  if (low.end() <= scratch.base) {
    HL_TRY(reserve->append(low));
  } else if (scratch.end() <= low.base) {
    return Error::make("the scratch region {x}-{x} lies below {x}: it cannot hold a kernel",
                       scratch.base, scratch.end() - 1, low.base);
  } else if (!(scratch.base <= low.base && low.end() <= scratch.end())) {
    return Error::make("the scratch region {x}-{x} overlaps the trampoline window {x}-{x} "
                       "in part", scratch.base, scratch.end() - 1, low.base, low.end() - 1);
  }
  HL_TRY(reserve->append(scratch));
  return free_memory_inside(map, reserve->span(), claim);
}

Status plan_fallback_boot(Span<const MemoryRange> image_scratch, Span<const MemoryRegion> map,
                          RangeList* usable, RangeList* keep_free, RangeList* claim) {
  usable->clear();
  keep_free->clear();
  claim->clear();

  RangeList ram;
  for (const MemoryRange& r : image_scratch) {
    HL_TRY(append_ram_pieces(map, r.base, r.size, &ram));
  }
  // Low memory for the kernel's trampoline: the image's own, if it left any
  // (a hibernated kernel booted by hiberload reserved kTrampolineWindow),
  // else the window, which the image covers: harmless, because kexec -e
  // copies every segment into place after this kernel has finished.
  if (ram.bytes_within(0, kLowMemoryLimit) == 0) {
    HL_TRY(append_ram_pieces(map, kTrampolineWindow.base, kTrampolineWindow.size, usable));
  }
  for (size_t i = 0; i < ram.size(); ++i) HL_TRY(usable->append(ram[i]));

  const uint64_t above_floor = usable->bytes_within(kLinuxMinLoadAddress, UINT64_MAX);
  if (above_floor < kMinFallbackMemory) {
    return Error::make("the image leaves {} MiB of RAM above {} MiB for the fallback kernel; "
                       "it needs at least {} MiB (a larger scratch region at hibernation)",
                       above_floor >> 20, kLinuxMinLoadAddress >> 20, kMinFallbackMemory >> 20);
  }
  if (usable->size() > kMaxMemmapRanges) {
    return Error::make("the image's scratch memory is split into {} ranges, more than the {} "
                       "a command line can carry", usable->size(), kMaxMemmapRanges);
  }

  // Keep free only the usable RAM above 1 MiB: the EFI stub and the
  // decompressor then place the kernel, initrd and boot data there.
  for (size_t i = 0; i < usable->size(); ++i) {
    const MemoryRange& r = (*usable)[i];
    if (r.end() <= kLowMemoryLimit) continue;
    const uint64_t base = max_u64(r.base, kLowMemoryLimit);
    HL_TRY(keep_free->append(base, r.end() - base));
  }
  return free_memory_outside(map, keep_free->span(), claim);
}

// ---------------------------------------------------------------- text

size_t format_memparse_size(char* out, size_t capacity, uint64_t bytes) {
  static const struct { uint64_t unit; const char* suffix; } kUnits[] = {
      {1ull << 30, "G"}, {1ull << 20, "M"}, {1ull << 10, "K"}};
  for (const auto& u : kUnits) {
    if (bytes != 0 && bytes % u.unit == 0) {
      return format_to(out, capacity, "{}{}", bytes / u.unit, u.suffix);
    }
  }
  return format_to(out, capacity, "{}", bytes);
}

bool command_line_has(const char* cmdline, const char* name) {
  const size_t len = strlen(name);
  const char* p = cmdline;
  while (*p != '\0') {
    while (*p == ' ') ++p;
    const char* word = p;
    while (*p != '\0' && *p != ' ') ++p;
    const size_t word_len = static_cast<size_t>(p - word);
    if (word_len >= len && memcmp(word, name, len) == 0 &&
        (word_len == len || word[len] == '=')) {
      return true;
    }
  }
  return false;
}

Result<size_t> build_kernel_command_line(const KernelCommandLine& parts, char* out,
                                         size_t capacity) {
  if (capacity == 0) return Error::make("no room for a command line");
  const size_t limit = capacity < kMaxKernelCommandLine ? capacity : kMaxKernelCommandLine;
  size_t n = 0;
  out[0] = '\0';
  auto too_long = [&]() {
    return Error::make("the kernel command line would exceed {} characters", limit - 1);
  };

  // The user's text, with surrounding spaces trimmed.
  const char* user = parts.user ? parts.user : "";
  while (*user == ' ') ++user;
  size_t user_len = strlen(user);
  while (user_len > 0 && user[user_len - 1] == ' ') --user_len;
  if (user_len + 1 > limit) return too_long();
  memcpy(out, user, user_len);
  n = user_len;
  out[n] = '\0';

  char param[96], size_text[32];
  for (const MemoryRange& r : parts.reserved) {
    format_memparse_size(size_text, sizeof size_text, r.size);
    format_to(param, sizeof param, "memmap={}${x}", size_text, r.base);
    if (!put_parameter(out, limit, &n, param)) return too_long();
  }
  if (!parts.exact_ram.empty()) {
    if (!put_parameter(out, limit, &n, "memmap=exactmap")) return too_long();
    for (const MemoryRange& r : parts.exact_ram) {
      format_memparse_size(size_text, sizeof size_text, r.size);
      format_to(param, sizeof param, "memmap={}@{x}", size_text, r.base);
      if (!put_parameter(out, limit, &n, param)) return too_long();
    }
  }
  if (parts.scratch != nullptr && parts.scratch->size != 0) {
    format_memparse_size(size_text, sizeof size_text, parts.scratch->size);
    format_to(param, sizeof param, "hiberload.scratch={x}+{}", parts.scratch->base, size_text);
    if (!put_parameter(out, limit, &n, param)) return too_long();
  }
  if (parts.trampoline != nullptr && parts.trampoline->size != 0) {
    format_memparse_size(size_text, sizeof size_text, parts.trampoline->size);
    format_to(param, sizeof param, "hiberload.low={x}+{}", parts.trampoline->base, size_text);
    if (!put_parameter(out, limit, &n, param)) return too_long();
  }
  if (parts.hibernation_partition != nullptr) {
    char uuid[37];
    guid_to_string(*parts.hibernation_partition, uuid);
    format_to(param, sizeof param, "hiberload.partition={}", uuid);
    if (!put_parameter(out, limit, &n, param)) return too_long();
  }
  if (!parts.remaining.empty()) {
    // One parameter, comma-separated: "hiberload.remaining=0x..+0x..,...".
    if (!put_parameter(out, limit, &n, "hiberload.remaining=")) return too_long();
    for (size_t i = 0; i < parts.remaining.size(); ++i) {
      format_to(param, sizeof param, "{}{x}+{x}", i == 0 ? "" : ",", parts.remaining[i].base,
                parts.remaining[i].size);
      if (!put(out, limit, &n, param)) return too_long();
    }
  }
  if (parts.image_partition != nullptr) {
    char uuid[37];
    guid_to_string(*parts.image_partition, uuid);
    format_to(param, sizeof param, "hiberload.image=PARTUUID={}", uuid);
    if (!put_parameter(out, limit, &n, param)) return too_long();
  }
  return n;
}

}  // namespace hl
