/* proto_rep3: three parties, passive security with an honest majority:
 * replicated secret sharing over Z_2^64 (Araki et al. CCS 2016; ABY3).
 *
 * x = x0 + x1 + x2; party i holds (x_i, x_{i+1}) (indices mod 3). Party i
 * holds PRG seeds S[i] (its own) and S[i+1] (its next party's), so stream
 * S[k] is known exactly to parties k-1 and k; draws happen in prepare, in
 * instruction order, identically on both holders. docs/protocols.md gives
 * every method, its rounds and bytes, and what each open reveals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "kernels.h"
#include "net.h"
#include "prg.h"
#include "proto.h"

#define W sizeof(word)

typedef struct {
    int me;
    int comm; /* this step sends or receives: a lazy convolution does not */
    net *nt;
    prg *s[3]; /* s[me] and s[(me+1)%3]; the other is NULL */
} rep3;

static int nxt(const rep3 *r) { return (r->me + 1) % 3; }
static int prv(const rep3 *r) { return (r->me + 2) % 3; }

static void draw(rep3 *r, int k, word *out, size_t n) { prg_fill(r->s[k], out, n * W); }

/* The asymmetric methods (truncation, comparison) rotate their roles by the
 * instruction's position, so that every party carries its share of the
 * traffic: virtual party v is real party v + rot, stream S[v] is S[v + rot].
 * The sharing is invariant under this relabelling. */
static int vme(const rep3 *r, const pop *op) { return (r->me + 3 - op->rot) % 3; }
static int R(const pop *op, int v) { return (v + op->rot) % 3; }

/* ------------------------------------------------------------- set-up */

static void *rep3_create(const proto_env *env, char *err, size_t errlen)
{
    if (env->nparties != 3 || !env->net) {
        snprintf(err, errlen, "rep3 runs with exactly 3 parties over the network");
        return NULL;
    }
    rep3 *r = calloc(1, sizeof *r);
    uint8_t own[16];
    if (!r || prg_seed(own) != 0) {
        free(r);
        snprintf(err, errlen, "cannot seed the PRG");
        return NULL;
    }
    r->me = env->party;
    r->nt = env->net;
    /* S[me] goes to the previous party, which then holds it as its "next" seed */
    memcpy(net_out(r->nt, prv(r), 16), own, 16);
    net_expect(r->nt, nxt(r), 16);
    if (net_round(r->nt, err, errlen) != 0) {
        free(r);
        return NULL;
    }
    r->s[r->me] = prg_new(own);
    r->s[nxt(r)] = prg_new(net_in(r->nt, nxt(r), 16));
    memset(own, 0, sizeof own);
    if (!r->s[r->me] || !r->s[nxt(r)]) {
        snprintf(err, errlen, "cannot create the PRGs");
        prg_free(r->s[r->me]);
        prg_free(r->s[nxt(r)]);
        free(r);
        return NULL;
    }
    return r;
}

static void rep3_destroy(void *ps)
{
    rep3 *r = ps;
    for (int k = 0; k < 3; k++)
        prg_free(r->s[k]);
    free(r);
}

static void rep3_setup_cost(int nparties, proto_cost *acc)
{
    acc->rounds += 1;
    for (int k = 0; k < nparties; k++)
        acc->bytes[k] += 16;
}

/* ------------------------------------------------------- local, linear */

static void rep3_add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb)
    {
        d[2 * i] = a[2 * i] + b[2 * j];
        d[2 * i + 1] = a[2 * i + 1] + b[2 * j + 1];
    }
}

static void rep3_sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb)
    {
        d[2 * i] = a[2 * i] - b[2 * j];
        d[2 * i + 1] = a[2 * i + 1] - b[2 * j + 1];
    }
}

/* A public value c is the sharing (c, 0, 0): party 0 adds it to its first
 * word, party 2 to its second. */
static void rep3_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    rep3 *r = ps;
    int at = r->me == 0 ? 0 : r->me == 2 ? 1 : -1;
    PERIODIC_LOOP(n, nc)
    {
        d[2 * i] = a[2 * i] + (at == 0 ? (word)c[j] : 0);
        d[2 * i + 1] = a[2 * i + 1] + (at == 1 ? (word)c[j] : 0);
    }
}

static void rep3_mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    (void)ps;
    PERIODIC_LOOP(n, nc)
    {
        d[2 * i] = a[2 * i] * (word)c[j];
        d[2 * i + 1] = a[2 * i + 1] * (word)c[j];
    }
}

static void rep3_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc)
{
    rep3 *r = ps;
    PERIODIC_LOOP(n, nc)
    {
        d[2 * i] = r->me == 0 ? (word)c[j] : 0;
        d[2 * i + 1] = r->me == 2 ? (word)c[j] : 0;
    }
}

/* ------------------------------------------------------ communication */

static void send_words(rep3 *r, int to, const word *v, size_t n)
{
    memcpy(net_out(r->nt, to, n * W), v, n * W);
}

static void recv_words(rep3 *r, int from, word *v, size_t n)
{
    memcpy(v, net_in(r->nt, from, n * W), n * W);
}

/* Arithmetic zero sharing: alpha_me = F_me - F_next. */
static void zero_share(rep3 *r, word *out, size_t n)
{
    word *t = proto_alloc(n * W);
    draw(r, r->me, out, n);
    draw(r, nxt(r), t, n);
    for (size_t i = 0; i < n; i++)
        out[i] -= t[i];
    free(t);
}

static void bool_zero_share(rep3 *r, word *out, size_t n)
{
    word *t = proto_alloc(n * W);
    draw(r, r->me, out, n);
    draw(r, nxt(r), t, n);
    for (size_t i = 0; i < n; i++)
        out[i] ^= t[i];
    free(t);
}

/* z (this party's 3-out-of-3 share) goes to the previous party: afterwards
 * each holds (z_me, z_next), a replicated sharing. */
static void reshare_send(rep3 *r, const word *z, size_t n)
{
    send_words(r, prv(r), z, n);
    net_expect(r->nt, nxt(r), n * W);
}

