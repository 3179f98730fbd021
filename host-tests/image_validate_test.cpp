// One test per validation rule: corrupt exactly one field of a good image,
// re-seal the digests (so the rule, not a digest, must catch it), and check
// the reason names the problem.
#include <catch2/catch.hpp>

#include <functional>

#include "host-tests/image_test_util.h"

using namespace hl::image;
using hl::test::at;
using hl::test::header_of;
using hl::test::open_reason;
using hl::test::record_of;
using hl::test::reseal;

namespace {

std::vector<uint8_t> good_image() {
  static const std::vector<uint8_t> image = hl::test::write_to_vector(
      hl::test::sample_memory(), hl::test::sample_resume(), hl::test::sample_options());
  return image;
}

template <typename Entry>
Entry* table(std::vector<uint8_t>& image, const TableRef& ref, size_t index) {
  return at<Entry>(image, ref.offset + index * sizeof(Entry));
}

ChunkEntry* chunk(std::vector<uint8_t>& image, size_t index) {
  return table<ChunkEntry>(image, header_of(image)->chunks, index);
}

SegmentEntry* segment(std::vector<uint8_t>& image, size_t index) {
  return table<SegmentEntry>(image, header_of(image)->segments, index);
}

// Index of the first chunk with the given encoding.
size_t find_chunk(std::vector<uint8_t>& image, ChunkEncoding encoding) {
  for (size_t i = 0; i < header_of(image)->chunks.count; ++i) {
    if (chunk(image, i)->encoding == static_cast<uint8_t>(encoding)) return i;
  }
  FAIL("no chunk with that encoding");
  return 0;
}

struct Corruption {
  const char* name;
  std::function<void(std::vector<uint8_t>&)> apply;
  const char* expected_reason;  // Substring.
  bool reseal = true;
};

void check(const Corruption& c) {
  std::vector<uint8_t> image = good_image();
  c.apply(image);
  if (c.reseal) reseal(image);
  INFO(c.name);
  const std::string reason = open_reason(image);
  INFO("reason: " << reason);
  CHECK(reason.find(c.expected_reason) != std::string::npos);
}

}  // namespace

TEST_CASE("the sample image opens") {
  std::vector<uint8_t> image = good_image();
  CHECK(open_reason(image).empty());
  reseal(image);  // Re-sealing an untouched image changes nothing.
  CHECK(image == good_image());
}

TEST_CASE("commit record rules") {
  const Corruption cases[] = {
      {"empty record", [](auto& i) { std::memset(record_of(i), 0, sizeof(CommitRecord)); },
       "no image (the commit record is empty", false},
      {"magic", [](auto& i) { record_of(i)->magic[0] = 'X'; }, "no hiberload magic"},
      {"checksum", [](auto& i) { record_of(i)->reserved[7] = 1; }, "checksum mismatch", false},
      {"version", [](auto& i) { record_of(i)->format_version = 2; },
       "commit record: format version 2"},
      {"state", [](auto& i) { record_of(i)->state = 7; }, "unknown state 7"},
      {"header offset", [](auto& i) { record_of(i)->header_offset = 0x2000; },
       "commit record: header at 0x2000"},
      {"image size unaligned", [](auto& i) { record_of(i)->image_size += 1; },
       "is not a block multiple"},
      {"image size past storage", [](auto& i) { record_of(i)->image_size += kBlockSize; },
       "larger than the storage"},
  };
  for (const Corruption& c : cases) check(c);
}

TEST_CASE("header rules") {
  const Corruption cases[] = {
      {"digest", [](auto& i) { header_of(i)->reserved[100] = 1; }, "header digest does not match",
       false},
      {"magic", [](auto& i) { header_of(i)->magic[7] = '2'; }, "header: bad magic"},
      {"version", [](auto& i) { header_of(i)->format_version = 3; }, "header: format version 3"},
      {"size", [](auto& i) { header_of(i)->header_size = 512; }, "header: size 512"},
      {"image id", [](auto& i) { header_of(i)->image_id[3] ^= 1; }, "image id differs"},
      {"unknown required flag", [](auto& i) { header_of(i)->required_flags |= 1u << 5; },
       "unknown required flags 0x20"},
      {"encrypted", [](auto& i) { header_of(i)->required_flags |= kRequiredFlagEncrypted; },
       "does not support encryption"},
      {"image size", [](auto& i) { header_of(i)->image_size += kBlockSize; },
       "differs from the commit record"},
      {"page size", [](auto& i) { header_of(i)->page_size = 3000; }, "page size 3000"},
      {"chunk size", [](auto& i) { header_of(i)->chunk_raw_size_max = 5000; }, "chunk size 5000"},
      {"data offset", [](auto& i) { header_of(i)->data_offset = 0x4000; }, "data offset 0x4000"},
      {"data size", [](auto& i) { header_of(i)->data_size += 1; }, "data area"},
      {"metadata offset", [](auto& i) { header_of(i)->metadata_offset += kBlockSize; },
       "header: metadata"},
      {"metadata size", [](auto& i) { header_of(i)->metadata_size -= kBlockSize; },
       "header: metadata"},
      {"entry size", [](auto& i) { header_of(i)->chunks.entry_size = 72; },
       "chunk table: entry size 72"},
      {"table offset", [](auto& i) { header_of(i)->segments.offset += 8; },
       "segment table: offset"},
      {"table count", [](auto& i) { header_of(i)->chunks.count = 0xffffffff; },
       "chunk table: 4294967295 entries"},
      {"kernel release", [](auto& i) { std::memset(header_of(i)->kernel_release, 'a', kKernelReleaseSize); },
       "not NUL-terminated"},
      {"auth type without flag", [](auto& i) { header_of(i)->auth.type = 2; }, "auth section"},
      {"auth flag without type",
       [](auto& i) { header_of(i)->optional_flags |= kOptionalFlagAuthSection; },
       "auth section described without an auth type"},
      {"cipher", [](auto& i) { header_of(i)->encryption.cipher = 1; }, "cipher 1"},
  };
  for (const Corruption& c : cases) check(c);
}

