/* proto_rep3f: three parties, passive security with an honest majority:
 * replicated secret sharing over F_p, p = 2^127 - 1 (the paper's
 * replicated-field; docs/protocols.md "rep3-field").
 *
 * An element is this party's two shares (x_me, x_{me+1}), four words:
 * x_me.lo, x_me.hi, x_{me+1}.lo, x_{me+1}.hi. Linear operations, products
 * and convolutions are rep3's over F_p (fp127.h, kernels.h). A truncation
 * opens m x + 2^62 + r to one party, r < 2^126 known to the other two
 * (Catrina-Saxena: no wrap modulo p, so no OT). A comparison (LTZ, and
 * CLAMP, REQCLAMP and the fused exact REQCLAMP whose results span at most
 * 2^23 values) converts its operand to rep3's sharing over Z_2^64 by such
 * an opening (2 rounds), runs rep3's own operation on it (rep3_ops.c, as
 * it is) and converts its result back (2 rounds). Wider clamps compose
 * this protocol's LTZ and MUL (protocols.c), exact REQUANT and DIVR its
 * TRUNC, LTZ and MUL (exact.c). The program must fit the field
 * (fit_bits: every value inside (-2^63, 2^63), qnnc --field), which keeps
 * every opening statistically hiding: within 2^-62 of its mask per value,
 * 2^(w - 63) for a comparison's result of w bits (w <= 23). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/core/fp127.h"
#include "runtime/core/kernels.h"
#include "runtime/net/net.h"
#include "runtime/proto/proto.h"
#include "runtime/proto/rep3_ops.h"
#include "runtime/proto/rss.h"

#define W sizeof(word)
enum {
    FW = 4,               /* words an element */
    NARROW_BITS = 23  /* values below 2^23 a 63-bit mask hides within 2^-40: sent as words */
};

extern const protocol proto_rep3, proto_rep3f;
/* the comparisons' own operations: rep3's, with every convolution reshared
 * (this protocol leaves no unfinished sum) */
static const rep3_mode ring = {&proto_rep3, 0, 0, 1, 0};

static const fp127 ZERO = {0, 0};

static fp127 sh(const word *d, size_t i, int h) { return (fp127){d[FW * i + 2 * h], d[FW * i + 2 * h + 1]}; }

static void set(word *d, size_t i, fp127 own, fp127 next)
{
    d[FW * i] = own.lo, d[FW * i + 1] = own.hi, d[FW * i + 2] = next.lo, d[FW * i + 3] = next.hi;
}

static void *fe_alloc(size_t n) { return proto_alloc(n * sizeof(fp127)); }

/* ------------------------------------------------------- local, linear */

static void add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb)
    set(d, i, fp127_add(sh(a, i, 0), sh(b, j, 0)), fp127_add(sh(a, i, 1), sh(b, j, 1)));
}

static void sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb)
    set(d, i, fp127_sub(sh(a, i, 0), sh(b, j, 0)), fp127_sub(sh(a, i, 1), sh(b, j, 1)));
}

/* A public c is the sharing (c, 0, 0): party 0's first share, party 2's second. */
static void addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    int me = ((rep3 *)ps)->rs.me;
    PERIODIC_LOOP(n, nc)
    {
        fp127 k = fp127_from_i64(c[j]);
        set(d, i, me == 0 ? fp127_add(sh(a, i, 0), k) : sh(a, i, 0), me == 2 ? fp127_add(sh(a, i, 1), k) : sh(a, i, 1));
    }
}

static void mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    (void)ps;
    PERIODIC_LOOP(n, nc)
    set(d, i, fp127_mul_i64(sh(a, i, 0), c[j]), fp127_mul_i64(sh(a, i, 1), c[j]));
}

static void fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc)
{
    int me = ((rep3 *)ps)->rs.me;
    PERIODIC_LOOP(n, nc)
    set(d, i, me == 0 ? fp127_from_i64(c[j]) : ZERO, me == 2 ? fp127_from_i64(c[j]) : ZERO);
}

/* ------------------------------------------------ streams and messages */

