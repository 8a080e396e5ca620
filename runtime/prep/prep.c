/* prep: preprocessing (see prep.h): the catalog, made by the dealer source
 * over seeded streams. */
#include "runtime/prep/prep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/core/kernels.h"
#include "runtime/net/prg.h"
#include "runtime/proto/proto.h"

#define PREP_BUF ((size_t)1 << 20)

struct prep {
    int me, n;
    net *nt;
    prg *g[PROTO_MAX_PARTIES]; /* party: g[0]; dealer: one per party */
    unsigned char *buf;        /* dealer: corrections not yet sent */
    size_t len;
    int failed;
    char err[256];
    el alpha;        /* dealer: the MAC key */
    el_dom dom;      /* the authenticated catalog's domain (prep_mac_key) */
    prg *own;        /* dealer, F_p: its own stream, for the bounded masks */
};

prep *prep_open(net *nt, int me, int n, char *err, size_t errlen)
{
    prep *p = proto_zalloc(sizeof *p);
    p->me = me;
    p->n = n;
    p->nt = nt;
    if (me == n) {
        p->buf = proto_alloc(PREP_BUF);
        for (int i = 0; i < n; i++) {
            unsigned char seed[16];
            if (prg_seed(seed) != 0 || !(p->g[i] = prg_new(seed))) {
                snprintf(err, errlen, "dealer: cannot seed the PRGs");
                prep_close(p);
                return NULL;
            }
            memcpy(net_out(nt, i, 16), seed, 16);
            memset(seed, 0, sizeof seed);
        }
    } else {
        net_expect(nt, n, 16);
    }
    if (net_round(nt, err, errlen) != 0) {
        prep_close(p);
        return NULL;
    }
    if (me < n && !(p->g[0] = prg_new(net_in(nt, n, 16)))) {
        snprintf(err, errlen, "cannot start the PRG");
        prep_close(p);
        return NULL;
    }
    return p;
}

void prep_close(prep *p)
{
    if (!p)
        return;
    for (int i = 0; i < PROTO_MAX_PARTIES; i++)
        prg_free(p->g[i]);
    prg_free(p->own);
    free(p->buf);
    free(p);
}

/* ---- the dealer source's streams: a party draws from its own (g[0]) and
 * party N-1 reads its corrections; the dealer draws every party's and
 * buffers the corrections for party N-1 ---- */

static void prep_draw(prep *p, void *out, size_t nbytes) { prg_fill(p->g[0], out, nbytes); }

static void prep_draw_for(prep *p, int party, void *out, size_t nbytes) { prg_fill(p->g[party], out, nbytes); }

static void prep_read(prep *p, void *out, size_t nbytes)
{
    if (p->failed || net_recv(p->nt, p->n, out, nbytes, p->err, sizeof p->err) != 0) {
        p->failed = 1;
        memset(out, 0, nbytes);
    }
}

void prep_flush(prep *p)
{
    if (!p->failed && p->len && net_send(p->nt, p->n - 1, p->buf, p->len, p->err, sizeof p->err) != 0)
        p->failed = 1;
    p->len = 0;
}

static void prep_write(prep *p, const void *c, size_t nbytes)
{
    const unsigned char *b = c;
    while (nbytes) {
        size_t k = PREP_BUF - p->len < nbytes ? PREP_BUF - p->len : nbytes;
        memcpy(p->buf + p->len, b, k);
        p->len += k;
        b += k;
        nbytes -= k;
        if (p->len == PREP_BUF)
            prep_flush(p);
    }
}

int prep_error(const prep *p, char *err, size_t errlen)
{
    if (!p->failed)
        return 0;
    snprintf(err, errlen, "preprocessing: %s", p->err);
    return -1;
}

int prep_dealer(const prep *p) { return p->me == p->n; }

/* ---------------------------------------------------------- the catalog */

#define W sizeof(uint64_t)

/* A random dealt vector: party: its share, drawn; dealer: the value, the
 * sum (or xor) of every party's stream. */
static void random_vec(prep *p, uint64_t *x, size_t n, int boolean)
{
    if (!prep_dealer(p)) {
        prep_draw(p, x, n * W);
        return;
    }
    uint64_t *t = proto_alloc(n * W);
    memset(x, 0, n * W);
    for (int i = 0; i < p->n; i++) {
        prep_draw_for(p, i, t, n * W);
        for (size_t k = 0; k < n; k++)
            x[k] = boolean ? x[k] ^ t[k] : x[k] + t[k];
    }
    free(t);
}

/* A derived dealt vector: parties 0..N-2 draw their shares, party N-1
 * reads its correction, which the dealer computes from the value x. */
