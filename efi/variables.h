// EFI variables under hiberload's vendor GUID.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "efi/firmware.h"

namespace hl::efi {

struct VariableData {
  bool found = false;
  size_t size = 0;
  uint32_t attributes = 0;
};

// Reads variable `name` (ASCII) of `vendor` into buffer. Absent is not an
// error (found = false); a variable larger than capacity is.
Result<VariableData> read_variable(const char* name, const Guid& vendor, void* buffer,
                                   size_t capacity);

}  // namespace hl::efi
