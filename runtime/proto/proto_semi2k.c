/* proto_semi2k: N >= 2 parties, passive security against any N-1 colluding:
 * additive secret sharing over Z_2^64, x = x_0 + ... + x_{N-1}, with
 * correlated randomness from a preprocessing source (prep.h; the dealer so
 * far). Each operation states what it consumes per step in one *_material
 * function, which its prepare calls at the parties and semi_deal at the
 * dealer; the online phase only opens masked values (additive.h's open
 * to all and Beaver products):
 *   MUL        Beaver triples (a, b, ab)
 *   CONV2D     convolution triples (A, B, conv(A, B)): a layer opens its
 *              masked input and masked weights once
 *   truncation (r, (r mod 2^63) >> d, msb r): one open
 *   LTZ        r with its bits, AND triples for the carry tree, a daBit
 *   LUT        r with the one-hot row of r mod 256
 * docs/protocols.md gives rounds, bytes and what each open reveals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/proto/additive.h"
#include "runtime/core/bits.h"
#include "runtime/net/net.h"
#include "runtime/prep/prep.h"
#include "runtime/net/prg.h"
#include "runtime/proto/proto.h"

extern const protocol proto_semi2k; /* defined at the end; its composites call back into it */

#define W sizeof(word)

typedef struct {
    add_parties ap; /* ap.me == ap.n: the dealer (first: add_word_addc) */
    prep *pp;
} semi;

/* ---------------------------------------------------------------- set-up */

static void *semi_create(const proto_env *env, char *err, size_t errlen)
{
    if (env->nparties < 2 || !env->net) {
        snprintf(err, errlen, "semi2k runs with 2 or more parties and a dealer over the network");
        return NULL;
    }
    semi *s = proto_zalloc(sizeof *s);
    s->ap.me = env->party;
    s->ap.n = env->nparties;
    s->ap.nt = env->net;
    if (!(s->pp = prep_open(s->ap.nt, s->ap.me, s->ap.n, err, errlen))) {
        free(s);
        return NULL;
    }
    return s;
}

static int semi_deal_finish(void *ps, char *err, size_t errlen)
{
    semi *s = ps;
    prep_flush(s->pp);
    return prep_error(s->pp, err, errlen);
}

static void semi_destroy(void *ps)
{
    semi *s = ps;
    prep_close(s->pp);
    free(s);
}

static void semi_setup_cost(int nparties, proto_cost *acc)
{
    acc->rounds += 1; /* the seeds; the corrections stream outside the rounds */
    acc->bytes[nparties] += 16 * (uint64_t)nparties;
}

/* ------------------------------------------------------- local, linear */

/* ------------------------------------------------------ per-op state */

typedef struct {
    word *a, *b, *c;     /* triple shares, or trunc (r, R, v), or LTZ r */
    word *open;          /* what was opened */
    uint8_t *d;          /* truncation shifts */
    word *rb, *g, *p, *t; /* LTZ: planes of r's bits, G, P, and plane L */
    word *ta, *tb, *tc;  /* LTZ: AND triples of the current level */
    word *x;             /* the masked values sent */
    int levels;
} st;

static st *state(pop *op) { return proto_state(op, sizeof(st)); }

static void state_free(pop *op)
{
    st *s = op->state;
    if (!s)
        return;
    free(s->a), free(s->b), free(s->c), free(s->open), free(s->d), free(s->rb), free(s->g);
    free(s->p), free(s->t), free(s->ta), free(s->tb), free(s->tc), free(s->x);
    free(s);
    op->state = NULL;
}

/* ---- input and output ---- */

