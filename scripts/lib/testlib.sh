# shellcheck shell=bash
# Assertions and the closing line for the project's shell tests.
#
#   source scripts/lib/testlib.sh
#   tl_begin ovmf-selftest
#   tl_check "QEMU exited with PASS" test "$HL_VERDICT_KIND" = debug-exit
#   tl_log_has "banner printed" "$log" 'hiberload 0\.1\.0'
#   tl_finish            # prints "ovmf-selftest: N passed, M failed", returns 1 on failures
#
# Each check prints one "ok"/"FAIL" line; a failed log check also prints the
# log's last lines, so a CI log alone shows what went wrong.

_TL_NAME=test
_TL_PASSED=0
_TL_FAILED=0

tl_begin() { _TL_NAME=$1; _TL_PASSED=0; _TL_FAILED=0; }
tl_pass() { _TL_PASSED=$((_TL_PASSED + 1)); printf '%s: ok   %s\n' "$_TL_NAME" "$1"; }
tl_fail() { _TL_FAILED=$((_TL_FAILED + 1)); printf '%s: FAIL %s\n' "$_TL_NAME" "$1"; }

# tl_check DESCRIPTION COMMAND... : passes when COMMAND succeeds.
tl_check() {
  local description=$1
  shift
  if "$@"; then tl_pass "$description"; else tl_fail "$description"; fi
}

# tl_log_has DESCRIPTION LOG EXTENDED-REGEX : the log has a matching line.
tl_log_has() {
  local description=$1 log=$2 regex=$3
  if grep -Eq -- "$regex" "$log" 2>/dev/null; then
    tl_pass "$description"
  else
    tl_fail "$description (no line matching /$regex/ in $log)"
    tail -n 15 "$log" 2>/dev/null | sed 's/^/    | /'
  fi
}

# tl_log_lacks DESCRIPTION LOG EXTENDED-REGEX : no line matches.
tl_log_lacks() {
  local description=$1 log=$2 regex=$3
  if grep -Eq -- "$regex" "$log" 2>/dev/null; then
    tl_fail "$description (unexpected line matching /$regex/ in $log)"
    grep -E -- "$regex" "$log" | head -3 | sed 's/^/    | /'
  else
    tl_pass "$description"
  fi
}

tl_finish() {
  printf '%s: %d passed, %d failed\n' "$_TL_NAME" "$_TL_PASSED" "$_TL_FAILED"
  [[ $_TL_FAILED -eq 0 ]]
}
