// hiberload's entry point: the boot flow, one named step per call.
//
//   configuration → locate image → verify → plan placement → commit
//   → place → leave firmware → jump            (direct resume)
//   or → chain-load the normal kernel            (fallback or normal boot)
//
// This version implements the first step and the firmware self-test; the
// later steps are tracked in docs/architecture.md.

#include "efi/configuration.h"
#include "efi/console.h"
#include "efi/esp_files.h"
#include "efi/firmware.h"
#include "efi/selftest.h"
#include "efi/test_control.h"

namespace hl::efi {
namespace {

void print_banner() {
  console_write("\n");
  say("hiberload {} ({}), firmware-side resume for Linux hibernation", HL_VERSION, HL_GIT_REV);
  char vendor[64];
  size_t n = 0;
  for (const CHAR16* p = ST->FirmwareVendor; p && *p && n + 1 < sizeof vendor; ++p) {
    vendor[n++] = *p < 0x80 ? static_cast<char>(*p) : '?';
  }
  vendor[n] = '\0';
  say("firmware: {} revision {x}, UEFI {}.{}", vendor, ST->FirmwareRevision,
      ST->Hdr.Revision >> 16, (ST->Hdr.Revision & 0xffff) / 10);
}

// What the boot would do next: which kernel, and whether it is there.
void describe_next_step(EFI_HANDLE image, const Config& config) {
  const bool kernel_present = esp_file_exists(image, config.kernel);
  say("next: look for a hibernation image, else boot the kernel {} ({})", config.kernel,
      kernel_present ? "present" : "missing on the ESP");
  say("this build does not resume or load kernels yet: returning to the firmware boot manager");
}

}  // namespace

EFI_STATUS run(EFI_HANDLE image) {
  print_banner();
  const TestControl test = read_test_control(image);

  bool healthy = true;
  if (test.selftest) {
    Status selftest = run_library_selftest(image, test);
    if (!selftest) {
      say("SELF-TEST FAILED: {}", selftest.error().reason());
      healthy = false;
    }
  }

  const LoadedConfig config = load_configuration();
  describe_configuration(config);
  describe_next_step(image, config.config);

  finish_test(test, healthy ? TestVerdict::kPass : TestVerdict::kFail);
  return healthy ? EFI_NOT_STARTED : EFI_ABORTED;
}

}  // namespace hl::efi

// gnu-efi's crt0 calls this with the System V ABI: no EFIAPI here.
extern "C" EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* system_table) {
  InitializeLib(image, system_table);
  return hl::efi::run(image);
}
