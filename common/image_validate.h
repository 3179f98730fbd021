// The rules that make a hibernation image well formed, as pure functions.
//
// The reader runs them in order on every open (commit record, header, then
// the metadata once its digest matched); the writer runs the same functions
// on what it is about to commit, so a writer bug surfaces as a refused save,
// not as an image the firmware refuses at the next power-on.
//
// They assume nothing about the input: an image crafted by an attacker can
// only produce an Error. Every size is checked against the storage before it
// is used, every sum for overflow, every loop is bounded by a count that was
// itself bounded by the storage size. Reasons name the structure, the index
// and the offending values ("chunk 17: ...").
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/image_format.h"

namespace hl::image {

// Metadata beyond this is refused before anything is allocated for it. It
// allows about 4 million chunks (4 TiB of memory in 1 MiB chunks).
inline constexpr uint64_t kMaxMetadataSize = 256ull << 20;

// True if the record is all zero bytes: the writer's "no image" mark.
bool commit_record_is_empty(const CommitRecord& record);

// Block 0. Accepts kValid and kConsumed; the caller decides what a consumed
// image means to it.
Status validate_commit_record(const CommitRecord& record, uint64_t storage_size);

// Block 1, after its SHA-256 matched record.header_sha256: fields, flags, and
// the placement of the data area and of every table inside the image.
Status validate_header(const ImageHeader& header, const CommitRecord& record,
                       uint64_t storage_size);

// The metadata (header.metadata_size bytes from header.metadata_offset), after
// validate_header succeeded and its SHA-256 matched header.metadata_sha256:
// every table entry, and how segments, chunks and stored bytes fit together.
Status validate_metadata(const ImageHeader& header, const uint8_t* metadata,
                         uint64_t metadata_size);

// A table's entries inside the metadata, once validate_header accepted it.
template <typename Entry>
const Entry* table_entries(const ImageHeader& header, const TableRef& table,
                           const uint8_t* metadata) {
  return reinterpret_cast<const Entry*>(metadata + (table.offset - header.metadata_offset));
}

}  // namespace hl::image
