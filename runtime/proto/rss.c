/* rss: replicated-sharing building blocks (see rss.h for each block's
 * messages, masks and rounds). */
#include "runtime/proto/rss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/net/net.h"
#include "runtime/net/prg.h"
#include "runtime/proto/dzkp_arith.h"
#include "runtime/proto/dzkp_bool.h"
#include "runtime/proto/jmp.h"

#define W sizeof(word)

/* ------------------------------------------------------------- set-up */

int rss_init(rss *r, int me, net *nt, char *err, size_t errlen)
{
    uint8_t own[16];
    memset(r, 0, sizeof *r);
    r->me = me;
    r->nt = nt;
    if (prg_seed(own) != 0) {
        snprintf(err, errlen, "cannot seed the PRG");
        return -1;
    }
    /* S[me] goes to the previous party, which then holds it as its "next" seed */
    memcpy(net_out(nt, rss_prev(me), 16), own, 16);
    net_expect(nt, rss_next(me), 16);
    if (net_round(nt, err, errlen) != 0)
        return -1;
    r->s[me] = prg_new(own);
    r->s[rss_next(me)] = prg_new(net_in(nt, rss_next(me), 16));
    if (prg_seed(own) == 0)
        r->own = prg_new(own);
    memset(own, 0, sizeof own);
    if (!r->s[me] || !r->s[rss_next(me)] || !r->own) {
        snprintf(err, errlen, "cannot create the PRGs");
        rss_free(r);
        return -1;
    }
    return 0;
}

void rss_free(rss *r)
{
    for (int k = 0; k < 3; k++) {
        prg_free(r->s[k]);
        r->s[k] = NULL;
    }
    prg_free(r->own);
    r->own = NULL;
    jmp_free(r->j);
    r->j = NULL;
}

uint64_t rss_init_cost(proto_cost *acc)
{
    for (int k = 0; k < 3; k++)
        acc->bytes[k] += 16;
    return 1;
}

void rss_draw(rss *r, int k, word *out, size_t n) { prg_fill(r->s[k], out, n * W); }

/* ------------------------------------------------------------ messages */

void rss_send(rss *r, const char *kind, int to, const word *v, size_t n)
{
    uint8_t *out = net_out(r->nt, to, n * W);
    memcpy(out, v, n * W);
    if (n && net_cheat(r->nt, kind))
        out[0] ^= 1;
}

void rss_expect(rss *r, int from, size_t n) { net_expect(r->nt, from, n * W); }

const uint8_t *rss_recv(rss *r, int from, word *v, size_t stride, size_t n)
{
    const uint8_t *in = net_in(r->nt, from, n * W);
    for (size_t i = 0; i < n; i++)
        memcpy(&v[i * stride], in + i * W, W);
    return in;
}

void rss_hashed(rss *r, int from, int to, const void *v, size_t n)
{
    if (r->j)
        jmp_absorb(r->j, from, to, v, n * W);
}

/* n words of src into dst[i * stride] (src NULL: zeros) */
static void put(word *dst, size_t stride, const word *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i * stride] = src ? src[i] : 0;
}

/* n words drawn from S[k] into dst[i * stride], also returned (allocated) */
static word *draw_put(rss *r, int k, word *dst, size_t stride, size_t n)
{
    word *t = proto_alloc(n * W);
    rss_draw(r, k, t, n);
    put(dst, stride, t, n);
    return t;
}

static word combine(rss_ring ring, word a, word b) { return ring == RSS_BOOL ? a ^ b : a + b; }
static word uncombine(rss_ring ring, word a, word b) { return ring == RSS_BOOL ? a ^ b : a - b; }

/* -------------------------------------------------------- zero sharings */

static void zero(rss *r, rss_ring ring, word *out, size_t n)
{
    word *t = proto_alloc(n * W);
    rss_draw(r, r->me, out, n);
    rss_draw(r, rss_next(r->me), t, n);
    for (size_t i = 0; i < n; i++)
        out[i] = uncombine(ring, out[i], t[i]);
    free(t);
}

void rss_zero(rss *r, word *out, size_t n) { zero(r, RSS_ARITH, out, n); }
void rss_bool_zero(rss *r, word *out, size_t n) { zero(r, RSS_BOOL, out, n); }

/* -------------------------------------------------------------- sharing */

