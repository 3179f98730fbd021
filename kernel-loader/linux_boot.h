// Chain-loading the configured Linux EFI-stub kernel: the normal boot, and
// the fallback restore through a memory-restricted kernel.
//
// One concern per file (like systemd-boot's linux.c / initrd.c):
//   linux_boot.cpp          this orchestration: read, check, plan, claim,
//                           load, command line, initrd, start, undo
//   kernel_image.cpp        LoadImage / LoadOptions / StartImage
//   initrd_loadfile2.cpp    the initrd through LoadFile2 (Linux 5.8+)
//   memory_restriction.cpp  the memory map and the claims before StartImage
//   common/kernel_boot_plan the ranges and the command line (host-tested)
// docs/kernel-loading.md explains the memory shapes and why.
#pragma once

#include <stddef.h>

#include "common/config.h"
#include "common/guids.h"
#include "common/image_format.h"
#include "common/span.h"
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
  static constexpr size_t kMaxImageScratch = 64;

  BootPurpose purpose = BootPurpose::kNormal;
  // The hibernation partition's PARTUUID: where the fallback kernel finds the
  // image, and where a normal boot's later hibernation writes one. Always
  // set for kFallbackResume; for kNormal only when hiberload found it.
  bool has_partition = false;
  Guid image_partition = {};
  // kFallbackResume after hiberload placed what it could: the ranges the
  // fallback kernel still has to load (hiberload.remaining=). None: the
  // whole image.
  static constexpr size_t kMaxRemaining = 48;
  MemoryRange remaining[kMaxRemaining] = {};
  size_t remaining_count = 0;
  // For kFallbackResume: the RAM the image does not cover (the image's
  // scratch ranges, sorted), copied so that the request outlives the reader.
  MemoryRange image_scratch[kMaxImageScratch] = {};
  size_t image_scratch_count = 0;
  // The image had more scratch ranges than fit; the smallest ones are lost
  // (less memory for the fallback kernel, never memory it must not use).
  bool image_scratch_truncated = false;
};

// A fallback request for the image on `partition`, with its scratch ranges.
BootRequest fallback_request(const Guid& partition, Span<const image::ScratchRange> scratch);

// Loads and starts config.kernel with config.initrd and config.cmdline.
// Returns only if the kernel could not be started or returned; every
// allocation and protocol it made is undone by then.
// A normal boot that tells the kernel where the hibernation partition is.
inline BootRequest normal_request(const Guid& partition) {
  BootRequest request;
  request.has_partition = true;
  request.image_partition = partition;
  return request;
}

Status boot_linux(EFI_HANDLE self, const Config& config, const BootRequest& request);

}  // namespace hl::kernel_loader
