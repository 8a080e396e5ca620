#!/bin/sh
# Hostile peers during a three-party rep3 run (tests/hostile.sh BUILD_DIR),
# all on 127.0.0.1, bounded in count and time:
#  - strangers (unauthenticated) during set-up: garbage before the hello,
#    wrong certificates (self-signed, or signed by another CA) for a party's
#    name, one byte per second, storms of connections, all of it at once:
#    the run completes with the right output (against --protocol clear);
#  - a listener with a wrong certificate: the party dialling it stops at
#    once with the reason;
#  - an authenticated party gone bad (the tool holds party 0's real key):
#    a frame claiming 2^32 bytes, a truncated frame then silence, an abort
#    frame claiming 4 GB, silence: the honest parties stop within their
#    timeout with a one-line reason, exit non-zero, release no output and
#    stay small.
# Every reason line observed is printed.
set -u
B=${1:-build/release}
QNNC=$B/qnnc
QNNVM=$B/qnnvm
H=$B/hostile
T=$(mktemp -d /tmp/qnn-hostile.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
export QNN_NO_HUGEPAGES=1 # /usr/bin/time measures the process itself, not a re-executed one
MAX_RSS_KB=100000

p=tests/programs/ops_u8.qnn
"$QNNC" "$p" -o "$T/p.qbc" && "$QNNC" weights "$p" --party model --seed 3 -o "$T/w.qw" &&
    "$QNNC" weights "$p" --party client --seed 1 -o "$T/x.qw" || { echo "hostile: cannot compile $p"; exit 1; }
"$QNNVM" run --quiet --input "0:$T/w.qw" --input "1:$T/x.qw" "$T/p.qbc" | grep '^output' >"$T/clear.out"

# identities: each party's own key, every peer's certificate pinned; the
# wrong ones: another key for party 1's name, and another CA's party 1
for i in 0 1 2; do "$QNNVM" keygen -p "$i" -o "$T/own$i" >/dev/null || bad "keygen $i"; done
for i in 0 1 2; do for j in 0 1 2; do [ "$i" = "$j" ] || cp "$T/own$j/party$j.pem" "$T/own$i/"; done; done
"$QNNVM" keygen -p 1 -o "$T/evil" >/dev/null && "$QNNVM" keygen -p 0 -o "$T/evil" >/dev/null || bad "keygen evil"
sh scripts/make-certs.sh "$T/otherca" 3 >/dev/null 2>&1 && sh scripts/make-certs.sh "$T/ca" 3 >/dev/null 2>&1 || bad "make-certs.sh"

# below Linux's ephemeral ports (32768-60999): no outgoing connection can hold a
# party's port when it binds
base=$((20000 + $$ % 10000))
hosts() { # hosts: a fresh hosts file with three free-looking ports
    base=$((base + 3))
    printf '127.0.0.1:%d\n127.0.0.1:%d\n127.0.0.1:%d\n' "$base" $((base + 1)) $((base + 2)) >"$T/hosts"
}

# party I [ARGS...]: party I of the run in the background, identity from
# $CERTS (own: its own directory), stdout/stderr/peak RSS in $T/oI, eI, mI
CERTS=own
party() {
    i=$1
    shift
    case $CERTS in own) c="--certs $T/own$i" ;; ca) c="--certs $T/ca" ;; *) c="--insecure" ;; esac
    in=""
    [ "$i" = 0 ] && in="--input $T/w.qw"
    [ "$i" = 1 ] && in="--input $T/x.qw"
    # shellcheck disable=SC2086
    /usr/bin/time -f %M -o "$T/m$i" "$QNNVM" run -p "$i" -N 3 --hosts "$T/hosts" $c --protocol rep3 --quiet \
        --timeout "${TIMEOUT:-20}" $in "$@" "$T/p.qbc" >"$T/o$i" 2>"$T/e$i" &
    eval "pid$i=\$!"
}

# right: party 1's output against clear (argmax exact, requantized values within 1)
right() {
    grep '^output' "$T/o1" >"$T/sec.out"
    [ -s "$T/sec.out" ] && paste -d '\n' "$T/clear.out" "$T/sec.out" | awk '
        NR % 2 == 1 { name = $2; split($0, h, ":"); n = split(h[2], a, " "); next }
        { split($0, h, ":"); split(h[2], b, " ")
          for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > (name == "x" ? 0 : 1)) bad = 1 } }
        END { exit bad }'
}

# completes NAME: the run finished with the right output; prints what the
# parties logged about strangers
completes() {
    wait
    if right; then ok; else bad "$1: $(cat "$T/e0" "$T/e1" "$T/e2")"; fi
    grep -h "dropped" "$T/e0" "$T/e1" "$T/e2" | sed 's/^/    /' | head -n "${SHOW:-3}"
}

