#include "common/placement.h"

namespace hl {
namespace {

constexpr uint64_t kPage = kPlacementPageSize;

uint64_t round_up_to_page(uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); }

Status check_ranges(Span<const MemoryRange> ranges, const char* what) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    const MemoryRange& r = ranges[i];
    if (r.size == 0) return Error::make("{} {} is empty", what, i);
    if (r.base % kPage != 0 || r.size % kPage != 0) {
      return Error::make("{} {} ({x}+{x}) is not page-aligned", what, i, r.base, r.size);
    }
    if (r.base > UINT64_MAX - r.size) return Error::make("{} {} wraps around", what, i);
    if (i > 0 && r.base < ranges[i - 1].end()) {
      return Error::make("{} {} at {x} overlaps or precedes the one before it", what, i, r.base);
    }
  }
  return ok_status();
}

bool overlaps_any(const MemoryRange& r, Span<const MemoryRange> sorted) {
  for (const MemoryRange& s : sorted) {
    if (s.base >= r.end()) break;
    if (s.end() > r.base) return true;
  }
  return false;
}

// Appends to a bounded output array, merging with the previous element when
// contiguous.
class RangeList {
 public:
  explicit RangeList(Span<MemoryRange> storage) : storage_(storage) {}
  bool append(uint64_t base, uint64_t size) {
    if (count_ > 0 && storage_[count_ - 1].end() == base) {
      storage_[count_ - 1].size += size;
      return true;
    }
    if (count_ == storage_.size()) return false;
    storage_[count_++] = MemoryRange{base, size};
    return true;
  }
  Span<const MemoryRange> view() const { return {storage_.data(), count_}; }

 private:
  Span<MemoryRange> storage_;
  size_t count_ = 0;
};

// Hands out page-aligned space from the free parts of the scratch ranges,
// lowest address first.
class ScratchAllocator {
 public:
  ScratchAllocator(Span<const MemoryRange> scratch, Span<const MemoryRegion> memory)
      : scratch_(scratch), memory_(memory) {}

  uint64_t free_bytes() const {
    uint64_t total = 0;
    for (const MemoryRange& s : scratch_) {
      for_each_piece(memory_, s.base, s.size, [&](uint64_t, uint64_t size, MemoryKind kind, uint32_t) {
        if (kind == MemoryKind::kFree) total += size;
      });
    }
    return total;
  }

  // One contiguous, page-aligned range of `size` bytes, or size 0 if none.
  MemoryRange take_contiguous(uint64_t size) {
    MemoryRange found{};
    visit_free([&](uint64_t base, uint64_t length) {
      if (found.size == 0 && length >= size) found = MemoryRange{base, size};
    });
    if (found.size != 0 && !mark_taken(found)) return MemoryRange{};
    return found;
  }

  // Up to `size` bytes from the lowest free piece; returns the piece taken
  // (possibly smaller than asked), or size 0 when scratch is exhausted.
  MemoryRange take_some(uint64_t size) {
    MemoryRange found{};
    visit_free([&](uint64_t base, uint64_t length) {
      if (found.size == 0) found = MemoryRange{base, length < size ? length : size};
    });
    if (found.size != 0 && !mark_taken(found)) return MemoryRange{};
    return found;
  }

 private:
  // Pieces are handed out lowest-first, so taken ranges mostly touch and
  // merge; 64 distinct ranges is far more than a real map produces.
  static constexpr size_t kMaxTaken = 64;

  bool mark_taken(const MemoryRange& r) {
    for (size_t i = 0; i < taken_count_; ++i) {
      if (taken_[i].end() == r.base) {
        taken_[i].size += r.size;
        return true;
      }
      if (r.end() == taken_[i].base) {
        taken_[i].base = r.base;
        taken_[i].size += r.size;
        return true;
      }
    }
    if (taken_count_ == kMaxTaken) return false;
    taken_[taken_count_++] = r;
    return true;
  }

  // Calls f(base, length) for each free, not yet taken, page-aligned piece.
  template <typename F>
  void visit_free(F&& f) {
    for (const MemoryRange& s : scratch_) {
      for_each_piece(memory_, s.base, s.size, [&](uint64_t base, uint64_t size, MemoryKind kind, uint32_t) {
        if (kind != MemoryKind::kFree) return;
        // The memory map is page-granular, but be safe with odd entries.
        uint64_t start = round_up_to_page(base);
        const uint64_t end = (base + size) & ~(kPage - 1);
        while (start < end) {
          // Skip over anything already handed out (taken_ is small and
          // ranges never overlap, so a linear scan is fine).
          uint64_t piece_end = end;
          bool moved = false;
          for (size_t i = 0; i < taken_count_; ++i) {
            const MemoryRange& t = taken_[i];
            if (t.base <= start && start < t.end()) {
              start = t.end();
              moved = true;
              break;
            }
            if (t.base > start && t.base < piece_end) piece_end = t.base;
          }
          if (moved) continue;
          if (piece_end > start) f(start, piece_end - start);
          start = piece_end;
        }
      });
    }
  }

  Span<const MemoryRange> scratch_;
  Span<const MemoryRegion> memory_;
  MemoryRange taken_[kMaxTaken];
  size_t taken_count_ = 0;
};

}  // namespace

