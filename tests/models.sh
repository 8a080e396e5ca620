#!/bin/sh
# The TensorFlow Lite reference models (tests/models.sh BUILD_DIR): every
# model in $QNN_MODELS is imported, compiled and run in clear on every case;
# outputs, logits and per-layer dumps must equal TFLite's reference bytes;
# so must the Keras export's logits in $QNN_MODELS_KERAS (beside them).
# QNN_MODEL_CASES=N limits the cases per model (the sanitizer pass uses 1).
# Without the data the tests are skipped, except in CI (CI=true): a failure.
set -u
B=${1:-build/release}
M=${QNN_MODELS:-../shared/models}
if [ ! -d "$M/testdata" ]; then
    if [ "${CI:-}" = true ]; then
        echo "models: reference models missing at $M (CI requires them)"
        echo "models: 0 passed, 1 failed"
        exit 1
    fi
    echo "models: skipped: reference models expected in $M (set QNN_MODELS)"
    exit 0
fi
T=$(mktemp -d /tmp/qnn-models.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
limit=${QNN_MODEL_CASES:-0}
for model in "$M"/*.tflite; do
    n=$(basename "$model" .tflite)
    [ -d "$M/testdata/$n" ] || continue
    if "$B/qnnc" import "$model" -o "$T/out" && "$B/qnnc" import "$model" -o "$T/logits" --output logits \
        && "$B/qnnc" "$T/out/$n.qnn" -o "$T/$n.qbc" && "$B/qnnc" "$T/logits/$n.qnn" -o "$T/$n.l.qbc"; then
        ok
    else
        bad "import $n"
        continue
    fi
    k=0
    for in in "$M/testdata/$n"/*.input.bin; do
        c=$(basename "$in" .input.bin)
        k=$((k + 1))
        [ "$limit" -gt 0 ] && [ "$k" -gt "$limit" ] && break
        dump=""
        [ -d "$M/testdata/$n/layers_$c" ] && dump="--dump-layers $T/dump_${n}_$c"
        # shellcheck disable=SC2086
        "$B/qnnvm" run --quiet --input "0:$T/out/$n.qw" --input "1:$in" --output "$T/o.bin" $dump "$T/$n.qbc" >/dev/null \
            && cmp -s "$T/o.bin" "$M/testdata/$n/$c.expected.bin" && ok || bad "$n $c: output differs from expected.bin"
        "$B/qnnvm" run --quiet --input "0:$T/logits/$n.qw" --input "1:$in" --output "$T/l.bin" "$T/$n.l.qbc" >/dev/null \
            && cmp -s "$T/l.bin" "$M/testdata/$n/$c.logits.bin" && ok || bad "$n $c: logits differ from logits.bin"
        [ -n "$dump" ] || continue
        i=0
        for ref in "$M/testdata/$n/layers_$c"/op*.bin; do
            case "$ref" in *SOFTMAX*) continue ;; esac # the receiver's softmax: checked as expected.bin
            i=$((i + 1))
            got=$(ls "$T/dump_${n}_$c" | sed -n "${i}p")
            [ -n "$got" ] && cmp -s "$ref" "$T/dump_${n}_$c/$got" && ok || bad "$n $c: layer $(basename "$ref") differs ($got)"
        done
    done
done
# the Keras int8 export (../shared/models-keras, its README): logits byte for
# byte with fully connected layers per tensor, as its reference was computed
# (--fc-per-tensor), and the argmax (TFLite's first largest logit); as
# TFLite 2.13+ computes it (MEAN's integer kernel, --mean-arith int, dense
# layers per channel), the same argmax
K=${QNN_MODELS_KERAS:-$(dirname "$M")/models-keras}
if [ -f "$K/manifest.json" ]; then
    for model in "$K"/*.tflite; do
        n=$(basename "$model" .tflite)
        [ -d "$K/testdata/$n" ] || continue
        if "$B/qnnc" import "$model" -o "$T/k" --output logits --fc-per-tensor && "$B/qnnc" "$T/k/$n.qnn" -o "$T/k.qbc" \
            && "$B/qnnc" import "$model" -o "$T/ka" --output argmax --fc-per-tensor && "$B/qnnc" "$T/ka/$n.qnn" -o "$T/ka.qbc" \
            && "$B/qnnc" import "$model" -o "$T/ki" --output argmax --mean-arith int && "$B/qnnc" "$T/ki/$n.qnn" -o "$T/ki.qbc"; then
            ok
        else
            bad "import $n"
            continue
        fi
        k=0
        for in in "$K/testdata/$n"/*.input.bin; do
            c=$(basename "$in" .input.bin)
            k=$((k + 1))
            [ "$limit" -gt 0 ] && [ "$k" -gt "$limit" ] && break
            "$B/qnnvm" run --quiet --input "0:$T/k/$n.qw" --input "1:$in" --output "$T/l.bin" "$T/k.qbc" >/dev/null \
                && cmp -s "$T/l.bin" "$K/testdata/$n/$c.logits.bin" && ok || bad "$n $c: logits differ from logits.bin"
            want=$(od -An -v -td1 "$K/testdata/$n/$c.logits.bin" | tr -s ' ' '\n' | grep -v '^$' \
                | awk 'NR == 1 || $1 > m { m = $1; i = NR - 1 } END { print i }')
            got=$("$B/qnnvm" run --input "0:$T/ka/$n.qw" --input "1:$in" "$T/ka.qbc" 2>/dev/null | sed -n 's/^output .*: //p')
            [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "$n $c: argmax $got, the reference's $want"
            got=$("$B/qnnvm" run --input "0:$T/ki/$n.qw" --input "1:$in" "$T/ki.qbc" 2>/dev/null | sed -n 's/^output .*: //p')
            [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "$n $c: argmax $got with --mean-arith int, the reference's $want"
        done
    done
    # Keras' preprocessing of the picture is exactly the reference input
    n=keras_mobilenet_v2_int8_uint8io
    q=$(sed -n 's/^input .* : u8\[1,224,224,3\] q(\([^,]*\), \([0-9-]*\)) from client$/\1,\2/p' "$T/k/$n.qnn")
    if [ -f "$M/images/grace_hopper.bmp" ] && [ -f "$K/testdata/$n/grace_hopper.input.bin" ]; then
        [ -n "$q" ] && "$B/qnnc" image "$M/images/grace_hopper.bmp" --size 224 --normalize keras --quant "$q" -o "$T/img.bin" \
            && cmp -s "$T/img.bin" "$K/testdata/$n/grace_hopper.input.bin" && ok \
            || bad "qnnc image grace_hopper.bmp --normalize keras --quant '$q' differs from $n/grace_hopper.input.bin"
    fi
elif [ "${CI:-}" = true ]; then
    bad "the Keras reference model missing at $K (CI requires it)"
fi

# pictures become exactly the reference inputs (nearest neighbour as PIL)
for c in "grace_hopper 128 mobilenet_v1_0.25_128_quant" "grace_hopper 160 mobilenet_v1_0.5_160_quant" \
    "grace_hopper 224 mobilenet_v2_1.0_224_quant" "person 96 person_detect --gray" "no_person 96 person_detect --gray"; do
    set -- $c
    [ -f "$M/images/$1.bmp" ] || continue
    "$B/qnnc" image "$M/images/$1.bmp" --size "$2" ${4:-} -o "$T/img.bin" \
        && cmp -s "$T/img.bin" "$M/testdata/$3/$1.input.bin" && ok || bad "qnnc image $1.bmp --size $2 differs from $3/$1.input.bin"
done
echo "models: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
