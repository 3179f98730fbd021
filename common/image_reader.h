// Reads and validates a hibernation image through hl::Storage.
//
// The same code runs in the firmware (Block I/O storage, boot-services pool
// allocator), in the host tools (file or partition) and in the tests (memory).
// open() reads the commit record, the header and the metadata tables, checks
// their digests and every rule of docs/image-format.md, and only then exposes
// the tables. Chunk payloads are read on demand, each checked against its
// SHA-256 before a caller may use it: the header digest covers the metadata,
// the metadata covers every chunk, so a verified chunk is authentic to the
// same degree as the commit record.
//
//   hl::image::ImageReader reader(disk, pool);
//   auto info = reader.open();
//   if (!info) return info.error();          // "no image (...)", "chunk 3: ..."
//   for (uint32_t i = 0; i < info->chunk_count; ++i) {
//     const auto& chunk = reader.chunks()[i];
//     HL_TRY(reader.read_chunk(i, destination_for(chunk), chunk.raw_length,
//                              staging, info->chunk_raw_size_max));
//   }
//   HL_TRY(reader.mark_consumed());          // before jumping, never after
//
// Memory: open() allocates one buffer of header.metadata_size bytes (bounded
// by kMaxMetadataSize and by the storage) from the Allocator given to the
// constructor; zlib's inflate state comes from it too. Nothing else.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/image_format.h"
#include "common/span.h"
#include "common/storage.h"

namespace hl::image {

struct ImageInfo {
  ImageState state;
  uint64_t image_size;
  uint64_t creation_time;
  uint64_t jump_back_entry;
  uint32_t page_size;
  // The largest raw chunk: a staging buffer this big holds any chunk's stored
  // bytes.
  uint32_t chunk_raw_size_max;
  uint32_t segment_count;
  uint32_t chunk_count;
  uint64_t total_raw_bytes;
  uint64_t total_stored_bytes;
  // Points into the reader; valid while it lives.
  const char* kernel_release;
};

struct OpenOptions {
  // By default a consumed image is an error ("already resumed"): a loader
  // must never place it again. Inspection tools set this to look at it.
  bool allow_consumed = false;
};

class ImageReader {
 public:
  ImageReader(Storage& storage, Allocator& allocator)
      : storage_(storage), allocator_(allocator) {}
  ~ImageReader() { release(); }
  ImageReader(const ImageReader&) = delete;
  ImageReader& operator=(const ImageReader&) = delete;

  // Validates everything but the chunk payloads. On failure the reader is
  // closed and the Error says what is wrong and where.
  Result<ImageInfo> open(OpenOptions options = {});
  bool is_open() const { return metadata_ != nullptr; }

  // The validated structures. Precondition: is_open().
  const CommitRecord& commit_record() const { return record_; }
  const ImageHeader& header() const { return header_; }
  Span<const MemoryMapEntry> memory_map() const;
  Span<const RuntimeMapEntry> runtime_map() const;
  Span<const ScratchRange> scratch_ranges() const;
  Span<const SegmentEntry> segments() const;
  Span<const ChunkEntry> chunks() const;

  // Reads chunk `index`'s stored bytes into `buffer` (at least stored_length
  // bytes) and checks their SHA-256. A zero chunk reads nothing.
  Status read_stored(uint32_t index, void* buffer, size_t capacity);

  // Checks stored bytes already in memory against chunk `index`'s SHA-256.
  Status verify_stored(uint32_t index, const void* stored, size_t length) const;

  // Turns chunk `index`'s verified stored bytes into its raw bytes in `out`
  // (at least raw_length bytes). For a raw chunk `stored` may equal `out`.
  Status decode(uint32_t index, const void* stored, void* out, size_t out_capacity) const;

  // read_stored + decode: chunk `index`'s raw bytes into `out`. A raw chunk
  // is read straight into `out`; a zlib chunk goes through `staging` (at
  // least stored_length bytes; chunk_raw_size_max is always enough). Nothing
  // in `out` is meaningful unless this succeeds.
  Status read_chunk(uint32_t index, void* out, size_t out_capacity, void* staging,
                    size_t staging_capacity);

  // Marks the image consumed: one write of block 0 (the commit record with
  // state kConsumed), then a flush. Precondition: opened in state kValid.
  Status mark_consumed();

 private:
  void release();
  Status read_commit_record();
  Status read_header();
  Status read_metadata();
  Result<const ChunkEntry*> chunk_at(uint32_t index) const;

  Storage& storage_;
  Allocator& allocator_;
  CommitRecord record_ = {};
  ImageHeader header_ = {};
  uint8_t* metadata_ = nullptr;
};

}  // namespace hl::image
