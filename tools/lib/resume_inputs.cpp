#include "tools/lib/resume_inputs.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hl {
namespace {

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

bool is_directory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Numeric subdirectory names (N) of a sysfs directory, in numeric order.
Result<std::vector<std::string>> numbered_entries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Error::make("cannot open {}: {}", dir.c_str(), std::strerror(errno));
  std::vector<unsigned long> numbers;
  while (const dirent* e = readdir(d)) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(e->d_name, &end, 10);
    if (e->d_name[0] != '\0' && *end == '\0') numbers.push_back(n);
  }
  closedir(d);
  std::sort(numbers.begin(), numbers.end());
  std::vector<std::string> names;
  for (unsigned long n : numbers) names.push_back(dir + "/" + std::to_string(n));
  return names;
}

Result<uint64_t> read_number_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  auto value = parse_sysfs_number(trim(*text));
  if (!value) return value.error().with_context("{}", path.c_str());
  return *value;
}

// Lines of a text file without blank lines and '#' comments.
Result<std::vector<std::string>> content_lines(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  std::vector<std::string> lines;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

Result<image::MemoryMapEntry> memory_map_entry(uint64_t start, uint64_t end_inclusive,
                                               uint32_t type, const std::string& where) {
  if (end_inclusive < start || end_inclusive == UINT64_MAX) {
    return Error::make("{}: invalid range {x}-{x}", where.c_str(), start, end_inclusive);
  }
  return image::MemoryMapEntry{start, end_inclusive - start + 1, type, 0};
}

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::make("cannot read {}: {}", path.c_str(), std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<uint64_t> parse_sysfs_number(const std::string& text) {
  if (text.empty() || text[0] == '-' || text[0] == '+') {
    return Error::make("'{}' is not a number", text.c_str());
  }
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0') return Error::make("'{}' is not a number", text.c_str());
  return static_cast<uint64_t>(value);
}

Result<uint32_t> parse_memory_type(const std::string& text) {
  using image::MemoryType;
  static const MemoryType kTypes[] = {
      MemoryType::kRam,        MemoryType::kReserved,         MemoryType::kAcpi,
      MemoryType::kAcpiNvs,    MemoryType::kUnusable,         MemoryType::kPersistentLegacy,
      MemoryType::kPersistent, MemoryType::kSoftReserved};
  for (MemoryType t : kTypes) {
    if (text == image::memory_type_name(static_cast<uint32_t>(t))) return static_cast<uint32_t>(t);
  }
  auto number = parse_sysfs_number(text);
  if (!number || *number > UINT32_MAX) {
    return Error::make("unknown memory type '{}'", text.c_str());
  }
  return static_cast<uint32_t>(*number);
}

Result<std::vector<image::MemoryMapEntry>> canonical_memory_map(
    std::vector<image::MemoryMapEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.base < b.base; });
  std::vector<image::MemoryMapEntry> out;
  for (const image::MemoryMapEntry& e : entries) {
    if (!out.empty()) {
      image::MemoryMapEntry& last = out.back();
      if (e.base < last.base + last.size) {
        return Error::make("memory map ranges {x}+{x} and {x}+{x} overlap", last.base, last.size,
                           e.base, e.size);
      }
      if (e.base == last.base + last.size && e.type == last.type) {
        last.size += e.size;
        continue;
      }
    }
    out.push_back(e);
  }
  return out;
}

Result<std::vector<image::MemoryMapEntry>> read_memory_map(const std::string& path) {
  std::vector<image::MemoryMapEntry> entries;
  if (is_directory(path)) {
    auto dirs = numbered_entries(path);
    if (!dirs) return dirs.error();
    for (const std::string& dir : *dirs) {
      auto start = read_number_file(dir + "/start");
      if (!start) return start.error();
      auto end = read_number_file(dir + "/end");
      if (!end) return end.error();
      auto type_text = read_text_file(dir + "/type");
      if (!type_text) return type_text.error();
      auto type = parse_memory_type(trim(*type_text));
      if (!type) return type.error().with_context("{}/type", dir.c_str());
      auto entry = memory_map_entry(*start, *end, *type, dir);
      if (!entry) return entry.error();
      entries.push_back(*entry);
    }
  } else {
    auto lines = content_lines(path);
    if (!lines) return lines.error();
    for (size_t i = 0; i < lines->size(); ++i) {
      const std::string& line = (*lines)[i];
      const std::string where = path + ":" + std::to_string(i + 1);
      std::istringstream fields(line);
      std::string start_text, end_text;
      fields >> start_text >> end_text;
      std::string type_text;
      std::getline(fields, type_text);
      auto start = parse_sysfs_number(start_text);
      auto end = parse_sysfs_number(end_text);
      auto type = parse_memory_type(trim(type_text));
      if (!start || !end || !type) {
        return Error::make("{}: expected 'START END TYPE', got '{}'", where.c_str(), line.c_str());
      }
      auto entry = memory_map_entry(*start, *end, *type, where);
      if (!entry) return entry.error();
      entries.push_back(*entry);
    }
  }
  if (entries.empty()) return Error::make("{}: empty memory map", path.c_str());
  auto canonical = canonical_memory_map(std::move(entries));
  if (!canonical) return canonical.error().with_context("{}", path.c_str());
  return canonical;
}

