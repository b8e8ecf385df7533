#!/usr/bin/env bash
# productive-k3s-core: the runtime contract for add-on scripts.
#
# Core's own implementation of the helpers that published Productive K3S
# add-on scripts call, written for Core (not copied from the Bash Core):
# distribution facts (pk3s_runtime_*), logging, kubectl bound to the target
# cluster of the run, configure prompts and answers, validate checks and
# backup helpers. Core copies this file into each run directory, at
# <run>/scripts/runtime-contract.sh ($PRODUCTIVE_K3S_CORE_REPO_DIR/scripts/),
# and sets the variables it reads (packages/core/README.md, "Script contract").
#
# Safe to source more than once, and under `set -euo pipefail`.

: "${PRODUCTIVE_K3S_DISTRO:=k3s}"
: "${PRODUCTIVE_K3S_ENGINE:=native}"
: "${PK3S_VALIDATE_FAILURES:=0}"
: "${PK3S_VALIDATE_WARNINGS:=0}"

# ---------------------------------------------------------------- logging
# Informational lines go to stdout, warnings and errors to stderr; Core
# prefixes each line with the step name and keeps it in the run log.
log() { printf '[INFO] %s\n' "$*"; }
info() { printf '[INFO] %s\n' "$*"; }
warn() { printf '[WARN] %s\n' "$*" >&2; }
err() { printf '[ERROR] %s\n' "$*" >&2; }
need_cmd() { command -v "$1" >/dev/null 2>&1; }

# ------------------------------------------------------ distribution facts
pk3s_runtime_validate_selection() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s | rke2 | kubernetes) ;;
    *)
      err "unsupported cluster distro: ${PRODUCTIVE_K3S_DISTRO}"
      return 1
      ;;
  esac
  case "${PRODUCTIVE_K3S_ENGINE}" in
    native | k3sup) ;;
    *)
      err "unsupported cluster engine: ${PRODUCTIVE_K3S_ENGINE}"
      return 1
      ;;
  esac
}

pk3s_runtime_distro_label() { printf '%s' "${PRODUCTIVE_K3S_DISTRO}"; }
pk3s_runtime_cluster_label() { pk3s_runtime_distro_label; }

pk3s_runtime_distro_display_name() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf 'K3S' ;;
    rke2) printf 'RKE2' ;;
    *) printf 'Kubernetes' ;;
  esac
}

pk3s_runtime_server_service() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf 'k3s' ;;
    rke2) printf 'rke2-server' ;;
  esac
}

pk3s_runtime_agent_service() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf 'k3s-agent' ;;
    rke2) printf 'rke2-agent' ;;
  esac
}

pk3s_runtime_default_ingress_class() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf 'traefik' ;;
    *) printf 'nginx' ;;
  esac
}

pk3s_runtime_join_token_path() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf '/var/lib/rancher/k3s/server/node-token' ;;
    rke2) printf '/var/lib/rancher/rke2/server/node-token' ;;
  esac
}

pk3s_runtime_uninstall_script_path() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf '/usr/local/bin/k3s-uninstall.sh' ;;
    rke2) printf '/usr/bin/rke2-uninstall.sh' ;;
  esac
}

pk3s_runtime_killall_script_path() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf '/usr/local/bin/k3s-killall.sh' ;;
    rke2) printf '/usr/bin/rke2-killall.sh' ;;
  esac
}

pk3s_runtime_state_dirs() {
  case "${PRODUCTIVE_K3S_DISTRO}" in
    k3s) printf '%s\n' /etc/rancher/k3s /var/lib/rancher/k3s /var/lib/kubelet /etc/cni/net.d /var/lib/cni /run/flannel /run/k3s ;;
    rke2) printf '%s\n' /etc/rancher/rke2 /var/lib/rancher/rke2 /var/lib/kubelet /etc/cni/net.d /var/lib/cni /run/flannel ;;
  esac
}

# Under Core every kubeconfig question has one answer: the kubeconfig of the run.
pk3s_runtime_system_kubeconfig_path() { printf '%s' "${KUBECONFIG:-}"; }
pk3s_runtime_default_user_kubeconfig_path() { printf '%s' "${KUBECONFIG:-}"; }

