# mk/third-party.mk: zlib, mbedTLS and a tiny libc for the EFI binary.
#
# Included by the top-level Makefile. zlib and mbedTLS come from Debian's
# source packages, fetched at build time by scripts/fetch-debian-source.sh
# into $(HIBERLOAD_CACHE)/src (outside the repository: no third-party source
# is committed), and are compiled here for the freestanding EFI target
# against the shim headers in efi/libc/include.
#
# Inputs (define them before including this file):
#   BUILD            build directory (e.g. build)
#   EFI_CC           C compiler for the EFI target (e.g. gcc)
#   EFI_ARCH_CFLAGS  -ffreestanding -fpic -fshort-wchar -mno-red-zone ...
#   HIBERLOAD_CACHE  cache directory (default /var/cache/hiberload)
#
# Outputs:
#   EFI_LIBC_CFLAGS       -nostdinc + the shim headers + gcc's freestanding
#                         headers (stddef.h, stdint.h, stdarg.h, intrinsics)
#   EFI_ZLIB_CFLAGS       zlib include dir + -DZ_SOLO
#   EFI_MBEDTLS_CFLAGS    mbedTLS include dirs + -DMBEDTLS_CONFIG_FILE=...
#                         (code that includes mbedTLS headers MUST use these:
#                         structure layouts depend on the config)
#   EFI_THIRD_PARTY_LIBS  archives to link, in this order, before -lefi
#                         -lgnuefi (see the note on libefi.a below)
#   EFI_THIRD_PARTY_STAMPS  files that exist once the zlib and mbedTLS trees
#                         are fetched: make the application's objects that
#                         include zlib.h or mbedtls/*.h depend on them
#                         order-only (| $(EFI_THIRD_PARTY_STAMPS)), or on
#                         efi-third-party, so that make -j fetches first
#   efi-third-party       phony target that builds them all
#
# Everything below that is not an output is prefixed HL_TP_.

HIBERLOAD_CACHE ?= /var/cache/hiberload

ifeq ($(strip $(BUILD)),)
$(error mk/third-party.mk: BUILD is not set)
endif
ifeq ($(strip $(EFI_CC)),)
$(error mk/third-party.mk: EFI_CC is not set)
endif
ifeq ($(strip $(EFI_ARCH_CFLAGS)),)
$(error mk/third-party.mk: EFI_ARCH_CFLAGS is not set)
endif

# Repository root, from this file's own location, so that the fragment works
# whatever the current directory and whoever includes it.
HL_TP_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
HL_TP_CACHE := $(abspath $(HIBERLOAD_CACHE))
HL_TP_FETCH := $(HL_TP_ROOT)/scripts/fetch-debian-source.sh

# gnu-efi's headers and libraries (Debian's gnu-efi package).
HL_TP_GNUEFI_INC ?= /usr/include/efi
HL_TP_GNUEFI_LIBDIR ?= /usr/lib
HL_TP_OBJCOPY ?= objcopy

# gcc's own header directory: stddef.h, stdint.h, stdarg.h, limits.h,
# cpuid.h and the intrinsics. Everything else comes from efi/libc/include.
HL_TP_GCC_INCLUDE := $(shell $(EFI_CC) -print-file-name=include)

HL_TP_ZLIB_SRC := $(HL_TP_CACHE)/src/zlib
HL_TP_MBEDTLS_SRC := $(HL_TP_CACHE)/src/mbedtls
# Written by the fetch script into a tree once it is complete and verified.
HL_TP_ZLIB_STAMP := $(HL_TP_ZLIB_SRC)/.hiberload-fetched
HL_TP_MBEDTLS_STAMP := $(HL_TP_MBEDTLS_SRC)/.hiberload-fetched

HL_TP_OUT := $(BUILD)/efi/third-party
HL_TP_LIBC_OUT := $(BUILD)/efi/libc

# ---- Exported flags --------------------------------------------------------

