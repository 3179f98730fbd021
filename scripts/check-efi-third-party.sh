#!/usr/bin/env bash
# check-efi-third-party.sh [--boot]
# check-efi-third-party.sh --so FILE.so
#
# Acceptance test for mk/third-party.mk, efi/libc and efi/mbedtls-config-efi.h:
#
#  1. builds zlib, mbedTLS and the libc shim for the EFI target through a
#     minimal makefile that includes mk/third-party.mk (as the top-level
#     Makefile does), fetching the Debian sources if needed;
#  2. links a test EFI application with them and gnu-efi the way the real
#     application is linked, and checks the result: no undefined symbols,
#     only R_X86_64_RELATIVE dynamic relocations (all gnu-efi's _relocate
#     handles), no text relocations, no section that objcopy would drop;
#  3. converts it to PE with objcopy;
#     (--so FILE runs only these checks, on any gnu-efi .so before objcopy,
#     e.g. build/hiberload.so: gnu-efi's _relocate silently skips every
#     relocation type but RELATIVE, so a GLOB_DAT left by C++ inline
#     variables (STB_GNU_UNIQUE; -fno-gnu-unique avoids them) means a wrong
#     pointer at run time, not a load error);
#  4. with --boot, runs it under QEMU/OVMF (TCG), once with the default CPU
#     (software AES) and once with -cpu max (AES-NI, PCLMULQDQ). The test
#     application checks memcpy/memmove/memset/memcmp/snprintf against
#     reference code, SHA-256/512, HMAC, AES-GCM, ECDSA P-256/P-384,
#     RSA PKCS#1 v1.5 and PSS verification (known-answer vectors), and
#     inflates a stream made by the host's zlib.
#
# Work files go to ${BUILD:-build}/check-efi-third-party. Needs gnu-efi, gcc,
# zlib1g-dev (host side of the inflate test); --boot also needs qemu-system-x86
# and ovmf.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

fail() { printf 'check-efi-third-party: FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'check-efi-third-party: ok: %s\n' "$*"; }

# Checks a linked gnu-efi shared object (before objcopy) for what the EFI
# loader path cannot handle.
check_so() {
    local so=$1 undef relocs bad extra
    [ -f "$so" ] || fail "$so not found"

    # ld --no-undefined already refuses undefined symbols; nm -u double-checks.
    undef=$(nm -u "$so")
    [ -z "$undef" ] || fail "undefined symbols in $so: $undef"
    ok "no undefined symbols"

    # gnu-efi's _relocate applies only R_X86_64_RELATIVE and skips the rest
    # without a word.
    relocs=$(readelf -W -r "$so" | awk '/^[0-9a-f]+ +[0-9a-f]+ +R_X86_64_/ { print $3 }' | sort | uniq -c)
    bad=$(readelf -W -r "$so" | awk '/^[0-9a-f]+ +[0-9a-f]+ +R_X86_64_/ && $3 != "R_X86_64_RELATIVE" { print $3, $5 }')
    [ -z "$bad" ] || fail "dynamic relocations gnu-efi's _relocate ignores (C++ inline variables? add -fno-gnu-unique):
$bad"
    ok "dynamic relocations: $(printf '%s' "$relocs" | tr -s ' ' | tr '\n' ' ')"
    if readelf -W -d "$so" | grep -q TEXTREL || readelf -W -S "$so" | grep -q '\.rela\.text'; then
        fail "text relocations"
    fi
    ok "no text relocations"

    # Every allocated section must be one that objcopy keeps (or harmless
    # metadata): anything else (an orphan .bss.*, .init_array, .tdata) would
    # be silently missing from the PE image.
    extra=$(readelf -W -S "$so" | awk '$0 ~ /^ *\[ *[0-9]+\]/ {
            sub(/^ *\[ *[0-9]+\] */, ""); name = $1; flags = $7
            if (flags ~ /A/) print name }' |
        grep -v -x -e .hash -e .gnu.hash -e .eh_frame -e .text -e .reloc -e .data \
            -e .dynamic -e .rela -e .dynsym -e .dynstr -e .note.gnu.build-id || true)
    [ -z "$extra" ] || fail "allocated sections objcopy would drop: $extra"
    ok "sections: only those the EFI objcopy keeps"
}

