/*
 * <assert.h> for hiberload's freestanding EFI build (efi/libc).
 *
 * There is no abort() or stderr in firmware to report a failed assertion
 * with, so assert() compiles to nothing, as with NDEBUG. mbedTLS includes
 * this header for static_assert-style checks and only calls assert() under
 * MBEDTLS_CHECK_PARAMS_ASSERT, which the EFI config leaves off.
 */
#ifndef HL_LIBC_ASSERT_H
#define HL_LIBC_ASSERT_H

#define assert(cond) ((void)0)

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define static_assert _Static_assert
#endif

#endif
