#!/usr/bin/env bash
# The local stack, end to end, on one machine: devkms (a local AWS KMS),
# signer-proxy (the parent instance's forwarder) and enclave-signer with
# the software NSM, then a scripted session through signer-cli:
#
#   1. a KMS key whose policy lets only the daemon's PCR0 decrypt
#   2. Initialize, GenerateAndImport for all four key types, sealed keys
#      stored on disk
#   3. the daemon restarts; Import of the sealed keys (KMS Decrypt with a
#      Recipient attestation document), Sign, and offline verification
#   4. a daemon with other measurements asks KMS to unseal: refused
#
# Usage: local-stack.sh [BIN_DIR]   (default build/bin)
# KEEP=1 keeps the work folder (logs, sealed keys) for a look afterwards.
# Everything it starts is stopped again, also on failure or Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/build/bin}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/signer-stack-XXXXXX")
pids=()
region=eu-dev-1
messages=(03aabbcc 0500000000000000000000000000000000000000000000 "")

cleanup() {
  local rc=$?
  for pid in "${pids[@]+"${pids[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    echo
    echo "local stack FAILED (exit $rc); logs:"
    for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 15 "$log"; }; done
  fi
  if [ -n "${KEEP:-}" ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$'\033[1m' green=$'\033[1;32m' plain=$'\033[0m'; else bold= green= plain=; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '    %s\n' "$*"; }
die() { echo "local-stack: $*" >&2; exit 1; }

# A field of a JSON object (node is already needed to fetch blst).
json() { node -e 'let v = JSON.parse(process.argv[1]);
  for (const k of process.argv[2].split(".")) v = v == null ? v : v[k];
  process.stdout.write(v == null ? "" : String(v));' "$1" "$2"; }

wait_for_socket() { # PATH
  for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
  die "nothing listens on $1"
}

start_daemon() { # NAME NSM_CONFIG
  "$bin/enclave-signer" --listen "unix:$work/$1.sock" --sealing kms --nsm "sim:$2" \
    --kms-endpoint "$endpoint" --kms-proxy "unix:$work/proxy.sock" --ca-file "$work/kms/ca.pem" \
    --log-level info 2>"$work/$1.log" &
  pids+=($!)
  wait_for_socket "$work/$1.sock"
}

stop_daemon() { # NAME: SIGTERM, the graceful stop
  local pid=${pids[-1]}
  kill -TERM "$pid" && wait "$pid" || true
  unset 'pids[-1]'
}

cli() { # NAME ARGS...: signer-cli against daemon NAME with the KMS credentials
  local name=$1; shift
  "$bin/signer-cli" --connect "unix:$work/$name.sock" --credentials "$work/kms/credentials.json" \
    --key-id "$key_id" "$@"
}

kms() { # OPERATION JSON: a signed call to devkms with curl's own SigV4
  curl -sS --fail-with-body --cacert "$work/kms/ca.pem" --aws-sigv4 "aws:amz:$region:kms" \
    --user "$(json "$creds" access_key_id):$(json "$creds" secret_access_key)" \
    -H "X-Amz-Target: TrentService.$1" -H 'Content-Type: application/x-amz-json-1.1' \
    --data-binary "$2" "$endpoint/"
}

step "Software NSM: a development root CA and the measurements of two enclaves"
"$root/scripts/dev-nsm-ca.sh" "$work/nsm" --pcr-file "0=$bin/enclave-signer"
# Another image (signer-cli stands in for modified code): other PCR0.
"$root/scripts/dev-nsm-ca.sh" "$work/nsm" --pcr-file "0=$bin/signer-cli" --config rogue.json
pcr0=$("$bin/enclave-signer" --nsm "sim:$work/nsm/nsm.json" --print-measurements |
  awk '$1 == "PCR0" {print $2}')
rogue_pcr0=$("$bin/enclave-signer" --nsm "sim:$work/nsm/rogue.json" --print-measurements |
  awk '$1 == "PCR0" {print $2}')
say "signer PCR0 ${pcr0:0:32}..."
say "rogue  PCR0 ${rogue_pcr0:0:32}..."
[ -n "$pcr0" ] && [ "$pcr0" != "$rogue_pcr0" ] || die "bad measurements"

step "devkms: a local KMS that trusts the development NSM root"
"$bin/devkms" --listen 127.0.0.1:0 --state "$work/kms" --region "$region" \
  --attestation-root "$work/nsm/root.pem" >"$work/devkms.out" 2>"$work/devkms.log" &
pids+=($!)
for _ in $(seq 200); do grep -q 'ready at' "$work/devkms.out" 2>/dev/null && break; sleep 0.05; done
endpoint=$(sed -n 's/.*ready at \(https:[^ ]*\).*/\1/p' "$work/devkms.out")
[ -n "$endpoint" ] || die "devkms did not start"
creds=$(cat "$work/kms/credentials.json")
say "$endpoint (TLS from its own development CA)"

step "signer-proxy: the parent instance's forwarder, allowed to reach devkms only"
"$bin/signer-proxy" --listen "unix:$work/proxy.sock" --remote "127.0.0.1:${endpoint##*:}" \
  2>"$work/proxy.log" &
pids+=($!)
wait_for_socket "$work/proxy.sock"
say "unix:$work/proxy.sock -> 127.0.0.1:${endpoint##*:}"

step "KMS key whose policy lets only PCR0 = the signer's measurement decrypt"
policy=$(cat <<POLICY
{"Version": "2012-10-17", "Statement": [
  {"Sid": "Administration and sealing", "Effect": "Allow", "Principal": {"AWS": "*"},
   "Action": ["kms:Create*", "kms:Describe*", "kms:Get*", "kms:Put*", "kms:Enable*",
              "kms:Disable*", "kms:ScheduleKeyDeletion", "kms:Encrypt"], "Resource": "*"},
  {"Sid": "Unsealing only inside the measured enclave", "Effect": "Allow",
   "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
   "Condition": {"StringEqualsIgnoreCase": {"kms:RecipientAttestation:PCR0": "$pcr0"}}}]}
POLICY
)
answer=$(kms CreateKey "$(node -e 'console.log(JSON.stringify({Policy: process.argv[1],
  Description: "enclave-signer local stack"}))' "$policy")")
key_id=$(json "$answer" KeyMetadata.KeyId)
kms CreateAlias "{\"AliasName\":\"alias/enclave-signer\",\"TargetKeyId\":\"$key_id\"}" >/dev/null
say "key $key_id, alias/enclave-signer"

step "enclave-signer (software NSM, kms sealing through the proxy)"
start_daemon signer "$work/nsm/nsm.json"
say "listening on unix:$work/signer.sock"

step "Session 1: Initialize, GenerateAndImport for the four key types, sealed keys to disk"
mkdir -p "$work/keys"
types=(Secp256k1 NistP256 Ed25519 Bls)
{
  for t in "${types[@]}"; do
    echo "generate-and-import $t --out $work/keys/$t.sealed"
  done
  echo "prove-possession --handle 3"
} | cli signer session - >"$work/session1.jsonl"
for i in "${!types[@]}"; do
  line=$(sed -n "$((i + 1))p" "$work/session1.jsonl")
  pk[$i]=$(json "$line" public_key.b58)
  say "$(printf '%-9s %s  %s' "${types[$i]}" "$(json "$line" public_key.address)" "${pk[$i]:0:24}...")"
done
say "BLS proof of possession $(json "$(sed -n 5p "$work/session1.jsonl")" proof.b58 | cut -c1-24)..."
say "sealed keys: $(cd "$work/keys" && ls -l --time-style=+ | awk 'NR > 1 {printf "%s (%s bytes) ", $NF, $5}')"
grep -q '"ok":false' "$work/session1.jsonl" && die "session 1 failed"

step "The enclave restarts: its keys now exist only sealed on disk"
stop_daemon
start_daemon signer "$work/nsm/nsm.json"
say "daemon restarted (same image, same PCR0)"

step "Session 2: Import the sealed keys (KMS Decrypt with Recipient), Sign, verify"
{
  for t in "${types[@]}"; do
    echo "import --sealed $work/keys/$t.sealed"
    for m in "${messages[@]}"; do echo "sign --handle last --message-hex '$m'"; done
  done
} | cli signer session - >"$work/session2.jsonl"
grep -q '"ok":false' "$work/session2.jsonl" && die "session 2 failed: $(grep '"ok":false' "$work/session2.jsonl")"
n=1
for i in "${!types[@]}"; do
  imported=$(sed -n "${n}p" "$work/session2.jsonl")
  [ "$(json "$imported" public_key.b58)" = "${pk[$i]}" ] || die "${types[$i]}: another key came back"
  for m in "${messages[@]}"; do
    n=$((n + 1))
    sig=$(json "$(sed -n "${n}p" "$work/session2.jsonl")" signature.b58)
    "$bin/signer-cli" verify --public-key "${pk[$i]}" --signature "$sig" --message-hex "$m" \
      >/dev/null || die "${types[$i]}: signature does not verify"
  done
  n=$((n + 1))
  say "$(printf '%-9s imported, same public key; %d signatures verified (%s...)' "${types[$i]}" \
    "${#messages[@]}" "${sig:0:20}")"
done

step "A daemon with other measurements asks KMS to unseal: refused"
stop_daemon
start_daemon rogue "$work/nsm/rogue.json"
if refusal=$(cli rogue import --sealed "$work/keys/Ed25519.sealed" 2>/dev/null); then
  die "the rogue daemon unsealed a key"
fi
reason=$(json "$refusal" error)
case $reason in *AccessDeniedException*) ;; *) die "unexpected refusal: $reason" ;; esac
say "$reason"
stop_daemon

printf '\n%sLOCAL STACK OK%s: 4 key types sealed by KMS, unsealed only by the measured\n' "$green" "$plain"
printf 'daemon after a restart, %d signatures verified, a daemon with other PCRs refused.\n' \
  $((${#types[@]} * ${#messages[@]}))
