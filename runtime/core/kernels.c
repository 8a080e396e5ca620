/* kernels: convolution and window gathering over Z_2^64, Z_2^128 and
 * F_(2^127 - 1) (see kernels.h). */
#include "runtime/core/kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static int nthreads = 1;

void kern_set_threads(int n) { nthreads = n < 1 ? 1 : n > 64 ? 64 : n; }

int kern_threads(void) { return nthreads; }

typedef struct {
    kern_item_fn *fn;
    void *ctx;
    size_t n;
    _Atomic size_t next;
} pool;

typedef struct {
    pool *p;
    int tid;
} worker;

/* items are handed out one at a time: their costs differ (a depthwise
 * group against a full one, a border tile) */
static void *work(void *arg)
{
    worker *w = arg;
    for (size_t i; (i = atomic_fetch_add(&w->p->next, 1)) < w->p->n;)
        w->p->fn(w->p->ctx, i, w->tid);
    return NULL;
}

void kern_parallel(size_t n, int threads, kern_item_fn *fn, void *ctx)
{
    int t = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    if ((size_t)t > n)
        t = (int)n;
    pool p = {fn, ctx, n, 0};
    pthread_t th[64];
    worker ws[64];
    int started[64] = {0};
    for (int i = 0; i < t; i++) {
        ws[i] = (worker){&p, i};
        /* without a thread, the items are still done: by the others */
        started[i] = i > 0 && pthread_create(&th[i], NULL, work, &ws[i]) == 0;
    }
    if (t >= 1)
        work(&ws[0]);
    for (int i = 1; i < t; i++)
        if (started[i])
            pthread_join(th[i], NULL);
}

typedef void rows_fn(void *d, const void *x, const void *w, const geom *g, uint32_t m, uint32_t y0,
                     uint32_t y1);

typedef struct {
    rows_fn *fn;
    void *d;
    const void *x, *w;
    const geom *g;
    uint32_t m, parts;
} rows_job;

static void rows_part(void *ctx, size_t i, int tid)
{
    (void)tid;
    rows_job *j = ctx;
    j->fn(j->d, j->x, j->w, j->g, j->m, (uint32_t)((uint64_t)j->g->oh * i / j->parts),
          (uint32_t)((uint64_t)j->g->oh * (i + 1) / j->parts));
}

/* Splits the output rows among the threads (the kernels write disjoint rows). */
static void parallel_rows(rows_fn *fn, void *d, const void *x, const void *w, const geom *g, uint32_t m)
{
    uint32_t t = (uint32_t)nthreads < g->oh ? (uint32_t)nthreads : g->oh;
    rows_job j = {fn, d, x, w, g, m, t ? t : 1};
    kern_parallel(j.parts, (int)j.parts, rows_part, &j);
}

/* out += the dot product of x and w (n elements), and out += x w, for each
 * element type: wrapping unsigned arithmetic, and F_(2^127 - 1), whose dot
 * products accumulate unreduced (fp127_acc) and reduce once a tap. */
static inline void dot_add_64(uint64_t *out, const uint64_t *x, const uint64_t *w, uint32_t n)
{
    uint64_t acc = 0;
    for (uint32_t c = 0; c < n; c++)
        acc += x[c] * w[c];
    *out += acc;
}
static inline void mac_add_64(uint64_t *out, uint64_t x, uint64_t w) { *out += x * w; }
static inline void dot_add_128(kern_u128 *out, const kern_u128 *x, const kern_u128 *w, uint32_t n)
{
    kern_u128 acc = 0;
    for (uint32_t c = 0; c < n; c++)
        acc += x[c] * w[c];
    *out += acc;
}
static inline void mac_add_128(kern_u128 *out, kern_u128 x, kern_u128 w) { *out += x * w; }
static inline void dot_add_fp(fp127 *out, const fp127 *x, const fp127 *w, uint32_t n)
{
    fp127_acc acc;
    fp127_acc_zero(&acc);
    for (uint32_t c = 0; c < n; c++)
        fp127_acc_mac(&acc, x[c], w[c]);
    *out = fp127_add(*out, fp127_acc_reduce(&acc));
}
static inline void mac_add_fp(fp127 *out, fp127 x, fp127 w) { *out = fp127_add(*out, fp127_mul(x, w)); }

