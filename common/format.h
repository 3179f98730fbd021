// Freestanding, type-safe text formatting into a caller-owned buffer.
//
// Used for error reasons and console messages in the EFI application and the
// host tools alike, so it must not touch libc or allocate. Arguments are
// converted to a small tagged value, which keeps the format checks at run time
// simple and avoids printf's varargs pitfalls (a wrong %llx silently reads
// garbage; here a mismatch prints "?").
//
//   char buf[64];
//   hl::format_to(buf, sizeof buf, "chunk {} at offset {x}", index, offset);
//
// Placeholders: {} decimal (or the string), {x} hexadecimal with 0x prefix,
// {X} hex without prefix, {{ and }} for literal braces. The output is always
// NUL-terminated and silently truncated to the buffer.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace hl {

struct FormatArg {
  enum class Kind : uint8_t { kUnsigned, kSigned, kString, kChar } kind;
  union {
    uint64_t u;
    int64_t s;
    const char* str;
    char c;
  };

  FormatArg(unsigned char v) : kind(Kind::kUnsigned), u(v) {}
  FormatArg(unsigned short v) : kind(Kind::kUnsigned), u(v) {}
  FormatArg(unsigned int v) : kind(Kind::kUnsigned), u(v) {}
  FormatArg(unsigned long v) : kind(Kind::kUnsigned), u(v) {}
  FormatArg(unsigned long long v) : kind(Kind::kUnsigned), u(v) {}
  FormatArg(short v) : kind(Kind::kSigned), s(v) {}
  FormatArg(int v) : kind(Kind::kSigned), s(v) {}
  FormatArg(long v) : kind(Kind::kSigned), s(v) {}
  FormatArg(long long v) : kind(Kind::kSigned), s(v) {}
  FormatArg(bool v) : kind(Kind::kString), str(v ? "true" : "false") {}
  FormatArg(char v) : kind(Kind::kChar), c(v) {}
  FormatArg(const char* v) : kind(Kind::kString), str(v ? v : "(null)") {}
  FormatArg(char* v) : FormatArg(static_cast<const char*>(v)) {}
};

// Formats into buf (capacity bytes, including the NUL). Returns the number of
// characters written, excluding the NUL.
size_t vformat_to(char* buf, size_t capacity, const char* fmt, const FormatArg* args,
                  size_t arg_count);

template <typename... Args>
size_t format_to(char* buf, size_t capacity, const char* fmt, const Args&... args) {
  if constexpr (sizeof...(Args) == 0) {
    return vformat_to(buf, capacity, fmt, nullptr, 0);
  } else {
    const FormatArg packed[] = {FormatArg(args)...};
    return vformat_to(buf, capacity, fmt, packed, sizeof...(Args));
  }
}

// Formats a byte count as a short human-readable size ("512 KiB", "3.2 MiB").
size_t format_size(char* buf, size_t capacity, uint64_t bytes);

// Lower-case hex of a byte string (2 * len characters plus NUL must fit).
size_t format_hex(char* buf, size_t capacity, const uint8_t* bytes, size_t len);

}  // namespace hl
