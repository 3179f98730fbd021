// The firmware-side self-test of the EFI builds of mbedTLS and zlib.
//
// The vectors come from the test-control file, computed on the host at test
// time (sha256sum, python3's zlib), so a wrong EFI build of either library
// cannot agree with itself by construction.
#pragma once

#include "efi/test_control.h"

namespace hl::efi {

// Runs every check, printing one line per check; ok only if all passed.
Status run_library_selftest(EFI_HANDLE image, const TestControl& control);

}  // namespace hl::efi
