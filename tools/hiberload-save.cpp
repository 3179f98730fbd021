// hiberload-save: writes a hibernation image (docs/image-format.md) from an
// ELF64 core of the hibernated kernel's memory. Runs in the hibernating
// kernel B, started from kernel A by a preserve-context kexec, and is driven
// by the hibernate script, which passes everything it knows as options.
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/format.h"
#include "tools/lib/elf_core.h"
#include "tools/lib/file_storage.h"
#include "tools/lib/hibernated_memory.h"
#include "tools/lib/image_writer.h"
#include "tools/lib/partition_check.h"
#include "tools/lib/progress.h"
#include "tools/lib/resume_inputs.h"

namespace {

constexpr char kDefaultMemmap[] = "/sys/firmware/memmap";
constexpr char kDefaultRuntimeMap[] = "/sys/firmware/efi/runtime-map";

const char kUsage[] =
    "usage: hiberload-save [options] -o OUTPUT CORE\n"
    "\n"
    "Writes a hibernation image of the memory in CORE (an ELF64 core: /proc/vmcore,\n"
    "makedumpfile -E output, QEMU dump-guest-memory output) to OUTPUT (a partition\n"
    "of the hiberload hibernation type, or a file).\n"
    "\n"
    "  -o, --output PATH          partition or file (a file is created or replaced), or\n"
    "                             PARTUUID=<guid> for the partition with that GUID\n"
    "      --check                check the output and the inputs, write nothing\n"
    "      --kexec-jump           CORE is /proc/vmcore after a kexec jump: save the System\n"
    "                             RAM of --memmap minus --exclude; take RAM below 1 MiB and\n"
    "                             ranges the core lacks from --devmem (docs/hibernate.md)\n"
    "      --devmem PATH          physical memory device for --kexec-jump (default /dev/mem)\n"
    "      --force                write a block device that is not a hibernation partition\n"
    "      --jump-back-entry ADDR the hibernated kernel's kexec jump back entry\n"
    "                             (default: kexec_jump_back_entry= of --cmdline)\n"
    "      --cmdline FILE         command line to read it from (default /proc/cmdline)\n"
    "      --memmap PATH          memory map: /sys/firmware/memmap-style directory or a\n"
    "                             file of 'START END TYPE' lines (default /sys/firmware/memmap)\n"
    "      --runtime-map PATH     EFI runtime map: directory or file of 'PHYS VIRT PAGES\n"
    "                             TYPE ATTRIBUTE' lines (default /sys/firmware/efi/runtime-map)\n"
    "      --scratch BASE+SIZE    RAM a loader may use (repeatable; default: the memory\n"
    "                             map's System RAM that the image does not cover)\n"
    "      --exclude BASE+SIZE    leave this physical range out (repeatable)\n"
    "      --kernel-release STR   release of the hibernated kernel (default: uname -r)\n"
    "      --page-size N          default: this system's page size\n"
    "  -l, --level N              zlib level 0-9 (default 1; 0 stores raw)\n"
    "      --chunk-size SIZE      raw bytes per chunk (default 1M)\n"
    "      --min-zero-run SIZE    shortest run of zero pages stored as a zero chunk\n"
    "                             (default 64K; 4K: every zero page; shorter runs are compressed)\n"
    "  -j, --threads N            compression threads (default: one per CPU)\n"
    "  -q, --quiet                no summary\n"
    "  -h, --help\n";

struct Options {
  std::string core;
  std::string output;
  bool force = false;
  bool check_only = false;
  bool kexec_jump = false;
  std::string devmem = "/dev/mem";
  std::string jump_back_entry;
  std::string cmdline = "/proc/cmdline";
  std::string memmap;
  std::string runtime_map;
  std::vector<hl::PhysicalRange> scratch;
  std::vector<hl::PhysicalRange> excludes;
  std::string kernel_release;
  uint32_t page_size = 0;
  int level = 1;
  uint32_t chunk_size = hl::image::kDefaultChunkRawSize;
  unsigned threads = 0;
  uint64_t min_zero_run = hl::image::kDefaultMinZeroRun;
  bool quiet = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "hiberload-save: %s\n\n%s", message.c_str(), kUsage);
  std::exit(2);
}

