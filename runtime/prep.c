/* prep: preprocessing (see prep.h): the catalog, made by the dealer source
 * over seeded streams. */
#include "prep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "kernels.h"
#include "prg.h"
#include "proto.h"

#define PREP_BUF ((size_t)1 << 20)

struct prep {
    int me, n;
    net *nt;
    prg *g[PROTO_MAX_PARTIES]; /* party: g[0]; dealer: one per party */
    unsigned char *buf;        /* dealer: corrections not yet sent */
    size_t len;
    int failed;
    char err[256];
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
    free(p->buf);
    free(p);
}

void prep_draw(prep *p, void *out, size_t nbytes) { prg_fill(p->g[0], out, nbytes); }

void prep_draw_for(prep *p, int party, void *out, size_t nbytes) { prg_fill(p->g[party], out, nbytes); }

void prep_read(prep *p, void *out, size_t nbytes)
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

void prep_write(prep *p, const void *c, size_t nbytes)
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
