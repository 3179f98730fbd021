// An ELF64 core file (/proc/vmcore, `makedumpfile -E` output, QEMU's
// `dump-guest-memory`, or hiberload-inspect --extract) as physical memory.
//
// Every PT_LOAD with p_memsz > 0 contributes [p_paddr, p_paddr + p_memsz):
// p_filesz bytes from p_offset, then zeros up to p_memsz. Known defects of
// real cores (docs/image-format.md, "Input cores") are handled here:
//   - a PT_LOAD whose physical range lies entirely inside another one (the
//     kernel-text duplicate kexec-tools emits) is dropped, with a note;
//   - PT_LOADs that partly overlap are refused (no way to know which is right);
//   - a PT_LOAD whose file bytes overlap the ELF headers (kexec-tools' p_offset
//     0 for low RAM) is refused: its bytes are not its memory;
//   - `excludes` removes ranges the caller knows are not the hibernated
//     kernel's (the saving kernel's own RAM, which reads fail with EFAULT);
//   - touching PT_LOADs are merged into one range.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/storage.h"
#include "tools/lib/memory_source.h"

namespace hl {

class ElfCore final : public MemorySource {
 public:
  // One PT_LOAD after duplicates and excludes are removed.
  struct Piece {
    uint64_t base;         // Physical address.
    uint64_t size;         // Memory size.
    uint64_t file_offset;  // Where the first file byte is.
    uint64_t file_size;    // <= size; the rest reads as zeros.
  };

  // What to do with a PT_LOAD whose sizes or file range are impossible.
  enum class InvalidLoads {
    kRefuse,  // The core is unusable: an error.
    // Drop it with a note. For /proc/vmcore after a kexec jump, where
    // kexec-tools is known to emit such headers (docs/hibernate.md, trap 3)
    // and the caller checks coverage against the memory map itself.
    kDrop,
  };

  // `file` must outlive the ElfCore. Notes about dropped PT_LOADs are
  // appended to *notes.
  static Result<std::unique_ptr<ElfCore>> open(Storage& file,
                                               const std::vector<PhysicalRange>& excludes,
                                               std::vector<std::string>* notes,
                                               InvalidLoads invalid = InvalidLoads::kRefuse);

  const std::vector<PhysicalRange>& ranges() const override { return ranges_; }
  Status read(uint64_t address, void* buffer, size_t length) const override;
  const std::vector<Piece>& pieces() const { return pieces_; }

 private:
  explicit ElfCore(Storage& file) : file_(file) {}

  Storage& file_;
  std::vector<Piece> pieces_;  // Sorted by base, disjoint.
  std::vector<PhysicalRange> ranges_;
};

}  // namespace hl