static void value_vec(prep *p, uint64_t *x, size_t n, int boolean)
{
    if (!prep_dealer(p)) {
        if (p->me < p->n - 1)
            prep_draw(p, x, n * W);
        else
            prep_read(p, x, n * W);
        return;
    }
    uint64_t *c = proto_alloc(n * W), *t = proto_alloc(n * W);
    memcpy(c, x, n * W);
    for (int i = 0; i < p->n - 1; i++) {
        prep_draw_for(p, i, t, n * W);
        for (size_t k = 0; k < n; k++)
            c[k] = boolean ? c[k] ^ t[k] : c[k] - t[k];
    }
    prep_write(p, c, n * W);
    free(c);
    free(t);
}

/* Scratch for the dealer's values where the caller passes NULL. */
static uint64_t *vec(uint64_t *x, size_t n, uint64_t **own)
{
    if (x)
        return x;
    return *own = proto_alloc(n ? n * W : W);
}

void prep_triples(prep *p, const prep_shape *sh, uint64_t *a, uint64_t *b, uint64_t *c)
{
    uint64_t *fa = NULL, *fb = NULL, *fc = NULL;
    a = vec(a, sh->na, &fa), b = vec(b, sh->nb, &fb), c = vec(c, sh->n, &fc);
    random_vec(p, a, sh->na, 0);
    random_vec(p, b, sh->nb, 0);
    if (prep_dealer(p)) {
        if (sh->kind == PREP_MUL)
            for (size_t k = 0; k < sh->n; k++)
                c[k] = a[k] * b[k % sh->nb];
        else if (sh->kind == PREP_CONV2D)
            kern_conv2d(c, a, b, &sh->g, sh->channels);
        else
            kern_dwconv2d(c, a, b, &sh->g, sh->channels);
    }
    value_vec(p, c, sh->n, 0);
    free(fa), free(fb), free(fc);
}

/* R and v of truncation pairs from r */
static void trunc_parts(size_t n, const uint8_t *d, const uint64_t *r, uint64_t *R, uint64_t *v)
{
    for (size_t k = 0; k < n; k++) {
        R[k] = proto_trunc_low(r[k], d[k]);
        v[k] = r[k] >> 63;
    }
}

void prep_trunc(prep *p, size_t n, const uint8_t *d, uint64_t *r, uint64_t *R, uint64_t *v)
{
    uint64_t *fr = NULL, *fR = NULL, *fv = NULL;
    r = vec(r, n, &fr), R = vec(R, n, &fR), v = vec(v, n, &fv);
    random_vec(p, r, n, 0);
    if (prep_dealer(p))
        trunc_parts(n, d, r, R, v);
    value_vec(p, R, n, 0);
    value_vec(p, v, n, 0);
    free(fr), free(fR), free(fv);
}

void prep_trunc_bits(prep *p, size_t n, const uint8_t *d, uint8_t dmin, uint32_t L, uint64_t *r,
                     uint64_t *R, uint64_t *v, uint64_t *planes)
{
    size_t nw = bits_words(n), np = (L + 1) * nw;
    uint64_t *fr = NULL, *fR = NULL, *fv = NULL, *fp = NULL;
    r = vec(r, n, &fr), R = vec(R, n, &fR), v = vec(v, n, &fv), planes = vec(planes, np, &fp);
    random_vec(p, r, n, 0);
    if (prep_dealer(p)) {
        uint64_t *Q = proto_alloc(n * W);
        trunc_parts(n, d, r, R, v);
        for (size_t k = 0; k < n; k++)
            Q[k] = (R[k] << (d[k] - dmin)) + (63 - dmin == (int)L ? v[k] << L : 0);
        bits_pack(Q, 1, n, L + 1, planes, nw);
        free(Q);
    }
    value_vec(p, R, n, 0);
    value_vec(p, v, n, 0);
    value_vec(p, planes, np, 1);
    free(fr), free(fR), free(fv), free(fp);
}

void prep_masked_bits(prep *p, size_t n, uint32_t L, uint64_t *r, uint64_t *planes)
{
    size_t nw = bits_words(n), np = (L + 1) * nw;
    uint64_t *fr = NULL, *fp = NULL;
    r = vec(r, n, &fr), planes = vec(planes, np, &fp);
    random_vec(p, r, n, 0);
    if (prep_dealer(p))
        bits_pack(r, 1, n, L + 1, planes, nw);
    value_vec(p, planes, np, 1);
    free(fr), free(fp);
}

