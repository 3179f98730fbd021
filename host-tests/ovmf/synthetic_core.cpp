// Builds the inputs of an OVMF direct-resume test without Linux: an ELF64
// core that looks like a hibernated system's memory on *this* firmware, with
// host-tests/ovmf/resume_payload.S at the jump back entry.
//
//   synthetic-core --probe-log LOG --scratch BASE+SIZE --payload BIN
//                  --out-core CORE --out-memmap FILE --out-runtime-map FILE
//
// LOG is the serial log of a hiberload boot with print-memory-map=1 (lines
// "memmap: BASE PAGES TYPE ATTRIBUTE"). Every range that is RAM for an OS
// (conventional, loader and boot-services memory) becomes image memory,
// except the scratch range: like a real image, it covers memory that the
// firmware and hiberload itself occupy while boot services run. Page
// contents are a deterministic mix of zero, pseudo-random and repetitive
// pages. Prints "entry=0x..." and "expected_hash=0x..." on stdout.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/lib/elf_core_writer.h"
#include "tools/lib/memory_source.h"

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kTableOffset = 0x800;
constexpr uint64_t kPayloadBytes = 2 * kPage;  // Code + table: the skipped range.

struct Descriptor {
  uint64_t base, pages, type, attribute;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "synthetic-core: %s\n", message.c_str());
  std::exit(1);
}

std::vector<Descriptor> read_probe_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::vector<Descriptor> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find("memmap: ");
    if (at == std::string::npos) continue;
    std::istringstream fields(line.substr(at + 8));
    std::string base, pages, type, attribute;
    if (!(fields >> base >> pages >> type >> attribute)) continue;
    out.push_back({std::stoull(base, nullptr, 0), std::stoull(pages, nullptr, 0),
                   std::stoull(type, nullptr, 0), std::stoull(attribute, nullptr, 0)});
  }
  if (out.empty()) die("no 'memmap:' lines in " + path);
  return out;
}

bool is_os_ram(uint64_t type) { return type == 7 || (type >= 1 && type <= 4); }

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// One page of synthetic memory: about half zero, a quarter pseudo-random, a
// quarter repetitive text, in runs of 64 KiB as real memory comes in runs
// (a 1 GiB Linux guest measured 68-87% zero pages, mostly in long runs).
void fill_page(uint64_t address, uint8_t* page) {
  const uint64_t kind = splitmix(address >> 16) % 8;
  if (kind < 4) {
    std::memset(page, 0, kPage);
  } else if (kind < 6) {
    for (uint64_t i = 0; i < kPage; i += 8) {
      const uint64_t v = splitmix(address + i);
      std::memcpy(page + i, &v, 8);
    }
  } else {
    char text[64];
    const int n = std::snprintf(text, sizeof text, "page %#" PRIx64 " of a synthetic image. ", address);
    for (uint64_t i = 0; i < kPage; ++i) page[i] = static_cast<uint8_t>(text[i % n]);
  }
}

