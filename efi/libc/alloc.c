/*
 * Heap for hiberload's EFI binary: the UEFI boot services pool.
 *
 * The pool already does what a small malloc would (any size, 8-byte
 * alignment, free without a size), so this is a thin layer that adds calloc
 * semantics (overflow check, zeroing) and zlib's allocator signatures.
 * See hl_alloc.h for the contract.
 */
#include <efi.h>
#include <efilib.h>

#include <stddef.h>
#include <string.h>

#include "hl_alloc.h"

void *hl_efi_calloc(size_t n, size_t size)
{
    size_t bytes;
    void *p = NULL;

    if (__builtin_mul_overflow(n, size, &bytes))
        return NULL;
    /* Pool allocations of 0 bytes are not defined by the UEFI spec, and
     * mbedTLS takes NULL for "out of memory": hand out 1 byte instead. */
    if (bytes == 0)
        bytes = 1;
    /* BS is set by gnu-efi's InitializeLib(); before it there is no heap. */
    if (BS == NULL)
        return NULL;
    if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, bytes, &p)))
        return NULL;
    memset(p, 0, bytes);
    return p;
}

void hl_efi_free(void *p)
{
    if (p != NULL && BS != NULL)
        uefi_call_wrapper(BS->FreePool, 1, p);
}

void *hl_zalloc(void *opaque, unsigned int items, unsigned int size)
{
    (void)opaque;
    /* zlib does not need zeroed memory, but it costs little next to
     * decompression and makes any use of uninitialised state deterministic. */
    return hl_efi_calloc(items, size);
}

void hl_zfree(void *opaque, void *address)
{
    (void)opaque;
    hl_efi_free(address);
}