void prep_and_triples(prep *p, size_t m, uint64_t *a, uint64_t *b, uint64_t *c)
{
    uint64_t *fa = NULL, *fb = NULL, *fc = NULL;
    a = vec(a, m, &fa), b = vec(b, m, &fb), c = vec(c, m, &fc);
    random_vec(p, a, m, 1);
    random_vec(p, b, m, 1);
    if (prep_dealer(p))
        for (size_t q = 0; q < m; q++)
            c[q] = a[q] & b[q];
    value_vec(p, c, m, 1);
    free(fa), free(fb), free(fc);
}

void prep_dabits(prep *p, size_t n, uint64_t *plane, uint64_t *arith)
{
    size_t nw = bits_words(n);
    uint64_t *fp = NULL, *fa = NULL;
    plane = vec(plane, nw, &fp), arith = vec(arith, n, &fa);
    random_vec(p, plane, nw, 1);
    if (prep_dealer(p))
        for (size_t k = 0; k < n; k++)
            arith[k] = bits_get(plane, k);
    value_vec(p, arith, n, 0);
    free(fp), free(fa);
}

void prep_onehot8(prep *p, size_t n, uint64_t *r, uint64_t *oh)
{
    uint64_t *fr = NULL, *fo = NULL;
    r = vec(r, n, &fr), oh = vec(oh, 256 * n, &fo);
    random_vec(p, r, n, 0);
    if (prep_dealer(p)) {
        memset(oh, 0, 256 * n * W);
        for (size_t k = 0; k < n; k++)
            oh[(r[k] & 255) * n + k] = 1;
    }
    value_vec(p, oh, 256 * n, 0);
    free(fr), free(fo);
}

/* ------------------------------------------ authenticated, over Z_2^128 */

#define V sizeof(el)

void prep_avec_alloc(prep_avec *v, size_t n)
{
    v->n = n;
    v->x = proto_alloc(n ? n * V : V);
    v->m = proto_alloc(n ? n * V : V);
}

void prep_avec_free(prep_avec *v)
{
    free(v->x);
    free(v->m);
    v->x = v->m = NULL;
}

/* n elements of the domain from a party's stream (the dealer: party's) */
static void draw_els(prep *p, int party, el *out, size_t n)
{
    if (prep_dealer(p))
        prep_draw_for(p, party, out, n * V);
    else
        prep_draw(p, out, n * V);
    el_random_vec(p->dom, out, n);
}

/* Party N-1's corrections: over F_p an element from the dealer is refused
 * unless canonical, as every received element is. */
static void read_els(prep *p, el *out, size_t n)
{
    prep_read(p, out, n * V);
    for (size_t k = 0; k < n && !p->failed; k++)
        if (!el_canonical(p->dom, out[k])) {
            p->failed = 1;
            snprintf(p->err, sizeof p->err, "the dealer sent a malformed element (not below p)");
        }
}

/* n integers uniform in [0, 2^bits) that only the dealer draws (bits <= 126) */
static void dealer_bounded(prep *p, el *out, size_t n, unsigned bits)
{
    prg_fill(p->own, out, n * V);
    for (size_t k = 0; k < n; k++)
        out[k] &= el_pow2(bits) - 1;
}

el prep_mac_key(prep *p, el_dom dom)
{
    p->dom = dom;
    el a = 0;
    size_t len = dom == EL_FP ? V : sizeof(uint64_t); /* SPDZ2k's key has s = 64 bits */
    if (!prep_dealer(p)) {
        prep_draw(p, &a, len);
        return el_random(dom, a);
    }
    for (int i = 0; i < p->n; i++) {
        a = 0;
        prep_draw_for(p, i, &a, len);
        p->alpha = el_add(dom, p->alpha, el_random(dom, a));
    }
    uint8_t seed[16];
    if (dom == EL_FP && (prg_seed(seed) != 0 || !(p->own = prg_new(seed))))
        abort();
    memset(seed, 0, sizeof seed);
    return p->alpha;
}

/* d += x . y of the shape, over F_p through fp127's kernels (copies: the
 * kernels take fp127, the catalog el) */
static void conv_fp(el_dom dom, const prep_shape *sh, el *d, const el *x, const el *y)
{
    fp127 *a = proto_alloc(sh->na * sizeof *a), *b = proto_alloc(sh->nb * sizeof *b),
          *c = proto_alloc(sh->n * sizeof *c);
    for (size_t k = 0; k < sh->na; k++)
        a[k] = fp127_of(x[k]);
    for (size_t k = 0; k < sh->nb; k++)
        b[k] = fp127_of(y[k]);
    if (sh->kind == PREP_CONV2D)
        kern_conv2d_fp(c, a, b, &sh->g, sh->channels);
    else
        kern_dwconv2d_fp(c, a, b, &sh->g, sh->channels);
    for (size_t k = 0; k < sh->n; k++)
        d[k] = el_add(dom, d[k], fp127_u(c[k]));
    free(a), free(b), free(c);
}

