#include "efi/direct_resume.h"

#include <string.h>

#include "common/identity_map.h"
#include "common/placement.h"
#include "common/runtime_map.h"
#include "efi/console.h"
#include "efi/final_stage.h"
#include "efi/memory_map.h"
#include "efi/progress.h"

namespace hl::efi {
namespace {

using image::ChunkEntry;
using image::ImageInfo;
using image::ImageReader;
using image::SegmentEntry;

constexpr uint64_t kPage = 4096;
// Bounds on the plan's tables: a real map gives tens of ranges.
constexpr size_t kMaxPlanRanges = 1024;
constexpr size_t kMaxMemoryRegions = 1024;
// Final stage, work area, staging and direct ranges.
constexpr size_t kMaxClaims = 2 + 2 * kMaxPlanRanges;

uint64_t pages_for(uint64_t bytes) { return (bytes + kPage - 1) / kPage; }

// Everything the resume needs from the pool, allocated before the memory
// map snapshot the plan is made from, so that no allocation of ours changes
// the map between planning and claiming.
struct Workspace {
  FirmwareMemoryMap map;
  MemoryRegion* regions = nullptr;
  RuntimeRegion* runtime = nullptr;
  MemoryRange* destinations = nullptr;
  MemoryRange* scratch = nullptr;
  MemoryRange* direct = nullptr;
  DeferredCopy* deferred = nullptr;
  MemoryRange* staging = nullptr;
  MemoryRange* claims = nullptr;
  size_t destination_count = 0;
  size_t scratch_count = 0;

  template <typename T>
  static bool allocate(Allocator& pool, T** out, size_t count) {
    *out = static_cast<T*>(pool.allocate(count * sizeof(T) + 1));
    return *out != nullptr;
  }

  // Allocates everything and copies in the image's segments and scratch
  // ranges.
  Status load(Allocator& pool, const ImageReader& reader, const ImageInfo& info) {
    HL_TRY(allocate_all(pool, info, reader.scratch_ranges().size()));
    for (const SegmentEntry& s : reader.segments()) {
      destinations[destination_count++] = MemoryRange{s.physical_address, s.size};
    }
    for (const image::ScratchRange& r : reader.scratch_ranges()) {
      scratch[scratch_count++] = MemoryRange{r.base, r.size};
    }
    return ok_status();
  }

  Status allocate_all(Allocator& pool, const ImageInfo& info, size_t scratch_ranges) {
    auto map_bytes = memory_map_buffer_size();
    if (!map_bytes) return map_bytes.error();
    // Twice the current size: allocations below and the claims add entries.
    map.capacity = *map_bytes * 2 + 16 * 1024;
    map.buffer = static_cast<uint8_t*>(pool.allocate(map.capacity));
    if (map.buffer == nullptr || !allocate(pool, &regions, kMaxMemoryRegions) ||
        !allocate(pool, &runtime, kMaxMemoryRegions) ||
        !allocate(pool, &destinations, info.segment_count) ||
        !allocate(pool, &scratch, scratch_ranges) || !allocate(pool, &direct, kMaxPlanRanges) ||
        !allocate(pool, &deferred, kMaxPlanRanges) || !allocate(pool, &staging, kMaxPlanRanges) ||
        !allocate(pool, &claims, kMaxClaims)) {
      return Error::make("out of memory for the resume's work tables");
    }
    return ok_status();
  }
};

// Memory claimed with AllocatePages(AllocateAddress), released again if the
// resume is abandoned before commit.
class Claims {
 public:
  Claims(MemoryRange* storage, size_t capacity) : ranges_(storage), capacity_(capacity) {}

  Status claim(const MemoryRange& r, const char* what) {
    if (count_ == capacity_) return Error::make("too many memory claims");
    EFI_PHYSICAL_ADDRESS address = r.base;
    EFI_STATUS status = BS->AllocatePages(AllocateAddress, EfiLoaderData, pages_for(r.size), &address);
    if (EFI_ERROR(status)) {
      return Error::make("cannot claim {} at {x}-{x}: {} (the firmware's memory changed while planning)",
                         what, r.base, r.end() - 1, status_text(status));
    }
    ranges_[count_++] = r;
    return ok_status();
  }

