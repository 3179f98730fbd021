#include "common/image_validate.h"

#include <string.h>

#include "common/sha256.h"
#include "common/storage.h"

namespace hl::image {
namespace {

bool all_zero(const void* bytes, size_t length) {
  const auto* p = static_cast<const uint8_t*>(bytes);
  for (size_t i = 0; i < length; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// base + size without wrapping past 2^64.
bool range_fits(uint64_t base, uint64_t size) { return size <= UINT64_MAX - base; }

struct TableSpec {
  const char* name;
  const TableRef* ref;
  uint32_t entry_size;
};

// Tables appear in this order, each at the first block boundary after the
// previous one (an empty table takes no room).
constexpr int kTableCount = 5;

void table_specs(const ImageHeader& h, TableSpec out[kTableCount]) {
  out[0] = {"memory map", &h.memory_map, sizeof(MemoryMapEntry)};
  out[1] = {"runtime map", &h.runtime_map, sizeof(RuntimeMapEntry)};
  out[2] = {"scratch ranges", &h.scratch_ranges, sizeof(ScratchRange)};
  out[3] = {"segment table", &h.segments, sizeof(SegmentEntry)};
  out[4] = {"chunk table", &h.chunks, sizeof(ChunkEntry)};
}

Status validate_tables_layout(const ImageHeader& h) {
  TableSpec specs[kTableCount];
  table_specs(h, specs);
  uint64_t expected = h.metadata_offset;
  for (const TableSpec& t : specs) {
    if (t.ref->entry_size != t.entry_size) {
      return Error::make("{}: entry size {} (version {} uses {})", t.name, t.ref->entry_size,
                         kFormatVersion, t.entry_size);
    }
    if (t.ref->offset != expected) {
      return Error::make("{}: offset {x} (expected {x}: tables are packed in order on block "
                         "boundaries)",
                         t.name, t.ref->offset, expected);
    }
    // count < 2^32 and entry_size <= 64: the product cannot overflow.
    const uint64_t bytes = uint64_t{t.ref->count} * t.ref->entry_size;
    if (!range_inside(t.ref->offset, bytes, h.image_size)) {
      return Error::make("{}: {} entries at {x} ({} bytes) end past the image ({x} bytes)",
                         t.name, t.ref->count, t.ref->offset, bytes, h.image_size);
    }
    expected = align_up(t.ref->offset + bytes, kBlockSize);
  }
  // The last table ends inside the image, and the image size is block-aligned,
  // so `expected` is at most image_size here.
  if (expected != h.image_size) {
    return Error::make("image size {x} does not end at the last table's block ({x})",
                       h.image_size, expected);
  }
  return ok_status();
}

Status validate_memory_map(const MemoryMapEntry* entries, uint32_t count) {
  uint64_t previous_end = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const MemoryMapEntry& e = entries[i];
    if (e.size == 0 || !range_fits(e.base, e.size)) {
      return Error::make("memory map entry {}: invalid range {x}+{x}", i, e.base, e.size);
    }
    if (i > 0 && e.base < previous_end) {
      return Error::make("memory map entry {}: {x} overlaps or precedes the previous entry "
                         "(ends at {x})",
                         i, e.base, previous_end);
    }
    previous_end = e.base + e.size;
  }
  return ok_status();
}

Status validate_runtime_map(const RuntimeMapEntry* entries, uint32_t count) {
  constexpr uint64_t kEfiPage = 4096;
  for (uint32_t i = 0; i < count; ++i) {
    const RuntimeMapEntry& e = entries[i];
    if (e.page_count == 0 || e.page_count > UINT64_MAX / kEfiPage) {
      return Error::make("runtime map entry {}: invalid page count {}", i, e.page_count);
    }
    const uint64_t bytes = e.page_count * kEfiPage;
    if (!is_aligned(e.physical_address, kEfiPage) || !range_fits(e.physical_address, bytes)) {
      return Error::make("runtime map entry {}: invalid physical range {x}+{x}", i,
                         e.physical_address, bytes);
    }
    if (!is_aligned(e.virtual_address, kEfiPage) || !range_fits(e.virtual_address, bytes)) {
      return Error::make("runtime map entry {}: invalid virtual range {x}+{x}", i,
                         e.virtual_address, bytes);
    }
  }
  return ok_status();
}

Status validate_scratch(const ScratchRange* ranges, uint32_t count) {
  uint64_t previous_end = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const ScratchRange& r = ranges[i];
    if (r.size == 0 || !range_fits(r.base, r.size)) {
      return Error::make("scratch range {}: invalid range {x}+{x}", i, r.base, r.size);
    }
    if (i > 0 && r.base < previous_end) {
      return Error::make("scratch range {}: {x} overlaps or precedes the previous range "
                         "(ends at {x})",
                         i, r.base, previous_end);
    }
    previous_end = r.base + r.size;
  }
  return ok_status();
}

Status validate_segments(const ImageHeader& h, const SegmentEntry* segments) {
  const uint32_t count = h.segments.count;
  if (count == 0) return Error::make("segment table is empty: the image restores no memory");
  uint64_t previous_end = 0;
  uint64_t next_chunk = 0;
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const SegmentEntry& s = segments[i];
    if (s.size == 0 || !range_fits(s.physical_address, s.size)) {
      return Error::make("segment {}: invalid range {x}+{x}", i, s.physical_address, s.size);
    }
    if (i > 0 && s.physical_address < previous_end) {
      return Error::make("segment {}: {x} overlaps or precedes segment {} (ends at {x}); "
                         "segments must be sorted and disjoint",
                         i, s.physical_address, i - 1, previous_end);
    }
    previous_end = s.physical_address + s.size;
    if (s.first_chunk != next_chunk) {
      return Error::make("segment {}: first chunk {} (expected {}: chunks follow segment order)",
                         i, s.first_chunk, next_chunk);
    }
    if (s.chunk_count == 0 || s.chunk_count > h.chunks.count - next_chunk) {
      return Error::make("segment {}: {} chunks from chunk {} exceed the chunk table ({} chunks)",
                         i, s.chunk_count, s.first_chunk, h.chunks.count);
    }
    next_chunk += s.chunk_count;
    // Each segment is at most 2^64 - 1 bytes; a sum past that is nonsense.
    if (s.size > UINT64_MAX - total) return Error::make("segment {}: total size overflows", i);
    total += s.size;
  }
  if (next_chunk != h.chunks.count) {
    return Error::make("segments cover {} chunks but the chunk table has {}", next_chunk,
                       h.chunks.count);
  }
  if (total != h.total_raw_bytes) {
    return Error::make("segments add up to {x} bytes but the header says {x}", total,
                       h.total_raw_bytes);
  }
  return ok_status();
}

// Scratch ranges are RAM the image does not cover.
Status validate_scratch_outside_segments(const ScratchRange* scratch, uint32_t scratch_count,
                                         const SegmentEntry* segments, uint32_t segment_count) {
  uint32_t s = 0;
  for (uint32_t r = 0; r < scratch_count; ++r) {
    const uint64_t base = scratch[r].base;
    const uint64_t end = base + scratch[r].size;
    // Both lists are sorted and disjoint: skip segments that end before it.
    while (s < segment_count && segments[s].physical_address + segments[s].size <= base) ++s;
    if (s < segment_count && segments[s].physical_address < end) {
      return Error::make("scratch range {} ({x}+{x}) overlaps segment {} ({x}+{x})", r, base,
                         scratch[r].size, s, segments[s].physical_address, segments[s].size);
    }
  }
  return ok_status();
}

Status validate_chunk_encoding(uint32_t i, const ChunkEntry& c) {
  switch (static_cast<ChunkEncoding>(c.encoding)) {
    case ChunkEncoding::kZero:
      if (c.stored_length != 0 || c.storage_offset != 0) {
        return Error::make("chunk {}: zero chunk with stored range {x}+{x} (must be empty)", i,
                           c.storage_offset, c.stored_length);
      }
      if (!all_zero(c.sha256, sizeof c.sha256)) {
        return Error::make("chunk {}: zero chunk with a non-zero digest", i);
      }
      return ok_status();
    case ChunkEncoding::kRaw:
      if (c.stored_length != c.raw_length) {
        return Error::make("chunk {}: raw chunk stores {} bytes for {} raw bytes", i,
                           c.stored_length, c.raw_length);
      }
      return ok_status();
    case ChunkEncoding::kZlib:
      // A writer stores a chunk raw when zlib does not make it smaller, which
      // also bounds every stored length by chunk_raw_size_max.
      if (c.stored_length == 0 || c.stored_length > c.raw_length) {
        return Error::make("chunk {}: zlib chunk stores {} bytes for {} raw bytes (must be 1.."
                           "raw length)",
                           i, c.stored_length, c.raw_length);
      }
      return ok_status();
    case ChunkEncoding::kAes256GcmRaw:
    case ChunkEncoding::kAes256GcmZlib:
      return Error::make("chunk {}: encrypted chunk ({}) in an image without the encrypted flag",
                         i, chunk_encoding_name(c.encoding));
  }
  return Error::make("chunk {}: unknown encoding {}", i, c.encoding);
}

Status validate_chunks(const ImageHeader& h, const SegmentEntry* segments,
                       const ChunkEntry* chunks) {
  const uint64_t data_end = h.data_offset + h.data_size;
  uint64_t next_storage = h.data_offset;
  uint64_t total_stored = 0;
  for (uint32_t s = 0; s < h.segments.count; ++s) {
    const SegmentEntry& seg = segments[s];
    const uint64_t seg_end = seg.physical_address + seg.size;
    uint64_t next_destination = seg.physical_address;
    // validate_segments bounded first_chunk + chunk_count by the table.
    for (uint32_t i = seg.first_chunk; i < seg.first_chunk + seg.chunk_count; ++i) {
      const ChunkEntry& c = chunks[i];
      if (c.segment != s) {
        return Error::make("chunk {}: names segment {} but lies in segment {}", i, c.segment, s);
      }
      if (c.flags != 0) return Error::make("chunk {}: unknown flags {x}", i, c.flags);
      if (c.raw_length == 0 || c.raw_length > h.chunk_raw_size_max) {
        return Error::make("chunk {}: raw length {} (must be 1..{})", i, c.raw_length,
                           h.chunk_raw_size_max);
      }
      if (c.destination != next_destination) {
        return Error::make("chunk {}: destination {x} (expected {x}: chunks tile their segment "
                           "in order)",
                           i, c.destination, next_destination);
      }
      if (c.raw_length > seg_end - c.destination) {
        return Error::make("chunk {}: {x}+{x} ends past segment {} ({x}+{x})", i, c.destination,
                           c.raw_length, s, seg.physical_address, seg.size);
      }
      next_destination = c.destination + c.raw_length;
      HL_TRY(validate_chunk_encoding(i, c));
      if (c.stored_length == 0) continue;
      if (c.storage_offset != next_storage) {
        return Error::make("chunk {}: stored at {x} (expected {x}: stored chunks are packed in "
                           "order on block boundaries)",
                           i, c.storage_offset, next_storage);
      }
      if (!range_inside(c.storage_offset, c.stored_length, data_end)) {
        return Error::make("chunk {}: stored range {x}+{x} ends past the data area (ends at {x})",
                           i, c.storage_offset, c.stored_length, data_end);
      }
      next_storage = align_up(c.storage_offset + c.stored_length, kBlockSize);
      total_stored += c.stored_length;
    }
    if (next_destination != seg_end) {
      return Error::make("segment {}: chunks end at {x}, segment ends at {x}", s,
                         next_destination, seg_end);
    }
  }
  if (next_storage != data_end) {
    return Error::make("stored chunks end at {x} but the data area ends at {x}", next_storage,
                       data_end);
  }
  if (total_stored != h.total_stored_bytes) {
    return Error::make("chunks store {x} bytes but the header says {x}", total_stored,
                       h.total_stored_bytes);
  }
  return ok_status();
}

}  // namespace

