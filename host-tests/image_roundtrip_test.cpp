// Writer and reader together: ELF core -> image -> ELF core round trips,
// crash safety (truncation, interrupted writes), the consumed mark, chunk
// reads, and a property test over many random images.
#include <catch2/catch.hpp>

#include "host-tests/image_test_util.h"
#include "tools/lib/elf_core.h"
#include "tools/lib/image_extract.h"

using namespace hl::image;
using hl::test::header_of;
using hl::test::open_reason;
using hl::test::PageKind;
using hl::test::record_of;

namespace {

// Storage that refuses every write after the first `allowed` ones (a power
// cut: later writes never reach the disk).
class FailingStorage final : public hl::Storage {
 public:
  FailingStorage(hl::Storage& inner, uint64_t allowed) : inner_(inner), allowed_(allowed) {}
  uint64_t size() const override { return inner_.size(); }
  uint32_t block_size() const override { return inner_.block_size(); }
  hl::Status read(uint64_t offset, void* buffer, size_t length) override {
    return inner_.read(offset, buffer, length);
  }
  hl::Status write(uint64_t offset, const void* buffer, size_t length) override {
    if (writes_ >= allowed_) return hl::Error::make("power cut");
    ++writes_;
    return inner_.write(offset, buffer, length);
  }
  hl::Status flush() override { return inner_.flush(); }
  uint64_t writes() const { return writes_; }

 private:
  hl::Storage& inner_;
  uint64_t allowed_;
  uint64_t writes_ = 0;
};

// The memory of a core as (range, bytes) in address order.
std::vector<std::pair<hl::PhysicalRange, std::vector<uint8_t>>> core_memory(
    std::vector<uint8_t>& core_bytes) {
  hl::MemoryStorage file(core_bytes.data(), core_bytes.size(), false);
  std::vector<std::string> notes;
  auto core = hl::ElfCore::open(file, {}, &notes);
  REQUIRE(core.ok());
  std::vector<std::pair<hl::PhysicalRange, std::vector<uint8_t>>> out;
  for (const hl::PhysicalRange& r : (*core)->ranges()) {
    std::vector<uint8_t> bytes(r.size);
    REQUIRE((*core)->read(r.base, bytes.data(), bytes.size()).ok());
    out.push_back({r, std::move(bytes)});
  }
  return out;
}

std::vector<uint8_t> save_core(std::vector<uint8_t>& core_bytes) {
  hl::MemoryStorage file(core_bytes.data(), core_bytes.size(), false);
  std::vector<std::string> notes;
  auto core = hl::ElfCore::open(file, {}, &notes);
  REQUIRE(core.ok());
  return hl::test::write_to_vector(**core, hl::test::sample_resume(), hl::test::sample_options());
}

std::vector<uint8_t> extract(std::vector<uint8_t>& image, uint16_t type = ET_CORE,
                             const std::vector<hl::PhysicalRange>& only = {}) {
  hl::MemoryStorage storage(image.data(), image.size(), false);
  hl::HeapAllocator allocator;
  ImageReader reader(storage, allocator);
  auto info = reader.open();
  REQUIRE(info.ok());
  const auto ranges = extracted_ranges(reader, only);
  const hl::ElfCoreLayout layout = extracted_core_layout(ranges, type);
  std::vector<uint8_t> core(layout.file_size);
  hl::MemoryStorage out(core.data(), core.size());
  auto status = extract_elf_core(reader, ranges, layout, out);
  INFO((status ? "" : status.error().reason()));
  REQUIRE(status.ok());
  return core;
}

// Reads every chunk through the reader and compares with the memory.
std::string verify_against(std::vector<uint8_t>& image, const hl::MemorySource& memory) {
  hl::MemoryStorage storage(image.data(), image.size(), false);
  hl::HeapAllocator allocator;
  ImageReader reader(storage, allocator);
  auto info = reader.open();
  if (!info) return info.error().reason();
  std::vector<uint8_t> out(info->chunk_raw_size_max), staging(info->chunk_raw_size_max),
      expected(info->chunk_raw_size_max);
  for (uint32_t i = 0; i < info->chunk_count; ++i) {
    const ChunkEntry& c = reader.chunks()[i];
    auto s = reader.read_chunk(i, out.data(), out.size(), staging.data(), staging.size());
    if (!s) return s.error().reason();
    if (!memory.read(c.destination, expected.data(), c.raw_length)) return "no such memory";
    if (std::memcmp(out.data(), expected.data(), c.raw_length) != 0) return "content differs";
  }
  return "";
}

std::vector<uint8_t> sample_core() {
  using K = PageKind;
  std::vector<uint8_t> low = hl::test::pages({K::kText, K::kZero, K::kRandom, K::kZero}, 1);
  std::vector<uint8_t> ram = hl::test::pages(
      std::vector<K>{K::kZero, K::kText, K::kText, K::kRandom, K::kZero, K::kZero, K::kText}, 2);
  std::vector<uint8_t> more = hl::test::pages({K::kRandom, K::kText}, 3);
  std::vector<uint8_t> high = hl::test::pages({K::kText, K::kText, K::kZero}, 4);
  std::vector<uint8_t> core = hl::test::build_core({
      {0x1000, low, low.size() + 0x3000, {}},          // Zero tail (memsz > filesz).
      {0x100000, ram, ram.size(), {}},
      {0x100000 + ram.size(), more, more.size(), {}},  // Touches the previous one: merged.
      {0x100000000, high, high.size(), {}},
  });
  return core;
}

}  // namespace

