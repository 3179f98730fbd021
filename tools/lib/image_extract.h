// Turns a hibernation image back into an ELF64 core (hiberload-inspect
// --extract; the round-trip tests), one PT_LOAD per segment, laid out by
// layout_elf_core().
#pragma once

#include <stdint.h>

#include <functional>
#include <vector>

#include "common/image_reader.h"
#include "tools/lib/elf_core_writer.h"

namespace hl::image {

// The memory an extraction covers: `reader`'s segments, or only their parts
// inside `only` when it is not empty (the pages a fallback kernel still has
// to load after hiberload placed the rest, see docs/kernel-loading.md).
std::vector<PhysicalRange> extracted_ranges(const ImageReader& reader,
                                            const std::vector<PhysicalRange>& only = {});

// The layout of the core extract_elf_core() writes: one PT_LOAD per range.
ElfCoreLayout extracted_core_layout(const std::vector<PhysicalRange>& ranges, uint16_t elf_type);

// Writes the core into `out`, which must be at least layout.file_size bytes
// and read as zeros where nothing is written (a fresh sparse file, zeroed
// memory): zero chunks are not written. Every chunk is verified on the way;
// the first bad one ends the extraction with its reason.
// `ranges` is what extracted_ranges() returned for the layout; chunks
// outside them are not even read.
Status extract_elf_core(ImageReader& reader, const std::vector<PhysicalRange>& ranges,
                        const ElfCoreLayout& layout, Storage& out,
                        const std::function<void(uint64_t done, uint64_t total)>& progress = {});

// Reads, verifies and decodes every chunk in order, passing each decoded
// chunk to `sink`; stops at the first problem (hiberload-inspect --verify).
// `wanted`, when given, skips the chunks it returns false for.
Status for_each_decoded_chunk(ImageReader& reader,
                              const std::function<Status(const ChunkEntry&, const uint8_t*)>& sink,
                              const std::function<void(uint64_t done, uint64_t total)>& progress = {},
                              const std::function<bool(const ChunkEntry&)>& wanted = {});

}  // namespace hl::image