bool commit_record_is_empty(const CommitRecord& record) { return all_zero(&record, sizeof record); }

Status validate_commit_record(const CommitRecord& r, uint64_t storage_size) {
  if (commit_record_is_empty(r)) {
    return Error::make("no image (the commit record is empty: never written, or a save did not "
                       "finish)");
  }
  if (memcmp(r.magic, kCommitMagic, sizeof kCommitMagic) != 0) {
    return Error::make("no image (commit record has no hiberload magic)");
  }
  if (!commit_record_checksum_ok(r)) {
    return Error::make("commit record checksum mismatch (torn or corrupted write)");
  }
  if (r.format_version != kFormatVersion) {
    return Error::make("commit record: format version {} (this reader knows {})",
                       r.format_version, kFormatVersion);
  }
  if (r.state != static_cast<uint32_t>(ImageState::kValid) &&
      r.state != static_cast<uint32_t>(ImageState::kConsumed)) {
    return Error::make("commit record: unknown state {}", r.state);
  }
  if (r.header_offset != kHeaderOffset || r.header_size != kBlockSize) {
    return Error::make("commit record: header at {x}+{x} (expected {x}+{x})", r.header_offset,
                       r.header_size, kHeaderOffset, kBlockSize);
  }
  if (r.image_size < kMinImageSize || !is_aligned(r.image_size, kBlockSize)) {
    return Error::make("commit record: image size {x} is not a block multiple of at least {x}",
                       r.image_size, kMinImageSize);
  }
  if (r.image_size > storage_size) {
    return Error::make("commit record: image size {x} is larger than the storage ({x} bytes); "
                       "truncated image?",
                       r.image_size, storage_size);
  }
  return ok_status();
}