static void reshare_finish(rep3 *r, word *d, const word *z, size_t n)
{
    const uint8_t *in = net_in(r->nt, nxt(r), n * W);
    for (size_t i = 0; i < n; i++) {
        d[2 * i] = z[i];
        memcpy(&d[2 * i + 1], in + i * W, W);
    }
}

/* Per-operation state between steps. */
typedef struct {
    word *z;          /* 3-out-of-3 shares to reshare, or scratch */
    word *x0, *x1;    /* a copy of the input's share words */
    word *c;          /* trunc: the masked value (party 2) or r (parties 0, 1) */
    uint8_t *d;       /* trunc: per-element shift */
    word *g0, *g1, *p0, *p1, *t0, *t1; /* LTZ: boolean shares of G, P, a^b */
    word *aux;
    int levels, dup;   /* LTZ: tree levels; elements per value of a */
} st;

static st *state(pop *op) { return proto_state(op, sizeof(st)); }

static void state_free(pop *op)
{
    st *s = op->state;
    if (!s)
        return;
    free(s->z);
    free(s->x0);
    free(s->x1);
    free(s->c);
    free(s->d);
    free(s->g0);
    free(s->g1);
    free(s->p0);
    free(s->p1);
    free(s->t0);
    free(s->t1);
    free(s->aux);
    free(s);
    op->state = NULL;
}

/* ---- input and output ---- */

/* x_o = F(S[o]) (parties o, o+2), x_{o+2} = 0, x_{o+1} = x - x_o, which the
 * owner sends to party o+1: each other party sees one uniform word and a 0. */
static void input_prepare(rep3 *r, pop *op)
{
    size_t n = op->n;
    int o = op->owner;
    st *s = state(op);
    s->z = proto_alloc(n * W);
    if (r->me == o) {
        word *x1 = proto_alloc(n * W);
        draw(r, o, s->z, n);
        for (size_t i = 0; i < n; i++)
            x1[i] = (word)op->in[i] - s->z[i];
        send_words(r, (o + 1) % 3, x1, n);
        s->x1 = x1;
    } else if (r->me == (o + 1) % 3) {
        net_expect(r->nt, o, n * W);
    } else {
        draw(r, o, s->z, n);
    }
}

static void input_finish(rep3 *r, pop *op)
{
    size_t n = op->n;
    int o = op->owner;
    st *s = op->state;
    if (r->me == o) {
        for (size_t i = 0; i < n; i++)
            op->d[2 * i] = s->z[i], op->d[2 * i + 1] = s->x1[i];
    } else if (r->me == (o + 1) % 3) {
        const uint8_t *in = net_in(r->nt, o, n * W);
        for (size_t i = 0; i < n; i++) {
            memcpy(&op->d[2 * i], in + i * W, W);
            op->d[2 * i + 1] = 0;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            op->d[2 * i] = 0, op->d[2 * i + 1] = s->z[i];
    }
}

/* The receiver r lacks x_{r+2}, which party r+1 holds as its second word. */
static void output_prepare(rep3 *r, pop *op)
{
    int rc = op->owner;
    if (r->me == (rc + 1) % 3)
        for (size_t i = 0; i < op->n; i++)
            memcpy(net_out(r->nt, rc, W), &op->a[2 * i + 1], W);
    else if (r->me == rc)
        net_expect(r->nt, nxt(r), op->n * W);
}

static void output_finish(rep3 *r, pop *op)
{
    if (r->me != op->owner)
        return;
    const uint8_t *in = net_in(r->nt, nxt(r), op->n * W);
    for (size_t i = 0; i < op->n; i++) {
        word x;
        memcpy(&x, in + i * W, W);
        op->out[i] = (int64_t)(op->a[2 * i] + op->a[2 * i + 1] + x);
    }
}

/* ---- products: the local cross terms, then one reshare ---- */

static void split(const word *v, size_t n, word **a, word **b)
{
    *a = proto_alloc(n * W);
    *b = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++)
        (*a)[i] = v[2 * i], (*b)[i] = v[2 * i + 1];
}

/* A lazy convolution keeps its 3-out-of-3 sum unshared, (z, 0): only
 * linear operations and a lazy REQCLAMP read it (validator), which mask it. */
static void mul_prepare(rep3 *r, pop *op)
{
    size_t n = op->n;
    st *s = state(op);
    s->z = proto_alloc(n * W);
    if (op->lazy)
        memset(s->z, 0, n * W);
    else
        zero_share(r, s->z, n);
    if (op->kind == PK_MUL) {
        PERIODIC_LOOP(n, op->nb)
        {
            word a0 = op->a[2 * i], a1 = op->a[2 * i + 1], b0 = op->b[2 * j], b1 = op->b[2 * j + 1];
            s->z[i] += a0 * b0 + a0 * b1 + a1 * b0;
        }
    } else { /* conv(a0, b0 + b1) + conv(a1, b0) */
        word *a0, *a1, *b0, *b1, *t = proto_alloc(n * W);
        split(op->a, op->na, &a0, &a1);
        split(op->b, op->nb, &b0, &b1);
        for (size_t i = 0; i < op->nb; i++)
            b1[i] += b0[i];
        void (*k)(uint64_t *, const uint64_t *, const uint64_t *, const geom *, uint32_t) =
            op->kind == PK_CONV2D ? kern_conv2d : kern_dwconv2d;
        k(t, a0, b1, &op->g, op->channels);
        for (size_t i = 0; i < n; i++)
            s->z[i] += t[i];
        k(t, a1, b0, &op->g, op->channels);
        for (size_t i = 0; i < n; i++)
            s->z[i] += t[i];
        free(a0);
        free(a1);
        free(b0);
        free(b1);
        free(t);
    }
    if (op->lazy)
        for (size_t i = 0; i < n; i++)
            op->d[2 * i] = s->z[i], op->d[2 * i + 1] = 0;
    else
        reshare_send(r, s->z, n);
}

/* ---- truncation: y = x / 2^d with |x| < 2^62, error < 1 (probabilistic) ----
 * Parties 0 and 1 share r (stream S[1]); party 2 learns c = x + 2^62 + r and
 * nothing else. With v = msb(r), u = msb(c), e = 2u - 1 and s = 1 - 2v:
 * y = C - R + 2^(62-d) e s, C = (c mod 2^63) >> d, R = (r mod 2^63) >> d.
 * The last term needs e (party 2) times s (parties 0, 1): party 2 offers
 * both candidates of the share y1 by a three-party OT to each of parties 0
 * and 1, with the other as helper. */

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

