#include "common/guids.h"

namespace hl {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The canonical form as a sequence of bytes in text order (big-endian fields),
// with the positions of the dashes.
constexpr int kDashes[] = {8, 13, 18, 23};

void guid_to_text_bytes(const Guid& g, uint8_t bytes[16]) {
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<uint8_t>(g.data1 >> (24 - 8 * i));
  bytes[4] = static_cast<uint8_t>(g.data2 >> 8);
  bytes[5] = static_cast<uint8_t>(g.data2);
  bytes[6] = static_cast<uint8_t>(g.data3 >> 8);
  bytes[7] = static_cast<uint8_t>(g.data3);
  for (int i = 0; i < 8; ++i) bytes[8 + i] = g.data4[i];
}

}  // namespace

void guid_to_string(const Guid& guid, char out[37]) {
  static const char kDigits[] = "0123456789abcdef";
  uint8_t bytes[16];
  guid_to_text_bytes(guid, bytes);
  int pos = 0;
  int dash = 0;
  for (int i = 0; i < 16; ++i) {
    if (dash < 4 && pos == kDashes[dash]) {
      out[pos++] = '-';
      ++dash;
    }
    out[pos++] = kDigits[bytes[i] >> 4];
    out[pos++] = kDigits[bytes[i] & 0xf];
  }
  out[pos] = '\0';
}

bool guid_from_string(const char* text, Guid* out) {
  uint8_t bytes[16];
  int byte = 0;
  int dash = 0;
  for (int pos = 0; pos < 36;) {
    if (dash < 4 && pos == kDashes[dash]) {
      if (text[pos] != '-') return false;
      ++pos;
      ++dash;
      continue;
    }
    const int hi = hex_value(text[pos]);
    if (hi < 0) return false;
    const int lo = hex_value(text[pos + 1]);
    if (lo < 0) return false;
    bytes[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    pos += 2;
  }
  if (text[36] != '\0') return false;
  out->data1 = static_cast<uint32_t>(bytes[0]) << 24 | static_cast<uint32_t>(bytes[1]) << 16 |
               static_cast<uint32_t>(bytes[2]) << 8 | bytes[3];
  out->data2 = static_cast<uint16_t>(bytes[4] << 8 | bytes[5]);
  out->data3 = static_cast<uint16_t>(bytes[6] << 8 | bytes[7]);
  for (int i = 0; i < 8; ++i) out->data4[i] = bytes[8 + i];
  return true;
}

}  // namespace hl
