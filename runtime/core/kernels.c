/* kernels: convolution and window gathering over Z_2^64, Z_2^128 and
 * F_(2^127 - 1) (see kernels.h). */
#include "runtime/core/kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
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

/* A pixel's output accumulators, per element type T and accumulator A:
 * begin gives them zeroed, dot adds a dot product of x and w (n elements),
 * mac adds x w, end stores them into the pixel's outputs. Wrapping unsigned
 * arithmetic accumulates in the outputs themselves (A = T, no scratch);
 * F_(2^127 - 1) in fp127_acc columns, unreduced, and reduces each output
 * once (a pixel's products, taps x channels, are far below the 2^62 the
 * columns hold). */
#define WRAPPING(T, SUF)                                                                                    \
    typedef T acc_##SUF;                                                                                    \
    static inline acc_##SUF *scratch_##SUF(uint64_t n) { return (void)n, NULL; }                          \
    static inline acc_##SUF *begin_##SUF(T *out, acc_##SUF *scratch, uint64_t n)                            \
    {                                                                                                       \
        (void)scratch;                                                                                      \
        memset(out, 0, n * sizeof *out);                                                                    \
        return out;                                                                                         \
    }                                                                                                       \
    static inline void dot_##SUF(acc_##SUF *a, const T *x, const T *w, uint32_t n)                         \
    {                                                                                                       \
        T s = 0;                                                                                            \
        if (wide_dot_##SUF(a, x, w, n))                                                                     \
            return;                                                                                         \
        for (uint32_t c = 0; c < n; c++)                                                                    \
            s += x[c] * w[c];                                                                               \
        *a += s;                                                                                            \
    }                                                                                                       \
    static inline void mac_##SUF(acc_##SUF *a, T x, T w) { *a += x * w; }                                  \
    static inline void end_##SUF(T *out, const acc_##SUF *a, uint64_t n) { (void)out, (void)a, (void)n; }

/* Z_2^64's dot products eight lanes at a time where the CPU has AVX-512DQ
 * (a 64-bit low multiply a lane; chosen at run time): rep3's convolutions */
#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx512f,avx512dq"))) static uint64_t dot_512(const uint64_t *x, const uint64_t *w, uint32_t n)
{
    __m512i s = _mm512_setzero_si512();
    uint32_t c = 0;
    for (; c + 8 <= n; c += 8)
        s = _mm512_add_epi64(s, _mm512_mullo_epi64(_mm512_loadu_si512((const void *)(x + c)),
                                                   _mm512_loadu_si512((const void *)(w + c))));
    uint64_t v[8], r = 0; /* the lanes summed as words (gcc's reduction intrinsic adds signed ones) */
    _mm512_storeu_si512((void *)v, s);
    for (int l = 0; l < 8; l++)
        r += v[l];
    for (; c < n; c++)
        r += x[c] * w[c];
    return r;
}

static inline int wide_dot_64(uint64_t *a, const uint64_t *x, const uint64_t *w, uint32_t n)
{
    if (n < 16 || !__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq"))
        return 0;
    *a += dot_512(x, w, n);
    return 1;
}
#else
static inline int wide_dot_64(uint64_t *a, const uint64_t *x, const uint64_t *w, uint32_t n)
{
    return (void)a, (void)x, (void)w, (void)n, 0;
}
#endif
static inline int wide_dot_128(kern_u128 *a, const kern_u128 *x, const kern_u128 *w, uint32_t n)
{
    return (void)a, (void)x, (void)w, (void)n, 0;
}

WRAPPING(uint64_t, 64)
WRAPPING(kern_u128, 128)

typedef fp127_acc acc_fp;
static acc_fp *scratch_fp(uint64_t n)
{
    acc_fp *a = malloc(n * sizeof *a);
    if (!a)
        abort(); /* out of memory: a kernel has no error path */
    return a;
}
static inline acc_fp *begin_fp(fp127 *out, acc_fp *scratch, uint64_t n)
{
    (void)out;
    for (uint64_t i = 0; i < n; i++)
        fp127_acc_zero(scratch + i);
    return scratch;
}
static inline void dot_fp(acc_fp *a, const fp127 *x, const fp127 *w, uint32_t n)
{
    for (uint32_t c = 0; c < n; c++)
        fp127_acc_mac(a, x[c], w[c]);
}
static inline void mac_fp(acc_fp *a, fp127 x, fp127 w) { fp127_acc_mac(a, x, w); }
static inline void end_fp(fp127 *out, const acc_fp *a, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        out[i] = fp127_acc_reduce(a + i);
}

/* The convolution loops for an element type T. */
#define KERNELS(T, SUF)                                                                              \
    static void conv_rows_##SUF(void *dv, const void *xv, const void *wv, const geom *g, uint32_t oc, \
                                uint32_t y0, uint32_t y1)                                            \
    {                                                                                                \
        T *d = dv;                                                                                   \
        const T *x = xv, *w = wv;                                                                    \
        acc_##SUF *scratch = scratch_##SUF(oc);                                                      \
        for (uint32_t oy = y0; oy < y1; oy++)                                                        \
            for (uint32_t ox = 0; ox < g->ow; ox++) {                                                \
                T *out = d + ((uint64_t)oy * g->ow + ox) * oc;                                       \
                acc_##SUF *acc = begin_##SUF(out, scratch, oc);                                      \
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
                            dot_##SUF(acc + o, xr, w + (((uint64_t)o * g->kh + ky) * g->kw + kx) * g->c, g->c); \
                    }                                                                                \
                }                                                                                    \
                end_##SUF(out, acc, oc);                                                             \
            }                                                                                        \
        free(scratch);                                                                               \
    }                                                                                                \
    static void dw_rows_##SUF(void *dv, const void *xv, const void *wv, const geom *g, uint32_t m,    \
                              uint32_t y0, uint32_t y1)                                              \
    {                                                                                                \
        T *d = dv;                                                                                   \
        const T *x = xv, *w = wv;                                                                    \
        uint64_t cm = (uint64_t)g->c * m;                                                            \
        acc_##SUF *scratch = scratch_##SUF(cm);                                                      \
        for (uint32_t oy = y0; oy < y1; oy++)                                                        \
            for (uint32_t ox = 0; ox < g->ow; ox++) {                                                \
                T *out = d + ((uint64_t)oy * g->ow + ox) * cm;                                       \
                acc_##SUF *acc = begin_##SUF(out, scratch, cm);                                      \
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
                                mac_##SUF(acc + c, xr[c], wr[c]);                                    \
                        else                                                                         \
                            for (uint64_t c = 0; c < cm; c++)                                        \
                                mac_##SUF(acc + c, xr[c / m], wr[c]);                                \
                    }                                                                                \
                }                                                                                    \
                end_##SUF(out, acc, cm);                                                             \
            }                                                                                        \
        free(scratch);                                                                               \
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