static void trunc_prepare(rep3 *r, pop *op, int step)
{
    int me = vme(r, op);
    size_t n = op->n;
    st *s = state(op);
    if (step == 0) {
        trunc_setup(op, s);
        if (me == 2) {
            net_expect(r->nt, R(op, 0), n * W);
            return;
        }
        s->c = proto_alloc(n * W);
        draw(r, R(op, 1), s->c, n); /* r */
        if (me == 0) { /* party 0 holds (x0, x1): x1 + r to party 2 */
            word *m = proto_alloc(n * W);
            for (size_t i = 0; i < n; i++)
                m[i] = s->x1[i] + s->c[i];
            send_words(r, R(op, 2), m, n);
            free(m);
        }
        return;
    }
    /* step 1: the OT round */
    s->z = proto_alloc(n * W);
    word *w = proto_alloc(2 * n * W);
    if (me == 2) {
        word *y0 = s->z, *y2 = proto_alloc(n * W), *w2 = proto_alloc(2 * n * W);
        draw(r, R(op, 0), y0, n);
        draw(r, R(op, 0), w, 2 * n);
        draw(r, R(op, 2), y2, n);
        draw(r, R(op, 2), w2, 2 * n);
        word *to1 = proto_alloc(2 * n * W), *to0 = proto_alloc(2 * n * W);
        for (size_t i = 0; i < n; i++) {
            word c = s->c[i], cc = proto_trunc_low(c, s->d[i]);
            word term = (word)1 << (62 - s->d[i]);
            if (!(c >> 63))
                term = (word)0 - term; /* e = -1 */
            word m0 = cc + term - y0[i] - y2[i], m1 = cc - term - y0[i] - y2[i];
            to1[2 * i] = m0 + w[2 * i], to1[2 * i + 1] = m1 + w[2 * i + 1];
            to0[2 * i] = m0 + w2[2 * i], to0[2 * i + 1] = m1 + w2[2 * i + 1];
            s->x1[i] = y2[i]; /* keep y2: the share is (y2, y0) */
        }
        send_words(r, R(op, 1), to1, 2 * n);
        send_words(r, R(op, 0), to0, 2 * n);
        free(y2);
        free(w2);
        free(to1);
        free(to0);
    } else {
        /* party 0: y0 and masks from S[0], helps party 1; party 1: y2 and masks from S[2] */
        int k = me == 0 ? 0 : 2, other = me == 0 ? 1 : 0;
        draw(r, R(op, k), s->z, n);
        draw(r, R(op, k), w, 2 * n);
        word *sel = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            sel[i] = w[2 * i + (s->c[i] >> 63)];
        send_words(r, R(op, other), sel, n);
        free(sel);
        net_expect(r->nt, R(op, 2), 2 * n * W);
        net_expect(r->nt, R(op, other), n * W);
    }
    free(w);
}

static void trunc_finish(rep3 *r, pop *op, int step)
{
    int me = vme(r, op);
    size_t n = op->n;
    st *s = op->state;
    if (step == 0) {
        if (me == 2) { /* c = x2 + (x0 + 2^62) + (x1 + r) */
            s->c = proto_alloc(n * W);
            recv_words(r, R(op, 0), s->c, n);
            for (size_t i = 0; i < n; i++)
                s->c[i] += s->x0[i] + s->x1[i] + ((word)1 << 62);
        }
        return;
    }
    if (me == 2) {
        for (size_t i = 0; i < n; i++)
            op->d[2 * i] = s->x1[i], op->d[2 * i + 1] = s->z[i];
    } else {
        int other = me == 0 ? 1 : 0;
        const uint8_t *cand = net_in(r->nt, R(op, 2), 2 * n * W), *mask = net_in(r->nt, R(op, other), n * W);
        for (size_t i = 0; i < n; i++) {
            word v = s->c[i] >> 63, m, wv;
            memcpy(&m, cand + (2 * i + v) * W, W);
            memcpy(&wv, mask + i * W, W);
            word rr = proto_trunc_low(s->c[i], s->d[i]);
            word y1 = m - wv - rr;
            if (me == 0)
                op->d[2 * i] = s->z[i], op->d[2 * i + 1] = y1;
            else
                op->d[2 * i] = y1, op->d[2 * i + 1] = s->z[i];
        }
    }
    state_free(op);
}

/* ---- comparison: LTZ(x) = 1 - bit L of x + 2^L, |x| < 2^L ----
 * x = a + b with a known to party 0 and b to parties 1 and 2 (for LTZ,
 * a = x0 + x1 + 2^L and b = x2) is added as bits: party 0 shares a as
 * (a0, a ^ a0, 0), sending one plane set to party 1; b is the sharing
 * (0, 0, b); the generate bits a AND b come from a three-party OT (choice b,
 * known to both receivers). A tree of ceil(log2 L) AND rounds yields the
 * carry into bit L; then the bit becomes an arithmetic share by one more OT
 * round. The boolean part is bit-sliced: plane j holds bit j of 64 elements
 * per word, so every round moves only the bits still needed. */

/* OT messages for choice bits (bitwise): receiver gets (b & m1) | (~b & m0). */
static word pick(word b, word m0, word m1) { return (b & m1) | (~b & m0); }

/* What a comparison of n elements starts from. Party 0: a, na = n / dup
 * values (dup = 2: elements i and na + i share a); parties 1 and 2: b, n
 * values with a stride. */
typedef struct {
    const word *a, *b;
    size_t bstride;
    int dup;
} ltz_in;

/* planes of na elements, repeated dup times to n elements (allocated) */
static word *planes_dup(const word *src, size_t na, int dup, uint32_t np)
{
    size_t nw = bits_words(na * (size_t)dup);
    word *d = proto_alloc(np * nw * W);
    if (dup == 1)
        memcpy(d, src, np * nw * W);
    else
        bits_dup(src, na, np, d, nw);
    return d;
}

