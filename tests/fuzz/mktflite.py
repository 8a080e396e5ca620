#!/usr/bin/env python3
"""mktflite: writes the tiny TensorFlow Lite models of the tflite fuzz
seed corpus (tests/fuzz/seeds/tflite), so that no real model is committed.
Each is a valid model `qnnc import` accepts, a few hundred bytes:
  conv_fc_softmax.tflite   uint8: CONV_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX
  dw_pool_add.tflite       int8 per-channel: DEPTHWISE_CONV_2D, MAX_POOL_2D,
                           AVERAGE_POOL_2D, ADD, PAD, CONCATENATION, QUANTIZE
  float_edges.tflite       a float32 input quantized to int8 (QUANTIZE),
                           HARD_SWISH, MEAN over H and W, and DEQUANTIZE to
                           a float32 output (the edges the client computes)
  means.tflite             int8 MEAN over H and W with keep_dims=true, and
                           with keep_dims=false to the input's quantization
A FlatBuffer writer of its own (no flatbuffers package): objects are laid
out parent first, children after, as the reader accepts any forward
offsets. Field numbers follow TensorFlow Lite's schema.fbs.
Run: python3 tests/fuzz/mktflite.py tests/fuzz/seeds/tflite"""
import struct
import sys


class Table:
    def __init__(self, fields):  # {field id: (format, value) | object}
        self.fields = fields


class Vec:
    def __init__(self, fmt, items):  # fmt: struct format, or None for tables
        self.fmt, self.items = fmt, items


def string(s):
    return Vec("B", list(s.encode()))  # the reader needs no NUL


class Builder:
    def __init__(self):
        self.b = bytearray()

    def align(self, n):
        while len(self.b) % n:
            self.b.append(0)

    def put(self, obj):
        """Writes obj and its children; returns its position."""
        if isinstance(obj, Vec):
            return self.put_vec(obj)
        return self.put_table(obj)

    def put_vec(self, v):
        self.align(8)
        n = len(v.items)
        pos = len(self.b)
        self.b += struct.pack("<I", n)
        if v.fmt is None:
            slots = []
            for _ in v.items:
                slots.append(len(self.b))
                self.b += b"\0\0\0\0"
            for slot, item in zip(slots, v.items):
                self.patch(slot, self.put(item))
        else:
            for x in v.items:
                self.b += struct.pack("<" + v.fmt, x)
        return pos

    def put_table(self, t):
        ids = sorted(t.fields)
        nslots = (ids[-1] + 1) if ids else 0
        layout, size = {}, 4
        for i in ids:  # inline field sizes: scalars as given, references 4
            f = t.fields[i]
            sz = struct.calcsize("<" + f[0]) if isinstance(f, tuple) else 4
            size = (size + sz - 1) // sz * sz
            layout[i] = size
            size += sz
        self.align(4)
        vt = len(self.b)
        self.b += struct.pack("<HH", 4 + 2 * nslots, size)
        for s in range(nslots):
            self.b += struct.pack("<H", layout.get(s, 0))
        self.align(8)
        pos = len(self.b)
        self.b += struct.pack("<i", pos - vt) + bytes(size - 4)
        refs = []
        for i in ids:
            f = t.fields[i]
            if isinstance(f, tuple):
                struct.pack_into("<" + f[0], self.b, pos + layout[i], f[1])
            else:
                refs.append((pos + layout[i], f))
        for slot, child in refs:
            self.patch(slot, self.put(child))
        return pos

    def patch(self, slot, target):
        struct.pack_into("<I", self.b, slot, target - slot)


def model(tensors, ops, inputs, outputs):
    """tensors: (name, type, shape, scales, zps, qdim, data bytes or None);
    ops: (builtin code, inputs, outputs, options Table or None)."""
    codes = sorted({o[0] for o in ops})
    buffers = [Table({})]
    tens = []
    for name, ty, shape, scales, zps, qdim, data in tensors:
        f = {0: Vec("i", shape), 1: ("b", ty), 3: string(name),
             4: Table({2: Vec("f", scales), 3: Vec("q", zps), 6: ("i", qdim)})}
        if data is not None:
            f[2] = ("I", len(buffers))
            buffers.append(Table({0: Vec("B", list(data))}))
        tens.append(Table(f))
    opt = []
    for code, ins, outs, options in ops:
        f = {0: ("I", codes.index(code)), 1: Vec("i", ins), 2: Vec("i", outs)}
        if options is not None:
            f[3] = ("B", 1)  # the union's type: the reader only follows the table
            f[4] = options
        opt.append(Table(f))
    sub = Table({0: Vec(None, tens), 1: Vec("i", inputs), 2: Vec("i", outputs),
                 3: Vec(None, opt)})
    root = Table({0: ("I", 3),
                  1: Vec(None, [Table({0: ("b", min(c, 127)), 3: ("i", c)}) for c in codes]),
                  2: Vec(None, [sub]), 4: Vec(None, buffers)})
    b = Builder()
    b.b += b"\0\0\0\0TFL3"
    b.patch(0, b.put(root))
    return bytes(b.b)


