// Writes a hibernation image (docs/image-format.md) from physical memory.
//
// Order of writes, which is what makes an interrupted save harmless:
//   1. zero the commit record and flush: from here on the storage reads as
//      "no image", whatever it held before;
//   2. the chunk payloads, block-aligned, in order;
//   3. the metadata tables, then the header and the (empty) auth block;
//   4. flush; 5. the commit record; 6. flush.
// Before step 3 the writer runs the reader's validator on what it built, so a
// writer bug fails the save instead of leaving an image the firmware refuses.
//
// Work: memory is cut into windows of chunk_size bytes on a physical grid
// (never crossing a range boundary). Worker threads read a window, split it
// into runs of zero and non-zero pages (4 KiB, the page grid), compress each
// non-zero run with zlib (stored raw when that is not smaller) and hash it;
// the calling thread writes the results in order.
#pragma once

#include <stdint.h>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/image_format.h"
#include "common/storage.h"
#include "tools/lib/memory_source.h"

namespace hl::image {

// What the loader needs besides the memory (header fields and tables).
struct ResumeData {
  uint64_t jump_back_entry = 0;
  uint32_t page_size = 4096;
  std::vector<MemoryMapEntry> memory_map;    // Sorted, disjoint.
  std::vector<RuntimeMapEntry> runtime_map;  // In Linux's order.
  std::vector<ScratchRange> scratch;         // Sorted, disjoint, outside the memory.
  std::string kernel_release;
};

inline constexpr uint64_t kDefaultMinZeroRun = 64 << 10;

struct WriterOptions {
  uint32_t chunk_size = kDefaultChunkRawSize;  // Page multiple, <= kMaxChunkRawSize.
  int zlib_level = 1;                           // 0..9; 0 stores every chunk raw.
  // Zero pages are found page by page; runs of them at least this long
  // become zero chunks, shorter ones stay inside the data around them (zlib
  // stores a zero page in a few bytes). 4096 makes every zero page a zero
  // chunk; the default gave 6x fewer chunks and an 8% smaller image on the
  // synthetic 512 MiB core of docs/image-format.md, "Performance".
  uint64_t min_zero_run = kDefaultMinZeroRun;
  unsigned threads = 0;                         // 0: one per CPU.
  uint64_t creation_time = 0;                   // 0: now.
  std::optional<std::array<uint8_t, 16>> image_id;  // Unset: random.
  std::string writer_name = "hiberload";
  // Called from the writing thread after each window: raw bytes done, total.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct WriteStats {
  uint64_t raw_bytes = 0;
  uint64_t stored_bytes = 0;
  uint64_t image_size = 0;
  uint32_t zero_chunks = 0, raw_chunks = 0, zlib_chunks = 0;
  uint64_t zero_bytes = 0, raw_chunk_bytes = 0, zlib_raw_bytes = 0;
};

// Writes the image to `out` (a partition or a pre-sized file; the image must
// fit in out.size()). Nothing reads as a valid image unless this succeeds.
Result<WriteStats> write_image(Storage& out, const MemorySource& memory, const ResumeData& resume,
                               const WriterOptions& options);

// An upper bound on the size of the image of `memory` (for pre-sizing a file
// output): every stored chunk is at most its raw length rounded up to blocks,
// and a window yields at most one chunk per page plus its two partial edges.
uint64_t max_image_size(const MemorySource& memory, const ResumeData& resume,
                        uint32_t chunk_size);

// Zeroes block 0 (the commit record) and flushes: the storage then reads as
// "no image". Used by write_image first, and by tools that discard an image.
Status invalidate_image(Storage& out);

}  // namespace hl::image
