// hiberload-inspect: shows a hibernation image (docs/image-format.md), checks
// every byte of it with --verify, and turns it back into an ELF64 core with
// --extract (for `kexec -l`, and for comparing a round trip byte for byte).
#include <elf.h>
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "common/format.h"
#include "common/image_reader.h"
#include "tools/lib/elf_core_writer.h"
#include "tools/lib/image_extract.h"
#include "tools/lib/file_storage.h"
#include "tools/lib/heap_allocator.h"
#include "tools/lib/progress.h"

namespace {

using namespace hl::image;

const char kUsage[] =
    "usage: hiberload-inspect [options] IMAGE\n"
    "\n"
    "Prints the header, resume data, segments and chunk statistics of the\n"
    "hibernation image in IMAGE (a partition or a file).\n"
    "\n"
    "  -v, --verify        read and check every chunk (hash and decoding); exit 1 at\n"
    "                      the first problem, naming it\n"
    "  -x, --extract FILE  write the memory as an ELF64 core (ET_CORE), one PT_LOAD per\n"
    "                      segment; every chunk is verified on the way\n"
    "      --et-exec       with --extract: write e_type ET_EXEC (kexec-tools refuses ET_CORE)\n"
    "      --only RANGES   with --extract: only memory inside RANGES (BASE+SIZE,BASE+SIZE,...),\n"
    "                      e.g. what hiberload left to a fallback kernel (hiberload.remaining=)\n"
    "  -c, --chunks        list every chunk\n"
    "  -h, --help\n";

struct Options {
  std::string image;
  bool verify = false;
  std::string extract;
  bool et_exec = false;
  std::vector<hl::PhysicalRange> only;
  bool list_chunks = false;
};

[[noreturn]] void usage_error(const char* message) {
  std::fprintf(stderr, "hiberload-inspect: %s\n\n%s", message, kUsage);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  enum { kEtExec = 256, kOnly };
  static const option kLong[] = {
      {"verify", no_argument, nullptr, 'v'},     {"extract", required_argument, nullptr, 'x'},
      {"et-exec", no_argument, nullptr, kEtExec}, {"chunks", no_argument, nullptr, 'c'},
      {"only", required_argument, nullptr, kOnly},
      {"help", no_argument, nullptr, 'h'},       {nullptr, 0, nullptr, 0},
  };
  Options o;
  int c;
  while ((c = getopt_long(argc, argv, "vx:ch", kLong, nullptr)) != -1) {
    switch (c) {
      case 'v': o.verify = true; break;
      case 'x': o.extract = optarg; break;
      case kEtExec: o.et_exec = true; break;
      case kOnly: {
        std::string list = optarg;
        for (size_t start = 0; start <= list.size();) {
          const size_t comma = std::min(list.find(',', start), list.size());
          auto range = hl::parse_physical_range(list.substr(start, comma - start).c_str());
          if (!range) usage_error(range.error().reason());
          o.only.push_back(*range);
          start = comma + 1;
        }
        break;
      }
      case 'c': o.list_chunks = true; break;
      case 'h': std::fputs(kUsage, stdout); std::exit(0);
      default: usage_error("unknown option");
    }
  }
  if (optind + 1 != argc) usage_error("expected exactly one IMAGE argument");
  if (o.et_exec && o.extract.empty()) usage_error("--et-exec needs --extract");
  if (!o.only.empty() && o.extract.empty()) usage_error("--only needs --extract");
  o.image = argv[optind];
  return o;
}

std::string hex_bytes(const uint8_t* bytes, size_t length) {
  char text[129];
  hl::format_hex(text, sizeof text, bytes, length);
  return text;
}

std::string size_text(uint64_t bytes) {
  char text[32];
  hl::format_size(text, sizeof text, bytes);
  return text;
}

void print_summary(const ImageReader& reader) {
  const CommitRecord& r = reader.commit_record();
  const ImageHeader& h = reader.header();
  char created[64] = "?";
  const time_t t = static_cast<time_t>(h.creation_time);
  if (tm utc; gmtime_r(&t, &utc)) std::strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S UTC", &utc);

  std::printf("image\n");
  std::printf("  state              %s\n", image_state_name(r.state));
  std::printf("  format version     %u\n", h.format_version);
  std::printf("  image id           %s\n", hex_bytes(h.image_id, sizeof h.image_id).c_str());
  std::printf("  created            %s\n", created);
  std::printf("  kernel release     %s\n", h.kernel_release);
  std::printf("  writer             %s\n", h.writer);
  std::printf("  image size         %s (0x%llx bytes)\n", size_text(h.image_size).c_str(),
              static_cast<unsigned long long>(h.image_size));
  std::printf("  flags              required 0x%llx, optional 0x%llx\n",
              static_cast<unsigned long long>(h.required_flags),
              static_cast<unsigned long long>(h.optional_flags));
  std::printf("  authentication     %s\n", auth_type_name(h.auth.type));
  std::printf("  header digest      %s\n", hex_bytes(r.header_sha256, 32).c_str());
  std::printf("  metadata digest    %s\n", hex_bytes(h.metadata_sha256, 32).c_str());
  std::printf("  data               0x%llx + 0x%llx\n", static_cast<unsigned long long>(h.data_offset),
              static_cast<unsigned long long>(h.data_size));
  std::printf("  metadata           0x%llx + 0x%llx\n",
              static_cast<unsigned long long>(h.metadata_offset),
              static_cast<unsigned long long>(h.metadata_size));
  std::printf("resume data\n");
  std::printf("  jump back entry    0x%llx\n", static_cast<unsigned long long>(h.jump_back_entry));
  std::printf("  page size          %u\n", h.page_size);
  std::printf("  chunk size         %s\n", size_text(h.chunk_raw_size_max).c_str());
  std::printf("  memory map         %zu entries, fingerprint %s\n", reader.memory_map().size(),
              hex_bytes(h.memory_map_sha256, 32).c_str());
  for (const MemoryMapEntry& e : reader.memory_map()) {
    std::printf("    %016llx-%016llx  %s\n", static_cast<unsigned long long>(e.base),
                static_cast<unsigned long long>(e.base + e.size - 1), memory_type_name(e.type));
  }
  std::printf("  EFI runtime map    %zu entries\n", reader.runtime_map().size());
  for (const RuntimeMapEntry& e : reader.runtime_map()) {
    std::printf("    phys %016llx virt %016llx pages %-8llu type %-2u attr 0x%llx\n",
                static_cast<unsigned long long>(e.physical_address),
                static_cast<unsigned long long>(e.virtual_address),
                static_cast<unsigned long long>(e.page_count), e.type,
                static_cast<unsigned long long>(e.attribute));
  }
  std::printf("  scratch ranges     %zu\n", reader.scratch_ranges().size());
  for (const ScratchRange& s : reader.scratch_ranges()) {
    std::printf("    %016llx-%016llx  %s\n", static_cast<unsigned long long>(s.base),
                static_cast<unsigned long long>(s.base + s.size - 1), size_text(s.size).c_str());
  }
  std::printf("segments             %zu, %s\n", reader.segments().size(),
              size_text(h.total_raw_bytes).c_str());
  for (size_t i = 0; i < reader.segments().size(); ++i) {
    const SegmentEntry& s = reader.segments()[i];
    std::printf("  %3zu  %016llx-%016llx  %10s  chunks %u..%u\n", i,
                static_cast<unsigned long long>(s.physical_address),
                static_cast<unsigned long long>(s.physical_address + s.size - 1),
                size_text(s.size).c_str(), s.first_chunk, s.first_chunk + s.chunk_count - 1);
  }
  uint64_t count[3] = {}, raw[3] = {}, stored[3] = {};
  for (const ChunkEntry& c : reader.chunks()) {
    const int e = c.encoding < 3 ? c.encoding : 0;
    ++count[e];
    raw[e] += c.raw_length;
    stored[e] += c.stored_length;
  }
  std::printf("chunks               %zu\n", reader.chunks().size());
  static const char* const kNames[] = {"zero", "raw", "zlib"};
  for (int e = 0; e < 3; ++e) {
    std::printf("  %-5s %8llu chunks  %10s raw  %10s stored", kNames[e],
                static_cast<unsigned long long>(count[e]), size_text(raw[e]).c_str(),
                size_text(stored[e]).c_str());
    if (e == 2 && stored[e] != 0) {
      std::printf("  (ratio %.2f)", static_cast<double>(raw[e]) / static_cast<double>(stored[e]));
    }
    std::printf("\n");
  }
  std::printf("  total                %10s raw  %10s stored  (%.1f%% of memory)\n",
              size_text(h.total_raw_bytes).c_str(), size_text(h.total_stored_bytes).c_str(),
              h.total_raw_bytes ? 100.0 * static_cast<double>(h.total_stored_bytes) /
                                      static_cast<double>(h.total_raw_bytes)
                                : 0.0);
}

void print_chunks(const ImageReader& reader) {
  std::printf("chunk list\n");
  for (size_t i = 0; i < reader.chunks().size(); ++i) {
    const ChunkEntry& c = reader.chunks()[i];
    std::printf("  %6zu  dest %016llx  raw %8u  %-4s stored %8u at 0x%llx  %s\n", i,
                static_cast<unsigned long long>(c.destination), c.raw_length,
                chunk_encoding_name(c.encoding), c.stored_length,
                static_cast<unsigned long long>(c.storage_offset),
                hex_bytes(c.sha256, 8).c_str());
  }
}

hl::Status extract(ImageReader& reader, const Options& o) {
  const std::vector<hl::PhysicalRange> ranges = extracted_ranges(reader, o.only);
  if (ranges.empty()) return hl::Error::make("--only selects no memory of the image");
  const hl::ElfCoreLayout layout = extracted_core_layout(ranges, o.et_exec ? ET_EXEC : ET_CORE);
  // A fresh file of the final size reads as zeros: zero chunks stay holes.
  const int fd = open(o.extract.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return hl::Error::make("cannot create {}: {}", o.extract.c_str(), std::strerror(errno));
  const bool sized = ftruncate(fd, static_cast<off_t>(layout.file_size)) == 0;
  const int saved_errno = errno;
  close(fd);
  if (!sized) return hl::Error::make("cannot size {}: {}", o.extract.c_str(), std::strerror(saved_errno));
  auto out = hl::FileStorage::open(o.extract, hl::FileStorage::Mode::kReadWrite);
  if (!out) return out.error();
  std::unique_ptr<hl::FileStorage> storage(*out);
  hl::Progress progress("extracting");
  auto status = extract_elf_core(reader, ranges, layout, *storage,
                                 [&](uint64_t done, uint64_t total) { progress.update(done, total); });
  progress.finish();
  return status;
}

int run(const Options& o) {
  auto opened = hl::FileStorage::open(o.image, hl::FileStorage::Mode::kReadOnly);
  if (!opened) return std::fprintf(stderr, "hiberload-inspect: %s\n", opened.error().reason()), 1;
  std::unique_ptr<hl::FileStorage> storage(*opened);
  hl::HeapAllocator allocator;
  ImageReader reader(*storage, allocator);
  OpenOptions open_options;
  open_options.allow_consumed = true;
  auto info = reader.open(open_options);
  if (!info) {
    std::fprintf(stderr, "hiberload-inspect: %s: %s\n", o.image.c_str(), info.error().reason());
    return 1;
  }
  print_summary(reader);
  if (o.list_chunks) print_chunks(reader);
  if (o.verify) {
    const auto start = std::chrono::steady_clock::now();
    hl::Progress progress("verifying");
    auto status = for_each_decoded_chunk(
        reader, [](const ChunkEntry&, const uint8_t*) { return hl::ok_status(); },
        [&](uint64_t done, uint64_t total) { progress.update(done, total); });
    progress.finish();
    if (!status) {
      std::fprintf(stderr, "hiberload-inspect: verify failed: %s\n", status.error().reason());
      return 1;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("verify: all %u chunks OK (%.2f s, %.0f MiB/s of memory)\n", info->chunk_count,
                seconds, static_cast<double>(info->total_raw_bytes) / (1 << 20) / seconds);
  }
  if (!o.extract.empty()) {
    if (auto status = extract(reader, o); !status) {
      std::fprintf(stderr, "hiberload-inspect: extract failed: %s\n", status.error().reason());
      return 1;
    }
    std::printf("extracted %u segments to %s\n", info->segment_count, o.extract.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(parse_options(argc, argv)); }