uint64_t number_argument(const char* option, const char* text, uint64_t max) {
  auto value = hl::parse_size(text);
  if (!value || *value > max) usage_error(std::string("invalid value for ") + option + ": " + text);
  return *value;
}

hl::PhysicalRange range_argument(const char* option, const char* text) {
  auto range = hl::parse_physical_range(text);
  if (!range) usage_error(std::string(option) + ": " + range.error().reason());
  return *range;
}

Options parse_options(int argc, char** argv) {
  enum {
    kForce = 256, kJumpBack, kCmdline, kMemmap, kRuntimeMap, kScratch, kExclude,
    kKernelRelease, kPageSize, kChunkSize, kCheck, kKexecJump, kDevmem, kMinZeroRun,
  };
  static const option kLong[] = {
      {"output", required_argument, nullptr, 'o'},
      {"force", no_argument, nullptr, kForce},
      {"check", no_argument, nullptr, kCheck},
      {"kexec-jump", no_argument, nullptr, kKexecJump},
      {"devmem", required_argument, nullptr, kDevmem},
      {"jump-back-entry", required_argument, nullptr, kJumpBack},
      {"cmdline", required_argument, nullptr, kCmdline},
      {"memmap", required_argument, nullptr, kMemmap},
      {"runtime-map", required_argument, nullptr, kRuntimeMap},
      {"scratch", required_argument, nullptr, kScratch},
      {"exclude", required_argument, nullptr, kExclude},
      {"kernel-release", required_argument, nullptr, kKernelRelease},
      {"page-size", required_argument, nullptr, kPageSize},
      {"level", required_argument, nullptr, 'l'},
      {"chunk-size", required_argument, nullptr, kChunkSize},
      {"min-zero-run", required_argument, nullptr, kMinZeroRun},
      {"threads", required_argument, nullptr, 'j'},
      {"quiet", no_argument, nullptr, 'q'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  Options o;
  int c;
  while ((c = getopt_long(argc, argv, "o:l:j:qh", kLong, nullptr)) != -1) {
    switch (c) {
      case 'o': o.output = optarg; break;
      case kForce: o.force = true; break;
      case kCheck: o.check_only = true; break;
      case kKexecJump: o.kexec_jump = true; break;
      case kDevmem: o.devmem = optarg; break;
      case kJumpBack: o.jump_back_entry = optarg; break;
      case kCmdline: o.cmdline = optarg; break;
      case kMemmap: o.memmap = optarg; break;
      case kRuntimeMap: o.runtime_map = optarg; break;
      case kScratch: o.scratch.push_back(range_argument("--scratch", optarg)); break;
      case kExclude: o.excludes.push_back(range_argument("--exclude", optarg)); break;
      case kKernelRelease: o.kernel_release = optarg; break;
      case kPageSize: o.page_size = static_cast<uint32_t>(number_argument("--page-size", optarg, 1u << 21)); break;
      case 'l': o.level = static_cast<int>(number_argument("--level", optarg, 9)); break;
      case kChunkSize:
        o.chunk_size = static_cast<uint32_t>(
            number_argument("--chunk-size", optarg, hl::image::kMaxChunkRawSize));
        break;
      case kMinZeroRun: o.min_zero_run = number_argument("--min-zero-run", optarg, 1ull << 30); break;
      case 'j': o.threads = static_cast<unsigned>(number_argument("--threads", optarg, 1024)); break;
      case 'q': o.quiet = true; break;
      case 'h': std::fputs(kUsage, stdout); std::exit(0);
      default: usage_error("unknown option");
    }
  }
  if (optind + 1 != argc) usage_error("expected exactly one CORE argument");
  o.core = argv[optind];
  if (o.output.empty()) usage_error("--output is required");
  return o;
}

bool path_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

hl::Result<hl::image::ResumeData> gather_resume_data(const Options& o,
                                                     const std::vector<hl::PhysicalRange>& saved) {
  hl::image::ResumeData resume;
  if (!o.jump_back_entry.empty()) {
    auto entry = hl::parse_sysfs_number(o.jump_back_entry);
    if (!entry || *entry == 0) return hl::Error::make("invalid --jump-back-entry {}", o.jump_back_entry.c_str());
    resume.jump_back_entry = *entry;
  } else {
    auto cmdline = hl::read_text_file(o.cmdline);
    if (!cmdline) return cmdline.error();
    auto entry = hl::jump_back_entry_from_cmdline(*cmdline);
    if (!entry) return entry.error().with_context("{}", o.cmdline.c_str());
    resume.jump_back_entry = *entry;
  }
  resume.page_size = o.page_size != 0 ? o.page_size : static_cast<uint32_t>(sysconf(_SC_PAGESIZE));

  const std::string memmap = !o.memmap.empty() ? o.memmap : kDefaultMemmap;
  if (!o.memmap.empty() || path_exists(memmap)) {
    auto map = hl::read_memory_map(memmap);
    if (!map) return map.error();
    resume.memory_map = std::move(*map);
  } else {
    std::fprintf(stderr, "hiberload-save: warning: no %s; the image records no memory map\n",
                 kDefaultMemmap);
  }
  const std::string runtime_map = !o.runtime_map.empty() ? o.runtime_map : kDefaultRuntimeMap;
  if (!o.runtime_map.empty() || path_exists(runtime_map)) {
    auto map = hl::read_runtime_map(runtime_map);
    if (!map) return map.error();
    resume.runtime_map = std::move(*map);
  }
  if (!o.scratch.empty()) {
    auto scratch = hl::sorted_scratch(o.scratch);
    if (!scratch) return scratch.error();
    resume.scratch = std::move(*scratch);
  } else {
    resume.scratch = hl::derive_scratch(resume.memory_map, saved);
  }
  if (!o.kernel_release.empty()) {
    resume.kernel_release = o.kernel_release;
  } else {
    utsname names;
    if (uname(&names) == 0) resume.kernel_release = names.release;
  }
  return resume;
}

// Opens the output and makes it read as "no image" before anything else
// happens, so that every failure after this point — bad input included —
// leaves no image rather than an old one. A block device must be a
// hibernation partition (unless forced); a regular file is truncated.
hl::Status invalidate_output(const Options& o, bool* is_file) {
  struct stat st;
  *is_file = !(stat(o.output.c_str(), &st) == 0 && S_ISBLK(st.st_mode));
  if (*is_file) {
    const int fd = open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return hl::Error::make("cannot create {}: {}", o.output.c_str(), std::strerror(errno));
    close(fd);
    return hl::ok_status();
  }
  if (auto s = hl::check_hibernation_partition(o.output); !s) {
    if (!o.force) return s.error();
    std::fprintf(stderr, "hiberload-save: warning: %s (--force given)\n", s.error().reason());
  }
  auto storage = hl::FileStorage::open(o.output, hl::FileStorage::Mode::kReadWrite);
  if (!storage) return storage.error();
  std::unique_ptr<hl::FileStorage> device(*storage);
  return hl::image::invalidate_image(*device);
}

// A file output is sized for the worst case now and trimmed after the save.
hl::Result<std::unique_ptr<hl::FileStorage>> open_output(const Options& o, bool is_file,
                                                         uint64_t max_size) {
  if (is_file && truncate(o.output.c_str(), static_cast<off_t>(max_size)) != 0) {
    return hl::Error::make("cannot size {}: {}", o.output.c_str(), std::strerror(errno));
  }
  auto storage = hl::FileStorage::open(o.output, hl::FileStorage::Mode::kReadWrite);
  if (!storage) return storage.error();
  return std::unique_ptr<hl::FileStorage>(*storage);
}

int fail(const char* what, const hl::Error& error) {
  std::fprintf(stderr, "hiberload-save: %s%s%s (no image was left)\n", what, *what ? ": " : "",
               error.reason());
  return 1;
}

// --check: the output is a usable target and the inputs parse; nothing is
// written (the hibernate script runs this before it jumps).
int check_only(const Options& o) {
  struct stat st;
  if (stat(o.output.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
    if (auto s = hl::check_hibernation_partition(o.output); !s && !o.force) {
      std::fprintf(stderr, "hiberload-save: %s\n", s.error().reason());
      return 1;
    }
  }
  std::printf("hiberload-save: %s is a usable output\n", o.output.c_str());
  return 0;
}

int run(Options o) {
  if (o.output.rfind("PARTUUID=", 0) == 0) {
    auto device = hl::find_partition_by_partuuid(o.output.substr(9));
    if (!device) {
      std::fprintf(stderr, "hiberload-save: %s\n", device.error().reason());
      return 1;
    }
    o.output = *device;
  }
  if (o.check_only) return check_only(o);
  bool is_file = false;
  if (auto s = invalidate_output(o, &is_file); !s) {
    std::fprintf(stderr, "hiberload-save: %s\n", s.error().reason());
    return 1;
  }
  auto core_file = hl::FileStorage::open(o.core, hl::FileStorage::Mode::kReadOnly);
  if (!core_file) return fail("", core_file.error());
  std::unique_ptr<hl::FileStorage> core_storage(*core_file);
  std::vector<std::string> notes;
  auto core = hl::ElfCore::open(*core_storage, o.excludes, &notes,
                                o.kexec_jump ? hl::ElfCore::InvalidLoads::kDrop
                                             : hl::ElfCore::InvalidLoads::kRefuse);
  if (!core) return fail(o.core.c_str(), core.error());
  // What is saved: the core's ranges, or with --kexec-jump the hibernated
  // kernel's RAM per its memory map (docs/hibernate.md, traps 3 and 6).
  const hl::MemorySource* memory = core->get();
  std::unique_ptr<hl::HibernatedMemory> hibernated;
  if (o.kexec_jump) {
    if (o.memmap.empty()) return fail("", hl::Error::make("--kexec-jump needs --memmap (the hibernated kernel's)"));
    auto map = hl::read_memory_map(o.memmap);
    if (!map) return fail("", map.error());
    auto opened = hl::HibernatedMemory::open(**core, o.devmem, *map, o.excludes, &notes);
    if (!opened) return fail("", opened.error());
    hibernated = std::move(*opened);
    memory = hibernated.get();
  }
  for (const std::string& note : notes) std::fprintf(stderr, "hiberload-save: %s\n", note.c_str());
  auto resume = gather_resume_data(o, memory->ranges());
  if (!resume) return fail("", resume.error());

  auto output = open_output(o, is_file, hl::image::max_image_size(*memory, *resume, o.chunk_size));
  if (!output) return fail("", output.error());

  hl::image::WriterOptions options;
  options.chunk_size = o.chunk_size;
  options.zlib_level = o.level;
  options.threads = o.threads;
  options.min_zero_run = o.min_zero_run;
  options.writer_name = std::string("hiberload-save ") + HL_VERSION;
  hl::Progress progress("saving " + o.core);
  options.progress = [&](uint64_t done, uint64_t total) { progress.update(done, total); };
  const auto start = std::chrono::steady_clock::now();
  auto stats = hl::image::write_image(**output, *memory, *resume, options);
  progress.finish();
  if (!stats) return fail(o.output.c_str(), stats.error());
  if (is_file && ftruncate((*output)->fd(), static_cast<off_t>(stats->image_size)) != 0) {
    std::fprintf(stderr, "hiberload-save: cannot trim %s: %s\n", o.output.c_str(), std::strerror(errno));
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.quiet) {
    char raw[32], image[32];
    hl::format_size(raw, sizeof raw, stats->raw_bytes);
    hl::format_size(image, sizeof image, stats->image_size);
    std::printf("saved %s of memory in %zu segments to %s: image %s (%.1f%% of memory); "
                "chunks: %u zero, %u raw, %u zlib; %.2f s, %.0f MiB/s\n",
                raw, memory->ranges().size(), o.output.c_str(), image,
                100.0 * static_cast<double>(stats->image_size) / static_cast<double>(stats->raw_bytes),
                stats->zero_chunks, stats->raw_chunks, stats->zlib_chunks, seconds,
                static_cast<double>(stats->raw_bytes) / (1 << 20) / seconds);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(parse_options(argc, argv)); }
