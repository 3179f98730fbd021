// The boot menu: what to do with a hibernated image, asked before it is
// placed (docs/user-guide.md, "The boot menu").
//
//   hiberload: menu: 1 = resume the hibernated system (default)
//   hiberload: menu: 2 = boot normally and keep the image for later
//   hiberload: menu: 3 = discard the image and boot normally
//   hiberload: resuming in 5 s; press 1, 2 or 3
//
// When it opens: always when the configuration's `timeout` is above 0 (the
// menu then waits that many seconds), and when a key is waiting in the
// firmware's input at the moment hiberload has found an image (a key pressed
// or held while the machine starts; any key). A menu opened by a key with
// timeout=0 waits kKeyOpenedTimeoutSeconds. Every countdown ends in the
// default action, resume: an unattended machine never stops here. A key
// other than a choice restarts the countdown.
//
// Keys: 1/r/Enter resume, 2/b/Esc boot normally, 3/d discard. Serial
// terminals work: OVMF maps serial input to ConIn.
#pragma once

#include <stdint.h>

namespace hl::efi {

enum class MenuChoice {
  kResume,        // Go on with the resume (the default).
  kBootNormally,  // Boot the normal kernel; the image stays valid.
  kDiscard,       // Mark the image consumed, then boot normally.
};

inline constexpr uint32_t kKeyOpenedTimeoutSeconds = 30;

const char* menu_choice_name(MenuChoice choice);

// `image` describes the image in one line ("Linux 6.1.0, 412 MiB").
MenuChoice run_boot_menu(uint32_t timeout_seconds, const char* image);

}  // namespace hl::efi
