// The little a freestanding C++ program needs from a runtime.
//
// No exceptions, RTTI or global constructors with side effects are used, so
// this is only what the compiler may still reference.

#include "efi/firmware.h"

extern "C" {

// Called if a pure virtual function is ever invoked (a bug): stop loudly
// rather than jump through a null pointer.
void __cxa_pure_virtual() {
  if (ST && ST->ConOut) {
    ST->ConOut->OutputString(ST->ConOut, reinterpret_cast<CHAR16*>(const_cast<char16_t*>(u"hiberload: internal error: pure virtual call\r\n")));
  }
  for (;;) __asm__ volatile("cli; hlt");
}

}  // extern "C"