Status validate_header(const ImageHeader& h, const CommitRecord& r, uint64_t storage_size) {
  if (memcmp(h.magic, kHeaderMagic, sizeof kHeaderMagic) != 0) {
    return Error::make("header: bad magic");
  }
  if (h.format_version != kFormatVersion || h.format_version != r.format_version) {
    return Error::make("header: format version {} (commit record says {}, reader knows {})",
                       h.format_version, r.format_version, kFormatVersion);
  }
  if (h.header_size != kBlockSize) {
    return Error::make("header: size {} (expected {})", h.header_size, kBlockSize);
  }
  if (memcmp(h.image_id, r.image_id, sizeof h.image_id) != 0) {
    return Error::make("header: image id differs from the commit record's (stale header)");
  }
  const uint64_t unknown_required = h.required_flags & ~kKnownRequiredFlags;
  if (unknown_required != 0) {
    return Error::make("header: unknown required flags {x}; written by a newer hiberload?",
                       unknown_required);
  }
  if (h.required_flags & kRequiredFlagEncrypted) {
    return Error::make("header: image is encrypted; this reader does not support encryption");
  }
  if (h.image_size != r.image_size) {
    return Error::make("header: image size {x} differs from the commit record's {x}",
                       h.image_size, r.image_size);
  }
  if (h.image_size > storage_size) {
    return Error::make("header: image size {x} is larger than the storage ({x} bytes)",
                       h.image_size, storage_size);
  }
  if (h.page_size < 4096 || h.page_size > (1u << 21) || (h.page_size & (h.page_size - 1)) != 0) {
    return Error::make("header: page size {} (must be a power of two in 4096..2 MiB)",
                       h.page_size);
  }
  if (h.chunk_raw_size_max < h.page_size || h.chunk_raw_size_max > kMaxChunkRawSize ||
      h.chunk_raw_size_max % h.page_size != 0) {
    return Error::make("header: chunk size {} (must be a page multiple up to {})",
                       h.chunk_raw_size_max, kMaxChunkRawSize);
  }
  if (h.data_offset != kDataOffset) {
    return Error::make("header: data offset {x} (expected {x})", h.data_offset, kDataOffset);
  }
  if (!is_aligned(h.data_size, kBlockSize) || !range_inside(h.data_offset, h.data_size, h.image_size)) {
    return Error::make("header: data area {x}+{x} is unaligned or ends past the image ({x} bytes)",
                       h.data_offset, h.data_size, h.image_size);
  }
  if (h.metadata_offset != h.data_offset + h.data_size ||
      h.metadata_size != h.image_size - h.metadata_offset) {
    return Error::make("header: metadata {x}+{x} (expected {x}+{x}: it follows the data and "
                       "ends the image)",
                       h.metadata_offset, h.metadata_size, h.data_offset + h.data_size,
                       h.image_size - (h.data_offset + h.data_size));
  }
  if (h.metadata_size > kMaxMetadataSize) {
    return Error::make("header: metadata of {} bytes exceeds the limit of {}", h.metadata_size,
                       kMaxMetadataSize);
  }
  HL_TRY(validate_tables_layout(h));
  if (h.kernel_release[kKernelReleaseSize - 1] != '\0' || h.writer[kWriterNameSize - 1] != '\0') {
    return Error::make("header: kernel release or writer name is not NUL-terminated");
  }
  const bool auth_flag = (h.optional_flags & kOptionalFlagAuthSection) != 0;
  if (h.auth.type == static_cast<uint32_t>(AuthType::kNone)) {
    if (auth_flag || h.auth.offset != 0 || h.auth.length != 0) {
      return Error::make("header: auth section described without an auth type");
    }
  } else if (!auth_flag || h.auth.offset != kAuthSectionOffset || h.auth.length == 0 ||
             h.auth.length > kBlockSize) {
    return Error::make("header: auth section {x}+{x} of type {} is malformed", h.auth.offset,
                       h.auth.length, h.auth.type);
  }
  if (h.encryption.cipher != static_cast<uint32_t>(Cipher::kNone)) {
    return Error::make("header: cipher {} set without the encrypted flag", h.encryption.cipher);
  }
  return ok_status();
}