static void input_prepare(semi *s, pop *op)
{
    size_t n = op->n;
    if (s->ap.me != op->owner) {
        net_expect(s->ap.nt, op->owner, n * W);
        return;
    }
    /* fresh shares for the others from the operating system's generator */
    word *acc = proto_alloc(n * W), *t = proto_alloc(n * W);
    for (size_t k = 0; k < n; k++)
        acc[k] = (word)op->in[k];
    uint8_t seed[16];
    prg *g = prg_seed(seed) == 0 ? prg_new(seed) : NULL;
    if (!g)
        abort();
    for (int j = 0; j < s->ap.n; j++) {
        if (j == s->ap.me)
            continue;
        prg_fill(g, t, n * W);
        memcpy(net_out(s->ap.nt, j, n * W), t, n * W);
        for (size_t k = 0; k < n; k++)
            acc[k] -= t[k];
    }
    prg_free(g);
    memcpy(op->d, acc, n * W);
    free(acc);
    free(t);
}

static void input_finish(semi *s, pop *op)
{
    if (s->ap.me != op->owner)
        memcpy(op->d, net_in(s->ap.nt, op->owner, op->n * W), op->n * W);
}

static void output_finish(semi *s, pop *op)
{
    if (s->ap.me != op->owner)
        return;
    word *v = proto_alloc(op->n * W);
    add_open_finish(&s->ap, ADD_ARITH, op->a, v, op->n);
    for (size_t k = 0; k < op->n; k++)
        op->out[k] = (int64_t)v[k];
    free(v);
}

/* ---- products: Beaver triples (add_beaver_*) ---- */

static void mul_material(semi *s, const pop *op, word *a, word *b, word *c)
{
    prep_shape sh = add_op_shape(op);
    prep_triples(s->pp, &sh, a, b, c);
}

static void mul_prepare(semi *s, pop *op)
{
    st *t = state(op);
    prep_shape sh = add_op_shape(op);
    t->a = proto_alloc(sh.na * W);
    t->b = proto_alloc(sh.nb * W);
    t->c = proto_alloc(sh.n * W);
    mul_material(s, op, t->a, t->b, t->c);
    t->x = proto_alloc((sh.na + sh.nb) * W);
    memcpy(t->x, op->a, sh.na * W);
    PERIODIC_LOOP(sh.nb, op->nb) t->x[sh.na + i] = op->b[j];
    add_beaver_send(&s->ap, &sh, t->a, t->b, t->x);
}

static void mul_finish(semi *s, pop *op)
{
    st *t = op->state;
    prep_shape sh = add_op_shape(op);
    word *ef = proto_alloc((sh.na + sh.nb) * W);
    add_open_finish(&s->ap, ADD_ARITH, t->x, ef, sh.na + sh.nb);
    add_beaver_combine(&s->ap, &sh, ef, t->a, t->b, t->c);
    memcpy(op->d, t->c, sh.n * W);
    free(ef);
    state_free(op);
}

/* ---- truncation by d: y = x / 2^d, |x| < 2^62 ----
 * With public c = x + 2^62 + r, C = (c mod 2^63) >> d, u = msb c and dealt
 * R = (r mod 2^63) >> d, v = msb r: y = C - R + 2^(63-d)(u xor v) - 2^(62-d),
 * linear in the shares of R and v. */

/* truncation pairs for the operation's shifts (into d, n of them) */
static void trunc_material(semi *s, const pop *op, uint8_t *d, word *mult, word *r, word *R, word *v)
{
    proto_trunc_shifts(op, d, mult);
    prep_trunc(s->pp, op->n, d, r, R, v);
}

static void trunc_prepare(semi *s, pop *op)
{
    st *t = state(op);
    size_t n = op->n;
    t->a = proto_alloc(n * W); /* r */
    t->b = proto_alloc(n * W); /* R */
    t->c = proto_alloc(n * W); /* v */
    t->d = proto_alloc(n);
    t->x = proto_alloc(n * W); /* the multipliers, then the masked values */
    trunc_material(s, op, t->d, t->x, t->a, t->b, t->c);
    for (size_t k = 0; k < n; k++)
        t->x[k] = op->a[k] * t->x[k] + t->a[k] + (s->ap.me == 0 ? (word)1 << 62 : 0);
    add_open_send(&s->ap, t->x, n);
}

