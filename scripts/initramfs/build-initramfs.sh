#!/usr/bin/env bash
# build-initramfs.sh --out FILE [--init PATH] [--add-dir DIR[:GUEST_DIR]]...
#                    [--with-kexec] [--add-binary HOST_PATH[:GUEST_PATH]]...
#                    [--add-file HOST_PATH:GUEST_PATH]...
#
# Builds a gzip-compressed newc cpio archive for hiberload's test kernels and
# prints its path as the last line on stdout (the only line: progress and
# errors go to stderr).
#
#   --out FILE         the archive to write (replaced atomically)
#   --init PATH        the script or program that becomes /init
#   --add-dir DIR[:G]  copy the contents of DIR into the guest directory G
#                      (default /), symbolic links kept as links
#   --with-kexec       add kexec-tools' kexec as /sbin/kexec, with its libraries
#   --add-binary H[:G] add the host executable H as G (default /bin/NAME);
#                      if it is dynamically linked, also the shared libraries
#                      ldd lists and the dynamic loader, at their host paths
#   --add-file H:G     add the host file H as G, as it is (no libraries)
#
# Every archive has busybox (Debian's busybox-static) at /bin/busybox with a
# symbolic link for each of its applets, the usual empty mount points (/dev,
# /proc, /sys, /tmp, /run, /mnt), and must end up with an executable /init
# (from --init or from an --add-dir). Later inputs replace earlier ones at the
# same path, in this order: busybox links, --add-dir, --with-kexec,
# --add-binary, --add-file, --init.
#
# Reproducible: entries are sorted, every mtime is SOURCE_DATE_EPOCH (default
# 0), owners are root, modes are normalised to 0755 (directories and files
# executable on the host) or 0644, inode and device numbers are not stored,
# and gzip stores no name or time. The same inputs give the same bytes.
#
# Installs busybox-static, cpio and kexec-tools when missing (root only).
# The archive is a build product: generate it, never commit it.

set -euo pipefail

prog=${0##*/}
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit "${1:-2}"
}

readonly BUSYBOX=/bin/busybox
readonly KEXEC=/usr/sbin/kexec
readonly EPOCH="${SOURCE_DATE_EPOCH:-0}"

# ---------------------------------------------------------------- arguments
out="" init="" with_kexec=0
dirs=() binaries=() files=()
need_arg() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage 0 ;;
        --out) need_arg "$@"; out=$2; shift 2 ;;
        --init) need_arg "$@"; init=$2; shift 2 ;;
        --add-dir) need_arg "$@"; dirs+=("$2"); shift 2 ;;
        --with-kexec) with_kexec=1; shift ;;
        --add-binary) need_arg "$@"; binaries+=("$2"); shift 2 ;;
        --add-file) need_arg "$@"; files+=("$2"); shift 2 ;;
        *) printf '%s: unknown argument %s\n' "$prog" "$1" >&2; usage ;;
    esac
