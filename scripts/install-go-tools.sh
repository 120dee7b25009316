#!/usr/bin/env bash
# Builds the project's small Go helpers into tools/bin (once): compose-validate, which checks
# docker-compose.yml against the Compose Specification with compose-go.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/tools/bin/compose-validate"
source_dir="$root/scripts/compose-validate"
if [ -x "$bin" ] && [ "$bin" -nt "$source_dir/main.go" ] && [ "$bin" -nt "$source_dir/go.sum" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go was not found on PATH: install Go 1.24+ (https://go.dev/dl/) to build compose-validate." >&2
  exit 1
fi
mkdir -p "$(dirname "$bin")"
(cd "$source_dir" && GOFLAGS=-buildvcs=false go build -trimpath -o "$bin" .)
