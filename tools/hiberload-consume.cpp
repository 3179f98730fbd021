// hiberload-consume: marks a hibernation image consumed (docs/image-format.md:
// one write of the commit record, then a flush), so that it is never resumed
// again. The fallback restore hook (scripts/initramfs/fallback-restore.sh)
// runs it after `kexec -l` succeeded and before `kexec -e`, as hiberload
// itself does before its jump.
//
//   hiberload-consume IMAGE      IMAGE: the hibernation partition or a file
//
// Exit status 0 when the image was valid and is now consumed; 1 otherwise,
// with the reason on stderr (an image already consumed is an error: the
// caller must not restore it).
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/image_reader.h"
#include "tools/lib/file_storage.h"
#include "tools/lib/heap_allocator.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(stderr, "usage: hiberload-consume IMAGE\n"
                         "Marks the hibernation image in IMAGE (partition or file) consumed.\n");
    return argc == 2 ? 0 : 2;
  }
  auto opened = hl::FileStorage::open(argv[1], hl::FileStorage::Mode::kReadWrite);
  if (!opened) return std::fprintf(stderr, "hiberload-consume: %s\n", opened.error().reason()), 1;
  std::unique_ptr<hl::FileStorage> storage(*opened);
  hl::HeapAllocator allocator;
  hl::image::ImageReader reader(*storage, allocator);
  auto info = reader.open();
  if (!info) {
    std::fprintf(stderr, "hiberload-consume: %s: %s\n", argv[1], info.error().reason());
    return 1;
  }
  if (auto marked = reader.mark_consumed(); !marked) {
    std::fprintf(stderr, "hiberload-consume: %s: %s\n", argv[1], marked.error().reason());
    return 1;
  }
  std::printf("hiberload-consume: %s: image marked consumed\n", argv[1]);
  return 0;
}
