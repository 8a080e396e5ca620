/* additive: additive-sharing building blocks (see additive.h for each
 * block's messages, masks and costs). */
#include "runtime/proto/additive.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/core/kernels.h"
#include "runtime/net/net.h"
#include "runtime/net/prg.h"


#define W sizeof(word)
#define V sizeof(el)

void add_word_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    const add_parties *p = ps;
    PERIODIC_LOOP(n, nc) d[i] = a[i] + (p->me == 0 ? (word)c[j] : 0);
}

void add_word_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc)
{
    const add_parties *p = ps;
    PERIODIC_LOOP(n, nc) d[i] = p->me == 0 ? (word)c[j] : 0;
}

void add_and_combine(const add_parties *p, const word *d, const word *e, const word *a, const word *b, const word *c,
                     size_t m, word *z)
{
    for (size_t k = 0; k < m; k++)
        z[k] = c[k] ^ (d[k] & b[k]) ^ (e[k] & a[k]) ^ (p->me == 0 ? d[k] & e[k] : 0);
}

/* ------------------------------------------------------------ messages */

void add_send_all(const add_parties *p, const void *v, size_t len)
{
    for (int j = 0; j < p->n; j++)
        if (j != p->me) {
            memcpy(net_out(p->nt, j, len), v, len);
            net_expect(p->nt, j, len);
        }
}

/* ------------------------------------------------------------- opening */

void add_open_send(const add_parties *p, const word *v, size_t n) { add_send_all(p, v, n * W); }

void add_open_finish(const add_parties *p, add_ring ring, const word *mine, word *out, size_t n)
{
    memmove(out, mine, n * W);
    for (int j = 0; j < p->n; j++) {
        if (j == p->me)
            continue;
        const uint8_t *in = net_in(p->nt, j, n * W);
        for (size_t k = 0; k < n; k++) {
            word x;
            memcpy(&x, in + k * W, W); /* the frame gives no alignment */
            out[k] = ring == ADD_BOOL ? out[k] ^ x : out[k] + x;
        }
    }
}

void add_open128_send(const add_parties *p, const el *v, size_t n) { add_send_all(p, v, n * V); }

int add_open128_finish(const add_parties *p, el_dom dom, const el *mine, el *out, size_t n)
{
    int bad = -1;
    memmove(out, mine, n * V);
    for (int j = 0; j < p->n; j++) {
        if (j == p->me)
            continue;
        const uint8_t *in = net_in(p->nt, j, n * V);
        for (size_t k = 0; k < n; k++) {
            el y;
            memcpy(&y, in + k * V, V);
            if (!el_canonical(dom, y) && bad < 0)
                bad = j;
            out[k] = el_add(dom, out[k], y);
        }
    }
    return bad;
}

uint64_t add_open_cost(int N, uint64_t n, size_t width, proto_cost *acc)
{
    for (int j = 0; j < N; j++)
        acc->bytes[j] += (uint64_t)(N - 1) * width * n;
    return 1;
}

void add_open_to_send(const add_parties *p, int rc, const word *v, size_t n)
{
    if (p->me != rc) {
        memcpy(net_out(p->nt, rc, n * W), v, n * W);
        return;
    }
    for (int j = 0; j < p->n; j++)
        if (j != p->me)
            net_expect(p->nt, j, n * W);
}

uint64_t add_open_to_cost(int N, int rc, uint64_t n, size_t width, proto_cost *acc)
{
    for (int j = 0; j < N; j++)
        acc->bytes[j] += j == rc ? 0 : n * width;
    return 1;
}

/* ------------------------------------------------------ Beaver products */

prep_shape add_op_shape(const pop *op)
{
    int mul = op->kind == PK_MUL;
    prep_shape sh = {mul ? PREP_MUL : op->kind == PK_CONV2D ? PREP_CONV2D : PREP_DWCONV2D,
                     mul ? op->n : op->na, mul ? op->n : op->nb, op->n, op->g, op->channels, NULL, 0};
    return sh;
}

/* d += x . y of the shape (x the left operand or the input, y the right
 * operand or the filters); tmp: n elements for a convolution's result,
 * which the kernels overwrite. */
static void product_add(const prep_shape *sh, word *d, const word *x, const word *y, word *tmp)
{
    size_t n = sh->n;
    switch (sh->kind) {
    case PREP_MUL: PERIODIC_LOOP(n, sh->nb) d[i] += x[i] * y[j]; return;
    case PREP_GROUPED: abort(); /* authenticated material only */
    case PREP_CONV2D: kern_conv2d(tmp, x, y, &sh->g, sh->channels); break;
    case PREP_DWCONV2D: kern_dwconv2d(tmp, x, y, &sh->g, sh->channels); break;
    }
    for (size_t k = 0; k < n; k++)
        d[k] += tmp[k];
}

