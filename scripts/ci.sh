#!/usr/bin/env bash
# The one test command (README "Run the tests"; .ci/run calls it).
# Works on a fresh clone of a machine with only Node >= 20.19 and npm:
# installs pnpm (through npx, no corepack signature checks), the locked
# dependencies and ansible-core (Debian) when missing, then builds,
# checks that the committed JSON Schemas match the code, typechecks, lints
# and runs the whole test suite. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export PNPM_VERSION=10.34.8
pnpm() { npx -y "pnpm@${PNPM_VERSION}" "$@"; }

step() { printf '\n==> %s\n' "$*" >&2; }

if ! command -v ansible-playbook >/dev/null 2>&1; then
  step "installing ansible-core (Debian) for the ansible engine tests"
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ansible-core >/dev/null
fi

if ! command -v minisign >/dev/null 2>&1; then
  step "installing minisign (Debian) for the signature interoperability tests"
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq minisign >/dev/null
fi

step "installing locked dependencies"
pnpm install --frozen-lockfile

step "build"
pnpm run build

step "JSON Schemas are up to date"
pnpm run schemas:check

step "typecheck"
pnpm run typecheck

step "lint"
pnpm run lint

step "tests"
report="$(mktemp -d)/vitest.json"
status=0
pnpm run test --reporter=default --reporter=json --outputFile.json="$report" || status=$?
# One plain closing line for humans and CI log readers: "tests: N passed, N failed, N skipped".
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
exit "$status"