BOOT=0
case "${1:-}" in
    --boot) BOOT=1 ;;
    --so) [ -n "${2:-}" ] || fail "--so needs a file"; check_so "$2"; exit 0 ;;
    "") ;;
    *) printf 'usage: %s [--boot] | --so FILE.so\n' "$0" >&2; exit 2 ;;
esac

BUILD_DIR=${BUILD:-$ROOT/build}
W=$(mkdir -p "$BUILD_DIR/check-efi-third-party" && cd "$BUILD_DIR/check-efi-third-party" && pwd)

# ---- the test makefile: the contract of mk/third-party.mk as a user sees it
cat >"$W/test.mk" <<MK
BUILD := $W/build
EFI_CC := gcc
EFI_ARCH_CFLAGS := -ffreestanding -fpic -fshort-wchar -mno-red-zone -fno-stack-protector \\
	-maccumulate-outgoing-args -fno-strict-aliasing -O2 -g0
include $ROOT/mk/third-party.mk

T := $W
GNUEFI_CFLAGS := -isystem /usr/include/efi -isystem /usr/include/efi/x86_64 -DGNU_EFI_USE_MS_ABI

\$(T)/gen-zdata: \$(T)/gen-zdata.c \$(T)/plain.h
	cc -O2 -o \$@ \$< -lz
\$(T)/zdata.h: \$(T)/gen-zdata
	\$< >\$@.tmp && mv \$@.tmp \$@
# -fno-tree-loop-distribute-patterns: the reference loops must stay loops,
# not become calls to the functions they check.
\$(T)/main.o: \$(T)/main.c \$(T)/plain.h \$(T)/zdata.h | efi-third-party
	\$(EFI_CC) \$(EFI_ARCH_CFLAGS) \$(EFI_LIBC_CFLAGS) \$(EFI_ZLIB_CFLAGS) \$(EFI_MBEDTLS_CFLAGS) \\
		\$(GNUEFI_CFLAGS) -Wall -Wextra -fno-tree-loop-distribute-patterns -c \$< -o \$@
\$(T)/test.so: \$(T)/main.o \$(EFI_THIRD_PARTY_LIBS)
	ld -nostdlib -znocombreloc -T /usr/lib/elf_x86_64_efi.lds -shared -Bsymbolic --no-undefined \\
		/usr/lib/crt0-efi-x86_64.o \$(T)/main.o \$(EFI_THIRD_PARTY_LIBS) -L/usr/lib -lefi -lgnuefi -o \$@
\$(T)/test.efi: \$(T)/test.so
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .reloc \\
		--target=efi-app-x86_64 \$< \$@
MK

# ---- test data shared by the host generator and the EFI test
cat >"$W/plain.h" <<'C'
/* Deterministic test data for the inflate test: words picked by an LCG
 * (long matches, dynamic Huffman blocks) with a stretch of pseudo-random
 * bytes now and then (literals). Host and EFI side generate the same bytes. */
#define PLAIN_LEN (256u * 1024u)
static const char *const plain_words[] = {
    "hibernation ", "image ", "page ", "restore ", "kernel ", "firmware ",
    "the ", "of ", "\n", "0123456789 ", "zero ", "scratch ",
};
static void gen_plain(unsigned char *p, unsigned long n)
{
    unsigned int x = 0x2545f491u;
    unsigned long i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        if ((x >> 8) % 97 == 0) {
            for (int k = 0; k < 300 && i < n; k++) {
                x = x * 1103515245u + 12345u;
                p[i++] = (unsigned char)(x >> 16);
            }
            continue;
        }
        const char *w = plain_words[(x >> 16) % 12];
        while (*w && i < n)
            p[i++] = (unsigned char)*w++;
    }
}
C