Result<std::vector<image::RuntimeMapEntry>> read_runtime_map(const std::string& path) {
  std::vector<image::RuntimeMapEntry> entries;
  if (is_directory(path)) {
    auto dirs = numbered_entries(path);
    if (!dirs) return dirs.error();
    static const char* const kFields[] = {"phys_addr", "virt_addr", "num_pages", "type",
                                          "attribute"};
    for (const std::string& dir : *dirs) {
      uint64_t values[5];
      for (int f = 0; f < 5; ++f) {
        auto value = read_number_file(dir + "/" + kFields[f]);
        if (!value) return value.error();
        values[f] = *value;
      }
      if (values[3] > UINT32_MAX) return Error::make("{}/type: {} is too large", dir.c_str(), values[3]);
      entries.push_back({values[0], values[1], values[2], values[4],
                         static_cast<uint32_t>(values[3]), 0});
    }
  } else {
    auto lines = content_lines(path);
    if (!lines) return lines.error();
    for (size_t i = 0; i < lines->size(); ++i) {
      std::istringstream fields((*lines)[i]);
      std::string text[5];
      uint64_t values[5];
      bool ok = true;
      for (int f = 0; f < 5; ++f) {
        fields >> text[f];
        auto value = parse_sysfs_number(text[f]);
        ok = ok && value.ok();
        values[f] = value ? *value : 0;
      }
      std::string extra;
      if (!ok || (fields >> extra) || values[3] > UINT32_MAX) {
        return Error::make("{}:{}: expected 'PHYS VIRT NUM_PAGES TYPE ATTRIBUTE'", path.c_str(),
                           i + 1);
      }
      entries.push_back({values[0], values[1], values[2], values[4],
                         static_cast<uint32_t>(values[3]), 0});
    }
  }
  return entries;
}

std::vector<image::ScratchRange> derive_scratch(const std::vector<image::MemoryMapEntry>& memory_map,
                                                const std::vector<PhysicalRange>& saved) {
  constexpr uint64_t kPage = 4096;
  std::vector<PhysicalRange> free;
  for (const image::MemoryMapEntry& e : memory_map) {
    if (e.type == static_cast<uint32_t>(image::MemoryType::kRam)) free.push_back({e.base, e.size});
  }
  for (const PhysicalRange& cut : saved) free = subtract_range(free, cut);
  std::vector<image::ScratchRange> scratch;
  for (const PhysicalRange& r : free) {
    const uint64_t base = image::align_up(r.base, kPage);
    const uint64_t end = r.end() / kPage * kPage;
    if (end > base) scratch.push_back({base, end - base});
  }
  return scratch;
}

Result<std::vector<image::ScratchRange>> sorted_scratch(std::vector<PhysicalRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const PhysicalRange& a, const PhysicalRange& b) { return a.base < b.base; });
  std::vector<image::ScratchRange> out;
  for (const PhysicalRange& r : ranges) {
    if (!out.empty() && r.base < out.back().base + out.back().size) {
      return Error::make("scratch ranges {x}+{x} and {x}+{x} overlap", out.back().base,
                         out.back().size, r.base, r.size);
    }
    out.push_back({r.base, r.size});
  }
  return out;
}

Result<uint64_t> jump_back_entry_from_cmdline(const std::string& cmdline) {
  static const std::string kKey = "kexec_jump_back_entry=";
  std::istringstream words(cmdline);
  std::string word;
  while (words >> word) {
    if (word.compare(0, kKey.size(), kKey) != 0) continue;
    auto value = parse_sysfs_number(word.substr(kKey.size()));
    if (!value || *value == 0) return Error::make("invalid {}", word.c_str());
    return *value;
  }
  return Error::make("no kexec_jump_back_entry= on the command line (not started by a "
                     "preserve-context kexec?)");
}

}  // namespace hl
