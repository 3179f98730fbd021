// Progress of a long firmware step (verifying and placing an image): a
// percentage on the text console ("hiberload: placing image:  45%", redrawn
// in place every 5 %) and, when the firmware has a Graphics Output Protocol,
// a bar near the bottom of the screen, like Windows' resume screen.
//
//   Progress progress("placing image");
//   for (...) progress.update(done, total);
//   progress.finish();
//
// Only during boot services (ConOut and GOP are gone afterwards).
#pragma once

#include <stdint.h>

namespace hl::efi {

class Progress {
 public:
  explicit Progress(const char* label);
  void update(uint64_t done, uint64_t total);
  // Ends the text line (the bar stays on screen until the kernel takes over).
  void finish();

 private:
  void draw_bar(uint32_t filled_pixels);

  void* gop_ = nullptr;  // EFI_GRAPHICS_OUTPUT_PROTOCOL*, when present.
  uint32_t bar_x_ = 0, bar_y_ = 0, bar_width_ = 0, bar_height_ = 0;
  uint32_t drawn_pixels_ = 0;
  unsigned shown_percent_ = 0;
  bool finished_ = false;
};

}  // namespace hl::efi