cat >"$W/gen-zdata.c" <<'C'
/* Host: compress the test data with the host's zlib, emit it as C. */
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>
#include "plain.h"
int main(void)
{
    static unsigned char plain[PLAIN_LEN];
    uLongf zlen = compressBound(PLAIN_LEN);
    unsigned char *z = malloc(zlen);
    gen_plain(plain, PLAIN_LEN);
    if (!z || compress2(z, &zlen, plain, PLAIN_LEN, 6) != Z_OK)
        return 1;
    printf("static const unsigned char zdata[%lu] = {", (unsigned long)zlen);
    for (uLongf i = 0; i < zlen; i++)
        printf("%s%u,", i % 24 ? "" : "\n", z[i]);
    printf("\n};\n");
    return 0;
}
C

# ---- the EFI test application
cat >"$W/main.c" <<'C'
/* Test EFI application for the EFI builds of zlib, mbedTLS and efi/libc.
 * Reports on the console; under QEMU with isa-debug-exit at 0x501 it ends
 * QEMU with status 33 (all passed) or 35 (a failure). */
#include <efi.h>
#include <efilib.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hl_alloc.h"
#include "zlib.h"
#include "mbedtls/aesni.h"
#include "mbedtls/gcm.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"

#include "plain.h"
#include "zdata.h"

/* Known-answer vectors, made once with Python's hashlib, hmac and the
 * cryptography package (keys generated for the test, then discarded). */
static const char msg[] = "hiberload test message: verify me";
static const char msg_sha256[] =
    "fb616d6c9a15133652676e8774be93a7673c1025cc57ac7048fbc75ec983e82f";
static const char msg_sha512[] =
    "bba6e9dd67dc85d3c02116536310bea61ddcff9908d1757eabd42f1e3673be31"
    "72e9c73962a0761a03266470ca581415e7321bb4227abbea8646a4a26dda7ba9";
static const char msg_hmac_sha256[] =
    "5ddb76796930a50d8bd753ce0671bd286ca873e253093bbc9ee6f435b22b457a";
static const char gcm_ct[] =
    "481cd07365ca7caf065d19a58e3e089432b5788f07ff69d30f7e1af53f687791"
    "740eae35b0119115e5ec5e12c97988864b0cc6824c393ba9727e3a4b4b2a1733"
    "c84b15db0aa8d1f47390eb4e059113cf544f2171eb96d7a7b79e40b9ff98dcc8"
    "2ed63ccb";
static const char gcm_tag[] =
    "8dd4df46a78d450c93b43bb92b99a729";
static const char ec_p256_spki[] =
    "3059301306072a8648ce3d020106082a8648ce3d030107034200044d742ad533"
    "d994587af29e7a175cf6689006c51f6f41eb585a3d420e4f70f0be7ce99383d2"
    "f986cda021890e05145e760daaf1ae2036736cf1bbe82b914d1cb3";
static const char ec_p256_sig[] =
    "30450220440ebb531a98ef049054daa582fcdffc6adfc6145371d674b5f87c88"
    "7f532bf9022100b48abb20ec5353b9c7af992fa61a43c3ff32519008072abd68"
    "400cc018017541";
static const char ec_p384_spki[] =
    "3076301006072a8648ce3d020106052b810400220362000417c0d512efe2f029"
    "fb6907bd55f22fcad0428e4d2c2af9ee05b1f66af897150ea8e93aea3efaf68e"
    "3ab732a59567951944431c49c2beba16bf81a45cd6fb71708b4313efdef5b3e6"
    "fe6dc0eb55c866654f8f343f2e36ae4adac06c1eee73ac00";
static const char ec_p384_sig[] =
    "30650231008eb08b7cffc02a2a6bf030e7f6712c0f5a40ea583d98f7101aa594"
    "1ed57abcadeada61ad4a62341236c7ff6a3b09250d02307c8bd60e53cc665d7f"
    "a99541348358549859c492bb3638c514fd425a517acb185399e3f79fab96caf5"
    "e8679bce2b4080";