/* scratch for a convolution's result (NULL otherwise) */
static void *conv_tmp(const prep_shape *sh, size_t width)
{
    int conv = sh->kind == PREP_CONV2D || sh->kind == PREP_DWCONV2D;
    return conv ? proto_alloc(sh->n * width) : NULL;
}

void add_beaver_send(const add_parties *p, const prep_shape *sh, const word *a, const word *b, word *v)
{
    for (size_t k = 0; k < sh->na; k++)
        v[k] -= a[k];
    for (size_t k = 0; k < sh->nb; k++)
        v[sh->na + k] -= b[k];
    add_open_send(p, v, sh->na + sh->nb);
}

void add_beaver_combine(const add_parties *p, const prep_shape *sh, const word *ef, const word *a, const word *b,
                        word *c)
{
    const word *e = ef, *f = ef + sh->na;
    word *tmp = conv_tmp(sh, W);
    product_add(sh, c, e, b, tmp);
    product_add(sh, c, a, f, tmp);
    if (p->me == 0)
        product_add(sh, c, e, f, tmp);
    free(tmp);
}

/* v -= a, value and MAC shares */
static void avec_sub(el_dom dom, prep_avec *v, size_t at, const prep_avec *a, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        v->x[at + k] = el_sub(dom, v->x[at + k], a->x[k]);
        v->m[at + k] = el_sub(dom, v->m[at + k], a->m[k]);
    }
}

void add_beaver128_send(const add_parties *p, el_dom dom, const prep_shape *sh, const prep_avec *a,
                        const prep_avec *b, prep_avec *v)
{
    avec_sub(dom, v, 0, a, sh->na);
    avec_sub(dom, v, sh->na, b, sh->nb);
    add_open128_send(p, v->x, sh->na + sh->nb);
}

void add_beaver128_combine(const add_parties *p, el_dom dom, const prep_shape *sh, el alpha, const el *ef,
                           const prep_avec *a, const prep_avec *b, prep_avec *c)
{
    const el *e = ef, *f = ef + sh->na;
    el *ee = proto_zalloc(sh->n * V);
    prep_product_add(dom, sh, c->x, e, b->x);
    prep_product_add(dom, sh, c->m, e, b->m);
    prep_product_add(dom, sh, c->x, a->x, f);
    prep_product_add(dom, sh, c->m, a->m, f);
    prep_product_add(dom, sh, ee, e, f);
    for (size_t k = 0; k < sh->n; k++) {
        if (p->me == 0)
            c->x[k] = el_add(dom, c->x[k], ee[k]);
        c->m[k] = el_add(dom, c->m[k], el_mul(dom, alpha, ee[k]));
    }
    free(ee);
}

/* ------------------------------------------------------ MAC accumulation */

void add_mac_push(add_mac_batch *b, el_dom dom, el alpha, const el *m, const el *y, size_t n)
{
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap)
            b->cap = b->cap ? 2 * b->cap : 1 << 12;
        b->v = realloc(b->v, b->cap * V);
        if (!b->v)
            abort();
    }
    for (size_t k = 0; k < n; k++)
        b->v[b->len++] = el_sub(dom, m[k], el_mul(dom, alpha, y[k]));
}

/* chi: 64-bit words over Z_2^128 (SPDZ2k's check), uniform elements of
 * F_p (so that a forged batch passes with probability 2/p) */
el add_mac_combine(add_mac_batch *b, el_dom dom, const uint8_t coin[16])
{
    el z = 0;
    if (b->len) {
        size_t cw = dom == EL_FP ? 2 : 1; /* words per coefficient */
        uint64_t *chi = proto_alloc(b->len * cw * sizeof *chi);
        prg *g = prg_new(coin);
        if (!g)
            abort();
        prg_fill(g, chi, b->len * cw * sizeof *chi);
        prg_free(g);
        if (dom == EL_FP) {
            fp127_acc acc;
            fp127_acc_zero(&acc);
            for (size_t k = 0; k < b->len; k++)
                fp127_acc_mac(&acc, fp127_random_words(chi[2 * k], chi[2 * k + 1]), fp127_of(b->v[k]));
            z = fp127_u(fp127_acc_reduce(&acc));
        } else {
            for (size_t k = 0; k < b->len; k++)
                z += (el)chi[k] * b->v[k];
        }
        free(chi);
    }
    b->len = 0;
    return z;
}

void add_mac_free(add_mac_batch *b)
{
    free(b->v);
    b->v = NULL;
    b->len = b->cap = 0;
}
