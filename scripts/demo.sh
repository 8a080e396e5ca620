#!/bin/sh
# The quick start: compile an example network, make its weights and an
# input, run it, and show its cost. (Secure protocols arrive with rep3; until
# then the demo runs the plaintext reference protocol `clear`.)
set -eu
D=build/demo
mkdir -p "$D"
echo "== compile programs/tiny_cnn.qnn"
bin/qnnc programs/tiny_cnn.qnn -o "$D/tiny_cnn.qbc"
echo "== the model owner's weights and the client's image (deterministic, pseudo-random)"
bin/qnnc weights programs/tiny_cnn.qnn --party model --seed 1 -o "$D/tiny_cnn.qw"
bin/qnnc weights programs/tiny_cnn.qnn --party client --seed 2 -o "$D/image.qw"
echo "== cost"
bin/qnnvm inspect --no-code "$D/tiny_cnn.qbc"
echo "== run (protocol clear)"
bin/qnnvm run --protocol clear --input "model:$D/tiny_cnn.qw" --input "client:$D/image.qw" "$D/tiny_cnn.qbc"