/* n uniform elements of stream S[k], two words each */
static void draw_fe(rep3 *r, int k, fp127 *out, size_t n)
{
    word *w = proto_alloc(2 * n * W);
    rss_draw(&r->rs, k, w, 2 * n);
    for (size_t i = 0; i < n; i++)
        out[i] = fp127_random_words(w[2 * i], w[2 * i + 1]);
    free(w);
}

/* n masks uniform in [0, 2^126) of stream S[k], as integers (below p) */
static void draw_mask(rep3 *r, int k, fp127 *out, size_t n)
{
    word *w = proto_alloc(2 * n * W);
    rss_draw(&r->rs, k, w, 2 * n);
    for (size_t i = 0; i < n; i++)
        out[i] = (fp127){w[2 * i], w[2 * i + 1] >> 2};
    free(w);
}

static void fe_send(rep3 *r, const char *kind, int to, const fp127 *v, size_t n)
{
    uint8_t *out = net_out(r->rs.nt, to, n * FP127_BYTES);
    for (size_t i = 0; i < n; i++)
        fp127_to_bytes(out + i * FP127_BYTES, v[i]);
    if (n && net_cheat(r->rs.nt, kind))
        out[0] ^= 1;
}

static void fe_expect(rep3 *r, int from, size_t n) { net_expect(r->rs.nt, from, n * FP127_BYTES); }

/* what fe_expect announced, each element checked below p */
static int fe_recv(rep3 *r, int from, fp127 *v, size_t n, char *err, size_t errlen)
{
    const uint8_t *in = net_in(r->rs.nt, from, n * FP127_BYTES);
    for (size_t i = 0; i < n; i++)
        if (fp127_from_bytes(&v[i], in + i * FP127_BYTES) != 0) {
            snprintf(err, errlen, "rep3-field: malformed field element from party %d (element %zu is not below p)",
                     from, i);
            return -1;
        }
    return 0;
}

/* ------------------------------------------------------ communication */

typedef struct {
    fp127 *z, *m, *y; /* products: z_me; openings: the masks, then the opened or result parts */
    fp127 *u, *v, *w; /* join: F(S[role 1]), F(S[role 2]), what this role sent */
    uint8_t *d;       /* truncation shifts */
    word *c;          /* a conversion's opened values, mod 2^64 */
    pop in;           /* a comparison: rep3's operation on the converted operand */
    word *ra, *rd;    /* its operand and result, rep3's two words an element */
} fst;

static fst *state(pop *op) { return proto_state(op, sizeof(fst)); }

static void state_free(pop *op)
{
    fst *s = op->state;
    free(s->z), free(s->m), free(s->y), free(s->u), free(s->v), free(s->w);
    free(s->d), free(s->c), free(s->ra), free(s->rd);
    free(s);
    op->state = NULL;
}

/* ---- input and output ----
 * INPUT from o: x_o = F(S[o]) (o and o+2 draw it), x_{o+1} = x - x_o sent to
 * o+1 (masked by x_o, which o+1 lacks), x_{o+2} = 0. A narrow dtype (x - lo
 * below 2^23) goes as a word: x_o = -r with r < 2^63 from S[o], o sends
 * x - lo + r (within 2^-40 of r) and o+1 adds lo. OUTPUT to rc: party rc+1
 * sends x_{rc+2}, rc's missing share. */

static int narrow_input(const pop *op) { return op->bound <= NARROW_BITS; }

/* n masks uniform in [0, 2^63) of stream S[k] */
static word *draw_narrow(rep3 *r, int k, size_t n)
{
    word *w = proto_alloc(n * W);
    rss_draw(&r->rs, k, w, n);
    for (size_t i = 0; i < n; i++)
        w[i] >>= 1;
    return w;
}

static void input_narrow_prepare(rep3 *r, pop *op)
{
    int me = r->rs.me, o = op->owner;
    size_t n = op->n;
    if (me == rss_next(o)) {
        rss_expect(&r->rs, o, n);
        return;
    }
    word *m = draw_narrow(r, o, n);
    for (size_t i = 0; i < n; i++) {
        fp127 x0 = fp127_neg((fp127){m[i], 0});
        if (me == o)
            m[i] += (word)op->in[i] - (word)op->lo;
        set(op->d, i, me == o ? x0 : ZERO, me == o ? fp127_add((fp127){m[i], 0}, fp127_from_i64(op->lo)) : x0);
    }
    if (me == o)
        rss_send(&r->rs, "input", rss_next(o), m, n);
    free(m);
}