done
[ -n "$out" ] || usage
[[ "$EPOCH" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be a number of seconds"

# A guest path: absolute, normalised, and not the root itself.
guest_path() {
    local p
    p=$(realpath -m -s -- "/$1")
    [ "$p" != / ] || die "'$1' is not a valid guest file path"
    printf '%s' "$p"
}

# ---------------------------------------------------------------- packages
ensure_packages() {
    local missing=() pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [ "$status" = "install ok installed" ] || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] ||
        die "missing packages (run: sudo apt-get install -y ${missing[*]})"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}
packages=(busybox-static cpio gzip)
[ "$with_kexec" -eq 0 ] || packages+=(kexec-tools)
ensure_packages "${packages[@]}"

# ---------------------------------------------------------------- staging
root="" tmp_out=""
cleanup() { rm -rf ${root:+"$root"} ${tmp_out:+"$tmp_out"}; }
trap cleanup EXIT
root=$(mktemp -d "${TMPDIR:-/tmp}/hiberload-initramfs.XXXXXX")

# install_file HOST GUEST: copies the content of HOST (symbolic links
# followed) to GUEST, replacing whatever is there.
install_file() {
    local host=$1 guest
    guest=$(guest_path "$2")
    [ -f "$host" ] || die "no such file: $host"
    mkdir -p "$root$(dirname "$guest")"
    rm -rf "$root$guest"
    cp -L -- "$host" "$root$guest"
}

# install_libraries HOST_BINARY: the shared libraries the dynamic loader
# resolves for it (per ldd), and the loader itself, at their host paths. The
# guest has no ld.so.cache; glibc's loader finds them in its built-in
# directories (/lib/x86_64-linux-gnu, /lib64).
install_libraries() {
    local binary=$1 listing line lib
    if ! listing=$(LC_ALL=C ldd "$binary" 2>&1); then
        case "$listing" in
            *"not a dynamic executable"*|*"statically linked"*) return 0 ;;
            *) die "ldd $binary failed: $listing" ;;
        esac
    fi
    while IFS= read -r line; do
        case "$line" in
            *"not found"*) die "$binary needs a library the host lacks: ${line#"${line%%[! 	]*}"}" ;;
            *" => /"*) lib=${line#* => }; lib=${lib%% (*} ;;   # libz.so.1 => /lib/... (0x...)
            *[[:space:]]/*" (0x"*) lib=${line#"${line%%/*}"}; lib=${lib%% (*} ;;  # the loader
            *) continue ;;                                     # linux-vdso.so.1, "statically linked"
        esac
        install_file "$lib" "$lib"
    done <<< "$listing"
}

# busybox: one link per applet, at the path busybox itself reports, so no
# `busybox --install` is needed at boot.
install_file "$BUSYBOX" /bin/busybox
mapfile -t applets < <("$BUSYBOX" --list-full | grep -vx 'bin/busybox')
[ ${#applets[@]} -gt 0 ] || die "$BUSYBOX --list-full listed no applets"
(
    cd "$root"
    printf '%s\n' "${applets[@]}" | sed -n 's|/[^/]*$||p' | sort -u | xargs -r mkdir -p
    for applet in "${applets[@]}"; do ln -sfn /bin/busybox "$applet"; done
)
(cd "$root" && mkdir -p dev proc sys tmp run mnt root etc)

for spec in "${dirs[@]}"; do
    host=${spec%%:*}; guest=/
    [ "$host" = "$spec" ] || guest=$(realpath -m -s -- "/${spec#*:}")
    [ -d "$host" ] || die "--add-dir: no such directory: $host"
    mkdir -p "$root$guest"
    # Copy the contents, links as links; the caller's tree wins over links.
    (cd "$host" && find . -mindepth 1 ! -type d -print0) |
        while IFS= read -r -d '' f; do rm -rf "${root:?}$guest/${f#./}"; done
    cp -a --no-preserve=ownership -- "$host/." "$root$guest/"
done

if [ "$with_kexec" -eq 1 ]; then
    install_file "$KEXEC" /sbin/kexec
    install_libraries "$KEXEC"
fi

for spec in "${binaries[@]}"; do
    host=${spec%%:*}
    if [ "$host" = "$spec" ]; then guest=/bin/$(basename "$host"); else guest=${spec#*:}; fi
    [ -x "$host" ] || die "--add-binary: not an executable file: $host"
    install_file "$host" "$guest"
    install_libraries "$host"
done

for spec in "${files[@]}"; do
    [[ "$spec" == *:* ]] || die "--add-file wants HOST_PATH:GUEST_PATH, not '$spec'"
    install_file "${spec%%:*}" "${spec#*:}"
done

[ -z "$init" ] || install_file "$init" /init
[ -f "$root/init" ] || die "no /init: give --init, or an --add-dir that holds init"
chmod 0755 "$root/init"
[ -x "$init" ] || [ -z "$init" ] || log "note: $init is not executable on the host; /init is 0755 anyway"

# ---------------------------------------------------------------- archive
# Normalise what the host's umask, file system and clock would make vary.
find "$root" -mindepth 1 -type d -exec chmod 0755 {} +
find "$root" -mindepth 1 -type f -perm /0111 -exec chmod 0755 {} +
find "$root" -mindepth 1 -type f ! -perm /0111 -exec chmod 0644 {} +
find "$root" -mindepth 1 -exec touch -h -d "@$EPOCH" {} +

mkdir -p "$(dirname "$out")"
tmp_out=$(mktemp "$out.XXXXXX")
(
    cd "$root"
    find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
        cpio --create --null --format=newc --reproducible --owner=0:0 --quiet
) | gzip -9 -n > "$tmp_out" || die "creating the archive failed"
chmod 0644 "$tmp_out"
mv "$tmp_out" "$out"
tmp_out=""

log "wrote $out: $(stat -c %s "$out") bytes, $(find "$root" -mindepth 1 | wc -l) entries"
echo "$out"
