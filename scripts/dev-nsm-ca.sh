#!/usr/bin/env bash
# Makes the development NSM's certificate authority and the software NSM's
# configuration (docs/nsm-sim.md).
#
#   dev-nsm-ca.sh DIR [--pcr N=HEX]... [--pcr-file N=PATH]... [--module-id ID]
#                     [--config NAME]
#
# DIR/root.pem       the root devkms must trust (--attestation-root)
# DIR/ca.pem, ca.key the issuing CA the software NSM signs its leaf with
# DIR/chain.pem      ca.pem then root.pem
# DIR/nsm.json       the configuration for enclave-signer --nsm sim:DIR/nsm.json
#                    (--config NAME writes DIR/NAME instead)
# An existing CA in DIR is kept; the configuration is rewritten from the
# arguments, so several simulated enclaves (different PCRs) can share a CA.
set -euo pipefail

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
dir=$1; shift
module_id="i-0dev0000000000000-enc0dev000000000000"
pcrs=(); files=(); config=nsm.json
while [ $# -gt 0 ]; do
  case $1 in
    --pcr) pcrs+=("$2"); shift 2 ;;
    --pcr-file) files+=("$2"); shift 2 ;;
    --module-id) module_id=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    *) usage ;;
  esac
done

mkdir -p "$dir"
cd "$dir"
if [ ! -f chain.pem ]; then
  umask 077
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out root.key 2>/dev/null
  openssl req -x509 -new -key root.key -sha384 -days 3650 \
    -subj "/O=Development/CN=Development Nitro Enclaves Root G1" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ca.key 2>/dev/null
  openssl req -new -key ca.key -subj "/O=Development/CN=Development Nitro Enclaves Issuing CA" \
    -out ca.csr
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >ca.ext
  openssl x509 -req -in ca.csr -CA root.pem -CAkey root.key -CAcreateserial -days 1825 \
    -sha384 -extfile ca.ext -out ca.pem 2>/dev/null
  rm -f ca.csr ca.ext root.srl
  cat ca.pem root.pem >chain.pem
  chmod 644 root.pem ca.pem chain.pem
fi

json_list() { # N=VALUE... -> "N": "VALUE", ...
  local sep="" item
  for item in "$@"; do
    printf '%s\n    "%s": "%s"' "$sep" "${item%%=*}" "${item#*=}"
    sep=","
  done
}
{
  printf '{\n  "module_id": "%s",\n  "ca_key": "ca.key",\n  "ca_chain": "chain.pem",\n' "$module_id"
  printf '  "pcrs": {%s\n  },\n' "$(json_list "${pcrs[@]+"${pcrs[@]}"}")"
  printf '  "pcr_files": {%s\n  }\n}\n' "$(json_list "${files[@]+"${files[@]}"}")"
} >"$config"
