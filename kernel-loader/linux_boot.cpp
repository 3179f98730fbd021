#include "kernel-loader/linux_boot.h"

namespace hl::kernel_loader {

Status boot_linux(EFI_HANDLE, const Config& config, const BootRequest&) {
  return Error::make("booting {} is not implemented in this version", config.kernel);
}

}  // namespace hl::kernel_loader
