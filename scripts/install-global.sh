#!/usr/bin/env bash
# Put pk3s, productive-k3s-core and productive-k3s-infra on PATH from a checkout,
# exactly as users get them from npm: build, `pnpm pack` the four workspace
# packages (workspace:* becomes the real version) and `npm install -g` the
# tarballs. Extra arguments go to npm, e.g. `npm run install-global -- --prefix ~/.local`.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=10.34.8
pnpm() { npx -y "pnpm@${PNPM_VERSION}" "$@"; }

pnpm install --frozen-lockfile --reporter=silent
pnpm run --silent build >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
tarballs=()
for p in pkg-format core infra pk3s; do
  file="$(cd "packages/$p" && pnpm pack --pack-destination "$out" | tail -n 1)"
  case "$file" in /*) ;; *) file="$out/$file" ;; esac
  tarballs+=("$file")
done
npm install -g --no-audit --no-fund "$@" "${tarballs[@]}"
echo "installed pk3s, productive-k3s-core and productive-k3s-infra into the bin directory of npm's global prefix (npm prefix -g)" >&2
