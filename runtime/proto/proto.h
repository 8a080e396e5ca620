/* proto: the interface of a protocol module.
 *
 * A protocol owns the representation of a secret-shared value: share_words
 * 64-bit words per element (1 for clear and additive sharing, 2 for
 * replicated sharing, more with MACs). The VM moves elements around as
 * opaque words and calls the protocol for arithmetic. Linear operations are
 * local calls; the communicating ones are typed operations (`pop`, one of
 * PROTO_KINDS with named constants: the protocol layer knows no opcodes;
 * the VM's decoder fills them in). A ROUND block's operations run as a
 * batch of independent operations, each in `steps` cycles of
 *     prepare (queue what to send) -> exchange (one network round) -> finish
 * so that a block costs the rounds of its longest operation, not their sum.
 * `cost` predicts rounds and bytes from the operation's sizes alone; the VM's
 * measurements must equal it.
 *
 * Adding a protocol: one proto_NAME.c defining a `const protocol`, and one
 * entry in protocols.c. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/geom.h"

typedef uint64_t word;

#define PROTO_MAX_PARTIES 64

struct net;

typedef struct {
    int party, nparties;  /* party == nparties: this process is the dealer */
    struct net *net;      /* NULL for clear; with a dealer it links nparties + 1 */
} proto_env;

/* The communicating operations, the protocol layer's own list (the VM's
 * decoder maps its instructions onto them). A protocol handles every kind
 * in switches without a default, compiled with -Wswitch-enum, so that a
 * kind it misses fails to compile. */
#define PROTO_KINDS(X) X(INPUT) X(OUTPUT) X(MUL) X(CONV2D) X(DWCONV2D) X(REQUANT) X(DIVR) X(LTZ) X(CLAMP) X(REQCLAMP) \
                       X(TRUNC) X(EXACT) X(REQS) X(LUT)

enum proto_kind {
#define X(k) PK_##k,
    PROTO_KINDS(X)
#undef X
};
#define X(k) +1
enum { PROTO_NKINDS = 0 PROTO_KINDS(X) };
#undef X
extern const char *const proto_kind_names[PROTO_NKINDS]; /* "INPUT", "CONV2D", ... */

/* One communicating operation. Pointers are NULL in cost queries.
 * REQUANT, DIVR and REQCLAMP round probabilistically (off by one with a
 * probability proportional to the dropped bits); EXACT is one of them
 * (`of`) with TensorFlow Lite's rounding, bit for bit (exact.c). TRUNC is
 * the primitive both build on: d = (a * mult) >> shift rounded down or,
 * with a probability below (dropped bits) / 2^shift, up; never otherwise.
 * REQS is REQCLAMP with secret parameters (b, nb = channels + 4: Delta per
 * channel, then z, lo, hi, t3 = min(hi, max(lo, z)); with one channel
 * Delta is public and b's is not read: proto_reqs_public_delta) on a value a that
 * already holds m x + off0 (the owner folds the multiplier and the offset
 * into its weights): y0 = floor(a / 2^kshift); exact: y = y0 if y0 >= 1
 * else floor((a - Delta) / 2^kshift); else floor((a - 2^(kshift-1)) /
 * 2^kshift) or one more (TFLite's y or one off: a - 2^(kshift-1) is the
 * scaled x M0 2^left + 2^30, so its floor is SaturatingRoundingDoubling-
 * HighMul's result divided by 2^e, rounded down). */
