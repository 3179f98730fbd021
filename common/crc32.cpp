#include "common/crc32.h"

#include <string.h>

namespace hl {
namespace {

constexpr uint32_t kPolynomial = 0xedb88320;  // 0x04c11db7, bit-reversed.

// Slicing-by-8 (Intel's, as in zlib's "braided" variants): table k maps a byte
// to its CRC contribution when followed by k zero bytes, so eight input bytes
// are folded per step with eight independent lookups. About 4x the speed of
// the one-table loop, which matters if image payloads are ever checksummed.
struct Tables {
  uint32_t t[8][256];
};

constexpr Tables make_tables() {
  Tables tables{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    tables.t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int k = 1; k < 8; ++k) {
      const uint32_t prev = tables.t[k - 1][i];
      tables.t[k][i] = (prev >> 8) ^ tables.t[0][prev & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = make_tables();

static_assert(kTables.t[0][1] == 0x77073096, "CRC-32 table does not match zlib's");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "slicing-by-8 assumes little-endian");

}  // namespace

uint32_t crc32(const void* data, size_t length, uint32_t previous) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const auto& t = kTables.t;
  uint32_t c = ~previous;
  for (; length >= 8; length -= 8, p += 8) {
    uint32_t lo;
    uint32_t hi;
    memcpy(&lo, p, 4);  // memcpy: the input need not be aligned.
    memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; length > 0; --length, ++p) c = (c >> 8) ^ t[0][(c ^ *p) & 0xff];
  return ~c;
}

}  // namespace hl
