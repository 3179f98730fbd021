#include "efi/firmware.h"

namespace hl::efi {

const char* status_text(EFI_STATUS status) {
  switch (status) {
    case EFI_SUCCESS: return "success";
    case EFI_LOAD_ERROR: return "load error";
    case EFI_INVALID_PARAMETER: return "invalid parameter";
    case EFI_UNSUPPORTED: return "unsupported";
    case EFI_BAD_BUFFER_SIZE: return "bad buffer size";
    case EFI_BUFFER_TOO_SMALL: return "buffer too small";
    case EFI_NOT_READY: return "not ready";
    case EFI_DEVICE_ERROR: return "device error";
    case EFI_WRITE_PROTECTED: return "write protected";
    case EFI_OUT_OF_RESOURCES: return "out of resources";
    case EFI_VOLUME_CORRUPTED: return "volume corrupted";
    case EFI_VOLUME_FULL: return "volume full";
    case EFI_NO_MEDIA: return "no media";
    case EFI_MEDIA_CHANGED: return "media changed";
    case EFI_NOT_FOUND: return "not found";
    case EFI_ACCESS_DENIED: return "access denied";
    case EFI_NO_RESPONSE: return "no response";
    case EFI_NO_MAPPING: return "no mapping";
    case EFI_TIMEOUT: return "timeout";
    case EFI_NOT_STARTED: return "not started";
    case EFI_ALREADY_STARTED: return "already started";
    case EFI_ABORTED: return "aborted";
    case EFI_SECURITY_VIOLATION: return "security violation (Secure Boot refused it)";
    case EFI_CRC_ERROR: return "CRC error";
    default: return "unknown firmware error";
  }
}

Error firmware_error(const char* what, EFI_STATUS status) {
  return Error::make("{} failed: {} (status {x})", what, status_text(status),
                     static_cast<uint64_t>(status));
}

bool ascii_to_char16(const char* in, CHAR16* out, size_t capacity) {
  size_t i = 0;
  for (; in[i] != '\0'; ++i) {
    if (i + 1 >= capacity || static_cast<unsigned char>(in[i]) > 0x7f) return false;
    out[i] = static_cast<CHAR16>(in[i]);
  }
  if (capacity == 0) return false;
  out[i] = 0;
  return true;
}

}  // namespace hl::efi
