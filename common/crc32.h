// CRC-32 as used by GPT (UEFI spec 2.10, section 5.3.2), zlib, gzip, PNG and
// Ethernet: the IEEE 802.3 polynomial, reflected, initial value and final XOR
// 0xffffffff. Freestanding; the tables are built at compile time.
//
//   uint32_t crc = hl::crc32(header, 92);                  // one shot
//   uint32_t crc = hl::crc32(second, n2, hl::crc32(first, n1));  // in pieces
//
// The chained form matches zlib's crc32(crc32(0, first, n1), second, n2).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace hl {

// CRC-32 of length bytes at data, continuing from previous (the CRC of the
// bytes before them; 0 to start).
uint32_t crc32(const void* data, size_t length, uint32_t previous = 0);

}  // namespace hl