  void release_all() {
    for (size_t i = 0; i < count_; ++i) BS->FreePages(ranges_[i].base, pages_for(ranges_[i].size));
    count_ = 0;
  }

 private:
  MemoryRange* ranges_;
  size_t capacity_;
  size_t count_ = 0;
};

// The kexec jump back entry must be memory the image restores: it is code of
// the hibernated kernel's control page.
Status check_jump_entry(const ImageInfo& info, Span<const SegmentEntry> segments) {
  for (const SegmentEntry& s : segments) {
    if (info.jump_back_entry >= s.physical_address &&
        info.jump_back_entry - s.physical_address < s.size) {
      return ok_status();
    }
  }
  return Error::make("the jump back entry {x} is not inside any image segment", info.jump_back_entry);
}

// Reads the firmware's memory map into the workspace and checks the runtime
// regions against the image's record.
Status snapshot_memory(Workspace& ws, ImageReader& reader, size_t* region_count,
                       bool check_runtime = true) {
  HL_TRY(read_memory_map(&ws.map));
  size_t runtime_count = 0;
  for (size_t i = 0; i < ws.map.count() && runtime_count < kMaxMemoryRegions; ++i) {
    const EFI_MEMORY_DESCRIPTOR* d = ws.map.at(i);
    if (d->Attribute & kEfiMemoryRuntime) {
      ws.runtime[runtime_count++] = RuntimeRegion{d->PhysicalStart, d->NumberOfPages, d->Type};
    }
  }
  if (check_runtime) HL_TRY(check_runtime_map(reader.runtime_map(), {ws.runtime, runtime_count}));
  auto count = to_memory_regions(ws.map, ws.regions, kMaxMemoryRegions);
  if (!count) return count.error();
  *region_count = *count;
  return ok_status();
}

uint64_t identity_map_top(const ImageInfo& info, const Workspace& ws) {
  uint64_t top = info.jump_back_entry + kPage;
  for (size_t i = 0; i < ws.destination_count; ++i) top = ws.destinations[i].end() > top ? ws.destinations[i].end() : top;
  for (size_t i = 0; i < ws.scratch_count; ++i) top = ws.scratch[i].end() > top ? ws.scratch[i].end() : top;
  return top;
}

void print_plan(const PlacementPlan& plan) {
  char direct[24], deferred[24], free_scratch[24];
  format_size(direct, sizeof direct, plan.direct_bytes);
  format_size(deferred, sizeof deferred, plan.deferred_bytes);
  format_size(free_scratch, sizeof free_scratch, plan.scratch_free_bytes);
  say("plan: {} written in place, {} busy in firmware now (staged in scratch, copied last); "
      "{} of scratch free",
      direct, deferred, free_scratch);
  say("plan: final stage at {x}, work area at {x}", plan.final_stage.base, plan.work_area.base);
}

// Bytes of the work area read from the disk at once: stored chunks lie back
// to back, so one Block I/O request fetches many (per-request overhead
// dominates small chunks, especially under emulation).
constexpr uint64_t kReadWindowBytes = 8u << 20;

// Writes `length` decoded bytes for destination `destination` where the plan
// says, splitting across direct/deferred boundaries.
Status scatter(const PlacementPlan& plan, uint64_t destination, const uint8_t* bytes,
               uint64_t length) {
  uint64_t done = 0;
  while (done < length) {
    uint64_t target = 0, contiguous = 0;
    if (!plan.write_address(destination + done, &target, &contiguous)) {
      return Error::make("destination {x} is not in the plan", destination + done);
    }
    const uint64_t n = contiguous < length - done ? contiguous : length - done;
    if (target == kNotStaged) {
      // Left to the fallback kernel (preplace_for_fallback).
    } else if (bytes != nullptr) {
      memcpy(reinterpret_cast<void*>(target), bytes + done, n);
    } else {
      memset(reinterpret_cast<void*>(target), 0, n);
    }
    done += n;
  }
  return ok_status();
}

// Decodes chunk `index` from its verified stored bytes into place. A chunk
// that maps to one contiguous place is decoded straight into it; one that
// straddles a direct/deferred boundary goes through the bounce buffer.
Status place_chunk(ImageReader& reader, uint32_t index, const uint8_t* stored,
                   const PlacementPlan& plan, uint8_t* bounce, size_t bounce_bytes) {
  const ChunkEntry& chunk = reader.chunks()[index];
  if (chunk.encoding == static_cast<uint8_t>(image::ChunkEncoding::kZero)) {
    return scatter(plan, chunk.destination, nullptr, chunk.raw_length);
  }
  HL_TRY(reader.verify_stored(index, stored, chunk.stored_length));
  uint64_t target = 0, contiguous = 0;
  if (!plan.write_address(chunk.destination, &target, &contiguous)) {
    return Error::make("chunk {}: destination {x} is not in the plan", index, chunk.destination);
  }
  if (contiguous >= chunk.raw_length) {
    if (target == kNotStaged) return ok_status();  // Verified; left to the fallback kernel.
    return reader.decode(index, stored, reinterpret_cast<void*>(target), chunk.raw_length);
  }
  HL_TRY(reader.decode(index, stored, bounce, bounce_bytes));
  return scatter(plan, chunk.destination, bounce, chunk.raw_length);
}

// The chunks from `first` whose stored bytes fit one read window, and the
// storage range to read for them (block-aligned, inside the storage).
struct ReadRun {
  uint32_t end = 0;  // One past the last chunk of the run.
  uint64_t offset = 0;
  uint64_t length = 0;
};

ReadRun next_read_run(Span<const ChunkEntry> chunks, uint32_t first, uint64_t storage_size) {
  ReadRun run{first, 0, 0};
  uint64_t stored_end = 0;
  bool any = false;
  for (uint32_t i = first; i < chunks.size(); ++i) {
    const ChunkEntry& c = chunks[i];
    if (c.stored_length == 0) {
      run.end = i + 1;
      continue;
    }
    if (!any) {
      run.offset = c.storage_offset;
      any = true;
    } else if (c.storage_offset < stored_end ||
               c.storage_offset + c.stored_length - run.offset > kReadWindowBytes) {
      break;
    }
    stored_end = c.storage_offset + c.stored_length;
    run.end = i + 1;
  }
  if (any) {
    run.length = image::align_up(stored_end - run.offset, image::kBlockSize);
    if (run.offset + run.length > storage_size) run.length = storage_size - run.offset;
  }
  return run;
}

Status place_all_chunks(ImageReader& reader, Storage& storage, const ImageInfo& info,
                        const PlacementPlan& plan) {
  uint8_t* window = reinterpret_cast<uint8_t*>(plan.work_area.base);
  uint8_t* bounce = window + kReadWindowBytes;
  const size_t bounce_bytes = info.chunk_raw_size_max;
  const Span<const ChunkEntry> chunks = reader.chunks();
  const uint64_t total = info.total_raw_bytes ? info.total_raw_bytes : 1;
  uint64_t placed = 0;
  Progress progress("placing image");
  Status status = ok_status();
  for (uint32_t i = 0; i < chunks.size() && status;) {
    const ReadRun run = next_read_run(chunks, i, storage.size());
    if (run.length != 0) status = storage.read(run.offset, window, run.length);
    for (; i < run.end && status; ++i) {
      const uint8_t* stored = window + (chunks[i].storage_offset - run.offset);
      status = place_chunk(reader, i, chunks[i].stored_length ? stored : nullptr, plan, bounce,
                           bounce_bytes);
      placed += chunks[i].raw_length;
    }
    if (status) progress.update(placed, total);
  }
  progress.finish();
  return status;
}

// GetMemoryMap + ExitBootServices, retried while the map key goes stale
// (firmware events may allocate between the two calls; UEFI 2.10, 7.4.6).
Status exit_boot_services(EFI_HANDLE image, FirmwareMemoryMap* map) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    HL_TRY(read_memory_map(map));
    EFI_STATUS status = BS->ExitBootServices(image, map->map_key);
    if (!EFI_ERROR(status)) return ok_status();
    if (status != EFI_INVALID_PARAMETER) return firmware_error("ExitBootServices", status);
  }
  return Error::make("ExitBootServices kept failing with a stale memory map key");
}

