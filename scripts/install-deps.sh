#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, if missing.
# Idempotent: it does nothing when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-dev
  libssl-dev libsecp256k1-dev libsodium-dev libcbor-dev
  libjansson-dev libcmocka-dev libcurl4-openssl-dev openssl curl
  nodejs npm
  libmicrohttpd-dev libsqlite3-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from outside Debian; only the commands matter.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