void rss_share_prepare(rss *r, const char *kind, int o, rss_ring ring, const word *x, size_t n, rss_pair y)
{
    if (r->me == o) {
        word *x0 = draw_put(r, o, y.own, y.stride, n), *x1 = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            x1[i] = uncombine(ring, x[i], x0[i]);
        put(y.next, y.stride, x1, n);
        rss_send(r, kind, rss_next(o), x1, n);
        free(x0);
        free(x1);
    } else if (r->me == rss_next(o)) {
        rss_expect(r, o, n);
        put(y.next, y.stride, NULL, n);
    } else {
        free(draw_put(r, o, y.next, y.stride, n));
        put(y.own, y.stride, NULL, n);
    }
}

void rss_share_finish(rss *r, int o, size_t n, rss_pair y)
{
    if (r->me == rss_next(o))
        rss_recv(r, o, y.own, y.stride, n);
}

uint64_t rss_share_cost(int o, size_t n, proto_cost *acc)
{
    acc->bytes[o % 3] += n * W;
    return 1;
}

void rss_share2_prepare(rss *r, int o, rss_ring ring, const word *x, size_t n, rss_pair y)
{
    if (r->me == o) {
        word *x0 = draw_put(r, o, y.own, y.stride, n), *x1 = draw_put(r, rss_next(o), y.next, y.stride, n);
        for (size_t i = 0; i < n; i++)
            x1[i] = uncombine(ring, uncombine(ring, x[i], x0[i]), x1[i]);
        rss_send(r, "deal", rss_next(o), x1, n); /* a cheat changes the first copy only */
        rss_send(r, "deal", rss_prev(o), x1, n);
        free(x0);
        free(x1);
    } else if (r->me == rss_next(o)) {
        free(draw_put(r, rss_next(o), y.own, y.stride, n));
        rss_expect(r, o, n);
    } else {
        free(draw_put(r, o, y.next, y.stride, n));
        rss_expect(r, o, n);
    }
}

void rss_share2_finish(rss *r, int o, size_t n, rss_pair y)
{
    if (r->me == o)
        return;
    const uint8_t *in = rss_recv(r, o, r->me == rss_next(o) ? y.next : y.own, y.stride, n);
    rss_hashed(r, o, r->me, in, n); /* both receivers got the same words: */
    rss_hashed(r, o, 3 - o - r->me, in, n); /* each backs up the other's copy */
}

uint64_t rss_share2_cost(int o, size_t n, proto_cost *acc)
{
    acc->bytes[o % 3] += 2 * n * W;
    return 1;
}

/* -------------------------------------------------------------- opening */

void rss_open_prepare(rss *r, int rc, const word *a, size_t n)
{
    if (r->me == rss_next(rc)) {
        word *x = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            x[i] = a[2 * i + 1];
        rss_send(r, "out-share", rc, x, n);
        free(x);
    }
    else if (r->me == rc)
        rss_expect(r, rss_next(rc), n);
}

void rss_open_finish(rss *r, int rc, const word *a, int64_t *out, size_t n)
{
    if (r->me != rc)
        return;
    const uint8_t *in = net_in(r->nt, rss_next(rc), n * W);
    for (size_t i = 0; i < n; i++) {
        word x;
        memcpy(&x, in + i * W, W);
        out[i] = (int64_t)(a[2 * i] + a[2 * i + 1] + x);
    }
}

uint64_t rss_open_cost(int rc, size_t n, proto_cost *acc)
{
    acc->bytes[rss_next(rc % 3)] += n * W;
    return 1;
}

/* -------------------------------------------------------------- reshare */

static void reshare(rss *r, const char *kind, const word *z, size_t n)
{
    rss_send(r, kind, rss_prev(r->me), z, n);
    rss_expect(r, rss_next(r->me), n);
}

void rss_reshare_prepare(rss *r, const char *kind, const word *z, size_t n) { reshare(r, kind, z, n); }

void rss_reshare_finish(rss *r, const word *z, size_t n, rss_pair y)
{
    put(y.own, y.stride, z, n);
    rss_recv(r, rss_next(r->me), y.next, y.stride, n);
}

uint64_t rss_reshare_cost(size_t n, proto_cost *acc)
{
    for (int k = 0; k < 3; k++)
        acc->bytes[k] += n * W;
    return 1;
}

/* ----------------------------------------------------------------- OT */

/* c all-ones (or bit set): m1; else m0 */
static word pick(word c, word m0, word m1) { return (c & m1) | (~c & m0); }

/* The sender: draws its shares, masks both candidates of y_{s+2} for each
 * receiver with the stream that receiver lacks. */