static void input_prepare(rep3 *r, pop *op)
{
    int me = r->rs.me, o = op->owner;
    size_t n = op->n;
    if (narrow_input(op)) {
        input_narrow_prepare(r, op);
        return;
    }
    fp127 *x0 = NULL;
    if (me != rss_next(o)) {
        x0 = fe_alloc(n);
        draw_fe(r, o, x0, n);
    }
    if (me == o) {
        fp127 *x1 = fe_alloc(n);
        for (size_t i = 0; i < n; i++) {
            x1[i] = fp127_sub(fp127_from_i64(op->in[i]), x0[i]);
            set(op->d, i, x0[i], x1[i]);
        }
        fe_send(r, "input", rss_next(o), x1, n);
        free(x1);
    } else if (me == rss_next(o)) {
        fe_expect(r, o, n);
    } else {
        for (size_t i = 0; i < n; i++)
            set(op->d, i, ZERO, x0[i]);
    }
    free(x0);
}

static int input_finish(rep3 *r, pop *op, char *err, size_t errlen)
{
    if (r->rs.me != rss_next(op->owner))
        return 0;
    if (narrow_input(op)) {
        word *m = proto_alloc(op->n * W);
        rss_recv(&r->rs, op->owner, m, 1, op->n);
        for (size_t i = 0; i < op->n; i++)
            set(op->d, i, fp127_add((fp127){m[i], 0}, fp127_from_i64(op->lo)), ZERO);
        free(m);
        return 0;
    }
    fp127 *x1 = fe_alloc(op->n);
    int rc = fe_recv(r, op->owner, x1, op->n, err, errlen);
    for (size_t i = 0; rc == 0 && i < op->n; i++)
        set(op->d, i, x1[i], ZERO);
    free(x1);
    return rc;
}

static void output_prepare(rep3 *r, pop *op)
{
    int rc = op->owner;
    if (r->rs.me == rss_next(rc)) {
        fp127 *x = fe_alloc(op->n);
        for (size_t i = 0; i < op->n; i++)
            x[i] = sh(op->a, i, 1);
        fe_send(r, "out-share", rc, x, op->n);
        free(x);
    } else if (r->rs.me == rc) {
        fe_expect(r, rss_next(rc), op->n);
    }
}

static int output_finish(rep3 *r, pop *op, char *err, size_t errlen)
{
    if (r->rs.me != op->owner)
        return 0;
    fp127 *x = fe_alloc(op->n);
    int rc = fe_recv(r, rss_next(op->owner), x, op->n, err, errlen);
    for (size_t i = 0; rc == 0 && i < op->n; i++)
        if (fp127_to_i64(fp127_add(fp127_add(sh(op->a, i, 0), sh(op->a, i, 1)), x[i]), &op->out[i]) != 0) {
            snprintf(err, errlen, "rep3-field: output element %zu is not an int64 (a party deviated, or the "
                     "program does not fit the field: qnnc --field)", i);
            rc = -1;
        }
    free(x);
    return rc;
}

/* ---- products: z_me = x_me y_me + x_me y_{me+1} + x_{me+1} y_me plus a
 * zero share F(S[me]) - F(S[me+1]), sent to me-1 (masked by F(S[me+1]),
 * which me-1 lacks); me then holds (z_me, z_{me+1}). ---- */

/* this party's n shares of side h (0: x_me, 1: x_{me+1}) of d */
static fp127 *side(const word *d, size_t n, int h)
{
    fp127 *v = fe_alloc(n);
    for (size_t i = 0; i < n; i++)
        v[i] = sh(d, i, h);
    return v;
}

static int all_zero(const fp127 *v, size_t n)
{
    uint64_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= v[i].lo | v[i].hi;
    return any == 0;
}

