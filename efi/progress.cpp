#include "efi/progress.h"

#include "common/format.h"
#include "efi/console.h"
#include "efi/firmware.h"

namespace hl::efi {
namespace {

constexpr EFI_GRAPHICS_OUTPUT_BLT_PIXEL kFrame = {0xc0, 0xc0, 0xc0, 0};  // Blue, green, red.
constexpr EFI_GRAPHICS_OUTPUT_BLT_PIXEL kEmpty = {0x20, 0x20, 0x20, 0};
constexpr EFI_GRAPHICS_OUTPUT_BLT_PIXEL kFilled = {0xe0, 0x90, 0x20, 0};

void fill(EFI_GRAPHICS_OUTPUT_PROTOCOL* gop, EFI_GRAPHICS_OUTPUT_BLT_PIXEL color, uint32_t x,
          uint32_t y, uint32_t width, uint32_t height) {
  if (width == 0 || height == 0) return;
  gop->Blt(gop, &color, EfiBltVideoFill, 0, 0, x, y, width, height, 0);
}

}  // namespace

Progress::Progress(const char* label) {
  console_write("hiberload: ");
  console_write(label);
  console_write(":   0%");
  EFI_GRAPHICS_OUTPUT_PROTOCOL* gop = nullptr;
  EFI_GUID guid = gEfiGraphicsOutputProtocolGuid;
  if (BS->LocateProtocol(&guid, nullptr, reinterpret_cast<void**>(&gop)) == EFI_SUCCESS &&
      gop != nullptr && gop->Mode != nullptr && gop->Mode->Info != nullptr) {
    const uint32_t width = gop->Mode->Info->HorizontalResolution;
    const uint32_t height = gop->Mode->Info->VerticalResolution;
    if (width >= 64 && height >= 64) {
      gop_ = gop;
      bar_width_ = width / 2;
      bar_height_ = height / 40 < 8 ? 8 : height / 40;
      bar_x_ = (width - bar_width_) / 2;
      bar_y_ = height - height / 8 - bar_height_;
      fill(gop, kFrame, bar_x_ - 2, bar_y_ - 2, bar_width_ + 4, bar_height_ + 4);
      fill(gop, kEmpty, bar_x_, bar_y_, bar_width_, bar_height_);
    }
  }
}

void Progress::draw_bar(uint32_t filled_pixels) {
  if (gop_ == nullptr || filled_pixels <= drawn_pixels_) return;
  auto* gop = static_cast<EFI_GRAPHICS_OUTPUT_PROTOCOL*>(gop_);
  fill(gop, kFilled, bar_x_ + drawn_pixels_, bar_y_, filled_pixels - drawn_pixels_, bar_height_);
  drawn_pixels_ = filled_pixels;
}

void Progress::update(uint64_t done, uint64_t total) {
  if (total == 0) total = 1;
  if (done > total) done = total;
  draw_bar(static_cast<uint32_t>(done * bar_width_ / total));
  const unsigned percent = static_cast<unsigned>(done * 100 / total);
  if (percent >= shown_percent_ + 5 || (percent == 100 && shown_percent_ != 100)) {
    char text[16];
    format_to(text, sizeof text, "\b\b\b\b{}{}%", percent < 10 ? "  " : percent < 100 ? " " : "",
              percent);
    console_write(text);
    shown_percent_ = percent;
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  console_write("\n");
}

}  // namespace hl::efi