static void ltz_round1_prepare(rep3 *r, pop *op, st *s, const ltz_in *in)
{
    int me = vme(r, op);
    size_t n = op->n, nw = bits_words(n), na = n / (size_t)in->dup, nwa = bits_words(na);
    uint32_t L = op->bound, Lp = L + 1;
    s->levels = bits_levels(L);
    s->dup = in->dup;
    s->g0 = proto_alloc(L * nw * W);
    if (me == 0) {
        word *A = proto_alloc(Lp * nwa * W), *a0 = proto_alloc(Lp * nwa * W);
        bits_pack(in->a, 1, na, Lp, A, nwa);
        draw(r, R(op, 0), a0, Lp * nwa);
        for (size_t k = 0; k < Lp * nwa; k++)
            A[k] ^= a0[k]; /* now a1 */
        send_words(r, R(op, 1), A, Lp * nwa);
        s->p0 = planes_dup(a0, na, in->dup, Lp);
        s->p1 = planes_dup(A, na, in->dup, Lp);
        free(A);
        free(a0);
        s->g1 = proto_alloc(L * nw * W);
        word *w = proto_alloc(2 * L * nw * W), *w2 = proto_alloc(2 * L * nw * W);
        draw(r, R(op, 0), s->g0, L * nw); /* g0 and masks for party 1 */
        draw(r, R(op, 0), w, 2 * L * nw);
        draw(r, R(op, 1), s->g1, L * nw); /* g1 and masks for party 2 */
        draw(r, R(op, 1), w2, 2 * L * nw);
        word *to1 = proto_alloc(2 * L * nw * W), *to2 = proto_alloc(2 * L * nw * W);
        for (size_t k = 0; k < L * nw; k++) {
            word m0 = s->g0[k] ^ s->g1[k], m1 = s->p0[k] ^ s->p1[k] ^ m0;
            to1[2 * k] = m0 ^ w[2 * k], to1[2 * k + 1] = m1 ^ w[2 * k + 1];
            to2[2 * k] = m0 ^ w2[2 * k], to2[2 * k + 1] = m1 ^ w2[2 * k + 1];
        }
        send_words(r, R(op, 1), to1, 2 * L * nw);
        send_words(r, R(op, 2), to2, 2 * L * nw);
        free(w);
        free(w2);
        free(to1);
        free(to2);
        return;
    }
    /* party 1: g1 and masks from S[1]; party 2: a0 (planes of na), g0 and masks from S[0] */
    int k = me == 1 ? 1 : 0, other = me == 1 ? 2 : 1;
    s->aux = proto_alloc(Lp * nw * W);
    bits_pack(in->b, in->bstride, n, Lp, s->aux, nw);
    if (me == 2) {
        word *a0 = proto_alloc(Lp * nwa * W);
        draw(r, R(op, 0), a0, Lp * nwa);
        s->p0 = planes_dup(a0, na, in->dup, Lp);
        free(a0);
    }
    word *w = proto_alloc(2 * L * nw * W), *sel = proto_alloc(L * nw * W);
    draw(r, R(op, k), s->g0, L * nw);
    draw(r, R(op, k), w, 2 * L * nw);
    for (size_t q = 0; q < L * nw; q++)
        sel[q] = pick(s->aux[q], w[2 * q], w[2 * q + 1]);
    send_words(r, R(op, other), sel, L * nw);
    net_expect(r->nt, R(op, 0), ((me == 1 ? Lp * nwa : 0) + 2 * L * nw) * W);
    net_expect(r->nt, R(op, other), L * nw * W);
    free(w);
    free(sel);
}

/* After round 1 every party holds its two shares (index 0 = its own, 1 =
 * its next's) of the planes of a (a2 = 0) and of g = a AND b. This forms
 * P = a ^ b (planes 0..L-1), G = g and t = plane L of a ^ b. */
static void ltz_round1_finish(rep3 *r, pop *op, st *s)
{
    int me = vme(r, op);
    size_t n = op->n, nw = bits_words(n), na = n / (size_t)s->dup, nwa = bits_words(na);
    uint32_t L = op->bound, Lp = L + 1;
    word *a[2] = {NULL, NULL}, *g[2], *b[2] = {NULL, NULL};
    word *a1 = NULL, *g2 = NULL;
    if (me == 0) {
        a[0] = s->p0, a[1] = s->p1, g[0] = s->g0, g[1] = s->g1;
    } else {
        const uint8_t *from0 = net_in(r->nt, R(op, 0), ((me == 1 ? Lp * nwa : 0) + 2 * L * nw) * W);
        const uint8_t *mask = net_in(r->nt, R(op, me == 1 ? 2 : 1), L * nw * W);
        if (me == 1) {
            word *t = proto_alloc(Lp * nwa * W);
            memcpy(t, from0, Lp * nwa * W);
            a1 = planes_dup(t, na, s->dup, Lp);
            free(t);
            from0 += Lp * nwa * W;
        }
        g2 = proto_alloc(L * nw * W);
        for (size_t q = 0; q < L * nw; q++) {
            word c0, c1, wv;
            memcpy(&c0, from0 + 2 * q * W, W);
            memcpy(&c1, from0 + (2 * q + 1) * W, W);
            memcpy(&wv, mask + q * W, W);
            g2[q] = pick(s->aux[q], c0, c1) ^ wv;
        }
        if (me == 1) /* shares (a1, 0), (g1, g2); b is share 2 = index 1 */
            a[0] = a1, g[0] = s->g0, g[1] = g2, b[1] = s->aux;
        else /* party 2: (0, a0), (g2, g0); b at index 0 */
            a[1] = s->p0, g[0] = g2, g[1] = s->g0, b[0] = s->aux;
    }
    word *P[2] = {proto_alloc(L * nw * W), proto_alloc(L * nw * W)};
    word *G[2] = {proto_alloc(L * nw * W), proto_alloc(L * nw * W)};
    s->t0 = proto_alloc(nw * W);
    s->t1 = proto_alloc(nw * W);
    for (int h = 0; h < 2; h++) {
        for (size_t q = 0; q < Lp * nw; q++) {
            word v = (a[h] ? a[h][q] : 0) ^ (b[h] ? b[h][q] : 0);
            if (q < L * nw)
                P[h][q] = v, G[h][q] = g[h][q];
            else
                (h ? s->t1 : s->t0)[q - L * nw] = v;
        }
    }
    free(a1);
    free(g2);
    free(s->p0);
    free(s->p1);
    free(s->g0);
    free(s->g1);
    free(s->aux);
    s->aux = NULL;
    s->p0 = P[0], s->p1 = P[1], s->g0 = G[0], s->g1 = G[1];
}

