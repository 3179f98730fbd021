#!/usr/bin/env bash
# fetch-debian-source.sh PACKAGE...
#
# Fetches Debian source packages (by *source* package name, e.g. "mbedtls",
# "zlib") into a cache outside the repository, verifies every file against
# the .dsc, and unpacks each with dpkg-source -x (which applies Debian's
# patches, security fixes included) into a stable directory:
#
#     ${HIBERLOAD_CACHE:-/var/cache/hiberload}/src/PACKAGE/
#
# The path of each unpacked tree is printed on stdout, one per line; progress
# and errors go to stderr.
#
# Third-party sources are never committed to the hiberload repository; this
# script is how the build gets them (see TECHNICAL-NOTES, "Third-party sources
# for the EFI binary").
#
# Trust chain: apt verifies the suite's InRelease with the Debian archive
# keyring, the Sources index it covers gives the .dsc's SHA-256, and the
# .dsc's Checksums-Sha256 field gives the SHA-256 of every other file. We check
# the last two links ourselves (apt already checked them while downloading,
# but the files sit in a cache that may be reused for a long time).
#
# Idempotent: a tree whose stamp file exists is left alone, without taking the
# lock or touching the network, so a second run is a quick no-op. A flock on
# the cache serialises concurrent runs (two make processes, make -j).
#
# Environment:
#   HIBERLOAD_CACHE          cache root (default /var/cache/hiberload)
#   HIBERLOAD_DEBIAN_MIRROR  archive URL (default http://deb.debian.org/debian)
#   HIBERLOAD_DEBIAN_SUITE   suite (default bookworm)

set -euo pipefail

readonly CACHE="${HIBERLOAD_CACHE:-/var/cache/hiberload}"
readonly SRC="$CACHE/src"
readonly APTDIR="$CACHE/apt"            # private apt config, lists and cache
readonly DLDIR="$SRC/download"          # .dsc and tarballs as downloaded
readonly MIRROR="${HIBERLOAD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly SUITE="${HIBERLOAD_DEBIAN_SUITE:-bookworm}"
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Written last into a finished tree; its presence means "unpacked and verified".
readonly STAMP_NAME=.hiberload-fetched

