/*
 * mbedTLS 2.28 configuration for hiberload's EFI binary.
 *
 * Selected with -DMBEDTLS_CONFIG_FILE='"mbedtls-config-efi.h"' (see
 * mk/third-party.mk). It replaces mbedtls/config.h entirely: everything not
 * defined here is off.
 *
 * The firmware side only *verifies* and *decrypts*: hash the image (SHA-256,
 * SHA-512 for HMAC-SHA-512 or Ed/ECDSA-P384 digests), check a signature
 * (ECDSA P-256/P-384, RSA PKCS#1 v1.5 and PSS), authenticate and decrypt with
 * AES-GCM, HMAC through the md layer, and parse a DER SubjectPublicKeyInfo.
 * No secret-key operation with a side-channel exposure runs here, so there is
 * no RNG, no entropy source and no DRBG.
 *
 * The target is freestanding: there is no stdio, no time, no filesystem, no
 * threads. Memory comes from the firmware pool through hl_efi_calloc /
 * hl_efi_free (efi/libc/alloc.c).
 */
#ifndef HIBERLOAD_MBEDTLS_CONFIG_EFI_H
#define HIBERLOAD_MBEDTLS_CONFIG_EFI_H

/* ---- System support ------------------------------------------------------ */

/* x86_64 inline assembly for bignum multiplication (bn_mul.h) and AES-NI. */
#define MBEDTLS_HAVE_ASM

/* x86_64 gcc has a 128-bit integer type, but dividing by it compiles to a
 * call to libgcc's __udivti3, which the EFI link does not include. bignum.c
 * has a portable fallback for the one division it does. */
#define MBEDTLS_NO_UDBL_DIVISION

/* No MBEDTLS_HAVE_TIME / MBEDTLS_HAVE_TIME_DATE: no time() in firmware. */

/* ---- Platform abstraction ------------------------------------------------ */

#define MBEDTLS_PLATFORM_C
/* Do not include <stdio.h>/<stdlib.h> or default to libc's calloc, free,
 * printf, snprintf, exit, time. */
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
/* Route mbedtls_calloc/mbedtls_free to the EFI pool allocator at compile time
 * (no function pointers to set up at run time). */
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_STD_MEM_HDR    "hl_alloc.h"
#define MBEDTLS_PLATFORM_CALLOC_MACRO   hl_efi_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO     hl_efi_free
/* oid.c's mbedtls_oid_get_numeric_string() formats with snprintf; it is in
 * the same object file as the OID lookups that RSA and PK need, so it gets
 * linked. The shim has a small snprintf (efi/libc/snprintf.c). */
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf

/* ---- Hashes and MACs ----------------------------------------------------- */

#define MBEDTLS_MD_C                    /* generic digest + HMAC interface */
#define MBEDTLS_SHA256_C                /* SHA-224 / SHA-256 */
#define MBEDTLS_SHA512_C                /* SHA-384 / SHA-512 */

/* ---- Symmetric ciphers ---------------------------------------------------- */

#define MBEDTLS_AES_C
/* Use AES-NI and PCLMULQDQ (GCM) when CPUID reports them; software tables
 * otherwise. UEFI on x86_64 runs with SSE enabled, which AES-NI needs. */
#define MBEDTLS_AESNI_C
/* Keep the AES tables in .rodata: nothing to generate at run time, and no
 * writable global state. */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_CIPHER_C                /* generic cipher interface */
#define MBEDTLS_GCM_C
/* No block cipher modes (CBC, CTR, ...) and no padding: only AES-GCM is used. */

/* ---- Public key ----------------------------------------------------------- */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C            /* required by ECDSA_C (check_config) */
#define MBEDTLS_OID_C

#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM          /* fast reduction modulo NIST primes */
/* Verification handles no secret, so ECP's blinding with an internal DRBG
 * buys nothing here; this option drops the DRBG dependency (mbedTLS documents
 * exactly this use). Do not use this build to sign or for ECDH. */
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_ECDSA_C

#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21               /* RSASSA-PSS */

/* Parse DER public keys (SubjectPublicKeyInfo, RSAPublicKey) and verify
 * through one interface for RSA and ECDSA. No PEM (it would add base64). */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C

/* ---- Module settings ------------------------------------------------------- */

/* Defaults: MBEDTLS_MPI_MAX_SIZE 1024 bytes (RSA up to 8192 bits);
 * MBEDTLS_ECP_MAX_BITS follows the largest enabled curve (384). */

/* Left out on purpose: FS_IO, NET_C, TIMING_C, ENTROPY_C (and its polling),
 * CTR/HMAC_DRBG, THREADING_C, SELF_TEST (needs printf), ERROR_C, VERSION_C,
 * PSA crypto, X.509, SSL/TLS. */

#include "mbedtls/check_config.h"

#endif /* HIBERLOAD_MBEDTLS_CONFIG_EFI_H */
