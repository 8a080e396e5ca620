/* rep3_ops: rep3's operations (rep3_ops.h), shared by the protocols that
 * build on replicated sharing over Z_2^64. The replicated-sharing blocks
 * (seeds and streams, zero sharing, reshare, three-party OT, AND levels and
 * the carry tree, splits) live in rss.c; this file composes them into each
 * operation kind, rotates the roles and states the costs. docs/protocols.md
 * gives every method, its rounds and bytes, and what each open reveals. */
#include "runtime/proto/rep3_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/core/kernels.h"
#include "runtime/net/net.h"
#include "runtime/proto/dzkp_arith.h"
#include "runtime/proto/dzkp_bool.h"
#include "runtime/proto/proto.h"
#include "runtime/proto/rss.h"

#define W sizeof(word)

/* The asymmetric methods (truncation, comparison) rotate their roles by the
 * instruction's position, so that every party carries its share of the
 * traffic: virtual party v is real party v + rot, stream S[v] is S[v + rot].
 * The sharing is invariant under this relabelling. */
static int vme(const rep3 *r, const pop *op) { return rep3_role(r->rs.me, op); }
static int R(const pop *op, int v) { return rep3_party(op, v); }

/* A lazy result (an unfinished sum, bytecode.h) unless the mode reshares
 * every convolution (rep3_mode.no_lazy): then a lazy REQCLAMP reads the
 * replicated sharing as any other, and the linear operations between act
 * on it as on any other. */
static int lazy(const rep3_mode *m, const pop *op) { return op->lazy && !m->no_lazy; }

/* ------------------------------------------------------------- set-up */

void *rep3_new(const proto_env *env, const rep3_mode *m, size_t size, char *err, size_t errlen)
{
    if (env->nparties != 3 || !env->net) {
        snprintf(err, errlen, "%s runs with exactly 3 parties over the network", m->self->name);
        return NULL;
    }
    rep3 *r = calloc(1, size);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->mode = m;
    if (rss_init(&r->rs, env->party, env->net, err, errlen) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void rep3_destroy(void *ps)
{
    rep3 *r = ps;
    rss_free(&r->rs);
    free(r);
}

void rep3_setup_cost(int nparties, proto_cost *acc)
{
    (void)nparties;
    acc->rounds += rss_init_cost(acc);
}

/* ------------------------------------------------------- local, linear */

void rep3_add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb)
    {
        d[2 * i] = a[2 * i] + b[2 * j];
        d[2 * i + 1] = a[2 * i + 1] + b[2 * j + 1];
    }
}

void rep3_sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb)
    {
        d[2 * i] = a[2 * i] - b[2 * j];
        d[2 * i + 1] = a[2 * i + 1] - b[2 * j + 1];
    }
}

/* A public value c is the sharing (c, 0, 0): party 0 adds it to its first
 * word, party 2 to its second (share 0 whatever the roles: vm.c's
 * trace_inputs counts on it to keep an input's zero share). */
void rep3_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    rep3 *r = ps;
    int at = r->rs.me == 0 ? 0 : r->rs.me == 2 ? 1 : -1;
    PERIODIC_LOOP(n, nc)
    {
        d[2 * i] = a[2 * i] + (at == 0 ? (word)c[j] : 0);
        d[2 * i + 1] = a[2 * i + 1] + (at == 1 ? (word)c[j] : 0);
    }
}

void rep3_mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    (void)ps;
    PERIODIC_LOOP(n, nc)
    {
        d[2 * i] = a[2 * i] * (word)c[j];
        d[2 * i + 1] = a[2 * i + 1] * (word)c[j];
    }
}

void rep3_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc)
{
    rep3 *r = ps;
    PERIODIC_LOOP(n, nc)
    {
        d[2 * i] = r->rs.me == 0 ? (word)c[j] : 0;
        d[2 * i + 1] = r->rs.me == 2 ? (word)c[j] : 0;
    }
}

/* ------------------------------------------------------ communication */

/* Products by split + a2r (rss.h): the split's parts and what the a2r
 * statements read, kept from the split's round to a2r's second. */
typedef struct {
    rss_a2r_def d;
    word *x, *e, *Y, *loc;
} prods;

static void prods_free(prods *p)
{
    free(p->x), free(p->e), free(p->Y), free(p->loc);
    memset(p, 0, sizeof *p);
}

/* m products per value for n values: x (the splitter's X), e (the
 * splitter, when proven), Y and loc (the other two) */
static void prods_alloc(prods *p, const rep3 *r, int splitter, uint32_t m, size_t n)
{
    p->d.m = m;
    p->x = proto_alloc(m * n * W);
    if (r->rs.me == splitter) {
        p->e = r->rs.pa[0] ? proto_alloc(m * n * W) : NULL;
    } else {
        p->Y = proto_alloc(m * n * W);
        p->loc = proto_alloc(n * W);
    }
    p->d.x = p->x, p->d.e = p->e, p->d.Y = p->Y, p->d.loc = p->loc;
}

/* Per-operation state between steps. */
typedef struct {
    prods pr;       /* rep3-active: TRUNC's and LTZ's injection by split + a2r */
    word *z;        /* MUL: 3-out-of-3 shares; LTZ's injection: the choices */
    word *x0, *x1;  /* trunc: the input's share words times the multiplier */
    word *c;        /* trunc: the masked value (party 2) or r (parties 0, 1) */
    uint8_t *d;     /* trunc: per-element shift */
    rss_carry cy;   /* LTZ: boolean shares of G and P */
    word *a[2], *b; /* LTZ round 1: a's planes (shares), b's planes (parties 1, 2);
                     * INPUT (typed): the range chain's P (a[0]) and Q (a[1]) */
    word *t[2];     /* LTZ: plane L of a ^ b, then the bit */
    int dup;        /* LTZ: elements per value of a */
    word *cs, *ct;  /* rep3-active, LTZ: the dealing's chain, S (roles 0, 2) and T (0, 1) */
    word *cp[2];    /* REQCLAMP (rep3_mode.deal_c): this party's two shares of c's 64 planes */
    word *dl;       /* xq (deal_c), party 0: the planes it dealt (c's, c''s, rho) */
    uint8_t dmin;   /* REQCLAMP (deal_c): the least shift, d the shifts */
    word *f[2];     /* rep3-active, MUL: the zero share's parts F(S[me]), F(S[me+1]) */
} st;

static st *state(pop *op) { return proto_state(op, sizeof(st)); }

static void st_free(st *s)
{
    if (!s)
        return;
    free(s->z), free(s->x0), free(s->x1), free(s->c), free(s->d);
    rss_carry_free(&s->cy);
    free(s->a[0]), free(s->a[1]), free(s->b), free(s->t[0]), free(s->t[1]);
    free(s->cs), free(s->ct), free(s->f[0]), free(s->f[1]), free(s->cp[0]), free(s->cp[1]), free(s->dl);
    prods_free(&s->pr);
    free(s);
}

static void state_free(pop *op)
{
    st_free(op->state);
    op->state = NULL;
}

/* ---- input and output: rss_share and rss_open ---- */

/* rep3_mode.typed_input: the owner o also shares the b bits of x - lo
 * ([lo, lo + 2^b) the slot's range, proto_input_range) between o+2 (P) and
 * o+1 (Q, b bits a value; rss_share, boolean). o proves the carry chain
 * CC(S = x_o - lo, T = x_{o+1}; P, Q; 64) with the planes from b up zero:
 * x - lo = S + T lies in [0, 2^b) (prev o+2 holds x_o, next o+1 holds
 * x_{o+1}; x_{o+2} = 0). */
static void input_range(const pop *op, int64_t *lo, uint32_t *bits)
{
    *lo = op->lo, *bits = op->bound;
    proto_input_range(lo, bits);
}

/* Bits of party o's values v, 64 planes (np of them shared, the rest
 * zero), shared by rss_share into s->a: P and Q for o's carry chains;
 * cheat (test builds) names a consistently wrong dealing, or is NULL. */
static void chain_bits_prepare(rep3 *r, const char *kind, int o, st *s, const word *v, size_t n, uint32_t np,
                               const char *cheat)
{
    size_t nw = bits_words(n);
    word *bits = NULL;
    for (int h = 0; h < 2; h++)
        s->a[h] = proto_zalloc(64 * nw * W);
    if (r->rs.me == o) {
        bits = proto_alloc(np * nw * W);
        bits_pack(v, 1, n, np, bits, nw);
        bits[0] ^= cheat ? (word)net_cheat(r->rs.nt, cheat) : 0;
    }
    rss_share_prepare(&r->rs, kind, o, RSS_BOOL, bits, np * nw, rss_planes(s->a[0], s->a[1]));
    free(bits);
}

/* P (prev, o+2: its second) and Q (next, o+1: its first) of chain_bits_prepare's planes */
static word *chain_P(const rep3 *r, int o, const st *s)
{
    return r->rs.me == o ? s->a[0] : r->rs.me == rss_prev(o) ? s->a[1] : NULL;
}

static word *chain_Q(const rep3 *r, int o, const st *s)
{
    return r->rs.me == o ? s->a[1] : r->rs.me == rss_next(o) ? s->a[0] : NULL;
}

static void input_bits_prepare(rep3 *r, pop *op, const word *x)
{
    size_t n = op->n;
    int64_t lo;
    uint32_t b;
    input_range(op, &lo, &b);
    word *v = NULL;
    if (r->rs.me == op->owner) {
        v = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            v[i] = x[i] - (word)lo;
    }
    chain_bits_prepare(r, "input-bits", op->owner, state(op), v, n, b, NULL);
    free(v);
}

static void input_bits_finish(rep3 *r, pop *op)
{
    int me = r->rs.me, o = op->owner;
    size_t n = op->n, nw = bits_words(n);
    int64_t lo;
    uint32_t b;
    input_range(op, &lo, &b);
    st *s = op->state;
    word *S = NULL, *T = NULL;
    rss_share_finish(&r->rs, o, b * nw, rss_planes(s->a[0], s->a[1]));
    if (me != rss_next(o)) { /* x_o: o's first word, o+2's second */
        S = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            S[i] = op->d[2 * i + (me != o)] - (word)lo;
    }
    if (me != rss_prev(o)) { /* x_{o+1}: o's second word, o+1's first */
        T = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            T[i] = op->d[2 * i + (me == o)];
    }
    dzkb_chain(r->rs.pb[o], n, 64, b, S, T, chain_P(r, o, s), chain_Q(r, o, s));
    free(S), free(T);
    state_free(op);
}

static void input_prepare(rep3 *r, pop *op)
{
    word *x = NULL, big = 0;
    if (r->rs.me == op->owner) {
        x = proto_alloc(op->n * W);
        for (size_t i = 0; i < op->n; i++)
            x[i] = (word)op->in[i];
        if (r->mode->typed_input) { /* test builds: a value out of range, its bits as if not */
            int64_t lo;
            uint32_t b;
            input_range(op, &lo, &b);
            big = (word)net_cheat(r->rs.nt, "big-input") << b;
        }
    }
    if (x && op->n)
        x[0] += big;
    rss_share_prepare(&r->rs, "input", op->owner, RSS_ARITH, x, op->n, rss_words(op->d));
    if (x && op->n)
        x[0] -= big;
    if (r->mode->typed_input)
        input_bits_prepare(r, op, x);
    free(x);
}

static void input_finish(rep3 *r, pop *op)
{
    rss_share_finish(&r->rs, op->owner, op->n, rss_words(op->d));
    if (r->mode->typed_input)
        input_bits_finish(r, op);
}

/* ---- products: the local cross terms, then one reshare ---- */

static void split(const word *v, size_t n, word **a, word **b)
{
    *a = proto_alloc(n * W);
    *b = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++)
        (*a)[i] = v[2 * i], (*b)[i] = v[2 * i + 1];
}

/* Filters as their owner o input them (op->bfrom; changed since by ADDC,
 * which adds into share 0, and MULC only) have w_{o+2} = 0, which both its
 * holders know: the share index, or -1. */
static int conv_zero_share(const pop *op)
{
    int z = op->bfrom ? (op->bfrom - 1 + 2) % 3 : 0;
    return z ? z : -1;
}

/* A holder of the zero share finds it zero, or the VM's trace is wrong (a bug) */
static void conv_check_zero(const rep3 *r, int z, word *const w[2], size_t nw)
{
    const word *v = r->rs.me == z ? w[0] : r->rs.me == rss_prev(z) ? w[1] : NULL;
    for (size_t i = 0; v && i < nw; i++)
        if (v[i])
            abort();
}

/* v += u, n words */
static void add_to(word *v, const word *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] += u[i];
}

/* z += conv(a0, b0 + b1) + conv(a1, b0); where a share of b is zero, one
 * convolution: conv(a0, b1) (b0 = 0) or conv(a0 + a1, b0) (b1 = 0) */
static void conv_terms(const rep3 *r, const pop *op, word *z)
{
    int me = r->rs.me, zs = conv_zero_share(op), nk = 1;
    word *a[2], *b[2], *t = proto_alloc(op->n * W);
    split(op->a, op->na, &a[0], &a[1]);
    split(op->b, op->nb, &b[0], &b[1]);
    if (zs >= 0)
        conv_check_zero(r, zs, b, op->nb);
    const word *x[2] = {a[0], a[1]}, *w[2] = {b[1], b[0]};
    if (zs == rss_next(me))
        add_to(a[0], a[1], op->na), w[0] = b[0];
    else if (zs != me)
        add_to(b[1], b[0], op->nb), nk = 2;
    void (*k)(uint64_t *, const uint64_t *, const uint64_t *, const geom *, uint32_t) =
        op->kind == PK_CONV2D ? kern_conv2d : kern_dwconv2d;
    for (int j = 0; j < nk; j++) {
        k(t, x[j], w[j], &op->g, op->channels);
        add_to(z, t, op->n);
    }
    free(a[0]), free(a[1]), free(b[0]), free(b[1]), free(t);
}

/* A lazy convolution keeps its 3-out-of-3 sum unshared, (z, 0): only
 * linear operations and a lazy REQCLAMP read it (validator), which mask it. */
