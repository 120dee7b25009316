#!/usr/bin/env bash
# Runs before `npm test` (pretest): makes sure the real components the suite talks to are here.
#   - Redis at REDIS_URL (default 127.0.0.1:6379): started if none answers (installed if missing).
#   - Chromium for the browser test (CHROMIUM_PATH, default /usr/bin/chromium): Debian's package.
#   - FastAPI, Uvicorn, PyJWT and HTTPX for the FastAPI interop test, under Debian's Python
#     (PYTHON3_PATH, default /usr/bin/python3): Debian's packages (PyPI is not used).
#   - FerretDB, the embedded MongoDB-compatible server: built from the Go module proxy.
#   - Traefik (the TLS proxy of the deployment) and compose-validate: built from the Go module proxy.
# Installing needs apt-get and root; without them it says what to install instead.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing $*: install it (Debian/Ubuntu: apt-get install $*), then run the tests again." >&2
    exit 1
  fi
  echo "Installing $* from Debian's packages..." >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ -z "${REDIS_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
fi

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  apt_install chromium
fi

# Debian's interpreter, not whichever python3 comes first on PATH (pyenv's would not see apt's
# packages).
if ! "${PYTHON3_PATH:-/usr/bin/python3}" -c 'import fastapi, uvicorn, jwt, httpx' 2>/dev/null; then
  apt_install python3 python3-fastapi python3-uvicorn python3-jwt python3-httpx
fi

if [ -z "${MONGODB_URI:-}" ]; then
  bash "$root/scripts/install-ferretdb.sh"
fi

bash "$root/scripts/install-traefik.sh"
bash "$root/scripts/install-go-tools.sh"