/* the values the operation's prepare opened (t->x, n of them), allocated */
static word *opened(semi *s, const pop *op)
{
    word *c = proto_alloc(op->n * W);
    add_open_finish(&s->ap, ADD_ARITH, ((st *)op->state)->x, c, op->n);
    return c;
}

static void trunc_finish(semi *s, pop *op)
{
    st *t = op->state;
    size_t n = op->n;
    word *c = opened(s, op);
    for (size_t k = 0; k < n; k++) {
        word pub, coef;
        proto_trunc_open(c[k], t->d[k], &pub, &coef);
        op->d[k] = -t->b[k] + coef * t->c[k] + (s->ap.me == 0 ? pub : 0);
    }
    free(c);
    state_free(op);
}

/* ---- table lookup: T[x - lo] for x among the table's 256 codes ----
 * Open c = x - lo + r (uniform: so is r); with e the dealt one-hot row of
 * r mod 256, T[x - lo] = sum_v T[(c - v) mod 256] e_v, local. */

static void lut_prepare(semi *s, pop *op)
{
    st *t = state(op);
    size_t n = op->n;
    t->a = proto_alloc(n * W);       /* r */
    t->b = proto_alloc(256 * n * W); /* e */
    t->x = proto_alloc(n * W);
    prep_onehot8(s->pp, n, t->a, t->b);
    for (size_t k = 0; k < n; k++)
        t->x[k] = op->a[k] + t->a[k] - (s->ap.me == 0 ? (word)op->lo : 0);
    add_open_send(&s->ap, t->x, n);
}

static void lut_finish(semi *s, pop *op)
{
    st *t = op->state;
    size_t n = op->n;
    word *c = opened(s, op);
    memset(op->d, 0, n * W);
    for (unsigned v = 0; v < 256; v++)
        for (size_t k = 0; k < n; k++)
            op->d[k] += (word)op->table[(uint8_t)(c[k] - v)] * t->b[v * n + k];
    free(c);
    state_free(op);
}

/* ---- comparison: [x < 0] for |x| < 2^L ----
 * Open c = x + 2^L + r; bit L of x + 2^L = c_L ^ r_L ^ borrow, where the
 * borrow [c mod 2^L < r mod 2^L] comes from a carry tree over G = ~c & r,
 * P = ~(c ^ r) (local: c is public) with AND triples, one level a round.
 * The resulting bit is made arithmetic with a daBit (one more open). */

/* Step 0: r and its bits; 1..K: AND triples for the tree's level; K + 1:
 * the daBits. Into t's buffers (allocated here); t NULL: the dealer's. */
static void ltz_material(semi *s, const pop *op, int step, st *t)
{
    size_t n = op->n, nw = bits_words(n), nand;
    uint32_t L = op->bound;
    if (step == 0) {
        if (t)
            t->a = proto_alloc(n * W), t->rb = proto_alloc((L + 1) * nw * W);
        prep_masked_bits(s->pp, n, L, t ? t->a : NULL, t ? t->rb : NULL);
    } else if (step <= bits_levels(L)) {
        bits_level_ands(L, step, 0, &nand);
        size_t m = nand * nw;
        if (t) {
            free(t->ta), free(t->tb), free(t->tc);
            t->ta = proto_alloc(m * W), t->tb = proto_alloc(m * W), t->tc = proto_alloc(m * W);
        }
        prep_and_triples(s->pp, m, t ? t->ta : NULL, t ? t->tb : NULL, t ? t->tc : NULL);
    } else {
        if (t) {
            free(t->ta), free(t->tb);
            t->ta = proto_alloc(nw * W); /* rho as a plane */
            t->tb = proto_alloc(n * W);  /* rho as arithmetic shares */
        }
        prep_dabits(s->pp, n, t ? t->ta : NULL, t ? t->tb : NULL);
    }
}

