#include "tools/lib/elf_core.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace hl {
namespace {

// A bound on program headers read from untrusted input (/proc/vmcore of a
// large machine has a few hundred).
constexpr uint64_t kMaxProgramHeaders = 1u << 20;

Result<uint64_t> program_header_count(Storage& file, const Elf64_Ehdr& ehdr) {
  if (ehdr.e_phnum != PN_XNUM) return uint64_t{ehdr.e_phnum};
  // More than 0xfffe program headers: the real count is in section 0's sh_info.
  Elf64_Shdr section0;
  if (ehdr.e_shoff == 0) return Error::make("e_phnum is PN_XNUM but there is no section header");
  HL_TRY(file.read(ehdr.e_shoff, &section0, sizeof section0));
  return uint64_t{section0.sh_info};
}

Status check_elf_header(const Elf64_Ehdr& ehdr) {
  if (std::memcmp(ehdr.e_ident, ELFMAG, SELFMAG) != 0) return Error::make("not an ELF file");
  if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Error::make("not a little-endian ELF64 file");
  }
  if (ehdr.e_type != ET_CORE && ehdr.e_type != ET_EXEC) {
    return Error::make("ELF type {} is neither ET_CORE nor ET_EXEC", ehdr.e_type);
  }
  if (ehdr.e_phentsize != sizeof(Elf64_Phdr)) {
    return Error::make("program header size {} (expected {})", ehdr.e_phentsize,
                       sizeof(Elf64_Phdr));
  }
  return ok_status();
}

// Sorted pieces; drops each piece contained in an earlier one, refuses
// partial overlaps.
Status drop_duplicates(std::vector<ElfCore::Piece>* pieces, std::vector<std::string>* notes) {
  std::sort(pieces->begin(), pieces->end(), [](const auto& a, const auto& b) {
    return a.base != b.base ? a.base < b.base : a.size > b.size;
  });
  std::vector<ElfCore::Piece> kept;
  for (const ElfCore::Piece& p : *pieces) {
    if (!kept.empty() && p.base < kept.back().base + kept.back().size) {
      const ElfCore::Piece& covering = kept.back();
      if (p.base + p.size > covering.base + covering.size) {
        return Error::make("PT_LOADs {x}+{x} and {x}+{x} partly overlap; drop one with --exclude",
                           covering.base, covering.size, p.base, p.size);
      }
      char note[160];
      format_to(note, sizeof note,
                "dropped PT_LOAD {x}+{x}: it duplicates part of PT_LOAD {x}+{x}", p.base, p.size,
                covering.base, covering.size);
      notes->push_back(note);
      continue;
    }
    kept.push_back(p);
  }
  *pieces = std::move(kept);
  return ok_status();
}

