#!/usr/bin/env bash
# Fetches blst 0.3.10 (the C source shipped in the npm package
# @chainsafe/blst@0.2.11), checks the tarball against its pinned sha512
# integrity and builds libblst.a.  Usage: fetch-blst.sh DEST_DIR
# Leaves DEST_DIR/libblst.a and DEST_DIR/include/{blst.h,blst_aux.h}.
set -euo pipefail

package="@chainsafe/blst@0.2.11"
integrity="sha512-URyOLq5GtxBoxibOnd2pgLydCy0UZzbiIIBcsRAvGxAsRzjZL04TsQfwRkz5aphU3a1ebeRoMmI/HHyMCiFSQg=="

dest=$(mkdir -p "$1" && cd "$1" && pwd)
[ -f "$dest/libblst.a" ] && [ -f "$dest/include/blst.h" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "$package" >/dev/null
tarball=$(ls ./*.tgz)
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "fetch-blst: integrity mismatch for $package: got $actual" >&2
  exit 1
fi
tar xzf "$tarball" package/blst
cd package/blst
# __BLST_PORTABLE__: pick CPU features at run time, so the library does not
# depend on the build machine (needed for reproducible images).
CFLAGS="-O2 -fno-builtin -fPIC -Wall -Wextra" ./build.sh -D__BLST_PORTABLE__ >/dev/null
mkdir -p "$dest/include" "$dest/vectors"
cp libblst.a "$dest/libblst.a.tmp"
cp bindings/blst.h bindings/blst_aux.h "$dest/include/"
cp -r bindings/vectors/hash_to_curve "$dest/vectors/"
mv "$dest/libblst.a.tmp" "$dest/libblst.a"
echo "fetch-blst: built $dest/libblst.a from $package" >&2
