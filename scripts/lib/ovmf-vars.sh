# shellcheck shell=bash
# EFI variables of a test machine, set from the host before it powers on
# (scripts/ovmf-vars.py edits the machine's private OVMF_VARS.fd copy).
#
#   source scripts/lib/harness.sh
#   source scripts/lib/ovmf-vars.sh
#   hl_set_config M $'version=1\nscratch=0x2000000+256M\n'
#   hl_get_config M             # prints the variable's text
#   hl_delete_config M
#
# The machine must not be running: the firmware owns the store while it runs.

_HL_OVMF_VARS_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/ovmf-vars.py
HL_VENDOR_GUID=7046435b-270f-4f8c-b50c-ec76266272b9

_hl_vars_file() { # NAME -> the machine's OVMF_VARS.fd, if it is not running
	local vars
	vars=$(hl_machine_conf "${1:-}" HL_M_VARS) || return 1
	if hl_machine_running "$1"; then
		printf 'harness: ERROR: machine %s is running: not editing its variables\n' "$1" >&2
		return 1
	fi
	printf '%s\n' "$vars"
}

# hl_set_variable NAME VARIABLE GUID TEXT [ATTRIBUTES]
hl_set_variable() {
	local vars
	vars=$(_hl_vars_file "${1:-}") || return 1
	python3 "$_HL_OVMF_VARS_PY" set "$vars" "${2:?variable}" "${3:?guid}" --text "${4-}" \
		--attributes "${5:-0x7}"
}

# hl_set_config NAME TEXT -- HiberloadConfig (docs/configuration.md), NV+BS+RT
hl_set_config() { hl_set_variable "${1:-}" HiberloadConfig "$HL_VENDOR_GUID" "${2-}" 0x7; }

# hl_get_config NAME -- prints HiberloadConfig's text; status 1 when not set
hl_get_config() {
	local vars
	vars=$(hl_machine_conf "${1:-}" HL_M_VARS) || return 1
	python3 "$_HL_OVMF_VARS_PY" get "$vars" HiberloadConfig "$HL_VENDOR_GUID"
}

# hl_delete_config NAME
hl_delete_config() {
	local vars
	vars=$(_hl_vars_file "${1:-}") || return 1
	python3 "$_HL_OVMF_VARS_PY" delete "$vars" HiberloadConfig "$HL_VENDOR_GUID"
}
