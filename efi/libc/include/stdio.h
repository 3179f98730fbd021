/*
 * Minimal <stdio.h> for hiberload's freestanding EFI build (efi/libc).
 *
 * Only string formatting: there are no streams in firmware. mbedTLS's
 * oid.c includes this header and formats dotted OIDs with snprintf.
 * The implementation (efi/libc/snprintf.c) supports the subset described
 * there.
 */
#ifndef HL_LIBC_STDIO_H
#define HL_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

int snprintf(char *__restrict buf, size_t size, const char *__restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *__restrict buf, size_t size, const char *__restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#ifdef __cplusplus
}
#endif

#endif
