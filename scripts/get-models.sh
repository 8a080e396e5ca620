#!/bin/sh
# Fetches the official quantized MobileNet models into models/ (git-ignored):
# MobileNet V1 at every width (0.25 0.5 0.75 1.0) and resolution (128 160
# 192 224), uint8, and MobileNet V2 1.0_224. Files already in
# ../shared/models (or $QNN_MODELS) are copied instead of downloaded.
#   scripts/get-models.sh            all of them
#   scripts/get-models.sh 0.25_128   one V1 model
set -eu
cd "$(dirname "$0")/.."
DEST=models
SHARED=${QNN_MODELS:-../shared/models}
V1=https://storage.googleapis.com/download.tensorflow.org/models/mobilenet_v1_2018_08_02
V2=https://storage.googleapis.com/download.tensorflow.org/models/tflite_11_05_08
mkdir -p "$DEST"

fetch() { # fetch URL FILE
    if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
    else echo "get-models: need curl or wget" >&2; return 1; fi
}

get() { # get NAME BASE_URL
    name=$1
    if [ -f "$DEST/$name.tflite" ]; then echo "$name: present"; return 0; fi
    if [ -f "$SHARED/$name.tflite" ]; then
        cp "$SHARED/$name.tflite" "$DEST/" && echo "$name: copied from $SHARED"
        return 0
    fi
    tmp=$(mktemp -d)
    if fetch "$2/$name.tgz" "$tmp/m.tgz" && tar -xzf "$tmp/m.tgz" -C "$tmp" \
        && f=$(find "$tmp" -name "$name.tflite" | head -n 1) && [ -n "$f" ]; then
        mv "$f" "$DEST/" && echo "$name: downloaded"
    else
        echo "$name: download failed ($2/$name.tgz)" >&2
        rm -rf "$tmp"
        return 1
    fi
    rm -rf "$tmp"
}

status=0
if [ $# -gt 0 ]; then
    for m in "$@"; do get "mobilenet_v1_${m}_quant" "$V1" || status=1; done
    exit $status
fi
for w in 0.25 0.5 0.75 1.0; do
    for r in 128 160 192 224; do
        get "mobilenet_v1_${w}_${r}_quant" "$V1" || status=1
    done
done
get mobilenet_v2_1.0_224_quant "$V2" || status=1
exit $status
