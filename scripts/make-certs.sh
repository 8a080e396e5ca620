#!/bin/sh
# Makes a local certificate authority and one key + certificate per party
# for qnnvm's mutual TLS:  scripts/make-certs.sh DIR NPARTIES
# Writes DIR/ca.pem, DIR/party<i>.pem, DIR/party<i>.key (CN=party<i>).
# Whoever holds DIR/ca.key can mint any party's certificate: use it only
# when one operator runs every party (tests, demos). Parties run by
# different people make their own keys instead (scripts/keygen.sh or
# `qnnvm keygen`) and pin each other's certificates (README).
set -eu
dir=${1:?usage: make-certs.sh DIR NPARTIES}
n=${2:?usage: make-certs.sh DIR NPARTIES}
mkdir -p "$dir"
umask 077
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 365 -subj "/CN=qnn CA" \
    -addext "basicConstraints=critical,CA:TRUE" -out "$dir/ca.pem"
i=0
while [ "$i" -lt "$n" ]; do
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/party$i.key.ec"
    openssl pkcs8 -topk8 -nocrypt -in "$dir/party$i.key.ec" -out "$dir/party$i.key"
    rm -f "$dir/party$i.key.ec"
    openssl req -new -key "$dir/party$i.key" -subj "/CN=party$i" -out "$dir/party$i.csr"
    openssl x509 -req -in "$dir/party$i.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -sha256 -days 365 -out "$dir/party$i.pem" 2>/dev/null
    rm -f "$dir/party$i.csr"
    i=$((i + 1))
done
echo "certificates for $n parties in $dir"
