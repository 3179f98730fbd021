// The hibernated kernel's memory as the saving kernel sees it after a kexec
// jump: what to save comes from the hibernated kernel's own memory map, where
// each byte comes from is decided per range.
//
// /proc/vmcore alone cannot be trusted there (docs/hibernate.md): kexec-tools
// builds its program headers from /proc/iomem and the load window, and with
// firmware holes or RAM below the window it emits PT_LOADs with impossible
// sizes in place of real RAM ranges (trap 3), and serves RAM below 1 MiB from
// the wrong file offset (trap 8's neighbour in the reference). So:
//   - the ranges to save are the memory map's System RAM minus `excludes`
//     (the saving kernel's region), page-aligned;
//   - a range below 1 MiB, or one no sound PT_LOAD covers, is read from
//     physical memory (/dev/mem: the saving kernel maps the hibernated
//     kernel's RAM below its own top, which is where those ranges lie);
//   - everything else from the core;
//   - a range that neither can supply is an error naming it, never a hole.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/image_format.h"
#include "tools/lib/elf_core.h"
#include "tools/lib/memory_source.h"

namespace hl {

class HibernatedMemory final : public MemorySource {
 public:
  // `core` and `devmem_path`'s file must outlive the object. Notes about
  // where each range comes from are appended to *notes.
  static Result<std::unique_ptr<HibernatedMemory>> open(
      const ElfCore& core, const std::string& devmem_path,
      const std::vector<image::MemoryMapEntry>& memory_map,
      const std::vector<PhysicalRange>& excludes, std::vector<std::string>* notes);
  ~HibernatedMemory() override;

  const std::vector<PhysicalRange>& ranges() const override { return ranges_; }
  Status read(uint64_t address, void* buffer, size_t length) const override;

 private:
  struct Part {
    PhysicalRange range;
    bool from_core;
  };
  HibernatedMemory(const ElfCore& core, int devmem_fd) : core_(core), devmem_fd_(devmem_fd) {}

  const ElfCore& core_;
  int devmem_fd_;
  std::vector<Part> parts_;  // Sorted, disjoint, covering ranges_ exactly.
  std::vector<PhysicalRange> ranges_;
};

}  // namespace hl