bool PlacementPlan::write_address(uint64_t address, uint64_t* out, uint64_t* contiguous) const {
  for (const MemoryRange& d : direct) {
    if (address >= d.base && address < d.end()) {
      *out = address;
      *contiguous = d.end() - address;
      return true;
    }
  }
  for (const DeferredCopy& c : deferred) {
    if (address >= c.destination && address < c.destination + c.size) {
      *out = c.staging == kNotStaged ? kNotStaged : c.staging + (address - c.destination);
      *contiguous = c.size - (address - c.destination);
      return true;
    }
  }
  return false;
}

Result<PlacementPlan> plan_placement(const PlacementInput& input, const PlacementBuffers& buffers) {
  HL_TRY(check_ranges(input.destinations, "image segment"));
  HL_TRY(check_ranges(input.scratch, "scratch range"));
  for (size_t i = 0; i < input.scratch.size(); ++i) {
    if (overlaps_any(input.scratch[i], input.destinations)) {
      return Error::make("scratch range {x}+{x} overlaps an image segment", input.scratch[i].base,
                         input.scratch[i].size);
    }
  }

  PlacementPlan plan;
  RangeList direct(buffers.direct);
  size_t deferred_count = 0;

  // 1. Classify every destination byte by what the firmware holds there now.
  Status problem = ok_status();
  for (const MemoryRange& d : input.destinations) {
    for_each_piece(input.memory, d.base, d.size,
                   [&](uint64_t base, uint64_t size, MemoryKind kind, uint32_t efi_type) {
      if (!problem) return;
      switch (kind) {
        case MemoryKind::kNotRam:
          problem = Error::make(
              "image memory at {x}-{x} is {} now, not RAM: the machine's memory layout changed "
              "since hibernation",
              base, base + size - 1, efi_memory_type_name(efi_type));
          return;
        case MemoryKind::kFree:
          if (!direct.append(base, size)) problem = Error::make("too many direct ranges for the plan's buffer");
          plan.direct_bytes += size;
          return;
        case MemoryKind::kBusyUntilExit:
          if (deferred_count > 0) {
            DeferredCopy& last = buffers.deferred[deferred_count - 1];
            if (last.destination + last.size == base) {
              last.size += size;
              plan.deferred_bytes += size;
              return;
            }
          }
          if (deferred_count == buffers.deferred.size()) {
            problem = Error::make("too many deferred ranges for the plan's buffer");
            return;
          }
          buffers.deferred[deferred_count++] = DeferredCopy{base, kNotStaged, size};
          plan.deferred_bytes += size;
          return;
      }
    });
    if (!problem) return problem.error();
  }

  // 2. Scratch: final stage and work area first (each contiguous), then
  //    staging for the deferred bytes, split across free pieces as needed.
  ScratchAllocator scratch(input.scratch, input.memory);
  plan.scratch_free_bytes = scratch.free_bytes();
  const uint64_t final_stage_bytes = round_up_to_page(input.final_stage_bytes);
  const uint64_t work_area_bytes = round_up_to_page(input.work_area_bytes);
  const uint64_t staged_bytes = input.stage_deferred ? plan.deferred_bytes : 0;
  const uint64_t needed = final_stage_bytes + work_area_bytes + staged_bytes;
  auto not_enough = [&] {
    char need_text[24], have_text[24], deferred_text[24];
    format_size(need_text, sizeof need_text, needed);
    format_size(have_text, sizeof have_text, plan.scratch_free_bytes);
    format_size(deferred_text, sizeof deferred_text, plan.deferred_bytes);
    return Error::make(
        "not enough free scratch memory: need {} ({} of image pages busy in firmware now, plus "
        "the final stage and buffers), but only {} of the scratch ranges is free",
        need_text, deferred_text, have_text);
  };
  if (needed > plan.scratch_free_bytes) return not_enough();
  if (final_stage_bytes != 0) {
    plan.final_stage = scratch.take_contiguous(final_stage_bytes);
    if (plan.final_stage.size == 0) {
      return Error::make("no contiguous free scratch piece of {} bytes for the final stage", final_stage_bytes);
    }
  }
  if (work_area_bytes != 0) {
    plan.work_area = scratch.take_contiguous(work_area_bytes);
    if (plan.work_area.size == 0) {
      return Error::make("no contiguous free scratch piece of {} bytes for the work area", work_area_bytes);
    }
  }

  // A deferred range whose staging does not fit in one free piece is split
  // in place, shifting the tail of the (short) list by one.
  RangeList staging(buffers.staging);
  for (size_t i = 0; i < deferred_count && input.stage_deferred; ++i) {
    DeferredCopy& copy = buffers.deferred[i];
    const MemoryRange piece = scratch.take_some(round_up_to_page(copy.size));
    if (piece.size == 0) return not_enough();
    if (!staging.append(piece.base, piece.size)) return Error::make("too many staging ranges for the plan's buffer");
    copy.staging = piece.base;
    if (piece.size < copy.size) {
      if (deferred_count == buffers.deferred.size()) {
        return Error::make("too many deferred ranges for the plan's buffer");
      }
      for (size_t j = deferred_count; j > i + 1; --j) buffers.deferred[j] = buffers.deferred[j - 1];
      buffers.deferred[i + 1] =
          DeferredCopy{copy.destination + piece.size, kNotStaged, copy.size - piece.size};
      copy.size = piece.size;
      ++deferred_count;
    }
  }

  plan.direct = direct.view();
  plan.deferred = Span<const DeferredCopy>(buffers.deferred.data(), deferred_count);
  plan.staging = staging.view();
  return plan;
}

}  // namespace hl
