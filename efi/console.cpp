#include "efi/console.h"

#include "efi/firmware.h"

namespace hl::efi {

void console_write(const char* text) {
  if (ST == nullptr || ST->ConOut == nullptr) return;
  // Convert in small pieces: no allocation, bounded stack.
  CHAR16 buffer[129];
  size_t n = 0;
  auto flush = [&] {
    buffer[n] = 0;
    ST->ConOut->OutputString(ST->ConOut, buffer);
    n = 0;
  };
  for (const char* p = text; *p != '\0'; ++p) {
    if (n + 2 >= sizeof buffer / sizeof buffer[0]) flush();
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '\n') buffer[n++] = '\r';
    buffer[n++] = c < 0x80 ? c : '?';
  }
  if (n != 0) flush();
}

}  // namespace hl::efi