static void ltz_step0_prepare(semi *s, pop *op)
{
    st *t = state(op);
    size_t n = op->n;
    uint32_t L = op->bound;
    t->levels = bits_levels(L);
    t->x = proto_alloc(n * W);
    ltz_material(s, op, 0, t);
    for (size_t k = 0; k < n; k++)
        t->x[k] = op->a[k] + t->a[k] + (s->ap.me == 0 ? (word)1 << L : 0);
    add_open_send(&s->ap, t->x, n);
}

/* G, P and plane L from the public c (n values) and the planes of r */
static void ltz_public(semi *s, pop *op, const word *c)
{
    st *t = op->state;
    size_t n = op->n, nw = bits_words(n);
    uint32_t L = op->bound;
    word *cp = proto_alloc((L + 1) * nw * W);
    bits_pack(c, 1, n, L + 1, cp, nw);
    t->g = proto_alloc(L * nw * W);
    t->p = proto_alloc(L * nw * W);
    t->t = proto_alloc(nw * W);
    for (size_t q = 0; q < L * nw; q++) {
        t->g[q] = ~cp[q] & t->rb[q];
        t->p[q] = t->rb[q] ^ (s->ap.me == 0 ? ~cp[q] : 0);
    }
    for (size_t q = 0; q < nw; q++)
        t->t[q] = t->rb[L * nw + q] ^ (s->ap.me == 0 ? cp[L * nw + q] : 0);
    free(cp);
}

static void ltz_step0_finish(semi *s, pop *op)
{
    word *c = opened(s, op);
    ltz_public(s, op, c);
    free(c);
}

static void ltz_and_prepare(semi *s, pop *op, int level)
{
    st *t = op->state;
    size_t nw = bits_words(op->n), nand;
    bits_gate *gt = bits_level_gates(op->bound, level, 0, &nand);
    size_t m = nand * nw;
    free(t->x);
    ltz_material(s, op, level, t);
    word *x = proto_alloc(m * W), *y = proto_alloc(m * W);
    bits_gate_operands(gt, nand, nw, t->g, t->p, x, y);
    free(gt);
    t->x = proto_alloc(2 * m * W);
    for (size_t q = 0; q < m; q++)
        t->x[q] = x[q] ^ t->ta[q], t->x[m + q] = y[q] ^ t->tb[q];
    add_open_send(&s->ap, t->x, 2 * m);
    free(x);
    free(y);
}

static void ltz_and_finish(semi *s, pop *op, int level)
{
    st *t = op->state;
    size_t nw = bits_words(op->n), nand;
    bits_gate *gt = bits_level_gates(op->bound, level, 0, &nand);
    size_t m = nand * nw;
    word *de = proto_alloc(2 * m * W), *d = de, *e = de + m;
    add_open_finish(&s->ap, ADD_BOOL, t->x, de, 2 * m);
    add_and_combine(&s->ap, d, e, t->ta, t->tb, t->tc, m, d); /* z over d, read before written */
    bits_gate_results(gt, nand, nw, d, t->g, t->p);
    free(gt);
    free(de);
}

static void ltz_inject_prepare(semi *s, pop *op)
{
    st *t = op->state;
    size_t nw = bits_words(op->n);
    free(t->x);
    ltz_material(s, op, bits_levels(op->bound) + 1, t);
    t->x = proto_alloc(nw * W);
    for (size_t q = 0; q < nw; q++) /* beta = 1 ^ t ^ carry, masked by rho */
        t->x[q] = t->t[q] ^ t->g[q] ^ t->ta[q] ^ (s->ap.me == 0 ? ~(word)0 : 0);
    add_open_send(&s->ap, t->x, nw);
}

