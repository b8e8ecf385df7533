#!/usr/bin/env bash
# productive-k3s-core: the host helpers of the add-on script contract.
#
# Published add-on scripts source `<scripts dir>/../../../scripts/addon-host-runtime.sh`;
# in Core's run directory that is this file (<run>/scripts/), with the
# package at <run>/addons/<name>/. It loads the runtime contract beside it
# and adds the helpers that act on the machine Core runs on: packages,
# services, directories, /etc/hosts entries, Docker registry trust.
#
# Every change to the host:
#   - needs consent: PK3S_ALLOW_HOST_CHANGES=y, which Core sets only for an
#     add-on that declares spec.impact.host and after --allow-host-changes
#     or an interactive yes; otherwise the helper fails naming what it
#     refused to do;
#   - goes through the tools found on PATH (dpkg, apt-get or dnf, systemctl,
#     sudo when not root), so it can be observed and replaced;
#   - resolves host paths (/etc/hosts, /etc/docker/certs.d, directories)
#     under PK3S_HOST_ROOT (default: empty, the real root).
# Safe to source more than once, and under `set -euo pipefail`.

# shellcheck source=runtime-contract.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/runtime-contract.sh"

pk3s_runtime_cmd_exists() { command -v "$1" >/dev/null 2>&1; }
pk3s_runtime_log() { log "$@"; }
pk3s_runtime_warn() { warn "$@"; }
pk3s_runtime_run_cmd() { run_cmd "$@"; }
pk3s_addon_kubectl() { pk3s_runtime_kubectl "$@"; }

pk3s_manifest_complete_optional() { manifest_complete_component "$1" "$2" "${3:-}"; }
pk3s_track_install_optional() { track_install "$1"; }
pk3s_track_reuse_optional() { track_reuse "$1"; }
pk3s_result_for_mode_optional() { result_for_mode "$1"; }

# The path of a host file or folder, under PK3S_HOST_ROOT.
pk3s_host_path() { printf '%s%s' "${PK3S_HOST_ROOT:-}" "$1"; }

# pk3s_host_change WHAT: succeeds when host changes are allowed for this run.
pk3s_host_change() {
  if [[ "${PK3S_ALLOW_HOST_CHANGES:-n}" == y ]]; then return 0; fi
  if [[ "${PK3S_ADDON_HOST_IMPACT:-n}" == y ]]; then
    err "refusing to ${1} on this machine: host changes were not allowed (pass --allow-host-changes)"
  else
    err "refusing to ${1} on this machine: ${PK3S_ADDON_NAME:-this add-on} does not declare spec.impact.host"
  fi
  return 1
}

# Run a command with root rights: directly as root, else through sudo.
pk3s_as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

pk3s_service_active_optional() { systemctl is-active --quiet "$1" >/dev/null 2>&1; }

pk3s_pkg_installed_optional() {
  if command -v dpkg >/dev/null 2>&1; then
    dpkg -s "$1" >/dev/null 2>&1
  elif command -v rpm >/dev/null 2>&1; then
    rpm -q "$1" >/dev/null 2>&1
  else
    return 1
  fi
}