static void ot_send(rss *r, int s, rss_ring ring, const word *v, size_t n, rss_pair y)
{
    word *ys = draw_put(r, s, y.own, y.stride, n), *w = proto_alloc(2 * n * W);
    rss_draw(r, s, w, 2 * n);
    word *ys1 = draw_put(r, rss_next(s), y.next, y.stride, n), *w2 = proto_alloc(2 * n * W);
    rss_draw(r, rss_next(s), w2, 2 * n);
    word *to1 = proto_alloc(2 * n * W), *to2 = proto_alloc(2 * n * W);
    for (size_t k = 0; k < 2 * n; k++) {
        word m = uncombine(ring, uncombine(ring, v[k], ys[k / 2]), ys1[k / 2]);
        to1[k] = combine(ring, m, w[k]);
        to2[k] = combine(ring, m, w2[k]);
    }
    rss_send(r, "ot-cand", rss_next(s), to1, 2 * n);
    rss_send(r, "ot-cand", rss_prev(s), to2, 2 * n);
    free(ys), free(ys1), free(w), free(w2), free(to1), free(to2);
}

/* A receiver: draws its own streamed share and the masks it helps the other
 * receiver with (the stream it shares with the sender), sends the chosen
 * ones. */
static void ot_help(rss *r, int s, const word *c, size_t n, rss_pair y)
{
    int first = r->me == rss_next(s), other = first ? rss_prev(s) : rss_next(s);
    int k = first ? rss_next(s) : s; /* party s+1: S[s+1]; s+2: S[s] */
    free(draw_put(r, k, first ? y.own : y.next, y.stride, n));
    word *w = proto_alloc(2 * n * W), *sel = proto_alloc(n * W);
    rss_draw(r, k, w, 2 * n);
    for (size_t i = 0; i < n; i++)
        sel[i] = pick(c[i], w[2 * i], w[2 * i + 1]);
    rss_send(r, "ot-helper", other, sel, n);
    rss_expect(r, s, 2 * n);
    rss_expect(r, other, n);
    free(w);
    free(sel);
}

void rss_ot_prepare(rss *r, int s, rss_ring ring, const word *v, const word *c, size_t n, rss_pair y)
{
    if (r->me == s)
        ot_send(r, s, ring, v, n, y);
    else
        ot_help(r, s, c, n, y);
}

void rss_ot_finish(rss *r, int s, rss_ring ring, const word *c, size_t n, rss_pair y)
{
    if (r->me == s)
        return;
    int first = r->me == rss_next(s), other = first ? rss_prev(s) : rss_next(s);
    const uint8_t *cand = net_in(r->nt, s, 2 * n * W), *mask = net_in(r->nt, other, n * W);
    word *dst = first ? y.next : y.own;
    for (size_t i = 0; i < n; i++) {
        word c0, c1, wv;
        memcpy(&c0, cand + 2 * i * W, W);
        memcpy(&c1, cand + (2 * i + 1) * W, W);
        memcpy(&wv, mask + i * W, W);
        dst[i * y.stride] = uncombine(ring, pick(c[i], c0, c1), wv);
    }
}

uint64_t rss_ot_cost(int s, size_t n, proto_cost *acc)
{
    acc->bytes[s] += 4 * n * W;
    acc->bytes[rss_next(s)] += n * W;
    acc->bytes[rss_prev(s)] += n * W;
    return 1;
}

/* ------------------------------------------------ AND with known bits */

void rss_andk_prepare(rss *r, int o, const word *a_known, const word *b, size_t n, rss_pair y)
{
    if (r->me == o) {
        free(draw_put(r, o, y.own, y.stride, n));
        free(draw_put(r, rss_next(o), y.next, y.stride, n));
        return;
    }
    /* o+1: g_{o+1} own, the message kept where g_{o+2} goes (next);
     * o+2: g_o next, the message kept in own */
    int first = r->me == rss_next(o);
    word *g = draw_put(r, first ? rss_next(o) : o, first ? y.own : y.next, y.stride, n);
    for (size_t i = 0; i < n; i++)
        g[i] ^= a_known[i] & b[i];
    put(first ? y.next : y.own, y.stride, g, n);
    rss_send(r, "andk", first ? rss_prev(o) : rss_next(o), g, n);
    rss_expect(r, first ? rss_prev(o) : rss_next(o), n);
    free(g);
}

/* n words at v[i * stride] (allocated) */
static word *gather(const word *v, size_t stride, size_t n)
{
    word *t = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++)
        t[i] = v[i * stride];
    return t;
}