static void mul_prepare(rep3 *r, pop *op)
{
    size_t n = op->n;
    st *s = state(op);
    s->z = proto_alloc(n * W);
    if (lazy(r->mode, op)) {
        memset(s->z, 0, n * W);
    } else if (r->rs.pa[0]) { /* the parts, for the statements */
        for (int h = 0; h < 2; h++) {
            s->f[h] = proto_alloc(n * W);
            rss_draw(&r->rs, h ? rss_next(r->rs.me) : r->rs.me, s->f[h], n);
        }
        for (size_t i = 0; i < n; i++)
            s->z[i] = s->f[0][i] - s->f[1][i];
    } else {
        rss_zero(&r->rs, s->z, n);
    }
    if (op->kind == PK_MUL) {
        PERIODIC_LOOP(n, op->nb)
        {
            word a0 = op->a[2 * i], a1 = op->a[2 * i + 1], b0 = op->b[2 * j], b1 = op->b[2 * j + 1];
            s->z[i] += a0 * b0 + a0 * b1 + a1 * b0;
        }
    } else {
        conv_terms(r, op, s->z);
    }
    if (lazy(r->mode, op))
        for (size_t i = 0; i < n; i++)
            op->d[2 * i] = s->z[i], op->d[2 * i + 1] = 0;
    else
        rss_reshare_prepare(&r->rs, op->kind == PK_MUL ? "mul" : "conv", s->z, n);
}

/* rep3-active: P_i's reshare z_i of a MUL is the statement
 *   x_i y_{i+1} + y_i x_{i+1} = (z_i - x_i y_i - F(S[i])) + F(S[i+1])
 * with a = (x_i, y_i) and t_p at prev, b = (y_{i+1}, x_{i+1}) and t_n at
 * next. Each party records it for the three provers from its two shares
 * (x_me, x_{me+1}) of the operands and y, the result (z_me, z_{me+1}
 * received). */
static void mul_record(rep3 *r, const pop *op, const st *s, const word *y)
{
    int me = r->rs.me;
    size_t n = op->n;
    word *a = proto_alloc(2 * n * W), *b = proto_alloc(2 * n * W), *t = proto_alloc(n * W);
    PERIODIC_LOOP(n, op->nb) /* as prover: (x_me, y_me), (y_{me+1}, x_{me+1}) */
    {
        a[2 * i] = op->a[2 * i], a[2 * i + 1] = op->b[2 * j];
        b[2 * i] = op->b[2 * j + 1], b[2 * i + 1] = op->a[2 * i + 1];
        t[i] = s->z[i] - op->a[2 * i] * op->b[2 * j] - s->f[0][i];
    }
    dzka_arith(r->rs.pa[me], n, 2, a, b, t, s->f[1]);
    PERIODIC_LOOP(n, op->nb) /* as prev of P_{me+1}: (x_{me+1}, y_{me+1}), z_{me+1} received */
    {
        a[2 * i] = op->a[2 * i + 1], a[2 * i + 1] = op->b[2 * j + 1];
        t[i] = y[2 * i + 1] - op->a[2 * i + 1] * op->b[2 * j + 1] - s->f[1][i];
    }
    dzka_arith(r->rs.pa[rss_next(me)], n, 2, a, NULL, t, NULL);
    PERIODIC_LOOP(n, op->nb) /* as next of P_{me-1}: (y_me, x_me) */
    {
        b[2 * i] = op->b[2 * j], b[2 * i + 1] = op->a[2 * i];
    }
    dzka_arith(r->rs.pa[rss_prev(me)], n, 2, NULL, b, NULL, s->f[0]);
    free(a), free(b), free(t);
}

/* rep3-active: P_i's reshare z_i of a convolution is, output by output,
 *   conv(x_i, w_{i+1}) + conv(x_{i+1}, w_i) + conv(x_i, w_i) = (z_i - F(S[i])) + F(S[i+1])
 * with x_i, w_i and t_p at prev, x_{i+1}, w_{i+1} and t_n at next: one
 * Freivalds statement group per layer and prover (dzka_conv), whose vector
 * has the layer's |W| + |X| elements. Where a share w_z is known zero
 * (conv_zero_share), the products with it are zero: P_z's statement keeps
 * conv(x_i, w_{i+1}) alone (|W| elements) and P_{z-1}'s conv(x_{i+1}, w_i)
 * + conv(x_i, w_i) (|X|). */
static unsigned conv_products(int prover, int z)
{
    return z == prover ? DZKA_AWB : z == rss_next(prover) ? DZKA_BWA | DZKA_AWA : DZKA_AWB | DZKA_BWA | DZKA_AWA;
}

static void conv_record(rep3 *r, const pop *op, const st *s, const word *y)
{
    int me = r->rs.me, z = conv_zero_share(op);
    size_t n = op->n;
    word *x[2], *w[2], *t = proto_alloc(n * W);
    split(op->a, op->na, &x[0], &x[1]);
    split(op->b, op->nb, &w[0], &w[1]);
    if (z >= 0) /* again where the statements are made, whatever ran before */
        conv_check_zero(r, z, w, op->nb);
    dzka_conv_def d = {op->kind == PK_DWCONV2D, op->g, op->channels, conv_products(me, z), x[0], w[0], t, x[1], w[1],
                       s->f[1]};
    for (size_t i = 0; i < n; i++) /* as prover: z_me - F(S[me]) */
        t[i] = s->z[i] - s->f[0][i];
    dzka_conv(r->rs.pa[me], &d);
    for (size_t i = 0; i < n; i++) /* as prev of P_{me+1}: z_{me+1} received, minus F(S[me+1]) */
        t[i] = y[2 * i + 1] - s->f[1][i];
    d.xb = d.wb = d.tn = NULL;
    d.xa = x[1], d.wa = w[1], d.terms = conv_products(rss_next(me), z);
    dzka_conv(r->rs.pa[rss_next(me)], &d);
    d = (dzka_conv_def){d.depthwise, d.g, d.oc, conv_products(rss_prev(me), z), NULL, NULL, NULL, x[0], w[0], s->f[0]};
    dzka_conv(r->rs.pa[rss_prev(me)], &d); /* as next of P_{me-1} */
    free(x[0]), free(x[1]), free(w[0]), free(w[1]), free(t);
}

/* The reshare's result goes to d only after the statements have read the
 * operands, which d may overwrite. */
static void mul_finish_proven(rep3 *r, pop *op, const st *s)
{
    word *y = proto_alloc(2 * op->n * W);
    rss_reshare_finish(&r->rs, s->z, op->n, rss_words(y));
    if (op->kind == PK_MUL)
        mul_record(r, op, s, y);
    else
        conv_record(r, op, s, y);
    memcpy(op->d, y, 2 * op->n * W);
    free(y);
}

/* rep3-active: role s's split X = e + f of n values (rss_split: f at
 * prev, role s+2; e at next, role s+1) as role s's statements of length m
 *   sum_j a_j b_j = (f - P) + (e - N)
 * with a and P at prev, b and N at next (value i's a, b at m i + j); each
 * role fills what it holds (split_form_new allocates just that). */
typedef struct {
    int s;
    uint32_t m;
    word *a, *b, *P, *N;
} split_form;

static split_form split_form_new(int me, int s, size_t n, uint32_t m)
{
    split_form f = {s, m, NULL, NULL, NULL, NULL};
    if (me != rss_next(s))
        f.a = proto_zalloc(m * n * W), f.P = proto_alloc(n * W);
    if (me != rss_prev(s))
        f.b = proto_zalloc(m * n * W), f.N = proto_alloc(n * W);
    return f;
}

/* X = beta0 + beta1 - 2 beta0 beta1 for a bit beta with boolean shares
 * beta0 (prev), beta1 (next): a = -2 beta0, b = beta1, P = beta0, N = beta1 */
static void split_form_bit(split_form *f, size_t i, word b0, word b1)
{
    if (f->a)
        f->a[f->m * i] = (word)0 - 2 * b0, f->P[i] = b0;
    if (f->b)
        f->b[f->m * i] = b1, f->N[i] = b1;
}

/* X_k = X_x X_y for value i of three split values (parts of X_j at j n +
 * i): f_x e_y + f_y e_x = (f_k - f_x f_y) + (e_k - e_x e_y), m = 2; statement
 * i of f (P and N are f_x f_y and e_x e_y) */
static void split_form_prod(split_form *f, size_t i, const word *fv, const word *e, size_t n, int x, int y)
{
    if (f->a)
        f->a[2 * i] = fv[x * n + i], f->a[2 * i + 1] = fv[y * n + i], f->P[i] = fv[x * n + i] * fv[y * n + i];
    if (f->b)
        f->b[2 * i] = e[y * n + i], f->b[2 * i + 1] = e[x * n + i], f->N[i] = e[x * n + i] * e[y * n + i];
}

/* e and f: this role's parts of the n values (role 0 both, role 1 e, role 2 f) */
static void split_form_record(rep3 *r, const pop *op, split_form *f, size_t n, const word *e, const word *fv)
{
    word *tp = f->P, *tn = f->N;
    for (size_t i = 0; tp && i < n; i++)
        tp[i] = fv[i] - tp[i];
    for (size_t i = 0; tn && i < n; i++)
        tn[i] = e[i] - tn[i];
    dzka_arith_take(r->rs.pa[R(op, f->s)], n, f->m, f->a, f->b, tp, tn);
}

/* The parts e, f of role s's split (prods) this role holds */
static const word *split_e(const prods *p, int me, int s) { return me == s ? p->e : me == rss_next(s) ? p->x : NULL; }
static const word *split_f(const prods *p, int me, int s) { return me == rss_next(s) ? NULL : p->x; }

/* ---- truncation: y = x / 2^d with |x| < 2^62, error < 1 (probabilistic) ----
 * Parties 0 and 1 share r (stream S[1]); party 2 learns c = x + 2^62 + r and
 * nothing else. With v = msb(r), u = msb(c), e = 2u - 1 and s = 1 - 2v:
 * y = C - R + 2^(62-d) e s, C = (c mod 2^63) >> d, R = (r mod 2^63) >> d.
 * The last term needs e (party 2) times s (parties 0, 1): a three-party OT
 * from party 2 (rss_ot) gives the sharing of C + 2^(62-d) e s, whose share
 * y1 parties 0 and 1 then lower by R. */

static void trunc_setup(pop *op, st *s)
{
    size_t n = op->n;
    s->d = proto_alloc(n);
    s->x0 = proto_alloc(n * W);
    s->x1 = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++) {
        word m = proto_trunc_mult(op, i, &s->d[i]);
        s->x0[i] = op->a[2 * i] * m;
        s->x1[i] = op->a[2 * i + 1] * m;
    }
}

/* step 0: party 0 holds (x0, x1) and sends x1 + r to party 2 */
static void trunc_open_prepare(rep3 *r, pop *op, st *s, int me)
{
    size_t n = op->n;
    trunc_setup(op, s);
    if (me == 2) {
        rss_expect(&r->rs, R(op, 0), n);
        return;
    }
    s->c = proto_alloc(n * W);
    rss_draw(&r->rs, R(op, 1), s->c, n); /* r */
    if (me == 0) {
        word *m = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            m[i] = s->x1[i] + s->c[i];
        rss_send(&r->rs, "trunc-open", R(op, 2), m, n);
        free(m);
    }
}