TEST_CASE("unknown optional flags and a described auth section are accepted") {
  std::vector<uint8_t> image = good_image();
  header_of(image)->optional_flags |= 1u << 9;
  reseal(image);
  CHECK(open_reason(image).empty());
  header_of(image)->optional_flags |= kOptionalFlagAuthSection;
  header_of(image)->auth.type = static_cast<uint32_t>(AuthType::kEcdsaP256Sha256);
  header_of(image)->auth.offset = kAuthSectionOffset;
  header_of(image)->auth.length = 72;
  reseal(image);
  CHECK(open_reason(image).empty());
}

TEST_CASE("metadata table rules") {
  auto memory_map = [](std::vector<uint8_t>& i, size_t n) {
    return table<MemoryMapEntry>(i, header_of(i)->memory_map, n);
  };
  auto runtime_map = [](std::vector<uint8_t>& i, size_t n) {
    return table<RuntimeMapEntry>(i, header_of(i)->runtime_map, n);
  };
  auto scratch = [](std::vector<uint8_t>& i, size_t n) {
    return table<ScratchRange>(i, header_of(i)->scratch_ranges, n);
  };
  const Corruption cases[] = {
      {"metadata digest", [](auto& i) { i[header_of(i)->metadata_offset + 3] ^= 1; },
       "metadata digest mismatch", false},
      {"memory map empty range", [&](auto& i) { memory_map(i, 0)->size = 0; },
       "memory map entry 0: invalid range"},
      {"memory map overlap", [&](auto& i) { memory_map(i, 1)->base = 0x1000; },
       "memory map entry 1: 0x1000 overlaps"},
      {"memory map fingerprint",
       [](auto& i) {
         header_of(i)->memory_map_sha256[0] ^= 1;
         hl::Sha256Digest d = hl::sha256(header_of(i), kBlockSize);
         std::memcpy(record_of(i)->header_sha256, d.bytes, 32);
         seal_commit_record(record_of(i));
       },
       "fingerprint does not match", false},
      {"runtime map pages", [&](auto& i) { runtime_map(i, 0)->page_count = 0; },
       "runtime map entry 0: invalid page count 0"},
      {"runtime map alignment", [&](auto& i) { runtime_map(i, 0)->physical_address += 1; },
       "runtime map entry 0: invalid physical range"},
      {"runtime map virtual wrap",
       [&](auto& i) { runtime_map(i, 0)->virtual_address = 0xfffffffffffff000; },
       "runtime map entry 0: invalid virtual range"},
      {"scratch empty", [&](auto& i) { scratch(i, 0)->size = 0; }, "scratch range 0: invalid"},
      {"scratch over a segment", [&](auto& i) { scratch(i, 0)->base = 0x2000; },
       "scratch range 0 (0x2000+0x1000000) overlaps segment 0"},
  };
  for (const Corruption& c : cases) check(c);
}

TEST_CASE("segment table rules") {
  const Corruption cases[] = {
      {"empty segment", [](auto& i) { segment(i, 0)->size = 0; }, "segment 0: invalid range"},
      {"wrapping segment",
       [](auto& i) { segment(i, 2)->physical_address = 0xfffffffffffff000; },
       "segment 2: invalid range"},
      {"unsorted", [](auto& i) { segment(i, 1)->physical_address = 0x2000; },
       "segment 1: 0x2000 overlaps or precedes segment 0"},
      {"first chunk", [](auto& i) { segment(i, 1)->first_chunk += 1; }, "segment 1: first chunk"},
      {"chunk count", [](auto& i) { segment(i, 2)->chunk_count = 1000; },
       "exceed the chunk table"},
      {"chunks left over", [](auto& i) { segment(i, 2)->chunk_count -= 1; },
       "segments cover"},
      {"total", [](auto& i) { header_of(i)->total_raw_bytes += 1; }, "segments add up to"},
  };
  for (const Corruption& c : cases) check(c);
}