F32, U8, I8, I32 = 0, 3, 9, 2


def i32s(vals):
    return struct.pack("<%di" % len(vals), *vals)


def conv_fc_softmax():
    t = [("input", U8, [1, 4, 4, 1], [0.5], [128], 0, None),
         ("conv/filter", U8, [2, 3, 3, 1], [1 / 64], [128], 0, bytes((i * 37) % 256 for i in range(18))),
         ("conv/bias", I32, [2], [1 / 128], [0], 0, i32s([100, -50])),
         ("conv/out", U8, [1, 4, 4, 2], [0.125], [3], 0, None),
         ("flat", U8, [1, 32], [0.125], [3], 0, None),
         ("fc/weights", U8, [3, 32], [1 / 64], [128], 0, bytes((i * 53) % 256 for i in range(96))),
         ("fc/bias", I32, [3], [1 / 512], [0], 0, i32s([7, 0, -7])),
         ("logits", U8, [1, 3], [0.25], [128], 0, None),
         ("probs", U8, [1, 3], [1 / 256], [0], 0, None)]
    ops = [(3, [0, 1, 2], [3], Table({0: ("b", 0), 1: ("i", 1), 2: ("i", 1), 3: ("b", 3)})),
           (22, [3], [4], None),
           (9, [4, 5, 6], [7], Table({0: ("b", 0)})),
           (25, [7], [8], Table({0: ("f", 1.0)}))]
    return model(t, ops, [0], [8])


def dw_pool_add():
    q = ([0.5], [-1])
    t = [("x", I8, [1, 5, 5, 2], *q, 0, None),
         ("dw/filter", I8, [1, 3, 3, 2], [1 / 64, 1 / 32], [0, 0], 3,
          bytes((i * 29 + 5) % 256 for i in range(18))),
         ("dw/bias", I32, [2], [1 / 128, 1 / 64], [0, 0], 0, i32s([10, -20])),
         ("dw/out", I8, [1, 5, 5, 2], [0.25], [-3], 0, None),
         ("maxp", I8, [1, 2, 2, 2], [0.25], [-3], 0, None),
         ("avgp", I8, [1, 2, 2, 2], [0.25], [-3], 0, None),
         ("sum", I8, [1, 2, 2, 2], [0.5], [0], 0, None),
         ("pads", I32, [4, 2], [1.0], [0], 0, i32s([0, 0, 1, 1, 1, 1, 0, 0])),
         ("padded", I8, [1, 4, 4, 2], [0.5], [0], 0, None),
         ("cat", I8, [1, 4, 4, 4], [0.5], [0], 0, None),
         ("y", U8, [1, 4, 4, 4], [0.5], [128], 0, None)]
    pool = Table({0: ("b", 1), 1: ("i", 2), 2: ("i", 2), 3: ("i", 2), 4: ("i", 2), 5: ("b", 0)})
    ops = [(4, [0, 1, 2], [3], Table({0: ("b", 0), 1: ("i", 1), 2: ("i", 1), 3: ("i", 1), 4: ("b", 1)})),
           (17, [3], [4], pool),
           (1, [3], [5], pool),
           (0, [4, 5], [6], Table({0: ("b", 0)})),
           (34, [6, 7], [8], None),
           (2, [8, 8], [9], Table({0: ("i", 3), 1: ("b", 0)})),
           (114, [9], [10], None)]
    # the pads tensor is quantized only so that every tensor looks alike
    return model(t, ops, [0], [10])


def float_edges():
    t = [("in", F32, [1, 2, 2, 3], [], [], 0, None),
         ("x", I8, [1, 2, 2, 3], [0.5], [-1], 0, None),
         ("hs", I8, [1, 2, 2, 3], [0.25], [-20], 0, None),
         ("axes", I32, [2], [1.0], [0], 0, i32s([1, 2])),
         ("m", I8, [1, 3], [0.125], [5], 0, None),
         ("out", F32, [1, 3], [], [], 0, None)]
    ops = [(114, [0], [1], None),
           (117, [1], [2], None),
           (40, [2, 3], [4], Table({0: ("B", 0)})),
           (6, [4], [5], None)]
    return model(t, ops, [0], [5])


def means():
    t = [("x", I8, [1, 2, 2, 3], [0.5], [-1], 0, None),
         ("axes", I32, [2], [1.0], [0], 0, i32s([1, 2])),
         ("kept", I8, [1, 1, 1, 3], [0.25], [3], 0, None),
         ("same", I8, [1, 3], [0.5], [-1], 0, None)]
    ops = [(40, [0, 1], [2], Table({0: ("B", 1)})),
           (40, [0, 1], [3], Table({0: ("B", 0)}))]
    return model(t, ops, [0], [2, 3])


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    for name, f in [("conv_fc_softmax", conv_fc_softmax), ("dw_pool_add", dw_pool_add),
                    ("float_edges", float_edges), ("means", means)]:
        with open("%s/%s.tflite" % (out, name), "wb") as fh:
            fh.write(f())
