/* bytecode: the .qbc program in memory, its writer and its validating loader.
 *
 * File layout (little-endian; docs/bytecode.md has the full description):
 *   "QNNB" u16 version u16 ring_bits | parties | inputs | outputs | layers
 *   | secret registers | constant registers | code words
 * qbc_load() checks every field, every instruction operand, register length
 * and ROUND block before returning a program; a program it accepts can be run
 * without further checks. Errors name the byte offset of the problem. */
#ifndef BYTECODE_H
#define BYTECODE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/dtype.h"
#include "vm/opcodes.h"

#define QBC_MAGIC "QNNB"
/* Version 6 added output kind 3 (dequantize), version 7 the LUT
 * instruction; the writer puts the least version that has what the
 * program uses, so that older readers still take the rest, and the loader
 * takes every version from 5. */
#define QBC_VERSION 7
#define QBC_VERSION_MIN 5
#define QBC_MAX_DIMS MAX_DIMS
#define QBC_MAX_PARTIES 64
#define QBC_MAX_ELEMS ((uint64_t)1 << 28) /* over all registers */

/* OUT_DEQUANT: the receiver gets (float)((double)scale (q - zp)) for each
 * revealed code q, as TFLite's DEQUANTIZE computes it, printed and written
 * as float32 */
enum out_kind { OUT_RAW, OUT_SOFTMAX, OUT_ARGMAX, OUT_DEQUANT, OUT__COUNT };

typedef tshape qbc_shape;

typedef struct {
    char *name;
    uint8_t party;
    uint8_t dtype;
    qbc_shape shape;
} qbc_input;

typedef struct {
    char *name;
    uint8_t party;  /* receiver */
    uint8_t dtype;  /* of the received tensor (after softmax / argmax) */
    uint8_t kind;
    qbc_shape shape; /* of the revealed register's tensor */
    float scale;     /* quantization of the revealed tensor */
    int32_t zp;
    int32_t sm_multiplier, sm_shift, sm_diff_min; /* softmax only */
} qbc_output;

typedef struct {
    char *name;
    char *kind;
    uint8_t dtype;
    qbc_shape shape;
    float scale;
    int32_t zp;
    uint64_t macs;  /* multiply-accumulates of the layer */
    uint32_t reg;   /* secret register holding its output */
} qbc_layer;

typedef struct {
    uint32_t len;
    int64_t *val;
} qbc_const;

typedef struct {
    uint16_t ring_bits;
    uint32_t nparties;
    char **party_names;
    uint32_t ninputs, noutputs, nlayers, nsregs, ncregs, ncode;
    qbc_input *inputs;
    qbc_output *outputs;
    qbc_layer *layers;
    uint32_t *slen;
    qbc_const *cregs;
    uint32_t *code;
    size_t code_offset; /* byte offset of code word 0 in the file, for messages */
    uint8_t *rot;       /* per code word: the rotation of roles (vm_assign_roles), or NULL */
    uint8_t *check;     /* per code word: pop.check (vm_assign_roles), or NULL */
    uint8_t *bfrom;     /* per code word: pop.bfrom (vm_assign_roles), or NULL */
} qbc_program;

extern const char *const out_kind_names[OUT__COUNT];
static inline uint64_t shape_elems(const qbc_shape *s) { return tshape_elems(s, QBC_MAX_ELEMS); }

/* Serializes p; returns a malloc'd buffer and its length, or NULL. */
uint8_t *qbc_write(const qbc_program *p, size_t *len);
int qbc_write_file(const qbc_program *p, const char *path, char *err, size_t errlen);
/* Returns 0 and fills p, or -1 with a one-line message in err ("offset N: ..."). */
int qbc_load(const uint8_t *buf, size_t len, qbc_program *p, char *err, size_t errlen);
int qbc_load_file(const char *path, qbc_program *p, char *err, size_t errlen);
void qbc_free(qbc_program *p);

/* Decoding helpers for a validated program's code. */
static inline int qbc_op(uint32_t w) { return (int)(w & 0xff); }
static inline int qbc_nops(uint32_t w) { return (int)((w >> 8) & 0xff); }
static inline uint32_t qbc_encode(int op, int nops) { return (uint32_t)op | ((uint32_t)nops << 8); }
/* Instruction flags, bits 16..31 of the first word. QBC_LAZY on CONV2D and
 * DWCONV2D: the result may be left an unfinished sum (a protocol with
 * replicated shares skips the resharing), readable only by ADD, SUB, ADDC,
 * MULC (whose results are unfinished sums too) and a REQCLAMP or REQS with
 * QBC_LAZY, which reads its input as such a sum (a lazy REQS has one
 * channel and shift + bound <= 63: rep3 fuses it). The validator checks it. */
#define QBC_LAZY 1u
/* QBC_EXACT on REQUANT, DIVR and REQCLAMP: TensorFlow Lite's rounding, bit
 * for bit (without it the rounding is probabilistic, off by one at times).
 * An exact REQCLAMP may be lazy too: every protocol either fuses it (rep3)
 * or has additive shares, where the flag changes nothing. */
#define QBC_EXACT 2u
/* QBC_RELU on REQS: the program's activation clamps at or above the zero
 * point (ReLU, ReLU6: lo >= z, a public fact of the architecture), where
 * TFLite's second floor never shows; an exact REQS then rounds with the
 * first floor alone, clamp(floor(a / 2^k) + z, lo, hi). */
#define QBC_RELU 4u
static inline uint32_t qbc_flags(uint32_t w) { return w >> 16; }

#endif
