#include "common/format.h"

namespace hl {
namespace {

// Appends to a bounded buffer, always leaving room for the terminating NUL.
class Sink {
 public:
  Sink(char* buf, size_t capacity) : buf_(buf), capacity_(capacity) {}
  void put(char c) {
    if (capacity_ != 0 && length_ + 1 < capacity_) buf_[length_++] = c;
  }
  void put(const char* s) {
    while (*s) put(*s++);
  }
  void put_unsigned(uint64_t v, unsigned base, bool upper = false) {
    char digits[24];
    size_t n = 0;
    const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
      digits[n++] = alphabet[v % base];
      v /= base;
    } while (v != 0);
    while (n != 0) put(digits[--n]);
  }
  size_t finish() {
    if (capacity_ != 0) buf_[length_] = '\0';
    return length_;
  }

 private:
  char* buf_;
  size_t capacity_;
  size_t length_ = 0;
};

void put_arg(Sink& out, const FormatArg& arg, char style) {
  using Kind = FormatArg::Kind;
  const bool hex = style == 'x' || style == 'X';
  switch (arg.kind) {
    case Kind::kUnsigned:
      if (style == 'x') out.put("0x");
      out.put_unsigned(arg.u, hex ? 16 : 10);
      return;
    case Kind::kSigned: {
      uint64_t magnitude = static_cast<uint64_t>(arg.s);
      if (arg.s < 0) {
        out.put('-');
        magnitude = 0 - magnitude;
      }
      if (style == 'x') out.put("0x");
      out.put_unsigned(magnitude, hex ? 16 : 10);
      return;
    }
    case Kind::kString:
      out.put(arg.str);
      return;
    case Kind::kChar:
      out.put(arg.c);
      return;
  }
}

}  // namespace

size_t vformat_to(char* buf, size_t capacity, const char* fmt, const FormatArg* args,
                  size_t arg_count) {
  Sink out(buf, capacity);
  size_t next_arg = 0;
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (p[0] == '{' && p[1] == '{') {
      out.put('{');
      ++p;
    } else if (p[0] == '}' && p[1] == '}') {
      out.put('}');
      ++p;
    } else if (p[0] == '{' && (p[1] == '}' || (p[2] == '}' && p[1] != '\0'))) {
      const char style = p[1] == '}' ? '\0' : p[1];
      p += style == '\0' ? 1 : 2;
      if (next_arg < arg_count) {
        put_arg(out, args[next_arg++], style);
      } else {
        out.put('?');  // More placeholders than arguments: visible, not fatal.
      }
    } else {
      out.put(*p);
    }
  }
  return out.finish();
}

size_t format_size(char* buf, size_t capacity, uint64_t bytes) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  unsigned unit = 0;
  uint64_t whole = bytes;
  uint64_t tenths = 0;
  while (whole >= 1024 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    tenths = (whole % 1024) * 10 / 1024;
    whole /= 1024;
    ++unit;
  }
  if (unit == 0 || whole >= 100 || tenths == 0) {
    return format_to(buf, capacity, "{} {}", whole, kUnits[unit]);
  }
  return format_to(buf, capacity, "{}.{} {}", whole, tenths, kUnits[unit]);
}

size_t format_hex(char* buf, size_t capacity, const uint8_t* bytes, size_t len) {
  Sink out(buf, capacity);
  static const char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; ++i) {
    out.put(kDigits[bytes[i] >> 4]);
    out.put(kDigits[bytes[i] & 0xf]);
  }
  return out.finish();
}

}  // namespace hl
