/* Every operation kind of every protocol in one process (issue 12, item 5).
 *
 * Each program below is built directly with the emitter (so its values and
 * constants sit exactly on the boundaries the validator and the protocols'
 * documented preconditions allow), validated by the loader, and run through
 * the in-memory transport (mpc.h) under every registered protocol but the
 * reference, with its configs and N = 2 and 3 where it allows them, on a
 * few seeds of random values besides the fixed boundary values. Against the
 * clear run of the same program: comparisons, clamps, products, convolutions
 * and data movement exact, requantizations (REQUANT, DIVR, REQCLAMP) within
 * 1 (probabilistic truncation, docs/protocols.md) and mostly exact; every
 * process's bytes and rounds equal to the cost model's prediction.
 * tests/secure.sh keeps the end-to-end runs (TLS, separate processes,
 * leakage, cheating). */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/emit.h"
#include "runtime/core/dtype.h"
#include "runtime/core/kernels.h"
#include "vm/vm.h"
#include "mpc.h"

#define VEC 48        /* elements per vector: a multiple of every period below */
#define SEEDS 3
#define MAX_SLOTS 256 /* inputs, and outputs, of one program */
#define I32_MIN ((int64_t)INT32_MIN)
#define I32_MAX ((int64_t)INT32_MAX)
#define P2(k) ((int64_t)1 << (k))

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------- building programs */

typedef struct {
    emitter e;
    int nparties;
    uint64_t rng;
    int64_t *in[MAX_SLOTS];    /* per input slot: its owner's values */
    int tol[MAX_SLOTS];        /* per output slot: the allowed |secure - clear| */
    char what[MAX_SLOTS][80];  /* per output slot: what it holds, for messages */
    uint32_t wmax;             /* the protocol's owner_filters: filters party 0's, |w| <= wmax */
    int proven;                /* the protocol's proven_bounds: inputs in its proven ranges */
    int fit;                   /* the protocol's fit_bits: products and sums that stay inside int64 */
    int all;                   /* prog_all: no REQS under proven bounds (refused, below) */
    int reqs;                  /* REQS emitted */
} tprog;

static void tprog_init(tprog *t, int nparties, uint32_t seed)
{
    memset(t, 0, sizeof *t);
    em_init(&t->e);
    t->nparties = nparties;
    t->rng = 0x9e3779b97f4a7c15u * (seed + 1);
    for (int i = 0; i < nparties; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        em_party(&t->e, name);
    }
}

static void tprog_free(tprog *t)
{
    for (int s = 0; s < MAX_SLOTS; s++)
        free(t->in[s]);
}

