// The project's own GUIDs. Documented in docs/configuration.md and
// docs/image-format.md; changing one breaks every installed system.
#pragma once

#include <stdint.h>

namespace hl {

struct Guid {
  uint32_t data1;
  uint16_t data2;
  uint16_t data3;
  uint8_t data4[8];
};

constexpr bool operator==(const Guid& a, const Guid& b) {
  if (a.data1 != b.data1 || a.data2 != b.data2 || a.data3 != b.data3) return false;
  for (int i = 0; i < 8; ++i) {
    if (a.data4[i] != b.data4[i]) return false;
  }
  return true;
}

// GPT partition type of a hiberload hibernation partition:
// 182aad0a-d5e4-4b60-b136-a6c091f30d90
inline constexpr Guid kHibernationPartitionType = {
    0x182aad0a, 0xd5e4, 0x4b60, {0xb1, 0x36, 0xa6, 0xc0, 0x91, 0xf3, 0x0d, 0x90}};

// Vendor GUID of hiberload's EFI variables (HiberloadConfig, ...):
// 7046435b-270f-4f8c-b50c-ec76266272b9
inline constexpr Guid kVendorGuid = {
    0x7046435b, 0x270f, 0x4f8c, {0xb5, 0x0c, 0xec, 0x76, 0x26, 0x62, 0x72, 0xb9}};

// Formats a GUID in its canonical lower-case text form (37 bytes with NUL).
void guid_to_string(const Guid& guid, char out[37]);

// Parses the canonical text form; returns false on any deviation.
bool guid_from_string(const char* text, Guid* out);

}  // namespace hl
