#!/usr/bin/env bash
# Runs every test suite of the project, in order of cost, and ends with one
# line "check: N passed, M failed" (suites, not assertions; each suite prints
# its own details above). Called by `make check` after the build.
#
# Suites: the Catch2 host tests, a fuzz smoke run of every parser, then every
# scripts/tests/*.sh (OVMF tests under QEMU and tool round trips). Logs of
# the OVMF tests are under $HL_BUILD/logs.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${HL_BUILD:-build}
export HL_BUILD=$BUILD

passed=0
failed=0
failed_names=()
started=$(date +%s)

run_suite() {
  local name=$1
  shift
  local t0
  t0=$(date +%s)
  echo
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: passed in $(( $(date +%s) - t0 )) s"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    echo "=== $name: FAILED after $(( $(date +%s) - t0 )) s"
  fi
}

run_suite "host tests (Catch2)" "$BUILD/host-tests/hiberload-tests"
run_suite "fuzz smoke runs" make --no-print-directory -s check-fuzz BUILD="$BUILD"
for test in scripts/tests/*.sh; do
  [[ -e "$test" ]] || continue
  run_suite "$(basename "$test" .sh)" bash "$test"
done

echo
echo "check finished in $(( $(date +%s) - started )) s"
for name in "${failed_names[@]+"${failed_names[@]}"}"; do echo "failed: $name"; done
echo "check: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