// Gives the runtime services the virtual addresses the hibernated kernel
// chose; regions it did not record (none, after check_runtime_map) stay
// identity-mapped. No console from here on: boot services are gone.
void set_virtual_address_map(FirmwareMemoryMap* map, Span<const image::RuntimeMapEntry> recorded) {
  for (size_t i = 0; i < map->count(); ++i) {
    EFI_MEMORY_DESCRIPTOR* d = map->at(i);
    if (!(d->Attribute & kEfiMemoryRuntime)) continue;
    uint64_t virt = d->PhysicalStart;
    recorded_virtual_address(recorded, d->PhysicalStart, &virt);
    d->VirtualStart = virt;
  }
  // A failure cannot be reported any more; the resumed kernel then finds
  // runtime services unusable, which Linux survives (efi=noruntime-like).
  RT->SetVirtualAddressMap(map->size, map->descriptor_size, map->descriptor_version,
                           reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(map->buffer));
}

// What a placement needs besides the image.
struct PlanRequest {
  uint64_t final_stage_bytes = 0;
  uint64_t work_area_bytes = 0;
  bool stage_deferred = true;
  bool check_runtime = true;
};

// Snapshot, plan and claim, with no allocation of ours in between. Claiming
// can still fail: the firmware may allocate pages for its own bookkeeping
// (new memory map descriptors) when we allocate, and they may land in a
// range planned as free. Then everything is released and planned again from
// a new snapshot, where those pages are busy (deferred).
Result<PlacementPlan> plan_and_claim(Workspace& ws, ImageReader& reader, const PlanRequest& request,
                                     Claims* claims) {
  constexpr int kAttempts = 4;
  Status last = ok_status();
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    size_t region_count = 0;
    if (Status s = snapshot_memory(ws, reader, &region_count, request.check_runtime); !s) {
      return s.error().with_context("machine check");
    }
    PlacementInput input;
    input.destinations = {ws.destinations, ws.destination_count};
    input.scratch = {ws.scratch, ws.scratch_count};
    input.memory = {ws.regions, region_count};
    input.final_stage_bytes = request.final_stage_bytes;
    input.work_area_bytes = request.work_area_bytes;
    input.stage_deferred = request.stage_deferred;
    const PlacementBuffers buffers{{ws.direct, kMaxPlanRanges},
                                   {ws.deferred, kMaxPlanRanges},
                                   {ws.staging, kMaxPlanRanges}};
    auto plan = plan_placement(input, buffers);
    if (!plan) return plan.error().with_context("placement plan");

    Status claimed = ok_status();
    if (plan->final_stage.size != 0) claimed = claims->claim(plan->final_stage, "the final stage");
    if (claimed) claimed = claims->claim(plan->work_area, "the work area");
    for (const MemoryRange& r : plan->staging) {
      if (claimed) claimed = claims->claim(r, "staging memory");
    }
    for (const MemoryRange& r : plan->direct) {
      if (claimed) claimed = claims->claim(r, "image memory");
    }
    if (claimed) return *plan;
    claims->release_all();
    say("{}; planning again", claimed.error().reason());
    last = claimed;
  }
  return last.error().with_context("{} attempts", kAttempts);
}

}  // namespace