EFI_LIBC_CFLAGS := -nostdinc -isystem $(HL_TP_ROOT)/efi/libc/include -isystem $(HL_TP_GCC_INCLUDE)
EFI_ZLIB_CFLAGS := -I$(HL_TP_ZLIB_SRC) -DZ_SOLO
EFI_MBEDTLS_CFLAGS := -I$(HL_TP_MBEDTLS_SRC)/include -I$(HL_TP_ROOT)/efi \
	'-DMBEDTLS_CONFIG_FILE="mbedtls-config-efi.h"'

# ---- Sources ---------------------------------------------------------------

# Inflate is what the firmware needs; deflate and trees cost nothing at link
# time (archive members nobody references are not linked) and keep the
# library complete. No gz* files: they need stdio.
HL_TP_ZLIB_MODULES := adler32 crc32 zutil inflate inftrees inffast deflate trees

# SHA-256/512, md (HMAC), AES(-NI) + GCM through the cipher layer, bignum,
# ECP + ECDSA, RSA (PKCS#1 v1.5, PSS), ASN.1, OID, PK (DER public key parse).
# Must match efi/mbedtls-config-efi.h: a module compiled with its option off
# is an empty object, one left out while its option is on is an undefined
# symbol at link time.
HL_TP_MBEDTLS_MODULES := aes aesni asn1parse asn1write bignum cipher cipher_wrap \
	constant_time ecdsa ecp ecp_curves gcm md oid pk pk_wrap pkparse platform \
	platform_util rsa rsa_internal sha256 sha512

HL_TP_LIBC_MODULES := string alloc snprintf

HL_TP_ZLIB_SRCS := $(HL_TP_ZLIB_MODULES:%=$(HL_TP_ZLIB_SRC)/%.c)
HL_TP_MBEDTLS_SRCS := $(HL_TP_MBEDTLS_MODULES:%=$(HL_TP_MBEDTLS_SRC)/library/%.c)

HL_TP_ZLIB_OBJS := $(HL_TP_ZLIB_MODULES:%=$(HL_TP_OUT)/zlib/%.o)
HL_TP_MBEDTLS_OBJS := $(HL_TP_MBEDTLS_MODULES:%=$(HL_TP_OUT)/mbedtls/%.o)
HL_TP_LIBC_OBJS := $(HL_TP_LIBC_MODULES:%=$(HL_TP_LIBC_OUT)/%.o)

HL_TP_LIBZ := $(HL_TP_OUT)/libz.a
HL_TP_LIBMBEDCRYPTO := $(HL_TP_OUT)/libmbedcrypto.a
HL_TP_LIBEFIC := $(HL_TP_LIBC_OUT)/libefic.a
# gnu-efi's libefi.a defines memcpy and memset itself (byte loops, in init.o,
# which InitializeLib pulls in), so linking it next to libefic.a fails with
# "multiple definition of memcpy". This is a copy with those two symbols made
# weak: libefic's strong, faster ones win, and libefi's own calls use them
# too. Link it in place of /usr/lib/libefi.a, or before -lefi (which then
# contributes nothing).
HL_TP_LIBEFI := $(HL_TP_OUT)/libefi.a

EFI_THIRD_PARTY_LIBS := $(HL_TP_LIBZ) $(HL_TP_LIBMBEDCRYPTO) $(HL_TP_LIBEFIC) $(HL_TP_LIBEFI)
EFI_THIRD_PARTY_STAMPS := $(HL_TP_ZLIB_STAMP) $(HL_TP_MBEDTLS_STAMP)

# ---- Flags -----------------------------------------------------------------

# -MMD -MP: header dependencies (also on the fetched headers and the config).
HL_TP_DEPFLAGS = -MMD -MP -MF $(@:.o=.d) -MT $@
HL_TP_CFLAGS = $(EFI_ARCH_CFLAGS) $(EFI_LIBC_CFLAGS) $(HL_TP_DEPFLAGS)
# The libc is ours: warn. -fno-tree-loop-distribute-patterns keeps gcc from
# turning loops inside memset & co. into calls to themselves.
HL_TP_LIBC_CFLAGS = $(HL_TP_CFLAGS) -Wall -Wextra -fno-tree-loop-distribute-patterns \
	-isystem $(HL_TP_GNUEFI_INC) -isystem $(HL_TP_GNUEFI_INC)/x86_64 -DGNU_EFI_USE_MS_ABI

