#include "efi/variables.h"

namespace hl::efi {

Result<VariableData> read_variable(const char* name, const Guid& vendor, void* buffer,
                                   size_t capacity) {
  CHAR16 wide_name[64];
  if (!ascii_to_char16(name, wide_name, sizeof wide_name / sizeof wide_name[0])) {
    return Error::make("variable name {} too long", name);
  }
  EFI_GUID guid = to_efi_guid(vendor);
  UINT32 attributes = 0;
  UINTN size = capacity;
  const EFI_STATUS status = RT->GetVariable(wide_name, &guid, &attributes, &size, buffer);
  VariableData result;
  if (status == EFI_NOT_FOUND) return result;
  if (status == EFI_BUFFER_TOO_SMALL) {
    return Error::make("variable {} is {} bytes, more than the {} allowed", name, size, capacity);
  }
  if (EFI_ERROR(status)) return firmware_error("reading an EFI variable", status).with_context("{}", name);
  result.found = true;
  result.size = size;
  result.attributes = attributes;
  return result;
}

}  // namespace hl::efi
