#!/usr/bin/env bash
# productive-k3s-core: runs one lifecycle phase of an add-on script.
#
#   bash ../../scripts/pk3s-phase.sh PHASE SCRIPT [ARG...]
#
# from the package root (<run>/addons/<name>/). PHASE is configure, install,
# validate, clean or backup; SCRIPT the package-relative script.
#
# A dual-mode script (one that defines pk3s_<name>_<PHASE> or
# pk3s_addon_<PHASE>, <name> with - as _) is sourced after the runtime
# library, then that function is called (the add-on specific name first):
#   configure OUTPUT_FILE  pk3s_..._configure action OUTPUT_FILE, then, when
#                          no *_ACTION answer of the action phase is other
#                          than `install`, pk3s_..._configure details OUTPUT_FILE
#   install, clean         pk3s_..._<phase>
#   validate               pk3s_..._validate; fails when a check was
#                          recorded with record_fail (or the function fails)
#   backup OUTPUT_DIR      pk3s_..._backup OUTPUT_DIR
# Any other script is run as it is: bash SCRIPT [ARG...].
set -uo pipefail

__pk3s_phase="${1:?usage: pk3s-phase.sh PHASE SCRIPT [ARG...]}"
__pk3s_script="${2:?usage: pk3s-phase.sh PHASE SCRIPT [ARG...]}"
shift 2
__pk3s_name="${PK3S_ADDON_NAME:?PK3S_ADDON_NAME is not set}"
__pk3s_specific="pk3s_${__pk3s_name//-/_}_${__pk3s_phase}"
__pk3s_generic="pk3s_addon_${__pk3s_phase}"

if [[ ! -f "${__pk3s_script}" ]]; then
  printf '[ERROR] %s: no such script in the package\n' "${__pk3s_script}" >&2
  exit 2
fi

__pk3s_defines='^[[:space:]]*(function[[:space:]]+)?('"${__pk3s_specific}|${__pk3s_generic}"')[[:space:]]*(\(\))?[[:space:]]*(\{.*)?$'
if ! grep -Eq -- "${__pk3s_defines}" "${__pk3s_script}"; then
  exec bash "${__pk3s_script}" "$@"
fi

# shellcheck source=addon-host-runtime.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/addon-host-runtime.sh"

if [[ "${__pk3s_phase}" == validate ]]; then set -uo pipefail; else set -euo pipefail; fi
if [[ "${__pk3s_phase}" == backup ]]; then umask 077; fi
# shellcheck source=/dev/null
source "./${__pk3s_script#./}"

if declare -F "${__pk3s_specific}" >/dev/null; then
  __pk3s_fn="${__pk3s_specific}"
elif declare -F "${__pk3s_generic}" >/dev/null; then
  __pk3s_fn="${__pk3s_generic}"
else
  err "${__pk3s_script} defines neither ${__pk3s_specific} nor ${__pk3s_generic} once sourced"
  exit 2
fi

case "${__pk3s_phase}" in
  configure)
    __pk3s_out="${1:?configure needs OUTPUT_FILE}"
    "${__pk3s_fn}" action "${__pk3s_out}"
    # The action phase's answers, as the details phase sees them.
    # shellcheck source=/dev/null
    source "${__pk3s_out}"
    if [[ -n "${PK3S_CONFIGURE_ANSWERS:-}" && -f "${PK3S_CONFIGURE_ANSWERS}" ]]; then
      while IFS= read -r -d '' __pk3s_key && IFS= read -r -d '' __pk3s_value; do
        if [[ "${__pk3s_key}" == *_ACTION && "${__pk3s_value}" != install ]]; then
          log "configure answered ${__pk3s_key}=${__pk3s_value}: not asking for details"
          exit 0
        fi
      done <"${PK3S_CONFIGURE_ANSWERS}"
    fi
    "${__pk3s_fn}" details "${__pk3s_out}"
    ;;
  validate)
    "${__pk3s_fn}" "$@"
    __pk3s_status=$?
    printf '[INFO] validate: %s failed, %s warning(s)\n' "${PK3S_VALIDATE_FAILURES}" "${PK3S_VALIDATE_WARNINGS}"
    if ((PK3S_VALIDATE_FAILURES > 0)); then exit 1; fi
    exit "${__pk3s_status}"
    ;;
  *)
    "${__pk3s_fn}" "$@"
    ;;
esac