TEST_CASE("ELF core -> image -> ELF core keeps every byte of memory") {
  std::vector<uint8_t> core = sample_core();
  std::vector<uint8_t> image = save_core(core);
  CHECK(header_of(image)->segments.count == 3);
  std::vector<uint8_t> extracted = extract(image);
  CHECK(core_memory(extracted) == core_memory(core));

  // The extracted core saves to the very same image, and extracts to the very
  // same file.
  std::vector<uint8_t> image2 = save_core(extracted);
  CHECK(image2 == image);
  CHECK(extract(image2) == extracted);

  std::vector<uint8_t> exec = extract(image, ET_EXEC);
  CHECK(reinterpret_cast<Elf64_Ehdr*>(exec.data())->e_type == ET_EXEC);
  CHECK(core_memory(exec) == core_memory(core));
}

TEST_CASE("--only extracts exactly the selected memory, byte for byte") {
  std::vector<uint8_t> core = sample_core();
  std::vector<uint8_t> image = save_core(core);
  const auto full = core_memory(core);
  // Pieces of two segments, one crossing a chunk boundary, one not at a page
  // boundary of the core, and one outside every segment.
  // (The second range also overlaps the third, as the jump back entry's page
  // overlaps a deferred range in hiberload.remaining=.)
  const std::vector<hl::PhysicalRange> only = {{0x2000, 0x2000},
                                               {0x100800, 0x3000},
                                               {0x101000, 0x1000},
                                               {0x100000000 + 0x1000, 0x1000},
                                               {0x80000000, 0x1000}};
  std::vector<uint8_t> part = extract(image, ET_EXEC, only);
  // Every extracted byte lies in `only` and equals the original memory.
  auto original_byte = [&](uint64_t address) -> int {
    for (const auto& [range, bytes] : full) {
      if (address >= range.base && address < range.end()) return bytes[address - range.base];
    }
    return -1;
  };
  size_t bytes = 0;
  for (const auto& [range, data] : core_memory(part)) {
    for (uint64_t i = 0; i < range.size; ++i) {
      const uint64_t address = range.base + i;
      bool inside = false;
      for (const auto& r : only) inside |= address >= r.base && address < r.end();
      REQUIRE(inside);
      REQUIRE(original_byte(address) == data[i]);
      ++bytes;
    }
  }
  CHECK(bytes == 0x2000 + 0x3000 + 0x1000);
}