typedef struct {
    enum proto_kind kind;
    enum proto_kind of;     /* EXACT: REQUANT, DIVR or REQCLAMP */
    word *d;                /* result, n elements */
    const word *a, *b;      /* operands: a has na elements, b has nb (periodic) */
    size_t n, na, nb;
    const int64_t *mult, *shift; /* REQUANT, REQCLAMP: M0 and shift per channel, periodic;
                                  * TRUNC: the multiplier and the right shift (0..62) */
    size_t nmult, nshift;
    const int64_t *divisor; /* DIVR: per element, periodic */
    size_t ndivisor;
    int64_t zp;             /* REQCLAMP: the zero point added before the clamp */
    int64_t lo, hi;         /* CLAMP, REQCLAMP: the bounds; INPUT: lo, the dtype's least value;
                             * LUT: lo, the first code of the table */
    const int64_t *table;   /* LUT: the 256 values of the codes lo, lo + 1, ... (public) */
    uint32_t bound;         /* LTZ, CLAMP, REQCLAMP: |compared| < 2^bound; INPUT: values in [lo, lo + 2^bound) */
    geom g;                 /* CONV2D, DWCONV2D */
    uint32_t channels;      /* CONV2D: output channels; DWCONV2D: depth multiplier */
    uint32_t accbits;       /* CONV2D, DWCONV2D: |each output| < 2^accbits, the
                             * compiler's promise (0: none); a broken one gives
                             * wrong values, never a leak */
    int owner;              /* INPUT: provider; OUTPUT: receiver */
    const int64_t *in;      /* INPUT, at the provider: its values */
    int64_t *out;           /* OUTPUT, at the receiver: the revealed values */
    int rot;                /* 0..2 from the instruction's position, for rotating roles */
    uint32_t kshift;        /* REQS: the public shift */
    int exact;              /* REQS: TFLite's rounding */
    int relu;               /* REQS: lo >= z (QBC_RELU): exact rounds with y0 alone */
    int abit;               /* MUL: every element of a is 0 or 1 (a composite's
                             * selector), which a protocol may use */
    int lazy;               /* CONV2D, DWCONV2D may leave an unfinished sum (each
                             * party's first share word, summing to the value);
                             * REQCLAMP reads its input as one */
    int lead;               /* the first operation of its kind in its ROUND block, for
                             * work a protocol does once per block (rep3-active's
                             * verification before the block's OUTPUTs) */
    int check;              /* marked by the VM for a protocol's check_every */
    int bfrom;              /* CONV2D, DWCONV2D: 1 + the party whose INPUT b holds,
                             * changed since only by ADDC and MULC (public
                             * constants), or 0; a protocol may use it (a share
                             * its INPUT leaves zero) */
    void *state;            /* the protocol's own, between steps */
} pop;

typedef struct {
    uint64_t rounds;
    uint64_t opened;                      /* values opened (masked or revealed) */
    uint64_t bytes[PROTO_MAX_PARTIES];    /* sent by each party (the dealer last) */
    uint64_t pre[PROTO_MAX_PARTIES];      /* of bytes, those that do not depend on any input
                                           * (hemi's OT extension, made in the operations' rounds) */
    uint64_t triples, dot_triples, bits, trunc_pairs; /* dealt material, in elements */
} proto_cost;

