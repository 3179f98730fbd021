// The state of a hibernation partition in one line, for `hiberload status`:
//   no image
//   valid image of 412 MiB from 2025-01-31 14:02:11 UTC (Linux 6.1.0-56-amd64)
//   consumed image of 412 MiB from ... (already resumed or discarded)
//   corrupt: header digest does not match the commit record (...)
#pragma once

#include <stdint.h>

#include <string>

#include "common/error.h"
#include "common/image_format.h"
#include "common/storage.h"

namespace hl {

struct ImageStatus {
  enum class Kind { kNone, kValid, kConsumed, kCorrupt };
  Kind kind = Kind::kNone;
  uint64_t memory_bytes = 0;  // Total raw bytes of memory in the image.
  uint64_t creation_time = 0;
  std::string kernel_release;
  std::string reason;  // kCorrupt: why.
  std::string text;    // The line above.
};

// Reads and validates the image's records and metadata (not every chunk).
ImageStatus image_status(Storage& partition);

const char* image_status_kind_name(ImageStatus::Kind kind);

// Marks a valid image consumed (what the firmware menu's "discard" does).
Status discard_image(Storage& partition);

}  // namespace hl