Status direct_resume(EFI_HANDLE image_handle, ImageReader& reader, Storage& storage,
                     const ImageInfo& info, Allocator& pool) {
  HL_TRY(check_jump_entry(info, reader.segments()));
  Workspace ws;
  HL_TRY(ws.load(pool, reader, info));

  const uint64_t top = identity_map_top(info, ws);
  if (top > kMaxIdentityMapTop) return Error::make("memory above 512 GiB is not supported");
  PlanRequest request;
  request.final_stage_bytes = FinalStage::bytes_needed(top, kMaxPlanRanges);
  // The read window plus a bounce buffer for one chunk's raw bytes.
  request.work_area_bytes = kReadWindowBytes + info.chunk_raw_size_max;
  Claims claims(ws.claims, kMaxClaims);
  auto plan = plan_and_claim(ws, reader, request, &claims);
  if (!plan) return plan.error();
  print_plan(*plan);

  // Place and verify. Nothing irreversible happens before every chunk's
  // SHA-256 matched: a failure releases the claims and boots normally.
  if (Status placed = place_all_chunks(reader, storage, info, *plan); !placed) {
    claims.release_all();
    return placed.error().with_context("placing the image");
  }
  say("image verified: {} chunks, every SHA-256 matched", info.chunk_count);

  auto final_stage = FinalStage::prepare(plan->final_stage, top, plan->deferred, info.jump_back_entry);
  if (!final_stage) {
    claims.release_all();
    return final_stage.error();
  }

  // Commit: from here the image is never placed again, whatever happens.
  if (Status consumed = reader.mark_consumed(); !consumed) {
    claims.release_all();
    return consumed.error().with_context("marking the image consumed");
  }
  say("image marked consumed; leaving the firmware and jumping to {x}", info.jump_back_entry);

  if (Status exited = exit_boot_services(image_handle, &ws.map); !exited) {
    // Boot services are still up (ExitBootServices failed every time): the
    // image is consumed, so boot normally rather than resume half-way.
    claims.release_all();
    return exited.error();
  }
  set_virtual_address_map(&ws.map, reader.runtime_map());
  final_stage->run();
}