typedef struct protocol {
    const char *name;
    const char *security;
    const char *domain;       /* the arithmetic of the shares */
    const char *prep;         /* preprocessing sources (--prep), comma-separated; NULL: none */
    int min_parties, max_parties;
    int configs[4];           /* party counts the tests and benchmarks run, 0-terminated */
    int share_words;
    void *(*create)(const proto_env *env, char *err, size_t errlen);
    void (*destroy)(void *ps);
    /* local linear operations; b and c are periodic with lengths nb and nc */
    void (*add)(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
    void (*sub)(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
    void (*addc)(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);
    void (*mulc)(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);
    void (*fillc)(void *ps, word *d, const int64_t *c, size_t n, size_t nc);
    /* communicating operations; return 0, or -1 with the reason in err */
    int (*steps)(const pop *op);
    int (*prepare)(void *ps, pop *op, int step, char *err, size_t errlen);
    int (*exchange)(void *ps, char *err, size_t errlen);
    int (*finish)(void *ps, pop *op, int step, char *err, size_t errlen);
    void (*cost)(const pop *op, int nparties, proto_cost *acc);
    /* what create() exchanges (seeds and the like) */
    void (*setup_cost)(int nparties, proto_cost *acc);
    /* After the last instruction, before any output is released (NULL: none),
     * costing close_cost's rounds and bytes; every online round also
     * carries round_overhead bytes to each other party (a MAC check's
     * messages). */
    int (*close)(void *ps, char *err, size_t errlen);
    void (*close_cost)(int nparties, proto_cost *acc);
    uint32_t round_overhead;
    /* The input-independent part of the run so far (NULL: none beyond the
     * set-up): bytes this party sent of proto_cost.pre, and the seconds
     * spent making them (hemi: the OT extension of both directions, not the
     * gadgets that later spend the random OTs). */
    void (*pre_stats)(void *ps, uint64_t *bytes, double *secs);
    /* Elements per elementwise operation that one pass of a ROUND block may
     * hold (0: no limit). A protocol that keeps much per element (spdz2k's
     * MACed bits; rep3-active's statements until their verification, which
     * with check_every comes before every wave) sets it; the VM then runs a
     * larger block in waves (vm_block), each on a slice of the large
     * operations, at the price of the block's rounds once per wave. */
    size_t wave_elems;
    /* Nonzero: INPUTs run whole in a block's first pass instead of in its
     * waves (rep3-active: a wave's mark would add a verification's rounds
     * to an input's one, and an input's statements are a few words a value) */
    int inputs_whole;
    /* Nonzero: the VM runs each elementwise operation (or wave's slice of
     * one) of at least this many elements as three slices in the
     * same rounds, the roles (op->rot) turned by one from slice to slice
     * (vm_block), so that every party plays every role on a third of it.
     * rep3-active sets it: its provers' statements follow the roles, and a
     * verification waits for the busiest prover. */
    size_t split_roles;
    /* Nonzero: a CONV2D's or DWCONV2D's filters must be party 0's own values
     * (every other share 0), at most this in magnitude (hemi's linear layers
     * are the owner's plaintext products); the run refuses others. */
    uint32_t owner_filters;
    /* Nonzero: the protocol computes the program's function only where every
     * bound follows from the inputs' proven ranges (vm/bounds.h; an active
     * protocol against an owner that inputs anything), so a run first
     * refuses a program that vm_check_bounds refuses. */
    int proven_bounds;
    /* Nonzero (a prime-field protocol): the protocol computes the program's
     * function only where every value stays inside (-2^fit_bits,
     * 2^fit_bits) for inputs in their dtype ranges, so a run first refuses
     * a program that vm_check_fit refuses (qnnc --field compiles with it). */
    uint32_t fit_bits;
    /* Nonzero: the protocol checks what it recorded in batches, and a batch
     * holds what at most about this many bytes of traffic (cost(), all
     * parties) recorded: the VM marks the first operation of a ROUND block
     * (pop.check) once the blocks since the last mark or OUTPUT block have
     * sent this much (vm_assign_roles), and the first entry of every wave
     * after a block's first (vm_block_pass), so that the protocol's memory
     * stays bounded whatever the program's length and layer sizes. */
    uint64_t check_every;
    /* Preprocessing by a dealer, for protocols that have one (else NULL):
     * the dealer is given every (instruction, step) in execution order and
     * streams the parties their material (prep.h); prep_cost counts it (in
     * acc->bytes[nparties]) and what it is made of. */
    void (*deal)(void *ps, const pop *op, int step);
    int (*deal_finish)(void *ps, char *err, size_t errlen);
    void (*prep_cost)(const pop *op, int step, int nparties, proto_cost *acc);
} protocol;

/* for (i, j) over n elements with j = i mod nb: the periodic operands */
#define PERIODIC_LOOP(n, nb) for (size_t i = 0, j = 0; i < (n); i++, j = j + 1 == (nb) ? 0 : j + 1)

/* Allocation inside protocols: sizes come from a validated program, so
 * running out of memory is fatal (abort) rather than a protocol error. */
void *proto_alloc(size_t n);  /* uninitialized */
void *proto_zalloc(size_t n); /* zeroed */
/* op->state, allocated zeroed (size bytes) on first use */
void *proto_state(pop *op, size_t size);

/* The linear operations of one-word additive shares (clear, semi2k). */
void proto_word_add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
void proto_word_sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
void proto_word_mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);

/* Truncation of REQUANT, DIVR and TRUNC element i: the multiplier and the shift d. */
word proto_trunc_mult(const pop *op, size_t i, uint8_t *d);
/* REQS with one channel: its Delta is public, 2^31 when kshift > 31 (a
 * per-tensor layer's shift is exact), else 0; returns 1 and sets *delta
 * then, else 0 (per channel: Delta is the secret parameter). */
int proto_reqs_public_delta(const pop *op, int64_t *delta);
/* The same for every element (mult may be NULL); returns the smallest d,
 * the one REQCLAMP's comparisons scale the others to. */
uint8_t proto_trunc_shifts(const pop *op, uint8_t *d, word *mult);
/* (x mod 2^63) >> d: C of an opened c, R of a mask r */
static inline word proto_trunc_low(word x, int d) { return (x & (((word)1 << 63) - 1)) >> d; }
/* With c = x*mult + 2^62 + r opened (mod 2^64) and dealt R = (r mod 2^63)
 * >> d, v = msb r: x*mult >> d = pub - R + coef * v (error at most 1). */
void proto_trunc_open(word c, int d, word *pub, word *coef);

/* The range a protocol with proven_bounds takes an input slot of dtype
 * range [lo, lo + 2^bits) to have: the dtype's, except that int32 slots
 * (biases) are 31-bit signed, [-2^30, 2^30). With a bias anywhere in int32
 * a layer's accumulator reaches 2^31 plus its products, and for a
 * multiplier near 2^31 the truncation passes 2^62; TFLite's biases are far
 * below 2^30, and such a protocol's owner refuses an input outside the
 * range before sharing it. */
void proto_input_range(int64_t *lo, uint32_t *bits);

/* pr->check_every and pr->wave_elems; where the protocol sets one, test
 * builds take QNN_CHECK_EVERY and QNN_WAVE_ELEMS instead when set (the
 * same at every party), to test marks and waves on small programs. */
uint64_t proto_check_every(const protocol *pr);
size_t proto_wave_elems(const protocol *pr);

/* The LTZ of a CLAMP's 2n values (registers unset), for protocols with a
 * CLAMP of their own. */
void proto_clamp_ltz(const pop *op, pop *ltz);
/* CLAMP for protocols without a fused one, from their own LTZ and MUL:
 * b = LTZ(x - lo, x - hi - 1) in LTZ's steps, then p = (b[n..2n) - b[0..n))
 * (x - lo) in one MUL of n, d = hi + p - (hi - lo) b[n..2n). The
 * protocol's callbacks hand OP_CLAMP to these with their own table. */
int proto_clamp_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);
int proto_clamp_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);