static const char rsa_spki[] =
    "30820122300d06092a864886f70d01010105000382010f003082010a02820101"
    "009310d7e69e23bac23930d5fdc14106c02646344263fc42ecd7c04d8b4c63fc"
    "a5e51c110d4fb8a912187e8b1e8568e3c7b00a38ef7885501364112d82eaee10"
    "db07b2de82379b0bbaa7c357b364d1492ff19f277502cadad849efffdd5bf8f1"
    "0d6f994779c007bdc15597a6e93846937983bdbdeb8b09a62226705430ad398b"
    "c9906db05b1cd741987616888fa7beb32fb63addc4a20c2dfdf8334431eaed56"
    "435fcd8bc209a01e89a504624c9c15cd8f1a734d3b88e3a9eb48c6a9ce4e617d"
    "4aa2f1d1638007b0f045e757138b4b87501ad082e82bb4cd7040b5bab779c9ea"
    "cfafa9b1e50bd30a1aaa6bf297485d9d8b3cc32a698ed49fe06613e9fb7078f6"
    "ad0203010001";
static const char rsa_sig_v15[] =
    "1e1766d9cc1c5b918f60c45f0c5f04144038b857b917692ef2c8ed981842e65d"
    "650b18f28da19324534edb530f2046fff4a5abdd2402f2bc635d747bb8405373"
    "6c6cc85b6268df8da1f74cd48d547ef7e98fb3f6c1d4687fc06969b9ec3ab722"
    "f9b3872bbc07289f846caf332f665a161e997294722a355b6838bb01c2440fe5"
    "8e0d455883a4b79cfb1f154046a95ff85113c8d62e30f61b38a298dbd56d854e"
    "7cec3fe2ff644e8201acdeb6f62ef0ffba1f390c5cb966606abffd7c3cb2cbc9"
    "e10fb36422b9f99e8067868f30e935542453e209e602039352610d4b150aa8bf"
    "ab5ae10464c9d73a04e8b980bd7f77b7057c4a16c31301c9b6e2374f44640db4";
static const char rsa_sig_pss[] =
    "35ee08d7881302be4e96dba504ec6f8bbf444e70b263645c7483d4b4e779e129"
    "4eb80deaef079e5485e0f9f4a90d2a465b944b366e1230e93dd325c66931b913"
    "46e628d61ddb1005ccb1cc300099a2fb690474a1af05c71fa39bbc1b26c53abe"
    "dd08e792c998c327f84b1f7a5a1cd252615faec3c76207a5856a13aa45c69099"
    "529b0504e830af37d605dae8a3b26cb94202b1ab2a9b5802e68d35d3d6b753ef"
    "53a7296a57a9377d4fb7e3731656c08dc97dfcbe5e07a1785e02662bdb4ca04b"
    "abbe436ca5e2c2d823691ccc08b621fb3facefc41d00cf5aa3b776bbb2bd9a1e"
    "a28ec732734b18aaa915a89bac217afe5e59bc63a71e0bfeab6670bf06f5e737";

static int failures;

static void check(int cond, const char *what)
{
    if (!cond)
        failures++;
    Print(L"%a: %a\n", cond ? "ok  " : "FAIL", what);
}

static size_t unhex(const char *hex, unsigned char *out, size_t max)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < max; hex += 2) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        out[n++] = (unsigned char)v;
    }
    return n;
}

static int eq_hex(const unsigned char *got, const char *hex)
{
    unsigned char want[128];
    size_t n = unhex(hex, want, sizeof want);
    return memcmp(got, want, n) == 0;
}

/* ---- libc: mem* against byte-at-a-time references ------------------------ */

static void ref_move(unsigned char *d, const unsigned char *s, size_t n)
{
    unsigned char tmp[512];
    for (size_t i = 0; i < n; i++)
        tmp[i] = s[i];
    for (size_t i = 0; i < n; i++)
        d[i] = tmp[i];
}

