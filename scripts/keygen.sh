#!/bin/sh
# One party's own identity with the openssl CLI, as `qnnvm keygen -p I -o DIR`
# does: scripts/keygen.sh I DIR
# Writes DIR/party<I>.key (mode 0600, never overwritten: it is the party's
# identity) and DIR/party<I>.pem (self-signed, CN=party<I>), and prints the
# certificate's SHA-256 fingerprint. Run it on party I's own machine, give
# party<I>.pem to every other party, and read the fingerprint out to them:
# each checks it with `openssl x509 -noout -fingerprint -sha256 -in party<I>.pem`.
set -eu
i=${1:?usage: keygen.sh PARTY DIR}
dir=${2:?usage: keygen.sh PARTY DIR}
case $i in *[!0-9]* | "") echo "keygen.sh: PARTY is a number, not '$i'" >&2; exit 1 ;; esac
mkdir -p "$dir"
if [ -e "$dir/party$i.key" ]; then
    echo "keygen.sh: $dir/party$i.key exists (an identity is kept: remove it to make a new one)" >&2
    exit 1
fi
umask 077
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$dir/party$i.key"
umask 022
openssl req -x509 -new -key "$dir/party$i.key" -sha256 -days 3650 -subj "/CN=party$i" -out "$dir/party$i.pem"
openssl x509 -noout -fingerprint -sha256 -in "$dir/party$i.pem"