TEST_CASE("the writer chooses zero, raw and zlib chunks per page run") {
  hl::test::VectorMemory memory = hl::test::sample_memory();
  std::vector<uint8_t> image =
      hl::test::write_to_vector(memory, hl::test::sample_resume(), hl::test::sample_options());
  hl::MemoryStorage storage(image.data(), image.size(), false);
  hl::HeapAllocator allocator;
  ImageReader reader(storage, allocator);
  REQUIRE(reader.open().ok());
  int counts[3] = {};
  for (const ChunkEntry& c : reader.chunks()) {
    ++counts[c.encoding];
    // Never across a 1 MiB grid line.
    CHECK(c.destination / (1 << 20) == (c.destination + c.raw_length - 1) / (1 << 20));
    if (c.encoding != 0) CHECK(c.storage_offset % kBlockSize == 0);
  }
  CHECK(counts[0] > 0);
  CHECK(counts[1] > 0);
  CHECK(counts[2] > 0);
  CHECK(verify_against(image, memory).empty());

  WriterOptions stored_only = hl::test::sample_options();
  stored_only.zlib_level = 0;
  std::vector<uint8_t> raw_image =
      hl::test::write_to_vector(memory, hl::test::sample_resume(), stored_only);
  CHECK(verify_against(raw_image, memory).empty());
  CHECK(header_of(raw_image)->total_stored_bytes > header_of(image)->total_stored_bytes);
}

TEST_CASE("thread count does not change the image") {
  hl::test::VectorMemory memory = hl::test::sample_memory();
  WriterOptions one = hl::test::sample_options();
  one.threads = 1;
  WriterOptions many = hl::test::sample_options();
  many.threads = 7;
  many.chunk_size = 64 << 10;
  one.chunk_size = 64 << 10;
  CHECK(hl::test::write_to_vector(memory, hl::test::sample_resume(), one) ==
        hl::test::write_to_vector(memory, hl::test::sample_resume(), many));
}

TEST_CASE("a truncated image never validates") {
  std::vector<uint8_t> core = sample_core();
  std::vector<uint8_t> image = save_core(core);
  for (uint64_t size = 0; size < image.size(); size += kBlockSize) {
    std::vector<uint8_t> truncated(image.begin(), image.begin() + static_cast<long>(size));
    INFO("size " << size);
    CHECK_FALSE(open_reason(truncated).empty());
  }
}

TEST_CASE("an interrupted save never reads as a valid image, old or new") {
  hl::test::VectorMemory old_memory = hl::test::sample_memory();
  WriterOptions old_options = hl::test::sample_options();
  old_options.image_id = std::array<uint8_t, 16>{0xaa};
  hl::test::VectorMemory memory;
  memory.add(0x2000, hl::test::pages({PageKind::kText, PageKind::kRandom, PageKind::kZero}, 9));
  memory.add(0x200000, hl::test::pages(std::vector<PageKind>(300, PageKind::kText), 10));

  std::vector<uint8_t> disk(8 << 20);
  hl::MemoryStorage storage(disk.data(), disk.size());
  FailingStorage counting(storage, UINT64_MAX);
  REQUIRE(write_image(counting, memory, hl::test::sample_resume(), hl::test::sample_options()).ok());
  const uint64_t total_writes = counting.writes();
  REQUIRE(open_reason(disk).empty());
  for (uint64_t allowed = 0; allowed < total_writes; ++allowed) {
    // An older image on the disk, then a new save cut after `allowed` writes.
    REQUIRE(write_image(storage, old_memory, hl::test::sample_resume(), old_options).ok());
    const std::vector<uint8_t> before = disk;
    FailingStorage cut(storage, allowed);
    auto result = write_image(cut, memory, hl::test::sample_resume(), hl::test::sample_options());
    INFO("writes allowed: " << allowed);
    CHECK_FALSE(result.ok());
    if (allowed == 0) {
      // Not even the invalidation reached the disk: it is untouched.
      CHECK(disk == before);
    } else {
      CHECK(open_reason(disk).find("no image") != std::string::npos);
    }
  }
}

