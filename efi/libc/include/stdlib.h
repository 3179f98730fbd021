/* Minimal <stdlib.h> for hiberload's freestanding EFI build (efi/libc). */
#ifndef HL_LIBC_STDLIB_H
#define HL_LIBC_STDLIB_H

#include <stddef.h>

#endif
