#include "tools/lib/image_extract.h"

namespace hl::image {

ElfCoreLayout extracted_core_layout(const ImageReader& reader, uint16_t elf_type) {
  std::vector<PhysicalRange> ranges;
  for (const SegmentEntry& s : reader.segments()) ranges.push_back({s.physical_address, s.size});
  return layout_elf_core(ranges, elf_type);
}

Status for_each_decoded_chunk(ImageReader& reader,
                              const std::function<Status(const ChunkEntry&, const uint8_t*)>& sink,
                              const std::function<void(uint64_t done, uint64_t total)>& progress) {
  const uint32_t max = reader.header().chunk_raw_size_max;
  std::vector<uint8_t> raw(max), staging(max);
  uint64_t done = 0;
  for (uint32_t i = 0; i < reader.chunks().size(); ++i) {
    const ChunkEntry& c = reader.chunks()[i];
    HL_TRY(reader.read_chunk(i, raw.data(), raw.size(), staging.data(), staging.size()));
    HL_TRY(sink(c, raw.data()));
    done += c.raw_length;
    if (progress) progress(done, reader.header().total_raw_bytes);
  }
  return ok_status();
}

Status extract_elf_core(ImageReader& reader, const ElfCoreLayout& layout, Storage& out,
                        const std::function<void(uint64_t done, uint64_t total)>& progress) {
  if (out.size() < layout.file_size) {
    return Error::make("output of {} bytes is smaller than the core ({} bytes)", out.size(),
                       layout.file_size);
  }
  HL_TRY(out.write(0, layout.headers.data(), layout.headers.size()));
  HL_TRY(for_each_decoded_chunk(
      reader,
      [&](const ChunkEntry& c, const uint8_t* raw) {
        if (c.encoding == static_cast<uint8_t>(ChunkEncoding::kZero)) return ok_status();
        const SegmentEntry& s = reader.segments()[c.segment];
        return out.write(layout.range_offsets[c.segment] + (c.destination - s.physical_address),
                         raw, c.raw_length);
      },
      progress));
  return out.flush();
}

}  // namespace hl::image
