#!/usr/bin/env bash
# Builds the embedded MongoDB-compatible server (FerretDB v1, SQLite backend) into tools/bin,
# from the Go module proxy, once; later runs reuse the binary. Next to it goes ferretdb-id-index
# (scripts/ferretdb-id-index), rebuilt whenever its source changes.
#
# Not `go install …@v1.24.2`: a binary built that way panics at start-up because the module
# ships without the generated build/version/version.txt that FerretDB's own release build
# writes, and some proxies refuse the version-list lookup `go install` makes. So we build a copy
# of the pinned module source with that one file written, the way FerretDB does.
set -euo pipefail

version=v1.24.2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${FERRETDB_BIN:-$root/tools/bin/ferretdb}"
source "$root/scripts/lib/go-module-build.sh"

helper_src="$root/scripts/ferretdb-id-index"
helper="$(dirname "$bin")/ferretdb-id-index"
# Output captured first: a pipe into `grep -q` or `head` could SIGPIPE the binary under pipefail.
installed_version() { "$bin" --version 2>/dev/null || true; }
helper_source_sum() { cat "$helper_src"/*.go "$helper_src"/go.mod "$helper_src"/go.sum | cksum; }
ferretdb_current() { [ -x "$bin" ] && grep -q "version: $version" <<<"$(installed_version)"; }
helper_current() { [ -x "$helper" ] && [ "$(cat "$helper.sum" 2>/dev/null)" = "$(helper_source_sum)" ]; }

if ferretdb_current && helper_current; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "FerretDB $version or its ferretdb-id-index helper is not built, and Go was not found on PATH." >&2
  echo "Install Go 1.24 or newer (https://go.dev/dl/), or set MONGODB_URI to a MongoDB server." >&2
  exit 1
fi

if ! ferretdb_current; then
  echo "Building FerretDB $version into tools/bin (first run only; about a minute)..." >&2
  prepare_copy() { echo "$version" >"$1/build/version/version.txt"; }
  build_released_module github.com/FerretDB/FerretDB "$version" ./cmd/ferretdb "$bin"
  grep -m 1 version <<<"$(installed_version)" >&2
fi

if ! helper_current; then
  # Our own module, built in place with its committed go.sum: the module cache that the FerretDB
  # build filled (or the Go module proxy) has every dependency.
  echo "Building ferretdb-id-index into $(dirname "$helper")..." >&2
  sum=$(helper_source_sum)
  (cd "$helper_src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$helper.tmp" .)
  mv "$helper.tmp" "$helper"
  echo "$sum" >"$helper.sum"
fi
