// Inflates one complete zlib stream into a buffer of known size.
//
// The image format stores each chunk as an independent zlib stream whose raw
// length is recorded, so the firmware can inflate straight into the chunk's
// final destination: with the whole output available and Z_FINISH, zlib never
// allocates its 32 KiB window, only its ~7 KiB state (from the Allocator).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/allocator.h"
#include "common/error.h"

namespace hl {

// Succeeds only if the stream is valid, ends exactly at in_length and
// produces exactly out_length bytes.
Status inflate_exact(const uint8_t* in, size_t in_length, uint8_t* out, size_t out_length,
                     Allocator& allocator);

}  // namespace hl