/* The convolution loops for an element type T whose zero is all-zero bytes. */
#define KERNELS(T, SUF)                                                                              \
    static void conv_rows_##SUF(void *dv, const void *xv, const void *wv, const geom *g, uint32_t oc, \
                                uint32_t y0, uint32_t y1)                                            \
    {                                                                                                \
        T *d = dv;                                                                                   \
        const T *x = xv, *w = wv;                                                                    \
        for (uint32_t oy = y0; oy < y1; oy++)                                                        \
            for (uint32_t ox = 0; ox < g->ow; ox++) {                                                \
                T *out = d + ((uint64_t)oy * g->ow + ox) * oc;                                       \
                memset(out, 0, oc * sizeof *out);                                                    \
                for (uint32_t ky = 0; ky < g->kh; ky++) {                                            \
                    int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh);                               \
                    if (iy < 0 || iy >= g->h)                                                        \
                        continue;                                                                    \
                    for (uint32_t kx = 0; kx < g->kw; kx++) {                                        \
                        int64_t ix = geom_in(ox, g->sw, g->pl, kx, g->dw);                           \
                        if (ix < 0 || ix >= g->w)                                                    \
                            continue;                                                                \
                        const T *xr = x + ((uint64_t)iy * g->w + (uint64_t)ix) * g->c;               \
                        for (uint32_t o = 0; o < oc; o++)                                            \
                            dot_add_##SUF(out + o, xr, w + (((uint64_t)o * g->kh + ky) * g->kw + kx) * g->c, \
                                          g->c);                                                     \
                    }                                                                                \
                }                                                                                    \
            }                                                                                        \
    }                                                                                                \
    static void dw_rows_##SUF(void *dv, const void *xv, const void *wv, const geom *g, uint32_t m,    \
                              uint32_t y0, uint32_t y1)                                              \
    {                                                                                                \
        T *d = dv;                                                                                   \
        const T *x = xv, *w = wv;                                                                    \
        uint64_t cm = (uint64_t)g->c * m;                                                            \
        for (uint32_t oy = y0; oy < y1; oy++)                                                        \
            for (uint32_t ox = 0; ox < g->ow; ox++) {                                                \
                T *out = d + ((uint64_t)oy * g->ow + ox) * cm;                                       \
                memset(out, 0, cm * sizeof *out);                                                    \
                for (uint32_t ky = 0; ky < g->kh; ky++) {                                            \
                    int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh);                               \
                    if (iy < 0 || iy >= g->h)                                                        \
                        continue;                                                                    \
                    for (uint32_t kx = 0; kx < g->kw; kx++) {                                        \
                        int64_t ix = geom_in(ox, g->sw, g->pl, kx, g->dw);                           \
                        if (ix < 0 || ix >= g->w)                                                    \
                            continue;                                                                \
                        const T *xr = x + ((uint64_t)iy * g->w + (uint64_t)ix) * g->c;               \
                        const T *wr = w + ((uint64_t)ky * g->kw + kx) * cm;                          \
                        if (m == 1)                                                                  \
                            for (uint64_t c = 0; c < cm; c++)                                        \
                                mac_add_##SUF(out + c, xr[c], wr[c]);                                \
                        else                                                                         \
                            for (uint64_t c = 0; c < cm; c++)                                        \
                                mac_add_##SUF(out + c, xr[c / m], wr[c]);                            \
                    }                                                                                \
                }                                                                                    \
            }                                                                                        \
    }

KERNELS(uint64_t, 64)
KERNELS(kern_u128, 128)
KERNELS(fp127, fp)

void kern_conv2d(uint64_t *d, const uint64_t *x, const uint64_t *w, const geom *g, uint32_t oc)
{
    parallel_rows(conv_rows_64, d, x, w, g, oc);
}

void kern_dwconv2d(uint64_t *d, const uint64_t *x, const uint64_t *w, const geom *g, uint32_t m)
{
    parallel_rows(dw_rows_64, d, x, w, g, m);
}

void kern_conv2d_128(kern_u128 *d, const kern_u128 *x, const kern_u128 *w, const geom *g, uint32_t oc)
{
    parallel_rows(conv_rows_128, d, x, w, g, oc);
}

void kern_dwconv2d_128(kern_u128 *d, const kern_u128 *x, const kern_u128 *w, const geom *g, uint32_t m)
{
    parallel_rows(dw_rows_128, d, x, w, g, m);
}

void kern_conv2d_fp(fp127 *d, const fp127 *x, const fp127 *w, const geom *g, uint32_t oc)
{
    parallel_rows(conv_rows_fp, d, x, w, g, oc);
}

void kern_dwconv2d_fp(fp127 *d, const fp127 *x, const fp127 *w, const geom *g, uint32_t m)
{
    parallel_rows(dw_rows_fp, d, x, w, g, m);
}

static int64_t first_inside(uint32_t o, uint32_t stride, uint32_t pad, uint32_t k, uint32_t dil,
                            uint32_t n, uint32_t tap)
{
    int64_t i = geom_in(o, stride, pad, tap, dil);
    for (uint32_t t = 0; (i < 0 || i >= n) && t < k; t++)
        i = geom_in(o, stride, pad, t, dil);
    return i;
}

void kern_window(uint64_t *d, const uint64_t *x, const geom *g, uint32_t k, int words,
                 int first_inbounds)
{
    uint32_t ky = k / g->kw, kx = k % g->kw;
    size_t row = (size_t)g->c * (size_t)words;
    for (uint32_t oy = 0; oy < g->oh; oy++) {
        int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh);
        int yin = iy >= 0 && iy < g->h;
        if (!yin && first_inbounds)
            iy = first_inside(oy, g->sh, g->pt, g->kh, g->dh, g->h, ky);
        for (uint32_t ox = 0; ox < g->ow; ox++) {
            int64_t ix = geom_in(ox, g->sw, g->pl, kx, g->dw);
            int xin = ix >= 0 && ix < g->w;
            if (!xin && first_inbounds)
                ix = first_inside(ox, g->sw, g->pl, g->kw, g->dw, g->w, kx);
            uint64_t *out = d + ((uint64_t)oy * g->ow + ox) * row;
            if ((yin && xin) || first_inbounds)
                memcpy(out, x + ((uint64_t)iy * g->w + (uint64_t)ix) * row, row * sizeof *out);
            else
                memset(out, 0, row * sizeof *out);
        }
    }
}
