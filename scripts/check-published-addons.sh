#!/usr/bin/env bash
# By-hand check (not part of the suite; run after a build, MIRROR=<a clone URL or path>): the five published add-ons of
# productive-k3s/productive-k3s-addons, packed unmodified from their source
# directories, through Core's whole lifecycle with the stub cluster tools:
#   install (no TTY) -> backup -> upgrade -> history -> rollback -> validate-installed (test) -> uninstall
# The upgrade package is a copy of the same source with only metadata.version changed (0.1.0 -> 0.1.1).
# Nothing on this machine changes: stub helm/kubectl (fixtures/bin), stub dpkg/apt-get/systemctl/sudo
# (fixtures/bin/host) first on PATH, host files under a sandbox PK3S_HOST_ROOT.
set -uo pipefail

REPO="${REPO:-$(cd "$(dirname "$0")/.." && pwd)}"
MIRROR="${MIRROR:-https://github.com/productive-k3s/productive-k3s-addons.git}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/published-check-XXXX")"
SRC="${WORK}/productive-k3s-addons"
CORE=(node -- "${REPO}/packages/core/dist/cli/productive-k3s-core.js")

git clone -q "${MIRROR}" "${SRC}"
echo "published add-ons at $(git -C "${SRC}" rev-parse HEAD) ($(git -C "${SRC}" log -1 --format=%s))"