TEST_CASE("chunk table rules") {
  const Corruption cases[] = {
      {"segment index", [](auto& i) { chunk(i, 0)->segment = 1; },
       "chunk 0: names segment 1 but lies in segment 0"},
      {"flags", [](auto& i) { chunk(i, 2)->flags = 4; }, "chunk 2: unknown flags 0x4"},
      {"raw length zero", [](auto& i) { chunk(i, 0)->raw_length = 0; }, "chunk 0: raw length 0"},
      {"raw length too big", [](auto& i) { chunk(i, 0)->raw_length = (1u << 20) + 1; },
       "chunk 0: raw length 1048577"},
      {"destination", [](auto& i) { chunk(i, 1)->destination += 0x1000; },
       "chunk 1: destination"},
      {"past the segment",
       [](auto& i) {
         const SegmentEntry* s = segment(i, 0);
         ChunkEntry* last = chunk(i, s->first_chunk + s->chunk_count - 1);
         if (last->encoding == static_cast<uint8_t>(ChunkEncoding::kRaw)) last->stored_length += 0x1000;
         last->raw_length += 0x1000;
       },
       "ends past segment 0"},
      {"segment not covered",
       [](auto& i) {
         const SegmentEntry* s = segment(i, 0);
         ChunkEntry* last = chunk(i, s->first_chunk + s->chunk_count - 1);
         REQUIRE(last->encoding == static_cast<uint8_t>(ChunkEncoding::kZero));
         last->raw_length -= 0x1000;
       },
       "segment 0: chunks end at"},
      {"zero chunk with bytes",
       [](auto& i) { chunk(i, find_chunk(i, ChunkEncoding::kZero))->stored_length = 16; },
       "zero chunk with stored range"},
      {"zero chunk with digest",
       [](auto& i) { chunk(i, find_chunk(i, ChunkEncoding::kZero))->sha256[0] = 1; },
       "zero chunk with a non-zero digest"},
      {"raw chunk length",
       [](auto& i) { chunk(i, find_chunk(i, ChunkEncoding::kRaw))->stored_length -= 1; },
       "raw chunk stores"},
      {"zlib chunk longer than raw",
       [](auto& i) {
         ChunkEntry* c = chunk(i, find_chunk(i, ChunkEncoding::kZlib));
         c->stored_length = c->raw_length + 1;
       },
       "zlib chunk stores"},
      {"unknown encoding", [](auto& i) { chunk(i, 0)->encoding = 9; }, "chunk 0: unknown encoding 9"},
      {"encrypted encoding",
       [](auto& i) { chunk(i, find_chunk(i, ChunkEncoding::kRaw))->encoding = 3; },
       "encrypted chunk (aes256gcm-raw)"},
      {"storage offset",
       [](auto& i) { chunk(i, find_chunk(i, ChunkEncoding::kRaw))->storage_offset += kBlockSize; },
       "stored at"},
      {"stored total", [](auto& i) { header_of(i)->total_stored_bytes -= 1; }, "chunks store"},
  };
  for (const Corruption& c : cases) check(c);
}

TEST_CASE("stored ranges must stay inside the data area") {
  // One compressible run: a single zlib chunk whose stored bytes fit in one block.
  hl::test::VectorMemory memory;
  memory.add(0x100000, hl::test::pages(std::vector<hl::test::PageKind>(16, hl::test::PageKind::kText)));
  hl::image::ResumeData resume = hl::test::sample_resume();
  std::vector<uint8_t> image =
      hl::test::write_to_vector(memory, resume, hl::test::sample_options());
  REQUIRE(header_of(image)->chunks.count == 1);
  REQUIRE(header_of(image)->data_size == kBlockSize);
  ChunkEntry* c = chunk(image, 0);
  REQUIRE(c->encoding == static_cast<uint8_t>(ChunkEncoding::kZlib));

  std::vector<uint8_t> past = image;
  chunk(past, 0)->stored_length = 2 * kBlockSize;
  header_of(past)->total_stored_bytes = 2 * kBlockSize;
  reseal(past);
  CHECK(open_reason(past).find("chunk 0: stored range 0x3000+0x2000 ends past the data area") !=
        std::string::npos);

  std::vector<uint8_t> unused = image;
  *chunk(unused, 0) = {0x100000, 0, c->raw_length, 0, 0, 0, 0, 0, {}};
  header_of(unused)->total_stored_bytes = 0;
  reseal(unused);
  CHECK(open_reason(unused).find("stored chunks end at 0x3000 but the data area ends at 0x4000") !=
        std::string::npos);
}

TEST_CASE("storage too small for any image") {
  std::vector<uint8_t> tiny(kMinImageSize - 1);
  CHECK(open_reason(tiny).find("smaller than the smallest image") != std::string::npos);
}

TEST_CASE("a consumed image opens only on request") {
  std::vector<uint8_t> image = good_image();
  record_of(image)->state = static_cast<uint32_t>(ImageState::kConsumed);
  reseal(image);
  CHECK(open_reason(image) == "image is consumed (it was already resumed once)");
  OpenOptions options;
  options.allow_consumed = true;
  CHECK(open_reason(image, options).empty());
}