TEST_CASE("a save that does not fit fails and leaves no image") {
  hl::test::VectorMemory memory = hl::test::sample_memory();
  std::vector<uint8_t> disk = hl::test::write_to_vector(memory, hl::test::sample_resume(),
                                                        hl::test::sample_options());
  disk.resize(disk.size() - kBlockSize);
  hl::MemoryStorage storage(disk.data(), disk.size());
  auto result = write_image(storage, memory, hl::test::sample_resume(), hl::test::sample_options());
  REQUIRE_FALSE(result.ok());
  CHECK(std::string(result.error().reason()).find("does not fit") != std::string::npos);
  CHECK(open_reason(disk).find("no image") != std::string::npos);
}

TEST_CASE("mark_consumed is one block-0 write, and a consumed image stays consumed") {
  hl::test::VectorMemory memory = hl::test::sample_memory();
  std::vector<uint8_t> image =
      hl::test::write_to_vector(memory, hl::test::sample_resume(), hl::test::sample_options());
  const std::vector<uint8_t> before = image;
  hl::MemoryStorage inner(image.data(), image.size());
  FailingStorage storage(inner, UINT64_MAX);
  hl::HeapAllocator allocator;
  {
    ImageReader reader(storage, allocator);
    auto info = reader.open();
    REQUIRE(info.ok());
    CHECK(info->state == ImageState::kValid);
    REQUIRE(reader.mark_consumed().ok());
    CHECK(storage.writes() == 1);
    auto again = reader.mark_consumed();
    REQUIRE_FALSE(again.ok());
    CHECK(std::string(again.error().reason()).find("consumed") != std::string::npos);
  }
  CHECK(std::equal(image.begin() + kBlockSize, image.end(), before.begin() + kBlockSize));
  CHECK(open_reason(image) == "image is consumed (it was already resumed once)");
  OpenOptions options;
  options.allow_consumed = true;
  ImageReader reader(inner, allocator);
  auto info = reader.open(options);
  REQUIRE(info.ok());
  CHECK(info->state == ImageState::kConsumed);
}

TEST_CASE("chunk reads check buffers, indexes, hashes and zlib streams") {
  hl::test::VectorMemory memory = hl::test::sample_memory();
  std::vector<uint8_t> image =
      hl::test::write_to_vector(memory, hl::test::sample_resume(), hl::test::sample_options());
  hl::MemoryStorage storage(image.data(), image.size());
  hl::HeapAllocator allocator;
  ImageReader reader(storage, allocator);
  auto info = reader.open();
  REQUIRE(info.ok());
  CHECK(info->jump_back_entry == 0x1234567);
  CHECK(std::string(info->kernel_release) == "6.12.117-test");
  std::vector<uint8_t> out(info->chunk_raw_size_max), staging(info->chunk_raw_size_max);

  auto reason = [&](uint32_t index, size_t out_size, size_t staging_size) {
    auto s = reader.read_chunk(index, out.data(), out_size, staging.data(), staging_size);
    return std::string(s ? "" : s.error().reason());
  };
  CHECK(reason(info->chunk_count, out.size(), staging.size()).find("does not exist") != std::string::npos);
  uint32_t zlib = 0;
  while (reader.chunks()[zlib].encoding != static_cast<uint8_t>(ChunkEncoding::kZlib)) ++zlib;
  const ChunkEntry& c = reader.chunks()[zlib];
  CHECK(reason(zlib, c.raw_length - 1, staging.size()).find("too small") != std::string::npos);
  CHECK(reason(zlib, out.size(), c.stored_length - 1).find("too small") != std::string::npos);
  CHECK(reason(zlib, out.size(), staging.size()).empty());

  image[c.storage_offset + 5] ^= 0x40;
  CHECK(reason(zlib, out.size(), staging.size()).find("SHA-256 mismatch") != std::string::npos);
  // Valid digest over a broken stream: inflate must still refuse it.
  hl::Sha256Digest d = hl::sha256(image.data() + c.storage_offset, c.stored_length);
  std::memcpy(const_cast<ChunkEntry&>(c).sha256, d.bytes, 32);
  const std::string inflate_reason = reason(zlib, out.size(), staging.size());
  CHECK(inflate_reason.find("zlib") != std::string::npos);
}