/* rep3-active: P_{o+1}'s m1 = a_{o+1} b ^ g_{o+1} (prev P_o: a_{o+1}, g_{o+1};
 * next P_{o+2}: b, m1) and P_{o+2}'s m2 = b a_o ^ g_o (prev P_{o+1}: b, m2;
 * next P_o: a_o, g_o). sent: this party's message, in: the one received;
 * g: its two shares of g (own, next). */
static void andk_record(rss *r, int o, const word *const a[2], const word *b, const word *sent, const word *in,
                        word *const g[2], size_t n)
{
    int p1 = rss_next(o), p2 = rss_prev(o);
    if (r->me == o) {
        dzkb_bool(r->pb[p1], n, 1, NULL, &a[1], NULL, g[1], NULL);
        dzkb_bool(r->pb[p2], n, 1, NULL, NULL, &a[0], NULL, g[0]);
    } else if (r->me == p1) {
        dzkb_bool(r->pb[p1], n, 1, NULL, &a[0], &b, g[0], sent);
        dzkb_bool(r->pb[p2], n, 1, NULL, &b, NULL, in, NULL);
    } else {
        dzkb_bool(r->pb[p2], n, 1, NULL, &b, &a[1], sent, g[1]);
        dzkb_bool(r->pb[p1], n, 1, NULL, NULL, &b, NULL, in);
    }
}

void rss_andk_finish(rss *r, int o, const word *const a[2], const word *b, size_t n, rss_pair y)
{
    int first = r->me == rss_next(o);
    word *in = NULL, *sent = NULL, *d = first ? y.next : y.own;
    if (r->me != o) {
        in = proto_alloc(n * W);
        rss_recv(r, first ? rss_prev(o) : rss_next(o), in, 1, n);
        sent = gather(d, y.stride, n); /* prepare kept the message where g_{o+2} goes */
        const word *late = a[first];  /* a_{o+2}: o+1's second share, o+2's first */
        for (size_t i = 0; i < n; i++)
            d[i * y.stride] ^= in[i] ^ (late[i] & b[i]);
    }
    if (r->pb[0]) {
        word *g[2] = {gather(y.own, y.stride, n), gather(y.next, y.stride, n)};
        andk_record(r, o, a, b, sent, in, g, n);
        free(g[0]), free(g[1]);
    }
    free(in);
    free(sent);
}

uint64_t rss_andk_cost(int o, size_t n, proto_cost *acc)
{
    acc->bytes[rss_next(o % 3)] += n * W;
    acc->bytes[rss_prev(o % 3)] += n * W;
    return 1;
}

/* ------------------------------------------------------------ AND level */

static word and3(word x0, word x1, word y0, word y1) { return (x0 & y0) ^ (x0 & y1) ^ (x1 & y0); }

size_t rss_and_words(const rss *r, size_t m, size_t nw) { return (r->pb[0] ? 3 : 1) * m * nw; }

void rss_and_prepare(rss *r, const rss_and_gate *g, size_t m, size_t nw, word *z)
{
    size_t mn = m * nw;
    if (r->pb[0]) { /* the zero share's parts F(S[me]), F(S[me+1]) kept after z */
        rss_draw(r, r->me, z + mn, mn);
        rss_draw(r, rss_next(r->me), z + 2 * mn, mn);
        for (size_t q = 0; q < mn; q++)
            z[q] = z[mn + q] ^ z[2 * mn + q];
    } else {
        rss_bool_zero(r, z, mn);
    }
    for (size_t k = 0; k < m; k++)
        for (size_t q = 0; q < nw; q++)
            z[k * nw + q] ^= and3(g[k].x[0][q], g[k].x[1][q], g[k].y[0][q], g[k].y[1][q]);
    reshare(r, "and", z, mn);
}

/* rep3-active: gate k's statement of each prover (rss.h); zin is the
 * message received (z_{me+1}), f the zero share's parts */