/* z += conv(a0, b0 + b1) + conv(a1, b0): one convolution where a share of
 * the filters is 0, as an input's x_{o+2} is (a model's filters are the
 * owner's input): conv(a0 + a1, b0), or conv(a0, b1) */
static void conv_terms(const pop *op, fp127 *z)
{
    size_t n = op->n;
    fp127 *a0 = side(op->a, op->na, 0), *a1 = side(op->a, op->na, 1), *b0 = side(op->b, op->nb, 0),
          *b1 = side(op->b, op->nb, 1), *t = fe_alloc(n);
    void (*k)(fp127 *, const fp127 *, const fp127 *, const geom *, uint32_t) =
        op->kind == PK_CONV2D ? kern_conv2d_fp : kern_dwconv2d_fp;
    if (all_zero(b1, op->nb)) {
        for (size_t i = 0; i < op->na; i++)
            a0[i] = fp127_add(a0[i], a1[i]);
        k(t, a0, b0, &op->g, op->channels);
    } else if (all_zero(b0, op->nb)) {
        k(t, a0, b1, &op->g, op->channels);
    } else {
        for (size_t i = 0; i < op->nb; i++)
            b1[i] = fp127_add(b1[i], b0[i]);
        k(t, a0, b1, &op->g, op->channels);
        for (size_t i = 0; i < n; i++)
            z[i] = fp127_add(z[i], t[i]);
        k(t, a1, b0, &op->g, op->channels);
    }
    for (size_t i = 0; i < n; i++)
        z[i] = fp127_add(z[i], t[i]);
    free(a0), free(a1), free(b0), free(b1), free(t);
}

static void mul_prepare(rep3 *r, pop *op)
{
    size_t n = op->n;
    fst *s = state(op);
    fp127 *f = fe_alloc(n);
    s->z = fe_alloc(n);
    draw_fe(r, r->rs.me, s->z, n);
    draw_fe(r, rss_next(r->rs.me), f, n);
    for (size_t i = 0; i < n; i++)
        s->z[i] = fp127_sub(s->z[i], f[i]);
    free(f);
    if (op->kind == PK_MUL) {
        PERIODIC_LOOP(n, op->nb)
        {
            fp127 a0 = sh(op->a, i, 0), b0 = sh(op->b, j, 0);
            fp127 t = fp127_add(fp127_mul(a0, fp127_add(b0, sh(op->b, j, 1))), fp127_mul(sh(op->a, i, 1), b0));
            s->z[i] = fp127_add(s->z[i], t);
        }
    } else {
        conv_terms(op, s->z);
    }
    fe_send(r, op->kind == PK_MUL ? "mul" : "conv", rss_prev(r->rs.me), s->z, n);
    fe_expect(r, rss_next(r->rs.me), n);
}

static int mul_finish(rep3 *r, pop *op, char *err, size_t errlen)
{
    fst *s = op->state;
    fp127 *y = fe_alloc(op->n);
    int rc = fe_recv(r, rss_next(r->rs.me), y, op->n, err, errlen);
    for (size_t i = 0; rc == 0 && i < op->n; i++)
        set(op->d, i, s->z[i], y[i]);
    free(y);
    state_free(op);
    return rc;
}

/* ---- the last round of an opening: the sharing of y = P + Q, P known to
 * role 0 and Q to roles 1 and 2 (n values). u = F(S[role 1]) (roles 0, 1)
 * and v = F(S[role 2]) (roles 1, 2) are two of the shares; role 0 sends
 * P - u to role 2 (masked by u) and role 2 sends Q - v to role 0 (masked by
 * v), and both hold the third, P - u + Q - v. Every share is uniform. 1
 * round. pq is P at role 0, Q at role 2, NULL at role 1 (taken). ---- */

static void join_prepare(rep3 *r, pop *op, fst *s, int v, fp127 *pq)
{
    size_t n = op->n;
    if (v != 2) {
        s->u = fe_alloc(n);
        draw_fe(r, rep3_party(op, 1), s->u, n);
    }
    if (v != 0) {
        s->v = fe_alloc(n);
        draw_fe(r, rep3_party(op, 2), s->v, n);
    }
    if (v == 1)
        return;
    int to = rep3_party(op, v == 0 ? 2 : 0);
    for (size_t i = 0; i < n; i++)
        pq[i] = fp127_sub(pq[i], v == 0 ? s->u[i] : s->v[i]);
    fe_send(r, v == 0 ? "join-p" : "join-q", to, pq, n);
    fe_expect(r, to, n);
    s->w = pq;
}

