/* additive: additive-sharing building blocks (see additive.h for each
 * block's messages, masks and costs). */
#include "runtime/proto/additive.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/core/kernels.h"
#include "runtime/net/net.h"
#include "runtime/net/prg.h"

typedef kern_u128 u128;

#define W sizeof(word)
#define V sizeof(u128)

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

void add_open128_send(const add_parties *p, const u128 *v, size_t n) { add_send_all(p, v, n * V); }

void add_open128_finish(const add_parties *p, const u128 *mine, u128 *out, size_t n)
{
    memmove(out, mine, n * V);
    for (int j = 0; j < p->n; j++) {
        if (j == p->me)
            continue;
        const uint8_t *in = net_in(p->nt, j, n * V);
        for (size_t k = 0; k < n; k++) {
            u128 y;
            memcpy(&y, in + k * V, V);
            out[k] += y;
        }
    }
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
 * which the kernels overwrite. One definition for both rings. */
#define PRODUCT_ADD(NAME, T, CONV, DWCONV)                                                                   \
    static void NAME(const prep_shape *sh, T *d, const T *x, const T *y, T *tmp)                           \
    {                                                                                                        \
        size_t n = sh->n, cols = sh->cols ? sh->cols : 1;                                                    \
        switch (sh->kind) {                                                                                  \
        case PREP_MUL:                                                                                       \
            PERIODIC_LOOP(n, sh->nb) d[i] += x[i] * y[j];                                                    \
            return;                                                                                          \
        case PREP_GROUPED:                                                                                   \
            for (size_t k = 0; k < n / cols; k++)                                                            \
                for (size_t q = 0; q < sh->cols; q++)                                                        \
                    d[k * cols + q] += x[sh->xi[k] * cols + q] * y[k * cols + q];                            \
            return;                                                                                          \
        case PREP_CONV2D: CONV(tmp, x, y, &sh->g, sh->channels); break;                                      \
        case PREP_DWCONV2D: DWCONV(tmp, x, y, &sh->g, sh->channels); break;                                  \
        }                                                                                                    \
        for (size_t k = 0; k < n; k++)                                                                       \
            d[k] += tmp[k];                                                                                  \
    }

PRODUCT_ADD(product_add, word, kern_conv2d, kern_dwconv2d)
PRODUCT_ADD(product_add128, u128, kern_conv2d_128, kern_dwconv2d_128)

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

void add_beaver128_send(const add_parties *p, const prep_shape *sh, const prep_avec *a, const prep_avec *b,
                        prep_avec *v)
{
    for (size_t k = 0; k < sh->na; k++)
        v->x[k] -= a->x[k], v->m[k] -= a->m[k];
    for (size_t k = 0; k < sh->nb; k++)
        v->x[sh->na + k] -= b->x[k], v->m[sh->na + k] -= b->m[k];
    add_open128_send(p, v->x, sh->na + sh->nb);
}

void add_beaver128_combine(const add_parties *p, const prep_shape *sh, u128 alpha, const u128 *ef,
                           const prep_avec *a, const prep_avec *b, prep_avec *c)
{
    const u128 *e = ef, *f = ef + sh->na;
    u128 *tmp = conv_tmp(sh, V), *ee = proto_zalloc(sh->n * V);
    product_add128(sh, c->x, e, b->x, tmp);
    product_add128(sh, c->m, e, b->m, tmp);
    product_add128(sh, c->x, a->x, f, tmp);
    product_add128(sh, c->m, a->m, f, tmp);
    product_add128(sh, ee, e, f, tmp);
    for (size_t k = 0; k < sh->n; k++) {
        c->x[k] += p->me == 0 ? ee[k] : 0;
        c->m[k] += alpha * ee[k];
    }
    free(tmp);
    free(ee);
}

/* ------------------------------------------------------ MAC accumulation */

void add_mac_push(add_mac_batch *b, u128 alpha, const u128 *m, const u128 *y, size_t n)
{
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap)
            b->cap = b->cap ? 2 * b->cap : 1 << 12;
        b->v = realloc(b->v, b->cap * V);
        if (!b->v)
            abort();
    }
    for (size_t k = 0; k < n; k++)
        b->v[b->len++] = m[k] - alpha * y[k];
}

u128 add_mac_combine(add_mac_batch *b, const uint8_t coin[16])
{
    u128 z = 0;
    if (b->len) {
        uint64_t *chi = proto_alloc(b->len * sizeof *chi);
        prg *g = prg_new(coin);
        if (!g)
            abort();
        prg_fill(g, chi, b->len * sizeof *chi);
        prg_free(g);
        for (size_t k = 0; k < b->len; k++)
            z += (u128)chi[k] * b->v[k];
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
