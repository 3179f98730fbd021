#include "tools/lib/memory_source.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace hl {
namespace {

// Parses [begin, end) as an unsigned number (decimal or 0x-hex), with an
// optional K/M/G multiplier when allow_suffix.
bool parse_number(const char* begin, const char* end, bool allow_suffix, uint64_t* out) {
  if (begin == end) return false;
  std::string text(begin, end);
  uint64_t multiplier = 1;
  if (allow_suffix) {
    const char last = text.back();
    if (last == 'K' || last == 'k') multiplier = 1ull << 10;
    if (last == 'M' || last == 'm') multiplier = 1ull << 20;
    if (last == 'G' || last == 'g') multiplier = 1ull << 30;
    if (multiplier != 1) text.pop_back();
  }
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  errno = 0;
  char* parsed_end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &parsed_end, 0);
  if (errno != 0 || parsed_end != text.c_str() + text.size()) return false;
  if (value > UINT64_MAX / multiplier) return false;
  *out = value * multiplier;
  return true;
}

}  // namespace

Result<uint64_t> parse_size(const char* text) {
  uint64_t value;
  if (!parse_number(text, text + std::strlen(text), true, &value)) {
    return Error::make("'{}' is not a number (decimal or 0x-hex, optional K/M/G)", text);
  }
  return value;
}

Result<PhysicalRange> parse_physical_range(const char* text) {
  const char* plus = std::strchr(text, '+');
  PhysicalRange range;
  if (plus == nullptr || !parse_number(text, plus, false, &range.base) ||
      !parse_number(plus + 1, text + std::strlen(text), true, &range.size)) {
    return Error::make("'{}' is not a range BASE+SIZE (e.g. 0x100000+288M)", text);
  }
  if (range.size == 0 || range.size > UINT64_MAX - range.base) {
    return Error::make("range '{}' is empty or wraps around", text);
  }
  return range;
}

std::vector<PhysicalRange> subtract_range(const std::vector<PhysicalRange>& ranges,
                                          const PhysicalRange& cut) {
  std::vector<PhysicalRange> out;
  for (const PhysicalRange& r : ranges) {
    if (cut.end() <= r.base || cut.base >= r.end()) {
      out.push_back(r);
      continue;
    }
    if (cut.base > r.base) out.push_back({r.base, cut.base - r.base});
    if (cut.end() < r.end()) out.push_back({cut.end(), r.end() - cut.end()});
  }
  return out;
}

}  // namespace hl