/* LTZ of x: a = x0 + x1 + 2^L (party 0), b = x2 */
static void ltz_start(rep3 *r, pop *op, st *s)
{
    int me = vme(r, op);
    word *a = NULL;
    ltz_in in = {NULL, op->a + (me == 1), 2, 1};
    if (me == 0) {
        a = proto_alloc(op->n * W);
        for (size_t i = 0; i < op->n; i++)
            a[i] = op->a[2 * i] + op->a[2 * i + 1] + ((word)1 << op->bound);
        in.a = a;
    }
    ltz_round1_prepare(r, op, s, &in);
    free(a);
}

static word and3(word x0, word x1, word y0, word y1) { return (x0 & y0) ^ (x0 & y1) ^ (x1 & y0); }

/* One tree level: for each group j with a high half at j + s,
 * G[j] = G[j+s] ^ (P[j+s] AND G[j]) and, for j > 0, P[j] = P[j+s] AND P[j]. */
static void ltz_and_prepare(rep3 *r, pop *op, st *s, int level)
{
    size_t nw = bits_words(op->n), nand;
    uint32_t L = op->bound, sh = (uint32_t)1 << (level - 1);
    bits_level_ands(L, level, &nand);
    s->z = proto_alloc(nand * nw * W);
    bool_zero_share(r, s->z, nand * nw);
    size_t o = 0;
    for (uint32_t j = 0; j < L; j += 2 * sh) {
        if (j + sh >= L)
            continue;
        const word *hp0 = s->p0 + (j + sh) * nw, *hp1 = s->p1 + (j + sh) * nw;
        for (size_t q = 0; q < nw; q++)
            s->z[o + q] ^= and3(hp0[q], hp1[q], s->g0[j * nw + q], s->g1[j * nw + q]);
        o += nw;
        if (j)
            for (size_t q = 0; q < nw; q++)
                s->z[o + q] ^= and3(hp0[q], hp1[q], s->p0[j * nw + q], s->p1[j * nw + q]);
        o += j ? nw : 0;
    }
    send_words(r, prv(r), s->z, nand * nw);
    net_expect(r->nt, nxt(r), nand * nw * W);
}

static void ltz_and_finish(rep3 *r, pop *op, st *s, int level)
{
    size_t nw = bits_words(op->n), nand;
    uint32_t L = op->bound, sh = (uint32_t)1 << (level - 1);
    bits_level_ands(L, level, &nand);
    const uint8_t *in = net_in(r->nt, nxt(r), nand * nw * W);
    size_t o = 0;
    for (uint32_t j = 0; j < L; j += 2 * sh) {
        if (j + sh >= L)
            continue;
        for (size_t q = 0; q < nw; q++) {
            word z1;
            memcpy(&z1, in + (o + q) * W, W);
            s->g0[j * nw + q] = s->g0[(j + sh) * nw + q] ^ s->z[o + q];
            s->g1[j * nw + q] = s->g1[(j + sh) * nw + q] ^ z1;
        }
        o += nw;
        if (!j)
            continue;
        for (size_t q = 0; q < nw; q++) {
            word z1;
            memcpy(&z1, in + (o + q) * W, W);
            s->p0[j * nw + q] = s->z[o + q];
            s->p1[j * nw + q] = z1;
        }
        o += nw;
    }
    free(s->z);
    s->z = NULL;
}

/* The bit [LTZ] = 1 ^ t ^ carry (the carry is plane 0 of G) as boolean
 * shares in the planes t0, t1: party 0 then knows u = beta0 ^ beta1 (t0 ^
 * t1), parties 1 and 2 know w = beta2 (party 1's t1, party 2's t0). */
static void ltz_bit(const pop *op, st *s, int me)
{
    for (size_t q = 0; q < bits_words(op->n); q++) {
        s->t0[q] ^= s->g0[q] ^ (me == 0 ? ~(word)0 : 0);
        s->t1[q] ^= s->g1[q] ^ (me == 2 ? ~(word)0 : 0);
    }
}

/* The bit [LTZ] = 1 ^ t ^ carry (the carry is plane 0 of G), made
 * arithmetic: party 0 knows u = beta0 ^ beta1, parties 1, 2 know
 * w = beta2; party 0 offers both candidates of the share
 * y2 = (u ^ w) - y0 - y1 by OT to parties 1 and 2. */
static void ltz_inject_prepare(rep3 *r, pop *op, st *s)
{
    int me = vme(r, op);
    size_t n = op->n;
    s->z = proto_alloc(n * W);
    ltz_bit(op, s, me);
    if (me == 0) {
        word *y1 = proto_alloc(n * W), *w = proto_alloc(2 * n * W), *w2 = proto_alloc(2 * n * W);
        draw(r, R(op, 0), s->z, n);
        draw(r, R(op, 0), w, 2 * n);
        draw(r, R(op, 1), y1, n);
        draw(r, R(op, 1), w2, 2 * n);
        word *to1 = proto_alloc(2 * n * W), *to2 = proto_alloc(2 * n * W);
        for (size_t i = 0; i < n; i++) {
            word u = bits_get(s->t0, i) ^ bits_get(s->t1, i);
            word m0 = u - s->z[i] - y1[i], m1 = (u ^ 1) - s->z[i] - y1[i];
            to1[2 * i] = m0 + w[2 * i], to1[2 * i + 1] = m1 + w[2 * i + 1];
            to2[2 * i] = m0 + w2[2 * i], to2[2 * i + 1] = m1 + w2[2 * i + 1];
        }
        send_words(r, R(op, 1), to1, 2 * n);
        send_words(r, R(op, 2), to2, 2 * n);
        s->aux = y1;
        free(w);
        free(w2);
        free(to1);
        free(to2);
        return;
    }
    int k = me == 1 ? 1 : 0, other = me == 1 ? 2 : 1;
    word *w = proto_alloc(2 * n * W), *sel = proto_alloc(n * W);
    draw(r, R(op, k), s->z, n); /* party 1: y1 (S[1]); party 2: y0 (S[0]) */
    draw(r, R(op, k), w, 2 * n);
    const word *beta2 = me == 1 ? s->t1 : s->t0;
    for (size_t i = 0; i < n; i++)
        sel[i] = w[2 * i + bits_get(beta2, i)];
    send_words(r, R(op, other), sel, n);
    net_expect(r->nt, R(op, 0), 2 * n * W);
    net_expect(r->nt, R(op, other), n * W);
    free(w);
    free(sel);
}