# ------------------------------------------- kubectl bound to the target cluster
# PK3S_KUBECTL_BIN is Core's kubectl for this run: it adds the run's
# --kubeconfig and --context unless the call gives its own.
pk3s_runtime_kubectl() { "${PK3S_KUBECTL_BIN:-kubectl}" "$@"; }
pk3s_runtime_embedded_kubectl_bin() { printf '%s' "${PK3S_KUBECTL_BIN:-kubectl}"; }
pk3s_runtime_addon_kubectl_bin() { printf '%s' "${PK3S_KUBECTL_BIN:-kubectl}"; }
pk3s_runtime_addon_kubectl_mode() { printf 'kubectl'; }
pk3s_runtime_kubectl_hint() { printf 'kubectl --kubeconfig %s --context %s' "${KUBECONFIG:-<kubeconfig>}" "${PK3S_KUBE_CONTEXT:-<context>}"; }
k() { pk3s_runtime_kubectl "$@"; }
kctl() { pk3s_runtime_kubectl "$@"; }
kubectl_k3s() { pk3s_runtime_kubectl "$@"; }

# "Is the cluster up?": under Core the target cluster's API server answering,
# wherever it runs (the machine Core runs on need not be a cluster node).
pk3s_runtime_server_active() { pk3s_runtime_kubectl version --request-timeout=15s >/dev/null 2>&1; }
pk3s_runtime_agent_active() { pk3s_runtime_server_active; }
pk3s_runtime_component_active() { pk3s_runtime_server_active; }

# ------------------------------------------------------- configure answers
# prompt VAR DEFAULT MESSAGE, prompt_yesno VAR DEFAULT MESSAGE, prompt_secret
# VAR DEFAULT MESSAGE: set the caller's variable VAR. The answer's key is VAR
# upper-cased (non-identifier characters become _). In order:
#   1. PK3S_CONFIG_<KEY> (Core sets it from --set configure.<KEY>=, a values
#      file's `configure:` map, or the user's environment): used, never asked;
#   2. on a terminal (PK3S_INTERACTIVE=1): asked, the default shown;
#   3. otherwise the default is used.
# The default is PK3S_RECORDED_<KEY> (the answer recorded by the last run)
# when there is one, else DEFAULT. Every answer is printed with where it came
# from; sensitive ones (prompt_secret, or a key matching
# PK3S_CONFIG_SENSITIVE_PATTERN) as ***.
pk3s_config_key() {
  local key="${1^^}"
  printf '%s' "${key//[^A-Z0-9_]/_}"
}

pk3s_config_sensitive() {
  local key="$1"
  [[ -n "${PK3S_CONFIG_SENSITIVE_PATTERN:-}" && "${key}" =~ ${PK3S_CONFIG_SENSITIVE_PATTERN} ]]
}

__pk3s_yesno() {
  case "${1,,}" in
    y | yes | true | 1 | on) printf 'y' ;;
    n | no | false | 0 | off) printf 'n' ;;
    *) return 1 ;;
  esac
}

