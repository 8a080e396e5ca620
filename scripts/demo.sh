#!/bin/sh
# The quick start: a secure inference end to end on loopback.
# Classifies the collie picture (or IMAGE=picture.ppm|.bmp) with MobileNet V1
# 0.25_128 under rep3 (three parties, replicated secret sharing, TLS) and
# prints the top-5 labels, time, bytes and rounds. Without a MobileNet file
# (models/ or ../shared/models) it runs the bundled tiny_cnn example instead.
set -eu
D=build/demo
mkdir -p "$D"
SHARED=${QNN_MODELS:-../shared/models}
name=mobilenet_v1_0.25_128_quant
model=""
for f in "models/$name.tflite" "$SHARED/$name.tflite"; do
    [ -f "$f" ] && model=$f && break
done
if [ -z "$model" ]; then
    echo "== no $name.tflite in models/ or $SHARED (scripts/get-models.sh fetches it):"
    echo "== running the bundled example network programs/tiny_cnn.qnn instead"
    bin/qnnc programs/tiny_cnn.qnn -o "$D/tiny_cnn.qbc"
    bin/qnnc weights programs/tiny_cnn.qnn --party model --seed 1 -o "$D/tiny_cnn.qw"
    bin/qnnc weights programs/tiny_cnn.qnn --party client --seed 2 -o "$D/image.qw"
    bin/qnnvm run --local 3 --protocol rep3 --input "model:$D/tiny_cnn.qw" --input "client:$D/image.qw" "$D/tiny_cnn.qbc"
    exit 0
fi
echo "== import $model (architecture public, weights private to the model owner)"
bin/qnnc import "$model" -o "$D"
bin/qnnc "$D/$name.qnn" -o "$D/$name.qbc"
if [ -n "${IMAGE:-}" ]; then
    echo "== the client's picture: $IMAGE"
    bin/qnnc image "$IMAGE" --size 128 -o "$D/input.bin"
else
    img=$SHARED/testdata/$name/collie.input.bin
    [ -f "$img" ] || { echo "demo: $img missing; give IMAGE=picture.ppm" >&2; exit 1; }
    echo "== the client's picture: images/collie.jpg (as the reference input bytes)"
    cp "$img" "$D/input.bin"
fi
echo "== secure inference: 3 parties on loopback, protocol rep3, TLS"
bin/qnnvm run --local 3 --protocol rep3 --input "model:$D/$name.qw" --input "client:$D/input.bin" \
    "$D/$name.qbc" >"$D/run.txt"
labels=$SHARED/imagenet_labels.txt
[ -f "$labels" ] || labels=models/imagenet_labels.txt
echo "top-5 (class: probability, label):"
grep '^top:' "$D/run.txt" | tr ' ' '\n' | grep -v '^top:' | paste - - | head -5 | while read -r cls prob; do
    label=$( [ -f "$labels" ] && sed -n "$((cls + 1))p" "$labels" || echo "?")
    printf '  %4s  %s  %s\n' "$cls" "$(echo "$prob" | tr -d '()')" "$label"
done
grep '^party ' "$D/run.txt"