void prep_product_add(el_dom dom, const prep_shape *sh, el *d, const el *x, const el *y)
{
    size_t n = sh->n, cols = sh->cols ? sh->cols : 1;
    switch (sh->kind) {
    case PREP_MUL:
        PERIODIC_LOOP(n, sh->nb) d[i] = el_add(dom, d[i], el_mul(dom, x[i], y[j]));
        return;
    case PREP_GROUPED:
        for (size_t k = 0; k < n / cols; k++)
            for (size_t q = 0; q < sh->cols; q++)
                d[k * cols + q] = el_add(dom, d[k * cols + q], el_mul(dom, x[sh->xi[k] * cols + q], y[k * cols + q]));
        return;
    case PREP_CONV2D:
    case PREP_DWCONV2D: break;
    }
    if (dom == EL_FP) {
        conv_fp(dom, sh, d, x, y);
        return;
    }
    el *tmp = proto_alloc(n * V);
    if (sh->kind == PREP_CONV2D)
        kern_conv2d_128(tmp, x, y, &sh->g, sh->channels);
    else
        kern_dwconv2d_128(tmp, x, y, &sh->g, sh->channels);
    for (size_t k = 0; k < n; k++)
        d[k] += tmp[k];
    free(tmp);
}

/* Dealer: party N-1's share of the values c (consumed): c less what
 * parties 0..N-2 draw, streamed to party N-1. */
static void correction(prep *p, el *c, size_t n)
{
    el *t = proto_alloc(n * V);
    for (int i = 0; i < p->n - 1; i++) {
        draw_els(p, i, t, n);
        for (size_t k = 0; k < n; k++)
            c[k] = el_sub(p->dom, c[k], t[k]);
    }
    prep_write(p, c, n * V);
    free(t);
}

/* The MAC shares of v, whose values are set: parties 0..N-2 draw theirs,
 * party N-1 reads its correction, which the dealer computes. */
static void macs(prep *p, prep_avec *v)
{
    size_t n = v->n;
    if (!prep_dealer(p)) {
        if (p->me < p->n - 1)
            draw_els(p, p->me, v->m, n);
        else
            read_els(p, v->m, n);
        return;
    }
    el *c = proto_alloc(n * V);
    for (size_t k = 0; k < n; k++)
        c[k] = el_mul(p->dom, p->alpha, v->x[k]);
    correction(p, c, n);
    free(c);
}

void prep_auth_random(prep *p, prep_avec *v, size_t n)
{
    prep_avec_alloc(v, n);
    if (!prep_dealer(p)) {
        draw_els(p, p->me, v->x, n);
    } else {
        el *t = proto_alloc(n * V);
        memset(v->x, 0, n * V);
        for (int i = 0; i < p->n; i++) {
            draw_els(p, i, t, n);
            for (size_t k = 0; k < n; k++)
                v->x[k] = el_add(p->dom, v->x[k], t[k]);
        }
        free(t);
    }
    macs(p, v);
}

void prep_auth_owned(prep *p, prep_avec *v, size_t n, int owner)
{
    prep_avec_alloc(v, n);
    if (prep_dealer(p) || p->me == owner)
        draw_els(p, owner, v->x, n);
    else
        memset(v->x, 0, n * V);
    macs(p, v);
}

/* A derived vector: the dealer's values in v->x (allocated by the caller);
 * parties 0..N-2 draw their value shares, party N-1 reads its own. */
static void auth_value(prep *p, prep_avec *v, size_t n)
{
    if (!prep_dealer(p)) {
        prep_avec_alloc(v, n);
        if (p->me < p->n - 1)
            draw_els(p, p->me, v->x, n);
        else
            read_els(p, v->x, n);
    } else {
        el *c = proto_alloc(n ? n * V : V);
        memcpy(c, v->x, n * V);
        correction(p, c, n);
        free(c);
    }
    macs(p, v);
}

/* Values the owner and the dealer derive themselves (v->x set by the
 * caller there): only MACs are dealt. */
static void auth_derived_owned(prep *p, prep_avec *v, int owner)
{
    if (p->me != owner && !prep_dealer(p))
        memset(v->x, 0, v->n * V);
    macs(p, v);
}

/* n masks r: over F_p the dealer's, below 2^PREP_FP_MASK_BITS (derived,
 * so a correction each); over Z_2^128 uniform (random, a MAC each) */
