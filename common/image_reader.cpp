#include "common/image_reader.h"

#include <string.h>

#include "common/image_validate.h"
#include "common/sha256.h"
#include "common/zlib_inflate.h"

namespace hl::image {

void ImageReader::release() {
  if (metadata_ != nullptr) allocator_.release(metadata_);
  metadata_ = nullptr;
}

Status ImageReader::read_commit_record() {
  if (storage_.size() < kMinImageSize) {
    return Error::make("no image (storage of {} bytes is smaller than the smallest image)",
                       storage_.size());
  }
  HL_TRY(storage_.read(kCommitRecordOffset, &record_, sizeof record_));
  return validate_commit_record(record_, storage_.size());
}

Status ImageReader::read_header() {
  HL_TRY(storage_.read(kHeaderOffset, &header_, sizeof header_));
  const Sha256Digest digest = sha256(&header_, sizeof header_);
  if (memcmp(digest.bytes, record_.header_sha256, sizeof digest.bytes) != 0) {
    return Error::make("header digest does not match the commit record (header corrupted or "
                       "overwritten)");
  }
  return validate_header(header_, record_, storage_.size());
}

Status ImageReader::read_metadata() {
  // validate_header bounded metadata_size by the storage and kMaxMetadataSize.
  const size_t size = static_cast<size_t>(header_.metadata_size);
  metadata_ = static_cast<uint8_t*>(allocator_.allocate(size == 0 ? 1 : size));
  if (metadata_ == nullptr) {
    return Error::make("out of memory for {} bytes of image metadata", size);
  }
  HL_TRY(storage_.read(header_.metadata_offset, metadata_, size));
  const Sha256Digest digest = sha256(metadata_, size);
  if (memcmp(digest.bytes, header_.metadata_sha256, sizeof digest.bytes) != 0) {
    return Error::make("metadata digest mismatch (tables at {x}+{x} corrupted)",
                       header_.metadata_offset, header_.metadata_size);
  }
  return validate_metadata(header_, metadata_, size);
}

Result<ImageInfo> ImageReader::open(OpenOptions options) {
  release();
  Status status = read_commit_record();
  if (status) status = read_header();
  if (status) status = read_metadata();
  if (!status) {
    release();
    return status.error();
  }
  const auto state = static_cast<ImageState>(record_.state);
  if (state == ImageState::kConsumed && !options.allow_consumed) {
    release();
    return Error::make("image is consumed (it was already resumed once)");
  }
  ImageInfo info = {};
  info.state = state;
  info.image_size = header_.image_size;
  info.creation_time = header_.creation_time;
  info.jump_back_entry = header_.jump_back_entry;
  info.page_size = header_.page_size;
  info.chunk_raw_size_max = header_.chunk_raw_size_max;
  info.segment_count = header_.segments.count;
  info.chunk_count = header_.chunks.count;
  info.total_raw_bytes = header_.total_raw_bytes;
  info.total_stored_bytes = header_.total_stored_bytes;
  info.kernel_release = header_.kernel_release;
  return info;
}

Span<const MemoryMapEntry> ImageReader::memory_map() const {
  return {table_entries<MemoryMapEntry>(header_, header_.memory_map, metadata_),
          header_.memory_map.count};
}

Span<const RuntimeMapEntry> ImageReader::runtime_map() const {
  return {table_entries<RuntimeMapEntry>(header_, header_.runtime_map, metadata_),
          header_.runtime_map.count};
}

Span<const ScratchRange> ImageReader::scratch_ranges() const {
  return {table_entries<ScratchRange>(header_, header_.scratch_ranges, metadata_),
          header_.scratch_ranges.count};
}

Span<const SegmentEntry> ImageReader::segments() const {
  return {table_entries<SegmentEntry>(header_, header_.segments, metadata_),
          header_.segments.count};
}

Span<const ChunkEntry> ImageReader::chunks() const {
  return {table_entries<ChunkEntry>(header_, header_.chunks, metadata_), header_.chunks.count};
}

Result<const ChunkEntry*> ImageReader::chunk_at(uint32_t index) const {
  if (!is_open()) return Error::make("image is not open");
  if (index >= header_.chunks.count) {
    return Error::make("chunk {} does not exist ({} chunks)", index, header_.chunks.count);
  }
  return &chunks()[index];
}

Status ImageReader::verify_stored(uint32_t index, const void* stored, size_t length) const {
  auto chunk = chunk_at(index);
  if (!chunk) return chunk.error();
  const ChunkEntry& c = **chunk;
  if (length != c.stored_length) {
    return Error::make("chunk {}: {} stored bytes given, {} expected", index, length,
                       c.stored_length);
  }
  if (c.encoding == static_cast<uint8_t>(ChunkEncoding::kZero)) return ok_status();
  const Sha256Digest digest = sha256(stored, length);
  if (memcmp(digest.bytes, c.sha256, sizeof digest.bytes) != 0) {
    return Error::make("chunk {}: SHA-256 mismatch in stored bytes at {x}+{x} (destination {x})",
                       index, c.storage_offset, c.stored_length, c.destination);
  }
  return ok_status();
}

Status ImageReader::read_stored(uint32_t index, void* buffer, size_t capacity) {
  auto chunk = chunk_at(index);
  if (!chunk) return chunk.error();
  const ChunkEntry& c = **chunk;
  if (capacity < c.stored_length) {
    return Error::make("chunk {}: buffer of {} bytes is too small for {} stored bytes", index,
                       capacity, c.stored_length);
  }
  if (c.stored_length != 0) {
    if (auto s = storage_.read(c.storage_offset, buffer, c.stored_length); !s) {
      return s.error().with_context("chunk {}", index);
    }
  }
  return verify_stored(index, buffer, c.stored_length);
}

Status ImageReader::decode(uint32_t index, const void* stored, void* out,
                           size_t out_capacity) const {
  auto chunk = chunk_at(index);
  if (!chunk) return chunk.error();
  const ChunkEntry& c = **chunk;
  if (out_capacity < c.raw_length) {
    return Error::make("chunk {}: output of {} bytes is too small for {} raw bytes", index,
                       out_capacity, c.raw_length);
  }
  switch (static_cast<ChunkEncoding>(c.encoding)) {
    case ChunkEncoding::kZero:
      memset(out, 0, c.raw_length);
      return ok_status();
    case ChunkEncoding::kRaw:
      if (stored != out) memmove(out, stored, c.raw_length);
      return ok_status();
    case ChunkEncoding::kZlib:
      if (auto s = inflate_exact(static_cast<const uint8_t*>(stored), c.stored_length,
                                 static_cast<uint8_t*>(out), c.raw_length, allocator_);
          !s) {
        return s.error().with_context("chunk {} (destination {x})", index, c.destination);
      }
      return ok_status();
    default:
      // validate_metadata refused every other encoding.
      return Error::make("chunk {}: cannot decode encoding {}", index, c.encoding);
  }
}

Status ImageReader::read_chunk(uint32_t index, void* out, size_t out_capacity, void* staging,
                               size_t staging_capacity) {
  auto chunk = chunk_at(index);
  if (!chunk) return chunk.error();
  const bool raw = (*chunk)->encoding == static_cast<uint8_t>(ChunkEncoding::kRaw);
  void* stored = raw ? out : staging;
  HL_TRY(read_stored(index, stored, raw ? out_capacity : staging_capacity));
  return decode(index, stored, out, out_capacity);
}

Status ImageReader::mark_consumed() {
  if (!is_open()) return Error::make("image is not open");
  if (record_.state != static_cast<uint32_t>(ImageState::kValid)) {
    return Error::make("image is {}, not valid: refusing to mark it consumed",
                       image_state_name(record_.state));
  }
  // Rewrite the whole block (record + zeros, as the writer left it) so the
  // write is aligned on 512- and 4096-byte devices; only the first sector,
  // which holds the record, changes.
  CommitRecord updated = record_;
  updated.state = static_cast<uint32_t>(ImageState::kConsumed);
  seal_commit_record(&updated);
  uint8_t block[kBlockSize] = {};
  memcpy(block, &updated, sizeof updated);
  HL_TRY(storage_.write(kCommitRecordOffset, block, sizeof block));
  if (auto s = storage_.flush(); !s) return s.error().with_context("flushing the consumed mark");
  record_ = updated;
  return ok_status();
}

}  // namespace hl::image