static void and_record(rss *r, const rss_and_gate *g, const word *z, const word *zin, size_t m, size_t nw)
{
    int me = r->me;
    const word *fme = z + m * nw, *fnext = z + 2 * m * nw;
    word *t = proto_alloc(nw * W);
    for (size_t k = 0; k < m; k++) {
        size_t o = k * nw;
        const word *x[2] = {g[k].x[0], g[k].y[0]}, *y[2] = {g[k].y[1], g[k].x[1]};
        for (size_t q = 0; q < nw; q++) /* as prover: all of it */
            t[q] = z[o + q] ^ (g[k].x[0][q] & g[k].y[0][q]) ^ fme[o + q];
        dzkb_bool(r->pb[me], nw, 2, NULL, x, y, t, fnext + o);
        const word *xp[2] = {g[k].x[1], g[k].y[1]}; /* as prev of P_{me+1}: x_{me+1}, y_{me+1} */
        for (size_t q = 0; q < nw; q++)
            t[q] = zin[o + q] ^ (g[k].x[1][q] & g[k].y[1][q]) ^ fnext[o + q];
        dzkb_bool(r->pb[rss_next(me)], nw, 2, NULL, xp, NULL, t, NULL);
        const word *yn[2] = {g[k].y[0], g[k].x[0]}; /* as next of P_{me-1}: y_me, x_me */
        dzkb_bool(r->pb[rss_prev(me)], nw, 2, NULL, NULL, yn, NULL, fme + o);
    }
    free(t);
}

void rss_and_finish(rss *r, const rss_and_gate *g, const word *z, size_t m, size_t nw, rss_pair y)
{
    rss_reshare_finish(r, z, m * nw, y);
    if (r->pb[0]) {
        word *zin = gather(y.next, y.stride, m * nw);
        and_record(r, g, z, zin, m, nw);
        free(zin);
    }
}

uint64_t rss_and_cost(size_t m, size_t nw, proto_cost *acc) { return rss_reshare_cost(m * nw, acc); }

/* ----------------------------------------------------------- carry tree */

/* level's gates: P[hi] AND G[lo], or P[hi] AND P[lo] (allocated, with bg) */
static rss_and_gate *level_gates(const rss_carry *c, int level, size_t *m, bits_gate **bg)
{
    size_t nw = c->nw;
    *bg = bits_level_gates(c->L, level, c->full, m);
    rss_and_gate *g = proto_alloc(*m * sizeof *g);
    for (size_t k = 0; k < *m; k++) {
        word *const *y = (*bg)[k].second ? c->p : c->g;
        for (int h = 0; h < 2; h++) {
            g[k].x[h] = c->p[h] + (*bg)[k].hi * nw;
            g[k].y[h] = y[h] + (*bg)[k].lo * nw;
        }
    }
    return g;
}

void rss_carry_prepare(rss *r, rss_carry *c, int level)
{
    size_t m;
    bits_gate *bg;
    rss_and_gate *g = level_gates(c, level, &m, &bg);
    c->z = proto_alloc(rss_and_words(r, m, c->nw) * W);
    rss_and_prepare(r, g, m, c->nw, c->z);
    free(g);
    free(bg);
}

/* G[lo] = G[hi] ^ (P[hi] AND G[lo]); P[lo] = P[hi] AND P[lo] */
void rss_carry_finish(rss *r, rss_carry *c, int level)
{
    size_t m, nw = c->nw;
    bits_gate *bg;
    rss_and_gate *g = level_gates(c, level, &m, &bg);
    word *zn = proto_alloc(m * nw * W);
    rss_and_finish(r, g, c->z, m, nw, rss_planes(c->z, zn));
    word *const z[2] = {c->z, zn};
    for (size_t k = 0; k < m; k++)
        for (int h = 0; h < 2; h++) {
            word *lo = (bg[k].second ? c->p[h] : c->g[h]) + bg[k].lo * nw;
            const word *hi = c->g[h] + bg[k].hi * nw, *zk = z[h] + k * nw;
            for (size_t q = 0; q < nw; q++)
                lo[q] = bg[k].second ? zk[q] : hi[q] ^ zk[q];
        }
    free(zn);
    free(c->z);
    c->z = NULL;
    free(g);
    free(bg);
}

void rss_carry_free(rss_carry *c)
{
    for (int h = 0; h < 2; h++) {
        free(c->g[h]);
        free(c->p[h]);
        c->g[h] = c->p[h] = NULL;
    }
    free(c->z);
    c->z = NULL;
}

uint64_t rss_carry_cost(uint32_t L, int full, size_t nw, proto_cost *acc)
{
    int K = bits_levels(L);
    for (int k = 1; k <= K; k++) {
        size_t m;
        bits_level_ands(L, k, full, &m);
        rss_and_cost(m, nw, acc);
    }
    return (uint64_t)K;
}

/* ---------------------------------------------------------------- split */

