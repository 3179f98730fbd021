// Steps 3–8 of a direct resume: check the machine, plan placement, claim
// memory, place and verify every chunk, commit (mark consumed), leave the
// firmware, and jump through the final stage.
//
// Returns only when the resume did not happen; the Error says why. Before
// the commit nothing irreversible has happened and every claim is released,
// so the caller can boot normally. The watchdog must already be disabled.
#pragma once

#include "common/allocator.h"
#include "common/config.h"
#include "common/image_reader.h"
#include "efi/firmware.h"

namespace hl::efi {

// `storage` is the partition `reader` was opened on; chunk payloads are read
// from it in large runs and verified by `reader` before use.
Status direct_resume(EFI_HANDLE image_handle, image::ImageReader& reader, Storage& storage,
                     const image::ImageInfo& info, Allocator& pool);

// The first half of a fallback resume: places every chunk whose destination
// is free now (verifying all of them), keeps that memory claimed, and writes
// into `remaining` what the fallback kernel must still load with kexec: the
// destinations the firmware holds now, and the jump back entry's page.
// Returns the number of ranges. On failure nothing stays claimed and the
// fallback kernel has to load the whole image.
Result<size_t> preplace_for_fallback(image::ImageReader& reader, Storage& storage,
                                     const image::ImageInfo& info, Allocator& pool,
                                     MemoryRange* remaining, size_t capacity);

}  // namespace hl::efi
