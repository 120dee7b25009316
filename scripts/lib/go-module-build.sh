# Shared by install-ferretdb.sh and install-traefik.sh (sourced, not run).
#
# build_released_module MODULE VERSION PACKAGE OUTPUT [LDFLAGS]
#   Downloads MODULE@VERSION from the Go module proxy, copies it into tools/src (the module cache
#   is read-only), runs the caller's prepare_copy function on the copy if it defines one, and
#   builds PACKAGE into OUTPUT with the module's own go.mod and go.sum, replaces included.
build_released_module() {
  local module=$1 version=$2 package=$3 output=$4 ldflags=${5:-}
  if ! command -v go >/dev/null 2>&1; then
    echo "Go was not found on PATH: install Go 1.25+ (https://go.dev/dl/) to build ${module##*/} $version." >&2
    return 1
  fi
  export GOFLAGS=-buildvcs=false
  local module_dir
  module_dir=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  if [ -z "$module_dir" ] || [ ! -d "$module_dir" ]; then
    echo "Could not download $module@$version from the Go module proxy." >&2
    return 1
  fi
  local src="$root/tools/src/${module##*/}-$version"
  rm -rf "$src"
  mkdir -p "$(dirname "$src")" "$(dirname "$output")"
  cp -R "$module_dir" "$src"
  chmod -R u+w "$src"
  if declare -F prepare_copy >/dev/null; then prepare_copy "$src"; fi
  (cd "$src" && go build -trimpath -ldflags "$ldflags" -o "$output.tmp" "$package")
  mv "$output.tmp" "$output"
  rm -rf "$src"
}
