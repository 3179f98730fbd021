#!/usr/bin/env bash
# fetch-debian-kernel.sh
#
# Fetches Debian's packaged kernel (the package linux-image-amd64 depends on,
# 6.1 on bookworm) from Debian's archive with `apt-get download` and unpacks
# what the chain-load tests need into a cache directory, without installing
# anything (the host's /boot and /lib/modules stay untouched). Prints that
# directory as the last line on stdout (progress and errors go to stderr):
#
#   ${HIBERLOAD_CACHE:-/var/cache/hiberload}/debian-kernel/VERSION/
#     vmlinuz        the EFI-stub bzImage
#     config         its .config
#     release        `uname -r` of the kernel (e.g. 6.1.0-56-amd64)
#     modules/       virtio_ring virtio virtio_pci_modern_dev
#                    virtio_pci_legacy_dev virtio_pci virtio_blk (.ko; Debian
#                    builds virtio-blk as modules), and modules.order listing
#                    them in load order
#
# A warm cache costs one apt-cache query. apt-get update is run once when the
# package lists do not know linux-image-amd64 yet.
set -euo pipefail

prog=${0##*/}
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

readonly CACHE="${HIBERLOAD_CACHE:-/var/cache/hiberload}/debian-kernel"
readonly MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk)

package_of_meta() { # the linux-image-X.Y.Z-N-amd64 package linux-image-amd64 depends on
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

pkg=$(package_of_meta || true)
if [ -z "$pkg" ]; then
    log "apt-get update (the package lists do not know linux-image-amd64)"
    apt-get update -qq >&2 || die "apt-get update failed"
    pkg=$(package_of_meta || true)
fi
[ -n "$pkg" ] || die "linux-image-amd64 has no linux-image-* dependency in Debian's archive"
version=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2; exit }')
[ -n "$version" ] && [ "$version" != "(none)" ] || die "no candidate version of $pkg"
release=${pkg#linux-image-}
dir="$CACHE/$release-$version"

if [ -f "$dir/vmlinuz" ] && [ -f "$dir/modules/modules.order" ]; then
    echo "$dir"
    exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/modules/modules.order" ]; then
    echo "$dir"
    exit 0
fi

work=$(mktemp -d "$CACHE/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "downloading $pkg $version from Debian's archive"
# apt-get download writes into the current directory; _apt cannot write to a
# root-owned cache, hence the harmless "unsandboxed" warning apt prints.
(cd "$work" && apt-get download -qq "$pkg=$version" >&2 2>/dev/null) ||
    (cd "$work" && apt-get download "$pkg=$version" >&2) || die "apt-get download $pkg failed"
deb=$(ls "$work"/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || die "apt-get download produced no .deb"

mkdir -p "$work/x"
dpkg-deb --fsys-tarfile "$deb" |
    tar -x -C "$work/x" --wildcards "./boot/vmlinuz-*" "./boot/config-*" \
        "./lib/modules/*/kernel/drivers/virtio/*" "./lib/modules/*/kernel/drivers/block/virtio_blk.ko" ||
    die "unpacking $deb failed"

mkdir -p "$work/out/modules"
cp "$work/x/boot/vmlinuz-$release" "$work/out/vmlinuz"
cp "$work/x/boot/config-$release" "$work/out/config"
echo "$release" >"$work/out/release"
for m in "${MODULES[@]}"; do
    f=$(find "$work/x/lib/modules" -name "$m.ko" | head -1)
    [ -n "$f" ] || die "$pkg has no $m.ko"
    cp "$f" "$work/out/modules/"
    echo "$m.ko" >>"$work/out/modules/modules.order"
done
rm -rf "$dir"
mv "$work/out" "$dir"
log "unpacked into $dir ($(stat -c %s "$dir/vmlinuz") byte kernel)"
echo "$dir"