static void ltz_inject_finish(semi *s, pop *op)
{
    st *t = op->state;
    size_t n = op->n, nw = bits_words(n);
    word *e = proto_alloc(nw * W);
    add_open_finish(&s->ap, ADD_BOOL, t->x, e, nw);
    for (size_t k = 0; k < n; k++) {
        word ek = bits_get(e, k);
        op->d[k] = (1 - 2 * ek) * t->tb[k] + (s->ap.me == 0 ? ek : 0);
    }
    free(e);
    state_free(op);
}

/* ---- REQCLAMP: the truncation's open serves both comparisons ----
 * After the open of c = m x + 2^62 + r, t = y + z - lo = P - Q with public
 * P = pub + z - lo and Q = R - coef v (proto_trunc_open). Scaled by 2^e
 * (e = d - dmin, per channel) and modulo 2^(L+1), which divides 2^(64-dmin)
 * (the validator's condition), 2^e Q = 2^e R + [63 - dmin = L] 2^L v: the
 * dealer deals those bits with r, and the comparisons [t < 0] and
 * [t - D - 1 < 0] are LTZ's carry trees on the public 2^e P + 2^L, resp.
 * 2^e (P - D - 1) + 2^L, without an open of their own. Then LTZ's daBits
 * and one product: y = hi + (l2 - b1) t - D l2 (the generic CLAMP's). */
typedef struct {
    pop ltz, mul;  /* 2n comparisons; n products */
    word *r, *R, *v, *x, *qb; /* truncation material, masked value, Q's planes */
    word *t, *bits, *sd, *p;  /* t (n), the bits (2n), l2 - b1 and the product (n) */
    uint8_t *d, dmin;
} rqc_st;

static void rqc_inner(const pop *op, pop *ltz, pop *mul)
{
    proto_clamp_ltz(op, ltz);
    memset(mul, 0, sizeof *mul);
    mul->kind = PK_MUL;
    mul->n = mul->na = mul->nb = op->n;
}

/* the truncation pairs with Q's bits (prep_trunc_bits); returns dmin */
static uint8_t rqc_open_material(semi *s, const pop *op, uint8_t *d, word *mult, word *r, word *R, word *v,
                                 word *qb)
{
    uint8_t dmin = proto_trunc_shifts(op, d, mult);
    prep_trunc_bits(s->pp, op->n, d, dmin, op->bound, r, R, v, qb);
    return dmin;
}

static void rqc_open_prepare(semi *s, pop *op)
{
    size_t n = op->n, nwa = bits_words(n);
    uint32_t L = op->bound;
    rqc_st *q = proto_zalloc(sizeof *q);
    op->state = q;
    rqc_inner(op, &q->ltz, &q->mul);
    q->r = proto_alloc(n * W), q->R = proto_alloc(n * W), q->v = proto_alloc(n * W);
    q->qb = proto_alloc((L + 1) * nwa * W);
    q->x = proto_alloc(n * W); /* the multipliers, then the masked values */
    q->d = proto_alloc(n);
    q->dmin = rqc_open_material(s, op, q->d, q->x, q->r, q->R, q->v, q->qb);
    for (size_t k = 0; k < n; k++)
        q->x[k] = op->a[k] * q->x[k] + q->r[k] + (s->ap.me == 0 ? (word)1 << 62 : 0);
    add_open_send(&s->ap, q->x, n);
}

static void rqc_open_finish(semi *s, pop *op)
{
    rqc_st *q = op->state;
    size_t n = op->n, nw = bits_words(2 * n);
    uint32_t L = op->bound;
    word zl = (word)op->zp - (word)op->lo, D = (word)op->hi - (word)op->lo;
    word *c = proto_alloc(n * W), *cc = proto_alloc(2 * n * W);
    add_open_finish(&s->ap, ADD_ARITH, q->x, c, n);
    q->t = proto_alloc(n * W);
    for (size_t k = 0; k < n; k++) {
        word pub, coef;
        int e = q->d[k] - q->dmin;
        proto_trunc_open(c[k], q->d[k], &pub, &coef);
        q->t[k] = -q->R[k] + coef * q->v[k] + (s->ap.me == 0 ? pub + zl : 0);
        cc[k] = ((pub + zl) << e) + ((word)1 << L);
        cc[n + k] = ((pub + zl - D - 1) << e) + ((word)1 << L);
    }
    st *lt = state(&q->ltz);
    lt->levels = bits_levels(L);
    lt->rb = proto_alloc((L + 1) * nw * W);
    bits_dup(q->qb, n, L + 1, lt->rb, nw);
    ltz_public(s, &q->ltz, cc);
    free(c);
    free(cc);
}

