#!/usr/bin/env bash
# Runs sdk.test.mjs (the official AWS SDK for JavaScript) against a fresh
# devkms.  Usage: run-sdk-test.sh DEVKMS_BINARY WORK_DIR
# The SDK is installed with `npm ci` from package-lock.json into WORK_DIR
# (in the build tree; never into the source tree), once per lock file.
set -euo pipefail
devkms=$1
work=$2
src=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$work"
if ! cmp -s "$src/package-lock.json" "$work/.installed-lock.json" || [ ! -d "$work/node_modules" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$src/package-lock.json" "$work/.installed-lock.json"
fi
cp "$src/sdk.test.mjs" "$work/"

state=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$state"
}
trap cleanup EXIT
"$devkms" --listen 127.0.0.1:0 --state "$state/kms" --day-seconds 1 \
  >"$state/stdout" 2>"$state/devkms.log" &
pid=$!
endpoint=
for _ in $(seq 150); do
  endpoint=$(grep -o 'https://[^ ]*' "$state/stdout" 2>/dev/null || true)
  [ -n "$endpoint" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$endpoint" ]; then
  echo "devkms did not start:" >&2
  cat "$state/devkms.log" >&2
  exit 1
fi
echo "devkms at $endpoint"
status=0
(cd "$work" && DEVKMS_ENDPOINT="$endpoint" DEVKMS_STATE="$state/kms" \
   NODE_EXTRA_CA_CERTS="$state/kms/ca.pem" node --test sdk.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- devkms log" >&2
  tail -50 "$state/devkms.log" >&2
fi
exit "$status"
