#include "tools/lib/image_status.h"

#include <string.h>
#include <time.h>

#include "common/format.h"
#include "common/image_reader.h"
#include "tools/lib/heap_allocator.h"

namespace hl {

const char* image_status_kind_name(ImageStatus::Kind kind) {
  switch (kind) {
    case ImageStatus::Kind::kNone: return "none";
    case ImageStatus::Kind::kValid: return "valid";
    case ImageStatus::Kind::kConsumed: return "consumed";
    case ImageStatus::Kind::kCorrupt: return "corrupt";
  }
  return "?";
}

ImageStatus image_status(Storage& partition) {
  ImageStatus status;
  // A commit record without the magic (a zeroed or never-written partition)
  // is "no image"; anything after the magic that fails is corruption.
  char magic[sizeof image::kCommitMagic] = {};
  if (partition.size() < sizeof magic ||
      !partition.read(0, magic, sizeof magic) ||
      memcmp(magic, image::kCommitMagic, sizeof magic) != 0) {
    status.text = "no image";
    return status;
  }
  HeapAllocator allocator;
  image::ImageReader reader(partition, allocator);
  image::OpenOptions options;
  options.allow_consumed = true;
  auto info = reader.open(options);
  if (!info) {
    status.kind = ImageStatus::Kind::kCorrupt;
    status.reason = info.error().reason();
    status.text = "corrupt: " + status.reason;
    return status;
  }
  status.memory_bytes = info->total_raw_bytes;
  status.creation_time = info->creation_time;
  status.kernel_release = info->kernel_release;
  char size[32];
  format_size(size, sizeof size, info->total_raw_bytes);
  char created[64] = "?";
  const time_t t = static_cast<time_t>(info->creation_time);
  if (tm utc; gmtime_r(&t, &utc)) strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S UTC", &utc);
  const std::string details = std::string(size) + " from " + created + " (Linux " +
                              status.kernel_release + ")";
  if (info->state == image::ImageState::kConsumed) {
    status.kind = ImageStatus::Kind::kConsumed;
    status.text = "consumed image of " + details + ": already resumed or discarded";
  } else {
    status.kind = ImageStatus::Kind::kValid;
    status.text = "valid image of " + details;
  }
  return status;
}

Status discard_image(Storage& partition) {
  HeapAllocator allocator;
  image::ImageReader reader(partition, allocator);
  auto info = reader.open();
  if (!info) return info.error().with_context("nothing to discard");
  return reader.mark_consumed();
}

}  // namespace hl