/* The test pattern: byte i of a buffer filled with seed. */
static unsigned char fv(unsigned seed, size_t i)
{
    return (unsigned char)(seed + i * 37 + (i >> 3));
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = fv(seed, i);
}

static void test_mem(void)
{
    static unsigned char src[512], dst[512], ref[512], buf[512];
    int good = 1;

    fill(src, sizeof src, 1);
    for (size_t n = 0; n <= 130 && good; n++)
        for (size_t so = 0; so < 9; so++)
            for (size_t dof = 0; dof < 9; dof++) {
                fill(dst, sizeof dst, 7);
                fill(ref, sizeof ref, 7);
                void *r = memcpy(dst + dof, src + so, n);
                ref_move(ref + dof, src + so, n);
                if (r != dst + dof || memcmp(dst, ref, sizeof dst) != 0)
                    good = 0;
            }
    check(good, "memcpy sizes 0..130, all alignments, guard bytes");

    good = 1;
    for (size_t n = 0; n <= 200 && good; n++)
        for (int shift = -33; shift <= 33; shift++) {
            size_t from = 100, to = (size_t)(100 + shift);
            fill(buf, sizeof buf, 3);
            fill(ref, sizeof ref, 3);
            void *r = memmove(buf + to, buf + from, n);
            ref_move(ref + to, ref + from, n);
            if (r != buf + to || memcmp(buf, ref, sizeof buf) != 0)
                good = 0;
        }
    check(good, "memmove overlapping both ways, sizes 0..200");

    good = 1;
    for (size_t n = 0; n <= 130 && good; n++)
        for (size_t off = 0; off < 9; off++)
            for (int c = 0; c < 256; c += 0x5a) {
                fill(dst, sizeof dst, 9);
                fill(ref, sizeof ref, 9);
                void *r = memset(dst + off, c | 0x100, n); /* only the low byte counts */
                for (size_t i = 0; i < n; i++)
                    ref[off + i] = (unsigned char)c;
                if (r != dst + off || memcmp(dst, ref, sizeof dst) != 0)
                    good = 0;
            }
    check(good, "memset sizes 0..130, all alignments, guard bytes");

    good = 1;
    for (size_t n = 1; n <= 40; n++)
        for (size_t at = 0; at < n; at++) {
            fill(buf, n, 5);
            fill(dst, n, 5);
            if (memcmp(buf, dst, n) != 0)
                good = 0;
            dst[at] = (unsigned char)(buf[at] + 1); /* dst > buf at 'at', wraps for 0xff */
            int r = memcmp(buf, dst, n), want = buf[at] < dst[at] ? -1 : 1;
            if ((r < 0 ? -1 : r > 0 ? 1 : 0) != want)
                good = 0;
        }
    check(good && memcmp("", "", 0) == 0, "memcmp sign and position");

    /* Large buffers from the pool: the rep movsq/stosq paths, both directions. */
    size_t big = 3u << 20;
    unsigned char *a = hl_efi_calloc(1, big + 64), *b = hl_efi_calloc(1, big + 64);
    good = a && b;
    if (good) {
        fill(a, big + 64, 11);
        memcpy(b + 1, a + 3, big);              /* b[1+i] = f(3+i) */
        for (size_t i = 0; i < big && good; i++)
            good = b[1 + i] == fv(11, 3 + i);
        memmove(a + 5, a, big);                 /* up, overlapping: a[5+i] = f(i) */
        for (size_t i = 0; i < big && good; i++)
            good = a[5 + i] == fv(11, i);
        for (size_t i = 0; i < 5 && good; i++)
            good = a[i] == fv(11, i);
        memmove(b, b + 7, big - 6);             /* down, overlapping: b[i] = f(9+i) */
        for (size_t i = 0; i < big - 6 && good; i++)
            good = b[i] == fv(11, 9 + i);
        memset(a + 1, 0xc3, big);
        for (size_t i = 0; i < big && good; i++)
            good = a[1 + i] == 0xc3;
        good = good && a[0] == fv(11, 0) && a[big + 1] == fv(11, big - 4);
    }
    check(good, "3 MiB memcpy, memmove up and down, memset");
    hl_efi_free(a);
    hl_efi_free(b);

    check(strlen("hiberload") == 9 && strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 &&
              strncmp("abcx", "abcy", 3) == 0 && strnlen("abc", 2) == 2 &&
              memchr("abc", 'c', 3) != NULL,
          "strlen strcmp strncmp strnlen memchr");
}

