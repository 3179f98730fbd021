#include "tools/lib/elf_core_writer.h"

#include <elf.h>

#include <cstring>

#include "common/image_format.h"

namespace hl {

ElfCoreLayout layout_elf_core(const std::vector<PhysicalRange>& ranges, uint16_t elf_type) {
  ElfCoreLayout layout;
  const uint64_t headers_size = sizeof(Elf64_Ehdr) + ranges.size() * sizeof(Elf64_Phdr);
  layout.headers.assign(headers_size, 0);

  Elf64_Ehdr ehdr = {};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_ident[EI_OSABI] = ELFOSABI_NONE;
  ehdr.e_type = elf_type;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_phoff = sizeof(Elf64_Ehdr);
  ehdr.e_ehsize = sizeof(Elf64_Ehdr);
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  // More than 0xfffe ranges would need PN_XNUM; images have far fewer.
  ehdr.e_phnum = static_cast<uint16_t>(ranges.size());
  std::memcpy(layout.headers.data(), &ehdr, sizeof ehdr);

  uint64_t offset = image::align_up(headers_size, image::kBlockSize);
  for (size_t i = 0; i < ranges.size(); ++i) {
    Elf64_Phdr ph = {};
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R | PF_W | PF_X;
    ph.p_offset = offset;
    // Identity: what kexec-tools expects of physical memory in an ET_EXEC.
    ph.p_vaddr = ranges[i].base;
    ph.p_paddr = ranges[i].base;
    ph.p_filesz = ranges[i].size;
    ph.p_memsz = ranges[i].size;
    ph.p_align = image::kBlockSize;
    std::memcpy(layout.headers.data() + sizeof ehdr + i * sizeof ph, &ph, sizeof ph);
    layout.range_offsets.push_back(offset);
    offset = image::align_up(offset + ranges[i].size, image::kBlockSize);
  }
  layout.file_size = ranges.empty() ? headers_size
                                    : layout.range_offsets.back() + ranges.back().size;
  return layout;
}

}  // namespace hl