static void rqc_free(pop *op)
{
    rqc_st *q = op->state;
    state_free(&q->ltz);
    state_free(&q->mul);
    free(q->r), free(q->R), free(q->v), free(q->x), free(q->qb);
    free(q->t), free(q->bits), free(q->sd), free(q->p), free(q->d);
    free(q);
    op->state = NULL;
}

/* steps: 0 the open, 1..K the tree, K + 1 the daBits, K + 2 the product */
static void rqc_prepare(semi *s, pop *op, int step)
{
    int K = bits_levels(op->bound);
    if (step == 0) {
        rqc_open_prepare(s, op);
        return;
    }
    rqc_st *q = op->state;
    if (step <= K) {
        ltz_and_prepare(s, &q->ltz, step);
    } else if (step == K + 1) {
        q->bits = proto_alloc(2 * op->n * W);
        q->ltz.d = q->bits;
        ltz_inject_prepare(s, &q->ltz);
    } else {
        q->sd = proto_alloc(op->n * W);
        q->p = proto_alloc(op->n * W);
        for (size_t k = 0; k < op->n; k++)
            q->sd[k] = q->bits[op->n + k] - q->bits[k];
        q->mul.a = q->sd, q->mul.b = q->t, q->mul.d = q->p;
        mul_prepare(s, &q->mul);
    }
}

static void rqc_finish(semi *s, pop *op, int step)
{
    int K = bits_levels(op->bound);
    rqc_st *q = op->state;
    if (step == 0)
        rqc_open_finish(s, op);
    else if (step <= K)
        ltz_and_finish(s, &q->ltz, step);
    else if (step == K + 1)
        ltz_inject_finish(s, &q->ltz);
    else {
        mul_finish(s, &q->mul);
        word D = (word)op->hi - (word)op->lo;
        for (size_t k = 0; k < op->n; k++)
            op->d[k] = q->p[k] - D * q->bits[op->n + k] + (s->ap.me == 0 ? (word)op->hi : 0);
        rqc_free(op);
    }
}

/* the dealer's part of each step: the material alone */
static void rqc_deal(semi *s, const pop *op, int step)
{
    pop ltz, mul;
    rqc_inner(op, &ltz, &mul);
    if (step == 0) {
        uint8_t *d = proto_alloc(op->n);
        rqc_open_material(s, op, d, NULL, NULL, NULL, NULL, NULL);
        free(d);
    } else if (step <= bits_levels(op->bound) + 1) {
        ltz_material(s, &ltz, step, NULL);
    } else {
        mul_material(s, &mul, NULL, NULL, NULL);
    }
}

/* ------------------------------------------------------------ dispatch */

static int semi_steps(const pop *op)
{
    switch (op->kind) {
    case PK_CLAMP: return proto_composite_steps(&proto_semi2k, op);
    case PK_REQS:
    case PK_EXACT: return proto_exact_steps(&proto_semi2k, op);
    case PK_REQCLAMP: return bits_levels(op->bound) + 3;
    case PK_LTZ: return bits_levels(op->bound) + 2;
    case PK_INPUT:
    case PK_OUTPUT:
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D:
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC:
    case PK_LUT: return 1;
    }
    return 1;
}