static void mask_vec(prep *p, prep_avec *r, size_t n)
{
    if (p->dom != EL_FP) {
        prep_auth_random(p, r, n);
        return;
    }
    if (prep_dealer(p)) {
        prep_avec_alloc(r, n);
        dealer_bounded(p, r->x, n, PREP_FP_MASK_BITS);
    }
    auth_value(p, r, n);
}

void prep_auth_triples(prep *p, const prep_shape *sh, prep_avec *a, prep_avec *b, prep_avec *c)
{
    prep_auth_random(p, a, sh->na);
    prep_auth_random(p, b, sh->nb);
    if (prep_dealer(p)) {
        prep_avec_alloc(c, sh->n);
        memset(c->x, 0, sh->n * V);
        prep_product_add(p->dom, sh, c->x, a->x, b->x);
    }
    auth_value(p, c, sh->n);
}

void prep_auth_trunc(prep *p, size_t n, const uint8_t *d, prep_avec *r, prep_avec *R, prep_avec *v)
{
    int fp = p->dom == EL_FP; /* F_p: R = r >> d, no v */
    mask_vec(p, r, n);
    if (prep_dealer(p)) {
        prep_avec_alloc(R, n);
        if (!fp)
            prep_avec_alloc(v, n);
        for (size_t k = 0; k < n; k++) {
            R->x[k] = fp ? r->x[k] >> d[k] : proto_trunc_low((uint64_t)r->x[k], d[k]);
            if (!fp)
                v->x[k] = ((uint64_t)r->x[k]) >> 63;
        }
    }
    auth_value(p, R, n);
    if (!fp)
        auth_value(p, v, n);
}

/* the width of chunk i of L bits */
static uint32_t chunk_bits(uint32_t L, uint32_t chunk, uint32_t i)
{
    return L - i * chunk < chunk ? L - i * chunk : chunk;
}

size_t prep_onehot_count(uint32_t L, uint32_t chunk)
{
    size_t rows = 0;
    for (uint32_t i = 0; i * chunk < L; i++)
        rows += (size_t)1 << chunk_bits(L, chunk, i);
    return rows;
}

/* The one-hot rows of the chunks of r mod 2^L into dst (rows x n). */
static void onehot_rows(el *dst, const el *r, size_t n, uint32_t L, uint32_t chunk)
{
    memset(dst, 0, prep_onehot_count(L, chunk) * n * V);
    size_t row = 0;
    for (uint32_t i = 0; i * chunk < L; i++) {
        uint32_t w = chunk_bits(L, chunk, i);
        for (size_t k = 0; k < n; k++)
            dst[(row + ((r[k] >> (i * chunk)) & ((1u << w) - 1))) * n + k] = 1;
        row += (size_t)1 << w;
    }
}

void prep_auth_chunks(prep *p, size_t n, uint32_t L, uint32_t chunk, const uint8_t *split, int top, prep_avec *r,
                      prep_avec *oh)
{
    size_t rows = prep_onehot_count(L, chunk) + (top ? 1 : 0);
    if (split && p->dom != EL_FP)
        abort(); /* a split is F_p's (its top row is r >> split) */
    mask_vec(p, r, n);
    if (prep_dealer(p)) {
        prep_avec_alloc(oh, rows * n);
        el *lo = proto_alloc(n * V);
        for (size_t k = 0; k < n; k++)
            lo[k] = split ? r->x[k] & (el_pow2(split[k]) - 1) : r->x[k];
        onehot_rows(oh->x, lo, n, L, chunk);
        free(lo);
        for (size_t k = 0; top && k < n; k++) { /* Z_2^128: bit L; F_p: r >> L (or >> split) */
            uint32_t h = split ? split[k] : L;
            oh->x[(rows - 1) * n + k] = p->dom == EL_FP ? r->x[k] >> h : (r->x[k] >> L) & 1;
        }
    }
    auth_value(p, oh, rows * n);
}

void prep_auth_input_chunks(prep *p, size_t n, uint32_t L, uint32_t chunk, int owner, el *r, prep_avec *oh)
{
    size_t rows = prep_onehot_count(L, chunk);
    prep_avec_alloc(oh, rows * n);
    if (prep_dealer(p) || p->me == owner) {
        el *own = r ? r : proto_alloc(n * V);
        if (prep_dealer(p))
            prep_draw_for(p, owner, own, n * V);
        else
            prep_draw(p, own, n * V);
        for (size_t k = 0; p->dom == EL_FP && k < n; k++)
            own[k] &= el_pow2(PREP_FP_MASK_BITS) - 1;
        onehot_rows(oh->x, own, n, L, chunk);
        if (!r)
            free(own);
    }
    auth_derived_owned(p, oh, owner);
}