void rss_split_prepare(rss *r, const char *kind, int s, word *x, word *e, size_t m)
{
    if (r->me == s) {
        word *ev = e ? e : proto_alloc(m * W);
        rss_draw(r, rss_next(s), ev, m);
        for (size_t i = 0; i < m; i++)
            x[i] -= ev[i];
        rss_send(r, kind, rss_prev(s), x, m);
        if (!e)
            free(ev);
    } else if (r->me == rss_next(s)) {
        rss_draw(r, rss_next(s), x, m);
    } else {
        rss_expect(r, s, m);
    }
}

void rss_split_finish(rss *r, int s, word *x, size_t m)
{
    if (r->me == rss_prev(s))
        rss_recv(r, s, x, 1, m);
}

uint64_t rss_split_cost(int s, size_t m, proto_cost *acc)
{
    acc->bytes[s] += m * W;
    return 1;
}

/* ------------------------------------------ additive to replicated */

/* sum over k of parts X_k times Y_k for value i */
static word a2r_dot(const rss_a2r_def *d, const word *parts, size_t n, size_t i)
{
    word v = 0;
    for (uint32_t k = 0; k < d->m; k++)
        v += parts[k * n + i] * d->Y[i * d->m + k];
    return v;
}

static word a2r_loc(const rss_a2r_def *d, size_t i) { return d->loc ? d->loc[i] : 0; }

/* The statements' length: sign01 takes one term into t (rss.h) */
static uint32_t a2r_len(const rss_a2r_def *d)
{
    if (d->sign01 && d->m < 2)
        abort(); /* a bug: sign01 needs Y_0 and Y_1 */
    return d->m - (d->sign01 != 0);
}

/* the split's parts (X_k of value i at k n + i) in the statements' order,
 * value i's a2r_len terms at i a2r_len (allocated); with sign01, t[i] (the
 * statement's share beside them) less part 0 */
static word *a2r_terms(const rss_a2r_def *d, const word *parts, size_t n, word *t)
{
    uint32_t m = a2r_len(d), k0 = d->m - m;
    word *out = proto_alloc(n * m * W);
    for (size_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < m; k++)
            out[i * m + k] = parts[(k + k0) * n + i];
        if (k0)
            out[i * m] -= 2 * parts[i], t[i] -= parts[i];
    }
    return out;
}

/* Y, for a statement store to keep: Y_k of value i at i a2r_len + k - 1 with sign01 */
static word *a2r_y(const rss_a2r_def *d, size_t n)
{
    uint32_t m = a2r_len(d), k0 = d->m - m;
    word *y = proto_alloc(n * m * W);
    for (size_t i = 0; i < n; i++) {
        if (k0 && d->Y[i * d->m] != 1 - 2 * d->Y[i * d->m + 1])
            abort(); /* a bug: the statement would not be the message's relation */
        memcpy(y + i * m, d->Y + i * d->m + k0, m * W);
    }
    return y;
}

/* The first message m1 = p_{s+1} - y_{s+1} as prover s+1's statement
 *   sum_k e_k Y_k = y_{s+1} + (m1 - loc):
 * a = e and t_p = y_{s+1} at prev (s), b = Y and t_n = m1 - loc at next
 * (s+2). m1 is what next received (in), what the prover sent. */
static void a2r_record1(rss *r, int s, const rss_a2r_def *d, const word *in, size_t n, rss_pair y)
{
    int p1 = rss_next(s);
    word *a = NULL, *tp = NULL, *tn = NULL;
    if (r->me != s) { /* the prover and next: b = Y, t_n */
        tn = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            tn[i] = r->me == p1 ? a2r_dot(d, d->x, n, i) - y.own[i * y.stride] : in[i] - a2r_loc(d, i);
    }
    if (r->me != rss_prev(s)) { /* the prover and prev: a = e, t_p = y_{s+1} */
        const word *e = r->me == s ? d->e : d->x;
        tp = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            tp[i] = r->me == s ? y.next[i * y.stride] : y.own[i * y.stride];
        a = a2r_terms(d, e, n, tp);
    }
    dzka_arith_take(r->pa[p1], n, a2r_len(d), a, r->me != s ? a2r_y(d, n) : NULL, tp, tn);
}

/* The second message y_{s+2} as prover s+2's statement
 *   sum_k Y_k f_k = (y_{s+2} - m1) + y_s:
 * a = Y and t_p at prev (s+1, which sent m1), b = f and t_n = y_s at next
 * (s). */
