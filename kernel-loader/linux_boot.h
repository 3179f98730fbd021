// Chain-loading the configured Linux EFI-stub kernel: the normal boot, and
// the fallback restore through a memory-restricted kernel.
#pragma once

#include "common/config.h"
#include "common/guids.h"
#include "efi/firmware.h"

namespace hl::kernel_loader {

enum class BootPurpose {
  // No image to resume: boot normally, with the scratch region kept out of
  // the kernel's memory (where a later hibernation runs, and where hiberload
  // works at the next resume).
  kNormal,
  // An image exists but cannot be placed directly: boot the kernel inside
  // the scratch region only, and tell its initramfs where the image is.
  kFallbackResume,
};

struct BootRequest {
  BootPurpose purpose = BootPurpose::kNormal;
  // For kFallbackResume: the hibernation partition's PARTUUID.
  Guid image_partition = {};
};

// Loads and starts config.kernel with config.initrd and config.cmdline.
// Returns only if the kernel could not be started or returned.
Status boot_linux(EFI_HANDLE self, const Config& config, const BootRequest& request);

}  // namespace hl::kernel_loader
