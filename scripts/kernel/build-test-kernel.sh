#!/usr/bin/env bash
# build-test-kernel.sh [--jobs N] [EXTRA_FRAGMENT...]
#
# Builds the Linux kernel that hiberload's round-trip and chain-load tests
# boot, and prints the path of its bzImage as the last line on stdout (the
# only line: progress and errors go to stderr), so a caller can write
#
#     kernel=$(scripts/kernel/build-test-kernel.sh)
#
# The kernel is Debian's linux-source-6.12 configured as `make tinyconfig`
# plus scripts/kernel/test-kernel.config (plus any EXTRA_FRAGMENT, applied in
# order after it, for a variant such as a different CONFIG_PHYSICAL_START).
# After `make olddefconfig` every option of every fragment is checked in the
# resulting .config; the build fails listing the options that did not take
# effect (Kconfig drops an option whose dependencies are off without a word).
#
# Cache, outside the clone (see docs/testing-kernels.md):
#
#   ${HIBERLOAD_CACHE:-/var/cache/hiberload}/kernel/
#     bzImage-KEY        the result; KEY = hash of the fragments, the
#     config-KEY         linux-source package version, the compiler version
#     build-KEY.log      and this script; .config and make's output beside it
#     src-VERSION/       the unpacked linux-source tree (never built in)
#     obj-VERSION-FLAVOUR/  the out-of-tree build directory (make O=...),
#                        kept so that a changed fragment rebuilds incrementally
#     .lock              flock: concurrent calls build once
#
# A warm cache costs a package query and a few hashes (well under a second)
# and takes no lock. A cold machine installs the packages it needs (root
# only), unpacks the source and builds: a few minutes on two cores.
#
# Environment:
#   HIBERLOAD_CACHE        cache root (default /var/cache/hiberload)
#   HIBERLOAD_KERNEL_JOBS  make -j value (default: nproc; --jobs overrides)

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
readonly SCRIPT_DIR SCRIPT_PATH
readonly BASE_FRAGMENT="$SCRIPT_DIR/test-kernel.config"
readonly CACHE="${HIBERLOAD_CACHE:-/var/cache/hiberload}"
readonly KCACHE="$CACHE/kernel"
readonly SOURCE_PACKAGE=linux-source-6.12
readonly SOURCE_TARBALL=/usr/src/linux-source-6.12.tar.xz
# Everything the build needs besides the source package.
readonly BUILD_PACKAGES=(bc bison flex libelf-dev libssl-dev build-essential xz-utils)
# Fixed values for the strings Kbuild would take from the clock and the host:
# the same inputs give the same `uname -v` on every machine.
readonly BUILD_TIMESTAMP="2024-01-01 00:00:00 UTC"

prog=${0##*/}
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$SCRIPT_PATH" >&2
    exit "${1:-2}"
}

# ---------------------------------------------------------------- arguments
jobs="${HIBERLOAD_KERNEL_JOBS:-$(nproc)}"
fragments=("$BASE_FRAGMENT")
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage 0 ;;
        -j|--jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
        --jobs=*) jobs=${1#--jobs=}; shift ;;
        -*) usage ;;
        *) [ -r "$1" ] || die "cannot read fragment '$1'"
           fragments+=("$(readlink -f -- "$1")"); shift ;;
    esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive number, not '$jobs'"
[ -r "$BASE_FRAGMENT" ] || die "missing $BASE_FRAGMENT"

# The build directory is shared by every build of the same flavour, so that
# editing a fragment rebuilds incrementally while variants do not evict each
# other's objects.
flavour=default
for f in "${fragments[@]:1}"; do
    name=$(basename "$f" .config)
    flavour+="+${name//[^A-Za-z0-9_.-]/_}"
done

# ---------------------------------------------------------------- helpers
package_version() {
    dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
        sed -n 's/^install ok installed //p'
}

# Installs the packages that are missing; quiet no-op when none is.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        [ -n "$(package_version "$pkg")" ] || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] ||
        die "missing packages (run: sudo apt-get install -y ${missing[*]})"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine's package lists may be empty: update once, then retry.
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

# cache_key: depends on everything that decides the bytes of the bzImage
# that we control: the fragments, the kernel source, the compiler, and this
# script (how it configures and builds).
cache_key() {
    {
        echo "hiberload test kernel"
        echo "source $SOURCE_PACKAGE $source_version"
        echo "compiler $(gcc --version 2>/dev/null | head -n 1)"
        echo "script $(sha256sum < "$SCRIPT_PATH")"
        local f
        for f in "${fragments[@]}"; do echo "fragment $(sha256sum < "$f")"; done
    } | sha256sum | cut -c1-16
}