# ---- Fetch -----------------------------------------------------------------

# One invocation fetches both (one apt index update); a grouped target, so
# make -j runs it once. The script takes a lock and is a no-op when the trees
# are already there. Nothing depends on the script itself: a tree is fetched
# once and reused until the cache is cleared.
$(HL_TP_ZLIB_STAMP) $(HL_TP_MBEDTLS_STAMP) &:
	HIBERLOAD_CACHE='$(HL_TP_CACHE)' '$(HL_TP_FETCH)' zlib mbedtls >/dev/null

# The sources appear when the stamp is made. This rule tells make so (instead
# of "No rule to make target .../inflate.c") without making existing sources
# look out of date.
$(HL_TP_ZLIB_SRCS): | $(HL_TP_ZLIB_STAMP)
	@:
$(HL_TP_MBEDTLS_SRCS): | $(HL_TP_MBEDTLS_STAMP)
	@:

# ---- Compile ---------------------------------------------------------------

# Static pattern rules: they win over any generic %.o rule of the includer.
# Objects also depend on their stamp, so a refetch (new Debian revision after
# clearing the cache) rebuilds them even though tar restores old mtimes.
$(HL_TP_ZLIB_OBJS): $(HL_TP_OUT)/zlib/%.o: $(HL_TP_ZLIB_SRC)/%.c $(HL_TP_ZLIB_STAMP)
	@mkdir -p $(@D)
	$(EFI_CC) $(HL_TP_CFLAGS) $(EFI_ZLIB_CFLAGS) -c $< -o $@

$(HL_TP_MBEDTLS_OBJS): $(HL_TP_OUT)/mbedtls/%.o: $(HL_TP_MBEDTLS_SRC)/library/%.c $(HL_TP_MBEDTLS_STAMP)
	@mkdir -p $(@D)
	$(EFI_CC) $(HL_TP_CFLAGS) $(EFI_MBEDTLS_CFLAGS) -c $< -o $@

$(HL_TP_LIBC_OBJS): $(HL_TP_LIBC_OUT)/%.o: $(HL_TP_ROOT)/efi/libc/%.c
	@mkdir -p $(@D)
	$(EFI_CC) $(HL_TP_LIBC_CFLAGS) -c $< -o $@

# ---- Archive ---------------------------------------------------------------

# Recreated from scratch (no stale members when the module list changes);
# D: deterministic (zero timestamps and owners).
$(HL_TP_LIBZ): $(HL_TP_ZLIB_OBJS)
$(HL_TP_LIBMBEDCRYPTO): $(HL_TP_MBEDTLS_OBJS)
$(HL_TP_LIBEFIC): $(HL_TP_LIBC_OBJS)
$(HL_TP_LIBZ) $(HL_TP_LIBMBEDCRYPTO) $(HL_TP_LIBEFIC):
	@mkdir -p $(@D)
	@rm -f $@ $@.tmp
	$(AR) rcsD $@.tmp $^
	@mv $@.tmp $@

$(HL_TP_LIBEFI): $(HL_TP_GNUEFI_LIBDIR)/libefi.a
	@mkdir -p $(@D)
	$(HL_TP_OBJCOPY) --weaken-symbol=memcpy --weaken-symbol=memset $< $@.tmp
	mv $@.tmp $@

.PHONY: efi-third-party
efi-third-party: $(EFI_THIRD_PARTY_LIBS)

-include $(HL_TP_ZLIB_OBJS:.o=.d) $(HL_TP_MBEDTLS_OBJS:.o=.d) $(HL_TP_LIBC_OBJS:.o=.d)