static void a2r_record2(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y)
{
    int p2 = rss_prev(s);
    word *b = NULL, *tp = NULL, *tn = NULL;
    if (r->me != s) { /* the prover and prev: a = Y, t_p */
        tp = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++) {
            if (r->me == p2) /* y_{s+2} - m1 = p_{s+2} - y_s */
                tp[i] = a2r_dot(d, d->x, n, i) - y.next[i * y.stride];
            else /* received y_{s+2}, sent m1 = p_{s+1} - y_{s+1} */
                tp[i] = y.next[i * y.stride] - (a2r_dot(d, d->x, n, i) + a2r_loc(d, i) - y.own[i * y.stride]);
        }
    }
    if (r->me != rss_next(s)) { /* the prover and next: b = f, t_n = y_s */
        tn = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            tn[i] = r->me == s ? y.own[i * y.stride] : y.next[i * y.stride];
        b = a2r_terms(d, d->x, n, tn);
    }
    dzka_arith_take(r->pa[p2], n, a2r_len(d), r->me != s ? a2r_y(d, n) : NULL, b, tp, tn);
}

/* party me's additive share (s+1, s+2) from the definition */
static word *a2r_share(const rss_a2r_def *d, int first, size_t n)
{
    word *p = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++)
        p[i] = a2r_dot(d, d->x, n, i) + (first ? a2r_loc(d, i) : 0);
    return p;
}

void rss_a2r_prepare(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y)
{
    if (r->me == s) {
        free(draw_put(r, rss_next(s), y.next, y.stride, n));
        free(draw_put(r, s, y.own, y.stride, n));
    } else if (r->me == rss_next(s)) {
        word *m = draw_put(r, rss_next(s), y.own, y.stride, n), *p = a2r_share(d, 1, n);
        for (size_t i = 0; i < n; i++)
            m[i] = p[i] - m[i];
        rss_send(r, d->sign01 ? "clamp-a2r" : "a2r", rss_prev(s), m, n);
        free(m);
        free(p);
    } else {
        free(draw_put(r, s, y.next, y.stride, n));
        rss_expect(r, rss_next(s), n);
    }
}

void rss_a2r_finish(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y)
{
    word *in = NULL;
    if (r->me == rss_prev(s)) {
        word *p = a2r_share(d, 0, n);
        in = proto_alloc(n * W);
        rss_recv(r, rss_next(s), in, 1, n);
        for (size_t i = 0; i < n; i++)
            y.own[i * y.stride] = in[i] + p[i] - y.next[i * y.stride];
        free(p);
    }
    if (r->pa[0])
        a2r_record1(r, s, d, in, n, y);
    free(in);
}

void rss_a2r_send_prepare(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y)
{
    if (r->me == rss_prev(s)) {
        word *t = proto_alloc(n * W);
        for (size_t i = 0; i < n; i++)
            t[i] = y.own[i * y.stride];
        rss_send(r, d->sign01 ? "clamp-a2r-send" : "a2r-send", rss_next(s), t, n);
        free(t);
    } else if (r->me == rss_next(s)) {
        rss_expect(r, rss_prev(s), n);
    }
}

void rss_a2r_send_finish(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y)
{
    if (r->me == rss_next(s))
        rss_recv(r, rss_prev(s), y.next, y.stride, n);
    if (r->pa[0])
        a2r_record2(r, s, d, n, y);
}

uint64_t rss_a2r_cost(int s, size_t n, proto_cost *acc)
{
    acc->bytes[rss_next(s)] += n * W;
    acc->bytes[rss_prev(s)] += n * W;
    return 2;
}

/* ------------------------------------------------------ table lookup */

/* the stream of the masks w (s and s+2), from the seed drawn from S[s] */
static prg *lut_masks(const rss_lut *l)
{
    prg *w = prg_new((const uint8_t *)l->seed);
    if (!w)
        abort();
    return w;
}

/* V_i as s sends it: 256 words into out (unaligned) */
static void lut_row(const int64_t *T, int64_t lo, uint8_t r, word ys, word ys1, prg *w, uint8_t *out)
{
    word v[256];
    prg_fill(w, v, sizeof v);
    for (int k = 0; k < 256; k++)
        v[k] += (word)T[(uint8_t)(k - r - lo)] - ys - ys1;
    memcpy(out, v, sizeof v);
}

