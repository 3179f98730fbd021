# hiberload — top-level build.
#
#   make          build hiberload.efi, the host tools and the host tests
#   make check    build, then run every test (host, fuzz smoke, OVMF)
#   make demo     build, then boot hiberload on OVMF under QEMU and narrate
#
# Everything is built out of tree under $(BUILD). Third-party sources (zlib,
# mbedTLS) are fetched from Debian at build time into $(HIBERLOAD_CACHE),
# outside the clone, and never committed. Missing Debian packages are
# installed by the targets themselves (scripts/install-deps.sh).

BUILD ?= build
HIBERLOAD_CACHE ?= /var/cache/hiberload
export HIBERLOAD_CACHE

VERSION := $(shell cat VERSION)
# `make V=1` shows full command lines.
ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @echo "  $(1) $@"
endif
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

.DEFAULT_GOAL := all
.PHONY: all check demo deps test-deps host-tests efi tools fuzz check-host \
        check-fuzz clean

# ---------------------------------------------------------------- packages
# Stamps live in $(BUILD); the script itself is a cheap no-op when nothing
# is missing, so a fresh clone always runs it once.
DEPS_BUILD := $(BUILD)/.stamp-deps-build
DEPS_TEST := $(BUILD)/.stamp-deps-test

$(DEPS_BUILD): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh build
	@touch $@

$(DEPS_TEST): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh test
	@touch $@

deps: $(DEPS_BUILD)
test-deps: $(DEPS_TEST)

