#include "common/key_value.h"

#include <string.h>

namespace hl {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

TextView trim(const char* begin, const char* end) {
  while (begin < end && is_blank(*begin)) ++begin;
  while (end > begin && is_blank(end[-1])) --end;
  return TextView{begin, static_cast<size_t>(end - begin)};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool TextView::equals(const char* literal) const {
  const size_t n = strlen(literal);
  return n == size && memcmp(data, literal, n) == 0;
}

bool TextView::copy_to(char* out, size_t capacity) const {
  if (capacity == 0 || size > capacity - 1) return false;
  memcpy(out, data, size);
  out[size] = '\0';
  return true;
}

bool KeyValueReader::next(KeyValue* out) {
  if (!status_) return false;
  while (pos_ < length_) {
    const char* line_begin = text_ + pos_;
    const char* newline =
        static_cast<const char*>(memchr(line_begin, '\n', length_ - pos_));
    const char* line_end = newline ? newline : text_ + length_;
    pos_ = static_cast<size_t>(line_end - text_) + (newline ? 1 : 0);
    ++line_;

    TextView line = trim(line_begin, line_end);
    if (line.size == 0 || line.data[0] == '#') continue;
    // A NUL inside the text is never valid configuration (it would cut the
    // value short when copied to a C string).
    if (memchr(line.data, '\0', line.size) != nullptr) {
      status_ = Error::make("line {}: contains a NUL byte", line_);
      return false;
    }
    const char* equals = static_cast<const char*>(memchr(line.data, '=', line.size));
    if (equals == nullptr) {
      status_ = Error::make("line {}: expected key=value", line_);
      return false;
    }
    out->key = trim(line.data, equals);
    out->value = trim(equals + 1, line.data + line.size);
    out->line = line_;
    if (out->key.size == 0) {
      status_ = Error::make("line {}: empty key before '='", line_);
      return false;
    }
    return true;
  }
  return false;
}

bool parse_u64(TextView text, uint64_t* out) {
  unsigned base = 10;
  size_t i = 0;
  if (text.size > 2 && text.data[0] == '0' && (text.data[1] == 'x' || text.data[1] == 'X')) {
    base = 16;
    i = 2;
  }
  if (i == text.size) return false;
  uint64_t value = 0;
  for (; i < text.size; ++i) {
    const int digit = hex_digit(text.data[i]);
    if (digit < 0 || static_cast<unsigned>(digit) >= base) return false;
    if (value > (UINT64_MAX - static_cast<unsigned>(digit)) / base) return false;
    value = value * base + static_cast<unsigned>(digit);
  }
  *out = value;
  return true;
}

bool parse_hex_bytes(TextView text, uint8_t* out, size_t out_len) {
  if (text.size != 2 * out_len) return false;
  for (size_t i = 0; i < out_len; ++i) {
    const int hi = hex_digit(text.data[2 * i]);
    const int lo = hex_digit(text.data[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace hl
