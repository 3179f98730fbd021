// The one include for gnu-efi in efi/ and kernel-loader/, plus the few
// conversions every firmware adapter needs.
//
// gnu-efi's headers are C; with GNU_EFI_USE_MS_ABI the protocol function
// pointers carry the ms_abi attribute, so firmware is called directly
// (ST->ConOut->OutputString(...)) without uefi_call_wrapper.
#pragma once

extern "C" {
#include <efi.h>
#include <efilib.h>
}

#include "common/error.h"
#include "common/guids.h"

namespace hl::efi {

// Words for a firmware status code, so no message shows a bare number.
const char* status_text(EFI_STATUS status);

// An Error that names the failed firmware call and its status in words.
Error firmware_error(const char* what, EFI_STATUS status);

inline EFI_GUID to_efi_guid(const Guid& g) {
  EFI_GUID out;
  out.Data1 = g.data1;
  out.Data2 = g.data2;
  out.Data3 = g.data3;
  for (int i = 0; i < 8; ++i) out.Data4[i] = g.data4[i];
  return out;
}

// Converts ASCII to a NUL-terminated CHAR16 string; false if it does not fit
// (capacity in CHAR16 units, including the NUL) or is not 7-bit ASCII.
bool ascii_to_char16(const char* in, CHAR16* out, size_t capacity);

}  // namespace hl::efi