export HOME="${WORK}/home" NO_COLOR=1
export PK3S_STATE_DIR="${WORK}/state" PK3S_CACHE_DIR="${WORK}/cache" PK3S_CONFIG_DIR="${WORK}/config"
export PK3S_HELM_BIN="${REPO}/fixtures/bin/helm" PK3S_KUBECTL_BIN="${REPO}/fixtures/bin/kubectl"
export PK3S_STUB_LOG="${WORK}/stub.ndjson" STUB_HELM_STATE_DIR="${WORK}/helm-state" STUB_HOST_STATE_DIR="${WORK}/host-state"
export KUBECONFIG="${REPO}/fixtures/kubeconfig/k3s.yaml"
export PATH="${REPO}/fixtures/bin/host:${PATH}"
export PK3S_HOST_ROOT="${WORK}/host"
mkdir -p "${HOME}" "${PK3S_HOST_ROOT}/etc"
printf '127.0.0.1 localhost\n' >"${PK3S_HOST_ROOT}/etc/hosts"
# The published install scripts wait for endpoints and certificates with jsonpath queries: the stub answers them.
cat >"${WORK}/kubectl-answers.json" <<'EOF'
[{"args": ["get", "endpoints"], "stdout": "10.42.0.10"},
 {"args": ["get", "certificate", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"], "stdout": "True"}]
EOF
export STUB_KUBECTL_ANSWERS="${WORK}/kubectl-answers.json"

hosts_before="$(sha256sum /etc/hosts)"
data_before="$(test -e /data && echo present || echo absent)"

pack() { "${CORE[@]}" dev addon package --source "$1" --out "${WORK}/dist" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).file))'; }
calls() { wc -l <"${PK3S_STUB_LOG}" 2>/dev/null || echo 0; }

declare -A RESULT
step() { # name label command...
  local name="$1" label="$2"
  shift 2
  local before after log="${WORK}/logs/${name}-${label}.log"
  mkdir -p "${WORK}/logs"
  before="$(calls)"
  "$@" </dev/null >"${log%.log}.out" 2>"${log}"
  local code=$?
  after="$(calls)"
  RESULT["${name}/${label}"]="${code}"
  printf '  %-10s exit %s, %3s stub calls   (%s)\n' "${label}" "${code}" "$((after - before))" "${log}"
}

for name in cert-manager longhorn nginx rancher registry; do
  echo "== ${name}"
  v1="$(pack "${SRC}/addons/${name}")"
  cp -r "${SRC}/addons/${name}" "${WORK}/${name}-0.1.1"
  sed -i 's/^  version: 0.1.0$/  version: 0.1.1/' "${WORK}/${name}-0.1.1/addon.yaml"
  v2="$(pack "${WORK}/${name}-0.1.1")"
  step "${name}" install "${CORE[@]}" addon install --tgz "${v1}" --allow-host-changes --json
  step "${name}" backup "${CORE[@]}" addon backup "${name}" --json
  step "${name}" upgrade "${CORE[@]}" addon upgrade --tgz "${v2}" --allow-host-changes --json
  step "${name}" history "${CORE[@]}" addon history "${name}"
  step "${name}" rollback "${CORE[@]}" addon rollback "${name}" --allow-host-changes --json
  step "${name}" test "${CORE[@]}" addon test "${name}" --json
  step "${name}" uninstall "${CORE[@]}" addon uninstall "${name}" --allow-host-changes --json
  echo "  answers (install):  $(node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(Object.entries(d.configure??{}).map(([k,v])=>k+"="+v).join(", "))' "${WORK}/logs/${name}-install.out" 2>/dev/null || echo '(see log)')"
  echo "  revisions:          $(grep -cE '^[0-9]+\*? ' "${WORK}/logs/${name}-history.out") before the rollback; rollback -> $(grep -o '"revision": [0-9]*' "${WORK}/logs/${name}-rollback.out" | head -1)"
  echo "  backups kept:       $(ls "${PK3S_STATE_DIR}"/core/clusters/*/addons/"${name}"/backups | wc -l) ($(ls "${PK3S_STATE_DIR}"/core/clusters/*/addons/"${name}"/backups/*/ -d | xargs -n1 basename | tr '\n' ' '))"
  echo "  files in the manual backup: $(cd "$(ls -d "${PK3S_STATE_DIR}"/core/clusters/*/addons/"${name}"/backups/*/ | head -1)" && find . -type f | sort | tr '\n' ' ')"
done

echo "== what the phase functions asked of the tools (all runs)"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const count = {};
for (const c of lines) {
  if (c.tool === "kubectl" && c.argv.includes("--request-timeout")) continue; // Core'"'"'s own cluster probe
  const words = c.argv.filter((a, i) => !a.startsWith("-") && !["--kubeconfig", "--context", "-n", "--namespace"].includes(c.argv[i - 1]));
  const key = `${c.tool} ${words.slice(0, 2).join(" ")}`;
  count[key] = (count[key] ?? 0) + 1;
}
for (const [k, n] of Object.entries(count).sort()) console.log(`  ${String(n).padStart(4)}  ${k}`);
' "${PK3S_STUB_LOG}"
echo "  unbound kubectl calls (without the run's --kubeconfig/--context): $(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
console.log(lines.filter((c) => c.tool === "kubectl" && !(c.argv[0] === "--kubeconfig" && c.argv[2] === "--context")).length);' "${PK3S_STUB_LOG}")"

echo "== the machine"
echo "  /etc/hosts unchanged: $([[ "$(sha256sum /etc/hosts)" == "${hosts_before}" ]] && echo yes || echo NO)"
echo "  /data: ${data_before} before, $(test -e /data && echo present || echo absent) after"
echo "  sandbox host root: $(cd "${PK3S_HOST_ROOT}" && find . -mindepth 1 | sort | tr '\n' ' ')"
echo "  sandbox /etc/hosts: $(tr '\n' '|' <"${PK3S_HOST_ROOT}/etc/hosts")"

echo "== summary (exit codes)"
printf '%-13s' addon
for l in install backup upgrade history rollback test uninstall; do printf '%-10s' "${l}"; done
echo
fail=0
for name in cert-manager longhorn nginx rancher registry; do
  printf '%-13s' "${name}"
  for l in install backup upgrade history rollback test uninstall; do
    printf '%-10s' "${RESULT[${name}/${l}]}"
    [[ "${RESULT[${name}/${l}]}" == 0 ]] || fail=1
  done
  echo
done
echo "work folder: ${WORK}"
exit "${fail}"
