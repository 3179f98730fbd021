// Helpers for the image format tests: synthetic memory, images in memory,
// and re-sealing an image after a test changed one field on purpose (so the
// validator rule under test, not a digest, is what refuses it).
#pragma once

#include <elf.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/image_format.h"
#include "common/image_reader.h"
#include "common/sha256.h"
#include "common/storage.h"
#include "tools/lib/heap_allocator.h"
#include "tools/lib/image_writer.h"
#include "tools/lib/memory_source.h"

namespace hl::test {

// Physical memory held in vectors, one per range.
class VectorMemory final : public MemorySource {
 public:
  void add(uint64_t base, std::vector<uint8_t> bytes) {
    ranges_.push_back({base, bytes.size()});
    data_.push_back(std::move(bytes));
  }
  const std::vector<PhysicalRange>& ranges() const override { return ranges_; }
  Status read(uint64_t address, void* buffer, size_t length) const override {
    for (size_t i = 0; i < ranges_.size(); ++i) {
      if (address >= ranges_[i].base && address + length <= ranges_[i].end()) {
        std::memcpy(buffer, data_[i].data() + (address - ranges_[i].base), length);
        return ok_status();
      }
    }
    return Error::make("no memory at {x}", address);
  }
  const std::vector<uint8_t>& bytes(size_t i) const { return data_[i]; }

