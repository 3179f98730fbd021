// Reads what hiberload-save records besides memory, from the running
// (hibernating) kernel's files or from copies of them:
//   - the memory map: /sys/firmware/memmap (directories N/{start,end,type},
//     end inclusive) or a text file with one "START END TYPE" line per range
//     in the same notation (what `cat N/start N/end N/type` prints);
//   - the EFI runtime map: /sys/firmware/efi/runtime-map (directories
//     N/{phys_addr,virt_addr,num_pages,type,attribute}) or a text file with
//     one "PHYS VIRT NUM_PAGES TYPE ATTRIBUTE" line per region;
//   - the jump back entry: kexec_jump_back_entry=0x... on a command line.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "common/image_format.h"
#include "tools/lib/memory_source.h"

namespace hl {

// Numbers as the kernel prints them in sysfs: 0x-hex or decimal.
Result<uint64_t> parse_sysfs_number(const std::string& text);

// Type names of /sys/firmware/memmap/N/type, or a number.
Result<uint32_t> parse_memory_type(const std::string& text);

// Sorts, checks for overlaps and merges touching entries of the same type, so
// that equal maps give equal fingerprints.
Result<std::vector<image::MemoryMapEntry>> canonical_memory_map(
    std::vector<image::MemoryMapEntry> entries);

Result<std::vector<image::MemoryMapEntry>> read_memory_map(const std::string& path);
Result<std::vector<image::RuntimeMapEntry>> read_runtime_map(const std::string& path);

// The value of kexec_jump_back_entry= in a kernel command line.
Result<uint64_t> jump_back_entry_from_cmdline(const std::string& cmdline);

// Scratch ranges by default: the System RAM of `memory_map` that no saved
// range covers, shrunk to whole 4 KiB pages.
std::vector<image::ScratchRange> derive_scratch(const std::vector<image::MemoryMapEntry>& memory_map,
                                                const std::vector<PhysicalRange>& saved);

// Checks --scratch ranges and returns them sorted; refuses overlaps.
Result<std::vector<image::ScratchRange>> sorted_scratch(std::vector<PhysicalRange> ranges);

// Whole file as text (sysfs files, /proc/cmdline).
Result<std::string> read_text_file(const std::string& path);

}  // namespace hl