/* step 1: the OT; party 2 offers C + 2^(62-d) e s_v for v = 0, 1 */
static void trunc_ot_prepare(rep3 *r, pop *op, st *s, int me)
{
    size_t n = op->n;
    word *v = NULL;
    s->z = proto_alloc(n * W);
    if (me == 2) {
        v = proto_alloc(2 * n * W);
        for (size_t i = 0; i < n; i++) {
            word c = s->c[i], cc = proto_trunc_low(c, s->d[i]);
            word term = (word)1 << (62 - s->d[i]);
            if (!(c >> 63))
                term = (word)0 - term; /* e = -1 */
            v[2 * i] = cc + term, v[2 * i + 1] = cc - term;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            s->z[i] = (word)0 - (s->c[i] >> 63); /* the choice v = msb r */
    }
    rss_ot_prepare(&r->rs, R(op, 2), RSS_ARITH, v, s->z, n, rss_words(op->d));
    free(v);
}

/* step 1 without the OT (rep3_mode.no_ot): party 2 splits C and K e, K =
 * 2^(62-d), so parties 0 and 1 hold additive shares of y = C + K e s - R:
 * Y = (1, s), loc = -R. Party 0 sends a2r's first message in the same
 * round (its part e of the split is its stream's); step 2 is a2r's second.
 * rep3-active ties C and e to c (plan §6.1, stage G): in the same round
 * party 2 shares c's 64 bits between party 1 (P, from S[2]) and party 0
 * (Q = bits ^ P, sent: 8 bytes a value), and trunc_record proves them. */
static void trunc_split_prepare(rep3 *r, pop *op, st *s, int me)
{
    size_t n = op->n;
    prods *p = &s->pr;
    chain_bits_prepare(r, "trunc-bits", R(op, 2), s, s->c, n, 64, "trunc-deal");
    prods_alloc(p, r, R(op, 2), 2, n);
    for (size_t i = 0; i < n; i++) {
        word k = (word)1 << (62 - s->d[i]);
        if (me == 2) {
            p->x[i] = proto_trunc_low(s->c[i], s->d[i]);
            p->x[n + i] = s->c[i] >> 63 ? k : (word)0 - k;
            p->x[i] += (word)net_cheat(r->rs.nt, "trunc-x"); /* test builds: a consistently wrong X */
        } else {
            p->Y[2 * i] = 1, p->Y[2 * i + 1] = s->c[i] >> 63 ? (word)0 - 1 : 1;
            p->loc[i] = (word)0 - proto_trunc_low(s->c[i], s->d[i]);
        }
    }
    rss_split_prepare(&r->rs, "trunc-split", R(op, 2), p->x, p->e, 2 * n);
    rss_a2r_prepare(&r->rs, R(op, 2), &p->d, n, rss_words(op->d));
}

/* planes 0..63 of element i's bits d_i..top of the planes pl (zero above).
 * A word's elements are moved a shift at a time, as whole-word masks: a
 * layer has one shift, or one per channel. */
static word *planes_from(const word *pl, size_t n, const uint8_t *d, int top)
{
    size_t nw = bits_words(n);
    word *out = proto_zalloc(64 * nw * W), mask[64] = {0};
    for (size_t w = 0; w < nw; w++) {
        word present = 0;
        for (size_t i = 64 * w; i < n && i < 64 * (w + 1); i++) {
            if (d[i] > top)
                continue;
            present |= (word)1 << d[i];
            mask[d[i]] |= (word)1 << i % 64;
        }
        for (; present; present &= present - 1) {
            int sh = __builtin_ctzll(present);
            for (int j = 0; j + sh <= top; j++)
                out[(size_t)j * nw + w] |= pl[(size_t)(j + sh) * nw + w] & mask[sh];
            mask[sh] = 0;
        }
    }
    return out;
}

/* rep3-active, party 2's proofs that its dealing and split follow from c
 * (prev: party 1, next: party 0):
 *  - the c-chain CC(S = m x_1 + r + m x_2, T = m x_0 + 2^62; P, Q; 64):
 *    the planes are the bits of c (party 1 holds S and P, party 0 T, Q);
 *  - the A-chain CC(f_0, e_0; P', Q'; 64), P' and Q' the planes d..62
 *    moved down: the split of X_0 is C = (c mod 2^63) >> d exactly;
 *  - X_1 = K (2u - 1), u = c_63 = P_63 + Q_63 - 2 P_63 Q_63, as
 *    -4K P_63 Q_63 = (f_1 - 2K P_63 + K) + (e_1 - 2K Q_63). */
static void trunc_record(rep3 *r, const pop *op, st *s, int me)
{
    size_t n = op->n, nw = bits_words(n);
    const prods *p = &s->pr;
    const word *e = split_e(p, me, 2), *f = split_f(p, me, 2);
    word *S = NULL, *T = NULL, *P = chain_P(r, R(op, 2), s), *Q = chain_Q(r, R(op, 2), s);
    if (me != 0) { /* the prover and prev: S = c - T */
        S = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            S[i] = me == 2 ? s->c[i] - s->x1[i] - ((word)1 << 62) : s->x0[i] + s->c[i] + s->x1[i];
    }
    if (me != 1) { /* the prover and next: m x_0 + 2^62 (party 2's second word, party 0's first) */
        T = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            T[i] = (me == 2 ? s->x1[i] : s->x0[i]) + ((word)1 << 62);
    }
    dzkb *b = r->rs.pb[R(op, 2)];
    int dmin = 62;
    for (size_t i = 0; i < n; i++)
        dmin = s->d[i] < dmin ? s->d[i] : dmin;
    dzkb_chain(b, n, 64, 64, S, T, P, Q);
    word *Ps = P ? planes_from(P, n, s->d, 62) : NULL, *Qs = Q ? planes_from(Q, n, s->d, 62) : NULL;
    dzkb_chain(b, n, 64, 63 - dmin, f, e, Ps, Qs);
    split_form u = split_form_new(me, 2, n, 1);
    for (size_t i = 0; i < n; i++) {
        word K = (word)1 << (62 - s->d[i]), p63 = P ? bits_get(P + 63 * nw, i) : 0, q63 = Q ? bits_get(Q + 63 * nw, i) : 0;
        if (u.a)
            u.a[i] = (word)0 - 4 * K * p63, u.P[i] = 2 * K * p63 - K;
        if (u.b)
            u.b[i] = q63, u.N[i] = 2 * K * q63;
    }
    split_form_record(r, op, &u, n, e ? e + n : NULL, f ? f + n : NULL);
    free(S), free(T), free(Ps), free(Qs);
}

static void trunc_prepare(rep3 *r, pop *op, int step)
{
    if (step == 0)
        trunc_open_prepare(r, op, state(op), vme(r, op));
    else if (step == 2)
        rss_a2r_send_prepare(&r->rs, R(op, 2), &state(op)->pr.d, op->n, rss_words(op->d));
    else if (r->mode->no_ot)
        trunc_split_prepare(r, op, op->state, vme(r, op));
    else
        trunc_ot_prepare(r, op, op->state, vme(r, op));
}

static void trunc_finish(rep3 *r, pop *op, int step)
{
    int me = vme(r, op);
    size_t n = op->n;
    st *s = op->state;
    if (step == 0) {
        if (me == 2) { /* c = x2 + (x0 + 2^62) + (x1 + r) */
            s->c = proto_alloc(n * W);
            rss_hashed(&r->rs, R(op, 0), R(op, 2), rss_recv(&r->rs, R(op, 0), s->c, 1, n), n);
            for (size_t i = 0; i < n; i++)
                s->c[i] += s->x0[i] + s->x1[i] + ((word)1 << 62);
        } else if (me == 1 && r->rs.j) { /* the backup: x1 is its first word */
            word *m = proto_alloc(n * W);
            for (size_t i = 0; i < n; i++)
                m[i] = s->x0[i] + s->c[i];
            rss_hashed(&r->rs, R(op, 0), R(op, 2), m, n);
            free(m);
        }
        return;
    }
    if (step == 2) {
        rss_a2r_send_finish(&r->rs, R(op, 2), &s->pr.d, n, rss_words(op->d));
        state_free(op);
        return;
    }
    if (r->mode->no_ot) {
        rss_share_finish(&r->rs, R(op, 2), 64 * bits_words(n), rss_planes(s->a[0], s->a[1]));
        rss_split_finish(&r->rs, R(op, 2), s->pr.x, 2 * n);
        if (r->rs.pa[0])
            trunc_record(r, op, s, me);
        rss_a2r_finish(&r->rs, R(op, 2), &s->pr.d, n, rss_words(op->d));
        return;
    }
    rss_ot_finish(&r->rs, R(op, 2), RSS_ARITH, s->z, n, rss_words(op->d));
    if (me != 2) /* y1: party 0's second word, party 1's first */
        for (size_t i = 0; i < n; i++)
            op->d[2 * i + (me == 0)] -= proto_trunc_low(s->c[i], s->d[i]);
    state_free(op);
}

/* ---- comparison: LTZ(x) = 1 - bit L of x + 2^L, |x| < 2^L ----
 * x = a + b with a known to party 0 and b to parties 1 and 2 (for LTZ,
 * a = x0 + x1 + 2^L and b = x2) is added as bits: party 0 deals a's planes
 * (rss_share2), b is the sharing (0, 0, b); the generate bits a AND b come
 * from rss_andk in the same round (b is known to both other parties, so
 * each multiplies its share of a by it). The carry tree (rss_carry) yields the carry into bit L; then
 * the bit becomes an arithmetic share by one more OT. The boolean part is
 * bit-sliced: plane j holds bit j of 64 elements per word, so every round
 * moves only the bits still needed. */

/* What a comparison of n elements starts from. Party 0: a, na = n / dup
 * values (dup = 2: elements i and na + i share a); parties 1 and 2: b, n
 * values with a stride. x: the replicated register (na values) with
 * a = x0 + x1 + off, which rep3-active's carry chain proves the dealt
 * planes against; NULL where a is something else (REQCLAMP's opened c). */
typedef struct {
    const word *a, *b;
    size_t bstride;
    int dup;
    const word *x;
    word off;
    const word *cv; /* REQCLAMP under deal_c, party 0: c, whose 64 bits it deals instead of a's */
} ltz_in;

/* planes of na elements, repeated dup times to n elements (allocated) */
static word *planes_dup(const word *src, size_t na, int dup, uint32_t np)
{
    size_t nw = bits_words(na * (size_t)dup), nwa = bits_words(na);
    word *d = proto_alloc(np * nw * W);
    if (dup == 1) {
        memcpy(d, src, np * nw * W);
        return d;
    }
    memset(d, 0, np * nw * W);
    for (uint32_t j = 0; j < np; j++)
        for (int k = 0; k < dup; k++)
            bits_put(d + j * nw, (size_t)k * na, src + j * nwa, na);
    return d;
}

/* Which of its two shares of a value dealt by rss_share2 (role 0 the
 * dealer) party me knows before the round: party 1 a1, its first; party 2
 * a0, its second (a2 arrives in the round). */
static int early_share(int me) { return me != 1; }

/* rep3-active: the dealing's carry chain CC(S, T; P, Q; L + 1), proven by
 * party 0 (prev: party 2, next: party 1), with S = x0 + off (party 2's
 * second word) and T = x1 (party 1's first): the dealt planes are the bits
 * of S + T = a. Kept until the shares have arrived. */
static void ltz_chain_sides(rep3 *r, const pop *op, st *s, const ltz_in *in, size_t na)
{
    int me = vme(r, op);
    if (!in->x || !r->rs.pb[0])
        return;
    if (me != 1) { /* x0: party 0's first word, party 2's second */
        s->cs = proto_alloc(na * W);
        for (size_t i = 0; i < na; i++)
            s->cs[i] = in->x[2 * i + (me == 2)] + in->off;
    }
    if (me != 2) { /* x1: party 0's second word, party 1's first */
        s->ct = proto_alloc(na * W);
        for (size_t i = 0; i < na; i++)
            s->ct[i] = in->x[2 * i + (me == 0)];
    }
}

/* The chain's sides of planes pl dealt by party 0 (rss_share2): P = sh_0
 * ^ sh_2 (party 2's two shares; party 0: what it dealt, dl or the bits of
 * cs + ct, ^ sh_1) and Q = sh_1 (party 1's first, party 0's second),
 * allocated where held. */
static void chain_pq(const st *s, int me, word *const pl[2], size_t na, uint32_t width, word **P, word **Q)
{
    size_t nwa = bits_words(na), len = width * nwa * W;
    *P = *Q = NULL;
    if (me != 2)
        memcpy(*Q = proto_alloc(len), pl[me == 0], len);
    if (me == 2) {
        *P = proto_alloc(len);
        for (size_t k = 0; k < width * nwa; k++)
            (*P)[k] = pl[0][k] ^ pl[1][k];
    } else if (me == 0 && s->dl) {
        *P = proto_alloc(len);
        for (size_t k = 0; k < width * nwa; k++)
            (*P)[k] = s->dl[k] ^ (*Q)[k];
    } else if (me == 0) {
        word *a = proto_alloc(na * W);
        *P = proto_alloc(len);
        for (size_t i = 0; i < na; i++)
            a[i] = s->cs[i] + s->ct[i];
        bits_pack(a, 1, na, width, *P, nwa);
        for (size_t k = 0; k < width * nwa; k++)
            (*P)[k] ^= (*Q)[k];
        free(a);
    }
}

static void ltz_chain_record(rep3 *r, const pop *op, st *s, word *const pl[2], size_t na, uint32_t width)
{
    int me = vme(r, op);
    if (!s->cs && !s->ct)
        return;
    word *P, *Q;
    chain_pq(s, me, pl, na, width, &P, &Q);
    dzkb_chain(r->rs.pb[R(op, 0)], na, width, width, s->cs, s->ct, P, Q);
    free(P), free(Q);
}

/* The comparison's planes from c's (rep3_mode.deal_c): a = ((c >> d) << e)
 * + 2^L mod 2^(L+1), e = d - dmin: plane j is bit j + dmin of c where
 * j >= e, else 0; plane L is flipped on share 0 (share0: pl is it). */
static void lanes_from_c(const st *s, const word *cp, word *a, size_t na, uint32_t L, int share0)
{
    size_t nw = bits_words(na);
    word *from = proto_alloc((L + 2) * W); /* from[e]: the word's elements with d - dmin = e (L + 1: more) */
    for (size_t w = 0; w < nw; w++) {
        size_t lo = 64 * w, hi = na - lo < 64 ? na : lo + 64;
        memset(from, 0, (L + 2) * W);
        for (size_t i = lo; i < hi; i++) {
            uint32_t e = (uint32_t)(s->d[i] - s->dmin);
            from[e <= L ? e : L + 1] |= (word)1 << (i - lo);
        }
        word m = 0; /* the elements whose planes start at or below j */
        for (uint32_t j = 0; j <= L; j++) {
            m |= from[j];
            a[j * nw + w] = m ? cp[(j + s->dmin) * nw + w] & m : 0;
        }
        if (share0)
            a[L * nw + w] ^= hi - lo == 64 ? ~(word)0 : ((word)1 << (hi - lo)) - 1;
    }
    free(from);
}

/* Round 1: a's planes dealt by party 0 (rss_share2), g = a AND b (rss_andk)
 * in the same round. */
static void ltz_round1_prepare(rep3 *r, pop *op, st *s, const ltz_in *in)
{
    int me = vme(r, op);
    size_t n = op->n, nw = bits_words(n), na = n / (size_t)in->dup, nwa = bits_words(na);
    uint32_t L = op->bound, Lp = L + 1;
    word *A = NULL;
    s->dup = in->dup;
    s->cy.L = L;
    s->cy.nw = nw;
    for (int h = 0; h < 2; h++) {
        s->a[h] = proto_alloc(Lp * nwa * W);
        s->cy.g[h] = proto_alloc(L * nw * W);
    }
    ltz_chain_sides(r, op, s, in, na);
    uint32_t np = s->d ? 64 : Lp; /* deal_c: c's planes */
    if (me == 0) {
        A = proto_alloc(np * nwa * W);
        bits_pack(s->d ? in->cv : in->a, 1, na, np, A, nwa);
        A[0] ^= (word)net_cheat(r->rs.nt, s->d ? "reqclamp-deal" : "ltz-deal"); /* test builds: consistently wrong */
    } else {
        s->b = proto_alloc(Lp * nw * W);
        bits_pack(in->b, in->bstride, n, Lp, s->b, nw);
    }
    if (s->d) {
        for (int h = 0; h < 2; h++)
            s->cp[h] = proto_alloc(64 * nwa * W);
        rss_share2_prepare(&r->rs, R(op, 0), RSS_BOOL, A, 64 * nwa, rss_planes(s->cp[0], s->cp[1]));
        if (me != 0)
            lanes_from_c(s, s->cp[early_share(me)], s->a[early_share(me)], na, L, (me + early_share(me)) % 3 == 0);
    } else {
        rss_share2_prepare(&r->rs, R(op, 0), RSS_BOOL, A, Lp * nwa, rss_planes(s->a[0], s->a[1]));
    }
    word *ak = me == 0 ? NULL : planes_dup(s->a[early_share(me)], na, s->dup, L);
    rss_andk_prepare(&r->rs, R(op, 0), ak, s->b, L * nw, rss_planes(s->cy.g[0], s->cy.g[1]));
    free(A);
    free(ak);
}

/* After round 1 every party holds its two shares of a's planes and of
 * G = a AND b. This forms P = a ^ b (planes 0..L-1) and t = plane L of
 * a ^ b; b is share 2: party 1's second, party 2's first. */
static void ltz_round1_finish(rep3 *r, pop *op, st *s)
{
    int me = vme(r, op);
    size_t n = op->n, nw = bits_words(n), na = n / (size_t)s->dup, nwa = bits_words(na);
    uint32_t L = op->bound, Lp = L + 1;
    if (s->d) {
        rss_share2_finish(&r->rs, R(op, 0), 64 * nwa, rss_planes(s->cp[0], s->cp[1]));
        for (int h = 0; h < 2; h++)
            lanes_from_c(s, s->cp[h], s->a[h], na, L, (me + h) % 3 == 0);
        ltz_chain_record(r, op, s, s->cp, na, 64);
    } else {
        rss_share2_finish(&r->rs, R(op, 0), Lp * nwa, rss_planes(s->a[0], s->a[1]));
        ltz_chain_record(r, op, s, s->a, na, Lp);
    }
    word *a[2] = {planes_dup(s->a[0], na, s->dup, L), planes_dup(s->a[1], na, s->dup, L)};
    rss_andk_finish(&r->rs, R(op, 0), (const word *const *)a, s->b, L * nw, rss_planes(s->cy.g[0], s->cy.g[1]));
    free(a[0]), free(a[1]);
    for (int h = 0; h < 2; h++) {
        word *p = planes_dup(s->a[h], na, s->dup, Lp);
        if (me != 0 && h == (me == 1))
            for (size_t q = 0; q < Lp * nw; q++)
                p[q] ^= s->b[q];
        s->t[h] = proto_alloc(nw * W);
        memcpy(s->t[h], p + L * nw, nw * W);
        s->cy.p[h] = p;
        free(s->a[h]);
        s->a[h] = NULL;
    }
    free(s->b);
    s->b = NULL;
}

/* LTZ of x: a = x0 + x1 + 2^L (party 0), b = x2 */
static void ltz_start(rep3 *r, pop *op, st *s)
{
    int me = vme(r, op);
    word *a = NULL;
    ltz_in in = {NULL, op->a + (me == 1), 2, 1, op->a, (word)1 << op->bound, NULL};
    if (me == 0) {
        a = proto_alloc(op->n * W);
        for (size_t i = 0; i < op->n; i++)
            a[i] = op->a[2 * i] + op->a[2 * i + 1] + ((word)1 << op->bound);
        in.a = a;
    }
    ltz_round1_prepare(r, op, s, &in);
    free(a);
}

/* The bit [LTZ] = 1 ^ t ^ carry (the carry is plane 0 of G) as boolean
 * shares in the planes t: party 0 then knows u = beta0 ^ beta1 (t0 ^ t1),
 * parties 1 and 2 know w = beta2 (party 1's t1, party 2's t0). */
static void ltz_bit(const pop *op, st *s, int me)
{
    for (size_t q = 0; q < bits_words(op->n); q++) {
        s->t[0][q] ^= s->cy.g[0][q] ^ (me == 0 ? ~(word)0 : 0);
        s->t[1][q] ^= s->cy.g[1][q] ^ (me == 2 ? ~(word)0 : 0);
    }
    rss_carry_free(&s->cy); /* its last reader: the products that follow reuse the memory */
}

/* Bit i of share k of a boolean sharing that role me holds as its (own,
 * next) planes sh (k = me or me + 1). */
static word share_bit(word *const sh[2], int me, int k, size_t i)
{
    int at = (k - me + 3) % 3;
    if (at > 1)
        abort(); /* a bug: role me does not hold share k */
    return bits_get(sh[at], i);
}

/* The bit made arithmetic (rep3_mode.no_ot): party 0 splits u (a bit
 * statement), so parties 1 and 2 hold additive shares of
 * beta = u (1 - 2w) + w: Y = 1 - 2w, loc = w; then a2r. */
static void ltz_split_prepare(rep3 *r, pop *op, st *s, int me)
{
    size_t n = op->n;
    prods *p = &s->pr;
    prods_alloc(p, r, R(op, 0), 1, n);
    for (size_t i = 0; i < n; i++) {
        if (me == 0) {
            p->x[i] = (bits_get(s->t[0], i) ^ bits_get(s->t[1], i)) + (word)net_cheat(r->rs.nt, "split-x");
        } else {
            word w = bits_get(s->t[me == 1], i);
            p->Y[i] = 1 - 2 * w, p->loc[i] = w;
        }
    }
    rss_split_prepare(&r->rs, "split", R(op, 0), p->x, p->e, n);
    rss_a2r_prepare(&r->rs, R(op, 0), &p->d, n, rss_words(op->d));
}

static void ltz_split_finish(rep3 *r, pop *op, st *s, int me)
{
    size_t n = op->n;
    prods *p = &s->pr;
    rss_split_finish(&r->rs, R(op, 0), p->x, n);
    if (r->rs.pa[0]) {
        split_form f = split_form_new(me, 0, n, 1);
        for (size_t i = 0; i < n; i++)
            split_form_bit(&f, i, me == 1 ? 0 : share_bit(s->t, me, 0, i), me == 2 ? 0 : share_bit(s->t, me, 1, i));
        split_form_record(r, op, &f, n, split_e(p, me, 0), split_f(p, me, 0));
    }
    rss_a2r_finish(&r->rs, R(op, 0), &p->d, n, rss_words(op->d));
}

/* The bit made arithmetic: party 0 offers u and u ^ 1 by OT, parties 1 and
 * 2 choose by w. */
static void ltz_inject_prepare(rep3 *r, pop *op, st *s)
{
    int me = vme(r, op);
    size_t n = op->n;
    word *v = NULL;
    ltz_bit(op, s, me);
    if (r->mode->no_ot) {
        ltz_split_prepare(r, op, s, me);
        return;
    }
    s->z = proto_alloc(n * W);
    if (me == 0) {
        v = proto_alloc(2 * n * W);
        for (size_t i = 0; i < n; i++) {
            word u = bits_get(s->t[0], i) ^ bits_get(s->t[1], i);
            v[2 * i] = u, v[2 * i + 1] = u ^ 1;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            s->z[i] = (word)0 - bits_get(s->t[me == 1], i);
    }
    rss_ot_prepare(&r->rs, R(op, 0), RSS_ARITH, v, s->z, n, rss_words(op->d));
    free(v);
}

static void ltz_prepare(rep3 *r, pop *op, int step)
{
    st *s = state(op);
    if (step == 0)
        ltz_start(r, op, s);
    else if (step <= bits_levels(op->bound))
        rss_carry_prepare(&r->rs, &s->cy, step);
    else if (step == bits_levels(op->bound) + 1)
        ltz_inject_prepare(r, op, s);
    else
        rss_a2r_send_prepare(&r->rs, R(op, 0), &s->pr.d, op->n, rss_words(op->d));
}

static void ltz_finish(rep3 *r, pop *op, int step)
{
    st *s = op->state;
    if (step == 0) {
        ltz_round1_finish(r, op, s);
    } else if (step <= bits_levels(op->bound)) {
        rss_carry_finish(&r->rs, &s->cy, step);
    } else if (step > bits_levels(op->bound) + 1) {
        rss_a2r_send_finish(&r->rs, R(op, 0), &s->pr.d, op->n, rss_words(op->d));
        state_free(op);
    } else if (r->mode->no_ot) {
        ltz_split_finish(r, op, s, vme(r, op));
    } else {
        rss_ot_finish(&r->rs, R(op, 0), RSS_ARITH, s->z, op->n, rss_words(op->d));
        state_free(op);
    }
}

/* ---- CLAMP: min(max(x, lo), hi) ----
 * With t = x - lo, D = hi - lo, b1 = [t < 0], l2 = [t - D - 1 < 0] and
 * s = b1 ^ l2 = [0 <= t <= D] (b1 implies l2):  y = lo + D + s t - D l2.
 * Both comparisons run as one LTZ of 2n elements up to the carry, with
 * t = A + B, A = x0 + x1 - lo (party 0), B = x2 (parties 1, 2): a = A + 2^L
 * for both (shared once), b = B and B - D - 1. Each bit is beta = u ^ w
 * (ltz_bit: u known to party 0, w to parties 1 and 2), beta = u (1-2w) + w:
 *   s t  = (u_s A)(1 - 2w_s) + A w_s + u_s (1 - 2w_s) B + w_s B
 *   D l2 = u_l D (1 - 2w_l) + D w_l,
 * sums of products X Y, X known to party 0 and Y to parties 1 and 2. Party
 * 0 splits each X (rss_split) between parties 1 and 2, who then hold
 * additive shares of y, which rss_a2r makes replicated (its second round is
 * the last step). 4 + 2 words per value after the comparisons.
 *
 * REQCLAMP first truncates as REQUANT does, with the roles turned: parties
 * 1 and 2 draw r (S[2]), party 1 sends party 0 m x2 + r (lazy input, an
 * unfinished sum z: parties 1 and 2 send m z_k + r_k, r = r1 + r2), party 0
 * knows c = m x + 2^62 + r, u = msb c, C = (c mod 2^63) >> d and parties 1,
 * 2 know v = msb r, R = (r mod 2^63) >> d. The truncated value plus z - lo is
 *   t = A + B - 2K u v,  A = C + K u,  B = -R + K v - K/2 + z - lo,
 * K = 2^(63-d) (proto_trunc_open). Modulo 2^(L+1), a divisor of 2K when
 * L + d <= 63 (the validator's condition), t = A + B: the comparisons run on
 * A and B as above, without the truncation's second round. With per-channel
 * shifts L + dmin <= 63, and a channel with a larger d is compared as
 * 2^(d - dmin) t, known modulo 2^(64 - dmin) (its bound leaves room). The
 * products gain s (-2K u v) = (u u_s)(-2K v (1 - 2w_s)) + u (-2K v w_s):
 * two more X. */
typedef struct {
    pop ltz;      /* CLAMP, REQCLAMP: the comparisons, 2n elements (from clamp_start) */
    int nx;       /* products X per value: 4, 6 for REQCLAMP, 8 exact, + 3 with two floors, + 2 REQS */
    int two, sec; /* exact: two floors; REQS */
    word lo, D;   /* REQS: this party's parts of its secret lo and D (xq_secret) */
    word zl;      /* REQS: and of zp - lo */
    word *v;      /* party 0: A; parties 1, 2: B */
    word *c;      /* REQCLAMP: party 0: c; parties 1, 2: r */
    word *mult;   /* REQCLAMP: the multipliers */
    word *off;    /* exact: the offset added to m x (proto_exact_consts' off0), per element */
    uint8_t *d;   /* REQCLAMP: the shifts */
    uint8_t dmin; /* REQCLAMP: the smallest */
    word *lane[2];   /* the comparisons' bits, boolean shares: lane l of element i at l n + i */
    word *beta[2];   /* exact: beta0 at i, beta1 at n + i, boolean shares */
    word *rho;       /* exact with two floors, party 0: tau = beta0 ^ beta1 ^ rho */
    word *rsh[2];    /* rep3_mode.deal_c: rho's boolean shares (in cst's planes) */
    const st *cst;   /* rep3_mode.deal_c: c's dealt planes and their chain's sides */
    prods pr;     /* the products' X (party 0), then their parts (1, 2) */
} clamp_st;

static void clamp_init(clamp_st *c, pop *op, int nx)
{
    op->state = c;
    c->nx = nx;
    c->lo = (word)op->lo;
    c->D = (word)op->hi - c->lo;
}

/* REQCLAMP's open: party 1 sends m x2 + r to party 0 (who adds off) */
static void reqclamp_open_prepare(rep3 *r, pop *op, clamp_st *c)
{
    int lz = lazy(r->mode, op);
    int me = vme(r, op);
    size_t n = op->n;
    c->d = proto_alloc(n);
    c->c = proto_alloc(n * W);
    c->mult = proto_alloc(n * W);
    c->dmin = proto_trunc_shifts(op, c->d, c->mult);
    word *m = proto_alloc(n * W), *r2 = proto_alloc(n * W);
    if (me == 0) {
        rss_expect(&r->rs, R(op, 1), n);
        if (lz)
            rss_expect(&r->rs, R(op, 2), n);
    } else {
        rss_draw(&r->rs, R(op, 2), c->c, n);
        if (lz) /* r = r1 + r2, party k masks its own sum word with rk */
            rss_draw(&r->rs, R(op, 2), r2, n);
    }
    if (me == 1 || (me == 2 && lz)) {
        const word *mask = me == 1 ? c->c : r2;
        for (size_t i = 0; i < n; i++)
            m[i] = op->a[2 * i + (lz ? 0 : 1)] * c->mult[i] + mask[i];
        rss_send(&r->rs, lz ? "lazy-open" : "reqclamp-open", R(op, 0), m, n);
    }
    if (me != 0 && lz)
        for (size_t i = 0; i < n; i++)
            c->c[i] += r2[i];
    free(m);
    free(r2);
}

static void reqclamp_open_finish(rep3 *r, pop *op, clamp_st *c)
{
    int lz = lazy(r->mode, op);
    size_t n = op->n;
    if (vme(r, op) == 2 && !lz && r->rs.j) { /* the backup: x2 is its first word */
        word *m = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            m[i] = op->a[2 * i] * c->mult[i] + c->c[i];
        rss_hashed(&r->rs, R(op, 1), R(op, 0), m, n);
        free(m);
    }
    if (vme(r, op) != 0)
        return;
    word *y = proto_zalloc(2 * n * W);
    const uint8_t *in = rss_recv(&r->rs, R(op, 1), y, 1, n);
    if (!lz)
        rss_hashed(&r->rs, R(op, 1), R(op, 0), in, n);
    if (lz)
        rss_recv(&r->rs, R(op, 2), y + n, 1, n);
    for (size_t i = 0; i < n; i++)
        c->c[i] = (op->a[2 * i] + (lz ? 0 : op->a[2 * i + 1])) * c->mult[i] + y[i] + y[n + i] +
                  ((word)1 << 62) + (c->off ? c->off[i] : 0);
    free(y);
}

/* element i of A (party 0) or B (parties 1, 2) */
static word clamp_part(const pop *op, const clamp_st *c, int me, size_t i)
{
    if (op->kind == PK_CLAMP)
        return me == 0 ? op->a[2 * i] + op->a[2 * i + 1] - c->lo : op->a[2 * i + (me == 1)];
    word pub, coef, K = (word)1 << (63 - c->d[i]);
    word zl = op->kind == PK_REQS ? c->zl : me == 0 ? 0 : (word)op->zp - c->lo;
    if (me == 0) {
        proto_trunc_open(c->c[i], c->d[i], &pub, &coef);
        return pub + K / 2 + zl; /* C + K u */
    }
    word v = c->c[i] >> 63, R = proto_trunc_low(c->c[i], c->d[i]);
    return 0 - R + K * v - K / 2 + zl;
}

/* REQCLAMP under rep3_mode.deal_c: party 0 deals c's 64 bits, from which
 * every party derives the comparison's (lanes_from_c); the c-chain
 * CC(S, T; P, Q; 64) proves them with S = m (x_2 + x_0) + r + 2^62 + off
 * (party 2: its shares and r) and T = m x_1 (party 1), S + T = c. */
static void reqclamp_deal_c(rep3 *r, const pop *op, const clamp_st *c, st *l)
{
    int me = vme(r, op);
    size_t n = op->n;
    l->d = proto_alloc(n);
    memcpy(l->d, c->d, n);
    l->dmin = c->dmin;
    if (me != 2) { /* x_1: party 0's second word, party 1's first */
        l->ct = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            l->ct[i] = op->a[2 * i + (me == 0)] * c->mult[i];
    }
    if (me != 1) {
        l->cs = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            l->cs[i] = me == 0 ? c->c[i] - l->ct[i]
                               : (op->a[2 * i] + op->a[2 * i + 1]) * c->mult[i] + c->c[i] + ((word)1 << 62) +
                                     (c->off ? c->off[i] : 0);
    }
}

static void clamp_start(rep3 *r, pop *op, clamp_st *c)
{
    int me = vme(r, op);
    size_t n = op->n;
    word *in = proto_alloc(2 * n * W);
    c->v = proto_alloc(n * W);
    ltz_in li = {in, in, 1, 2, op->kind == PK_CLAMP ? op->a : NULL, ((word)1 << op->bound) - c->lo, c->c};
    proto_clamp_ltz(op, &c->ltz);
    if (op->kind == PK_REQCLAMP && r->mode->deal_c)
        reqclamp_deal_c(r, op, c, state(&c->ltz)), c->cst = c->ltz.state;
    for (size_t i = 0; i < n; i++) {
        int e = op->kind == PK_REQCLAMP ? c->d[i] - c->dmin : 0; /* per-channel scale */
        c->v[i] = clamp_part(op, c, me, i);
        if (me == 0)
            in[i] = (c->v[i] << e) + ((word)1 << op->bound);
        else
            in[i] = c->v[i] << e, in[n + i] = (c->v[i] - c->D - 1) << e;
    }
    ltz_round1_prepare(r, &c->ltz, state(&c->ltz), &li);
    free(in);
}

/* this party's part of bit i of a boolean sharing: u = s0 ^ s1 at party 0,
 * w = s2 at parties 1 and 2 (party 1's second share, party 2's first) */
static word part(word *const sh[2], int me, size_t i)
{
    return me == 0 ? bits_get(sh[0], i) ^ bits_get(sh[1], i) : bits_get(sh[me == 1], i);
}

/* The parts of the bits value i's products need: s = b1 ^ l2, l2, beta0,
 * sigma = b3 ^ b4 and tau (0 where the method has none). */
typedef struct {
    word s, l, b, g, t;
} cparts;

static void clamp_parts(const clamp_st *c, int me, size_t n, size_t i, cparts *p)
{
    memset(p, 0, sizeof *p);
    p->l = part(c->lane, me, n + i);
    p->s = part(c->lane, me, i) ^ p->l;
    if (c->nx >= 8)
        p->b = part(c->beta, me, i);
    if (c->two) {
        p->g = part(c->lane, me, 2 * n + i) ^ part(c->lane, me, 3 * n + i);
        p->t = p->b ^ part(c->beta, me, n + i) ^ (c->rsh[0] ? part(c->rsh, me, i) : me == 0 ? c->rho[i] : 0);
    }
}

/* The k-th product a method uses among the 13 below: the first 8 (or
 * fewer), then the two floors' 3, then REQS's 2. */
static int clamp_ix(const clamp_st *c, int k) { return k < 8 || c->two ? k : k + 3; }

/* party 0: the products X of value i into x[k n + i] */
static void clamp_xs(const clamp_st *c, size_t n, size_t i, word *x)
{
    cparts p;
    clamp_parts(c, 0, n, i, &p);
    word A = c->v[i], u = c->nx > 4 ? c->c[i] >> 63 : 0;
    word X[13] = {p.s * A, A, p.s, p.l, u * p.s, u, p.s * p.b, p.b, p.g * p.t, p.g, p.t,
                  c->D * (1 - 2 * p.l), c->lo + c->D - c->D * p.l};
    for (int k = 0; k < c->nx; k++)
        x[k * n + i] = X[clamp_ix(c, k)];
}

/* parties 1 and 2: value i's Y_k into Yrow, returning the terms without X
 * (loc: y = sum over k of X_k Y_k + loc). With each bit beta = u (1 - 2w) + w:
 *   s t    = (u_s A) f_s + A w_s + u_s f_s (B - w_b) + w_s B - (u_s u_b) f_s f_b - u_b w_s f_b - w_s w_b
 *            - 2K u v s (REQCLAMP: t = A + B - 2K u v - beta0)
 *   D l2   = u_l D (1 - 2w_l) + D w_l
 *   g tau  = (u_g u_t) f_g f_t + u_g f_g w_t + u_t w_g f_t + w_g w_t
 * with f = 1 - 2w: y = hi + s t - D l2 - g tau. REQS: hi and D are secret,
 * party 0's parts (xq_secret) in two more X: D0 l2 = D0 u_l + w_l D0 (1 - 2u_l),
 * so X = D0 (1 - 2u_l) with Y = -w_l, and X = hi0 - D0 u_l with Y = 1. */
static word clamp_row(const clamp_st *c, int me, size_t n, size_t i, word *Yrow)
{
    cparts p;
    clamp_parts(c, me, n, i, &p);
    word B = c->v[i], fs = 1 - 2 * p.s, fb = 1 - 2 * p.b, fg = 1 - 2 * p.g, ft = 1 - 2 * p.t;
    word K2v = c->nx > 4 ? ((word)1 << (64 - c->d[i])) * (c->c[i] >> 63) : 0;
    word Y[13] = {fs, p.s, fs * (B - p.b), 0 - c->D * (1 - 2 * p.l), 0 - K2v * fs, 0 - K2v * p.s,
                  0 - fs * fb, 0 - p.s * fb, 0 - fg * ft, 0 - fg * p.t, 0 - p.g * ft, 0 - p.l, 1};
    for (int k = 0; k < c->nx; k++)
        Yrow[k] = Y[clamp_ix(c, k)];
    return p.s * B - c->D * p.l - p.s * p.b - p.g * p.t + c->lo + c->D;
}

/* The split of the products: CLAMP's (kind "split"), REQCLAMP's
 * ("reqclamp-split"), xq's ("xq-split"). */
static void clamp_products_prepare(rep3 *r, pop *op, clamp_st *c)
{
    int me = vme(r, op);
    size_t n = op->n, nx = (size_t)c->nx;
    prods *p = &c->pr;
    prods_alloc(p, r, R(op, 0), (uint32_t)nx, n);
    p->d.sign01 = 1; /* clamp_row's Y_0 = f_s = 1 - 2 s = 1 - 2 Y_1 */
    for (size_t i = 0; i < n; i++)
        if (me == 0)
            clamp_xs(c, n, i, p->x);
        else
            p->loc[i] = clamp_row(c, me, n, i, p->Y + i * nx);
    if (me == 0 && op->kind == PK_CLAMP) { /* test builds: consistently wrong X */
        p->x[0] += (word)net_cheat(r->rs.nt, "clamp-x");
    } else if (me == 0 && op->kind == PK_REQCLAMP) { /* A one off, and u_s A with it (only the A-chain can tell) */
        word ch = (word)net_cheat(r->rs.nt, "reqclamp-x");
        p->x[n] += ch, p->x[0] += ch * p->x[2 * n];
    } else if (me == 0 && net_cheat(r->rs.nt, "xq-x")) { /* u_b flipped, u_s u_b with it */
        p->x[7 * n] ^= 1, p->x[6 * n] = p->x[2 * n] * p->x[7 * n];
    }
    rss_split_prepare(&r->rs, op->kind == PK_CLAMP ? "split" : op->kind == PK_REQCLAMP ? "reqclamp-split" : "xq-split",
                      R(op, 0), p->x, p->e, nx * n);
    rss_a2r_prepare(&r->rs, R(op, 0), &p->d, n, rss_words(op->d));
}

/* The bits behind clamp_xs's X: s, l, u = c_63, beta0, sigma, tau */
enum { CB_S, CB_L, CB_U, CB_B, CB_G, CB_T };

/* Shares 0 (prev) and 1 (next) of bit `which` of value i, where role me
 * holds them (0 elsewhere). u's are c's plane 63 as its chain's sides P
 * (prev) and Q (next) hold it: u is the whole bit, the others party 0's
 * part s0 ^ s1 of a boolean sharing. */
static void clamp_bit_sh(const clamp_st *c, int me, size_t n, size_t i, int which, const word *P63, const word *Q63,
                         word b[2])
{
    for (int k = 0; k < 2; k++) {
        b[k] = 0;
        if (me != 0 && k != (me == 1))
            continue;
        switch (which) {
        case CB_S: b[k] = share_bit(c->lane, me, k, i) ^ share_bit(c->lane, me, k, n + i); break;
        case CB_L: b[k] = share_bit(c->lane, me, k, n + i); break;
        case CB_U: b[k] = bits_get(k ? Q63 : P63, i); break;
        case CB_B: b[k] = share_bit(c->beta, me, k, i); break;
        case CB_G: b[k] = share_bit(c->lane, me, k, 2 * n + i) ^ share_bit(c->lane, me, k, 3 * n + i); break;
        default:
            b[k] = share_bit(c->beta, me, k, i) ^ share_bit(c->beta, me, k, n + i) ^ share_bit(c->rsh, me, k, i);
        }
    }
}

/* clamp_xs's X_k: the product X_x X_y (x >= 0) or a bit; X_1 = A is neither */
static const struct {
    signed char x, y, bit;
} CLAMP_X[11] = {{2, 1, -1},   {-1, -1, -1},  {-1, -1, CB_S}, {-1, -1, CB_L}, {5, 2, -1},    {-1, -1, CB_U},
                 {2, 7, -1},   {-1, -1, CB_B}, {9, 10, -1},   {-1, -1, CB_G}, {-1, -1, CB_T}};

/* rep3-active: role 0's split X (clamp_xs) as its statements: each
 * product of splits and each bit as split_form gives them, and A (X_1):
 * for CLAMP A = x_0 + x_1 - lo is linear (P = x_0 - lo, N = x_1: the
 * comparison's chain kept them, cs and ct); for REQCLAMP and xq A = c >> d
 * by the A-chain CC(f_1, e_1; P >> d, Q >> d; 64) against c's dealt planes
 * (P = sh_0 ^ sh_2 at prev, Q = sh_1 at next), so e_1 + f_1 is c >> d
 * exactly. */
static void clamp_split_record(rep3 *r, const pop *op, clamp_st *c)
{
    int me = vme(r, op);
    size_t n = op->n, nw = bits_words(n);
    const st *l = op->kind == PK_CLAMP ? c->ltz.state : c->cst;
    const word *e = split_e(&c->pr, me, 0), *fv = split_f(&c->pr, me, 0);
    word *P = NULL, *Q = NULL;
    if (c->nx > (int)(sizeof CLAMP_X / sizeof CLAMP_X[0]))
        abort(); /* a bug: REQS's X are not in the table (rep3-active refuses REQS) */
    if (op->kind != PK_CLAMP)
        chain_pq(l, me, l->cp, n, 64, &P, &Q);
    for (int k = 0; k < c->nx; k++) {
        if (k == 1 && op->kind != PK_CLAMP)
            continue;
        split_form f = split_form_new(me, 0, n, CLAMP_X[k].x >= 0 ? 2 : 1);
        for (size_t i = 0; i < n; i++) {
            word b[2];
            if (CLAMP_X[k].x >= 0) {
                split_form_prod(&f, i, fv, e, n, CLAMP_X[k].x, CLAMP_X[k].y);
            } else if (k == 1) {
                if (f.a)
                    f.P[i] = l->cs[i] - ((word)1 << op->bound);
                if (f.b)
                    f.N[i] = l->ct[i];
            } else {
                clamp_bit_sh(c, me, n, i, CLAMP_X[k].bit, P ? P + 63 * nw : NULL, Q ? Q + 63 * nw : NULL, b);
                split_form_bit(&f, i, b[0], b[1]);
            }
        }
        split_form_record(r, op, &f, n, e ? e + k * n : NULL, fv ? fv + k * n : NULL);
    }
    if (op->kind != PK_CLAMP) {
        word *Ps = P ? planes_from(P, n, l->d, 63) : NULL, *Qs = Q ? planes_from(Q, n, l->d, 63) : NULL;
        dzkb_chain(r->rs.pb[R(op, 0)], n, 64, 64 - l->dmin, fv ? fv + n : NULL, e ? e + n : NULL, Ps, Qs);
        free(Ps), free(Qs);
    }
    free(P), free(Q);
}

static void clamp_products_finish(rep3 *r, pop *op, clamp_st *c)
{
    rss_split_finish(&r->rs, R(op, 0), c->pr.x, (size_t)c->nx * op->n);
    if (r->rs.pa[0] && (op->kind == PK_CLAMP || c->cst))
        clamp_split_record(r, op, c);
    rss_a2r_finish(&r->rs, R(op, 0), &c->pr.d, op->n, rss_words(op->d));
}

static void clamp_free(pop *op)
{
    clamp_st *c = op->state;
    state_free(&c->ltz);
    free(c->v), free(c->c), free(c->mult), free(c->off), free(c->d), free(c->rho);
    prods_free(&c->pr);
    for (int h = 0; h < 2; h++)
        free(c->beta[h]);
    free(c);
    op->state = NULL;
}

/* CLAMP's steps; REQCLAMP runs its open first and these one step later */
static void clamp_prepare(rep3 *r, pop *op, int step)
{
    int K = bits_levels(op->bound);
    if (op->kind == PK_REQCLAMP && step-- == 0) {
        clamp_init(proto_zalloc(sizeof(clamp_st)), op, 6);
        reqclamp_open_prepare(r, op, op->state);
        return;
    }
    if (op->kind == PK_CLAMP && step == 0)
        clamp_init(proto_zalloc(sizeof(clamp_st)), op, 4);
    clamp_st *c = op->state;
    if (step == 0) {
        clamp_start(r, op, c);
    } else if (step <= K) {
        rss_carry_prepare(&r->rs, &((st *)c->ltz.state)->cy, step);
    } else if (step == K + 1) {
        st *s = c->ltz.state;
        ltz_bit(&c->ltz, s, vme(r, op));
        c->lane[0] = s->t[0], c->lane[1] = s->t[1];
        clamp_products_prepare(r, op, c);
    } else {
        rss_a2r_send_prepare(&r->rs, R(op, 0), &c->pr.d, op->n, rss_words(op->d));
    }
}

static void clamp_finish(rep3 *r, pop *op, int step)
{
    clamp_st *c = op->state;
    int K = bits_levels(op->bound);
    if (op->kind == PK_REQCLAMP && step-- == 0)
        reqclamp_open_finish(r, op, c);
    else if (step == 0)
        ltz_round1_finish(r, &c->ltz, c->ltz.state);
    else if (step <= K)
        rss_carry_finish(&r->rs, &((st *)c->ltz.state)->cy, step);
    else if (step == K + 1)
        clamp_products_finish(r, op, c);
    else {
        rss_a2r_send_finish(&r->rs, R(op, 0), &c->pr.d, op->n, rss_words(op->d));
        clamp_free(op);
    }
}

/* ---- exact REQCLAMP, fused (docs/protocols.md "rep3: exact REQCLAMP") ----
 * The open is REQCLAMP's, of W0 = m x + off0: party 0 knows c = W0 + 2^62
 * + r, parties 1 and 2 know r. With k the dropped bits (31 + right shift),
 * V = W0 + 2^62 and
 *   beta0 = [c mod 2^k < r mod 2^k]   (the borrow the fast method leaves out)
 * the floor is exact: y0 = floor(W0 / 2^k) = (the fast method's value) -
 * beta0, so z0 - lo = t - beta0 with REQCLAMP's t = A + B - 2K u v. TFLite
 * rounds ties below 0 the other way: y = y0 - tau [y0 <= 0] with tau = y0 -
 * y1 = [V mod 2^k < 2^31] = beta0 ^ beta1 ^ rho, where beta1 is the same
 * borrow for c' = c - 2^31 and rho = [c mod 2^k < 2^31] (party 0). That
 * matters only when lo < zp (two floors); then
 *   out = hi - D l2 + (l2 - b1)(z0 - lo) - (b4 - b3) tau
 * with lanes b1 = [z0 < lo], l2 = [z0 < hi + 1], b3 = [z0 < lo + 1],
 * b4 = [z0 < min(hi, zp) + 1]; else the first two lanes alone.
 * Every comparison is one carry chain: the borrows are the carries out of
 * c mod 2^k + (~r mod 2^k) + 1, and lane T's bit is 1 ^ plane L ^ the carry
 * into plane L of a + b_T + (1 - beta0), a = A 2^e + 2^L + 2^e - 1 (e =
 * k - dmin: per-channel scale, its low bits passing the carry on), b_T =
 * (B + lo - T - 1) 2^e. The chains share their bits below 31 (c and c'
 * agree there): one tree over them (base), one over bits 31..k-1 of c and
 * c' (top, with its group propagate), one per lane over those bits of c
 * and the lane's (with its group propagate), then one level joins each to
 * the base. Bits k..31+E-1 of a shorter channel propagate (a 1, b 0). */
typedef struct {
    int sec;      /* REQS: secret zp, lo, hi, T3 (public Delta: one channel) */
    int two;      /* lo < zp (REQS: always): both floors */
    int nl;       /* lanes */
    int64_t T[4]; /* their thresholds (public ones) */
    uint32_t E;   /* bits above the shared 31: max(kmax - 31, 1) */
    uint32_t nk;  /* planes of the low part: 31 + E, and E more for c' when two */
    int nx;       /* split products per value: 8, 3 more with two floors, 2 more for REQS */
    int levels;   /* the trees' */
} xq_geo;

static void xq_geom(const pop *op, xq_geo *g)
{
    int64_t right = 0;
    g->sec = op->kind == PK_REQS;
    if (g->sec)
        right = (int64_t)op->kshift - 31;
    for (size_t i = 0; !g->sec && i < op->nshift; i++)
        right = -op->shift[i] > right ? -op->shift[i] : right;
    g->E = right > 1 ? (uint32_t)right : 1;
    g->two = g->sec ? !op->relu : op->lo < op->zp;
    g->nl = g->two ? 4 : 2;
    g->nk = 31 + g->E + (g->two ? g->E : 0);
    g->nx = 8 + (g->two ? 3 : 0) + (g->sec ? 2 : 0);
    g->T[0] = op->lo, g->T[1] = op->hi + 1, g->T[2] = op->lo + 1;
    g->T[3] = (op->hi < op->zp ? op->hi : op->zp) + 1;
    g->levels = bits_levels(31);
    int lt = bits_levels(g->E), ll = bits_levels(g->E + op->bound);
    g->levels = lt > g->levels ? lt : g->levels;
    g->levels = ll > g->levels ? ll : g->levels;
}

typedef struct {
    clamp_st c;           /* the open, the parts A, B and the products */
    xq_geo g;
    size_t nw, nwt, nwl;  /* plane words: n, top (n or 2n), lanes (nl n) elements */
    size_t nwa, nd;       /* words of a plane of A' (n, or nl n for REQS), of the dealing */
    word th[4];           /* this party's part of the lanes' T - lo (xq_secret) */
    word *a[2];           /* dealt planes: low (31 + E), c' (E, two), A' (L + 1: one per lane for REQS) */
    word *bk, *bl;        /* parties 1, 2: b of the low part (nk planes), of the lanes (L + 1, nl n) */
    word *gk[2], *gl[2];  /* generate bits: low part, lanes */
    rss_carry base, top, lane;
    word *t[2];           /* lanes: plane L of a ^ b */
    word *z[2];           /* the joining level in flight: top, lanes */
    st *ch;               /* rep3_mode.deal_c: c's planes (cp) and their chain's sides */
} xq_st;

/* plane words of n, top, lane and A' elements; words dealt */
static void xq_words(const pop *op, const xq_geo *g, size_t *nw, size_t *nwt, size_t *nwl, size_t *nwa, size_t *nd)
{
    size_t n = op->n;
    *nw = bits_words(n);
    *nwt = bits_words(g->two ? 2 * n : n);
    *nwl = bits_words((size_t)g->nl * n);
    *nwa = g->sec ? *nwl : *nw;
    *nd = g->nk * *nw + (op->bound + 1) * *nwa;
}

static int xq_steps(const pop *op)
{
    xq_geo g;
    xq_geom(op, &g);
    return g.levels + 5;
}

/* This party's parts of the thresholds T - lo per lane and, for REQS, of
 * its secret parameters (party 0: the sum of its two shares; parties 1 and
 * 2: the share both hold), so that each is party 0's part plus parties 1
 * and 2's; the lanes' constants (the + 1 of hi + 1 and lo + 1) go to
 * parties 1 and 2. T3 = min(hi, max(lo, zp)) is min(hi, zp) when lo < zp
 * and lo otherwise, where lane 3 repeats lane 2 and the correction vanishes. */
static void xq_secret(const pop *op, xq_st *x, int me)
{
    clamp_st *c = &x->c;
    word one = me != 0;
    if (!x->g.sec) {
        for (int l = 0; l < x->g.nl; l++)
            x->th[l] = me == 0 ? 0 : (word)x->g.T[l] - c->lo;
        return;
    }
    word s[4];
    for (size_t j = 0; j < 4; j++) {
        const word *b = op->b + 2 * (op->nb - 4 + j);
        s[j] = me == 0 ? b[0] + b[1] : b[me == 1];
    }
    c->zl = s[0] - s[1], c->lo = s[1], c->D = s[2] - s[1];
    x->th[0] = 0, x->th[1] = c->D + one, x->th[2] = one, x->th[3] = s[3] - s[1] + one;
}

/* party 0's values: the low part, c' (two), A' (per lane for REQS) */
static void xq_values0(const pop *op, xq_st *x, word *low, word *top, word *ap)
{
    clamp_st *c = &x->c;
    uint32_t kk = 31 + x->g.E;
    size_t n = op->n;
    for (size_t i = 0; i < n; i++) {
        int k = c->d[i], e = k - c->dmin;
        word mk = ((word)1 << k) - 1, pad = (((word)1 << kk) - 1) & ~mk, cl = c->c[i] & mk;
        word delta = k > 31 ? (word)1 << 31 : 0;
        low[i] = cl | pad;
        if (x->g.two) {
            top[i] = (((cl - delta) & mk) | pad) >> 31;
            c->rho[i] = cl < delta;
        }
        for (int l = 0; l < (x->g.sec ? x->g.nl : 1); l++)
            ap[(size_t)l * n + i] = ((c->v[i] - x->th[l]) << e) + ((word)1 << op->bound) + (((word)1 << e) - 1);
    }
}

/* parties 1 and 2: b of the low part and of the lanes */
static void xq_values12(const pop *op, xq_st *x, word *low, word *lanes)
{
    clamp_st *c = &x->c;
    size_t n = op->n;
    for (size_t i = 0; i < n; i++) {
        int k = c->d[i], e = k - c->dmin;
        low[i] = ~c->c[i] & (((word)1 << k) - 1);
        for (int l = 0; l < x->g.nl; l++)
            lanes[(size_t)l * n + i] = (c->v[i] - x->th[l] - 1) << e;
    }
}

/* the lanes' planes [0, np) of A' from a dealt share (allocated): one A'
 * repeated per lane, or REQS's own per lane */
static word *xq_lane_a(const xq_st *x, const word *dealt, size_t n, uint32_t np)
{
    const word *a = dealt + x->g.nk * x->nw;
    if (!x->g.sec)
        return planes_dup(a, n, x->g.nl, np);
    word *o = proto_alloc(np * x->nwl * W);
    memcpy(o, a, np * x->nwl * W);
    return o;
}

/* rep3_mode.deal_c (not REQS): party 0 deals c's 64 planes (and c''s E
 * top planes and rho with two floors) instead of the low and A' planes, which
 * every party derives from its shares of them: low plane j is c_j below k
 * and 1 above (a constant: on share 0), A' plane j is c_(j + dmin) from e
 * = k - dmin up and 1 below, plane L flipped (xq_values0's values). */
static int xq_deal_c(const rep3_mode *m, const xq_geo *g) { return m->deal_c && !g->sec; }

static size_t xq_dealt_c(const xq_geo *g, size_t nw) { return (64 + (g->two ? g->E + 1 : 0)) * nw; }

static void xq_from_c(const pop *op, const xq_st *x, const word *cp, word *out, int share0)
{
    const clamp_st *c = &x->c;
    size_t n = op->n, nw = x->nw;
    uint32_t kk = 31 + x->g.E, L = op->bound;
    word one = share0 ? 1 : 0, *ap = out + x->g.nk * nw;
    memset(out, 0, x->nd * W);
    for (size_t i = 0; i < n; i++) {
        int k = c->d[i], e = k - c->dmin;
        for (uint32_t j = 0; j < kk; j++)
            out[j * nw + i / 64] |= ((int)j < k ? bits_get(cp + j * nw, i) : one) << i % 64;
        for (uint32_t j = 0; j <= L; j++)
            ap[j * nw + i / 64] |= (((int)j < e ? one : bits_get(cp + (j + c->dmin) * nw, i)) ^ (j == L ? one : 0)) << i % 64;
    }
    if (x->g.two)
        memcpy(out + kk * nw, cp + 64 * nw, x->g.E * nw * W);
}

/* Round 1: party 0 deals its planes, both generate-bit ANDs */
static void xq_round1_prepare(rep3 *r, pop *op, xq_st *x)
{
    int me = vme(r, op);
    clamp_st *c = &x->c;
    size_t n = op->n, nw = x->nw, nl = (size_t)x->g.nl;
    uint32_t L = op->bound, E = x->g.E, nk = x->g.nk;
    word *dealt = NULL;
    c->v = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++)
        c->v[i] = clamp_part(op, c, me, i);
    if (me == 0) {
        size_t na = x->g.sec ? nl * n : n;
        word *low = proto_alloc(n * W), *top = proto_alloc(n * W), *ap = proto_alloc(na * W);
        c->rho = proto_zalloc(n * W);
        xq_values0(op, x, low, top, ap);
        dealt = proto_zalloc((xq_deal_c(r->mode, &x->g) ? xq_dealt_c(&x->g, nw) : x->nd) * W);
        if (xq_deal_c(r->mode, &x->g)) { /* c's planes, then c''s and rho */
            bits_pack(c->c, 1, n, 64, dealt, nw);
            dealt[0] ^= (word)net_cheat(r->rs.nt, "xq-deal"); /* test builds: consistently wrong planes */
            if (x->g.two) {
                bits_pack(top, 1, n, E, dealt + 64 * nw, nw);
                bits_pack(c->rho, 1, n, 1, dealt + (64 + E) * nw, nw);
                dealt[64 * nw] ^= (word)net_cheat(r->rs.nt, "xq-top");
                dealt[(64 + E) * nw] ^= (word)net_cheat(r->rs.nt, "xq-rho");
            }
        } else {
            bits_pack(low, 1, n, 31 + E, dealt, nw);
            if (x->g.two)
                bits_pack(top, 1, n, E, dealt + (31 + E) * nw, nw);
            bits_pack(ap, 1, na, L + 1, dealt + nk * nw, x->nwa);
        }
        free(low), free(top), free(ap);
    } else {
        word *low = proto_alloc(n * W), *lanes = proto_alloc(nl * n * W);
        xq_values12(op, x, low, lanes);
        x->bk = proto_zalloc(nk * nw * W);
        bits_pack(low, 1, n, 31 + E, x->bk, nw);
        if (x->g.two) /* c' meets the same bits of ~r */
            memcpy(x->bk + (31 + E) * nw, x->bk + 31 * nw, E * nw * W);
        x->bl = proto_alloc((L + 1) * x->nwl * W);
        bits_pack(lanes, 1, nl * n, L + 1, x->bl, x->nwl);
        free(low), free(lanes);
    }
    for (int h = 0; h < 2; h++) {
        x->a[h] = proto_alloc(x->nd * W);
        x->gk[h] = proto_alloc(nk * nw * W);
        x->gl[h] = proto_alloc(L * x->nwl * W);
    }
    if (xq_deal_c(r->mode, &x->g)) {
        st *l = x->ch = proto_zalloc(sizeof(st));
        reqclamp_deal_c(r, op, c, l);
        c->cst = l;
        for (int h = 0; h < 2; h++)
            l->cp[h] = proto_alloc(xq_dealt_c(&x->g, nw) * W);
        rss_share2_prepare(&r->rs, R(op, 0), RSS_BOOL, dealt, xq_dealt_c(&x->g, nw), rss_planes(l->cp[0], l->cp[1]));
        int h = early_share(me);
        if (me != 0)
            xq_from_c(op, x, l->cp[h], x->a[h], (me + h) % 3 == 0);
        l->dl = dealt, dealt = NULL;
    } else {
        rss_share2_prepare(&r->rs, R(op, 0), RSS_BOOL, dealt, x->nd, rss_planes(x->a[0], x->a[1]));
    }
    free(dealt);
    const word *ak = me == 0 ? NULL : x->a[early_share(me)];
    word *akl = me == 0 ? NULL : xq_lane_a(x, ak, n, L);
    rss_andk_prepare(&r->rs, R(op, 0), ak, x->bk, nk * nw, rss_planes(x->gk[0], x->gk[1]));
    rss_andk_prepare(&r->rs, R(op, 0), akl, x->bl, L * x->nwl, rss_planes(x->gl[0], x->gl[1]));
    free(akl);
}

/* planes [from, from + np) of src (n elements) into dst planes (nwd words
 * each) at element offset at */
static void planes_put(word *dst, size_t nwd, size_t at, const word *src, size_t n, uint32_t from, uint32_t np)
{
    size_t nw = bits_words(n);
    for (uint32_t j = 0; j < np; j++)
        bits_put(dst + j * nwd, at, src + (from + j) * nw, n);
}

/* rep3-active, two floors: c''s top planes and rho follow from c's planes
 * (plan §6.1). For an element with k > 31 the borrows d_j = c'_j ^ c_j of
 * c mod 2^k - 2^31 satisfy d_31 = 1 and d_(j+1) = d_j AND NOT c_j below
 * k - 1; rho = d_(k-1) AND NOT c_(k-1) is the borrow out (the padding
 * above k breaks the chain there, so rho cannot be read as d_k), and c'_j
 * = 1 from k up. With k <= 31 (nothing to subtract) c' is all padding and
 * rho = 0. Relation plane j (31..31 + E - 1) is one linear word (d_31 = 1
 * or c'_j = 1, by lane) and one AND word (into d_(j+1), or rho at k - 1),
 * proven by party 0 (prev: party 2 holds P, next: party 1 holds Q). */
void rep3_decrement_masks(const uint8_t *d, size_t n, uint32_t E, uint32_t j, word *m)
{
    size_t nw = bits_words(n);
    word *lin = m, *chn = m + nw, *rho = m + 2 * nw, *pad = m + 3 * nw, *and = m + 4 * nw, *z = m + 5 * nw;
    memset(m, 0, 6 * nw * W);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = d[i];
        word b = (word)1 << i % 64;
        if (k > 31 + E)
            abort(); /* a bug: rho's relation (at k - 1) would lie beyond the planes proven */
        lin[i / 64] |= j >= k || (j == 31 && k > 31) ? b : 0;
        chn[i / 64] |= j + 1 < k ? b : 0;
        rho[i / 64] |= j + 1 == k && k > 31 ? b : 0;
        pad[i / 64] |= j >= k ? b : 0;                  /* lin: c'_j = 1 there, else d_31 = 1 */
        and[i / 64] |= j + 1 <= k && k > 31 ? b : 0;    /* chn or rho */
        z[i / 64] |= k <= 31 ? b : 0;                   /* rho = 0 */
    }
}

