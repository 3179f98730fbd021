#!/usr/bin/env bash
# First OVMF test: the real hiberload.efi boots under OVMF (QEMU, q35, TCG),
# prints its banner and version, reports that its configuration variable is
# absent on a fresh variable store and what it would do, and runs the self-test
# of its EFI builds of mbedTLS and zlib against vectors computed here, on the
# host, at test time. A second boot with a deliberately wrong expected digest
# must report FAIL: proof that the self-test can fail.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/scripts/lib/harness.sh"
source "$repo/scripts/lib/testlib.sh"
trap hl_cleanup EXIT

BUILD=${HL_BUILD:-$repo/build}
EFI=$BUILD/hiberload.efi
VERSION=$(cat "$repo/VERSION")
M=ovmf-selftest
tl_begin ovmf-selftest
[[ -f $EFI ]] || { echo "ovmf-selftest: $EFI not built (run make)"; exit 1; }
hl_require_tools

work=$(mktemp -d)
trap 'hl_cleanup; rm -rf -- "$work"' EXIT

# --- vectors, computed on the host now ------------------------------------
# SHA-256: the FIPS 180-2 "abc" vector, digested by sha256sum.
sha_input=abc
sha_expect=$(printf '%s' "$sha_input" | sha256sum | cut -d' ' -f1)
# Inflate: 1 MiB of mixed content (text, zeros, pseudo-random bytes from this
# run's seed), deflated by Python's zlib; the firmware must inflate it to
# exactly these bytes.
python3 - "$work" <<'PY'
import hashlib, os, sys, zlib
work = sys.argv[1]
seed = os.urandom(16)
parts, n = [], 0
while n < 1 << 20:
    block = hashlib.sha256(seed + n.to_bytes(8, "little")).digest()
    piece = [b"hiberload self-test " * 8, bytes(512), block * 4][(n >> 9) % 3]
    parts.append(piece); n += len(piece)
raw = b"".join(parts)[: 1 << 20]
open(os.path.join(work, "selftest.z"), "wb").write(zlib.compress(raw, 6))
open(os.path.join(work, "vector"), "w").write(f"{len(raw)} {hashlib.sha256(raw).hexdigest()}\n")
PY
read -r inflate_size inflate_sha <"$work/vector"

write_test_conf() { # EXPECTED-SHA256-OF-abc
  cat >"$work/test.conf" <<CONF
# Written by scripts/tests/ovmf-selftest.sh: test machines only.
exit=isa-debug-exit
selftest=1
selftest.sha256.input=$sha_input
selftest.sha256.expect=$1
selftest.inflate.file=\\EFI\\hiberload\\selftest.z
selftest.inflate.size=$inflate_size
selftest.inflate.sha256=$inflate_sha
CONF
  hl_esp_put "$M" "$work/test.conf" 'EFI/hiberload/test.conf'
}

# --- the machine -----------------------------------------------------------
hl_machine_create "$M" --mem 512 >/dev/null
hl_esp_put "$M" "$EFI" 'EFI/BOOT/BOOTX64.EFI'
hl_esp_put "$M" "$EFI" 'EFI/hiberload/hiberload.efi'
hl_esp_put "$M" "$work/selftest.z" 'EFI/hiberload/selftest.z'
write_test_conf "$sha_expect"

# --- boot 1: everything right ------------------------------------------------
hl_boot "$M" --timeout 120 --expect exit:0x10 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "QEMU exited through isa-debug-exit with PASS (0x10)" test "$verdict" -eq 0
tl_log_has "banner names hiberload and its version $VERSION" "$log" "hiberload: hiberload $VERSION \\([0-9a-f]+\\), firmware-side resume"
tl_log_has "the firmware is named" "$log" 'hiberload: firmware: EDK II'
tl_log_has "the absent HiberloadConfig variable is reported" "$log" \
  'no configuration: EFI variable HiberloadConfig-7046435b-270f-4f8c-b50c-ec76266272b9 is not set'
tl_log_has "it says it uses the defaults and how to configure" "$log" "unconfigured: using the defaults; run 'hiberload install'"
tl_log_has "it says what it would do" "$log" 'next: would look for a hibernation image, else boot \\EFI\\hiberload\\vmlinuz \(missing on the ESP\)'
tl_log_has "SHA-256 in firmware equals sha256sum's" "$log" "self-test: SHA-256 \\(mbedTLS\\): $sha_expect ok"
tl_log_has "inflate in firmware produced $inflate_size bytes" "$log" "self-test: inflate \\(zlib\\): [0-9]+ -> $inflate_size bytes"
tl_log_has "inflated bytes hash to the host's value" "$log" "SHA-256 of the inflated stream: $inflate_sha ok"
tl_log_lacks "no failure reported" "$log" 'FAILED'

# --- boot 2 (power-on again, same disk and vars): a wrong expectation --------
wrong=$(printf '%s' "$sha_expect" | tr '0-9a-f' '1-9a-f0')
write_test_conf "$wrong"
hl_boot "$M" --timeout 120 --expect exit:0x11 && verdict=0 || verdict=$?
log=$HL_LAST_LOG
tl_check "a wrong expected digest makes the self-test FAIL (0x11)" test "$verdict" -eq 0
tl_log_has "the mismatch is explained" "$log" "SELF-TEST FAILED: SHA-256 \\(mbedTLS\\): got $sha_expect, expected $wrong"

echo "ovmf-selftest: QEMU command line: $(cat "$log.cmd" 2>/dev/null || echo '?')"
tl_finish
