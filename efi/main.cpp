// hiberload's entry point: the boot flow, one named step per call.
//
//   configuration → locate image → verify → plan placement → commit
//   → place → leave firmware → jump            (direct resume, efi/direct_resume)
//   or → chain-load the normal kernel            (kernel-loader/linux_boot)
//
// Every step that fails says why on the console and the flow moves on to
// the next sensible action; nothing here hangs or stops at a bad input.

#include "common/image_reader.h"
#include "efi/boot_menu.h"
#include "efi/configuration.h"
#include "efi/console.h"
#include "efi/direct_resume.h"
#include "efi/esp_files.h"
#include "efi/firmware.h"
#include "efi/memory_map.h"
#include "efi/partition_locator.h"
#include "efi/pool_allocator.h"
#include "efi/selftest.h"
#include "efi/test_control.h"
#include "kernel-loader/linux_boot.h"

namespace hl::efi {
namespace {

using kernel_loader::BootPurpose;
using kernel_loader::BootRequest;

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

void describe_image(const image::ImageInfo& info, const HibernationPartition& partition) {
  char memory[24], stored[24];
  format_size(memory, sizeof memory, info.total_raw_bytes);
  format_size(stored, sizeof stored, info.total_stored_bytes);
  say("image on partition {}: Linux {}, {} of memory in {} segments ({} stored, {} chunks), "
      "created at {} (Unix time)",
      partition.number, info.kernel_release, memory, info.segment_count, stored, info.chunk_count,
      info.creation_time);
}

// The boot menu (efi/boot_menu.h), when configured or asked for with a key.
// An error means "do not resume": its reason says why, for boot_kernel.
Status ask_boot_menu(const Config& config, image::ImageReader& reader,
                     const image::ImageInfo& info) {
  char what[96], memory[24];
  format_size(memory, sizeof memory, info.total_raw_bytes);
  format_to(what, sizeof what, "Linux {}, {}", info.kernel_release, memory);
  switch (run_boot_menu(config.timeout_seconds, what)) {
    case MenuChoice::kResume:
      return ok_status();
    case MenuChoice::kBootNormally:
      return Error::make("chosen in the menu (image kept for a later boot)");
    case MenuChoice::kDiscard:
      if (Status consumed = reader.mark_consumed(); !consumed) {
        say("cannot discard the image: {}", consumed.error().reason());
        return Error::make("chosen in the menu (image NOT discarded)");
      }
      say("image discarded: marked consumed, it will not be resumed");
      return Error::make("chosen in the menu (image discarded)");
  }
  return ok_status();
}

// The chain-load step. Returns only if the kernel could not be started.
EFI_STATUS boot_kernel(EFI_HANDLE image, const Config& config, const BootRequest& request,
                       const char* why) {
  say("{}: booting {}{}", why, config.kernel,
      request.purpose == BootPurpose::kFallbackResume ? " to restore the image with kexec" : "");
  Status booted = kernel_loader::boot_linux(image, config, request);
  say("cannot boot the kernel: {}", booted.error().reason());
  say("returning to the firmware's boot manager");
  return EFI_LOAD_ERROR;
}

// Before a fallback boot: place what the firmware does not hold, so that the
// fallback kernel only loads the rest (its kexec needs RAM for what it loads,
// twice, and refuses more than half of its RAM; docs/kernel-loading.md).
// If that fails the fallback kernel loads the whole image.
void preplace(image::ImageReader& reader, Storage& storage, const image::ImageInfo& info,
              PoolAllocator& pool, BootRequest* fallback) {
  auto count = preplace_for_fallback(reader, storage, info, pool, fallback->remaining,
                                     BootRequest::kMaxRemaining);
  if (!count) {
    say("fallback: could not place the image from firmware ({}); the fallback kernel loads "
        "all of it",
        count.error().reason());
    fallback->remaining_count = 0;
    return;
  }
  fallback->remaining_count = *count;
}

// configuration → locate → verify → (direct resume | chain-load).
EFI_STATUS resume_or_boot(EFI_HANDLE image, const Config& config) {
  if (config.mode == ResumeMode::kOff) {
    return boot_kernel(image, config, BootRequest{}, "resume is off (mode=off)");
  }

  PoolAllocator pool;
  auto partition = locate_hibernation_partition(config, pool);
  if (!partition) {
    say("no hibernation partition: {}", partition.error().reason());
    return boot_kernel(image, config, BootRequest{}, "nothing to resume");
  }
  // From here a normal boot tells the kernel where the partition is.
  const BootRequest normal = kernel_loader::normal_request(partition->unique);
  WindowStorage storage(*partition->disk, partition->offset, partition->size);
  image::ImageReader reader(storage, pool);
  auto info = reader.open();
  if (!info) {
    say("no image to resume on partition {}: {}", partition->number, info.error().reason());
    return boot_kernel(image, config, normal, "nothing to resume");
  }
  describe_image(*info, *partition);
  if (Status chosen = ask_boot_menu(config, reader, *info); !chosen) {
    return boot_kernel(image, config, normal, chosen.error().reason());
  }

  BootRequest fallback = kernel_loader::fallback_request(partition->unique, reader.scratch_ranges());
  if (config.mode == ResumeMode::kFallbackOnly) {
    preplace(reader, storage, *info, pool, &fallback);
    return boot_kernel(image, config, fallback, "mode=fallback");
  }

  // The firmware's watchdog resets the machine after 5 minutes (UEFI
  // 2.10, 3.1.2); placing a large image under emulation can take longer.
  BS->SetWatchdogTimer(0, 0, 0, nullptr);
  Status resumed = direct_resume(image, reader, storage, *info, pool);
  // Only reached when the resume did not happen.
  say("direct resume not possible: {}", resumed.error().reason());
  if (reader.commit_record().state == static_cast<uint32_t>(image::ImageState::kConsumed)) {
    return boot_kernel(image, config, normal, "the image was consumed");
  }
  if (config.mode == ResumeMode::kDirectOnly) {
    return boot_kernel(image, config, normal, "mode=direct, no fallback");
  }
  preplace(reader, storage, *info, pool, &fallback);
  return boot_kernel(image, config, fallback, "falling back");
}

}  // namespace

EFI_STATUS run(EFI_HANDLE image) {
  print_banner();
  const TestControl test = read_test_control(image);
  if (test.print_memory_map) print_memory_map();
  const LoadedConfig config = load_configuration();
  describe_configuration(config);

  if (test.selftest) {
    // Test machines only: check the libraries, say what a boot would do,
    // report, and stop before touching any disk.
    Status selftest = run_library_selftest(image, test);
    if (!selftest) say("SELF-TEST FAILED: {}", selftest.error().reason());
    const bool kernel_present = esp_file_exists(image, config.config.kernel);
    say("next: would look for a hibernation image, else boot {} ({})", config.config.kernel,
        kernel_present ? "present" : "missing on the ESP");
    finish_test(test, selftest ? TestVerdict::kPass : TestVerdict::kFail);
    return selftest ? EFI_SUCCESS : EFI_ABORTED;
  }

  const EFI_STATUS status = resume_or_boot(image, config.config);
  finish_test(test, TestVerdict::kReturnedToFirmware);
  return status;
}

}  // namespace hl::efi

// gnu-efi's crt0 calls this with the System V ABI: no EFIAPI here.
extern "C" EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* system_table) {
  InitializeLib(image, system_table);
  return hl::efi::run(image);
}
