/*
 * hl_alloc.h: heap for hiberload's EFI binary and the third-party code in it.
 *
 * Memory comes from the UEFI boot services pool (EfiLoaderData), so it is
 * only available between gnu-efi's InitializeLib() (which sets BS) and
 * ExitBootServices(). Allocations are 8-byte aligned (the UEFI pool's
 * guarantee), which suits mbedTLS and zlib.
 *
 * mbedTLS reaches these through MBEDTLS_PLATFORM_CALLOC_MACRO /
 * MBEDTLS_PLATFORM_FREE_MACRO (efi/mbedtls-config-efi.h). zlib is built with
 * Z_SOLO and has no default allocator: set
 *     strm.zalloc = hl_zalloc; strm.zfree = hl_zfree; strm.opaque = 0;
 * before inflateInit*().
 */
#ifndef HL_ALLOC_H
#define HL_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* calloc semantics: n * size bytes, zeroed. Returns NULL if n * size
 * overflows, if the pool is exhausted, or before InitializeLib(). A request
 * for 0 bytes returns a unique pointer (like glibc), since mbedTLS treats
 * NULL as an allocation failure. */
void *hl_efi_calloc(size_t n, size_t size);

/* Returns memory from hl_efi_calloc to the pool; NULL is ignored. */
void hl_efi_free(void *p);

/* zlib's alloc_func / free_func signatures (zconf.h: voidpf is void *, uInt
 * is unsigned int), so they can be stored in z_stream directly. opaque is
 * unused. hl_zalloc returns NULL (Z_NULL) on failure. */
void *hl_zalloc(void *opaque, unsigned int items, unsigned int size);
void hl_zfree(void *opaque, void *address);

#ifdef __cplusplus
}
#endif

#endif /* HL_ALLOC_H */
