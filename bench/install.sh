#!/usr/bin/env bash
# The stacks and load tools the benchmarks compare the project with live in bench/package.json,
# not in the project's own dependencies: installed here on first use, and again when its lock
# file changes.
set -euo pipefail
bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
stamp="$bench/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$bench/package-lock.json" -nt "$stamp" ]; then
  echo "Installing the benchmarks' comparison stacks (bench/package.json)..." >&2
  npm ci --prefix "$bench" --no-audit --no-fund >&2
fi
