#!/usr/bin/env bash
# Creates a self-signed certificate for local HTTPS through Traefik, once, in the given directory
# (default traefik/certs, git-ignored): local.crt and local.key (0600). No key is ever committed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="${1:-$root/traefik/certs}"
host="${2:-localhost}"
mkdir -p "$dir"
if [ -s "$dir/local.crt" ] && [ -s "$dir/local.key" ]; then
  exit 0
fi
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
  -subj "/CN=$host" \
  -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/local.key" -out "$dir/local.crt" 2>/dev/null
chmod 644 "$dir/local.crt"
echo "Created a self-signed certificate for $host in $dir" >&2
