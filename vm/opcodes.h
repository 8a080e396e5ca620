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
 * n must equal the length of the opcode's operand signature; the only flag
 * is QBC_LAZY (bytecode.h), on CONV2D, DWCONV2D and REQCLAMP. Operand kinds:
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

/*  X(name, operand signature, cost class, semantics) */
#define OPCODES(X)                                                                        \
    X(ROUND, "n", LOCAL, "the next a instructions run together in one set of rounds")    \
    X(LAYER, "l", LOCAL, "end of layer a: its output register is in the layer table")    \
    X(INPUT, "si", INPUT, "s[a] = shares of input slot b, provided by its party")         \
    X(OUTPUT, "so", REVEAL, "reveal s[a] to the party receiving output slot b")           \
    X(ADD, "sss", LOCAL, "s[a] = s[b] + s[c] (s[c] periodic)")                            \
    X(SUB, "sss", LOCAL, "s[a] = s[b] - s[c] (s[c] periodic)")                            \
    X(ADDC, "ssc", LOCAL, "s[a] = s[b] + c[c]")                                           \
    X(MULC, "ssc", LOCAL, "s[a] = s[b] * c[c] in the ring")                               \
    X(FILLC, "sc", LOCAL, "s[a] = c[b] (public value, shared trivially)")                 \
    X(COPY, "ssnnnnnn", LOCAL,                                                            \
      "for k < c: s[a][k*e+f .. +d] = s[b][k*g+h .. +d] (strided block copy)")            \
    X(POOLSUM, "ss" OP_GEOM, LOCAL, "s[a] = sum of s[b] over each in-bounds window")      \
    X(WINDOW, "ss" OP_GEOM "n", LOCAL,                                                    \
      "s[a] = element k of each window of s[b] (out of bounds: first in-bounds one)")     \
    X(CONV2D, "sss" OP_GEOM "n", DOT,                                                     \
      "s[a] = convolution of s[b] with filters s[c] [OC KH KW C], OC = last operand")     \
    X(DWCONV2D, "sss" OP_GEOM "n", DOT,                                                   \
      "s[a] = depthwise convolution of s[b] with s[c] [1 KH KW C*M], M = last operand")   \
    X(MUL, "sss", MUL, "s[a] = s[b] * s[c] elementwise (s[c] periodic)")                  \
    X(REQUANT, "sscc", TRUNC,                                                             \
      "s[a] = MultiplyByQuantizedMultiplier(s[b], M0 = c[c], shift = c[d])")              \
    X(DIVR, "ssc", TRUNC, "s[a] = s[b] / c[c] rounded half away from zero, c[c] > 0")     \
    X(LTZ, "ssn", CMP, "s[a] = 1 if s[b] < 0 else 0, given |s[b]| < 2^c (1 <= c <= 62)")   \
    X(CLAMP, "sscn", CMP,                                                                 \
      "s[a] = min(max(s[b], lo), hi), c[c] = (lo, hi), given |s[b] - lo|, |hi - s[b]| < 2^d")  \
    X(REQCLAMP, "sscccn", CMP,                                                            \
      "s[a] = CLAMP(REQUANT(s[b], c[c], c[d]) + z, lo, hi), c[e] = (z, lo, hi), bound 2^f")

enum opcode {
#define X(name, sig, cls, doc) OP_##name,
    OPCODES(X)
#undef X
    OP__COUNT
};

enum cost_class { CC_LOCAL, CC_INPUT, CC_REVEAL, CC_MUL, CC_DOT, CC_TRUNC, CC_CMP, CC__COUNT };

typedef struct {
    const char *name;
    const char *sig;      /* operand kinds, one char each */
    enum cost_class cls;
    const char *doc;
} opinfo;

extern const opinfo op_table[OP__COUNT];
extern const char *const cost_class_names[CC__COUNT];

#define OP_MAX_OPERANDS 17

#endif
