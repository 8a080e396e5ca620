#!/bin/sh
# run.sh: runs the fuzz harnesses (tests/fuzz/README.md); the Makefile's
# fuzz and fuzz-check targets call it.
#   run.sh fuzz  AFLBUILD SECONDS NAME...
#       afl-fuzz each harness for SECONDS, one after the other, into
#       build/fuzz/out/NAME (resumed when it exists), and prints per harness
#       executions, corpus size, crashes and hangs from its fuzzer_stats
#   run.sh check PLAINBUILD AFLBUILD SECONDS NAME...
#       every file of tests/fuzz/seeds/NAME and tests/fuzz/crashes/NAME
#       through PLAINBUILD/fuzz-NAME (one process per file, so one crash
#       fails one file), then a fresh SECONDS-long afl-fuzz pass per harness
#       in build/fuzz/ci/NAME when afl-fuzz is installed (missing with
#       CI=true: a failure). A corpus file that fails, or afl-fuzz that does
#       not start, fails. What the short random pass finds is new: it is
#       reported loudly and copied to build/fuzz/findings/NAME (to become a
#       regression file and a fix), but fails the check only with
#       QNN_FUZZ_STRICT=1, so that a run of the suite does not pass or fail
#       by chance. Ends with "fuzz: N passed, N failed".
set -u
here=$(dirname "$0")
mode=$1
shift

# afl-fuzz in a container shared with other jobs: no CPU frequency or
# core-pattern tuning, no pinning to a core, no UI; -m none because
# AddressSanitizer reserves terabytes of address space.
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1 AFL_FAST_CAL=1

stat_of() { # stat_of FILE KEY...: the first key present
    f=$1
    shift
    for k in "$@"; do
        v=$(sed -n "s/^$k *: *//p" "$f" 2>/dev/null | head -n 1)
        [ -n "$v" ] && { echo "$v"; return; }
    done
    echo "?"
}

# afl_run NAME BIN SECONDS OUT: one afl-fuzz session; prints its figures
# and returns 2 when it saved a crash or a hang, 1 when it did not start.
afl_run() {
    name=$1 bin=$2 secs=$3 out=$4
    in=$(mktemp -d)
    cp "$here/seeds/$name"/* "$in"/ 2>/dev/null
    [ -d "$here/crashes/$name" ] && cp "$here/crashes/$name"/* "$in"/ 2>/dev/null
    dict=""
    [ -f "$here/$name.dict" ] && dict="-x $here/$name.dict"
    if [ -f "$out/default/fuzzer_stats" ]; then
        rm -rf "$in"
        in=- # resume: the queue of the last session
    else
        rm -rf "$out"
    fi
    # -V stops after SECONDS; the timeout is the backstop if it does not
    timeout -k 10 $((secs + 60)) \
        afl-fuzz -i "$in" -o "$out" -m none -t 2000 -V "$secs" $dict -- "$bin" \
        >"$out.log" 2>&1
    rc=$?
    [ "$in" != - ] && rm -rf "$in"
    st="$out/default/fuzzer_stats"
    if [ ! -f "$st" ]; then
        echo "fuzz: $name: afl-fuzz did not start (exit $rc), see $out.log:"
        tail -n 5 "$out.log" | sed 's/^/    /'
        return 1
    fi
    execs=$(stat_of "$st" execs_done)
    paths=$(stat_of "$st" corpus_count paths_total)
    found=$(stat_of "$st" corpus_found paths_found)
    crashes=$(stat_of "$st" saved_crashes unique_crashes)
    hangs=$(stat_of "$st" saved_hangs unique_hangs)
    speed=$(stat_of "$st" execs_per_sec)
    regress=$(ls "$here/crashes/$name" 2>/dev/null | wc -l)
    printf 'fuzz: %-9s %9s execs (%s/s) corpus %5s (%s new)  crashes %s  hangs %s  regression files %s\n' \
        "$name" "$execs" "$speed" "$paths" "$found" "$crashes" "$hangs" "$regress"
    if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
        ls -d "$out"/default/crashes/id* "$out"/default/hangs/id* 2>/dev/null | head -n 5 |
            sed 's/^/    /'
        return 2
    fi
    return 0
}

case $mode in
fuzz)
    build=$1 secs=$2
    shift 2
    if ! command -v afl-fuzz >/dev/null 2>&1; then
        echo "fuzz: afl-fuzz not found (apt-get install afl++, or scripts/install-deps.sh)"
        exit 1
    fi
    mkdir -p build/fuzz/out
    bad=0
    for name in "$@"; do
        afl_run "$name" "$build/fuzz-$name" "$secs" "build/fuzz/out/$name" || bad=$((bad + 1))
    done
    [ $bad -eq 0 ] || { echo "fuzz: $bad harness(es) found crashes or hangs (above)"; exit 1; }
    ;;
check)
    build=$1 afl=$2 secs=$3
    shift 3
    pass=0 fail=0
    for name in "$@"; do
        for f in "$here/seeds/$name"/* "$here/crashes/$name"/*; do
            [ -f "$f" ] || continue
            if timeout 20 "$build/fuzz-$name" "$f" >/dev/null 2>"$build/fuzz-$name.err"; then
                pass=$((pass + 1))
            else
                fail=$((fail + 1))
                echo "fuzz: $name: FAILED on $f:"
                head -n 20 "$build/fuzz-$name.err" | sed 's/^/    /'
            fi
        done
    done
    echo "fuzz: corpora: $pass files passed, $fail failed ($build)"
    if command -v afl-fuzz >/dev/null 2>&1 && [ -x "$afl/fuzz-$1" ]; then
        rm -rf build/fuzz/ci
        mkdir -p build/fuzz/ci
        for name in "$@"; do
            afl_run "$name" "$afl/fuzz-$name" "$secs" "build/fuzz/ci/$name"
            rc=$?
            if [ $rc -eq 2 ]; then
                mkdir -p "build/fuzz/findings/$name"
                cp "build/fuzz/ci/$name"/default/crashes/id* "build/fuzz/ci/$name"/default/hangs/id* \
                    "build/fuzz/findings/$name"/ 2>/dev/null
                echo "fuzz: $name: NEW FINDING of the random pass (above, copied to build/fuzz/findings/$name):"
                echo "fuzz: $name: make it a file of tests/fuzz/crashes/$name and fix it"
                [ "${QNN_FUZZ_STRICT:-0}" = 1 ] && rc=1 || rc=0
            fi
            if [ $rc -eq 0 ]; then
                pass=$((pass + 1))
            else
                fail=$((fail + 1))
            fi
        done
    elif [ "${CI:-}" = true ]; then
        echo "fuzz: CI: afl-fuzz (AFL++) is missing; scripts/install-deps.sh installs it"
        fail=$((fail + 1))
    else
        echo "fuzz: afl-fuzz or the afl build ($afl) missing: corpora only"
    fi
    echo "fuzz: $pass passed, $fail failed"
    [ $fail -eq 0 ]
    ;;
*)
    echo "usage: run.sh fuzz AFLBUILD SECONDS NAME... | check PLAINBUILD AFLBUILD SECONDS NAME..." >&2
    exit 2
    ;;
esac