Result<size_t> preplace_for_fallback(image::ImageReader& reader, Storage& storage,
                                     const image::ImageInfo& info, Allocator& pool,
                                     MemoryRange* remaining, size_t capacity) {
  HL_TRY(check_jump_entry(info, reader.segments()));
  Workspace ws;
  HL_TRY(ws.load(pool, reader, info));
  // No runtime check here: whether the firmware changed matters to the
  // resumed kernel either way, and the fallback path is what is left.
  PlanRequest request;
  request.work_area_bytes = kReadWindowBytes + info.chunk_raw_size_max;
  request.stage_deferred = false;
  request.check_runtime = false;
  Claims claims(ws.claims, kMaxClaims);
  auto plan = plan_and_claim(ws, reader, request, &claims);
  if (!plan) return plan.error();

  // What the fallback kernel must load: the deferred ranges, and the page of
  // the jump back entry, so that its kexec identity map (which covers the
  // loaded segments) maps the entry (the reference's trap 5).
  // Collected sorted, then merged: the entry's page usually lies inside a
  // deferred range, and kexec refuses overlapping segments.
  size_t count = 0;
  auto add = [&](uint64_t base, uint64_t size) {
    // kexec-tools refuses a segment at physical page 0, and Linux never uses
    // that page (x86 reserves it for the BIOS data), so it is not loaded.
    if (base < kPage) {
      if (base + size <= kPage) return true;
      size -= kPage - base;
      base = kPage;
    }
    if (count == capacity) return false;
    size_t at = count++;
    while (at > 0 && remaining[at - 1].base > base) {
      remaining[at] = remaining[at - 1];
      --at;
    }
    remaining[at] = MemoryRange{base, size};
    return true;
  };
  bool fits = add(info.jump_back_entry & ~(kPage - 1), kPage);
  for (const DeferredCopy& c : plan->deferred) fits = fits && add(c.destination, c.size);
  if (!fits) {
    claims.release_all();
    return Error::make("more than {} ranges left to the fallback kernel", capacity);
  }
  size_t merged = 0;
  for (size_t i = 0; i < count; ++i) {
    if (merged > 0 && remaining[i].base <= remaining[merged - 1].end()) {
      const uint64_t end = remaining[i].end() > remaining[merged - 1].end() ? remaining[i].end()
                                                                         : remaining[merged - 1].end();
      remaining[merged - 1].size = end - remaining[merged - 1].base;
    } else {
      remaining[merged++] = remaining[i];
    }
  }
  count = merged;

  char direct[24], deferred[24];
  format_size(direct, sizeof direct, plan->direct_bytes);
  format_size(deferred, sizeof deferred, plan->deferred_bytes);
  say("fallback: placing {} of the image now; {} (busy in firmware) is left to the fallback "
      "kernel in {} ranges",
      direct, deferred, count);
  if (Status placed = place_all_chunks(reader, storage, info, *plan); !placed) {
    claims.release_all();
    return placed.error().with_context("placing the image");
  }
  // The work area goes back to the firmware; the placed memory stays
  // claimed (loader data), so the fallback kernel's EFI stub cannot use it,
  // and the kernel itself is restricted to the scratch ranges.
  BS->FreePages(plan->work_area.base, pages_for(plan->work_area.size));
  say("image verified: {} chunks, every SHA-256 matched", info.chunk_count);
  return count;
}

}  // namespace hl::efi