static int semi_prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    semi *s = ps;
    switch (op->kind) {
    case PK_CLAMP: return proto_clamp_prepare(&proto_semi2k, ps, op, step, err, errlen);
    case PK_LUT: lut_prepare(s, op); break;
    case PK_REQS:
    case PK_EXACT: return proto_exact_prepare(&proto_semi2k, ps, op, step, err, errlen);
    case PK_REQCLAMP: rqc_prepare(s, op, step); break;
    case PK_INPUT: input_prepare(s, op); break;
    case PK_OUTPUT: add_open_to_send(&s->ap, op->owner, op->a, op->n); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_prepare(s, op); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_prepare(s, op); break;
    case PK_LTZ:
        if (step == 0)
            ltz_step0_prepare(s, op);
        else if (step <= bits_levels(op->bound))
            ltz_and_prepare(s, op, step);
        else
            ltz_inject_prepare(s, op);
        break;
    }
    return prep_error(s->pp, err, errlen);
}

static int semi_exchange(void *ps, char *err, size_t errlen)
{
    semi *s = ps;
    return net_round(s->ap.nt, err, errlen);
}

static int semi_finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    semi *s = ps;
    switch (op->kind) {
    case PK_CLAMP: return proto_clamp_finish(&proto_semi2k, ps, op, step, err, errlen);
    case PK_LUT: lut_finish(s, op); break;
    case PK_REQS:
    case PK_EXACT: return proto_exact_finish(&proto_semi2k, ps, op, step, err, errlen);
    case PK_REQCLAMP: rqc_finish(s, op, step); break;
    case PK_INPUT: input_finish(s, op); break;
    case PK_OUTPUT: output_finish(s, op); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_finish(s, op); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_finish(s, op); break;
    case PK_LTZ:
        if (step == 0)
            ltz_step0_finish(s, op);
        else if (step <= bits_levels(op->bound))
            ltz_and_finish(s, op, step);
        else
            ltz_inject_finish(s, op);
        break;
    }
    return 0;
}

static void semi_deal(void *ps, const pop *op, int step)
{
    semi *s = ps;
    switch (op->kind) {
    case PK_CLAMP: proto_composite_deal(&proto_semi2k, ps, op, step); break;
    case PK_LUT: prep_onehot8(s->pp, op->n, NULL, NULL); break;
    case PK_REQS:
    case PK_EXACT: proto_exact_deal(&proto_semi2k, ps, op, step); break;
    case PK_REQCLAMP: rqc_deal(s, op, step); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_material(s, op, NULL, NULL, NULL); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: {
        uint8_t *d = proto_alloc(op->n);
        trunc_material(s, op, d, NULL, NULL, NULL, NULL);
        free(d);
        break;
    }
    case PK_LTZ: ltz_material(s, op, step, NULL); break;
    case PK_INPUT: /* no material: fresh shares, or a plain open */
    case PK_OUTPUT: break;
    }
}

/* Online traffic: opens to all (add_open_cost), INPUT's fresh shares. */
static void semi_cost(const pop *op, int N, proto_cost *acc)
{
    uint64_t o = (uint64_t)(N - 1) * W, n = op->n, nw = bits_words(op->n);
    switch (op->kind) {
    case PK_CLAMP: proto_composite_cost(&proto_semi2k, op, N, acc); break;
    case PK_REQS:
    case PK_EXACT: proto_exact_cost(&proto_semi2k, op, N, acc); break;
    case PK_REQCLAMP: { /* LTZ of 2n whose open is the truncation's of n, MUL of n */
        pop ltz, mul;
        proto_cost a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        rqc_inner(op, &ltz, &mul);
        semi_cost(&ltz, N, &a);
        semi_cost(&mul, N, &b);
        acc->rounds = a.rounds + b.rounds;
        for (int j = 0; j < N; j++)
            acc->bytes[j] += a.bytes[j] + b.bytes[j] - o * n;
        acc->opened += a.opened + b.opened - n;
        break;
    }
    case PK_INPUT:
        acc->rounds = 1;
        acc->bytes[op->owner] += o * n;
        break;
    case PK_OUTPUT:
        acc->rounds = add_open_to_cost(N, op->owner, n, W, acc);
        acc->opened += n;
        break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: {
        prep_shape sh = add_op_shape(op);
        acc->rounds = add_open_cost(N, sh.na + sh.nb, W, acc);
        acc->opened += sh.na + sh.nb;
        break;
    }
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC:
    case PK_LUT:
        acc->rounds = add_open_cost(N, n, W, acc);
        acc->opened += n;
        break;
    case PK_LTZ: {
        int K = bits_levels(op->bound);
        uint64_t words = n + nw;
        for (int k = 1; k <= K; k++) {
            size_t nand;
            bits_level_ands(op->bound, k, 0, &nand);
            words += 2 * nand * nw;
        }
        add_open_cost(N, words, W, acc); /* every round an open to all */
        acc->rounds = (uint64_t)K + 2;
        acc->opened += n;
        break;
    }
    }
}