# pk3s_ensure_packages_optional LABEL PACKAGE...: install the missing ones.
pk3s_ensure_packages_optional() {
  local label="$1" pkg
  shift
  local missing=()
  for pkg in "$@"; do
    pk3s_pkg_installed_optional "${pkg}" || missing+=("${pkg}")
  done
  if ((${#missing[@]} == 0)); then
    log "Required packages for ${label} are already installed."
    return 0
  fi
  pk3s_host_change "install the packages ${missing[*]} (${label})" || return 1
  warn "Installing missing packages for ${label}: ${missing[*]}"
  if command -v apt-get >/dev/null 2>&1; then
    pk3s_as_root apt-get update -y
    pk3s_as_root apt-get install -y "${missing[@]}"
  elif command -v dnf >/dev/null 2>&1; then
    pk3s_as_root dnf install -y "${missing[@]}"
  else
    err "cannot install ${missing[*]}: neither apt-get nor dnf is on PATH"
    return 1
  fi
}

# pk3s_enable_service_optional SERVICE: enable and start it unless it runs.
pk3s_enable_service_optional() {
  local service="$1"
  if pk3s_service_active_optional "${service}"; then
    log "Service '${service}' already active."
    return 0
  fi
  pk3s_host_change "enable the service ${service}" || return 1
  run_cmd "Enabling and starting ${service}" pk3s_as_root systemctl enable --now "${service}"
}

# pk3s_ensure_directory_optional PATH: create the host folder if missing.
pk3s_ensure_directory_optional() {
  local path
  path="$(pk3s_host_path "$1")"
  [[ -d "${path}" ]] && return 0
  pk3s_host_change "create the folder $1" || return 1
  run_cmd "Ensuring directory $1 exists" pk3s_as_root mkdir -p "${path}"
}

__pk3s_valid_host() {
  if [[ ! "$1" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$ ]]; then
    err "'$1' is not a host name"
    return 1
  fi
}

# The hosts file without HOST: the name is dropped from every line that
# lists it, and a line left with an address only is dropped.
__pk3s_hosts_without() {
  local file="$1" host="$2"
  [[ -f "${file}" ]] || return 0
  awk -v host="${host}" '
    /^[[:space:]]*#/ || NF < 2 { print; next }
    {
      out = $1; kept = 0
      for (i = 2; i <= NF; i++) {
        if ($i ~ /^#/) { for (j = i; j <= NF; j++) out = out " " $j; break }
        if ($i == host) continue
        out = out " " $i; kept++
      }
      if (kept > 0) print out
    }' "${file}"
}

__pk3s_nl=$'\n'
__pk3s_write_hosts() {
  local file="$1" content="$2"
  printf '%s' "${content}" | pk3s_as_root tee "${file}" >/dev/null
}

# pk3s_replace_local_hosts_entry HOST IP COMPONENT: HOST resolves to IP here.
pk3s_replace_local_hosts_entry() {
  local host="$1" ip="$2" component="${3:-hosts}" file desired content
  __pk3s_valid_host "${host}" || return 1
  file="$(pk3s_host_path /etc/hosts)"
  desired="${ip} ${host}"
  if [[ -f "${file}" ]] && grep -qxF -- "${desired}" "${file}"; then
    pk3s_track_reuse_optional "/etc/hosts ${host}"
    pk3s_manifest_complete_optional "${component}" reused "${desired}"
    return 0
  fi
  pk3s_host_change "point ${host} at ${ip} in /etc/hosts" || return 1
  pk3s_track_install_optional "/etc/hosts ${host}"
  content="$(__pk3s_hosts_without "${file}" "${host}")"
  __pk3s_write_hosts "${file}" "${content:+${content}${__pk3s_nl}}${desired}${__pk3s_nl}"
  pk3s_manifest_complete_optional "${component}" configured "${desired}"
}

# pk3s_remove_local_hosts_entry HOST: HOST no longer listed in /etc/hosts.
pk3s_remove_local_hosts_entry() {
  local host="$1" file content
  __pk3s_valid_host "${host}" || return 1
  file="$(pk3s_host_path /etc/hosts)"
  [[ -f "${file}" ]] || return 0
  awk -v host="${host}" '!/^[[:space:]]*#/ { for (i = 2; i <= NF; i++) if ($i == host) found = 1 } END { exit !found }' "${file}" || return 0
  pk3s_host_change "remove ${host} from /etc/hosts" || return 1
  content="$(__pk3s_hosts_without "${file}" "${host}")"
  __pk3s_write_hosts "${file}" "${content:+${content}${__pk3s_nl}}"
}

# pk3s_export_tls_secret_cert NAMESPACE SECRET FILE: the secret's tls.crt into FILE.
pk3s_export_tls_secret_cert() {
  local namespace="$1" secret="$2" output="$3" cert
  cert="$(pk3s_runtime_kubectl -n "${namespace}" get secret "${secret}" -o jsonpath='{.data.tls\.crt}')"
  printf '%s' "${cert}" | base64 -d | pk3s_as_root tee "${output}" >/dev/null
}

__pk3s_restart_docker() {
  if systemctl list-unit-files docker.service >/dev/null 2>&1; then
    pk3s_as_root systemctl restart docker || true
  fi
}

# pk3s_install_local_docker_trust NAMESPACE SECRET REGISTRY_HOST COMPONENT:
# Docker on this machine trusts the registry's certificate (from the secret).
pk3s_install_local_docker_trust() {
  local namespace="$1" secret="$2" registry="$3" component="${4:-docker-trust}" dir
  __pk3s_valid_host "${registry}" || return 1
  dir="$(pk3s_host_path "/etc/docker/certs.d/${registry}")"
  if [[ -f "${dir}/ca.crt" ]]; then
    pk3s_track_reuse_optional "Docker trust ${registry}"
    pk3s_manifest_complete_optional "${component}" reused "${registry}"
    return 0
  fi
  pk3s_host_change "make Docker trust ${registry}" || return 1
  pk3s_track_install_optional "Docker trust ${registry}"
  pk3s_as_root mkdir -p "${dir}"
  pk3s_export_tls_secret_cert "${namespace}" "${secret}" "${dir}/ca.crt"
  __pk3s_restart_docker
  pk3s_manifest_complete_optional "${component}" configured "${registry}"
}

# pk3s_remove_local_docker_trust REGISTRY_HOST
pk3s_remove_local_docker_trust() {
  local registry="$1" dir
  __pk3s_valid_host "${registry}" || return 1
  dir="$(pk3s_host_path "/etc/docker/certs.d/${registry}")"
  [[ -e "${dir}" ]] || return 0
  pk3s_host_change "remove the Docker trust of ${registry}" || return 1
  pk3s_as_root rm -rf "${dir}"
  __pk3s_restart_docker
}