static void ltz_inject_finish(rep3 *r, pop *op, st *s)
{
    int me = vme(r, op);
    size_t n = op->n;
    if (me == 0) {
        for (size_t i = 0; i < n; i++)
            op->d[2 * i] = s->z[i], op->d[2 * i + 1] = s->aux[i];
        return;
    }
    const uint8_t *cand = net_in(r->nt, R(op, 0), 2 * n * W), *mask = net_in(r->nt, R(op, me == 1 ? 2 : 1), n * W);
    const word *beta2 = me == 1 ? s->t1 : s->t0;
    for (size_t i = 0; i < n; i++) {
        word m, wv;
        memcpy(&m, cand + (2 * i + bits_get(beta2, i)) * W, W);
        memcpy(&wv, mask + i * W, W);
        word y2 = m - wv;
        if (me == 1)
            op->d[2 * i] = s->z[i], op->d[2 * i + 1] = y2;
        else
            op->d[2 * i] = y2, op->d[2 * i + 1] = s->z[i];
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
 * 0 splits each X = e + f, e from S[1] (party 1 draws it), f sent to party
 * 2: parties 1 and 2 then hold additive shares P1, P2 of y. The replicated
 * result takes y0 from S[0] and y1 from S[1]; party 1 sends P1 - y1 to
 * party 2 in the same round, and party 2 sends y2 = y - y0 - y1 to party 1
 * in the next. 4 + 2 words per value after the comparisons.
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
    pop ltz;      /* the comparisons, 2n elements */
    int nx;       /* products X per value: 4, or 6 for REQCLAMP */
    word lo, D;
    word *v;      /* party 0: A; parties 1, 2: B */
    word *c;      /* REQCLAMP: party 0: c; parties 1, 2: r */
    word *mult;   /* REQCLAMP: the multipliers */
    uint8_t *d;   /* REQCLAMP: the shifts */
    uint8_t dmin; /* REQCLAMP: the smallest */
    word *y2;     /* party 2: the share it sends party 1 */
} clamp_st;

static clamp_st *clamp_new(pop *op)
{
    clamp_st *c = proto_zalloc(sizeof *c);
    op->state = c;
    c->nx = op->kind == PK_REQCLAMP ? 6 : 4;
    c->lo = (word)op->lo;
    c->D = (word)op->hi - c->lo;
    proto_clamp_ltz(op, &c->ltz);
    return c;
}

/* REQCLAMP's open: party 1 sends m x2 + r to party 0 */
static void reqclamp_open_prepare(rep3 *r, pop *op)
{
    int me = vme(r, op);
    size_t n = op->n;
    clamp_st *c = clamp_new(op);
    c->d = proto_alloc(n);
    c->c = proto_alloc(n * W);
    c->mult = proto_alloc(n * W);
    c->dmin = proto_trunc_shifts(op, c->d, c->mult);
    word *m = proto_alloc(n * W), *r2 = proto_alloc(n * W);
    if (me == 0) {
        net_expect(r->nt, R(op, 1), n * W);
        if (op->lazy)
            net_expect(r->nt, R(op, 2), n * W);
    } else {
        draw(r, R(op, 2), c->c, n);
        if (op->lazy) /* r = r1 + r2, party k masks its own sum word with rk */
            draw(r, R(op, 2), r2, n);
    }
    if (me == 1 || (me == 2 && op->lazy)) {
        const word *mask = me == 1 ? c->c : r2;
        for (size_t i = 0; i < n; i++)
            m[i] = op->a[2 * i + (op->lazy ? 0 : 1)] * c->mult[i] + mask[i];
        send_words(r, R(op, 0), m, n);
    }
    if (me != 0 && op->lazy)
        for (size_t i = 0; i < n; i++)
            c->c[i] += r2[i];
    free(m);
    free(r2);
}

static void reqclamp_open_finish(rep3 *r, pop *op)
{
    clamp_st *c = op->state;
    if (vme(r, op) != 0)
        return;
    const uint8_t *in = net_in(r->nt, R(op, 1), op->n * W), *in2 = NULL;
    if (op->lazy)
        in2 = net_in(r->nt, R(op, 2), op->n * W);
    for (size_t i = 0; i < op->n; i++) {
        word y, y2 = 0;
        memcpy(&y, in + i * W, W);
        if (in2)
            memcpy(&y2, in2 + i * W, W);
        c->c[i] = (op->a[2 * i] + (op->lazy ? 0 : op->a[2 * i + 1])) * c->mult[i] + y + y2 + ((word)1 << 62);
    }
}

/* element i of A (party 0) or B (parties 1, 2) */
static word clamp_part(const pop *op, const clamp_st *c, int me, size_t i)
{
    if (op->kind == PK_CLAMP)
        return me == 0 ? op->a[2 * i] + op->a[2 * i + 1] - c->lo : op->a[2 * i + (me == 1)];
    word pub, coef, K = (word)1 << (63 - c->d[i]);
    if (me == 0) {
        proto_trunc_open(c->c[i], c->d[i], &pub, &coef);
        return pub + K / 2; /* C + K u */
    }
    word v = c->c[i] >> 63, R = proto_trunc_low(c->c[i], c->d[i]);
    return 0 - R + K * v - K / 2 + (word)op->zp - c->lo;
}

static void clamp_start(rep3 *r, pop *op)
{
    int me = vme(r, op);
    size_t n = op->n;
    clamp_st *c = op->kind == PK_CLAMP ? clamp_new(op) : op->state;
    word *in = proto_alloc(2 * n * W);
    c->v = proto_alloc(n * W);
    ltz_in li = {in, in, 1, 2};
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

/* bit i of the comparisons: party 0's part u, or the others' part w */
static word clamp_bit(const st *s, int me, size_t i)
{
    return me == 0 ? bits_get(s->t0, i) ^ bits_get(s->t1, i) : bits_get(me == 1 ? s->t1 : s->t0, i);
}

/* party 0: the products X of value i into x[k n + i] */
static void clamp_xs(const clamp_st *c, const st *s, size_t n, size_t i, word *x)
{
    word ul = clamp_bit(s, 0, n + i), us = clamp_bit(s, 0, i) ^ ul, A = c->v[i];
    word X[6] = {us * A, A, us, ul, 0, 0};
    if (c->nx == 6) {
        word u = c->c[i] >> 63;
        X[4] = u * us, X[5] = u;
    }
    for (int k = 0; k < c->nx; k++)
        x[k * n + i] = X[k] - x[k * n + i];
}

/* parties 1 and 2: sum over k of X_k Y_k from their parts x of X; party 1
 * also adds the terms without X */
static word clamp_sum(const clamp_st *c, const st *s, int me, const word *x, size_t n, size_t i)
{
    word wl = clamp_bit(s, me, n + i), ws = clamp_bit(s, me, i) ^ wl, B = c->v[i], fs = 1 - 2 * ws;
    word y = x[i] * fs + x[n + i] * ws + x[2 * n + i] * fs * B - x[3 * n + i] * c->D * (1 - 2 * wl);
    if (c->nx == 6) {
        word K2v = ((word)1 << (64 - c->d[i])) * (c->c[i] >> 63);
        y -= x[4 * n + i] * K2v * fs + x[5 * n + i] * K2v * ws;
    }
    return me == 1 ? y + ws * B - c->D * wl + c->lo + c->D : y;
}

/* the replicated result's streamed share: y0 (parties 2, 0) or y1 (0, 1),
 * into its place in d (k = 0: first word, 1: second) */
static void clamp_draw_share(rep3 *r, const pop *op, int v, word *d, int k)
{
    word *t = proto_alloc(op->n * W);
    draw(r, R(op, v), t, op->n);
    for (size_t i = 0; i < op->n; i++)
        d[2 * i + k] = t[i];
    free(t);
}

static void clamp_products_prepare(rep3 *r, pop *op, clamp_st *c)
{
    int me = vme(r, op);
    size_t n = op->n, nx = (size_t)c->nx;
    st *s = c->ltz.state;
    ltz_bit(&c->ltz, s, me);
    if (me == 2) {
        clamp_draw_share(r, op, 0, op->d, 1);
        net_expect(r->nt, R(op, 0), nx * n * W);
        net_expect(r->nt, R(op, 1), n * W);
        return;
    }
    word *x = proto_alloc(nx * n * W);
    draw(r, R(op, 1), x, nx * n); /* e */
    clamp_draw_share(r, op, 1, op->d, me == 0 ? 1 : 0);
    if (me == 0) {
        clamp_draw_share(r, op, 0, op->d, 0);
        for (size_t i = 0; i < n; i++)
            clamp_xs(c, s, n, i, x);
        send_words(r, R(op, 2), x, nx * n);
    } else {
        for (size_t i = 0; i < n; i++)
            x[i] = clamp_sum(c, s, 1, x, n, i) - op->d[2 * i];
        send_words(r, R(op, 2), x, n);
    }
    free(x);
}

static void clamp_products_finish(rep3 *r, pop *op, clamp_st *c)
{
    size_t n = op->n, nx = (size_t)c->nx;
    if (vme(r, op) == 2) {
        const uint8_t *f = net_in(r->nt, R(op, 0), nx * n * W), *p1 = net_in(r->nt, R(op, 1), n * W);
        word *x = proto_alloc(nx * n * W);
        memcpy(x, f, nx * n * W);
        c->y2 = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++) {
            word v;
            memcpy(&v, p1 + i * W, W);
            c->y2[i] = v + clamp_sum(c, c->ltz.state, 2, x, n, i) - op->d[2 * i + 1];
            op->d[2 * i] = c->y2[i];
        }
        free(x);
    }
    state_free(&c->ltz);
}

/* party 2 sends y2 to party 1 */
static void clamp_reshare_prepare(rep3 *r, pop *op, clamp_st *c)
{
    int me = vme(r, op);
    if (me == 2)
        send_words(r, R(op, 1), c->y2, op->n);
    else if (me == 1)
        net_expect(r->nt, R(op, 2), op->n * W);
}

static void clamp_reshare_finish(rep3 *r, pop *op)
{
    if (vme(r, op) != 1)
        return;
    const uint8_t *in = net_in(r->nt, R(op, 2), op->n * W);
    for (size_t i = 0; i < op->n; i++)
        memcpy(&op->d[2 * i + 1], in + i * W, W);
}

static void clamp_free(pop *op)
{
    clamp_st *c = op->state;
    state_free(&c->ltz);
    free(c->v), free(c->c), free(c->mult), free(c->d), free(c->y2);
    free(c);
    op->state = NULL;
}

/* CLAMP's steps; REQCLAMP runs its open first and these one step later */
static void clamp_prepare(rep3 *r, pop *op, int step)
{
    int K = bits_levels(op->bound);
    if (op->kind == PK_REQCLAMP && step-- == 0) {
        reqclamp_open_prepare(r, op);
        return;
    }
    clamp_st *c = op->state;
    if (step == 0)
        clamp_start(r, op);
    else if (step <= K)
        ltz_and_prepare(r, &c->ltz, c->ltz.state, step);
    else if (step == K + 1)
        clamp_products_prepare(r, op, c);
    else
        clamp_reshare_prepare(r, op, c);
}

static void clamp_finish(rep3 *r, pop *op, int step)
{
    clamp_st *c = op->state;
    int K = bits_levels(op->bound);
    if (op->kind == PK_REQCLAMP && step-- == 0)
        reqclamp_open_finish(r, op);
    else if (step == 0)
        ltz_round1_finish(r, &c->ltz, c->ltz.state);
    else if (step <= K)
        ltz_and_finish(r, &c->ltz, c->ltz.state, step);
    else if (step == K + 1)
        clamp_products_finish(r, op, c);
    else {
        clamp_reshare_finish(r, op);
        clamp_free(op);
    }
}

/* ------------------------------------------------------------ dispatch */

static int rep3_steps(const pop *op)
{
    switch (op->kind) {
    case PK_REQUANT:
    case PK_DIVR: return 2;
    case PK_LTZ: return bits_levels(op->bound) + 2;
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

static int rep3_prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3 *r = ps;
    r->comm |= !((op->kind == PK_CONV2D || op->kind == PK_DWCONV2D) && op->lazy);
    if ((op->kind == PK_INPUT || op->kind == PK_OUTPUT) && op->owner > 2) {
        snprintf(err, errlen, "party %d does not exist under rep3", op->owner);
        return -1;
    }
    switch (op->kind) {
    case PK_INPUT: input_prepare(r, op); break;
    case PK_OUTPUT: output_prepare(r, op); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_prepare(r, op); break;
    case PK_REQUANT:
    case PK_DIVR: trunc_prepare(r, op, step); break;
    case PK_CLAMP:
    case PK_REQCLAMP: clamp_prepare(r, op, step); break;
    case PK_LTZ: {
        st *s = state(op);
        if (step == 0)
            ltz_start(r, op, s);
        else if (step <= s->levels)
            ltz_and_prepare(r, op, s, step);
        else
            ltz_inject_prepare(r, op, s);
        break;
    }
    }
    return 0;
}

static int rep3_exchange(void *ps, char *err, size_t errlen)
{
    rep3 *r = ps;
    if (!r->comm) /* a block of lazy convolutions: every party knows it */
        return 0;
    r->comm = 0;
    return net_round(r->nt, err, errlen);
}

static int rep3_finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3 *r = ps;
    (void)err;
    (void)errlen;
    switch (op->kind) {
    case PK_INPUT:
        input_finish(r, op);
        state_free(op);
        break;
    case PK_OUTPUT: output_finish(r, op); break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D:
        if (!op->lazy)
            reshare_finish(r, op->d, ((st *)op->state)->z, op->n);
        state_free(op);
        break;
    case PK_REQUANT:
    case PK_DIVR: trunc_finish(r, op, step); break;
    case PK_CLAMP:
    case PK_REQCLAMP: clamp_finish(r, op, step); break;
    case PK_LTZ: {
        st *s = op->state;
        if (step == 0)
            ltz_round1_finish(r, op, s);
        else if (step <= s->levels)
            ltz_and_finish(r, op, s, step);
        else {
            ltz_inject_finish(r, op, s);
            state_free(op);
        }
        break;
    }
    }
    return 0;
}

/* An LTZ of n elements up to the carry: the first round and the tree; a
 * has n / dup values. */
static void ltz_tree_cost(const pop *op, size_t n, int dup, proto_cost *acc)
{
    uint64_t L = op->bound, nw = bits_words(n) * W, nwa = bits_words(n / (size_t)dup) * W;
    int K = bits_levels(op->bound);
    acc->rounds = (uint64_t)K + 1;
    acc->bytes[R(op, 0)] += (L + 1) * nwa + 4 * L * nw;
    acc->bytes[R(op, 1)] += L * nw;
    acc->bytes[R(op, 2)] += L * nw;
    for (int k = 1; k <= K; k++) {
        size_t nand;
        bits_level_ands(op->bound, k, &nand);
        for (int p = 0; p < 3; p++)
            acc->bytes[p] += nand * nw;
    }
}

/* Rounds and bytes exactly as the functions above send them. */
static void rep3_cost(const pop *op, int nparties, proto_cost *acc)
{
    (void)nparties;
    uint64_t n = op->n * W;
    switch (op->kind) {
    case PK_INPUT:
        acc->rounds = 1;
        acc->bytes[op->owner % 3] += n;
        break;
    case PK_OUTPUT:
        acc->rounds = 1;
        acc->bytes[(op->owner + 1) % 3] += n;
        acc->opened += op->n;
        break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D:
        acc->rounds = op->lazy ? 0 : 1;
        for (int k = 0; k < 3; k++)
            acc->bytes[k] += op->lazy ? 0 : n;
        break;
    case PK_REQUANT:
    case PK_DIVR:
        acc->rounds = 2;
        acc->bytes[R(op, 0)] += 2 * n;
        acc->bytes[R(op, 1)] += n;
        acc->bytes[R(op, 2)] += 4 * n;
        acc->opened += op->n;
        break;
    case PK_LTZ:
        ltz_tree_cost(op, op->n, 1, acc);
        acc->rounds += 1; /* the injection */
        acc->bytes[R(op, 0)] += 4 * n;
        acc->bytes[R(op, 1)] += n;
        acc->bytes[R(op, 2)] += n;
        break;
    case PK_CLAMP: /* the tree over 2n, the products, y2 */
    case PK_REQCLAMP: {
        int rq = op->kind == PK_REQCLAMP; /* and the open */
        ltz_tree_cost(op, 2 * op->n, 2, acc);
        acc->rounds += 2 + (uint64_t)rq;
        acc->bytes[R(op, 0)] += (rq ? 6 : 4) * n;
        acc->bytes[R(op, 1)] += n + (rq ? n : 0);
        acc->bytes[R(op, 2)] += n + (rq && op->lazy ? n : 0);
        acc->opened += rq ? op->n : 0;
        break;
    }
    }
}

const protocol proto_rep3 = {
    .name = "rep3",
    .security = "passive, honest majority: replicated secret sharing over Z_2^64, 3 parties",
    .domain = "Z_2^64",
    .configs = {3},
    .min_parties = 3,
    .max_parties = 3,
    .share_words = 2,
    .create = rep3_create,
    .destroy = rep3_destroy,
    .add = rep3_add,
    .sub = rep3_sub,
    .addc = rep3_addc,
    .mulc = rep3_mulc,
    .fillc = rep3_fillc,
    .steps = rep3_steps,
    .prepare = rep3_prepare,
    .exchange = rep3_exchange,
    .finish = rep3_finish,
    .cost = rep3_cost,
    .setup_cost = rep3_setup_cost,
};