 private:
  std::vector<PhysicalRange> ranges_;
  std::vector<std::vector<uint8_t>> data_;
};

enum class PageKind { kZero, kRandom, kText };

// A page of the given kind, deterministic in `seed`.
inline void fill_page(uint8_t* page, size_t size, PageKind kind, uint32_t seed) {
  std::mt19937 rng(seed);
  switch (kind) {
    case PageKind::kZero: std::memset(page, 0, size); break;
    case PageKind::kRandom:
      for (size_t i = 0; i < size; ++i) page[i] = static_cast<uint8_t>(rng());
      break;
    case PageKind::kText: {
      static const char kWords[] = "the quick brown fox jumps over the lazy dog 0123456789 ";
      for (size_t i = 0; i < size; ++i) page[i] = static_cast<uint8_t>(kWords[(i + seed) % (sizeof kWords - 1)]);
      if (size > 64) page[rng() % size] = static_cast<uint8_t>(rng());
      break;
    }
  }
}

inline std::vector<uint8_t> pages(const std::vector<PageKind>& kinds, uint32_t seed = 1) {
  std::vector<uint8_t> bytes(kinds.size() * 4096);
  for (size_t i = 0; i < kinds.size(); ++i) {
    fill_page(bytes.data() + i * 4096, 4096, kinds[i], seed * 1000 + static_cast<uint32_t>(i));
  }
  return bytes;
}

inline image::ResumeData sample_resume() {
  image::ResumeData r;
  r.jump_back_entry = 0x1234567;
  r.page_size = 4096;
  r.memory_map = {{0x0, 0x9f000, 1, 0}, {0x9f000, 0x61000, 2, 0}, {0x100000, 0x3ff00000, 1, 0}};
  r.runtime_map = {{0x3f000000, 0xfffffffeff000000, 16, 0x800000000000000f, 5, 0}};
  r.scratch = {{0x20000000, 0x1000000}};
  r.kernel_release = "6.12.117-test";
  return r;
}

inline image::WriterOptions sample_options() {
  image::WriterOptions o;
  o.creation_time = 1700000000;
  o.image_id = std::array<uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  o.threads = 2;
  o.min_zero_run = 4096;  // Every zero page its own chunk: small tests see all kinds.
  return o;
}

// Memory with three segments mixing zero, random and text pages: the first
// ends with zero pages, the second crosses a 1 MiB chunk boundary, the third
// has an unaligned end.
inline VectorMemory sample_memory() {
  using K = PageKind;
  VectorMemory m;
  m.add(0x1000, pages({K::kText, K::kZero, K::kZero, K::kRandom, K::kText, K::kZero, K::kZero}, 1));
  std::vector<PageKind> big;
  for (int i = 0; i < 300; ++i) big.push_back(i % 7 == 0 ? K::kRandom : i % 3 == 0 ? K::kText : K::kZero);
  m.add(0x100000 - 0x10000, pages(big, 2));
  std::vector<uint8_t> odd = pages({K::kRandom, K::kZero, K::kText}, 3);
  odd.resize(odd.size() - 100);
  m.add(0x400000, odd);
  return m;
}

// An image in a vector, with room to spare after it.
inline std::vector<uint8_t> write_to_vector(const MemorySource& memory,
                                            const image::ResumeData& resume,
                                            const image::WriterOptions& options,
                                            uint64_t capacity = 8 << 20) {
  std::vector<uint8_t> bytes(capacity);
  MemoryStorage storage(bytes.data(), bytes.size());
  auto stats = image::write_image(storage, memory, resume, options);
  if (!stats) {
    std::fprintf(stderr, "write_image: %s\n", stats.error().reason());
    std::abort();
  }
  bytes.resize(stats->image_size);
  return bytes;
}

template <typename T>
T* at(std::vector<uint8_t>& image, uint64_t offset) {
  return reinterpret_cast<T*>(image.data() + offset);
}

inline image::CommitRecord* record_of(std::vector<uint8_t>& image) {
  return at<image::CommitRecord>(image, image::kCommitRecordOffset);
}
inline image::ImageHeader* header_of(std::vector<uint8_t>& image) {
  return at<image::ImageHeader>(image, image::kHeaderOffset);
}

// Recomputes the memory map fingerprint, metadata digest, header digest and
// record checksum of a well-placed image, in that order.
inline void reseal(std::vector<uint8_t>& image) {
  image::ImageHeader* h = header_of(image);
  if (h->metadata_offset <= image.size() && h->metadata_size <= image.size() - h->metadata_offset) {
    const uint64_t map_offset = h->memory_map.offset;
    const uint64_t map_bytes = uint64_t{h->memory_map.count} * sizeof(image::MemoryMapEntry);
    if (map_offset <= image.size() && map_bytes <= image.size() - map_offset) {
      Sha256Digest d = sha256(image.data() + map_offset, map_bytes);
      std::memcpy(h->memory_map_sha256, d.bytes, 32);
    }
    Sha256Digest d = sha256(image.data() + h->metadata_offset, h->metadata_size);
    std::memcpy(h->metadata_sha256, d.bytes, 32);
  }
  Sha256Digest d = sha256(h, sizeof *h);
  std::memcpy(record_of(image)->header_sha256, d.bytes, 32);
  image::seal_commit_record(record_of(image));
}

// Opens an image in memory; returns "" on success or the error reason.
inline std::string open_reason(std::vector<uint8_t>& image, image::OpenOptions options = {}) {
  MemoryStorage storage(image.data(), image.size());
  HeapAllocator allocator;
  image::ImageReader reader(storage, allocator);
  auto info = reader.open(options);
  return info ? "" : info.error().reason();
}

// Builds an ELF64 core: each load is (paddr, file bytes, memsz >= bytes).
struct CoreLoad {
  uint64_t paddr;
  std::vector<uint8_t> bytes;
  uint64_t memsz;
  // Unset: the bytes go after the headers; set: p_offset is this (the bytes
  // are then not stored, for PT_LOADs that alias other file bytes).
  std::optional<uint64_t> offset;
};

inline std::vector<uint8_t> build_core(const std::vector<CoreLoad>& loads,
                                       uint16_t type = ET_CORE) {
  const size_t headers = sizeof(Elf64_Ehdr) + (loads.size() + 1) * sizeof(Elf64_Phdr);
  std::vector<uint8_t> file(image::align_up(headers, 4096));
  Elf64_Ehdr eh = {};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = type;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(loads.size() + 1);
  std::memcpy(file.data(), &eh, sizeof eh);
  // A PT_NOTE first, as in real cores (ignored by the reader).
  Elf64_Phdr note = {};
  note.p_type = PT_NOTE;
  std::memcpy(file.data() + sizeof eh, &note, sizeof note);
  for (size_t i = 0; i < loads.size(); ++i) {
    Elf64_Phdr ph = {};
    ph.p_type = PT_LOAD;
    ph.p_paddr = loads[i].paddr;
    ph.p_vaddr = 0xffff888000000000ull + loads[i].paddr;
    ph.p_filesz = loads[i].bytes.size();
    ph.p_memsz = loads[i].memsz;
    if (loads[i].offset) {
      ph.p_offset = *loads[i].offset;
    } else {
      ph.p_offset = file.size();
      file.insert(file.end(), loads[i].bytes.begin(), loads[i].bytes.end());
    }
    std::memcpy(file.data() + sizeof eh + (i + 1) * sizeof ph, &ph, sizeof ph);
  }
  return file;
}

}  // namespace hl::test