static int join_finish(rep3 *r, pop *op, fst *s, int v, char *err, size_t errlen)
{
    size_t n = op->n;
    if (v != 1) {
        fp127 *t = fe_alloc(n);
        if (fe_recv(r, rep3_party(op, v == 0 ? 2 : 0), t, n, err, errlen) != 0) {
            free(t);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            s->w[i] = fp127_add(s->w[i], t[i]);
        free(t);
    }
    for (size_t i = 0; i < n; i++)
        set(op->d, i, v == 0 ? s->w[i] : v == 1 ? s->u[i] : s->v[i], v == 0 ? s->u[i] : v == 1 ? s->v[i] : s->w[i]);
    return 0;
}

/* ---- truncation (REQUANT, DIVR, TRUNC): y = floor(t / 2^d) or one more
 * with probability (t mod 2^d) / 2^d, t = m x, |t| < 2^62 (Catrina-Saxena).
 * Roles 1 and 2 draw r < 2^126 from S[role 2]; role 1 sends m x_2 + 2^62 +
 * r to role 0, which learns c = V + r, V = t + 2^62 in [0, 2^63): below p,
 * so the integer. With C = floor(c / 2^d), R = floor(r / 2^d):
 * y = C - R - 2^(62-d) (the carry of the low bits is the rounding), joined
 * from P = C and Q = -R - 2^(62-d). 2 rounds. ---- */

static fp127 pow2(int k) { return k < 64 ? (fp127){(word)1 << k, 0} : (fp127){0, (word)1 << (k - 64)}; }

/* m x_h of element i with the multiplier and shift of i (into d[i]) */
static fp127 scaled(const pop *op, size_t i, int h, uint8_t *d)
{
    return fp127_mul_i64(sh(op->a, i, h), (int64_t)proto_trunc_mult(op, i, d));
}

static void trunc_prepare(rep3 *r, pop *op, int step)
{
    int v = rep3_role(r->rs.me, op);
    size_t n = op->n;
    fst *s = state(op);
    if (step == 0) {
        s->d = proto_alloc(n ? n : 1);
        proto_trunc_shifts(op, s->d, NULL);
        if (v != 0) {
            s->m = fe_alloc(n);
            draw_mask(r, rep3_party(op, 2), s->m, n);
        }
        if (v == 1) {
            fp127 *x = fe_alloc(n);
            for (size_t i = 0; i < n; i++)
                x[i] = fp127_add(fp127_add(scaled(op, i, 1, &s->d[i]), pow2(62)), s->m[i]);
            fe_send(r, "trunc-open", rep3_party(op, 0), x, n);
            free(x);
        } else if (v == 0) {
            fe_expect(r, rep3_party(op, 1), n);
        }
        return;
    }
    fp127 *pq = NULL;
    if (v == 0) {
        pq = s->y, s->y = NULL;
    } else if (v == 2) {
        pq = fe_alloc(n);
        for (size_t i = 0; i < n; i++)
            pq[i] = fp127_neg(fp127_add(fp127_of(fp127_u(s->m[i]) >> s->d[i]), pow2(62 - s->d[i])));
    }
    join_prepare(r, op, s, v, pq);
}

static int trunc_finish(rep3 *r, pop *op, int step, char *err, size_t errlen)
{
    int v = rep3_role(r->rs.me, op);
    size_t n = op->n;
    fst *s = op->state;
    if (step == 0) {
        if (v != 0)
            return 0;
        s->y = fe_alloc(n);
        if (fe_recv(r, rep3_party(op, 1), s->y, n, err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < n; i++) { /* C = floor(c / 2^d), c the integer below p */
            fp127 c = fp127_add(fp127_add(scaled(op, i, 0, &s->d[i]), scaled(op, i, 1, &s->d[i])), s->y[i]);
            s->y[i] = fp127_of(fp127_u(c) >> s->d[i]);
        }
        return 0;
    }
    int rc = join_finish(r, op, s, v, err, errlen);
    state_free(op);
    return rc;
}

/* ---- comparisons through rep3 over Z_2^64 ----
 * Step 0 converts the na values of a (|a| < 2^63): roles 1 and 2 draw r <
 * 2^126 from S[role 2], role 1 sends a_2 + 2^63 + r to role 0, which learns
 * the integer c = a + 2^63 + r (< p, within 2^-62 of r's law). In Z_2^64,
 * a = c + (-2^63 - r): role 0 holds c as x_0 + x_1 and roles 1 and 2 hold
 * x_2 = -2^63 - r, all that rep3's passive comparisons read of their
 * operand (rep3_ops.h); the other shares are 0. Then rep3's operation,
 * steps 1 .. k. Steps k+1, k+2 convert its result y, lo <= y < lo + 2^w
 * (w <= 23), back: roles 1 and 2 draw r' < 2^63 from S[role 2], role 1
 * sends y_2 + r' mod 2^64 to role 0, which learns c' = y - lo + r' (no wrap
 * below 2^64; within 2^(w-63) of r'), and y = P + Q is joined from
 * P = c' + lo and Q = -r'. */

/* the result's least value and width in bits */
static void result_range(const pop *op, int64_t *lo, uint32_t *w)
{
    *lo = op->kind == PK_LTZ ? 0 : op->lo;
    *w = op->kind == PK_LTZ ? 1 : bits_len((uint64_t)(op->hi - op->lo));
}

/* whether op runs as rep3's between two conversions; the clamps whose
 * results a conversion's mask would not hide compose instead */
static int converted(const pop *op)
{
    int64_t lo;
    uint32_t w;
    result_range(op, &lo, &w);
    return op->kind == PK_LTZ || ((op->kind == PK_CLAMP || op->kind == PK_REQCLAMP ||
                                   (op->kind == PK_EXACT && op->of == PK_REQCLAMP)) && w <= NARROW_BITS);
}

static int inner_steps(const pop *op) { return rep3_steps(&ring, op); }

static void to_ring_prepare(rep3 *r, pop *op)
{
    int v = rep3_role(r->rs.me, op);
    size_t na = op->na;
    fst *s = state(op);
    if (v != 0) {
        s->m = fe_alloc(na);
        draw_mask(r, rep3_party(op, 2), s->m, na);
    }
    if (v == 1) {
        fp127 *m = fe_alloc(na);
        for (size_t i = 0; i < na; i++)
            m[i] = fp127_add(fp127_add(sh(op->a, i, 1), pow2(63)), s->m[i]);
        fe_send(r, "f2r-open", rep3_party(op, 0), m, na);
        free(m);
    } else if (v == 0) {
        fe_expect(r, rep3_party(op, 1), na);
    }
}

static int to_ring_finish(rep3 *r, pop *op, char *err, size_t errlen)
{
    int v = rep3_role(r->rs.me, op);
    size_t na = op->na;
    fst *s = op->state;
    s->ra = proto_zalloc(2 * na * W);
    if (v == 0) {
        fp127 *x = fe_alloc(na);
        if (fe_recv(r, rep3_party(op, 1), x, na, err, errlen) != 0) {
            free(x);
            return -1;
        }
        for (size_t i = 0; i < na; i++)
            s->ra[2 * i] = fp127_add(fp127_add(sh(op->a, i, 0), sh(op->a, i, 1)), x[i]).lo;
        free(x);
    } else { /* x_2: role 1's second share, role 2's first */
        for (size_t i = 0; i < na; i++)
            s->ra[2 * i + (v == 1)] = (word)0 - ((word)1 << 63) - s->m[i].lo;
    }
    free(s->m);
    s->m = NULL;
    s->rd = proto_alloc(2 * op->n * W);
    s->in = *op;
    s->in.a = s->ra, s->in.d = s->rd, s->in.state = NULL, s->in.lazy = 0;
    return 0;
}

static void from_ring_prepare(rep3 *r, pop *op, int step)
{
    int v = rep3_role(r->rs.me, op);
    size_t n = op->n;
    fst *s = op->state;
    if (step == 0) {
        if (v != 0) {
            word *m = draw_narrow(r, rep3_party(op, 2), n);
            s->m = fe_alloc(n);
            for (size_t i = 0; i < n; i++)
                s->m[i] = (fp127){m[i], 0};
            free(m);
        }
        if (v == 1) {
            word *x = proto_alloc(n * W);
            for (size_t i = 0; i < n; i++)
                x[i] = s->rd[2 * i + 1] + s->m[i].lo;
            rss_send(&r->rs, "r2f-open", rep3_party(op, 0), x, n);
            free(x);
        } else if (v == 0) {
            rss_expect(&r->rs, rep3_party(op, 1), n);
        }
        return;
    }
    fp127 *pq = v == 1 ? NULL : fe_alloc(n);
    if (v == 0) {
        int64_t lo;
        uint32_t w;
        result_range(op, &lo, &w);
        for (size_t i = 0; i < n; i++)
            pq[i] = fp127_add(fp127_of(s->c[i]), fp127_from_i64(lo));
    } else if (v == 2) {
        for (size_t i = 0; i < n; i++)
            pq[i] = fp127_neg(s->m[i]);
    }
    join_prepare(r, op, s, v, pq);
}

static int from_ring_finish(rep3 *r, pop *op, int step, char *err, size_t errlen)
{
    int v = rep3_role(r->rs.me, op);
    size_t n = op->n;
    fst *s = op->state;
    if (step == 0) {
        if (v == 0) { /* c' = y - lo + r' */
            int64_t lo;
            uint32_t w;
            result_range(op, &lo, &w);
            s->c = proto_alloc(n * W);
            rss_recv(&r->rs, rep3_party(op, 1), s->c, 1, n);
            for (size_t i = 0; i < n; i++)
                s->c[i] += s->rd[2 * i] + s->rd[2 * i + 1] - (word)lo;
        }
        return 0;
    }
    int rc = join_finish(r, op, s, v, err, errlen);
    state_free(op);
    return rc;
}

static int cmp_prepare(rep3 *r, pop *op, int step, char *err, size_t errlen)
{
    int k = inner_steps(op);
    if (step == 0)
        to_ring_prepare(r, op);
    else if (step <= k)
        return rep3_prepare(r, &((fst *)op->state)->in, step - 1, err, errlen);
    else
        from_ring_prepare(r, op, step - 1 - k);
    return 0;
}

static int cmp_finish(rep3 *r, pop *op, int step, char *err, size_t errlen)
{
    int k = inner_steps(op);
    if (step == 0)
        return to_ring_finish(r, op, err, errlen);
    if (step <= k)
        return rep3_finish(r, &((fst *)op->state)->in, step - 1, err, errlen);
    return from_ring_finish(r, op, step - 1 - k, err, errlen);
}

/* ------------------------------------------------------------ dispatch */

static int steps(const pop *op)
{
    if (converted(op))
        return 3 + inner_steps(op);
    switch (op->kind) {
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: return 2;
    case PK_EXACT: return proto_exact_steps(&proto_rep3f, op);
    case PK_LUT: return proto_lut_steps(&proto_rep3f, op);
    case PK_CLAMP:
    case PK_REQCLAMP: return proto_composite_steps(&proto_rep3f, op);
    case PK_LTZ:
    case PK_REQS:
    case PK_INPUT:
    case PK_OUTPUT:
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: return 1;
    }
    return 1;
}

static int prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3 *r = ps;
    r->comm = 1;
    if (converted(op))
        return cmp_prepare(r, op, step, err, errlen);
    switch (op->kind) {
    case PK_EXACT: return proto_exact_prepare(&proto_rep3f, ps, op, step, err, errlen);
    case PK_LUT: return proto_lut_prepare(&proto_rep3f, ps, op, step, err, errlen);
    case PK_REQS:
        snprintf(err, errlen, "rep3-field: secret requantization parameters (REQS) are not supported over F_p "
                 "(an i32 multiplier times the accumulators can pass 2^63; qnnc --field refuses them)");
        return -1;
    case PK_INPUT: input_prepare(r, op); break;
    case PK_OUTPUT: output_prepare(r, op); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_prepare(r, op); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_prepare(r, op, step); break;
    case PK_CLAMP: return proto_clamp_prepare(&proto_rep3f, ps, op, step, err, errlen);
    case PK_REQCLAMP: return proto_reqclamp_prepare(&proto_rep3f, ps, op, step, err, errlen);
    case PK_LTZ: break; /* converted */
    }
    return 0;
}

static int finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3 *r = ps;
    if (converted(op))
        return cmp_finish(r, op, step, err, errlen);
    switch (op->kind) {
    case PK_EXACT: return proto_exact_finish(&proto_rep3f, ps, op, step, err, errlen);
    case PK_LUT: return proto_lut_finish(&proto_rep3f, ps, op, step, err, errlen);
    case PK_INPUT: return input_finish(r, op, err, errlen);
    case PK_OUTPUT: return output_finish(r, op, err, errlen);
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: return mul_finish(r, op, err, errlen);
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: return trunc_finish(r, op, step, err, errlen);
    case PK_CLAMP: return proto_clamp_finish(&proto_rep3f, ps, op, step, err, errlen);
    case PK_REQCLAMP: return proto_reqclamp_finish(&proto_rep3f, ps, op, step, err, errlen);
    case PK_LTZ:
    case PK_REQS: break; /* converted, refused */
    }
    return 0;
}