// Removes [cut.base, cut.end()) from every piece, keeping file offsets right.
std::vector<ElfCore::Piece> exclude(const std::vector<ElfCore::Piece>& pieces,
                                    const PhysicalRange& cut) {
  std::vector<ElfCore::Piece> out;
  for (const ElfCore::Piece& p : pieces) {
    const uint64_t end = p.base + p.size;
    if (cut.end() <= p.base || cut.base >= end) {
      out.push_back(p);
      continue;
    }
    if (cut.base > p.base) {
      const uint64_t size = cut.base - p.base;
      out.push_back({p.base, size, p.file_offset, std::min(p.file_size, size)});
    }
    if (cut.end() < end) {
      const uint64_t skip = cut.end() - p.base;
      const uint64_t file_left = p.file_size > skip ? p.file_size - skip : 0;
      out.push_back({cut.end(), end - cut.end(), p.file_offset + skip, file_left});
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<ElfCore>> ElfCore::open(Storage& file,
                                               const std::vector<PhysicalRange>& excludes,
                                               std::vector<std::string>* notes,
                                               InvalidLoads invalid) {
  Elf64_Ehdr ehdr;
  if (file.size() < sizeof ehdr) return Error::make("file too small for an ELF header");
  HL_TRY(file.read(0, &ehdr, sizeof ehdr));
  HL_TRY(check_elf_header(ehdr));
  auto count = program_header_count(file, ehdr);
  if (!count) return count.error();
  if (*count == 0) return Error::make("no program headers");
  if (*count > kMaxProgramHeaders ||
      !range_inside(ehdr.e_phoff, *count * sizeof(Elf64_Phdr), file.size())) {
    return Error::make("{} program headers at {x} do not fit in the file", *count, ehdr.e_phoff);
  }
  std::vector<Elf64_Phdr> phdrs(*count);
  HL_TRY(file.read(ehdr.e_phoff, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr)));
  const uint64_t headers_end = ehdr.e_phoff + phdrs.size() * sizeof(Elf64_Phdr);

  std::unique_ptr<ElfCore> core(new ElfCore(file));
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    Status problem = ok_status();
    if (ph.p_filesz > ph.p_memsz || ph.p_memsz > UINT64_MAX - ph.p_paddr) {
      problem = Error::make("PT_LOAD {} (paddr {x}): invalid sizes filesz {x} memsz {x}", i,
                            ph.p_paddr, ph.p_filesz, ph.p_memsz);
    } else if (!range_inside(ph.p_offset, ph.p_filesz, file.size())) {
      problem = Error::make("PT_LOAD {} (paddr {x}): file range {x}+{x} ends past the file ({x} "
                            "bytes)",
                            i, ph.p_paddr, ph.p_offset, ph.p_filesz, file.size());
    } else if (ph.p_filesz != 0 && ph.p_offset < headers_end) {
      problem = Error::make("PT_LOAD {} (paddr {x}): file offset {x} overlaps the ELF headers (a "
                            "kexec-tools core of low RAM?); drop it with --exclude {x}+{x}",
                            i, ph.p_paddr, ph.p_offset, ph.p_paddr, ph.p_memsz);
    }
    if (!problem) {
      if (invalid == InvalidLoads::kRefuse) return problem.error();
      notes->push_back(std::string("dropped ") + problem.error().reason());
      continue;
    }
    core->pieces_.push_back({ph.p_paddr, ph.p_memsz, ph.p_offset, ph.p_filesz});
  }
  HL_TRY(drop_duplicates(&core->pieces_, notes));
  for (const PhysicalRange& cut : excludes) core->pieces_ = exclude(core->pieces_, cut);
  if (core->pieces_.empty()) return Error::make("no memory left (no PT_LOAD outside the excludes)");
  for (const Piece& p : core->pieces_) {
    if (!core->ranges_.empty() && core->ranges_.back().end() == p.base) {
      core->ranges_.back().size += p.size;
    } else {
      core->ranges_.push_back({p.base, p.size});
    }
  }
  return core;
}

Status ElfCore::read(uint64_t address, void* buffer, size_t length) const {
  auto* out = static_cast<uint8_t*>(buffer);
  // The first piece that ends after `address`.
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), address,
                             [](uint64_t a, const Piece& p) { return a < p.base + p.size; });
  while (length > 0) {
    if (it == pieces_.end() || it->base > address) {
      return Error::make("physical {x} is not in the core", address);
    }
    const uint64_t skip = address - it->base;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, it->size - skip));
    const uint64_t from_file = skip < it->file_size ? std::min<uint64_t>(n, it->file_size - skip) : 0;
    if (from_file > 0) {
      if (auto s = file_.read(it->file_offset + skip, out, from_file); !s) {
        const bool efault = std::strstr(s.error().reason(), "Bad address") != nullptr;
        return s.error().with_context(
            "reading physical {x} of the core{}", address,
            efault ? " (memory the saving kernel cannot read: exclude the PT_LOAD with --exclude)"
                   : "");
      }
    }
    std::memset(out + from_file, 0, n - from_file);
    out += n;
    address += n;
    length -= n;
    ++it;
  }
  return ok_status();
}

}  // namespace hl
