// Steps 3–8 of a direct resume: check the machine, plan placement, claim
// memory, place and verify every chunk, commit (mark consumed), leave the
// firmware, and jump through the final stage.
//
// Returns only when the resume did not happen; the Error says why. Before
// the commit nothing irreversible has happened and every claim is released,
// so the caller can boot normally. The watchdog must already be disabled.
#pragma once

#include "common/allocator.h"
#include "common/image_reader.h"
#include "efi/firmware.h"

namespace hl::efi {

// `storage` is the partition `reader` was opened on; chunk payloads are read
// from it in large runs and verified by `reader` before use.
Status direct_resume(EFI_HANDLE image_handle, image::ImageReader& reader, Storage& storage,
                     const image::ImageInfo& info, Allocator& pool);

}  // namespace hl::efi
