/* opcodes.h: the one table of bytecode instructions (X-macro).
 *
 * Included by the compiler (emitter), the loader (validation), the VM
 * (dispatch), the disassembler and the cost model; nothing else lists opcodes.
 *
 * Encoding: the code section is a sequence of little-endian 32-bit words.
 *
 *      31                16 15           8 7            0
 *     +--------------------+--------------+--------------+
 *     |   flags            |  n operands  |    opcode    |   word 0
 *     +--------------------+--------------+--------------+
 *     |                 operand 1 (u32 / i32)            |   word 1
 *     |                       ...                        |
 *     |                 operand n                        |   word n
 *     +--------------------------------------------------+
 *
 * n must equal the length of the opcode's operand signature; the flags
 * (bytecode.h) are QBC_LAZY, on CONV2D, DWCONV2D and REQCLAMP, and
 * QBC_EXACT (TFLite's rounding, else probabilistic), on REQUANT, DIVR,
 * REQCLAMP and REQS. Operand kinds:
 *   s  secret register (a vector of shares)     c  clear constant register
 *   i  input slot (header input schedule)       o  output slot (header outputs)
 *   l  layer index (header layer table)         n  unsigned immediate
 * Vector lengths are fixed per register at compile time. A clear operand c of
 * length m is applied periodically: element j uses c[j mod m] (scalars, per-
 * channel vectors with channels innermost, or full vectors).
 *
 * Cost classes: LOCAL (no communication), and the communicating classes
 * INPUT, OPEN/REVEAL, MUL, DOT, TRUNC and CMP. Every communicating instruction
 * must stand inside a ROUND block; the instructions of one block are
 * independent and share their network rounds.
 *
 * Geometry operands G (13 words) of the window operations, in order:
 *   H W C  KH KW  OH OW  SH SW  PT PL  DH DW
 * (input height, width, channels; kernel; output size; stride; padding top
 * and left; dilation). Layouts are NHWC with batch 1, as TensorFlow Lite.
 */
#ifndef OPCODES_H
#define OPCODES_H

#define OP_GEOM "nnnnnnnnnnnnn"

/*  X(name, operand signature, cost class, writes, per, trunc, semantics)
 *  writes: operand a is a register the instruction writes (OUTPUT reads it);
 *  per: elements of its cost class per element (a clamp compares twice);
 *  trunc: truncations per element besides (REQCLAMP's requantization). */
#define OPCODES(X)                                                                        \
    X(ROUND, "n", LOCAL, 0, 0, 0, "the next a instructions run together in one set of rounds")    \
    X(LAYER, "l", LOCAL, 0, 0, 0, "end of layer a: its output register is in the layer table")    \
    X(INPUT, "si", INPUT, 1, 1, 0, "s[a] = shares of input slot b, provided by its party")         \
    X(OUTPUT, "so", REVEAL, 0, 1, 0, "reveal s[a] to the party receiving output slot b")           \
    X(ADD, "sss", LOCAL, 1, 1, 0, "s[a] = s[b] + s[c] (s[c] periodic)")                            \
    X(SUB, "sss", LOCAL, 1, 1, 0, "s[a] = s[b] - s[c] (s[c] periodic)")                            \
    X(ADDC, "ssc", LOCAL, 1, 1, 0, "s[a] = s[b] + c[c]")                                           \
    X(MULC, "ssc", LOCAL, 1, 1, 0, "s[a] = s[b] * c[c] in the ring")                               \
    X(FILLC, "sc", LOCAL, 1, 1, 0, "s[a] = c[b] (public value, shared trivially)")                 \
    X(COPY, "ssnnnnnn", LOCAL, 1, 1, 0,                                                            \
      "for k < c: s[a][k*e+f .. +d] = s[b][k*g+h .. +d] (strided block copy)")            \
    X(POOLSUM, "ss" OP_GEOM, LOCAL, 1, 1, 0, "s[a] = sum of s[b] over each in-bounds window")      \
    X(WINDOW, "ss" OP_GEOM "n", LOCAL, 1, 1, 0,                                                    \
      "s[a] = element k of each window of s[b] (out of bounds: first in-bounds one)")     \
    X(CONV2D, "sss" OP_GEOM "nn", DOT, 1, 1, 0,                                                    \
      "s[a] = convolution of s[b] with filters s[c] [OC KH KW C], OC; |each| < 2^e (e: 0 unknown)") \
    X(DWCONV2D, "sss" OP_GEOM "nn", DOT, 1, 1, 0,                                                  \
      "s[a] = depthwise convolution of s[b] with s[c] [1 KH KW C*M], M; |each| < 2^e (0 unknown)")  \
    X(MUL, "sss", MUL, 1, 1, 0, "s[a] = s[b] * s[c] elementwise (s[c] periodic)")                  \
    X(REQUANT, "sscc", TRUNC, 1, 1, 0,                                                             \
      "s[a] = MultiplyByQuantizedMultiplier(s[b], M0 = c[c], shift = c[d])")              \
    X(DIVR, "ssc", TRUNC, 1, 1, 0, "s[a] = s[b] / c[c] rounded half away from zero, c[c] > 0")     \
    X(LTZ, "ssn", CMP, 1, 1, 0, "s[a] = 1 if s[b] < 0 else 0, given |s[b]| < 2^c (1 <= c <= 62)")   \
    X(CLAMP, "sscn", CMP, 1, 2, 0,                                                                 \
      "s[a] = min(max(s[b], lo), hi), c[c] = (lo, hi), given |s[b] - lo|, |hi - s[b]| < 2^d")  \
    X(REQCLAMP, "sscccn", CMP, 1, 2, 1,                                                            \
      "s[a] = CLAMP(REQUANT(s[b], c[c], c[d]) + z, lo, hi), c[e] = (z, lo, hi), bound 2^f")        \
    X(REQS, "sssnn", CMP, 1, 2, 1,                                                                 \
      "s[a] = CLAMP(s[b] / 2^d rounded + z, lo, hi), secret s[c] = (Delta per channel, z, lo, hi, t3), bound 2^e")   \
    X(LUT, "sscn", CMP, 1, 1, 0,                                                                   \
      "s[a] = c[c][s[b] - lo], a table of 256 over the codes from lo = -128 d (d: 0 or 1), s[b] among them")

enum opcode {
#define X(name, sig, cls, writes, per, trunc, doc) OP_##name,
    OPCODES(X)
#undef X
    OP__COUNT
};

enum cost_class { CC_LOCAL, CC_INPUT, CC_REVEAL, CC_MUL, CC_DOT, CC_TRUNC, CC_CMP, CC__COUNT };

typedef struct {
    const char *name;
    const char *sig;      /* operand kinds, one char each */
    enum cost_class cls;
    int writes, per, trunc; /* the table's columns (above) */
    const char *doc;
} opinfo;

extern const opinfo op_table[OP__COUNT];
extern const char *const cost_class_names[CC__COUNT];

#define OP_MAX_OPERANDS 18

#endif