static void test_snprintf(void)
{
    char b[64];
    int n;
    n = snprintf(b, sizeof b, "%c.%u", '1', 2u);
    check(n == 3 && strcmp(b, "1.2") == 0, "snprintf %c.%u (as oid.c uses it)");
    n = snprintf(b, sizeof b, "[%5d|%-5d|%05d|%x|%X|%lld|%zu|%s|%.2s|%%]", -42, 7, -3, 0xbeefu, 0xabu,
                 (long long)INT64_MIN, (size_t)123, "str", "xyz");
    check(strcmp(b, "[  -42|7    |-0003|beef|AB|-9223372036854775808|123|str|xy|%]") == 0,
          "snprintf flags, widths, lengths");
    n = snprintf(b, 5, "%s", "truncated");
    check(n == 9 && strcmp(b, "trun") == 0, "snprintf truncation and return value");
}

static void test_alloc(void)
{
    void *p = hl_efi_calloc(1000, 16);
    int zero = p != NULL;
    for (size_t i = 0; zero && i < 16000; i++)
        zero = ((unsigned char *)p)[i] == 0;
    hl_efi_free(p);
    void *z = hl_efi_calloc(0, 0);
    check(zero && z != NULL && hl_efi_calloc(SIZE_MAX / 2, 3) == NULL,
          "hl_efi_calloc zeroes, overflow check, size 0");
    hl_efi_free(z);
    hl_efi_free(NULL);
}

/* ---- mbedTLS ---------------------------------------------------------------- */

static void test_hashes(void)
{
    unsigned char out[64];
    mbedtls_sha256_ret((const unsigned char *)msg, strlen(msg), out, 0);
    check(eq_hex(out, msg_sha256), "SHA-256");
    mbedtls_sha512_ret((const unsigned char *)msg, strlen(msg), out, 0);
    check(eq_hex(out, msg_sha512), "SHA-512");
    int r = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                            (const unsigned char *)"hiberload-key", 13,
                            (const unsigned char *)msg, strlen(msg), out);
    check(r == 0 && eq_hex(out, msg_hmac_sha256), "HMAC-SHA-256 (md)");
}

static void test_gcm(void)
{
    unsigned char key[32], iv[12], pt[100], ct[100], tag[16], out[100];
    for (int i = 0; i < 32; i++) key[i] = (unsigned char)i;
    for (int i = 0; i < 12; i++) iv[i] = (unsigned char)(100 + i);
    for (int i = 0; i < 100; i++) pt[i] = (unsigned char)(i * 7);
    unhex(gcm_ct, ct, sizeof ct);
    unhex(gcm_tag, tag, sizeof tag);

    Print(L"info: AES-NI %a, PCLMULQDQ %a\n",
          mbedtls_aesni_has_support(MBEDTLS_AESNI_AES) ? "used" : "not available",
          mbedtls_aesni_has_support(MBEDTLS_AESNI_CLMUL) ? "used" : "not available");

    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    int r = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    r = r ? r : mbedtls_gcm_auth_decrypt(&g, sizeof ct, iv, sizeof iv, (const unsigned char *)"hdr", 3,
                                         tag, sizeof tag, ct, out);
    check(r == 0 && memcmp(out, pt, sizeof pt) == 0, "AES-256-GCM decrypt + tag");
    ct[50] ^= 1;
    r = mbedtls_gcm_auth_decrypt(&g, sizeof ct, iv, sizeof iv, (const unsigned char *)"hdr", 3,
                                 tag, sizeof tag, ct, out);
    check(r == MBEDTLS_ERR_GCM_AUTH_FAILED, "AES-256-GCM rejects a modified ciphertext");
    r = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, sizeof pt, iv, sizeof iv,
                                  (const unsigned char *)"hdr", 3, pt, out, 16, key);
    unhex(gcm_ct, ct, sizeof ct);
    check(r == 0 && memcmp(out, ct, sizeof ct) == 0 && memcmp(key, tag, 16) == 0, "AES-256-GCM encrypt");
    mbedtls_gcm_free(&g);
}