void rep3_decrement_words(const word *S, size_t nw, uint32_t j, uint32_t E, const word *m, word one, word *t, word *v)
{
    if (!S)
        return;
    const word *c = S + j * nw, *cq = S + (64 + j - 31) * nw, *rho = S + (64 + E) * nw;
    for (size_t w = 0; w < nw; w++) {
        word d = c[w] ^ cq[w], dn = c[w + nw] ^ cq[w + nw];
        t[w] = cq[w] ^ one ^ (c[w] & m[w] & ~m[3 * nw + w]);
        v[w] = d, v[nw + w] = c[w] ^ one;
        t[nw + w] = (m[nw + w] & dn) ^ (m[2 * nw + w] & rho[w]) ^ (d & v[nw + w]);
    }
}

static void xq_decrement_record(rep3 *r, const pop *op, xq_st *x)
{
    int me = vme(r, op);
    size_t n = op->n, nw = x->nw;
    uint32_t E = x->g.E;
    word *P, *Q;
    chain_pq(x->ch, me, x->ch->cp, n, 64 + E + 1, &P, &Q);
    word *m = proto_alloc(6 * nw * W), *t = proto_zalloc(4 * nw * W), *v = proto_zalloc(4 * nw * W);
    for (uint32_t j = 31; j < 31 + E; j++) {
        rep3_decrement_masks(x->c.d, n, E, j, m);
        rep3_decrement_words(P, nw, j, E, m, ~(word)0, t, v);
        rep3_decrement_words(Q, nw, j, E, m, 0, t + 2 * nw, v + 2 * nw);
        const word *xs[2] = {P ? v : NULL, P ? v + nw : NULL}, *ys[2] = {Q ? v + 3 * nw : NULL, Q ? v + 2 * nw : NULL};
        dzkb_bool(r->rs.pb[R(op, 0)], nw, 0, m, NULL, NULL, P ? t : NULL, Q ? t + 2 * nw : NULL);
        dzkb_bool(r->rs.pb[R(op, 0)], nw, 2, m + 4 * nw, xs, ys, P ? t + nw : NULL, Q ? t + 3 * nw : NULL);
    }
    const word *rp = P ? P + (64 + E) * nw : NULL, *rq = Q ? Q + (64 + E) * nw : NULL;
    dzkb_bool(r->rs.pb[R(op, 0)], nw, 0, m + 5 * nw, NULL, NULL, rp, rq);
    free(P), free(Q), free(m), free(t), free(v);
}