static void lut_send(rss *r, rss_lut *l, int s, const int64_t *T, int64_t lo, const word *a, size_t n, rss_pair y)
{
    uint8_t *rr = proto_alloc(n);
    prg_fill(r->own, rr, n);
    word *ys = proto_alloc(n * W), *ys1 = proto_alloc(n * W);
    rss_draw(r, s, ys, n);
    rss_draw(r, s, l->seed, 2);
    rss_draw(r, rss_next(s), ys1, n);
    uint8_t *m1 = net_out(r->nt, rss_next(s), n), *m2 = net_out(r->nt, rss_prev(s), n);
    for (size_t i = 0; i < n; i++) {
        m1[i] = (uint8_t)(a[2 * i] + rr[i]);
        m2[i] = (uint8_t)(a[2 * i + 1] + rr[i]);
    }
    if (n && net_cheat(r->nt, "lut-open"))
        m1[0] ^= 1;
    prg *w = lut_masks(l);
    uint8_t *out = net_out(r->nt, rss_next(s), 256 * n * W);
    for (size_t i = 0; i < n; i++)
        lut_row(T, lo, rr[i], ys[i], ys1[i], w, out + 256 * i * W);
    if (n && net_cheat(r->nt, "lut-table"))
        out[0] ^= 1;
    prg_free(w);
    for (size_t i = 0; i < n; i++)
        y.own[i * y.stride] = ys[i], y.next[i * y.stride] = ys1[i];
    free(rr), free(ys), free(ys1);
}

void rss_lut_prepare(rss *r, rss_lut *l, int step, int s, const int64_t *T, int64_t lo, const word *a, size_t n,
                     rss_pair y)
{
    int first = r->me == rss_next(s), other = first ? rss_prev(s) : rss_next(s);
    if (step == 0) {
        if (r->me == s)
            return lut_send(r, l, s, T, lo, a, n, y);
        l->keep = proto_alloc(n * W);
        rss_draw(r, first ? rss_next(s) : s, l->keep, n);
        if (!first)
            rss_draw(r, s, l->seed, 2);
        net_expect(r->nt, s, n + (first ? 256 * n * W : 0));
        return;
    }
    if (r->me == s)
        return;
    rss_send(r, first ? "lut-entry" : "lut-mask", other, l->sel, n);
    rss_expect(r, other, n);
}

/* u_i = x_i + r_i mod 256: the byte from s and the receiver's two shares */
static void lut_index(rss *r, int s, const word *a, size_t n, uint8_t *u)
{
    const uint8_t *m = net_in(r->nt, s, n);
    for (size_t i = 0; i < n; i++)
        u[i] = (uint8_t)(m[i] + a[2 * i] + a[2 * i + 1]);
}

void rss_lut_finish(rss *r, rss_lut *l, int step, int s, const word *a, size_t n, rss_pair y)
{
    if (r->me == s)
        return;
    int first = r->me == rss_next(s), other = first ? rss_prev(s) : rss_next(s);
    if (step == 0) {
        uint8_t *u = proto_alloc(n);
        lut_index(r, s, a, n, u);
        l->sel = proto_alloc(n * W);
        if (first) {
            const uint8_t *V = net_in(r->nt, s, 256 * n * W);
            for (size_t i = 0; i < n; i++)
                memcpy(&l->sel[i], V + (256 * i + u[i]) * W, W);
        } else {
            prg *w = lut_masks(l);
            word v[256];
            for (size_t i = 0; i < n; i++) {
                prg_fill(w, v, sizeof v);
                l->sel[i] = v[u[i]];
            }
            prg_free(w);
        }
        free(u);
        return;
    }
    word *got = proto_alloc(n * W);
    rss_recv(r, other, got, 1, n);
    for (size_t i = 0; i < n; i++) { /* y_{s+2} = V_i[u_i] - w_{i,u_i} */
        word y2 = first ? l->sel[i] - got[i] : got[i] - l->sel[i];
        if (first)
            y.own[i * y.stride] = l->keep[i], y.next[i * y.stride] = y2;
        else
            y.own[i * y.stride] = y2, y.next[i * y.stride] = l->keep[i];
    }
    free(got);
}

void rss_lut_free(rss_lut *l)
{
    memset(l->seed, 0, sizeof l->seed);
    free(l->keep), free(l->sel);
    l->keep = l->sel = NULL;
}

uint64_t rss_lut_cost(int s, size_t n, proto_cost *acc)
{
    acc->bytes[s] += 2 * n + 256 * n * W;
    acc->bytes[rss_next(s)] += n * W;
    acc->bytes[rss_prev(s)] += n * W;
    return 2;
}
