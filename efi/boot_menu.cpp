#include "efi/boot_menu.h"

#include "efi/console.h"
#include "efi/firmware.h"

// `hiberload status` finds the installed version by this string in the file.
extern "C" __attribute__((used)) const char hl_version_marker[] =
    "hiberload-version: " HL_VERSION " (" HL_GIT_REV ")";

namespace hl::efi {
namespace {

constexpr uint64_t kOneSecond = 10 * 1000 * 1000;  // SetTimer's unit is 100 ns.

bool read_key(EFI_INPUT_KEY* key) {
  return ST->ConIn != nullptr && ST->ConIn->ReadKeyStroke(ST->ConIn, key) == EFI_SUCCESS;
}

// A choice for a key, or false.
bool choice_for(const EFI_INPUT_KEY& key, MenuChoice* out) {
  switch (key.UnicodeChar) {
    case '1': case 'r': case 'R': case CHAR_CARRIAGE_RETURN: case CHAR_LINEFEED:
      *out = MenuChoice::kResume;
      return true;
    case '2': case 'b': case 'B':
      *out = MenuChoice::kBootNormally;
      return true;
    case '3': case 'd': case 'D':
      *out = MenuChoice::kDiscard;
      return true;
    default:
      break;
  }
  if (key.UnicodeChar == 0 && key.ScanCode == SCAN_ESC) {
    *out = MenuChoice::kBootNormally;
    return true;
  }
  return false;
}

void show_countdown(uint32_t remaining) {
  char line[96];
  format_to(line, sizeof line, "\rhiberload: resuming in {} s; press 1, 2 or 3 ", remaining);
  console_write(line);
}

}  // namespace

const char* menu_choice_name(MenuChoice choice) {
  switch (choice) {
    case MenuChoice::kResume: return "resume";
    case MenuChoice::kBootNormally: return "boot normally, keep the image";
    case MenuChoice::kDiscard: return "discard the image, boot normally";
  }
  return "?";
}

MenuChoice run_boot_menu(uint32_t timeout_seconds, const char* image) {
  if (ST->ConIn == nullptr) return MenuChoice::kResume;
  EFI_INPUT_KEY key;
  const bool key_waiting = read_key(&key);
  if (!key_waiting && timeout_seconds == 0) return MenuChoice::kResume;
  // A held key repeats: drop what is queued so that it is not read as a choice.
  while (read_key(&key)) {
  }
  const uint32_t timeout = timeout_seconds != 0 ? timeout_seconds : kKeyOpenedTimeoutSeconds;

  say("boot menu ({}): a hibernated system is waiting: {}",
      key_waiting ? "opened by a key" : "timeout in the configuration", image);
  say("menu: 1 = resume the hibernated system (default)");
  say("menu: 2 = boot normally and keep the image for later");
  say("menu: 3 = discard the image and boot normally");

  EFI_EVENT timer = nullptr;
  if (BS->CreateEvent(EVT_TIMER, 0, nullptr, nullptr, &timer) != EFI_SUCCESS ||
      BS->SetTimer(timer, TimerPeriodic, kOneSecond) != EFI_SUCCESS) {
    say("menu: no timer available ({}): resuming", "CreateEvent/SetTimer failed");
    if (timer != nullptr) BS->CloseEvent(timer);
    return MenuChoice::kResume;
  }
  uint32_t remaining = timeout;
  show_countdown(remaining);
  MenuChoice choice = MenuChoice::kResume;
  for (;;) {
    EFI_EVENT events[2] = {ST->ConIn->WaitForKey, timer};
    UINTN index = 0;
    if (BS->WaitForEvent(2, events, &index) != EFI_SUCCESS) {
      console_write("\n");
      say("menu: waiting for a key failed: resuming");
      break;
    }
    if (index == 1) {
      if (--remaining == 0) {
        console_write("\n");
        say("menu: no choice within {} s: resume (the default)", timeout);
        break;
      }
      show_countdown(remaining);
      continue;
    }
    if (!read_key(&key)) continue;
    if (choice_for(key, &choice)) {
      console_write("\n");
      say("menu: chosen: {}", menu_choice_name(choice));
      break;
    }
    remaining = timeout;  // Someone is there: give them the full time again.
    show_countdown(remaining);
  }
  BS->SetTimer(timer, TimerCancel, 0);
  BS->CloseEvent(timer);
  return choice;
}

}  // namespace hl::efi