static int verify(const char *spki_hex, const char *sig_hex, int flip, mbedtls_md_type_t md, int pss)
{
    unsigned char spki[600], sig[600], hash[64];
    size_t spki_len = unhex(spki_hex, spki, sizeof spki), sig_len = unhex(sig_hex, sig, sizeof sig);
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md);
    mbedtls_md(info, (const unsigned char *)msg, strlen(msg), hash);
    if (flip)
        sig[sig_len / 2] ^= 0x10;

    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int r = mbedtls_pk_parse_public_key(&pk, spki, spki_len);
    if (r == 0 && pss) {
        mbedtls_pk_rsassa_pss_options opt = { md, MBEDTLS_RSA_SALT_LEN_ANY };
        r = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opt, &pk, md, hash,
                                  mbedtls_md_get_size(info), sig, sig_len);
    } else if (r == 0) {
        r = mbedtls_pk_verify(&pk, md, hash, mbedtls_md_get_size(info), sig, sig_len);
    }
    mbedtls_pk_free(&pk);
    return r;
}

static void test_signatures(void)
{
    check(verify(ec_p256_spki, ec_p256_sig, 0, MBEDTLS_MD_SHA256, 0) == 0, "ECDSA P-256 verify (pk, DER SPKI)");
    check(verify(ec_p256_spki, ec_p256_sig, 1, MBEDTLS_MD_SHA256, 0) != 0, "ECDSA P-256 rejects a bad signature");
    check(verify(ec_p384_spki, ec_p384_sig, 0, MBEDTLS_MD_SHA384, 0) == 0, "ECDSA P-384 verify");
    check(verify(rsa_spki, rsa_sig_v15, 0, MBEDTLS_MD_SHA256, 0) == 0, "RSA-2048 PKCS#1 v1.5 verify");
    check(verify(rsa_spki, rsa_sig_v15, 1, MBEDTLS_MD_SHA256, 0) != 0, "RSA PKCS#1 v1.5 rejects a bad signature");
    check(verify(rsa_spki, rsa_sig_pss, 0, MBEDTLS_MD_SHA256, 1) == 0, "RSA-2048 PSS verify");
    check(verify(rsa_spki, rsa_sig_pss, 1, MBEDTLS_MD_SHA256, 1) != 0, "RSA PSS rejects a bad signature");
}

/* ---- zlib --------------------------------------------------------------------- */

