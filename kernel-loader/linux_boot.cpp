// Booting the configured kernel: read and check the files, plan the memory
// shape, build the command line, claim memory, LoadImage, LoadOptions,
// initrd device, StartImage; if the kernel comes back, undo all of it.
#include "kernel-loader/linux_boot.h"

#include <string.h>

#include "common/kernel_boot_plan.h"
#include "common/linux_kernel_image.h"
#include "efi/console.h"
#include "efi/esp_files.h"
#include "kernel-loader/initrd_loadfile2.h"
#include "kernel-loader/kernel_image.h"
#include "kernel-loader/memory_restriction.h"

namespace hl::kernel_loader {
namespace {

using efi::say;

// Static: hiberload is single-threaded and the firmware stack is small.
RangeList g_ranges;      // normal: reserved; fallback: usable (memmap=...)
RangeList g_keep_free;   // fallback: where the EFI stub may allocate
RangeList g_claim_plan;  // what the plan expects to claim (for the message)
char g_cmdline[kMaxKernelCommandLine];

// Frees the file buffers on every return path.
struct Files {
  efi::FileContents kernel;
  efi::FileContents initrd;
  ~Files() {
    efi::free_file(&kernel);
    efi::free_file(&initrd);
  }
};

// read_esp_file's reason for a missing file contains "not found".
bool is_not_found(const Error& e) {
  static const char kNeedle[] = "not found";
  for (const char* p = e.reason(); *p != '\0'; ++p) {
    if (strncmp(p, kNeedle, sizeof kNeedle - 1) == 0) return true;
  }
  return false;
}

Status read_kernel(EFI_HANDLE self, const Config& config, Files* files) {
  auto kernel = efi::read_esp_file(self, config.kernel, kMaxKernelFileSize);
  if (!kernel) {
    if (is_not_found(kernel.error())) {
      return Error::make("the kernel {} is not on the ESP hiberload was started from: copy a "
                         "Linux EFI-stub kernel there, or set kernel= in HiberloadConfig",
                         config.kernel);
    }
    return kernel.error().with_context("reading the kernel");
  }
  files->kernel = *kernel;
  return ok_status();
}

Status read_initrd(EFI_HANDLE self, const Config& config, Files* files) {
  if (config.initrd[0] == '\0') return ok_status();
  auto initrd = efi::read_esp_file(self, config.initrd, kMaxInitrdFileSize);
  if (!initrd) {
    if (is_not_found(initrd.error())) {
      return Error::make("the initrd {} is not on the ESP: copy it there, or set initrd=none "
                         "in HiberloadConfig if the kernel needs none", config.initrd);
    }
    return initrd.error().with_context("reading the initrd");
  }
  files->initrd = *initrd;
  return ok_status();
}

void say_ranges(const char* label, const RangeList& ranges) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    char size[24];
    format_size(size, sizeof size, ranges[i].size);
    say("  {} {x}-{x} ({})", label, ranges[i].base, ranges[i].end() - 1, size);
  }
}

// Normal boot: the scratch region and the trampoline window stay out of the
// kernel's usable RAM (memmap=SIZE$BASE) and are claimed before StartImage.
Status plan_normal(const Config& config, const BootRequest& request, KernelCommandLine* parts) {
  // For the hibernate command (scripts/hibernate/hiberload-hibernate).
  if (request.has_partition) parts->hibernation_partition = &request.image_partition;
  if (config.scratch.size == 0) {
    say("no scratch region configured: the kernel gets all memory (a later hibernation "
        "needs scratch=, see docs/configuration.md)");
    g_ranges.clear();
    return ok_status();
  }
  auto map = read_firmware_memory_map();
  if (!map) return map.error().with_context("reading the memory map");
  HL_TRY(plan_normal_boot(config.scratch, *map, &g_ranges, &g_claim_plan));
  say("normal boot: keeping these out of the kernel's usable memory (memmap=SIZE$BASE), "
      "claimed from the firmware until the kernel starts:");
  say_ranges("reserved", g_ranges);
  parts->reserved = g_ranges.span();
  parts->scratch = &config.scratch;
  parts->trampoline = &kTrampolineWindow;
  return ok_status();
}

// Fallback resume: the kernel may use only the RAM the image does not cover
// (memmap=exactmap + memmap=SIZE@BASE); all other free memory is claimed so
// that the EFI stub and the decompressor place everything inside it.
Status plan_fallback(const BootRequest& request, KernelCommandLine* parts) {
  if (request.image_scratch_count == 0) {
    return Error::make("the image records no scratch ranges: there is no memory a fallback "
                       "kernel could use without overwriting it");
  }
  if (request.image_scratch_truncated) {
    say("the image has more than {} scratch ranges: using the {} largest",
        BootRequest::kMaxImageScratch, BootRequest::kMaxImageScratch);
  }
  auto map = read_firmware_memory_map();
  if (!map) return map.error().with_context("reading the memory map");
  HL_TRY(plan_fallback_boot(
      Span<const MemoryRange>(request.image_scratch, request.image_scratch_count), *map,
      &g_ranges, &g_keep_free, &g_claim_plan));
  char total[24];
  format_size(total, sizeof total, g_ranges.total_bytes());
  say("fallback: the kernel may use only {} of RAM the image does not cover "
      "(memmap=exactmap memmap=SIZE@BASE):", total);
  say_ranges("usable", g_ranges);
  parts->exact_ram = g_ranges.span();
  parts->image_partition = &request.image_partition;
  parts->remaining = Span<const MemoryRange>(request.remaining, request.remaining_count);
  return ok_status();
}