TEST_CASE("random images round trip, and random damage is caught or harmless") {
  std::mt19937 rng(20261122);
  for (int round = 0; round < 150; ++round) {
    hl::test::VectorMemory memory;
    uint64_t base = (rng() % 64) * 0x1000 + (rng() % 2 ? 0 : rng() % 4096);
    const int segments = 1 + static_cast<int>(rng() % 4);
    for (int s = 0; s < segments; ++s) {
      std::vector<PageKind> kinds(1 + rng() % 40);
      for (auto& k : kinds) k = static_cast<PageKind>(rng() % 3);
      std::vector<uint8_t> bytes = hl::test::pages(kinds, static_cast<uint32_t>(round * 10 + s));
      bytes.resize(bytes.size() - rng() % 4096);  // Unaligned ends.
      memory.add(base, std::move(bytes));
      base = memory.ranges().back().end() + (rng() % 3) * 0x1000 * (1 + rng() % 8);
      if (base == memory.ranges().back().end()) base += 1;  // Keep ranges unmerged.
    }
    WriterOptions options = hl::test::sample_options();
    options.chunk_size = static_cast<uint32_t>(4096u << (rng() % 6));
    options.zlib_level = static_cast<int>(rng() % 3) * 3;
    options.min_zero_run = 4096u << (rng() % 5);
    ResumeData resume = hl::test::sample_resume();
    resume.scratch = {{0x40000000000, 0x100000}};
    std::vector<uint8_t> image = hl::test::write_to_vector(memory, resume, options);
    INFO("round " << round);
    REQUIRE(verify_against(image, memory).empty());

    for (int damage = 0; damage < 8; ++damage) {
      std::vector<uint8_t> damaged = image;
      const size_t at = rng() % damaged.size();
      damaged[at] ^= static_cast<uint8_t>(1 + rng() % 255);
      // Either refused, or the flipped byte was padding nobody reads.
      const std::string reason = verify_against(damaged, memory);
      INFO("byte " << at << ": " << reason);
      CHECK(reason != "content differs");
    }
  }
}

TEST_CASE("the writer refuses bad options before writing data") {
  hl::test::VectorMemory memory = hl::test::sample_memory();
  std::vector<uint8_t> disk(8 << 20);
  hl::MemoryStorage storage(disk.data(), disk.size());
  auto reason = [&](const ResumeData& resume, const WriterOptions& options) {
    auto result = write_image(storage, memory, resume, options);
    return std::string(result ? "" : result.error().reason());
  };
  ResumeData overlapping = hl::test::sample_resume();
  overlapping.scratch = {{0x2000, 0x1000}};
  CHECK(reason(overlapping, hl::test::sample_options()).find("overlaps saved memory") != std::string::npos);
  WriterOptions odd_chunk = hl::test::sample_options();
  odd_chunk.chunk_size = 5000;
  CHECK(reason(hl::test::sample_resume(), odd_chunk).find("chunk size 5000") != std::string::npos);
  WriterOptions level = hl::test::sample_options();
  level.zlib_level = 10;
  CHECK(reason(hl::test::sample_resume(), level).find("zlib level 10") != std::string::npos);
  ResumeData unsorted_map = hl::test::sample_resume();
  std::swap(unsorted_map.memory_map[0], unsorted_map.memory_map[2]);
  CHECK(reason(unsorted_map, hl::test::sample_options()).find("refusing to commit: memory map entry") !=
        std::string::npos);
  CHECK(open_reason(disk).find("no image") != std::string::npos);
}
