#!/usr/bin/env bash
# README command 1: on a fresh clone (Node >= 20.19 + npm), install what is
# needed and run the main job on the embedded defaults: the local catalog under
# catalogs/local and local state (~/.local/state/productive-k3s, or
# PK3S_STATE_DIR). Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"

PNPM_VERSION=10.34.8
pnpm() { npx -y "pnpm@${PNPM_VERSION}" "$@"; }
# Bold headings only on a terminal (never in a log file), and never with NO_COLOR or TERM=dumb.
if [ -t 2 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then
  say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  say() { printf '\n==> %s\n' "$*" >&2; }
fi

pk3s() { node -- "$REPO/packages/pk3s/dist/cli/pk3s.js" "$@"; }

say "installing dependencies and building (pnpm ${PNPM_VERSION} through npx)"
pnpm install --frozen-lockfile --reporter=silent
pnpm run --silent build >/dev/null

# local-lab's engine is Ansible: the real ansible-playbook does the work.
if ! command -v ansible-playbook >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = "0" ] || [ -n "$SUDO" ]; }; then
    say "installing ansible-core (Debian) for the local-lab profile"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ansible-core >/dev/null
  else
    echo "error: local-lab runs with ansible-playbook, which is not installed." >&2
    echo "  hint: install ansible-core (apt-get install ansible-core, brew install ansible or pipx install ansible-core) and rerun." >&2
    exit 5
  fi
fi

say "1/5 packing fixtures/ and indexing the local catalog (pk3s catalog index)"
node catalogs/local/build.mjs

say "2/5 pk3s search"
# The quickstart runs on the checkout's built-in catalog "local" (other catalogs you added stay as they are):
# bring it back if it was removed.
if ! pk3s catalog list --json | node -e 'process.exit(JSON.parse(require("fs").readFileSync(0, "utf8")).catalogs.some((c) => c.name === "local") ? 0 : 1)'; then
  echo "the built-in catalog local was removed: restoring it (pk3s catalog add local)" >&2
  pk3s catalog add local
fi
pk3s search

say "3/5 pk3s profile install local-lab --env-file fixtures/env/local-lab.env"
mkdir -p .quickstart
cd .quickstart
pk3s profile install local-lab --catalog local --env-file "$REPO/fixtures/env/local-lab.env" --auto-approve
pk3s profile status local-lab
cd "$REPO"

say "4/5 pk3s addon install longhorn --dry-run --instance local-lab"
pk3s addon install longhorn --catalog local --dry-run --instance local-lab

say "5/5 next steps"
cat >&2 <<'TXT'
Everything above ran against the local catalog (catalogs/local) with local state.
To install for real into your own cluster you need helm (https://helm.sh/docs/intro/install/)
and kubectl on PATH and a kubeconfig for a k3s cluster:

  pk3s addon install longhorn --kubeconfig ~/.kube/config --context <your-context>

Tear the lab down with:  pk3s profile destroy local-lab --auto-approve

(pk3s on your PATH: npm run install-global; or run node -- packages/pk3s/dist/cli/pk3s.js)
TXT