static void cost(const pop *op, int nparties, proto_cost *acc)
{
    (void)nparties;
    size_t n = op->n, E = FP127_BYTES;
    if (converted(op)) {
        rep3_cost(&ring, op, acc);
        acc->rounds += 3;
        acc->bytes[rep3_party(op, 1)] += op->na * E + n * W;
        acc->bytes[rep3_party(op, 0)] += n * E;
        acc->bytes[rep3_party(op, 2)] += n * E;
        acc->opened += op->na + n;
        return;
    }
    switch (op->kind) {
    case PK_EXACT: proto_exact_cost(&proto_rep3f, op, 3, acc); break;
    case PK_LUT: proto_lut_cost(&proto_rep3f, op, 3, acc); break;
    case PK_INPUT:
        acc->rounds = 1;
        acc->bytes[op->owner % 3] += n * (narrow_input(op) ? W : E);
        break;
    case PK_OUTPUT:
        acc->rounds = 1;
        acc->bytes[rss_next(op->owner % 3)] += n * E;
        acc->opened += n;
        break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D:
        acc->rounds = 1;
        for (int k = 0; k < 3; k++)
            acc->bytes[k] += n * E;
        break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC:
        acc->rounds = 2;
        for (int k = 0; k < 3; k++)
            acc->bytes[k] += n * E;
        acc->opened += n;
        break;
    case PK_CLAMP:
    case PK_REQCLAMP: proto_composite_cost(&proto_rep3f, op, 3, acc); break;
    case PK_LTZ:
    case PK_REQS: acc->rounds = 1; break; /* converted, refused */
    }
}

static void *create(const proto_env *env, char *err, size_t errlen)
{
    if (env->nparties != 3 || !env->net) {
        snprintf(err, errlen, "rep3-field runs with exactly 3 parties over the network");
        return NULL;
    }
    return rep3_new(env, &ring, sizeof(rep3), err, errlen);
}

const protocol proto_rep3f = {
    .name = "rep3-field",
    .security = "passive, honest majority: replicated secret sharing over F_p, p = 2^127 - 1, 3 parties; "
                "openings statistically masked (2^-40 a value at worst); programs must fit (qnnc --field)",
    .domain = "F_p, p = 2^127 - 1",
    .configs = {3},
    .min_parties = 3,
    .max_parties = 3,
    .share_words = FW,
    .create = create,
    .destroy = rep3_destroy,
    .add = add,
    .sub = sub,
    .addc = addc,
    .mulc = mulc,
    .fillc = fillc,
    .steps = steps,
    .prepare = prepare,
    .exchange = rep3_exchange,
    .finish = finish,
    .cost = cost,
    .setup_cost = rep3_setup_cost,
    .fit_bits = 63,
};