prog=${0##*/}
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

if [ $# -eq 0 ]; then
    printf 'usage: %s PACKAGE...\n' "$prog" >&2
    exit 2
fi

# Source package names per Debian policy; this also keeps names from acting
# as paths ("../x") when used as directory names below.
for pkg in "$@"; do
    [[ $pkg =~ ^[a-z0-9][a-z0-9.+-]+$ ]] || die "not a Debian source package name: '$pkg'"
done

# Packages still to fetch (no stamp yet).
pending() {
    local pkg
    for pkg in "$@"; do
        [ -f "$SRC/$pkg/$STAMP_NAME" ] || printf '%s\n' "$pkg"
    done
}

# ---- fast path: everything already there --------------------------------
if [ -z "$(pending "$@")" ]; then
    for pkg in "$@"; do printf '%s\n' "$SRC/$pkg"; done
    exit 0
fi

# ---- slow path ------------------------------------------------------------
mkdir -p "$SRC" "$DLDIR" "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" \
    || die "cannot create cache directories under $CACHE (set HIBERLOAD_CACHE?)"

exec 9>"$SRC/.lock"
if ! flock -n 9; then
    log "waiting for another fetch holding $SRC/.lock"
    flock 9
fi

# Another process may have done the work while we waited for the lock.
mapfile -t todo < <(pending "$@")

tmpdirs=()
cleanup() { local d; for d in "${tmpdirs[@]}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT

# Install the tools we need, only if missing (the usual case is that the
# build machine already has them).
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); install them as root"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Container images often ship without package lists: update and retry.
    apt-get install -y "${missing[@]}" >&2 \
        || { apt-get update >&2 && apt-get install -y "${missing[@]}" >&2; } \
        || die "cannot install ${missing[*]}"
}

# apt with a private, deb-src only configuration: it neither reads nor
# modifies the system's sources, lists or package cache.
apt_private() {
    apt-get -q \
        -o Dir::Etc::SourceList=/dev/null \
        -o Dir::Etc::SourceParts="$APTDIR" \
        -o Dir::State::Lists="$APTDIR/lists" \
        -o Dir::Cache="$APTDIR/cache" \
        "$@"
}

# Verifies every file listed in the Checksums-Sha256 field of DSC (which
# lives next to them): size and SHA-256. Fails loudly on any mismatch.
verify_dsc_files() {
    local dsc=$1 dir sum size name actual_sum actual_size n=0
    dir=$(dirname -- "$dsc")
    # The field's continuation lines start with a space; the field ends at the
    # next line that does not (next field, blank line, or the PGP signature).
    while read -r sum size name; do
        n=$((n + 1))
        [[ $sum =~ ^[0-9a-f]{64}$ && $size =~ ^[0-9]+$ && $name =~ ^[A-Za-z0-9][A-Za-z0-9.+~_-]*$ ]] \
            || die "malformed Checksums-Sha256 line in $dsc: '$sum $size $name'"
        [ -f "$dir/$name" ] || die "$name is listed in $dsc but was not downloaded"
        actual_size=$(stat -c %s -- "$dir/$name")
        [ "$actual_size" = "$size" ] \
            || die "SIZE MISMATCH for $dir/$name: .dsc says $size, file has $actual_size"
        actual_sum=$(sha256sum -- "$dir/$name" | cut -d' ' -f1)
        [ "$actual_sum" = "$sum" ] \
            || die "SHA-256 MISMATCH for $dir/$name: .dsc says $sum, file has $actual_sum (corrupted or tampered download; delete it and rerun)"
    done < <(awk '
        /^Checksums-Sha256:/ { infield = 1; next }
        infield && /^ /      { print; next }
        infield              { exit }
    ' "$dsc")
    [ "$n" -gt 0 ] || die "no Checksums-Sha256 field in $dsc"
    log "verified $n file(s) of $(basename -- "$dsc") against its Checksums-Sha256"
}

fetch_one() {
    local pkg=$1 uris dsc_line dsc_name dsc_sum dsc actual source version tmp

    # Exact file names and, for the .dsc, the SHA-256 from the signed Sources
    # index (apt prints: 'URI' NAME SIZE SHA256:HEX). Run in an empty
    # directory: apt leaves out files already present in the current one.
    tmp=$(mktemp -d "$SRC/.uris-$pkg.XXXXXX")
    tmpdirs+=("$tmp")
    uris=$(cd "$tmp" && apt_private source --print-uris "$pkg" 2>/dev/null) \
        || die "apt-get source --print-uris $pkg failed (is '$pkg' a source package in $SUITE?)"
    dsc_line=$(grep -m1 -E "^'[^']+\.dsc' " <<<"$uris") \
        || die "no .dsc for $pkg in $SUITE"
    read -r _ dsc_name _ dsc_sum <<<"$dsc_line"
    dsc_sum=${dsc_sum#SHA256:}
    [[ $dsc_sum =~ ^[0-9a-f]{64}$ ]] || die "no SHA-256 for $dsc_name in the Sources index"

    log "downloading $pkg ($dsc_name)"
    # apt-get source writes into the current directory and skips files that
    # are already there and correct.
    (cd "$DLDIR" && apt_private source --download-only "$pkg" >&2) \
        || die "apt-get source --download-only $pkg failed"

    dsc="$DLDIR/$dsc_name"
    actual=$(sha256sum -- "$dsc" | cut -d' ' -f1)
    [ "$actual" = "$dsc_sum" ] \
        || die "SHA-256 MISMATCH for $dsc: Sources index says $dsc_sum, file has $actual"
    verify_dsc_files "$dsc"

    # Trees are keyed by source package name: refuse binary package names
    # (apt would silently map them), so the directory is predictable.
    source=$(awk '/^Source:/ { print $2; exit }' "$dsc")
    version=$(awk '/^Version:/ { print $2; exit }' "$dsc")
    [ "$source" = "$pkg" ] || die "'$pkg' is not a source package name (its source is '$source')"

    # Unpack next to the final place, then rename: a tree that exists under
    # its stable name is always complete. dpkg-source warns that it cannot
    # verify the .dsc's OpenPGP signature (the uploader keyring is not
    # installed); that is expected, the checks above anchor trust in the
    # archive's signed index instead.
    tmp=$(mktemp -d "$SRC/.unpack-$pkg.XXXXXX")
    tmpdirs+=("$tmp")
    log "unpacking $dsc_name (dpkg-source -x applies Debian's patches)"
    dpkg-source --no-copy -x "$dsc" "$tmp/tree" >&2 || die "dpkg-source -x $dsc failed"
    printf 'package=%s\nversion=%s\ndsc=%s\ndsc_sha256=%s\n' \
        "$pkg" "$version" "$dsc_name" "$dsc_sum" >"$tmp/tree/$STAMP_NAME"
    rm -rf -- "${SRC:?}/$pkg"
    mv -- "$tmp/tree" "$SRC/$pkg"
    log "$pkg $version ready in $SRC/$pkg"
}

if [ ${#todo[@]} -gt 0 ]; then
    ensure_packages debian-archive-keyring dpkg-dev
    [ -r "$KEYRING" ] || die "$KEYRING not found"

    printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
        "$MIRROR" "$SUITE" "$KEYRING" >"$APTDIR/hiberload-src.sources"
    # apt drops privileges to _apt for downloads; let it write there, so it
    # keeps its sandbox (and does not warn).
    if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
        chown _apt "$DLDIR" "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
    fi

    # Always refresh the index before fetching: a stale index points at files
    # a point release has removed from the mirror. This costs ~2 s, and only
    # on a cold cache.
    log "updating the $SUITE deb-src index in $APTDIR"
    apt_private update >&2 || die "apt-get update (private deb-src list) failed"

    for pkg in "${todo[@]}"; do
        fetch_one "$pkg"
    done
fi

for pkg in "$@"; do printf '%s\n' "$SRC/$pkg"; done
