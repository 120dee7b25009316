#!/usr/bin/env bash
# Builds the real Traefik binary (pinned below) into tools/bin from the Go module proxy, once;
# later runs reuse it. `go install` cannot build Traefik: its go.mod has replace directives,
# one of them to a path inside its own tree, so we build a copy of the released module with its
# own go.mod and go.sum. (v3.7.x replaces go-http-auth with a fork version the proxy refuses.)
set -euo pipefail

version=v3.6.12
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${TRAEFIK_BIN:-$root/tools/bin/traefik}"
source "$root/scripts/lib/go-module-build.sh"

# Output captured first: a pipe into `grep -q` or `head` could SIGPIPE the binary under pipefail.
installed_version() { "$bin" version 2>/dev/null || true; }
if [ -x "$bin" ] && grep -q "Version:[[:space:]]*${version#v}" <<<"$(installed_version)"; then
  exit 0
fi

echo "Building Traefik $version into tools/bin (first run only; several minutes)..." >&2
build_released_module github.com/traefik/traefik/v3 "$version" ./cmd/traefik "$bin" \
  "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${version#v}"
grep -m 1 Version <<<"$(installed_version)" >&2