Status claim_for(BootPurpose purpose, MemoryClaims* claims, const char* when) {
  auto left = purpose == BootPurpose::kNormal
                  ? claim_free_memory(ClaimScope::kInside, g_ranges.span(), claims)
                  : claim_free_memory(ClaimScope::kOutside, g_keep_free.span(), claims);
  if (!left) return left.error().with_context("claiming memory {}", when);
  if (*left != 0) {
    say("warning: {} bytes of free memory could not be claimed {} (the firmware refused "
        "them); the kernel's command line still excludes them", *left, when);
  }
  return ok_status();
}

}  // namespace

BootRequest fallback_request(const Guid& partition, Span<const image::ScratchRange> scratch) {
  BootRequest request;
  request.purpose = BootPurpose::kFallbackResume;
  request.has_partition = true;
  request.image_partition = partition;
  size_t& n = request.image_scratch_count;
  for (const image::ScratchRange& r : scratch) {
    if (n < BootRequest::kMaxImageScratch) {
      request.image_scratch[n++] = MemoryRange{r.base, r.size};
      continue;
    }
    // Full: drop the smallest kept range if this one is larger. The order
    // stays sorted because the input is sorted and this one goes last.
    request.image_scratch_truncated = true;
    size_t smallest = 0;
    for (size_t i = 1; i < n; ++i) {
      if (request.image_scratch[i].size < request.image_scratch[smallest].size) smallest = i;
    }
    if (r.size <= request.image_scratch[smallest].size) continue;
    for (size_t i = smallest; i + 1 < n; ++i) request.image_scratch[i] = request.image_scratch[i + 1];
    request.image_scratch[n - 1] = MemoryRange{r.base, r.size};
  }
  return request;
}

Status boot_linux(EFI_HANDLE self, const Config& config, const BootRequest& request) {
  const bool fallback = request.purpose == BootPurpose::kFallbackResume;

  // 1. The files, checked before anything is allocated or installed.
  Files files;
  HL_TRY(read_kernel(self, config, &files));
  auto image = inspect_kernel_image(files.kernel.data, files.kernel.size);
  if (!image) return image.error().with_context("{}", config.kernel);
  char size[24];
  format_size(size, sizeof size, files.kernel.size);
  if (image->version[0] != '\0') {
    say("kernel {}: {}, Linux {}", config.kernel, size, image->version);
  } else {
    say("kernel {}: {}, an EFI application without a Linux version string", config.kernel, size);
  }
  HL_TRY(read_initrd(self, config, &files));
  if (files.initrd.data != nullptr) {
    format_size(size, sizeof size, files.initrd.size);
    say("initrd {}: {}, handed over through LoadFile2", config.initrd, size);
  } else {
    say("no initrd (initrd=none)");
  }

  // 2. The memory shape and the command line.
  KernelCommandLine parts;
  parts.user = config.cmdline;
  HL_TRY(fallback ? plan_fallback(request, &parts) : plan_normal(config, request, &parts));
  auto cmdline = build_kernel_command_line(parts, g_cmdline, sizeof g_cmdline);
  if (!cmdline) return cmdline.error();

  // 3. Claim memory, then load: LoadImage's own allocation for the kernel
  //    already lands where the plan wants it.
  MemoryClaims claims;
  if (fallback || !g_ranges.empty()) HL_TRY(claim_for(request.purpose, &claims, "before LoadImage"));
  LoadedKernel kernel;
  HL_TRY(kernel.load(self, config.kernel, files.kernel));
  HL_TRY(kernel.set_command_line(g_cmdline));

  InitrdDevice initrd;
  if (files.initrd.data != nullptr) HL_TRY(initrd.install(files.initrd.data, files.initrd.size));

  // 4. Last sweep: LoadImage and the protocol installs allocated and freed
  //    pool memory; whatever became free where it must not be is claimed.
  if (fallback || !g_ranges.empty()) HL_TRY(claim_for(request.purpose, &claims, "before StartImage"));
  char claimed[24];
  format_size(claimed, sizeof claimed, claims.bytes());
  if (claims.count() != 0) {
    say("claimed {} in {} ranges from the firmware ({})", claimed, claims.count(),
        fallback ? "all free memory outside the usable ranges" : "the reserved ranges");
  }
  say("command line: {}", g_cmdline);
  say("starting the kernel{}", fallback ? " (fallback resume)" : "");

  // 5. Start. Returns only if the kernel did not take over.
  Status started = kernel.start();
  initrd.uninstall();
  claims.release_all();
  return started.error();
}

}  // namespace hl::kernel_loader