# ---------------------------------------------------------------- sources
COMMON_SRCS := $(sort $(wildcard common/*.cpp))
EFI_SRCS := $(sort $(wildcard efi/*.cpp kernel-loader/*.cpp))
EFI_ASM_SRCS := $(sort $(wildcard efi/*.S))
TOOLS_LIB_SRCS := $(sort $(wildcard tools/lib/*.cpp))
TOOL_MAINS := $(sort $(wildcard tools/*.cpp))
TOOLS := $(patsubst tools/%.cpp,$(BUILD)/tools/%,$(TOOL_MAINS))
HOST_TEST_SRCS := $(sort $(wildcard host-tests/*.cpp))
FUZZ_SRCS := $(sort $(wildcard host-tests/fuzz/*.cpp))
FUZZERS := $(patsubst host-tests/fuzz/%.cpp,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

WARNINGS := -Wall -Wextra -Werror=unused-result -Werror=return-type \
            -Wno-missing-field-initializers
VERSION_FLAGS := -DHL_VERSION='"$(VERSION)"' -DHL_GIT_REV='"$(GIT_REV)"'

# ---------------------------------------------------------------- EFI target
EFI_CC := gcc
EFI_CXX := g++
EFI_LD := ld
EFI_OBJCOPY := objcopy
GNU_EFI_LIB := /usr/lib
EFI_ARCH_CFLAGS := -ffreestanding -fpic -fshort-wchar -mno-red-zone \
                   -fno-stack-protector -maccumulate-outgoing-args \
                   -fno-strict-aliasing -O2 -g0

-include mk/third-party.mk

# C++ in firmware: no exceptions, no RTTI, no thread-safe statics (no
# runtime to support them). gnu-efi's crt0 calls efi_main with the SysV ABI.
# -fno-gnu-unique and hidden visibility: C++ inline variables would
# otherwise be reached through GOT entries (R_X86_64_GLOB_DAT), which
# gnu-efi's self-relocation silently skips.
EFI_CXXFLAGS := -std=c++20 $(EFI_ARCH_CFLAGS) -fno-exceptions -fno-rtti \
                -fno-threadsafe-statics -fno-asynchronous-unwind-tables \
                -fno-gnu-unique -fvisibility=hidden \
                -DGNU_EFI_USE_MS_ABI -DHL_EFI=1 $(VERSION_FLAGS) $(WARNINGS) \
                -I. -I/usr/include/efi -I/usr/include/efi/x86_64 \
                $(EFI_ZLIB_CFLAGS) $(EFI_MBEDTLS_CFLAGS)

EFI_OBJS := $(patsubst %.cpp,$(BUILD)/efi/%.o,$(EFI_SRCS) $(COMMON_SRCS)) \
            $(patsubst %.S,$(BUILD)/efi/%.o,$(EFI_ASM_SRCS))
EFI_APP := $(BUILD)/hiberload.efi

$(BUILD)/efi/%.o: %.cpp | $(DEPS_BUILD) efi-third-party
	@mkdir -p $(@D)
	$(call quiet,CXX-EFI)
	$(Q)$(EFI_CXX) $(EFI_CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/efi/%.o: %.S | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(call quiet,AS-EFI)
	$(Q)$(EFI_CC) -fpic -c $< -o $@

# --no-undefined: a symbol that neither the app, the EFI builds of the
# libraries nor gnu-efi provides is a build error, not a crash in firmware.
$(BUILD)/hiberload.so: $(EFI_OBJS) $(EFI_THIRD_PARTY_LIBS)
	$(call quiet,LD-EFI)
	$(Q)$(EFI_LD) -nostdlib -znocombreloc -T $(GNU_EFI_LIB)/elf_x86_64_efi.lds \
	  -shared -Bsymbolic --no-undefined -L$(GNU_EFI_LIB) \
	  $(GNU_EFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJS) \
	  --start-group $(EFI_THIRD_PARTY_LIBS) -lefi -lgnuefi --end-group \
	  $(shell $(EFI_CC) -print-libgcc-file-name) -o $@
	@# gnu-efi's _relocate applies R_X86_64_RELATIVE only: refuse anything else.
	@bad=$$(readelf -rW $@ | awk '/R_X86_64_/ && $$3 != "R_X86_64_RELATIVE"' | head -5); \
	  if [ -n "$$bad" ]; then echo "$@: relocations gnu-efi cannot apply:"; echo "$$bad"; rm -f $@; exit 1; fi

$(EFI_APP): $(BUILD)/hiberload.so
	$(Q)$(EFI_OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	  -j .rela -j .reloc --target=efi-app-x86_64 --subsystem=10 $< $@
	@echo "built $@ ($$(stat -c %s $@) bytes)"

efi: $(EFI_APP)

# ---------------------------------------------------------------- host side
HOST_CXX := g++
HOST_CXXFLAGS := -std=c++20 -O2 -g $(WARNINGS) -I. -DHL_HOST=1 $(VERSION_FLAGS)
HOST_LIBS := -lmbedcrypto -lz -lpthread

HOST_COMMON_OBJS := $(patsubst %.cpp,$(BUILD)/host/%.o,$(COMMON_SRCS))
HOST_TOOLS_LIB_OBJS := $(patsubst %.cpp,$(BUILD)/host/%.o,$(TOOLS_LIB_SRCS))
HOST_TEST_OBJS := $(patsubst %.cpp,$(BUILD)/host/%.o,$(HOST_TEST_SRCS))
HOST_TESTS := $(BUILD)/host-tests/hiberload-tests

$(BUILD)/host/%.o: %.cpp | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(call quiet,CXX)
	$(Q)$(HOST_CXX) $(HOST_CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tools/%: $(BUILD)/host/tools/%.o $(HOST_TOOLS_LIB_OBJS) $(HOST_COMMON_OBJS)
	@mkdir -p $(@D)
	$(call quiet,LINK)
	$(Q)$(HOST_CXX) -o $@ $^ $(HOST_LIBS)

$(HOST_TESTS): $(HOST_TEST_OBJS) $(HOST_TOOLS_LIB_OBJS) $(HOST_COMMON_OBJS)
	@mkdir -p $(@D)
	$(call quiet,LINK)
	$(Q)$(HOST_CXX) -o $@ $^ $(HOST_LIBS)

# Test fixtures for the OVMF tests: host programs and the resume payload.
OVMF_FIXTURE_SRCS := $(sort $(wildcard host-tests/ovmf/*.cpp))
OVMF_FIXTURES := $(patsubst host-tests/ovmf/%.cpp,$(BUILD)/host-tests/%,$(subst _,-,$(OVMF_FIXTURE_SRCS))) \
                 $(BUILD)/host-tests/resume-payload.bin

$(BUILD)/host-tests/synthetic-core: $(BUILD)/host/host-tests/ovmf/synthetic_core.o $(HOST_TOOLS_LIB_OBJS) $(HOST_COMMON_OBJS)
	@mkdir -p $(@D)
	$(call quiet,LINK)
	$(Q)$(HOST_CXX) -o $@ $^ $(HOST_LIBS)

$(BUILD)/host-tests/resume-payload.bin: host-tests/ovmf/resume_payload.S
	@mkdir -p $(@D)
	$(call quiet,AS)
	$(Q)$(EFI_CC) -c $< -o $@.o && $(EFI_OBJCOPY) -O binary -j .text $@.o $@

tools: $(TOOLS)
host-tests: $(HOST_TESTS) $(OVMF_FIXTURES)

# ---------------------------------------------------------------- fuzzers
# libFuzzer + ASan + UBSan (clang from Debian). Each target links the whole
# common/ library; `make check` runs each for a short, fixed number of runs.
FUZZ_CXX := clang++
FUZZ_CXXFLAGS := -std=c++20 -O1 -g -I. -DHL_HOST=1 $(VERSION_FLAGS) \
                 -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_RUNS ?= 20000
# common/ and tools/lib/ (a fuzzer may build its inputs with the writer),
# compiled once with the sanitizers and coverage instrumentation.
FUZZ_LIB_OBJS := $(patsubst %.cpp,$(BUILD)/fuzz/obj/%.o,$(COMMON_SRCS) $(TOOLS_LIB_SRCS))

$(BUILD)/fuzz/obj/%.o: %.cpp | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(call quiet,CXX-FUZZ)
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: host-tests/fuzz/%.cpp $(FUZZ_LIB_OBJS) | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(call quiet,FUZZ)
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(HOST_LIBS)

fuzz: $(FUZZERS)

# ---------------------------------------------------------------- aggregate
all: $(EFI_APP) $(TOOLS) $(HOST_TESTS) $(OVMF_FIXTURES)

check-host: $(HOST_TESTS)
	$(HOST_TESTS)

check-fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do \
	  echo "fuzz: $$(basename $$f), $(FUZZ_RUNS) runs"; \
	  mkdir -p $(BUILD)/fuzz/corpus/$$(basename $$f); \
	  $$f -runs=$(FUZZ_RUNS) -max_total_time=60 -len_control=0 -max_len=65536 \
	    $(BUILD)/fuzz/corpus/$$(basename $$f) \
	    >$(BUILD)/fuzz/$$(basename $$f).log 2>&1 \
	    || { tail -40 $(BUILD)/fuzz/$$(basename $$f).log; exit 1; }; \
	done

check: all | $(DEPS_TEST)
	HL_BUILD=$(BUILD) scripts/check.sh

demo: all | $(DEPS_TEST)
	HL_BUILD=$(BUILD) scripts/demo.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
