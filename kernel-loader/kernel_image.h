// The kernel as an EFI image: read from the ESP, checked, LoadImage'd with
// its command line in LoadOptions, started, and unloaded if it returns.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/linux_kernel_image.h"
#include "efi/esp_files.h"
#include "efi/firmware.h"

namespace hl::kernel_loader {

// Largest kernel file hiberload reads (Debian's is ~8 MiB; a unified kernel
// image with a big initrd may be ~100 MiB).
inline constexpr size_t kMaxKernelFileSize = 256u << 20;
// Largest initrd file.
inline constexpr size_t kMaxInitrdFileSize = 1024u << 20;

class LoadedKernel {
 public:
  LoadedKernel() = default;
  ~LoadedKernel() { unload(); }
  LoadedKernel(const LoadedKernel&) = delete;
  LoadedKernel& operator=(const LoadedKernel&) = delete;

  // LoadImage of `file` (read from `path` on self's ESP) with a file device
  // path naming it, so that the firmware's Secure Boot policy applies and
  // the kernel can see where it came from. The errors say what to do.
  Status load(EFI_HANDLE self, const char* path, const efi::FileContents& file);

  // Sets the loaded image's LoadOptions to the UCS-2 form of `ascii`, which
  // the EFI stub reads as its command line.
  Status set_command_line(const char* ascii);

  // StartImage. Returns only if the kernel returned (or failed to start);
  // the Error carries its status.
  Status start();

  void unload();

 private:
  EFI_HANDLE handle_ = nullptr;
  CHAR16* options_ = nullptr;
};

}  // namespace hl::kernel_loader
