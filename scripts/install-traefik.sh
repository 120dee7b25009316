#!/usr/bin/env bash
# Builds the real Traefik binary (pinned below) into tools/bin from the Go module proxy, once;
# later runs reuse it. `go install` cannot build Traefik: its go.mod has replace directives,
# one of them to a path inside its own tree. Building in a copy of the module source keeps those
# replaces and Traefik's own go.sum exactly as released.
set -euo pipefail

version=v3.6.12
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${TRAEFIK_BIN:-$root/tools/bin/traefik}"

# Output captured first: a pipe into `grep -q` or `head` could SIGPIPE the binary under pipefail.
installed_version() { "$bin" version 2>/dev/null || true; }
if [ -x "$bin" ] && grep -q "Version:[[:space:]]*${version#v}" <<<"$(installed_version)"; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Traefik $version is not built and Go was not found on PATH: install Go 1.26+ (https://go.dev/dl/)." >&2
  exit 1
fi

echo "Building Traefik $version into tools/bin (first run only; several minutes)..." >&2
export GOFLAGS=-buildvcs=false
module_dir=$(go mod download -json "github.com/traefik/traefik/v3@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$module_dir" ] || [ ! -d "$module_dir" ]; then
  echo "Could not download github.com/traefik/traefik/v3@$version from the Go module proxy." >&2
  exit 1
fi

src="$root/tools/src/traefik-$version"
rm -rf "$src"
mkdir -p "$(dirname "$src")" "$(dirname "$bin")"
cp -R "$module_dir" "$src"
chmod -R u+w "$src"
(cd "$src" && go build -trimpath \
  -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${version#v}" \
  -o "$bin.tmp" ./cmd/traefik)
mv "$bin.tmp" "$bin"
rm -rf "$src"
grep -m 1 Version <<<"$(installed_version)" >&2
