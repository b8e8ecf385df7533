#!/usr/bin/env bash
# `pnpm bench` / `npm run bench`: install the locked dependencies, build every package, run the benchmarks.
# Inputs are generated under bench/out/ (gitignored) and reused by later runs; the table is printed on
# stdout and written to bench/out/results.json and bench/RESULTS.md. Extra arguments go to bench/run.mjs
# (--only <case,...>, --runs <n>, --no-budget).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
PNPM=(npx -y pnpm@10.34.8)
"${PNPM[@]}" install --frozen-lockfile >&2
"${PNPM[@]}" build >&2
echo "[bench.sh] install + build took $(($(date +%s) - started)) s" >&2
node bench/run.mjs "$@"
echo "[bench.sh] total $(($(date +%s) - started)) s" >&2