/* After round 1: P = a ^ b, and the three trees' inputs */
static void xq_round1_finish(rep3 *r, pop *op, xq_st *x)
{
    int me = vme(r, op);
    size_t n = op->n, nw = x->nw, nwl = x->nwl;
    uint32_t L = op->bound, E = x->g.E, nk = x->g.nk;
    int nl = x->g.nl;
    if (x->ch) { /* the planes from c's, and c's chain */
        rss_share2_finish(&r->rs, R(op, 0), xq_dealt_c(&x->g, nw), rss_planes(x->ch->cp[0], x->ch->cp[1]));
        for (int h = 0; h < 2; h++)
            xq_from_c(op, x, x->ch->cp[h], x->a[h], (me + h) % 3 == 0);
        ltz_chain_record(r, op, x->ch, x->ch->cp, n, 64);
        if (x->g.two) {
            xq_decrement_record(r, op, x);
            for (int h = 0; h < 2; h++)
                x->c.rsh[h] = x->ch->cp[h] + (64 + E) * nw;
        }
    } else {
        rss_share2_finish(&r->rs, R(op, 0), x->nd, rss_planes(x->a[0], x->a[1]));
    }
    const word *ak[2] = {x->a[0], x->a[1]};
    word *al[2] = {xq_lane_a(x, x->a[0], n, L), xq_lane_a(x, x->a[1], n, L)};
    rss_andk_finish(&r->rs, R(op, 0), ak, x->bk, nk * nw, rss_planes(x->gk[0], x->gk[1]));
    rss_andk_finish(&r->rs, R(op, 0), (const word *const *)al, x->bl, L * nwl, rss_planes(x->gl[0], x->gl[1]));
    free(al[0]), free(al[1]);
    x->base = (rss_carry){.L = 31, .nw = nw};
    x->top = (rss_carry){.L = E, .full = 1, .nw = x->nwt};
    x->lane = (rss_carry){.L = E + L, .full = 1, .nw = nwl};
    for (int h = 0; h < 2; h++) {
        int withb = me != 0 && h == (me == 1); /* b is share 2 */
        word *pk = proto_alloc(nk * nw * W), *pl = xq_lane_a(x, x->a[h], n, L + 1);
        memcpy(pk, x->a[h], nk * nw * W);
        for (size_t q = 0; withb && q < nk * nw; q++)
            pk[q] ^= x->bk[q];
        for (size_t q = 0; withb && q < (L + 1) * nwl; q++)
            pl[q] ^= x->bl[q];
        x->t[h] = proto_alloc(nwl * W);
        memcpy(x->t[h], pl + L * nwl, nwl * W);
        /* base: bits 0..30, with the carry-in 1 folded into bit 0 */
        x->base.g[h] = proto_alloc(31 * nw * W), x->base.p[h] = proto_alloc(31 * nw * W);
        memcpy(x->base.g[h], x->gk[h], 31 * nw * W);
        memcpy(x->base.p[h], pk, 31 * nw * W);
        for (size_t q = 0; q < nw; q++)
            x->base.g[h][q] ^= pk[q];
        /* top: bits 31.. of c (elements 0..n-1) and of c' (n..2n-1) */
        x->top.g[h] = proto_zalloc(E * x->nwt * W), x->top.p[h] = proto_zalloc(E * x->nwt * W);
        planes_put(x->top.g[h], x->nwt, 0, x->gk[h], n, 31, E);
        planes_put(x->top.p[h], x->nwt, 0, pk, n, 31, E);
        if (x->g.two) {
            planes_put(x->top.g[h], x->nwt, n, x->gk[h], n, 31 + E, E);
            planes_put(x->top.p[h], x->nwt, n, pk, n, 31 + E, E);
        }
        /* lanes: bits 31.. of c, then the lane's L bits */
        x->lane.g[h] = proto_zalloc((E + L) * nwl * W), x->lane.p[h] = proto_zalloc((E + L) * nwl * W);
        for (int l = 0; l < nl; l++) {
            planes_put(x->lane.g[h], nwl, (size_t)l * n, x->gk[h], n, 31, E);
            planes_put(x->lane.p[h], nwl, (size_t)l * n, pk, n, 31, E);
        }
        memcpy(x->lane.g[h] + E * nwl, x->gl[h], L * nwl * W);
        memcpy(x->lane.p[h] + E * nwl, pl, L * nwl * W);
        free(pk), free(pl);
        free(x->a[h]), free(x->gk[h]), free(x->gl[h]);
        x->a[h] = x->gk[h] = x->gl[h] = NULL;
    }
    free(x->bk), free(x->bl);
    x->bk = x->bl = NULL;
}

