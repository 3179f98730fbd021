/*
 * Minimal <string.h> for hiberload's freestanding EFI build (efi/libc).
 * Implemented in efi/libc/string.c. gcc itself emits calls to memcpy,
 * memmove, memset and memcmp, in C and C++ code alike.
 */
#ifndef HL_LIBC_STRING_H
#define HL_LIBC_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *memcpy(void *__restrict dst, const void *__restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif
