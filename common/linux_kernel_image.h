// Recognising a Linux EFI-stub kernel (bzImage) before handing it to
// LoadImage, so that a wrong file gives a reason a person can act on ("not a
// PE image", "built for arm64") instead of the firmware's bare "load error".
//
// A bzImage with CONFIG_EFI_STUB is at once a PE32+ executable (the "MZ"
// header at 0, the "PE\0\0" header at e_lfanew) and an x86 boot-protocol
// image (the setup header at 0x1f1, "HdrS" at 0x202, Documentation/arch/x86/
// boot.rst). Only the PE part is required: any EFI application can be
// chain-loaded; the setup header only adds the version string for messages.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

namespace hl {

struct KernelImageInfo {
  bool linux_setup_header = false;  // "HdrS" present.
  uint16_t boot_protocol = 0;       // e.g. 0x20f = 2.15.
  // "6.1.0-56-amd64 (debian-kernel@...) #1 SMP ...", cut at 80 characters;
  // empty when the image has no setup header or no version string.
  char version[81] = "";
};

// Checks the PE32+ headers (x86_64 machine, EFI application subsystem) and
// reads the Linux setup header if there is one. Never reads past size.
Result<KernelImageInfo> inspect_kernel_image(const uint8_t* data, size_t size);

}  // namespace hl
