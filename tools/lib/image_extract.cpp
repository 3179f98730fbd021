#include "tools/lib/image_extract.h"

#include <algorithm>

namespace hl::image {

std::vector<PhysicalRange> extracted_ranges(const ImageReader& reader,
                                            const std::vector<PhysicalRange>& only) {
  std::vector<PhysicalRange> ranges;
  for (const SegmentEntry& s : reader.segments()) {
    const PhysicalRange segment{s.physical_address, s.size};
    if (only.empty()) {
      ranges.push_back(segment);
      continue;
    }
    for (const PhysicalRange& o : only) {
      const uint64_t start = std::max(segment.base, o.base);
      const uint64_t end = std::min(segment.end(), o.end());
      if (start < end) ranges.push_back({start, end - start});
    }
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const PhysicalRange& a, const PhysicalRange& b) { return a.base < b.base; });
  // Overlapping or touching selections become one range: kexec refuses
  // overlapping segments.
  std::vector<PhysicalRange> merged;
  for (const PhysicalRange& r : ranges) {
    if (!merged.empty() && r.base <= merged.back().end()) {
      merged.back().size = std::max(merged.back().end(), r.end()) - merged.back().base;
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

ElfCoreLayout extracted_core_layout(const std::vector<PhysicalRange>& ranges, uint16_t elf_type) {
  return layout_elf_core(ranges, elf_type);
}

Status for_each_decoded_chunk(ImageReader& reader,
                              const std::function<Status(const ChunkEntry&, const uint8_t*)>& sink,
                              const std::function<void(uint64_t done, uint64_t total)>& progress,
                              const std::function<bool(const ChunkEntry&)>& wanted) {
  const uint32_t max = reader.header().chunk_raw_size_max;
  std::vector<uint8_t> raw(max), staging(max);
  uint64_t done = 0;
  for (uint32_t i = 0; i < reader.chunks().size(); ++i) {
    const ChunkEntry& c = reader.chunks()[i];
    if (!wanted || wanted(c)) {
      HL_TRY(reader.read_chunk(i, raw.data(), raw.size(), staging.data(), staging.size()));
      HL_TRY(sink(c, raw.data()));
    }
    done += c.raw_length;
    if (progress) progress(done, reader.header().total_raw_bytes);
  }
  return ok_status();
}

Status extract_elf_core(ImageReader& reader, const std::vector<PhysicalRange>& ranges,
                        const ElfCoreLayout& layout, Storage& out,
                        const std::function<void(uint64_t done, uint64_t total)>& progress) {
  if (out.size() < layout.file_size) {
    return Error::make("output of {} bytes is smaller than the core ({} bytes)", out.size(),
                       layout.file_size);
  }
  HL_TRY(out.write(0, layout.headers.data(), layout.headers.size()));
  // Calls f(range index, start, end) for each range overlapping the chunk.
  auto for_each_overlap = [&](const ChunkEntry& c, const auto& f) {
    const uint64_t chunk_end = c.destination + c.raw_length;
    auto it = std::upper_bound(ranges.begin(), ranges.end(), c.destination,
                               [](uint64_t a, const PhysicalRange& r) { return a < r.end(); });
    for (; it != ranges.end() && it->base < chunk_end; ++it) {
      f(static_cast<size_t>(it - ranges.begin()), std::max(it->base, c.destination),
        std::min(it->end(), chunk_end));
    }
  };
  HL_TRY(for_each_decoded_chunk(
      reader,
      [&](const ChunkEntry& c, const uint8_t* raw) {
        if (c.encoding == static_cast<uint8_t>(ChunkEncoding::kZero)) return ok_status();
        Status status = ok_status();
        for_each_overlap(c, [&](size_t k, uint64_t start, uint64_t end) {
          if (!status) return;
          status = out.write(layout.range_offsets[k] + (start - ranges[k].base),
                             raw + (start - c.destination), end - start);
        });
        return status;
      },
      progress,
      [&](const ChunkEntry& c) {
        bool any = false;
        for_each_overlap(c, [&](size_t, uint64_t, uint64_t) { any = true; });
        return any;
      }));
  return out.flush();
}

}  // namespace hl::image