# stops NAME SECONDS PARTIES...: those parties exited non-zero within
# SECONDS, released no output, each with one reason line, in bounded memory
stops() {
    name=$1 limit=$2
    shift 2
    for i in "$@"; do
        wait "$(eval echo "\$pid$i")"
        rc=$?
        lines=$(grep -c '^qnnvm: party' "$T/e$i")
        rss=$(tail -n 1 "$T/m$i")
        [ "$rc" -ne 0 ] && [ ! -s "$T/o$i" ] && [ "$lines" = 1 ] && [ "$rss" -lt "$MAX_RSS_KB" ] && ok ||
            bad "$name: party $i: exit $rc, $(wc -l <"$T/o$i") output lines, $lines reason lines, $rss KB: $(cat "$T/e$i")"
        echo "    party $i (exit $rc, peak $rss KB): $(grep '^qnnvm: party' "$T/e$i")"
    done
    took=$(($(date +%s) - start))
    [ "$took" -le "$limit" ] && ok || bad "$name: took ${took} s, more than $limit"
    wait
}

echo "-- strangers during set-up"
for mode in own insecure; do
    CERTS=$mode
    hosts
    party 0
    sleep 0.3
    "$H" garbage "$base" 300
    party 1
    party 2
    echo "  garbage before the hello ($mode):"
    completes "garbage before the hello ($mode)"
done

for mode in own ca; do
    CERTS=$mode
    for wrong in "self-signed:$T/evil/party1" "another CA's:$T/otherca/party1"; do
        hosts
        party 0
        sleep 0.3
        f=${wrong#*:}
        r=$("$H" tls "$base" "$f.pem" "$f.key") && ok || bad "a wrong certificate was accepted ($mode, ${wrong%%:*})"
        party 1
        party 2
        echo "  ${wrong%%:*} certificate for party1 ($mode): the stranger saw: $r"
        completes "${wrong%%:*} certificate ($mode)"
    done
done

CERTS=own
hosts
party 0
sleep 0.3
"$H" slowloris "$base" 8 &
loris=$!
sleep 1.2
t0=$(date +%s%N)
party 1
party 2
wait "$pid1" "$pid2"
echo "  slow-loris (one byte per second) on party 0's port, parties 1 and 2 joining 1.2 s in:"
echo "    parties 1 and 2 done $((($(date +%s%N) - t0) / 1000000)) ms after joining"
kill "$loris" 2>/dev/null
completes "slow-loris"

hosts
party 0
party 1
sleep 0.2
t0=$(date +%s%N)
"$H" storm "$base" 200 3 >"$T/s0" &
"$H" storm $((base + 1)) 200 3 >"$T/s1" &
sleep 1
party 2
wait "$pid2"
setup=$((($(date +%s%N) - t0) / 1000000 - 1000))
echo "  storms (200 connections over 3 s to parties 0 and 1), party 2 joining 1 s in:"
SHOW=2 completes "storm"
echo "    $(cat "$T/s0") / $(cat "$T/s1"); party 2 finished ${setup} ms after joining the storm"
grep -h "dropped .* in all" "$T/e0" "$T/e1" | sed 's/^/    /'

hosts
party 0
party 1
sleep 0.2
for port in "$base" $((base + 1)) $((base + 2)); do
    "$H" garbage "$port" 1000 >/dev/null 2>&1 &
    "$H" tls "$port" "$T/evil/party1.pem" "$T/evil/party1.key" >/dev/null 2>&1 &
    "$H" tls "$port" "$T/otherca/party1.pem" "$T/otherca/party1.key" >/dev/null 2>&1 &
    "$H" storm "$port" 100 2 >/dev/null 2>&1 &
done
sleep 0.5
party 2
echo "  garbage, wrong certificates and storms at every party's port at once:"
SHOW=0 completes "everything at once"
grep -h "dropped .* in all" "$T/e0" "$T/e1" | sed 's/^/    /'

echo "-- a listener with a wrong certificate"
hosts
"$H" serve "$base" "$T/evil/party0.pem" "$T/evil/party0.key" silence >/dev/null &
sleep 0.3
start=$(date +%s)
party 1
stops "party 0 with a wrong certificate" 3 1

echo "-- party 0 authenticated, then breaking the protocol"
# The timeout bounds the set-up too: 5 s was once too short for a loaded CI
# host under ASan (a party never reached the tool, so nothing was tested).
TIMEOUT=10
for mode in bigframe truncated bigabort silence; do
    hosts
    "$H" serve "$base" "$T/own0/party0.pem" "$T/own0/party0.key" "$mode" >"$T/serve.txt" &
    sleep 0.3
    start=$(date +%s)
    party 1
    party 2
    echo "  $mode:"
    stops "$mode" 22 1 2
    grep -q "2 parties greeted" "$T/serve.txt" ||
        bad "$mode: the tool did not get in: $(cat "$T/serve.txt"); the parties said: $(cat "$T/e1" "$T/e2")"
done

echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