Status validate_metadata(const ImageHeader& h, const uint8_t* metadata, uint64_t metadata_size) {
  if (metadata_size != h.metadata_size) {
    return Error::make("metadata: {} bytes given, header says {}", metadata_size,
                       h.metadata_size);
  }
  const auto* memory_map = table_entries<MemoryMapEntry>(h, h.memory_map, metadata);
  const auto* runtime_map = table_entries<RuntimeMapEntry>(h, h.runtime_map, metadata);
  const auto* scratch = table_entries<ScratchRange>(h, h.scratch_ranges, metadata);
  const auto* segments = table_entries<SegmentEntry>(h, h.segments, metadata);
  const auto* chunks = table_entries<ChunkEntry>(h, h.chunks, metadata);

  HL_TRY(validate_memory_map(memory_map, h.memory_map.count));
  const Sha256Digest fingerprint =
      sha256(memory_map, uint64_t{h.memory_map.count} * sizeof(MemoryMapEntry));
  if (memcmp(fingerprint.bytes, h.memory_map_sha256, sizeof fingerprint.bytes) != 0) {
    return Error::make("memory map fingerprint does not match the memory map table");
  }
  HL_TRY(validate_runtime_map(runtime_map, h.runtime_map.count));
  HL_TRY(validate_scratch(scratch, h.scratch_ranges.count));
  HL_TRY(validate_segments(h, segments));
  HL_TRY(validate_scratch_outside_segments(scratch, h.scratch_ranges.count, segments,
                                           h.segments.count));
  return validate_chunks(h, segments, chunks);
}

}  // namespace hl::image