static void test_zlib(void)
{
    unsigned char *want = hl_efi_calloc(1, PLAIN_LEN), *got = hl_efi_calloc(1, PLAIN_LEN + 16);
    if (!want || !got) {
        check(0, "inflate: allocation");
        return;
    }
    gen_plain(want, PLAIN_LEN);

    z_stream s;
    memset(&s, 0, sizeof s);
    s.zalloc = hl_zalloc;
    s.zfree = hl_zfree;
    int r = inflateInit(&s);
    s.next_in = (Bytef *)zdata;
    s.avail_in = sizeof zdata;
    s.next_out = got;
    s.avail_out = PLAIN_LEN + 16;
    if (r == Z_OK)
        r = inflate(&s, Z_FINISH);
    check(r == Z_STREAM_END && s.total_out == PLAIN_LEN && memcmp(got, want, PLAIN_LEN) == 0,
          "inflate a stream from the host's zlib (256 KiB)");
    inflateEnd(&s);

    /* Round trip through the EFI deflate, level 1. */
    uLong bound = deflateBound(&s, PLAIN_LEN);
    unsigned char *z = hl_efi_calloc(1, bound);
    memset(&s, 0, sizeof s);
    s.zalloc = hl_zalloc;
    s.zfree = hl_zfree;
    r = z ? deflateInit(&s, 1) : Z_MEM_ERROR;
    s.next_in = want;
    s.avail_in = PLAIN_LEN;
    s.next_out = z;
    s.avail_out = (uInt)bound;
    if (r == Z_OK)
        r = deflate(&s, Z_FINISH);
    uLong zlen = s.total_out;
    deflateEnd(&s);
    int good = r == Z_STREAM_END;
    memset(&s, 0, sizeof s);
    s.zalloc = hl_zalloc;
    s.zfree = hl_zfree;
    memset(got, 0, PLAIN_LEN);
    if (good && inflateInit(&s) == Z_OK) {
        s.next_in = z;
        s.avail_in = (uInt)zlen;
        s.next_out = got;
        s.avail_out = PLAIN_LEN;
        good = inflate(&s, Z_FINISH) == Z_STREAM_END && memcmp(got, want, PLAIN_LEN) == 0;
        inflateEnd(&s);
    }
    check(good, "deflate level 1 + inflate round trip");
    hl_efi_free(z);
    hl_efi_free(want);
    hl_efi_free(got);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    InitializeLib(image, systab);
    Print(L"hiberload third-party check\n");
    test_mem();
    test_snprintf();
    test_alloc();
    test_hashes();
    test_gcm();
    test_signatures();
    test_zlib();
    Print(L"%a: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    /* isa-debug-exit: QEMU exits with (value << 1) | 1. */
    unsigned char v = failures ? 0x11 : 0x10;
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"((unsigned short)0x501));
    return failures ? EFI_ABORTED : EFI_SUCCESS;
}
C

# ---- build and link
make -f "$W/test.mk" -j"$(nproc)" efi-third-party "$W/test.efi"
SO=$W/test.so EFI=$W/test.efi

check_so "$SO"

objdump -f "$EFI" | grep -q 'file format pei-x86-64' || fail "objcopy did not produce a PE image"
ok "PE image: $EFI ($(stat -c %s "$EFI") bytes)"

# ---- boot under QEMU/OVMF
if [ "$BOOT" = 1 ]; then
    CODE=/usr/share/OVMF/OVMF_CODE_4M.fd VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
    command -v qemu-system-x86_64 >/dev/null || fail "--boot: qemu-system-x86_64 not installed"
    [ -r "$CODE" ] || fail "--boot: $CODE not found (ovmf)"
    mkdir -p "$W/esp/EFI/BOOT"
    cp "$EFI" "$W/esp/EFI/BOOT/BOOTX64.EFI"
    for cpu in qemu64 max; do
        cp "$VARS" "$W/vars.fd"
        log=$W/boot-$cpu.log
        set +e
        timeout 300 qemu-system-x86_64 -machine q35 -accel tcg -cpu "$cpu" -m 512 -nographic -nic none \
            -drive if=pflash,format=raw,readonly=on,file="$CODE" \
            -drive if=pflash,format=raw,file="$W/vars.fd" \
            -drive format=raw,file=fat:rw:"$W/esp" \
            -device isa-debug-exit,iobase=0x501,iosize=1 </dev/null >"$log" 2>&1
        rc=$?
        set -e
        # Strip the firmware's terminal escapes for a readable excerpt.
        sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$log" | tr -d '\r' | grep -E '^(ok  |FAIL|info|PASSED|FAILED)' || true
        [ "$rc" = 33 ] || fail "boot with -cpu $cpu: QEMU exit status $rc (33 = passed); see $log"
        ok "boot with -cpu $cpu: all tests passed"
    done
fi
