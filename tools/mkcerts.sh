#!/usr/bin/env bash
# Creates a cluster CA and one certificate per node for dine's mutual TLS
# between nodes (docs/security.md, "Mutual TLS"), with the openssl CLI.
#
#   tools/mkcerts.sh DIR NODE...      e.g. tools/mkcerts.sh certs coord w1 w2
#
# DIR/ca.pem, DIR/ca.key (keep it offline: whoever has it can mint nodes),
# DIR/NODE.pem and DIR/NODE.key for each NODE (mode 600). An existing CA in
# DIR is reused, so the script also adds nodes to a cluster or renews their
# certificates (rotation: docs/security.md). Keys are P-256 EC; node
# certificates are valid for DINE_CERT_DAYS days (default 365), the CA for
# 10 years. CAF 0.17.6 verifies the chain only, not host names: the CN is
# for operators.
set -euo pipefail
if (($# < 2)); then
  echo "usage: $0 DIR NODE..." >&2
  exit 2
fi
dir=$1
shift
days=${DINE_CERT_DAYS:-365}
mkdir -p "$dir"
umask 077
if [[ ! -s $dir/ca.pem || ! -s $dir/ca.key ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 3650 -subj "/CN=dine cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  chmod 644 "$dir/ca.pem"
fi
ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
printf '%s\n' "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyAgreement" \
  "extendedKeyUsage=serverAuth,clientAuth" >"$ext"
for node in "$@"; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$node" -keyout "$dir/$node.key" -out "$dir/$node.csr" \
    2>/dev/null
  openssl x509 -req -in "$dir/$node.csr" -CA "$dir/ca.pem" \
    -CAkey "$dir/ca.key" -CAcreateserial -days "$days" -extfile "$ext" \
    -out "$dir/$node.pem" 2>/dev/null
  rm -f "$dir/$node.csr"
  chmod 644 "$dir/$node.pem"
  echo "$dir/$node.pem $dir/$node.key"
done
