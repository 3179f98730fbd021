/*
 * Memory and string functions for hiberload's freestanding EFI build.
 *
 * gcc emits calls to memcpy, memmove, memset and memcmp on its own (struct
 * copies, zero initialisation, loop idioms), for the C++ application as well
 * as for zlib and mbedTLS, so these are the hot ones and get some care:
 *
 *  - Bulk work uses the x86 string instructions (rep movsq / rep stosq).
 *    They are fast on every x86_64 CPU that runs UEFI (fast-strings / ERMS
 *    microcode paths), and under QEMU's TCG the 8-byte forms need an eighth
 *    of the iterations of the byte forms.
 *  - Small sizes, which dominate in mbedTLS and zlib, avoid the string
 *    instructions' start-up cost: two possibly overlapping loads and stores
 *    cover any length from 1 to 16.
 *
 * This file must be compiled with -fno-tree-loop-distribute-patterns (see
 * mk/third-party.mk): otherwise gcc may recognise a loop in memset as a memset
 * idiom and turn it into a call to memset itself.
 *
 * The direction flag is clear on entry and must be clear on return (System V
 * and UEFI ABIs), which the forward string instructions rely on.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Unaligned, aliasing-safe access to 2-, 4- and 8-byte words (x86 allows
 * unaligned loads; may_alias keeps -fstrict-aliasing honest if enabled). */
typedef uint64_t __attribute__((may_alias, aligned(1))) u64_un;
typedef uint32_t __attribute__((may_alias, aligned(1))) u32_un;
typedef uint16_t __attribute__((may_alias, aligned(1))) u16_un;

static inline uint64_t load64(const void *p) { return *(const u64_un *)p; }
static inline uint32_t load32(const void *p) { return *(const u32_un *)p; }
static inline uint16_t load16(const void *p) { return *(const u16_un *)p; }
static inline void store64(void *p, uint64_t v) { *(u64_un *)p = v; }
static inline void store32(void *p, uint32_t v) { *(u32_un *)p = v; }
static inline void store16(void *p, uint16_t v) { *(u16_un *)p = v; }

/*
 * Copies n <= 16 bytes. All loads happen before any store, so this is also
 * correct for overlapping buffers (memmove).
 */
static inline void copy_small(unsigned char *d, const unsigned char *s, size_t n)
{
    if (n >= 8) {
        uint64_t head = load64(s), tail = load64(s + n - 8);
        store64(d, head);
        store64(d + n - 8, tail);
    } else if (n >= 4) {
        uint32_t head = load32(s), tail = load32(s + n - 4);
        store32(d, head);
        store32(d + n - 4, tail);
    } else if (n >= 2) {
        uint16_t head = load16(s), tail = load16(s + n - 2);
        store16(d, head);
        store16(d + n - 2, tail);
    } else if (n == 1) {
        *d = *s;
    }
}

/* Forward copy of n > 16 bytes: whole quadwords, then the last 8 bytes again
 * (overlapping what is already copied) instead of a byte loop for the tail.
 * Forward order is also correct for overlapping buffers with d < s: rep movs
 * is architecturally element by element. The tail load happens before the
 * bulk copy so that case stays correct too. */
static inline void copy_forward_large(unsigned char *d, const unsigned char *s, size_t n)
{
    uint64_t tail = load64(s + n - 8);
    unsigned char *last = d + n - 8;
    size_t quads = n / 8;
    __asm__ volatile("rep movsq"
                     : "+D"(d), "+S"(s), "+c"(quads)
                     :
                     : "memory");
    store64(last, tail);
}

void *memcpy(void *__restrict dst, const void *__restrict src, size_t n)
{
    if (n <= 16)
        copy_small(dst, src, n);
    else
        copy_forward_large(dst, src, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (n <= 16) {
        copy_small(d, s, n);
    } else if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d - (uintptr_t)s >= n) {
        /* Destination below the source, or no overlap: forward is safe.
         * Compared as integers: relational operators on pointers into
         * different objects are undefined in C. */
        copy_forward_large(d, s, n);
    } else {
        /* Destination above an overlapping source: copy downwards. The
         * lowest 8 bytes are loaded first and stored last, which covers the
         * n % 8 head bytes the backward quadword copy leaves. */
        uint64_t head = load64(s);
        size_t quads = n / 8;
        unsigned char *dq = d + n - 8;
        const unsigned char *sq = s + n - 8;
        __asm__ volatile("std\n\t"
                         "rep movsq\n\t"
                         "cld"
                         : "+D"(dq), "+S"(sq), "+c"(quads)
                         :
                         : "memory", "cc");
        store64(d, head);
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    /* The byte replicated into all 8 bytes of a quadword. */
    uint64_t v = (uint64_t)(unsigned char)c * 0x0101010101010101ull;

    if (n >= 16) {
        unsigned char *last = d + n - 8;
        size_t quads = n / 8;
        __asm__ volatile("rep stosq"
                         : "+D"(d), "+c"(quads)
                         : "a"(v)
                         : "memory");
        store64(last, v);
    } else if (n >= 8) {
        store64(d, v);
        store64(d + n - 8, v);
    } else if (n >= 4) {
        store32(d, (uint32_t)v);
        store32(d + n - 4, (uint32_t)v);
    } else if (n) {
        /* 1 to 3 bytes; overlapping stores instead of a loop. */
        d[0] = (unsigned char)c;
        d[n / 2] = (unsigned char)c;
        d[n - 1] = (unsigned char)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;

    /* Skip equal quadwords quickly; find the differing byte below. */
    while (n >= 8 && load64(p) == load64(q)) {
        p += 8;
        q += 8;
        n -= 8;
    }
    for (; n; n--, p++, q++) {
        if (*p != *q)
            return (int)*p - (int)*q;
    }
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (; n; n--, p++) {
        if (*p == (unsigned char)c)
            return (void *)p;
    }
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    while (*p && *p == *q) {
        p++;
        q++;
    }
    return (int)*p - (int)*q;
}

int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (; n; n--, p++, q++) {
        if (*p != *q || !*p)
            return (int)*p - (int)*q;
    }
    return 0;
}