struct Options {
  std::string probe_log, payload, out_core, out_memmap, out_runtime;
  hl::PhysicalRange scratch;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--probe-log") o.probe_log = value;
    else if (key == "--payload") o.payload = value;
    else if (key == "--out-core") o.out_core = value;
    else if (key == "--out-memmap") o.out_memmap = value;
    else if (key == "--out-runtime-map") o.out_runtime = value;
    else if (key == "--scratch") {
      auto r = hl::parse_physical_range(value.c_str());
      if (!r) die(r.error().reason());
      o.scratch = *r;
    } else {
      die("unknown option " + key);
    }
  }
  if (o.probe_log.empty() || o.payload.empty() || o.out_core.empty() || o.out_memmap.empty() ||
      o.out_runtime.empty() || o.scratch.size == 0) {
    die("usage: synthetic-core --probe-log LOG --scratch BASE+SIZE --payload BIN --out-core CORE "
        "--out-memmap FILE --out-runtime-map FILE");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const std::vector<Descriptor> map = read_probe_log(options.probe_log);

  // Image memory: the OS's RAM, merged, minus the scratch range.
  std::vector<hl::PhysicalRange> ram;
  for (const Descriptor& d : map) {
    if (!is_os_ram(d.type)) continue;
    const hl::PhysicalRange r{d.base, d.pages * kPage};
    if (!ram.empty() && ram.back().end() == r.base) ram.back().size += r.size;
    else ram.push_back(r);
  }
  std::vector<hl::PhysicalRange> segments = hl::subtract_range(ram, options.scratch);

  // The entry: 1 MiB into the largest segment, page-aligned.
  size_t largest = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].size > segments[largest].size) largest = i;
  }
  if (segments[largest].size < 4 * (1u << 20)) die("no segment large enough for the payload");
  const uint64_t entry = segments[largest].base + (1u << 20);

  std::ifstream payload_file(options.payload, std::ios::binary);
  std::vector<uint8_t> payload((std::istreambuf_iterator<char>(payload_file)), {});
  if (payload.size() < kTableOffset + 32) die("payload too small: " + options.payload);
  if (kTableOffset + 32 + 16 * segments.size() > kPayloadBytes) die("too many segments for the table");

  // Hash everything but the payload's pages, as the payload will.
  uint64_t hash = 0xcbf29ce484222325ull;
  std::vector<uint8_t> page(kPage);
  for (const hl::PhysicalRange& s : segments) {
    for (uint64_t a = s.base; a < s.end(); a += kPage) {
      if (a >= entry && a < entry + kPayloadBytes) continue;
      fill_page(a, page.data());
      for (uint64_t i = 0; i < kPage; i += 8) {
        uint64_t word;
        std::memcpy(&word, page.data() + i, 8);
        hash = (hash ^ word) * 0x100000001b3ull;
      }
    }
  }

  // The payload's pages: code, then the table.
  std::vector<uint8_t> payload_pages(kPayloadBytes, 0);
  std::memcpy(payload_pages.data(), payload.data(), std::min<size_t>(payload.size(), kTableOffset));
  const uint64_t header[4] = {segments.size(), entry, kPayloadBytes, hash};
  std::memcpy(payload_pages.data() + kTableOffset, header, sizeof header);
  for (size_t i = 0; i < segments.size(); ++i) {
    const uint64_t pair[2] = {segments[i].base, segments[i].size};
    std::memcpy(payload_pages.data() + kTableOffset + 32 + 16 * i, pair, sizeof pair);
  }

  // The core: headers, then each segment's pages in order.
  const hl::ElfCoreLayout layout = hl::layout_elf_core(segments, 4 /* ET_CORE */);
  std::FILE* core = std::fopen(options.out_core.c_str(), "wb");
  if (!core) die("cannot create " + options.out_core);
  std::fwrite(layout.headers.data(), 1, layout.headers.size(), core);
  for (size_t i = 0; i < segments.size(); ++i) {
    std::fseek(core, static_cast<long>(layout.range_offsets[i]), SEEK_SET);
    for (uint64_t a = segments[i].base; a < segments[i].end(); a += kPage) {
      if (a >= entry && a < entry + kPayloadBytes) {
        std::fwrite(payload_pages.data() + (a - entry), 1, kPage, core);
      } else {
        fill_page(a, page.data());
        std::fwrite(page.data(), 1, kPage, core);
      }
    }
  }
  if (std::fclose(core) != 0) die("write error on " + options.out_core);

  // The memory map the "hibernated kernel" ran with (RAM = 1, else reserved)
  // and its EFI runtime map (identity virtual addresses).
  std::ofstream memmap(options.out_memmap);
  std::ofstream runtime(options.out_runtime);
  for (const Descriptor& d : map) {
    char line[160];
    std::snprintf(line, sizeof line, "%#" PRIx64 " %#" PRIx64 " %d\n", d.base,
                  d.base + d.pages * kPage - 1, is_os_ram(d.type) ? 1 : 2);
    memmap << line;
    if (d.attribute & (1ull << 63)) {
      std::snprintf(line, sizeof line, "%#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %" PRIu64 " %#" PRIx64 "\n",
                    d.base, d.base, d.pages, d.type, d.attribute);
      runtime << line;
    }
  }
  uint64_t total = 0;
  for (const auto& s : segments) total += s.size;
  std::printf("segments=%zu bytes=%" PRIu64 " entry=%#" PRIx64 " expected_hash=%016" PRIx64 "\n",
              segments.size(), total, entry, hash);
  return 0;
}
