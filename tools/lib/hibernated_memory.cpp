#include "tools/lib/hibernated_memory.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace hl {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kLowMemoryEnd = 1 << 20;

// The core's file-backed ranges, the only ones it can supply.
std::vector<PhysicalRange> core_coverage(const ElfCore& core) {
  std::vector<PhysicalRange> out;
  for (const ElfCore::Piece& p : core.pieces()) {
    if (p.file_size == 0) continue;
    if (!out.empty() && out.back().end() == p.base) out.back().size += p.file_size;
    else out.push_back({p.base, p.file_size});
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<HibernatedMemory>> HibernatedMemory::open(
    const ElfCore& core, const std::string& devmem_path,
    const std::vector<image::MemoryMapEntry>& memory_map,
    const std::vector<PhysicalRange>& excludes, std::vector<std::string>* notes) {
  std::vector<PhysicalRange> wanted;
  for (const image::MemoryMapEntry& e : memory_map) {
    if (e.type != static_cast<uint32_t>(image::MemoryType::kRam)) continue;
    const uint64_t base = image::align_up(e.base, kPage);
    const uint64_t end = (e.base + e.size) / kPage * kPage;
    if (end > base) wanted.push_back({base, end - base});
  }
  for (const PhysicalRange& cut : excludes) wanted = subtract_range(wanted, cut);
  if (wanted.empty()) return Error::make("the memory map has no System RAM outside the excludes");

  const int fd = devmem_path.empty() ? -1 : ::open(devmem_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (!devmem_path.empty() && fd < 0) {
    return Error::make("cannot open {}: {}", devmem_path.c_str(), std::strerror(errno));
  }
  std::unique_ptr<HibernatedMemory> memory(new HibernatedMemory(core, fd));

  // Split each wanted range into parts from the core and parts from memory.
  const std::vector<PhysicalRange> covered = core_coverage(core);
  for (const PhysicalRange& want : wanted) {
    uint64_t cursor = want.base;
    while (cursor < want.end()) {
      bool from_core = false;
      uint64_t next = want.end();
      if (cursor >= kLowMemoryEnd) {
        for (const PhysicalRange& c : covered) {
          if (c.end() <= cursor) continue;
          if (c.base <= cursor) {
            from_core = true;
            next = std::min(next, c.end());
          } else {
            next = std::min(next, c.base);
          }
          break;
        }
      } else {
        next = std::min(next, kLowMemoryEnd);
      }
      const PhysicalRange part{cursor, next - cursor};
      if (!from_core) {
        if (fd < 0) {
          return Error::make("RAM {x}-{x} of the hibernated kernel is not in the core (and no "
                             "physical memory device was given)",
                             part.base, part.end() - 1);
        }
        notes->push_back(Error::make("RAM {x}-{x}: read from {}{}", part.base, part.end() - 1,
                                     devmem_path.c_str(),
                                     part.base < kLowMemoryEnd ? " (below 1 MiB)" : " (not in the core)")
                             .reason());
      }
      if (!memory->parts_.empty() && memory->parts_.back().range.end() == part.base &&
          memory->parts_.back().from_core == from_core) {
        memory->parts_.back().range.size += part.size;
      } else {
        memory->parts_.push_back({part, from_core});
      }
      cursor = next;
    }
    if (!memory->ranges_.empty() && memory->ranges_.back().end() == want.base) {
      memory->ranges_.back().size += want.size;
    } else {
      memory->ranges_.push_back(want);
    }
  }
  return memory;
}

HibernatedMemory::~HibernatedMemory() {
  if (devmem_fd_ >= 0) ::close(devmem_fd_);
}

Status HibernatedMemory::read(uint64_t address, void* buffer, size_t length) const {
  auto* out = static_cast<uint8_t*>(buffer);
  auto it = std::upper_bound(parts_.begin(), parts_.end(), address,
                             [](uint64_t a, const Part& p) { return a < p.range.end(); });
  while (length > 0) {
    if (it == parts_.end() || it->range.base > address) {
      return Error::make("physical {x} is not hibernated memory", address);
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, it->range.end() - address));
    if (it->from_core) {
      HL_TRY(core_.read(address, out, n));
    } else {
      size_t done = 0;
      while (done < n) {
        const ssize_t got = pread(devmem_fd_, out + done, n - done, static_cast<off_t>(address + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          return Error::make("reading physical memory at {x}: {}", address + done,
                             got < 0 ? std::strerror(errno) : "end of device");
        }
        done += static_cast<size_t>(got);
      }
    }
    out += n;
    address += n;
    length -= n;
    ++it;
  }
  return ok_status();
}

}  // namespace hl
