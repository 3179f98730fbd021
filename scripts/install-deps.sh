#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only when some are missing.
#
#   scripts/install-deps.sh build   # compilers, gnu-efi, zlib, mbedTLS, Catch2
#   scripts/install-deps.sh test    # + QEMU, OVMF, disk tools, clang fuzzers
#   scripts/install-deps.sh kernel  # + what building and running test kernels needs
#
# Checking is cheap (one dpkg-query), so make calls this on every build.
set -euo pipefail

build_pkgs=(g++ make gnu-efi zlib1g-dev libmbedtls-dev catch2 dpkg-dev
            debian-archive-keyring python3 xz-utils bzip2)
test_pkgs=(qemu-system-x86 qemu-utils ovmf mtools dosfstools gdisk clang
           libclang-rt-14-dev)
kernel_pkgs=(linux-source-6.12 bc bison flex libelf-dev libssl-dev kexec-tools
             busybox-static cpio makedumpfile efibootmgr efivar)

want=()
for group in "$@"; do
  case "$group" in
    build) want+=("${build_pkgs[@]}") ;;
    test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
    kernel) want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${kernel_pkgs[@]}") ;;
    *) echo "install-deps: unknown group '$group' (build, test, kernel)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing missing Debian packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: not root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists on a fresh machine may be empty or stale: update first.
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
