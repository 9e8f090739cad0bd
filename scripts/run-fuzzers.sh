#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS on a copy of its seed corpus.
# Usage: run-fuzzers.sh BIN_DIR [SECONDS]
set -euo pipefail
bin=$1
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for fuzzer in "$bin"/fuzz_*; do
  name=$(basename "$fuzzer")
  name=${name#fuzz_}
  mkdir -p "$work/$name"
  cp "$root/fuzz/corpus/$name"/* "$work/$name"/ 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s"
  if ! "$fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
        -artifact_prefix="$work/crash-$name-" "$work/$name" >"$work/$name.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -40 "$work/$name.log"; status=1
    mkdir -p "$root/build-fuzz/artifacts" && cp "$work"/crash-"$name"-* "$root/build-fuzz/artifacts/" 2>/dev/null || true
  else
    grep -E '^(#[0-9]+ *DONE|Done)' "$work/$name.log" | tail -1 || true
  fi
done
exit $status
