// libFuzzer target: the image reader over arbitrary bytes.
//
// Each input is tried twice: as given (what a corrupted disk looks like), and
// re-sealed — the memory map fingerprint, metadata digest, header digest and
// record checksum recomputed wherever the input's own fields place them — so
// that mutations reach the structural rules behind the digests, which is
// what an attacker who can write the partition controls. In both cases every
// chunk is read, verified and decoded, and a valid image is marked consumed
// and reopened. ASan/UBSan turn any out-of-bounds access or overflow into a
// crash.
//
// Inputs whose first byte is odd are not images but edit scripts for a small
// valid image built here with the real writer: (u16 offset, u8 xor) triples
// applied before re-sealing. That reaches every table rule even from an
// empty corpus (`make check-fuzz`); images written by hiberload-save are
// good seeds for the other mode.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "common/image_reader.h"
#include "common/image_validate.h"
#include "common/sha256.h"
// The writer (tools/lib, linked into every fuzzer) builds a real image for
// the edit-script mode to start from.
#include "tools/lib/image_writer.h"
#include "tools/lib/memory_source.h"

namespace {

using namespace hl::image;

class MallocAllocator final : public hl::Allocator {
 public:
  void* allocate(size_t size) override { return malloc(size); }
  void release(void* pointer) override { free(pointer); }
};

bool inside(uint64_t offset, uint64_t length, size_t size) {
  return hl::range_inside(offset, length, size);
}

void reseal(std::vector<uint8_t>& image) {
  if (image.size() < kHeaderOffset + sizeof(ImageHeader)) return;
  ImageHeader header;
  memcpy(&header, image.data() + kHeaderOffset, sizeof header);
  const uint64_t map_bytes = uint64_t{header.memory_map.count} * sizeof(MemoryMapEntry);
  if (inside(header.memory_map.offset, map_bytes, image.size())) {
    const hl::Sha256Digest d = hl::sha256(image.data() + header.memory_map.offset, map_bytes);
    memcpy(header.memory_map_sha256, d.bytes, 32);
  }
  if (inside(header.metadata_offset, header.metadata_size, image.size())) {
    const hl::Sha256Digest d =
        hl::sha256(image.data() + header.metadata_offset, header.metadata_size);
    memcpy(header.metadata_sha256, d.bytes, 32);
  }
  memcpy(image.data() + kHeaderOffset, &header, sizeof header);
  CommitRecord record;
  memcpy(&record, image.data(), sizeof record);
  const hl::Sha256Digest d = hl::sha256(&header, sizeof header);
  memcpy(record.header_sha256, d.bytes, 32);
  seal_commit_record(&record);
  memcpy(image.data(), &record, sizeof record);
}

void exercise(std::vector<uint8_t>& image) {
  hl::MemoryStorage storage(image.data(), image.size());
  MallocAllocator allocator;
  ImageReader reader(storage, allocator);
  OpenOptions options;
  options.allow_consumed = true;
  auto info = reader.open(options);
  if (!info) return;
  // Chunks are at most chunk_raw_size_max (<= 64 MiB); keep the fuzzer fast
  // by reading those up to 1 MiB.
  constexpr size_t kBuffer = 1 << 20;
  static std::vector<uint8_t> out(kBuffer), staging(kBuffer);
  for (uint32_t i = 0; i < info->chunk_count; ++i) {
    if (reader.chunks()[i].raw_length > kBuffer) continue;
    (void)reader.read_chunk(i, out.data(), out.size(), staging.data(), staging.size());
  }
  for (const SegmentEntry& s : reader.segments()) (void)s;
  if (info->state == ImageState::kValid) {
    if (reader.mark_consumed()) {
      ImageReader again(storage, allocator);
      auto reopened = again.open();
      if (reopened) abort();  // A consumed image must not open by default.
    }
  }
}

// Two segments with zero, raw and zlib chunks; about 40 KiB.
class SmallMemory final : public hl::MemorySource {
 public:
  SmallMemory() : bytes_(5 * 4096) {
    for (size_t i = 0; i < 4096; ++i) bytes_[i] = static_cast<uint8_t>(i * 7 % 251);  // raw-ish
    for (size_t i = 3 * 4096; i < bytes_.size(); ++i) bytes_[i] = "hiberload "[i % 10];  // zlib
    ranges_ = {{0x100000, 4 * 4096}, {0x200000, 4096 - 100}};
  }
  const std::vector<hl::PhysicalRange>& ranges() const override { return ranges_; }
  hl::Status read(uint64_t address, void* buffer, size_t length) const override {
    const uint64_t at = address >= 0x200000 ? address - 0x200000 + 4 * 4096 : address - 0x100000;
    memcpy(buffer, bytes_.data() + at, length);
    return hl::ok_status();
  }

 private:
  std::vector<uint8_t> bytes_;
  std::vector<hl::PhysicalRange> ranges_;
};

const std::vector<uint8_t>& base_image() {
  static const std::vector<uint8_t> image = [] {
    std::vector<uint8_t> bytes(1 << 20);
    hl::MemoryStorage storage(bytes.data(), bytes.size());
    ResumeData resume;
    resume.jump_back_entry = 0x1000;
    resume.memory_map = {{0, 0x9f000, 1, 0}, {0x100000, 0x1000000, 1, 0}};
    resume.runtime_map = {{0x3f000000, 0xfffffffeff000000, 4, 0xf, 5, 0}};
    resume.scratch = {{0x800000, 0x100000}};
    WriterOptions options;
    options.chunk_size = 8192;
    options.min_zero_run = 4096;
    options.threads = 1;
    options.image_id = std::array<uint8_t, 16>{1};
    auto stats = write_image(storage, SmallMemory(), resume, options);
    if (!stats) abort();
    bytes.resize(stats->image_size);
    return bytes;
  }();
  return image;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0 && (data[0] & 1)) {
    std::vector<uint8_t> image = base_image();
    for (size_t i = 1; i + 3 <= size; i += 3) {
      const size_t offset = (data[i] | data[i + 1] << 8) % image.size();
      image[offset] ^= data[i + 2];
    }
    reseal(image);
    exercise(image);
    return 0;
  }
  std::vector<uint8_t> as_given(data, data + size);
  exercise(as_given);
  std::vector<uint8_t> resealed(data, data + size);
  reseal(resealed);
  exercise(resealed);
  return 0;
}
