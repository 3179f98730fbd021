// Console output: short status lines prefixed "hiberload: ".
//
// OVMF mirrors ConOut to the serial port, which is what the OVMF tests read,
// so every message a user sees is also what the tests assert on.
#pragma once

#include "common/format.h"

namespace hl::efi {

// Writes ASCII text; '\n' becomes CRLF.
void console_write(const char* text);

// One status line: "hiberload: <formatted>\r\n".
template <typename... Args>
void say(const char* fmt, const Args&... args) {
  char line[512];
  format_to(line, sizeof line, fmt, args...);
  console_write("hiberload: ");
  console_write(line);
  console_write("\n");
}

}  // namespace hl::efi