static uint64_t next(tprog *t) /* splitmix64 */
{
    uint64_t z = (t->rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* uniform in [lo, hi], hi - lo < 2^63 */
static int64_t uniform(tprog *t, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next(t) % ((uint64_t)(hi - lo) + 1));
}

/* v[0..n): the edge values that lie in [lo, hi] first, then uniform ones */
static void fill(tprog *t, int64_t *v, uint32_t n, const int64_t *edge, size_t nedge, int64_t lo, int64_t hi)
{
    uint32_t k = 0;
    for (size_t i = 0; i < nedge && k < n; i++)
        if (edge[i] >= lo && edge[i] <= hi)
            v[k++] = edge[i];
    while (k < n)
        v[k++] = uniform(t, lo, hi);
}

/* A vector input of the next slot, provided by party `from`. */
static uint32_t input_from(tprog *t, int from, int dtype, const int64_t *v, uint32_t n)
{
    uint32_t slot = t->e.p.ninputs;
    ck_assert_uint_lt(slot, MAX_SLOTS);
    char name[16];
    snprintf(name, sizeof name, "x%u", slot);
    qbc_input in = {name, (uint8_t)from, (uint8_t)dtype, {1, {n}}};
    em_input(&t->e, &in);
    t->in[slot] = malloc(n * sizeof(int64_t));
    ck_assert_ptr_nonnull(t->in[slot]);
    memcpy(t->in[slot], v, n * sizeof(int64_t));
    int64_t lo = dtype_min(dtype);
    uint32_t bits = 8 * (uint32_t)dtype_size(dtype);
    proto_input_range(&lo, &bits);
    for (uint32_t i = 0; t->proven && i < n; i++) /* halved where out of range: the extremes stay extreme */
        if (v[i] < lo || (v[i] - lo) >> bits)
            t->in[slot][i] = v[i] >> 1;
    uint32_t r = em_sreg(&t->e, n);
    EMIT(&t->e, OP_INPUT, r, slot);
    return r;
}

/* ... provided by party slot mod N */
static uint32_t input(tprog *t, int dtype, const int64_t *v, uint32_t n)
{
    return input_from(t, (int)(t->e.p.ninputs % (uint32_t)t->nparties), dtype, v, n);
}

/* A secret vector of values below 2^62 in magnitude: an i32 input when they
 * fit, else hi 2^32 + lo from two i32 inputs (of two parties) with the
 * local MULC and ADD. */
static uint32_t secret(tprog *t, const int64_t *v, uint32_t n)
{
    int wide = 0;
    for (uint32_t i = 0; i < n; i++)
        wide |= v[i] < I32_MIN || v[i] > I32_MAX;
    if (!wide)
        return input(t, DT_I32, v, n);
    int64_t *hi = malloc(n * sizeof *hi), *lo = malloc(n * sizeof *lo);
    ck_assert(hi && lo);
    for (uint32_t i = 0; i < n; i++) {
        lo[i] = (int64_t)((uint64_t)v[i] & 0xffffffffu);
        lo[i] -= lo[i] > I32_MAX ? P2(32) : 0;
        hi[i] = (v[i] - lo[i]) / P2(32);
    }
    uint32_t h = input(t, DT_I32, hi, n), l = input(t, DT_I32, lo, n);
    free(hi);
    free(lo);
    uint32_t s = em_sreg(&t->e, n), d = em_sreg(&t->e, n);
    EMIT(&t->e, OP_MULC, s, h, em_const1(&t->e, P2(32)));
    EMIT(&t->e, OP_ADD, d, s, l);
    return d;
}

/* Reveals register r (n elements) to party slot mod N. */
static void output(tprog *t, uint32_t r, uint32_t n, int tol, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void output(tprog *t, uint32_t r, uint32_t n, int tol, const char *fmt, ...)
{
    uint32_t slot = t->e.p.noutputs;
    ck_assert_uint_lt(slot, MAX_SLOTS);
    char name[16];
    snprintf(name, sizeof name, "y%u", slot);
    qbc_output o = {name, (uint8_t)(slot % (uint32_t)t->nparties), DT_I32, OUT_RAW, {1, {n}}, 1.0f, 0, 0, 0, 0};
    em_output(&t->e, &o);
    EMIT(&t->e, OP_OUTPUT, r, slot);
    t->tol[slot] = tol;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->what[slot], sizeof t->what[slot], fmt, ap);
    va_end(ap);
}

static uint32_t reg(tprog *t, uint32_t n) { return em_sreg(&t->e, n); }

/* A random secret vector of n elements in [lo, hi], the edges first. */
static uint32_t random_secret(tprog *t, uint32_t n, const int64_t *edge, size_t nedge, int64_t lo, int64_t hi)
{
    int64_t *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    fill(t, v, n, edge, nedge, lo, hi);
    uint32_t r = secret(t, v, n);
    free(v);
    return r;
}

/* Filters of n weights in [lo, hi] (edges first), secret, or party 0's
 * small ones for a protocol with owner_filters. */
static uint32_t filters(tprog *t, uint32_t n, const int64_t *edge, size_t nedge, int64_t lo, int64_t hi)
{
    if (!t->wmax)
        return random_secret(t, n, edge, nedge, lo, hi);
    int64_t *v = malloc(n * sizeof *v), w = t->wmax, e[] = {-w, w, 0, -1, 1};
    ck_assert_ptr_nonnull(v);
    fill(t, v, n, e, COUNT(e), -w, w);
    uint32_t r = input_from(t, 0, DT_I32, v, n);
    free(v);
    return r;
}

static const int64_t i32_edges[] = {I32_MIN, I32_MAX, 0, -1, 1, I32_MIN + 1, I32_MAX - 1};

/* --------------------------------------------------------- the programs */

/* INPUT of every dtype at its ends (by every party in turn), OUTPUT to
 * every party, a one-element vector. */
static void prog_io(tprog *t)
{
    static const int64_t edge[] = {I32_MIN, I32_MAX, -128, 127, 255, 0, -1,
                                   1, I32_MIN + 1, I32_MAX - 1, 254, 128, -127};
    static const int dts[] = {DT_U8, DT_I8, DT_I32};
    int64_t v[VEC];
    for (size_t k = 0; k < COUNT(dts); k++) {
        fill(t, v, VEC, edge, COUNT(edge), dtype_min(dts[k]), dtype_max(dts[k]));
        output(t, input(t, dts[k], v, VEC), VEC, 0, "INPUT %s", dtype_names[dts[k]]);
    }
    fill(t, v, 1, NULL, 0, I32_MIN, I32_MAX);
    uint32_t one = input(t, DT_I32, v, 1);
    for (int p = 0; p < t->nparties; p++) /* receivers go round: one output each */
        output(t, one, 1, 0, "one element, the %d-th reveal", p);
}

/* The local operations, with periodic operands and constants at the ends
 * of the ring (a share's public constant goes to one place only). */
static void prog_linear(tprog *t)
{
    static const int64_t c[] = {-1, P2(40), I32_MIN, 7}, m[] = {-1, P2(31), 0, 3};
    static const int64_t f[] = {5, -6, I32_MAX, I32_MIN};
    uint32_t x = random_secret(t, VEC, i32_edges, COUNT(i32_edges), I32_MIN, I32_MAX);
    uint32_t y = random_secret(t, 4, i32_edges, COUNT(i32_edges), I32_MIN, I32_MAX);
    uint32_t d[5];
    for (int k = 0; k < 5; k++)
        d[k] = reg(t, VEC);
    EMIT(&t->e, OP_ADD, d[0], x, y);
    EMIT(&t->e, OP_SUB, d[1], x, y);
    EMIT(&t->e, OP_ADDC, d[2], x, em_const(&t->e, c, 4));
    EMIT(&t->e, OP_MULC, d[3], x, em_const(&t->e, m, 4));
    EMIT(&t->e, OP_FILLC, d[4], em_const(&t->e, f, 4));
    static const char *const names[] = {"ADD", "SUB", "ADDC", "MULC", "FILLC"};
    for (int k = 0; k < 5; k++)
        output(t, d[k], VEC, 0, "%s", names[k]);
}

/* Products at the ends of int32 (2^62 included), with a periodic operand,
 * and of wide values, which wrap modulo 2^64 as in clear (under a
 * protocol over a field, which computes only what stays inside int64, at
 * most 2^31: the ends of int32 again). */
static void prog_mul(tprog *t)
{
    static const int64_t ea[] = {I32_MIN, I32_MIN, I32_MAX, I32_MAX, -1, 0, 1, -1, I32_MIN, 255};
    static const int64_t eb[] = {I32_MIN, I32_MAX, I32_MIN, I32_MAX, -1, I32_MIN, -1, 1, 0, -128};
    static const int64_t ew[] = {P2(62) - 1, -(P2(62) - 1), P2(40) + 1, P2(61), -P2(33) - 5};
    static const int64_t ewf[] = {P2(31) - 1, -(P2(31) - 1), P2(20) + 1, P2(30), -P2(29) - 5};
    int64_t wide = t->fit ? P2(31) - 1 : P2(62) - 1;
    uint32_t x = random_secret(t, VEC, ea, COUNT(ea), I32_MIN, I32_MAX);
    uint32_t y = random_secret(t, VEC, eb, COUNT(eb), I32_MIN, I32_MAX);
    uint32_t p = random_secret(t, 4, eb, COUNT(eb), I32_MIN, I32_MAX);
    uint32_t w = random_secret(t, VEC, t->fit ? ewf : ew, COUNT(ew), -wide, wide);
    uint32_t d[3] = {reg(t, VEC), reg(t, VEC), reg(t, VEC)};
    EMIT(&t->e, OP_MUL, d[0], x, y);
    EMIT(&t->e, OP_MUL, d[1], x, p);
    EMIT(&t->e, OP_MUL, d[2], w, x);
    output(t, d[0], VEC, 0, "MUL int32 x int32");
    output(t, d[1], VEC, 0, "MUL by a period of 4");
    output(t, d[2], VEC, 0, "MUL wide x int32, modulo 2^64");
}

/* CONV2D (DWCONV2D with dw set) of secret inputs and weights over the full
 * int32 range: sums of products at 2^62 wrap modulo 2^64 alike (under a
 * protocol over a field, |values| <= 2^24: the sums stay inside int64). */
static void conv(tprog *t, const geom *g, uint32_t ch, int dw, int lazy)
{
    static const int64_t fit_edges[] = {-P2(24), P2(24), 0, -1, 1, -P2(24) + 1, P2(24) - 1};
    uint64_t taps = (uint64_t)g->kh * g->kw;
    uint32_t nin = g->h * g->w * g->c;
    uint32_t nw = (uint32_t)(dw ? taps * g->c * ch : ch * taps * g->c);
    uint32_t nout = dw ? g->oh * g->ow * g->c * ch : g->oh * g->ow * ch;
    const int64_t *e = t->fit ? fit_edges : i32_edges;
    int64_t lo = t->fit ? -P2(24) : I32_MIN, hi = t->fit ? P2(24) : I32_MAX;
    uint32_t x = random_secret(t, nin, e, COUNT(i32_edges), lo, hi);
    uint32_t w = filters(t, nw, e, COUNT(i32_edges), lo, hi);
    uint32_t d = reg(t, nout);
    EMIT(&t->e, dw ? OP_DWCONV2D : OP_CONV2D, d, x, w, g->h, g->w, g->c, g->kh, g->kw, g->oh, g->ow, g->sh, g->sw,
         g->pt, g->pl, g->dh, g->dw, ch, 0); /* no bound: any values */
    if (lazy)
        em_flag(&t->e, t->e.nins - 1, QBC_LAZY);
    output(t, d, nout, 0, "%s %ux%ux%u kernel %ux%u stride %u dilation %u, %u", dw ? "DWCONV2D" : "CONV2D", g->h,
           g->w, g->c, g->kh, g->kw, g->sh, g->dh, ch);
}

/* same padding; stride 2 with dilation and padding; a dot product of 40 */
static const geom conv_geoms[] = {
    {5, 5, 3, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1},
    {6, 7, 2, 2, 3, 4, 4, 2, 2, 1, 1, 2, 1},
    {1, 1, 40, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1},
};
static const uint32_t conv_channels[] = {4, 3, 5};

static void prog_conv2d(tprog *t)
{
    for (size_t k = 0; k < COUNT(conv_geoms); k++)
        conv(t, &conv_geoms[k], conv_channels[k], 0, 0);
}

/* depth multiplier 2; stride 2 with dilation and padding */
static const geom dw_geoms[] = {
    {5, 5, 3, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1},
    {7, 6, 4, 3, 2, 3, 3, 2, 2, 1, 0, 1, 2},
};
static const uint32_t dw_mults[] = {2, 1};

static void prog_dwconv2d(tprog *t)
{
    for (size_t k = 0; k < COUNT(dw_geoms); k++)
        conv(t, &dw_geoms[k], dw_mults[k], 1, 0);
}

typedef struct {
    int64_t m[4], s[4]; /* M0 and shift per channel */
    uint32_t nq;
} qparams;

/* the validator's ends: M0 0 and 2^31 - 1, shifts -31 and 30; per channel */
static const qparams requants[] = {
    {{I32_MAX}, {0}, 1},
    {{P2(30)}, {-31}, 1},
    {{0}, {5}, 1},
    {{1}, {30}, 1},
    {{I32_MAX}, {30}, 1},
    {{1518500250}, {-7}, 1},
    {{P2(30), I32_MAX, 1500000000, 1234567890}, {2, -1, -15, 0}, 4},
};

/* Inputs as TFLite's allow them: x 2^max(shift, 0) within int32, i.e.
 * -lim <= x < lim. */
static int64_t requant_lim(const qparams *q)
{
    int64_t left = 0;
    for (uint32_t c = 0; c < q->nq; c++)
        left = q->s[c] > left ? q->s[c] : left;
    return P2(31 - left);
}

static void prog_requant(tprog *t)
{
    for (size_t k = 0; k < COUNT(requants); k++) {
        const qparams *q = &requants[k];
        int64_t lim = requant_lim(q);
        const int64_t edge[] = {0, -1, 1, -lim, lim - 1, -lim + 1, lim - 2, lim / 2, -lim / 2};
        uint32_t x = random_secret(t, VEC, edge, COUNT(edge), -lim, lim - 1), d = reg(t, VEC);
        EMIT(&t->e, OP_REQUANT, d, x, em_const(&t->e, q->m, q->nq), em_const(&t->e, q->s, q->nq));
        output(t, d, VEC, 1, "REQUANT M0 %lld shift %lld%s", (long long)q->m[0], (long long)q->s[0],
               q->nq > 1 ? " (per channel)" : "");
    }
}

typedef struct {
    int64_t d[8];
    uint32_t nd;
} divisors;

static const divisors divrs[] = {
    {{1}, 1}, {{2}, 1}, {{3}, 1}, {{9}, 1}, {{49}, 1}, {{I32_MAX}, 1}, {{1, 2, 3, 4, 5, 6, 7, 8}, 8},
};

/* Sums of 8-bit values over windows (|x| <= 2^30), the int32 ends, and
 * ties (x = d/2), which clear rounds away from zero. */
static void prog_divr(tprog *t)
{
    for (size_t k = 0; k < COUNT(divrs); k++) {
        const divisors *q = &divrs[k];
        int64_t h = q->d[0] / 2;
        const int64_t edge[] = {0, -1, 1, I32_MIN, I32_MAX, P2(30), -P2(30), h, -h, h + 1, -h - 1};
        uint32_t x = random_secret(t, VEC, edge, COUNT(edge), -P2(30), P2(30)), d = reg(t, VEC);
        EMIT(&t->e, OP_DIVR, d, x, em_const(&t->e, q->d, q->nd));
        output(t, d, VEC, 1, "DIVR by %lld%s", (long long)q->d[0], q->nd > 1 ? " (per element)" : "");
    }
}

/* every bound class: 1 (the least), 8-bit differences, int32, 62 (the most) */
static const uint32_t ltz_bounds[] = {1, 2, 7, 8, 31, 32, 33, 48, 62};

static void prog_ltz(tprog *t)
{
    for (size_t k = 0; k < COUNT(ltz_bounds); k++) {
        uint32_t L = ltz_bounds[k];
        int64_t lim = P2(L) - 1;
        const int64_t edge[] = {0, -1, 1, lim, -lim, lim - 1, -lim + 1, P2(L - 1), -P2(L - 1)};
        uint32_t x = random_secret(t, VEC, edge, COUNT(edge), -lim, lim), d = reg(t, VEC);
        EMIT(&t->e, OP_LTZ, d, x, L);
        output(t, d, VEC, 0, "LTZ bound 2^%u", L);
    }
}

typedef struct {
    int64_t lo, hi;
    uint32_t bound;
} cparams;

/* 8-bit ranges, relu6, lo = hi, the int32 ends, the least and most bound */
static const cparams clamps[] = {
    {0, 255, 33}, {-128, 127, 9}, {5, 5, 4}, {-1, 0, 1}, {0, 6, 8},
    {I32_MIN, I32_MAX, 33}, {-1000000, 1000000, 21}, {100, 200, 62},
};

/* x with |x - lo| and |hi - x| below 2^bound, the bounds' neighbours first */
static void prog_clamp(tprog *t)
{
    for (size_t k = 0; k < COUNT(clamps); k++) {
        const cparams *c = &clamps[k];
        int64_t xlo = c->hi - P2(c->bound) + 1, xhi = c->lo + P2(c->bound) - 1;
        const int64_t edge[] = {c->lo - 1, c->lo, c->lo + 1, c->hi - 1, c->hi, c->hi + 1, xlo, xhi, 0, -1, 1};
        const int64_t b[2] = {c->lo, c->hi};
        uint32_t x = random_secret(t, VEC, edge, COUNT(edge), xlo, xhi), d = reg(t, VEC);
        EMIT(&t->e, OP_CLAMP, d, x, em_const(&t->e, b, 2), c->bound);
        output(t, d, VEC, 0, "CLAMP [%lld, %lld] bound 2^%u", (long long)c->lo, (long long)c->hi, c->bound);
    }
}

typedef struct {
    qparams q;
    int64_t zlh[3]; /* zero point, lo, hi */
} rcparams;

/* right shifts from 1 to 22 (the compiler's fused form), per channel with
 * their spread at the validator's limit, M0 = 0; and what only the
 * validator allows: no right shift or a left one (the compiler emits
 * REQUANT and CLAMP there), mixed, and int32 bounds */
static const rcparams reqclamps[] = {
    {{{I32_MAX}, {-1}, 1}, {0, 0, 255}},
    {{{P2(30)}, {-22}, 1}, {-128, -128, 127}},
    {{{1518500250}, {-8}, 1}, {3, 0, 6}},
    {{{1500000000, 1200000000, 2000000000, P2(30)}, {-5, -6, -7, -5}, 4}, {10, -128, 127}},
    {{{0}, {-3}, 1}, {7, 0, 255}},
    {{{I32_MAX}, {0}, 1}, {0, I32_MIN, I32_MAX}},
    {{{P2(30)}, {5}, 1}, {-3, -128, 127}},
    {{{1500000000, I32_MAX, P2(30), 1234567890}, {3, -2, 0, -4}, 4}, {100, 0, 255}},
};

/* The comparison bound: the compiler's for a fused REQCLAMP (compiler/dsl/lower.c,
 * requant_bits), |y + z - lo| < 2^(32 - right) for right shifts from 1 to
 * 22; without a right shift 32, the most the validator allows. */
static uint32_t reqclamp_bound(const qparams *q)
{
    int64_t right = 31;
    for (uint32_t c = 0; c < q->nq; c++)
        right = -q->s[c] < right ? -q->s[c] : right;
    return right <= 0 ? 32 : right >= 22 ? 10 : (uint32_t)(32 - right);
}

static void emit_reqclamp(tprog *t, uint32_t d, uint32_t x, const rcparams *r, int lazy)
{
    EMIT(&t->e, OP_REQCLAMP, d, x, em_const(&t->e, r->q.m, r->q.nq), em_const(&t->e, r->q.s, r->q.nq),
         em_const(&t->e, r->zlh, 3), reqclamp_bound(&r->q));
    if (lazy)
        em_flag(&t->e, t->e.nins - 1, QBC_LAZY);
}

/* Accumulators at the ends TFLite allows, and the x whose requantized
 * value lands next to lo and hi, channel by channel. */
static void prog_reqclamp(tprog *t)
{
    for (size_t k = 0; k < COUNT(reqclamps); k++) {
        const rcparams *r = &reqclamps[k];
        int64_t v[VEC], z = r->zlh[0], lim = requant_lim(&r->q);
        const int64_t near[] = {r->zlh[1] - z - 1, r->zlh[1] - z, r->zlh[1] - z + 1,
                                r->zlh[2] - z - 1, r->zlh[2] - z, r->zlh[2] - z + 1};
        const int64_t edge[] = {-lim, lim - 1, 0, -1, 1, -lim + 1, lim - 2};
        fill(t, v, VEC, edge, COUNT(edge), -lim, lim - 1);
        for (uint32_t i = COUNT(edge), j = 0; j < 2 * COUNT(near); i++, j++) {
            int64_t m = r->q.m[i % r->q.nq], sh = r->q.s[i % r->q.nq], y = near[j % COUNT(near)];
            /* y = x m 2^left / 2^(31 + right) */
            int64_t x = m ? y * P2(31 + (sh < 0 ? -sh : 0)) / (m * P2(sh > 0 ? sh : 0)) : y;
            v[i] = x < -lim ? -lim : x > lim - 1 ? lim - 1 : x;
        }
        uint32_t x = secret(t, v, VEC), d = reg(t, VEC);
        emit_reqclamp(t, d, x, r, 0);
        output(t, d, VEC, 1, "REQCLAMP M0 %lld shift %lld [%lld, %lld]%s", (long long)r->q.m[0],
               (long long)r->q.s[0], (long long)r->zlh[1], (long long)r->zlh[2],
               r->q.nq > 1 ? " (per channel)" : "");
    }
}

/* A layer as the compiler fuses it: 8-bit inputs and weights convolved,
 * a per-channel bias added (ADD of a secret bias for CONV2D, ADDC for
 * DWCONV2D), then REQCLAMP; with lazy set the convolution leaves its
 * unfinished sum and REQCLAMP reads it as such. Biases at the ends keep
 * the accumulator (|conv| < 2^19) within int32. */
static const rcparams conv_rq = {{{P2(30), 1500000000, I32_MAX, 1234567890}, {-10, -11, -10, -12}, 4},
                                 {-5, -128, 127}};
static const rcparams dw_rq = {{{P2(30), I32_MAX, 1300000000}, {-9, -9, -10}, 3}, {3, -128, 127}};

static void conv_reqclamp(tprog *t, int lazy, int exact)
{
    static const int64_t e8[] = {-128, 127, 0, -1};
    const geom *g = &conv_geoms[0];
    uint32_t nin = g->h * g->w * g->c, taps = g->kh * g->kw, oc = conv_rq.q.nq;
    int64_t v[128], bmax = exact ? P2(30) - P2(19) : I32_MAX - P2(19); /* exact: |acc| < 2^30 */
    const int64_t eb[] = {bmax, -bmax};
    for (int dw = 0; dw < 2; dw++) {
        uint32_t ch = dw ? g->c : oc, n = g->oh * g->ow * ch, nw = taps * g->c * (dw ? 1 : oc);
        fill(t, v, nin, e8, COUNT(e8), -128, 127);
        uint32_t x = input(t, DT_I8, v, nin);
        fill(t, v, nw, e8, COUNT(e8), -128, 127);
        uint32_t w = t->wmax ? input_from(t, 0, DT_I8, v, nw) : input(t, DT_I8, v, nw);
        uint32_t acc = reg(t, n), b = reg(t, n), d = reg(t, n);
        uint32_t accbits = 0; /* |sum| <= 128 128 per product: the bound, tight at the edges */
        while ((uint64_t)128 * 128 * taps * (dw ? 1 : g->c) >> accbits)
            accbits++;
        EMIT(&t->e, dw ? OP_DWCONV2D : OP_CONV2D, acc, x, w, g->h, g->w, g->c, g->kh, g->kw, g->oh, g->ow, g->sh,
             g->sw, g->pt, g->pl, g->dh, g->dw, dw ? 1 : oc, accbits);
        if (lazy)
            em_flag(&t->e, t->e.nins - 1, QBC_LAZY);
        fill(t, v, ch, eb, COUNT(eb), -P2(20), P2(20));
        if (dw)
            EMIT(&t->e, OP_ADDC, b, acc, em_const(&t->e, v, ch));
        else
            EMIT(&t->e, OP_ADD, b, acc, input(t, DT_I32, v, ch));
        emit_reqclamp(t, d, b, dw ? &dw_rq : &conv_rq, lazy);
        if (exact)
            em_flag(&t->e, t->e.nins - 1, QBC_EXACT);
        output(t, d, n, !exact, "%s%s + bias, %sREQCLAMP", lazy ? "lazy " : "", dw ? "DWCONV2D" : "CONV2D",
               exact ? "exact " : "");
    }
}

static void prog_conv_reqclamp(tprog *t) { conv_reqclamp(t, 0, 0); }
static void prog_lazy(tprog *t) { conv_reqclamp(t, 1, 0); }
static void prog_lazy_exact(tprog *t) { conv_reqclamp(t, 1, 1); }

/* Exact rounding (QBC_EXACT) must equal clear's (TFLite's) with no
 * tolerance, at its limits (|x 2^left| < 2^30, right shifts up to 30,
 * sums of 8-bit values divided by up to 2^20) and on the ties of both
 * roundings, where the sign decides: with M0 = 2^30, x -> h = floor((x +
 * 1) / 2) and a right shift e ties at h = j 2^e + 2^(e-1), x = 2h - 1 and
 * 2h, for j = -2 .. 1. */
static void tie_edges(const qparams *q, int64_t *edge, size_t *n)
{
    int64_t e = q->s[0] < 0 ? -q->s[0] : 0;
    for (int64_t j = -2; j <= 1 && q->m[0] == P2(30) && e > 0 && e < 29; j++) {
        int64_t h = j * P2(e) + P2(e - 1);
        edge[(*n)++] = 2 * h - 1, edge[(*n)++] = 2 * h;
    }
}

static const qparams exact_requants[] = {
    {{P2(30)}, {-1}, 1}, {{P2(30)}, {-3}, 1}, {{P2(30)}, {-7}, 1}, {{P2(30)}, {-22}, 1},
    {{P2(30)}, {-30}, 1}, {{I32_MAX}, {0}, 1}, {{1518500250}, {-7}, 1}, {{1}, {29}, 1},
    {{P2(30), I32_MAX, 1500000000, 1234567890}, {-4, -1, -15, 2}, 4},
};
static const rcparams exact_reqclamps[] = {
    {{{P2(30)}, {-3}, 1}, {0, 0, 255}},   {{{P2(30)}, {-7}, 1}, {-128, -128, 127}},
    {{{P2(30)}, {-1}, 1}, {3, 0, 6}},     {{{P2(30)}, {-5}, 1}, {300, 0, 255}},
    {{{I32_MAX}, {-1}, 1}, {0, 0, 255}},  {{{1500000000, 1200000000, 2000000000, P2(30)}, {-5, -6, -7, -5}, 4}, {10, -128, 127}},
    /* no bits dropped beyond the 31 (k = 31), alone and beside k > 31: two floors */
    {{{P2(30)}, {1}, 1}, {5, 0, 255}},    {{{P2(30)}, {0}, 1}, {3, 0, 6}},
    {{{1500000000, 1200000000, 2000000000, P2(30)}, {-5, 0, 1, -9}, 4}, {10, -128, 127}},
};

static void prog_exact(tprog *t)
{
    for (size_t k = 0; k < COUNT(exact_requants) + COUNT(exact_reqclamps); k++) {
        int rc = k >= COUNT(exact_requants);
        const rcparams *r = rc ? &exact_reqclamps[k - COUNT(exact_requants)] : NULL;
        const qparams *q = rc ? &r->q : &exact_requants[k];
        int64_t lim = requant_lim(q) / 2, edge[24] = {0, -1, 1, -lim, lim - 1, -lim + 1, lim - 2, lim / 2, -lim / 2};
        size_t ne = 9;
        tie_edges(q, edge, &ne);
        uint32_t x = random_secret(t, VEC, edge, ne, -lim, lim - 1), d = reg(t, VEC);
        if (rc)
            emit_reqclamp(t, d, x, r, 0);
        else
            EMIT(&t->e, OP_REQUANT, d, x, em_const(&t->e, q->m, q->nq), em_const(&t->e, q->s, q->nq));
        em_flag(&t->e, t->e.nins - 1, QBC_EXACT);
        output(t, d, VEC, 0, "exact %s M0 %lld shift %lld%s", rc ? "REQCLAMP" : "REQUANT", (long long)q->m[0],
               (long long)q->s[0], q->nq > 1 ? " (per channel)" : "");
    }
    static const int64_t dvs[] = {1, 2, 3, 4, 16, 49, P2(20)};
    for (size_t k = 0; k < COUNT(dvs); k++) {
        int64_t dv = dvs[k], h = dv / 2, lim = 255 * dv;
        const int64_t edge[] = {0, -1, 1, h, -h, h - 1, -h + 1, h + dv, -h - dv, lim, -lim, 3 * dv + h, -3 * dv - h};
        uint32_t x = random_secret(t, VEC, edge, COUNT(edge), -lim, lim), d = reg(t, VEC);
        EMIT(&t->e, OP_DIVR, d, x, em_const(&t->e, &dv, 1));
        em_flag(&t->e, t->e.nins - 1, QBC_EXACT);
        output(t, d, VEC, 0, "exact DIVR by %lld", (long long)dv);
    }
}

/* REQS (secret parameters): the owner's folding of REQCLAMP's constants,
 * W0 = x M0 2^left 2^s + (2^30 + 2^(30 + e)) 2^s with s = kpub - k per
 * channel and Delta = 2^(31 + s) (0 without a right shift), parameters
 * (Delta, z, lo, hi, min(hi, max(lo, z))); built here from public
 * constants and 32-bit inputs, as the program needs no secrecy; QBC_RELU
 * on half of the cases with lo >= z. Outputs,
 * in this order: exact REQS minus exact REQCLAMP of x (zero in clear: the
 * test reqs_is_reqclamp), exact REQS, fast REQS. */
#define REQS_OUTPUTS 3
static void prog_reqs(tprog *t)
{
    t->reqs = !(t->all && (t->proven || t->fit));
    for (size_t k = 0; t->reqs && k < COUNT(exact_reqclamps); k++) {
        const rcparams *r = &exact_reqclamps[k];
        const qparams *q = &r->q;
        uint32_t nq = q->nq;
        int64_t kpub = 0, m[4], off[4], qv[8], mc[8], zp = r->zlh[0], lo = r->zlh[1], hi = r->zlh[2];
        for (uint32_t c = 0; c < nq; c++)
            kpub = 31 + (q->s[c] < 0 ? -q->s[c] : 0) > kpub ? 31 + (q->s[c] < 0 ? -q->s[c] : 0) : kpub;
        for (uint32_t c = 0; c < nq; c++) {
            int64_t left = q->s[c] > 0 ? q->s[c] : 0, right = q->s[c] < 0 ? -q->s[c] : 0, sc = kpub - 31 - right;
            m[c] = q->m[c] * P2(left) * P2(sc);
            off[c] = (P2(30) + (right ? P2(30 + right) : 0)) * P2(sc);
            qv[c] = right ? P2(sc) : 0, mc[c] = P2(31);
        }
        int64_t t3 = zp > lo ? zp : lo;
        qv[nq] = zp, qv[nq + 1] = lo, qv[nq + 2] = hi, qv[nq + 3] = t3 < hi ? t3 : hi;
        for (uint32_t j = 0; j < 4; j++)
            mc[nq + j] = 1;
        /* folding the shift in costs headroom: |x M0 2^left 2^s| < 2^62 */
        int64_t smax = 0;
        for (uint32_t c = 0; c < nq; c++)
            smax = kpub - 31 - (q->s[c] < 0 ? -q->s[c] : 0) > smax ? kpub - 31 - (q->s[c] < 0 ? -q->s[c] : 0) : smax;
        int64_t lim = requant_lim(q) / 2 / P2(smax + 1);
        int64_t edge[24] = {0, -1, 1, -lim, lim - 1, -lim + 1, lim - 2, lim / 2, -lim / 2};
        size_t ne = 9;
        tie_edges(q, edge, &ne);
        uint32_t x = random_secret(t, VEC, edge, ne, -lim, lim - 1), w = reg(t, VEC), pr = reg(t, nq + 4);
        EMIT(&t->e, OP_MULC, w, x, em_const(&t->e, m, nq));
        EMIT(&t->e, OP_ADDC, w, w, em_const(&t->e, off, nq));
        EMIT(&t->e, OP_MULC, pr, input(t, DT_I32, qv, nq + 4), em_const(&t->e, mc, nq + 4));
        uint32_t d[3] = {reg(t, VEC), reg(t, VEC), reg(t, VEC)}, diff = reg(t, VEC);
        EMIT(&t->e, OP_REQS, d[0], w, pr, (uint32_t)kpub, reqclamp_bound(q));
        em_flag(&t->e, t->e.nins - 1, QBC_EXACT);
        if (lo >= zp && k % 2) /* a ReLU's clamp: the first floor alone, half of the cases */
            em_flag(&t->e, t->e.nins - 1, QBC_RELU);
        EMIT(&t->e, OP_REQS, d[1], w, pr, (uint32_t)kpub, reqclamp_bound(q));
        emit_reqclamp(t, d[2], x, r, 0);
        em_flag(&t->e, t->e.nins - 1, QBC_EXACT);
        EMIT(&t->e, OP_SUB, diff, d[0], d[2]);
        const char *what = nq > 1 ? " (per channel)" : "";
        output(t, diff, VEC, 0, "exact REQS - exact REQCLAMP, M0 %lld shift %lld%s", (long long)q->m[0],
               (long long)q->s[0], what);
        output(t, d[0], VEC, 0, "exact REQS, M0 %lld shift %lld%s", (long long)q->m[0], (long long)q->s[0], what);
        output(t, d[1], VEC, 1, "REQS, M0 %lld shift %lld%s", (long long)q->m[0], (long long)q->s[0], what);
    }
}

/* LUT over the uint8 and the int8 codes: a table of many change points
 * (rep3's one-of-256 lookup) and one of three (the step sum everywhere),
 * the ends and the change points' neighbours first */
static void prog_lut(tprog *t)
{
    for (int k = 0; k < 4; k++) {
        int64_t lo = k % 2 ? -128 : 0, tab[256], v[VEC];
        for (int i = 0; i < 256; i++)
            tab[i] = k < 2 ? (i * i * 37 + 11) % 509 - 254 : (i >= 100) * 7 - (i >= 200) * 3 + (i >= 201) * 1000;
        const int64_t edge[] = {lo, lo + 255, lo + 1, lo + 254, lo + 100, lo + 99, lo + 200, lo + 201};
        fill(t, v, VEC, edge, COUNT(edge), lo, lo + 255);
        uint32_t x = input(t, lo ? DT_I8 : DT_U8, v, VEC), d = reg(t, VEC);
        EMIT(&t->e, OP_LUT, d, x, em_const(&t->e, tab, 256), (uint32_t)(lo < 0));
        output(t, d, VEC, 0, "LUT from %lld, %s change points", (long long)lo, k < 2 ? "many" : "three");
    }
}

/* Convolutions on one input, their filters: the last party's input moved by ADDC
 * and MULC (in place), party 0's as input, party 0's plus another
 * register, party 1's input into a register that an ADD then rewrites,
 * party 0's with one element copied over, and a FILLC. */
enum { NFILTERS = 6 };
static void prog_filters(tprog *t)
{
    const geom *g = &conv_geoms[0];
    uint32_t nin = g->h * g->w * g->c, nw = conv_channels[0] * g->kh * g->kw * g->c, n = g->oh * g->ow * 4;
    static const int64_t e8[] = {-128, 127, 0, -1};
    int64_t v[NFILTERS + 1][128], c = 3;
    for (int k = 0; k <= NFILTERS; k++)
        fill(t, v[k], k ? nw : nin, e8, COUNT(e8), -128, 127);
    uint32_t x = input_from(t, 1, DT_I8, v[0], nin), w[NFILTERS], other = input_from(t, 1, DT_I8, v[1], nw);
    w[0] = reg(t, nw), w[1] = input_from(t, 0, DT_I8, v[2], nw), w[2] = reg(t, nw);
    w[3] = input_from(t, 1, DT_I8, v[3], nw), w[4] = input_from(t, 0, DT_I8, v[4], nw), w[5] = reg(t, nw);
    EMIT(&t->e, OP_ADDC, w[0], input_from(t, t->nparties - 1, DT_I8, v[5], nw), em_const(&t->e, &c, 1));
    EMIT(&t->e, OP_MULC, w[0], w[0], em_const(&t->e, &c, 1));
    EMIT(&t->e, OP_ADD, w[2], input_from(t, 0, DT_I8, v[6], nw), other);
    EMIT(&t->e, OP_ADD, w[3], other, other);
    EMIT(&t->e, OP_COPY, w[4], other, 1, 1, 0, 0, 0, 0);
    EMIT(&t->e, OP_FILLC, w[5], em_const(&t->e, &c, 1));
    for (int k = 0; k < NFILTERS; k++) {
        if (t->wmax && k != 1)
            continue; /* filters that are not their owner's own values: not under hemi */
        uint32_t d = reg(t, n);
        EMIT(&t->e, OP_CONV2D, d, x, w[k], g->h, g->w, g->c, g->kh, g->kw, g->oh, g->ow, g->sh, g->sw, g->pt, g->pl,
             g->dh, g->dw, 4, 0);
        output(t, d, n, 0, "CONV2D, filters %d", k);
    }
}

#define PROGRAMS(X) X(io) X(linear) X(mul) X(conv2d) X(dwconv2d) X(requant) X(divr) X(ltz) X(clamp) X(reqclamp) \
    X(conv_reqclamp) X(lazy) X(lazy_exact) X(exact) X(reqs) X(lut) X(filters)

/* Everything at once: one ROUND block mixes every kind, of different
 * step counts. */
static void prog_all(tprog *t)
{
    t->all = 1;
#define X(name) prog_##name(t);
    PROGRAMS(X)
#undef X
}

/* the same scheduled with qnnc --late-inputs: each input beside the
 * comparisons before its first use, verification marks on INPUTs too */
static void prog_all_late(tprog *t)
{
    t->e.late_inputs = 1;
    prog_all(t);
}

/* ------------------------------------------------------------- running */

typedef struct {
    const protocol *pr;
    int n, threads; /* threads: kern_set_threads' for the run (0: 1) */
} config;

static config configs[64];
static int nconfigs;
static protocol waved[5]; /* rep3, spdz2k and hemi in waves of 7 elements (vm_block); rep3-active in waves
                            * of 16 split from 5, and on 2 threads */

/* Every protocol of the registry but the reference, with its configs and
 * N = 2 and 3 where it allows them. */
static void list_configs(void)
{
    nconfigs = 0;
    for (size_t i = 0; proto_at(i); i++) {
        const protocol *pr = proto_at(i);
        int want[COUNT(pr->configs) + 2], k = 0;
        for (size_t j = 0; j < COUNT(pr->configs) && pr->configs[j]; j++)
            want[k++] = pr->configs[j];
        want[k++] = 2;
        want[k++] = 3;
        for (int j = 0; j < k && pr != &proto_clear; j++) {
            int dup = want[j] < pr->min_parties || want[j] > pr->max_parties;
            for (int c = 0; c < nconfigs; c++)
                dup |= configs[c].pr == pr && configs[c].n == want[j];
            if (!dup && nconfigs < (int)COUNT(configs))
                configs[nconfigs++] = (config){pr, want[j], 0};
        }
    }
    /* the VM's passes over slices: uneven ones, per-channel periods, lazy
     * inputs, the dealer's walk */
    static const char *const names[3] = {"rep3 in waves of 7", "spdz2k in waves of 7",
                                         "hemi in waves of 7, 3 threads"};
    const protocol *wv[3] = {proto_find("rep3"), proto_find("spdz2k"), proto_find("hemi")};
    for (int i = 0; i < 3 && wv[i] && nconfigs < (int)COUNT(configs); i++) {
        waved[i] = *wv[i];
        waved[i].name = names[i];
        waved[i].wave_elems = 7;
        configs[nconfigs++] = (config){&waved[i], i ? 2 : 3, i == 2 ? 3 : 0};
    }
    /* thirds with turned roles (vm_block), of whole operations and of
     * waves' slices: uneven ones, per-channel periods, a verification
     * marked on a split operation and on every wave after the first */
    const protocol *ra = proto_find("rep3-active");
    if (ra && nconfigs < (int)COUNT(configs)) {
        waved[3] = *ra;
        waved[3].name = "rep3-active in waves of 16, split from 5 elements";
        waved[3].split_roles = 5;
        waved[3].wave_elems = 16;
        waved[3].check_every = 1; /* a verification before every block */
        configs[nconfigs++] = (config){&waved[3], 3, 0};
    }
    if (ra && nconfigs < (int)COUNT(configs)) { /* the proofs' convolution kernels in parts */
        waved[4] = *ra;
        waved[4].name = "rep3-active, 2 threads";
        configs[nconfigs++] = (config){&waved[4], 3, 2};
    }
}

/* Runs the program build makes under configs[cfg] and under clear on
 * SEEDS seeds, and compares: outputs within their tolerance, truncations
 * mostly exact, every process's bytes and rounds as predicted. */
/* build's program for n parties and seed, validated, with clear's outputs
 * (t allocated: free with tprog_free and free) */
static tprog *clear_run(const char *name, void (*build)(tprog *), int n, uint32_t seed, const protocol *pr, qbc_program *p,
                        mpc_result *want)
{
    tprog *t = malloc(sizeof *t);
    ck_assert_ptr_nonnull(t);
    tprog_init(t, n, seed);
    t->wmax = pr ? pr->owner_filters : 0;
    t->proven = pr && pr->proven_bounds;
    t->fit = pr && pr->fit_bits;
    build(t);
    char err[1024];
    ck_assert_msg(mpc_build(&t->e, p, err, sizeof err) == 0, "%s: invalid program: %s", name, err);
    ck_assert_msg(mpc_run(p, &proto_clear, 1, t->in, want, err, sizeof err) == 0, "%s in clear: %s", name, err);
    return t;
}

static void against_clear(const char *name, void (*build)(tprog *), int cfg)
{
    const protocol *pr = configs[cfg].pr;
    int n = configs[cfg].n;
    for (uint32_t seed = 1; seed <= SEEDS; seed++) {
        qbc_program p;
        mpc_result want, got;
        char err[1024];
        tprog *t = clear_run(name, build, n, seed, pr, &p, &want);
        kern_set_threads(configs[cfg].threads);
        int rc = mpc_run(&p, pr, n, t->in, &got, err, sizeof err);
        kern_set_threads(1);
        if (t->reqs && (pr->proven_bounds || pr->fit_bits)) { /* secret parameters: refused, with the reason */
            ck_assert_msg(rc != 0 && strstr(err, "REQS") && strstr(err, "not supported"), "%s under %s: %s", name,
                          pr->name, rc ? err : "ran");
            mpc_result_free(&p, &want);
            mpc_result_free(&p, &got);
            qbc_free(&p);
            tprog_free(t);
            free(t);
            continue;
        }
        ck_assert_msg(rc == 0, "%s under %s, N = %d, seed %u: %s", name, pr->name, n, seed, err);
        uint64_t truncated = 0, exact = 0;
        for (uint32_t s = 0; s < p.noutputs; s++)
            for (uint64_t i = 0; i < shape_elems(&p.outputs[s].shape); i++) {
                int64_t w = want.out[s][i], g = got.out[s][i];
                uint64_t diff = (uint64_t)g - (uint64_t)w; /* modulo 2^64: no overflow */
                ck_assert_msg(diff == 0 || (t->tol[s] && (diff == 1 || diff == UINT64_MAX)),
                              "%s under %s, N = %d, seed %u: %s (output %u, to party %u), element %llu: "
                              "clear %lld, %s %lld (allowed difference %d)",
                              name, pr->name, n, seed, t->what[s], s, p.outputs[s].party, (unsigned long long)i,
                              (long long)w, pr->name, (long long)g, t->tol[s]);
                truncated += t->tol[s] != 0;
                exact += t->tol[s] != 0 && diff == 0;
            }
        /* a truncation off by one every time would be a bias, not rounding
         * (random values: about 3/4 agree with clear's round to nearest) */
        ck_assert_msg(2 * exact >= truncated, "%s under %s, N = %d, seed %u: only %llu of %llu requantized values "
                      "equal clear's", name, pr->name, n, seed, (unsigned long long)exact,
                      (unsigned long long)truncated);
        for (int i = 0; i < got.procs; i++)
            ck_assert_msg(got.bytes[i] == got.predicted_bytes[i] && got.rounds[i] == got.predicted_rounds[i],
                          "%s under %s, N = %d, seed %u: %s %d sent %llu bytes in %llu rounds, predicted %llu "
                          "in %llu", name, pr->name, n, seed, i == n ? "dealer" : "party", i,
                          (unsigned long long)got.bytes[i], (unsigned long long)got.rounds[i],
                          (unsigned long long)got.predicted_bytes[i], (unsigned long long)got.predicted_rounds[i]);
        mpc_result_free(&p, &want);
        mpc_result_free(&p, &got);
        qbc_free(&p);
        tprog_free(t);
        free(t);
    }
}

#define X(name) \
    START_TEST(name##_against_clear) { against_clear(#name, prog_##name, _i); } \
    END_TEST
PROGRAMS(X) X(all) X(all_late)
#undef X

/* REQS on the owner's folded parameters is TFLite's REQCLAMP, element for
 * element, in clear (the secure protocols are held to clear above). */
START_TEST(reqs_is_reqclamp)
{
    qbc_program p;
    mpc_result got;
    tprog *t = clear_run("reqs", prog_reqs, 1, 1, NULL, &p, &got);
    for (uint32_t s = 0; s < p.noutputs; s += REQS_OUTPUTS)
        for (uint64_t i = 0; i < shape_elems(&p.outputs[s].shape); i++)
            ck_assert_msg(got.out[s][i] == 0, "%s, element %llu: %lld", t->what[s], (unsigned long long)i,
                          (long long)got.out[s][i]);
    mpc_result_free(&p, &got);
    qbc_free(&p);
    tprog_free(t);
    free(t);
}
END_TEST

/* build's program for 3 parties, seed 1, into p (t allocated: free with
 * tprog_free and free) */
static tprog *built(void (*build)(tprog *), qbc_program *p)
{
    tprog *t = malloc(sizeof *t);
    char err[1024];
    ck_assert_ptr_nonnull(t);
    tprog_init(t, 3, 1);
    build(t);
    ck_assert_msg(mpc_build(&t->e, p, err, sizeof err) == 0, "%s", err);
    return t;
}

/* the pass entries of one kind at step 0, as every party runs them */
typedef struct {
    enum proto_kind kind;
    pop e[64];
    int n;
} entries;

static void note_kind(void *ud, const pop *op, int step)
{
    entries *es = ud;
    if (step == 0 && op->kind == es->kind && es->n < (int)COUNT(es->e))
        es->e[es->n++] = *op;
}

/* prog_reqclamp's REQCLAMPs, each of a product (by a secret 1): inputs'
 * bytes do not count toward check_every, so a MUL block before them does */
static void prog_reqclamp_of_products(tprog *t)
{
    for (size_t k = 0; k < COUNT(reqclamps); k++) {
        int64_t v[VEC], one[VEC];
        for (uint32_t i = 0; i < VEC; i++)
            v[i] = (int64_t)i - VEC / 2, one[i] = 1;
        uint32_t x = secret(t, v, VEC), o = secret(t, one, VEC), y = reg(t, VEC), d = reg(t, VEC);
        EMIT(&t->e, OP_MUL, y, x, o);
        emit_reqclamp(t, d, y, &reqclamps[k], 0);
        output(t, d, VEC, 1, "REQCLAMP of a product");
    }
}

/* With split_roles, each REQCLAMP runs as its thirds, in order, the roles
 * turned by 0, 1, 2 and the verification mark on the first alone; without
 * (rep3-active's own threshold is far above VEC), whole. */
START_TEST(split_turns_the_roles_by_thirds)
{
    qbc_program p;
    tprog *t = built(prog_reqclamp_of_products, &p);
    const protocol *ra = proto_find("rep3-active");
    ck_assert_ptr_nonnull(ra);
    for (int sp = 0; sp < 2; sp++) {
        protocol pr = *ra;
        if (sp)
            pr.split_roles = 5, pr.check_every = 1;
        vm_assign_roles(&p, &pr, 3);
        entries es = {.kind = PK_REQCLAMP, .n = 0};
        int marks = 0;
        vm_walk(&p, &pr, note_kind, &es);
        ck_assert_int_eq(es.n, (int)(sp ? 3 : 1) * (int)COUNT(reqclamps));
        for (int i = 0; i < es.n; i += sp ? 3 : 1) {
            size_t n = 0;
            for (int k = 0; k < (sp ? 3 : 1); k++) {
                const pop *e = &es.e[i + k];
                n += e->n;
                ck_assert_int_eq(e->rot, (es.e[i].rot + k) % 3);
                ck_assert(!e->check || (sp && k == 0)); /* the mark on a first third only */
                marks += e->check;
                ck_assert_uint_eq(e->n, sp ? VEC / 3 : VEC);
            }
            ck_assert_uint_eq(n, VEC);
        }
        ck_assert_int_eq(marks > 0, sp); /* check_every 1: every block after the MULs' */
    }
    qbc_free(&p);
    tprog_free(t);
    free(t);
}
END_TEST

/* In waves (rep3-active's own wave_elems is far above VEC), each wave's
 * slice of a REQCLAMP runs as its thirds, the roles turned by 0, 1, 2; the
 * first entry of every wave after the first carries a verification mark
 * (and nothing else here: the program is far below check_every); INPUTs
 * run whole (inputs_whole). */
START_TEST(waves_are_split_and_marked)
{
    qbc_program p;
    tprog *t = built(prog_reqclamp_of_products, &p);
    protocol pr = *proto_find("rep3-active");
    pr.split_roles = 5, pr.wave_elems = VEC / 2;
    vm_assign_roles(&p, &pr, 3);
    entries es = {.kind = PK_REQCLAMP, .n = 0}, in = {.kind = PK_INPUT, .n = 0};
    vm_walk(&p, &pr, note_kind, &es);
    vm_walk(&p, &pr, note_kind, &in);
    ck_assert_int_eq(es.n, 6 * (int)COUNT(reqclamps));
    for (int i = 0; i < es.n; i += 3)
        for (int k = 0; k < 3; k++) {
            const pop *e = &es.e[i + k];
            ck_assert_uint_eq(e->n, VEC / 6);
            ck_assert_int_eq(e->rot, (es.e[i].rot + k) % 3);
        }
    ck_assert_int_gt(in.n, 0);
    for (int i = 0; i < in.n; i++)
        ck_assert(in.e[i].n == VEC && !in.e[i].check);
    /* the marks: on the first entry of each wave after the first, alone */
    int nwaved = 0;
    for (uint32_t pc = 0; pc < p.ncode; pc += 1 + (uint32_t)qbc_nops(p.code[pc])) {
        vm_block b;
        if (qbc_op(p.code[pc]) != OP_ROUND)
            continue;
        ck_assert_int_eq(vm_block_open(&b, &p, pc, &pr, NULL, NULL), 0);
        for (uint32_t w = 0; w < b.waves; w++) {
            uint32_t k = vm_block_pass(&b, w);
            ck_assert(k > 0 || w > 1); /* later waves may be empty where the slices round up */
            for (uint32_t i = 0; i < k; i++)
                ck_assert_int_eq(b.pass[i].check, w > 0 && i == 0);
        }
        nwaved += b.waves == 2;
        vm_block_close(&b);
    }
    ck_assert_int_gt(nwaved, 0);
    qbc_free(&p);
    tprog_free(t);
    free(t);
}
END_TEST

/* INPUTs' bytes do not count toward check_every: with every byte counted
 * (1), a REQCLAMP block right after the inputs' gets no mark */
START_TEST(input_bytes_do_not_count_toward_checks)
{
    qbc_program p;
    tprog *t = built(prog_reqclamp, &p);
    protocol pr = *proto_find("rep3-active");
    pr.check_every = 1;
    vm_assign_roles(&p, &pr, 3);
    entries es = {.kind = PK_REQCLAMP, .n = 0};
    vm_walk(&p, &pr, note_kind, &es);
    ck_assert_int_gt(es.n, 0);
    for (int i = 0; i < es.n; i++)
        ck_assert(!es.e[i].check);
    qbc_free(&p);
    tprog_free(t);
    free(t);
}
END_TEST

/* pop.bfrom names the party whose input a convolution's filters hold only
 * while ADDC and MULC alone have changed them (which keep the share an
 * INPUT leaves zero); any other writer clears it. */
START_TEST(filters_keep_their_owner_through_addc_and_mulc)
{
    qbc_program p;
    tprog *t = built(prog_filters, &p);
    const protocol *ra = proto_find("rep3-active");
    ck_assert_ptr_nonnull(ra);
    vm_assign_roles(&p, ra, 3);
    entries es = {.kind = PK_CONV2D, .n = 0};
    vm_walk(&p, ra, note_kind, &es);
    ck_assert_int_eq(es.n, NFILTERS);
    static const int want[NFILTERS] = {3, 1, 0, 0, 0, 0};
    for (int k = 0; k < NFILTERS; k++)
        ck_assert_int_eq(es.e[k].bfrom, want[k]);
    qbc_free(&p);
    tprog_free(t);
    free(t);
}
END_TEST

/* The programs exercise every operation kind (a new kind in PROTO_KINDS
 * fails here until a program covers it), the lazy forms, and one ROUND
 * block holding every kind but INPUT. */
START_TEST(every_kind_is_covered)
{
    enum {
#define X(k) +1
        NKINDS = 0 PROTO_KINDS(X)
#undef X
    };
    qbc_program p;
    tprog *t = built(prog_all, &p);
    unsigned all = (1u << NKINDS) - 1, kinds = 0, lazy = 0;
    int mixed = 0;
    for (uint32_t pc = 0; pc < p.ncode; pc += 1 + (uint32_t)qbc_nops(p.code[pc])) {
        if (qbc_op(p.code[pc]) != OP_ROUND)
            continue;
        unsigned block = 0;
        for (uint32_t i = 0, q = pc + 2; i < p.code[pc + 1]; i++, q += 1 + (uint32_t)qbc_nops(p.code[q])) {
            pop op;
            vm_decode(&p, q, &op, NULL, NULL);
            block |= 1u << op.kind;
            lazy |= op.lazy ? 1u << op.kind : 0;
        }
        block |= (block >> PK_EXACT & 1u) << PK_TRUNC; /* EXACT runs TRUNC (exact.c) */
        kinds |= block;
        mixed |= (block | 1u << PK_INPUT) == all;
    }
    ck_assert_uint_eq(kinds, all);
    ck_assert_uint_eq(lazy, 1u << PK_CONV2D | 1u << PK_DWCONV2D | 1u << PK_REQCLAMP | 1u << PK_EXACT);
    ck_assert_msg(mixed, "no ROUND block holds every kind but INPUT");
    qbc_free(&p);
    tprog_free(t);
    free(t);
    ck_assert_msg(nconfigs > 0, "no protocol to test");
}
END_TEST

Suite *suite_protocols(void)
{
    list_configs();
    Suite *s = suite_create("protocols");
    TCase *c = tcase_create("protocols");
    tcase_set_timeout(c, 300);
    tcase_add_test(c, every_kind_is_covered);
    tcase_add_test(c, reqs_is_reqclamp);
    tcase_add_test(c, split_turns_the_roles_by_thirds);
    tcase_add_test(c, waves_are_split_and_marked);
    tcase_add_test(c, input_bytes_do_not_count_toward_checks);
    tcase_add_test(c, filters_keep_their_owner_through_addc_and_mulc);
#define X(name) tcase_add_loop_test(c, name##_against_clear, 0, nconfigs);
    PROGRAMS(X) X(all) X(all_late)
#undef X
    suite_add_tcase(s, c);
    return s;
}
