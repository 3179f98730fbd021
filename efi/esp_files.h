// Reading files from the ESP hiberload was loaded from (kernel, initrd,
// test-control file), through the Simple File System protocol.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "efi/firmware.h"

namespace hl::efi {

// A whole file in boot-services pool memory. Release with free_file().
struct FileContents {
  uint8_t* data = nullptr;
  size_t size = 0;
};

// Reads path (ASCII, backslash-separated, like "\EFI\hiberload\test.conf")
// from the volume of `image`. At most max_size bytes; larger files fail.
// A missing file fails with a reason containing "not found".
Result<FileContents> read_esp_file(EFI_HANDLE image, const char* path, size_t max_size);

void free_file(FileContents* file);

// True if path exists on the ESP (used to report the default kernel).
bool esp_file_exists(EFI_HANDLE image, const char* path);

}  // namespace hl::efi