/* the trees, level by level (a shorter tree has finished) */
static void xq_level_prepare(rep3 *r, xq_st *x, int level)
{
    rss_carry *t[3] = {&x->base, &x->top, &x->lane};
    for (int k = 0; k < 3; k++)
        if (level <= bits_levels(t[k]->L))
            rss_carry_prepare(&r->rs, t[k], level);
}

static void xq_level_finish(rep3 *r, xq_st *x, int level)
{
    rss_carry *t[3] = {&x->base, &x->top, &x->lane};
    for (int k = 0; k < 3; k++)
        if (level <= bits_levels(t[k]->L))
            rss_carry_finish(&r->rs, t[k], level);
}

/* The joining level: top and lanes take the base's carry through their
 * group propagate, P AND G_base (one gate each). */
/* Join k (0: top, 1: lanes): P of its tree AND the base carry, copied to
 * its elements (gb allocated) */
static rss_and_gate join_gate(const pop *op, xq_st *x, int k, word *gb[2])
{
    rss_carry *t = k ? &x->lane : &x->top;
    int copies = k ? x->g.nl : x->g.two ? 2 : 1;
    for (int h = 0; h < 2; h++)
        gb[h] = planes_dup(x->base.g[h], op->n, copies, 1);
    return (rss_and_gate){{t->p[0], t->p[1]}, {gb[0], gb[1]}};
}

