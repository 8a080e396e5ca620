#!/bin/sh
# End-to-end tests of the command-line tools: tests/run.sh BUILD_DIR
# Uses BUILD_DIR/qnnc and BUILD_DIR/qnnvm (so a sanitizer build is tested as
# such) and prints "e2e: N passed, N failed".
set -u
B=${1:-build/release}
QNNC=$B/qnnc
QNNVM=$B/qnnvm
T=$(mktemp -d /tmp/qnn-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check NAME COMMAND...: the command must succeed
    name=$1; shift
    if "$@" >"$T/out" 2>"$T/err"; then ok; else bad "$name"; cat "$T/err"; fi
}
refuse() { # refuse NAME PATTERN COMMAND...: must fail with one line matching PATTERN
    name=$1; pat=$2; shift 2
    if "$@" >"$T/out" 2>"$T/err"; then bad "$name (succeeded)"; return; fi
    if ! grep -q -- "$pat" "$T/err"; then bad "$name: '$pat' not in: $(cat "$T/err")"; return; fi
    ok
}

# every example compiles, gets weights, runs in clear and is inspectable
for src in programs/*.qnn; do
    n=$(basename "$src" .qnn)
    check "compile $n" "$QNNC" "$src" -o "$T/$n.qbc"
    check "weights $n" "$QNNC" weights "$src" --party 0 --seed 1 -o "$T/$n.w.qw"
    check "client input $n" "$QNNC" weights "$src" --party 1 --seed 2 -o "$T/$n.in.qw"
    check "run $n" "$QNNVM" run --protocol clear --input "0:$T/$n.w.qw" --input "1:$T/$n.in.qw" \
        --output "$T/$n.out" "$T/$n.qbc"
    grep -q "^output " "$T/out" && ok || bad "run $n prints its output"
    [ -s "$T/$n.out" ] && ok || bad "run $n --output wrote nothing"
    # the values printed are the ones --output wrote, in their dtypes' ranges
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import re, struct, sys
vals, fmt = [], ""
for line in open(sys.argv[1]):
    m = re.match(r"output \S+ \((\w+) (\w+)\[[^]]*\]\) to \S+: (.*)", line)
    if m:
        v = [int(x) for x in m.group(3).split()]
        fmt += {"u8": "B", "i8": "b", "i32": "i"}[m.group(2)] * len(v)
        vals += v
assert vals and struct.unpack("<" + fmt, open(sys.argv[2], "rb").read()) == tuple(vals)' "$T/out" "$T/$n.out" \
            && ok || bad "run $n: printed outputs differ from --output's bytes"
    fi
    check "inspect $n" "$QNNVM" inspect "$T/$n.qbc"
    grep -q "ROUND" "$T/out" && grep -q "^rounds: " "$T/out" && grep -q "^bytes sent per party" "$T/out" \
        && ok || bad "inspect $n prints the listing and the costs"
    check "inspect --json $n" "$QNNVM" inspect --json "$T/$n.qbc"
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["protocol"]=="clear" and d["parties"]==1 and isinstance(d["rounds"],int) and len(d["bytes_sent"])==1' "$T/out" \
            && ok || bad "inspect --json $n is not the documented object"
    fi
done

# tiny_cnn: the argmax output is one int32 written as 4 bytes
[ "$(wc -c <"$T/tiny_cnn.out")" -eq 4 ] && ok || bad "tiny_cnn --output size"

# a model's float edges: the client quantizes its float32 input as TFLite's
# QUANTIZE does and gets float32 from an output dequantize(), TFLite's
# DEQUANTIZE; quantize_test.cc QuantizeOpTest.INT8 (scale 0.5, zero point
# -1) and back. A program with such an output is format version 6, one
# without stays 5 (version 5 readers take it).
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<10f", -63.5, -63, -62.5, -62, -61.5, 62, 62.5, 63, 63.5, 64))' "$T/f.bin"
    check "qnnc quantize" "$QNNC" quantize "$T/f.bin" --quant 0.5,-1 --int8 -o "$T/q.bin"
    [ "$(od -An -v -td1 "$T/q.bin" | tr -s ' \n' ' ')" = " -128 -127 -126 -125 -124 123 124 125 126 127 " ] && ok \
        || bad "qnnc quantize: QuantizeOpTest.INT8's codes, got $(od -An -v -td1 "$T/q.bin")"
    printf 'network dq\nparty c = 0\ninput x : i8[1,10] q(0.5, -1) from c\noutput dequantize(x) to c\n' >"$T/dq.qnn"
    check "compile dequantize" "$QNNC" "$T/dq.qnn" -o "$T/dq.qbc"
    check "run dequantize" "$QNNVM" run --input "0:$T/q.bin" --output "$T/dq.out" "$T/dq.qbc"
    cmp -s "$T/dq.out" "$T/f.bin" && ok || bad "dequantize: --output differs from the floats quantized"
    grep -q '^output x (dequantize i8\[1x10\]) to c: -63.5 -63 -62.5 -62 -61.5 62 62.5 63 63.5 64$' "$T/out" && ok \
        || bad "dequantize: printed $(cat "$T/out")"
    [ "$(od -An -tu2 -j4 -N2 "$T/dq.qbc" | tr -d ' ')" = 6 ] && [ "$(od -An -tu2 -j4 -N2 "$T/tiny_cnn.qbc" | tr -d ' ')" = 5 ] \
        && ok || bad "format versions: 6 with a dequantized output, else 5"
    # a float model's edges imported (tests/fuzz/mktflite.py float_edges:
    # float32 -> QUANTIZE -> HARD_SWISH -> MEAN -> DEQUANTIZE -> float32)
    mkdir -p "$T/mk" && python3 tests/fuzz/mktflite.py "$T/mk"
    check "import float edges" "$QNNC" import "$T/mk/float_edges.tflite" -o "$T/fe"
    grep -q '^input x : i8\[1,2,2,3\] q(0.5, -1) from client$' "$T/fe/float_edges.qnn" \
        && grep -q '^output dequantize(m) to client$' "$T/fe/float_edges.qnn" && ok \
        || bad "float edges: the QUANTIZE's output as the input, a dequantized output: $(cat "$T/fe/float_edges.qnn")"
    python3 -c 'import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<12f", *[0.5 * k - 3 for k in range(12)]))' "$T/fin.bin"
    check "quantize float edges' input" "$QNNC" quantize "$T/fin.bin" --quant 0.5,-1 --int8 -o "$T/fin.q"
    check "compile float edges" "$QNNC" "$T/fe/float_edges.qnn" -o "$T/fe.qbc"
    check "run float edges" "$QNNVM" run --input "1:$T/fin.q" --output "$T/fe.out" "$T/fe.qbc"
    [ "$(wc -c <"$T/fe.out")" -eq 12 ] && ok || bad "float edges: 3 float32 out"
fi
# the same run twice gives the same answer
"$QNNVM" run --quiet --input "0:$T/tiny_cnn.w.qw" --input "1:$T/tiny_cnn.in.qw" "$T/tiny_cnn.qbc" >"$T/a"
"$QNNVM" run --quiet --input "model:$T/tiny_cnn.w.qw" --input "client:$T/tiny_cnn.in.qw" "$T/tiny_cnn.qbc" >"$T/b"
cmp -s "$T/a" "$T/b" && ok || bad "runs are deterministic and parties may be named"

# the registry: qnnvm protocols --json lists every protocol with its
# parties, security, domain and preprocessing sources; --configs names the
# configurations the other scripts run, all of them protocols of the list
check "protocols --json" "$QNNVM" protocols --json
if command -v python3 >/dev/null 2>&1; then
    "$QNNVM" protocols --configs >"$T/configs"
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); names = [p["name"] for p in d]
assert "clear" in names and len(names) >= 4, names
for p in d:
    assert p["parties"]["min"] <= p["parties"]["max"] and p["security"] and p["domain"] and isinstance(p["preprocessing"], list), p
    assert all(p["parties"]["min"] <= n <= p["parties"]["max"] for n in p["configs"]), p
cfg = open(sys.argv[2]).read().split()
assert sorted({c.split(":")[0] for c in cfg}) == sorted(names), cfg' "$T/out" "$T/configs" \
        && ok || bad "qnnvm protocols --json / --configs disagree or lack fields: $(cat "$T/out")"
fi
refuse "protocols: bad option" "unknown option --nope" "$QNNVM" protocols --nope

# a program with three errors: three file:line:col messages, exit status 1
printf 'network e\nparty p = 0\ninput x : u8[1,4] q(0.1, 0) from p\ny = conv2d(x, w) -> q(1, 0)\nz = flatten(nope)\noutput x to nobody\n' >"$T/three.qnn"
"$QNNC" "$T/three.qnn" -o "$T/three.qbc" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && ok || bad "three errors: exit status $rc"
[ "$(grep -c "^$T/three.qnn:[0-9]*:[0-9]*: error: " "$T/err")" -eq 3 ] && ok || bad "three errors: $(cat "$T/err")"
[ ! -e "$T/three.qbc" ] && ok || bad "three errors: no bytecode written"

# bad bytecode, inputs and options: one clear line, non-zero exit, no crash
head -c 100 "$T/tiny_cnn.qbc" >"$T/trunc.qbc"
refuse "truncated bytecode" "trunc.qbc: offset [0-9]*: file truncated" "$QNNVM" inspect "$T/trunc.qbc"
printf 'garbage' >"$T/junk.qbc"
refuse "not bytecode" "bad magic" "$QNNVM" run --input "0:$T/tiny_cnn.w.qw" "$T/junk.qbc"
refuse "missing input" "missing input 'image' of party client" "$QNNVM" run --input "0:$T/tiny_cnn.w.qw" "$T/tiny_cnn.qbc"
head -c 700 /dev/zero >"$T/short.bin"
refuse "raw input of the wrong size" "700 bytes, the input needs 784" "$QNNVM" run --input "0:$T/tiny_cnn.w.qw" --input "1:$T/short.bin" "$T/tiny_cnn.qbc"
head -c 784 /dev/zero >"$T/zero.bin"
check "raw .bin input" "$QNNVM" run --input "0:$T/tiny_cnn.w.qw" --input "client:$T/zero.bin" "$T/tiny_cnn.qbc"
refuse "unknown party" "expected PARTY:FILE" "$QNNVM" run --input "bob:$T/zero.bin" "$T/tiny_cnn.qbc"
refuse "wrong tensor file" "no tensor 'image'" "$QNNVM" run --input "0:$T/tiny_cnn.w.qw" --input "1:$T/tiny_cnn.w.qw" "$T/tiny_cnn.qbc"
refuse "unknown protocol" "unknown protocol 'nope'" "$QNNVM" run --protocol nope "$T/tiny_cnn.qbc"
refuse "unknown option" "unknown or incomplete option --frobnicate" "$QNNVM" run --frobnicate "$T/tiny_cnn.qbc"
refuse "missing source" "No such file" "$QNNC" "$T/none.qnn"
check "help" "$QNNVM" --help
check "compiler help" "$QNNC" --help

# --threads gives the same answer; option errors are clear
"$QNNVM" run --quiet --threads 2 --input "0:$T/tiny_cnn.w.qw" --input "1:$T/tiny_cnn.in.qw" "$T/tiny_cnn.qbc" >"$T/c"
cmp -s "$T/a" "$T/c" && ok || bad "--threads 2 changes the result"
refuse "bad --prep" "only preprocessing source so far is 'dealer'" "$QNNVM" run --local 2 --protocol semi2k --prep ot "$T/tiny_cnn.qbc"
refuse "rep3 needs 3 parties" "protocol rep3 runs with 3 to 3 parties, not 2" "$QNNVM" run --local 2 --protocol rep3 "$T/tiny_cnn.qbc"
refuse "secure protocol without parties" "use --local N" "$QNNVM" run --protocol semi2k "$T/tiny_cnn.qbc"
check "inspect semi2k" "$QNNVM" inspect --no-code --protocol semi2k --parties 2 "$T/tiny_cnn.qbc"
grep -q "^preprocessing (dealer): .* triples" "$T/out" && ok || bad "inspect reports the dealer's material"
grep -q "^  conv2d  *X [0-9x]* \* W [0-9x]* -> Y [0-9x]*: [1-9]" "$T/out" && ok || bad "inspect lists the convolution triples by shape"
check "inspect spdz2k" "$QNNVM" inspect --json --protocol spdz2k --parties 3 "$T/tiny_cnn.qbc"
grep -q '"conv_triple_shapes": \[{"op": "conv2d", "x": \[' "$T/out" && grep -q '"dealer_bytes_sent": [1-9]' "$T/out" \
    && ok || bad "inspect --json spdz2k: no triple shapes or dealer bytes"

check "inspect hemi" "$QNNVM" inspect --json --protocol hemi "$T/tiny_cnn.qbc"
if command -v python3 >/dev/null 2>&1; then # the kinds' bytes and the set-up's make the total
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=d["bytes_by_operation"]
assert k["CONV2D"][0] > 0 and k["CONV2D"][1] > 0, k
for i in range(2): assert sum(v[i] for v in k.values()) < d["bytes_sent"][i]
for i in range(2): assert 0 < d["input_independent_bytes_sent"][i] < d["bytes_sent"][i]
for l in d["layers"]:
    for i in range(2): assert sum(v[i] for v in l["bytes_by_operation"].values()) == l["bytes_sent"][i], l' "$T/out" \
        && ok || bad "inspect --json hemi: bytes_by_operation or input_independent_bytes_sent missing or off"
fi
check "inspect hemi (text)" "$QNNVM" inspect --no-code --protocol hemi "$T/tiny_cnn.qbc"
grep -q "^  CONV2D  *p0=[1-9][0-9]* p1=[1-9]" "$T/out" && grep -q "^  other  *p0=[1-9]" "$T/out" \
    && ok || bad "inspect hemi: no bytes by kind of operation"

check "qnnc --stats" "$QNNC" --stats programs/tiny_cnn.qnn
grep -q "^rep3 *3 " "$T/out" && grep -q "^semi2k *2 " "$T/out" && grep -q "^spdz2k *2 " "$T/out" && ok || bad "--stats lists the protocols"

# every layer's output dumped, in order
check "dump layers" "$QNNVM" run --input "0:$T/tiny_cnn.w.qw" --input "1:$T/tiny_cnn.in.qw" --dump-layers "$T/layers" "$T/tiny_cnn.qbc"
[ -f "$T/layers/000_c1.bin" ] && [ "$(wc -c <"$T/layers/000_c1.bin")" -eq 5408 ] && [ -f "$T/layers/003_y.bin" ] \
    && ok || bad "dump layers wrote $(ls "$T/layers" 2>/dev/null)"

# progress: --progress writes each process's line to a non-terminal stderr as plain lines
# (first layer named, rounds against the prediction, bytes, a final "done"); without it
# nothing; stdout is the same either way (times, the set-up's too, and peak memory aside)
esc=$(printf '\033')
for pa in "--protocol clear" "--local 3 --protocol rep3"; do
    # shellcheck disable=SC2086 # $pa is a list of options
    check "progress $pa" "$QNNVM" run --progress $pa --input "0:$T/tiny_cnn.w.qw" --input "1:$T/tiny_cnn.in.qw" "$T/tiny_cnn.qbc"
    mv "$T/out" "$T/prog.out"
    mv "$T/err" "$T/prog-${pa##* }.err" # by protocol
    # shellcheck disable=SC2086
    check "no progress $pa" "$QNNVM" run $pa --input "0:$T/tiny_cnn.w.qw" --input "1:$T/tiny_cnn.in.qw" "$T/tiny_cnn.qbc"
    [ ! -s "$T/err" ] && ok || bad "$pa: progress on a non-terminal stderr without --progress: $(cat "$T/err")"
    norm='s/: [0-9.]* s, /: T s, /; s/peak [0-9]* KB/peak M KB/; s/set-up [0-9.]* s/set-up T s/'
    [ "$(sed "$norm" "$T/prog.out")" = "$(sed "$norm" "$T/out")" ] && ok || bad "$pa: --progress changes stdout"
    ! grep -q "$esc" "$T/prog-${pa##* }.err" && ok || bad "$pa: cursor movement in a file"
done
[ "$(grep -c '^[0-9.]* s  layer 1/4 c1$' "$T/prog-clear.err")" -eq 1 ] && grep -q '^[0-9.]* s  done$' "$T/prog-clear.err" \
    && ok || bad "progress in clear: $(cat "$T/prog-clear.err")"
for i in 0 1 2; do
    grep -q "^party $i  rounds [0-9]*/[1-9][0-9]* ([0-9]*%)  [0-9.]* [kMG]*B sent  [0-9.]* s  layer 1/4 c1$" "$T/prog-rep3.err" &&
        grep -q "^party $i  rounds \([0-9]*\)/\1 (100%)  [0-9.]* [kMG]*B sent  [0-9.]* s  done$" "$T/prog-rep3.err" \
        && ok || bad "progress of party $i under rep3: $(cat "$T/prog-rep3.err")"
done

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