/* The dealer's corrections for one step, and the material they stand for. */
static void semi_prep_cost(const pop *op, int step, int N, proto_cost *acc)
{
    uint64_t n = op->n, nw = bits_words(op->n);
    switch (op->kind) {
    case PK_CLAMP: proto_composite_prep_cost(&proto_semi2k, op, step, N, acc); break;
    case PK_REQS:
    case PK_EXACT: proto_exact_prep_cost(&proto_semi2k, op, step, N, acc); break;
    case PK_REQCLAMP: {
        pop ltz, mul;
        rqc_inner(op, &ltz, &mul);
        if (step == 0) { /* R, v and Q's planes */
            acc->bytes[N] += (2 * n + (op->bound + 1) * nw) * W;
            acc->trunc_pairs += n;
            acc->bits += (op->bound + 1) * n;
        } else {
            semi_prep_cost(step <= bits_levels(op->bound) + 1 ? &ltz : &mul, step <= bits_levels(op->bound) + 1 ? step : 0, N, acc);
        }
        break;
    }
    case PK_MUL:
        acc->bytes[N] += n * W;
        acc->triples += n;
        break;
    case PK_CONV2D:
    case PK_DWCONV2D:
        acc->bytes[N] += n * W;
        acc->dot_triples += n;
        break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC:
        acc->bytes[N] += 2 * n * W;
        acc->trunc_pairs += n;
        break;
    case PK_LUT: /* e's correction; r is drawn */
        acc->bytes[N] += 256 * n * W;
        break;
    case PK_LTZ:
        if (step == 0) {
            acc->bytes[N] += (op->bound + 1) * nw * W;
            acc->bits += (op->bound + 1) * n;
        } else if (step <= bits_levels(op->bound)) {
            size_t nand;
            bits_level_ands(op->bound, step, 0, &nand);
            acc->bytes[N] += nand * nw * W;
            acc->triples += nand * nw * 64;
        } else {
            acc->bytes[N] += n * W;
            acc->bits += n;
        }
        break;
    case PK_INPUT:
    case PK_OUTPUT: break;
    }
}

const protocol proto_semi2k = {
    .name = "semi2k",
    .security = "passive, dishonest majority: additive sharing over Z_2^64, dealer preprocessing",
    .domain = "Z_2^64",
    .prep = "dealer",
    .configs = {2, 3},
    .min_parties = 2,
    .max_parties = NET_MAX_PARTIES - 1,
    .share_words = 1,
    .create = semi_create,
    .destroy = semi_destroy,
    .add = proto_word_add,
    .sub = proto_word_sub,
    .addc = add_word_addc,
    .mulc = proto_word_mulc,
    .fillc = add_word_fillc,
    .steps = semi_steps,
    .prepare = semi_prepare,
    .exchange = semi_exchange,
    .finish = semi_finish,
    .cost = semi_cost,
    .setup_cost = semi_setup_cost,
    .deal = semi_deal,
    .deal_finish = semi_deal_finish,
    .prep_cost = semi_prep_cost,
};