__pk3s_prompt() {
  local __pk3s_kind="$1" __pk3s_var="$2" __pk3s_default="${3-}" __pk3s_msg="${4:-$2}"
  local __pk3s_key __pk3s_given __pk3s_recorded __pk3s_value __pk3s_source __pk3s_sensitive=n __pk3s_input=""
  __pk3s_key="$(pk3s_config_key "${__pk3s_var}")"
  __pk3s_given="PK3S_CONFIG_${__pk3s_key}"
  __pk3s_recorded="PK3S_RECORDED_${__pk3s_key}"
  if [[ "${__pk3s_kind}" == secret ]] || pk3s_config_sensitive "${__pk3s_key}"; then __pk3s_sensitive=y; fi
  if [[ -n "${!__pk3s_given+x}" ]]; then
    __pk3s_value="${!__pk3s_given}"
    __pk3s_source=given
  else
    __pk3s_source=default
    if [[ -n "${!__pk3s_recorded+x}" ]]; then
      __pk3s_default="${!__pk3s_recorded}"
      __pk3s_source=recorded
    fi
    __pk3s_value="${__pk3s_default}"
    if [[ "${PK3S_INTERACTIVE:-0}" == 1 ]]; then
      local __pk3s_shown="${__pk3s_default}"
      [[ "${__pk3s_sensitive}" == y && -n "${__pk3s_default}" ]] && __pk3s_shown='***'
      # A secret is not echoed: echo goes off before the question is shown, so nothing typed after it is echoed.
      local __pk3s_tty=""
      if [[ "${__pk3s_sensitive}" == y && -t 0 ]]; then
        __pk3s_tty="$(stty -g 2>/dev/null || true)"
        stty -echo 2>/dev/null || true
      fi
      if [[ "${__pk3s_kind}" == yesno ]]; then
        printf '%s [%s] (y/n):\n' "${__pk3s_msg}" "${__pk3s_shown}" >&2
      else
        printf '%s [%s]:\n' "${__pk3s_msg}" "${__pk3s_shown}" >&2
      fi
      IFS= read -r __pk3s_input || true
      if [[ -n "${__pk3s_tty}" ]]; then stty "${__pk3s_tty}" 2>/dev/null || true; fi
      if [[ -n "${__pk3s_input}" ]]; then
        __pk3s_value="${__pk3s_input}"
        __pk3s_source=answered
      fi
    fi
  fi
  if [[ "${__pk3s_kind}" == yesno ]]; then
    local __pk3s_yn
    if __pk3s_yn="$(__pk3s_yesno "${__pk3s_value}")"; then
      __pk3s_value="${__pk3s_yn}"
    elif [[ "${__pk3s_source}" == given ]]; then
      err "${__pk3s_given}=${__pk3s_value}: expected y or n (${__pk3s_msg})"
      exit 4
    else
      warn "invalid answer '${__pk3s_value}' to: ${__pk3s_msg}; using the default ${__pk3s_default}"
      __pk3s_value="${__pk3s_default}"
    fi
  fi
  printf -v "${__pk3s_var}" '%s' "${__pk3s_value}"
  local __pk3s_print="${__pk3s_value}"
  [[ "${__pk3s_sensitive}" == y ]] && __pk3s_print='***'
  printf '%s: %s (%s)\n' "${__pk3s_msg}" "${__pk3s_print}" "${__pk3s_source}" >&2
  if [[ -n "${PK3S_CONFIGURE_PROMPTS:-}" ]]; then
    printf '%s\t%s\t%s\n' "${__pk3s_key}" "${__pk3s_source}" "${__pk3s_sensitive}" >>"${PK3S_CONFIGURE_PROMPTS}"
  fi
}

prompt() { __pk3s_prompt text "$@"; }
prompt_yesno() { __pk3s_prompt yesno "$@"; }
prompt_secret() { __pk3s_prompt secret "$@"; }

