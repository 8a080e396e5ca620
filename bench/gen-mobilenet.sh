#!/bin/sh
# Writes MobileNet V1 (Howard et al. 2017) as a DSL program for a width
# multiplier and resolution: bench/gen-mobilenet.sh 0.25 128 > m.qnn
# Quantization parameters are realistic (those of the official uint8 models:
# input 1/128 around 128, activations ReLU6 at 6/255, weights near 0.02 with
# zero points near 128, per-tensor); weights come from `qnnc weights`, since
# timing does not depend on their values; each layer's acc_bound is the one
# those ranges give, as `qnnc import` writes it for a real model.
set -eu
w=${1:?width}
r=${2:?resolution}
awk -v W="$w" -v R="$r" 'BEGIN {
    name = sprintf("mobilenet_v1_%s_%d", W, R); gsub(/\./, "_", name)
    printf "# MobileNet V1 %s_%d with deterministic synthetic weights (bench/gen-mobilenet.sh)\n", W, R
    printf "network %s\n\nparty model = 0\nparty client = 1\n\n", name
    printf "input image : u8[1,%d,%d,3] q(0.0078125, 128) from client\n", R, R
    act = 0.0235294122; ins = 0.0078125
    # (kind, out channels, stride): the 1 + 13 x 2 convolution layers
    n = 0
    L[n++] = "conv 32 2"
    split("64 1|128 2|128 1|256 2|256 1|512 2|512 1|512 1|512 1|512 1|512 1|1024 2|1024 1", B, "|")
    for (i = 1; i <= 13; i++) { split(B[i], f, " "); L[n++] = "dw 0 " f[2]; L[n++] = "pw " f[1] " 1" }
    c = 3; h = R; x = "image"; s_in = ins
    for (i = 0; i < n; i++) {
        split(L[i], f, " "); kind = f[1]; st = f[3]
        oc = (kind == "dw") ? c : int(f[2] * W + 0.5)
        if (oc < 8) oc = 8
        ws = 0.02 + 0.01 * (i % 5); wz = 120 + (i % 17)
        k = (kind == "pw") ? 1 : 3
        if (kind == "dw") printf "input w%d : u8[1,3,3,%d] q(%.9g, %d) from model\n", i, c, ws, wz
        else printf "input w%d : u8[%d,%d,%d,%d] q(%.9g, %d) from model\n", i, oc, k, k, c, ws, wz
        printf "input b%d : i32[%d] q(%.9g, 0) from model\n", i, oc, s_in * ws
        # acc_bound as qnnc import writes it: |x - zx| <= 255, |w - zw| <= 136
        # (zw in 120..136), |bias| <= 4096 (qnnc weights draws i32 there)
        D[i] = sprintf("l%d = %s(%s, w%d, b%d, stride=%d, padding=same, activation=relu6, acc_bound=%d) -> q(%.9g, 0)", \
            i, (kind == "dw") ? "depthwise_conv2d" : "conv2d", x, i, i, st, 255 * 136 * k * k * ((kind == "dw") ? 1 : c) + 4096, act)
        x = "l" i; c = oc; s_in = act; h = int((h + st - 1) / st)
    }
    printf "input wl : u8[1001,1,1,%d] q(0.00554029318, 94) from model\n", c
    printf "input bl : i32[1001] q(%.9g, 0) from model\n\n", act * 0.00554029318
    for (i = 0; i < n; i++) print D[i]
    printf "pool = avg_pool2d(%s, size=%d, padding=valid)\n", x, h
    printf "logits = conv2d(pool, wl, bl, acc_bound=%d) -> q(0.130832836, 96)\n", 255 * 161 * c + 4096
    printf "flat = reshape(logits, shape=[1, 1001])\n\noutput argmax(flat) to client\n"
}'
