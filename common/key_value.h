// Line-oriented "key=value" text, the syntax of hiberload's configuration
// variable and of the test-control file on the ESP.
//
//   KeyValueReader reader(text, length);
//   KeyValue kv;
//   while (reader.next(&kv)) { ... kv.key, kv.value ... }
//   if (!reader.status()) report(reader.status().error());
//
// Blank lines and lines starting with '#' are skipped; spaces and tabs around
// keys and values are trimmed; lines end with LF or CRLF. A line without '='
// or with an empty key stops the reader with an error naming the line. The
// reader never writes to the text and never reads outside [text, text+length)
// (the text need not be NUL-terminated), so it is safe on untrusted bytes.
#pragma once

#include <stddef.h>

#include "common/error.h"

namespace hl {

// A non-owning view of characters (not NUL-terminated).
struct TextView {
  const char* data = nullptr;
  size_t size = 0;

  bool equals(const char* literal) const;
  // Copies into out (capacity including NUL); false if it does not fit.
  bool copy_to(char* out, size_t capacity) const;
};

struct KeyValue {
  TextView key;
  TextView value;
  unsigned line = 0;  // 1-based, for messages.
};

class KeyValueReader {
 public:
  KeyValueReader(const char* text, size_t length) : text_(text), length_(length) {}

  // Returns false at the end of the text or on a syntax error; then status()
  // says which.
  bool next(KeyValue* out);
  const Status& status() const { return status_; }

 private:
  const char* text_;
  size_t length_;
  size_t pos_ = 0;
  unsigned line_ = 0;
  Status status_;
};

// Parses an unsigned integer, decimal or 0x-prefixed hexadecimal, rejecting
// overflow, signs, empty input and trailing characters.
bool parse_u64(TextView text, uint64_t* out);

// Parses hex into exactly out_len bytes (2 * out_len hex digits).
bool parse_hex_bytes(TextView text, uint8_t* out, size_t out_len);

}  // namespace hl