/* REQCLAMP for protocols without a fused one: their REQUANT, + z, their
 * CLAMP (with c3 = (z, lo, hi)), one after the other. */
int proto_reqclamp_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);
int proto_reqclamp_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);

/* Steps, costs and dealing of either composite (CLAMP or REQCLAMP) for the
 * protocols that run it through the functions above. */
int proto_composite_steps(const protocol *pr, const pop *op);
/* the cost of first then second: bytes and material add, so do rounds */
void proto_seq_cost(const protocol *pr, const pop *first, const pop *second, int nparties, proto_cost *acc);
void proto_composite_cost(const protocol *pr, const pop *op, int nparties, proto_cost *acc);
void proto_composite_deal(const protocol *pr, void *ps, const pop *op, int step);
void proto_composite_prep_cost(const protocol *pr, const pop *op, int step, int nparties, proto_cost *acc);

/* EXACT for protocols without a fused one, from their own TRUNC, LTZ and
 * MUL in four stages (exact.c, docs/protocols.md "Exact requantization"). */
int proto_exact_steps(const protocol *pr, const pop *op);
int proto_exact_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);
int proto_exact_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);
void proto_exact_cost(const protocol *pr, const pop *op, int nparties, proto_cost *acc);
void proto_exact_deal(const protocol *pr, void *ps, const pop *op, int step);
void proto_exact_prep_cost(const protocol *pr, const pop *op, int step, int nparties, proto_cost *acc);
/* EXACT's constants for element i: y0 = floor((m x + off0) / 2^k), y1 the
 * same with off1, y = y0 if y0 >= 1 else y1 (DIVR then less its offset
 * 257); a protocol with a fused method builds on them. */
void proto_exact_consts(const pop *op, size_t i, int64_t *m, int64_t *k, int64_t *off0, int64_t *off1);
/* LUT for protocols without a method of their own: the step sum over the
 * table's change points t (at least one, validated), T(x) = T(lo) + sum_t
 * (T(t) - T(t - 1)) (1 - [x - t < 0]), one LTZ of m n elements (|x - t| <=
 * 255) and local weights (docs/protocols.md "Table lookup"). */
int proto_lut_steps(const protocol *pr, const pop *op);
int proto_lut_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);
int proto_lut_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen);
void proto_lut_cost(const protocol *pr, const pop *op, int nparties, proto_cost *acc);
void proto_lut_deal(const protocol *pr, void *ps, const pop *op, int step);
void proto_lut_prep_cost(const protocol *pr, const pop *op, int step, int nparties, proto_cost *acc);
/* the table's change points: m, and where t and d are not NULL the codes
 * t and the steps T(t) - T(t - 1) */
size_t proto_lut_points(const pop *op, int64_t *t, int64_t *d);

/* acc += part, rounds included */
void proto_cost_add(proto_cost *acc, const proto_cost *part);

/* The registry (protocols.c): the one list of protocols. */
const protocol *proto_find(const char *name);
/* The i-th protocol, or NULL past the last. */
const protocol *proto_at(size_t i);
/* "clear, rep3, ..." for messages. */
const char *proto_names(void);

/* The reference every protocol is tested against (the others are reached
 * through the registry). */
extern const protocol proto_clear;

#endif