# write_addon_config_var OUTPUT_FILE KEY VALUE: one configuration answer.
# OUTPUT_FILE gets KEY=<value quoted for bash> (it can be sourced); Core reads
# the answers from PK3S_CONFIGURE_ANSWERS and passes each to the later
# phases as PK3S_<KEY>.
write_addon_config_var() {
  local out="$1" key="$2" value="${3-}"
  if [[ ! "${key}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    err "write_addon_config_var: '${key}' is not a variable name"
    return 1
  fi
  printf '%s=%q\n' "${key}" "${value}" >>"${out}"
  if [[ -n "${PK3S_CONFIGURE_ANSWERS:-}" ]]; then
    printf '%s\0%s\0' "${key}" "${value}" >>"${PK3S_CONFIGURE_ANSWERS}"
  fi
}

# ------------------------------------------------------------ validate checks
# record_fail counts a failed check: the validate phase fails when any did.
ok() { printf '[OK] %s\n' "$*"; }
record_ok() { ok "$@"; }
record_warn() {
  PK3S_VALIDATE_WARNINGS=$((PK3S_VALIDATE_WARNINGS + 1))
  printf '[WARN] %s\n' "$*" >&2
}
record_fail() {
  PK3S_VALIDATE_FAILURES=$((PK3S_VALIDATE_FAILURES + 1))
  printf '[FAIL] %s\n' "$*" >&2
}
fail() { record_fail "$@"; }

# safe_run CMD...: the command's output (stdout and stderr), and its status.
safe_run() {
  local out
  if ! out="$("$@" 2>&1)"; then
    printf '%s' "${out}"
    return 1
  fi
  printf '%s' "${out}"
}

cluster_node_count() {
  k get nodes -o name 2>/dev/null | awk 'NF { n++ } END { print n + 0 }'
}

default_storageclasses() {
  k get storageclass -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}{"\n"}{end}' 2>/dev/null |
    awk -F'|' '$2 == "true" { print $1 }'
}

# check_namespace_rollup NAMESPACE LABEL: the namespace exists, its pods are
# running (or completed) with every container ready, its deployments ready.
check_namespace_rollup() {
  local ns="$1" label="${2:-$1}" pods bad deployments unready
  info "Checking ${label} namespace"
  if ! k get namespace "${ns}" >/dev/null 2>&1; then
    record_warn "namespace '${ns}' does not exist"
    return 0
  fi
  if ! pods="$(safe_run k get pods -n "${ns}" --no-headers)"; then
    record_fail "unable to query pods in namespace '${ns}'"
    return 0
  fi
  bad="$(printf '%s\n' "${pods}" | awk 'NF >= 3 && $0 !~ /^No resources/ {
    split($2, r, "/")
    if ($3 != "Running" && $3 != "Completed" && $3 != "Succeeded") print
    else if ($3 == "Running" && r[1] != r[2]) print
  }')"
  deployments="$(safe_run k get deployments -n "${ns}" --no-headers || true)"
  unready="$(printf '%s\n' "${deployments}" | awk 'NF >= 2 && $0 !~ /^No resources/ { split($2, r, "/"); if (r[1] != r[2]) print }')"
  if [[ -n "${bad}" ]]; then
    record_fail "${label} has unhealthy pods"
    printf '%s\n' "${bad}"
  elif [[ -n "${unready}" ]]; then
    record_fail "${label} has deployments that are not fully ready"
    printf '%s\n' "${unready}"
  else
    record_ok "${label} pods and deployments are healthy"
  fi
}

longhorn_setting_value() {
  k get settings.longhorn.io -n longhorn-system "$1" -o jsonpath='{.value}' 2>/dev/null || true
}

# Longhorn volumes that are not attached and healthy (a warning: a detached
# volume without a workload is normal).
check_longhorn_volume_health() {
  local volumes problems
  if ! need_cmd jq; then
    record_warn "jq is not available; skipping the Longhorn volume health check"
    return 0
  fi
  if ! volumes="$(safe_run k get volumes.longhorn.io -n longhorn-system -o json)"; then
    record_warn "unable to read the Longhorn volumes"
    return 0
  fi
  problems="$(printf '%s\n' "${volumes}" | jq -r '(.items // [])[]
    | select((.status.state // "") != "attached" or (.status.robustness // "") != "healthy")
    | "\(.metadata.name) state=\(.status.state // "unknown") robustness=\(.status.robustness // "unknown")"' 2>/dev/null || true)"
  if [[ -n "${problems}" ]]; then
    record_warn "some Longhorn volumes are not attached and healthy"
    printf '%s\n' "${problems}"
  else
    record_ok "Longhorn volumes are attached and healthy"
  fi
}

# ------------------------------------------------------------ backup helpers
# safe_write_cmd FILE CMD...: the command's output into FILE (its folder is
# created); a failing command leaves its error text there and does not stop
# the backup.
safe_write_cmd() {
  local out="$1"
  shift
  mkdir -p "$(dirname "${out}")"
  "$@" >"${out}" 2>&1 || true
}

# ------------------------------------------------------- cleanup and tracking
# delete_named_resources_matching RESOURCE REGEX: delete every RESOURCE whose
# name matches REGEX (extended regular expression).
delete_named_resources_matching() {
  local resource="$1" pattern="$2" name
  while IFS= read -r name; do
    [[ -n "${name}" ]] || continue
    log "Deleting ${name}"
    kubectl_k3s delete "${name}" --ignore-not-found --wait=false || true
  done < <(kubectl_k3s get "${resource}" -o name 2>/dev/null | grep -E -- "${pattern}" || true)
}

run_cmd() {
  local label="$1"
  shift
  log "${label}"
  "$@"
}

# What a step did to a component, for the run log.
manifest_complete_component() { log "component ${1}: ${2}${3:+ (${3})}"; }
track_install() { log "installing ${1}"; }
track_reuse() { log "reusing ${1}"; }
result_for_mode() { printf '%s\n' "$1"; }