static void xq_join_prepare(rep3 *r, pop *op, xq_st *x)
{
    for (int k = 0; k < 2; k++) {
        word *gb[2];
        rss_and_gate gate = join_gate(op, x, k, gb);
        size_t nw = k ? x->lane.nw : x->top.nw;
        x->z[k] = proto_alloc(rss_and_words(&r->rs, 1, nw) * W);
        rss_and_prepare(&r->rs, &gate, 1, nw, x->z[k]);
        free(gb[0]), free(gb[1]);
    }
}

/* The carries, then the bits: lanes 1 ^ t ^ carry, beta = 1 ^ carry (the
 * constant 1 goes into share 0: party 0's first, party 2's second). */
static void xq_join_finish(rep3 *r, pop *op, xq_st *x)
{
    int me = vme(r, op);
    clamp_st *c = &x->c;
    rss_carry *t[2] = {&x->top, &x->lane};
    for (int k = 0; k < 2; k++) {
        size_t nw = t[k]->nw;
        word *zn = proto_alloc(nw * W), *gb[2];
        rss_and_gate gate = join_gate(op, x, k, gb);
        rss_and_finish(&r->rs, &gate, x->z[k], 1, nw, rss_planes(x->z[k], zn));
        free(gb[0]), free(gb[1]);
        word *z[2] = {x->z[k], zn};
        for (int h = 0; h < 2; h++) {
            word one = (me == 0 && h == 0) || (me == 2 && h == 1) ? ~(word)0 : 0;
            word *out = proto_alloc(nw * W);
            for (size_t q = 0; q < nw; q++)
                out[q] = t[k]->g[h][q] ^ z[h][q] ^ one ^ (k == 1 ? x->t[h][q] : 0);
            if (k == 0)
                c->beta[h] = out;
            else
                c->lane[h] = out;
        }
        free(zn);
        free(x->z[k]);
        x->z[k] = NULL;
    }
}

