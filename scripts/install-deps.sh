#!/bin/sh
# Installs the build and test dependencies that are missing (Debian/Ubuntu;
# clang, the compiler the Makefile prefers; afl++ for the fuzzing pass of
# make check);
# `install-deps.sh bench` adds what make bench needs (gnuplot, bc).
# As root it runs apt-get; otherwise it prints the exact command to run.
set -eu
need=""
extra=""
[ "${1:-}" = bench ] && extra="gnuplot-nox bc" # make bench: the plot
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in flex bison libssl-dev libgmp-dev check pkg-config make gcc clang afl++ $extra; do
    have_pkg "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
cmd="apt-get install -y --no-install-recommends$need"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$need" >&2
    echo "install-deps: run: sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
echo "install-deps: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || echo "install-deps: apt-get update failed; trying the cached lists" >&2
$cmd >&2