# missing_options CONFIG FRAGMENT...: prints the options the fragments ask
# for that CONFIG does not have, one "CONFIG_X: wanted VALUE, got VALUE" line
# each. When fragments disagree the last one wins, as in the merge. A line
# "# CONFIG_X is not set" is satisfied when CONFIG does not set CONFIG_X.
missing_options() {
    local config=$1 line name got
    shift
    local -A want=()
    local -a order=()
    while IFS= read -r line; do
        case "$line" in
            CONFIG_*=*) name=${line%%=*}; [ -n "${want[$name]+set}" ] || order+=("$name")
                        want[$name]=${line#*=} ;;
            "# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *}
                        [ -n "${want[$name]+set}" ] || order+=("$name"); want[$name]=n ;;
        esac
    done < <(cat -- "$@")
    for name in "${order[@]}"; do
        got=$(sed -n "s/^$name=//p" "$config")
        [ -n "$got" ] || got=n
        [ "$got" = "${want[$name]}" ] || printf '  %s: wanted %s, got %s\n' "$name" "${want[$name]}" "$got"
    done
}

# ---------------------------------------------------------------- warm path
source_version=$(package_version "$SOURCE_PACKAGE")
if [ -n "$source_version" ]; then
    key=$(cache_key)
    if [ -s "$KCACHE/bzImage-$key" ]; then
        echo "$KCACHE/bzImage-$key"
        exit 0
    fi
fi

# ---------------------------------------------------------------- cold path
ensure_packages "$SOURCE_PACKAGE" "${BUILD_PACKAGES[@]}"
source_version=$(package_version "$SOURCE_PACKAGE")
[ -r "$SOURCE_TARBALL" ] || die "$SOURCE_PACKAGE is installed but $SOURCE_TARBALL is missing"
key=$(cache_key)
readonly bzimage="$KCACHE/bzImage-$key"
readonly src="$KCACHE/src-$source_version"
readonly obj="$KCACHE/obj-$source_version-$flavour"
readonly build_log="$KCACHE/build-$key.log"

mkdir -p "$KCACHE"
exec 9> "$KCACHE/.lock"
if ! flock -n 9; then
    log "another build holds $KCACHE/.lock; waiting"
    flock 9
fi
# Whoever held the lock may have built this very kernel.
if [ -s "$bzimage" ]; then
    echo "$bzimage"
    exit 0
fi

start=$(date +%s)

# The source tree: unpacked once per package version, into a temporary
# directory renamed when complete, so an interrupted unpack is never used.
if [ ! -e "$src/.hiberload-unpacked" ]; then
    log "unpacking $SOURCE_TARBALL into $src"
    rm -rf "$src" "$src.tmp"
    mkdir -p "$src.tmp"
    # The tarball holds one directory, linux-source-6.12/. (--strip-components
    # is no shortcut here: it breaks the tarball's hard links.)
    tar -xf "$SOURCE_TARBALL" -C "$src.tmp"
    top=("$src.tmp"/*)
    if [ ${#top[@]} -ne 1 ] || [ ! -f "${top[0]}/Makefile" ]; then
        die "unexpected layout of $SOURCE_TARBALL"
    fi
    touch "${top[0]}/.hiberload-unpacked"
    mv "${top[0]}" "$src"
    rmdir "$src.tmp"
fi

# Kbuild writes these into the kernel (uname -v): keep them fixed.
export KBUILD_BUILD_TIMESTAMP="$BUILD_TIMESTAMP"
export KBUILD_BUILD_USER=hiberload KBUILD_BUILD_HOST=hiberload
kmake() { make -C "$src" O="$obj" "$@"; }

mkdir -p "$obj"
log "configuring in $obj (tinyconfig + ${fragments[*]##*/})"
{
    kmake tinyconfig
    # merge_config.sh writes its temporary files into the current directory.
    (cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m .config "${fragments[@]}")
    kmake olddefconfig
} > "$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "configuration failed (log: $build_log)"; }

# Every fragment option must have survived olddefconfig.
not_applied=$(missing_options "$obj/.config" "${fragments[@]}")
if [ -n "$not_applied" ]; then
    printf '%s: error: options that did not take effect (a dependency is off?):\n%s\n' \
        "$prog" "$not_applied" >&2
    die "fix the fragment; resulting config: $obj/.config"
fi

log "building bzImage with make -j$jobs (log: $build_log)"
if ! kmake -j"$jobs" bzImage >> "$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    die "kernel build failed (log: $build_log)"
fi

# Publish atomically: a reader never sees a partial bzImage.
cp "$obj/.config" "$KCACHE/config-$key"
cp "$obj/arch/x86/boot/bzImage" "$bzimage.tmp"
mv "$bzimage.tmp" "$bzimage"
log "built $(stat -c %s "$bzimage") bytes in $(( $(date +%s) - start )) s"
echo "$bzimage"