static void xq_free(pop *op)
{
    xq_st *x = op->state;
    rss_carry_free(&x->base), rss_carry_free(&x->top), rss_carry_free(&x->lane);
    for (int h = 0; h < 2; h++) {
        free(x->a[h]), free(x->gk[h]), free(x->gl[h]), free(x->t[h]), free(x->c.lane[h]);
        x->c.lane[h] = NULL;
    }
    free(x->bk), free(x->bl), free(x->z[0]), free(x->z[1]);
    st_free(x->ch);
    clamp_free(op); /* x->c is the first member */
}

static void xq_prepare(rep3 *r, pop *op, int step)
{
    xq_st *x = op->state;
    int K;
    if (step == 0) {
        x = proto_zalloc(sizeof *x);
        xq_geom(op, &x->g);
        clamp_init(&x->c, op, x->g.nx);
        x->c.two = x->g.two, x->c.sec = x->g.sec;
        xq_words(op, &x->g, &x->nw, &x->nwt, &x->nwl, &x->nwa, &x->nd);
        xq_secret(op, x, vme(r, op));
        if (!x->g.sec) { /* REQS's input holds m x + off0 already */
            x->c.off = proto_alloc(op->n * W);
            for (size_t i = 0; i < op->n; i++) {
                int64_t m, k, o0, o1;
                proto_exact_consts(op, i, &m, &k, &o0, &o1);
                x->c.off[i] = (word)o0;
            }
        }
        reqclamp_open_prepare(r, op, &x->c);
        return;
    }
    K = x->g.levels;
    if (step == 1)
        xq_round1_prepare(r, op, x);
    else if (step <= K + 1)
        xq_level_prepare(r, x, step - 1);
    else if (step == K + 2)
        xq_join_prepare(r, op, x);
    else if (step == K + 3)
        clamp_products_prepare(r, op, &x->c);
    else
        rss_a2r_send_prepare(&r->rs, R(op, 0), &x->c.pr.d, op->n, rss_words(op->d));
}

static void xq_finish(rep3 *r, pop *op, int step)
{
    xq_st *x = op->state;
    int K = x->g.levels;
    if (step == 0)
        reqclamp_open_finish(r, op, &x->c);
    else if (step == 1)
        xq_round1_finish(r, op, x);
    else if (step <= K + 1)
        xq_level_finish(r, x, step - 1);
    else if (step == K + 2)
        xq_join_finish(r, op, x);
    else if (step == K + 3)
        clamp_products_finish(r, op, &x->c);
    else {
        rss_a2r_send_finish(&r->rs, R(op, 0), &x->c.pr.d, op->n, rss_words(op->d));
        xq_free(op);
    }
}

/* Rounds and bytes exactly as the functions above send them. */
static void xq_cost(const rep3_mode *m, const pop *op, proto_cost *acc)
{
    xq_geo g;
    xq_geom(op, &g);
    size_t n = op->n, nw, nwt, nwl, nwa, nd;
    xq_words(op, &g, &nw, &nwt, &nwl, &nwa, &nd);
    uint32_t L = op->bound;
    acc->bytes[R(op, 1)] += n * W; /* the open */
    acc->bytes[R(op, 2)] += lazy(m, op) ? n * W : 0;
    acc->opened += n;
    rss_share2_cost(R(op, 0), xq_deal_c(m, &g) ? xq_dealt_c(&g, nw) : nd, acc);
    rss_andk_cost(R(op, 0), g.nk * nw, acc);
    rss_andk_cost(R(op, 0), L * nwl, acc);
    rss_carry_cost(31, 0, nw, acc);
    rss_carry_cost(g.E, 1, nwt, acc);
    rss_carry_cost(g.E + L, 1, nwl, acc);
    rss_and_cost(1, nwt, acc);
    rss_and_cost(1, nwl, acc);
    rss_split_cost(R(op, 0), (size_t)g.nx * n, acc);
    acc->rounds = 3 + (uint64_t)g.levels + rss_a2r_cost(R(op, 0), n, acc); /* open, deal, trees, join, products */
}

/* ------------------------------------------------------------ dispatch */

/* Exact REQCLAMP, and REQS with one channel (its Delta public) and room
 * for the comparisons beside the dropped bits, run fused (xq_*); a fast
 * REQS too, exactly (TFLite's value is one that fast rounding allows, and
 * the fused method costs less than the fast composition). */
static int xq_fused(const pop *op)
{
    int64_t delta;
    if (op->kind == PK_REQS)
        return proto_reqs_public_delta(op, &delta) && op->bound + op->kshift <= 63;
    return op->kind == PK_EXACT && op->of == PK_REQCLAMP;
}

/* LUT: the lookup (rss_lut) where its busiest party sends fewer bytes than
 * the step sum's (proto_lut_*, over the table's change points); never
 * with rep3_mode.no_ot, the lookup being a three-party OT */
static int lut_native(const rep3_mode *m, const pop *op)
{
    if (m->no_ot)
        return 0;
    proto_cost sum, ot;
    memset(&sum, 0, sizeof sum);
    memset(&ot, 0, sizeof ot);
    proto_lut_cost(m->self, op, 3, &sum);
    rss_lut_cost(0, op->n, &ot);
    uint64_t most = 0;
    for (int k = 0; k < 3; k++)
        most = sum.bytes[k] > most ? sum.bytes[k] : most;
    return ot.bytes[0] < most;
}

static void lut_prepare(rep3 *r, pop *op, int step)
{
    rss_lut *l = proto_state(op, sizeof(rss_lut));
    rss_lut_prepare(&r->rs, l, step, R(op, 0), op->table, op->lo, op->a, op->n, rss_words(op->d));
}

static void lut_finish(rep3 *r, pop *op, int step)
{
    rss_lut *l = op->state;
    rss_lut_finish(&r->rs, l, step, R(op, 0), op->a, op->n, rss_words(op->d));
    if (step == 1) {
        rss_lut_free(l);
        free(l);
        op->state = NULL;
    }
}

int rep3_steps(const rep3_mode *m, const pop *op)
{
    switch (op->kind) {
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: return 2 + m->no_ot;
    case PK_REQS:
    case PK_EXACT: return xq_fused(op) ? xq_steps(op) : proto_exact_steps(m->self, op);
    case PK_LTZ: return bits_levels(op->bound) + 2 + m->no_ot;
    case PK_LUT: return lut_native(m, op) ? 2 : proto_lut_steps(m->self, op);
    case PK_CLAMP: return bits_levels(op->bound) + 3;
    case PK_REQCLAMP: return bits_levels(op->bound) + 4;
    case PK_INPUT:
    case PK_OUTPUT:
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: return 1;
    }
    return 1;
}

int rep3_prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    rep3 *r = ps;
    r->comm |= !((op->kind == PK_CONV2D || op->kind == PK_DWCONV2D) && lazy(r->mode, op));
    switch (op->kind) {
    case PK_REQS:
    case PK_EXACT:
        if (!xq_fused(op))
            return proto_exact_prepare(r->mode->self, ps, op, step, err, errlen);
        xq_prepare(r, op, step);
        break;
    case PK_INPUT: input_prepare(r, op); break;
    case PK_OUTPUT: rss_open_prepare(&r->rs, op->owner, op->a, op->n); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_prepare(r, op); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_prepare(r, op, step); break;
    case PK_CLAMP:
    case PK_REQCLAMP: clamp_prepare(r, op, step); break;
    case PK_LTZ: ltz_prepare(r, op, step); break;
    case PK_LUT:
        if (!lut_native(r->mode, op))
            return proto_lut_prepare(r->mode->self, ps, op, step, err, errlen);
        lut_prepare(r, op, step);
        break;
    }
    return 0;
}

int rep3_exchange(void *ps, char *err, size_t errlen)
{
    rep3 *r = ps;
    if (!r->comm) /* a block of lazy convolutions: every party knows it */
        return 0;
    r->comm = 0;
    return net_round(r->rs.nt, err, errlen);
}

int rep3_finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3 *r = ps;
    (void)err;
    (void)errlen;
    switch (op->kind) {
    case PK_REQS:
    case PK_EXACT:
        if (!xq_fused(op))
            return proto_exact_finish(r->mode->self, ps, op, step, err, errlen);
        xq_finish(r, op, step);
        break;
    case PK_INPUT: input_finish(r, op); break;
    case PK_OUTPUT: rss_open_finish(&r->rs, op->owner, op->a, op->out, op->n); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D:
        if (((st *)op->state)->f[0])
            mul_finish_proven(r, op, op->state);
        else if (!lazy(r->mode, op))
            rss_reshare_finish(&r->rs, ((st *)op->state)->z, op->n, rss_words(op->d));
        state_free(op);
        break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_finish(r, op, step); break;
    case PK_CLAMP:
    case PK_REQCLAMP: clamp_finish(r, op, step); break;
    case PK_LTZ: ltz_finish(r, op, step); break;
    case PK_LUT:
        if (!lut_native(r->mode, op))
            return proto_lut_finish(r->mode->self, ps, op, step, err, errlen);
        lut_finish(r, op, step);
        break;
    }
    return 0;
}

/* An LTZ of n elements up to the carry: a's planes (np of them: L + 1, or
 * c's 64) dealt and the AND of the generate bits in one round, then the
 * tree; a has n / dup values. */
static uint64_t ltz_tree_cost(const pop *op, size_t n, int dup, uint32_t np, proto_cost *acc)
{
    uint32_t L = op->bound;
    size_t nw = bits_words(n);
    uint64_t rounds = rss_share2_cost(R(op, 0), np * bits_words(n / (size_t)dup), acc);
    rss_andk_cost(R(op, 0), L * nw, acc); /* the same round */
    return rounds + rss_carry_cost(L, 0, nw, acc);
}

/* The last stage of TRUNC and LTZ: the OT from s, or s's split of nx
 * values per element and a2r (rep3_mode.no_ot) */
static uint64_t inject_cost(const rep3_mode *m, int s, size_t nx, size_t n, proto_cost *acc)
{
    if (!m->no_ot)
        return rss_ot_cost(s, n, acc);
    rss_split_cost(s, nx * n, acc); /* a2r's first round */
    return rss_a2r_cost(s, n, acc);
}

/* Rounds and bytes exactly as the functions above send them. */
void rep3_cost(const rep3_mode *m, const pop *op, proto_cost *acc)
{
    size_t n = op->n;
    switch (op->kind) {
    case PK_REQS:
    case PK_EXACT:
        if (xq_fused(op))
            xq_cost(m, op, acc);
        else
            proto_exact_cost(m->self, op, 3, acc);
        break;
    case PK_INPUT:
        acc->rounds = rss_share_cost(op->owner % 3, n, acc);
        if (m->typed_input) { /* the bits of x - lo to o+1 */
            int64_t lo;
            uint32_t b;
            input_range(op, &lo, &b);
            acc->bytes[op->owner % 3] += b * bits_words(n) * W;
        }
        break;
    case PK_OUTPUT:
        acc->rounds = rss_open_cost(op->owner % 3, n, acc);
        acc->opened += n;
        break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: acc->rounds = lazy(m, op) ? 0 : rss_reshare_cost(n, acc); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: /* x1 + r to party 2, then the OT or split + a2r (and c's bits) */
        acc->bytes[R(op, 0)] += n * W;
        acc->bytes[R(op, 2)] += m->no_ot ? 64 * bits_words(n) * W : 0;
        acc->rounds = 1 + inject_cost(m, R(op, 2), 2, n, acc);
        acc->opened += n;
        break;
    case PK_LTZ: acc->rounds = ltz_tree_cost(op, n, 1, op->bound + 1, acc) + inject_cost(m, R(op, 0), 1, n, acc); break;
    case PK_LUT:
        if (!lut_native(m, op)) {
            proto_lut_cost(m->self, op, 3, acc);
            break;
        }
        acc->rounds = rss_lut_cost(R(op, 0), n, acc);
        acc->opened += n; /* x + r mod 256 */
        break;
    case PK_CLAMP: /* the tree over 2n, the products (split and a2r) */
    case PK_REQCLAMP: {
        int rq = op->kind == PK_REQCLAMP; /* and the open */
        acc->rounds = ltz_tree_cost(op, 2 * n, 2, rq && m->deal_c ? 64 : op->bound + 1, acc);
        rss_split_cost(R(op, 0), (rq ? 6 : 4) * n, acc); /* a2r's first round */
        acc->rounds += rss_a2r_cost(R(op, 0), n, acc) + (uint64_t)rq;
        acc->bytes[R(op, 1)] += rq ? n * W : 0;
        acc->bytes[R(op, 2)] += rq && lazy(m, op) ? n * W : 0;
        acc->opened += rq ? n : 0;
        break;
    }
    }
}
