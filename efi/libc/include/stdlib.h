/*
 * Minimal <stdlib.h> for hiberload's freestanding EFI build (efi/libc).
 *
 * Some mbedTLS sources include it but, with the EFI config, use nothing from
 * it. There is deliberately no malloc/calloc/free: allocation goes through
 * hl_alloc.h (the UEFI pool, valid only before ExitBootServices), so every
 * allocating call site is visible.
 */
#ifndef HL_LIBC_STDLIB_H
#define HL_LIBC_STDLIB_H

#include <stddef.h>

#endif
