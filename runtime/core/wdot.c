/* wdot: exact sums of products of words (see wdot.h). */
#include "runtime/core/wdot.h"

#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define WDOT_X86 1
#else
#define WDOT_X86 0
#endif

__extension__ typedef unsigned __int128 u128;

#define LIMB ((1ull << 52) - 1) /* IFMA's limbs */

/* s += (w0, w1, w2) */
static void add192(uint64_t s[3], uint64_t w0, uint64_t w1, uint64_t w2)
{
    u128 t = (u128)s[0] + w0;
    s[0] = (uint64_t)t;
    t = (t >> 64) + s[1] + w1;
    s[1] = (uint64_t)t;
    s[2] += (uint64_t)(t >> 64) + w2;
}

/* the two words v += w */
static inline void add2(uint64_t v[2], uint64_t w)
{
    v[0] += w;
    v[1] += v[0] < w;
}

/* lo, hi += sum a[k] b[k] (nothing where a or b is NULL): the products'
 * low and high words summed apart, two short carry chains instead of one
 * through three words; fewer than 2^64 words each, so two words hold
 * either sum. */
static void sum_products(uint64_t lo[2], uint64_t hi[2], const uint64_t *a, const uint64_t *b, size_t n)
{
    for (size_t k = 0; a && b && k < n; k++) {
        u128 p = (u128)a[k] * b[k];
        add2(lo, (uint64_t)p), add2(hi, (uint64_t)(p >> 64));
    }
}

static void exact_portable(uint64_t s[3], const uint64_t *x, const uint64_t *y, const uint64_t *y2, const uint64_t *u,
                           const uint64_t *v, size_t n)
{
    uint64_t lo[2] = {0, 0}, hi[2] = {0, 0};
    sum_products(lo, hi, x, y, n);
    sum_products(lo, hi, x, y2, n);
    sum_products(lo, hi, u, v, n);
    add192(s, lo[0], lo[1], 0);
    add192(s, 0, hi[0], hi[1]);
}

#if WDOT_X86
/* Eight products a step in 52-bit limbs: x = x0 + 2^52 x1 (x1 < 2^12), w
 * likewise, and x w = x0 w0 + 2^52 (x0 w1 + x1 w0) + 2^104 x1 w1, where
 * x0 w1 and x1 w0 are below 2^64 and x1 w1 below 2^24. IFMA adds the low
 * or high 52 bits of a 104-bit limb product into a 64-bit lane: seven a
 * product, each into an accumulator of its own (a[0] at 2^0, a[1..3] at
 * 2^52, a[4..6] at 2^104) so that no chain waits on another. A step adds
 * below 2 * 2^52 to an accumulator (two products, also with local: see
 * exact_ifma), so a block of BLOCK <= 2^64 / (2 * 2^52) steps cannot wrap;
 * each block's lanes are then summed into s. */
#define IFMA __attribute__((target("avx512f,avx512ifma")))
#define IFMA_INLINE static inline __attribute__((always_inline, target("avx512f,avx512ifma")))
enum { BLOCK = 1024 };

/* the lanes of a step of eight that lie before the end, `left` words on */
IFMA_INLINE __mmask8 lanes(size_t left) { return left >= 8 ? (__mmask8)0xff : (__mmask8)((1u << left) - 1); }

/* the limbs v & (2^52 - 1) and v >> 52 */
IFMA_INLINE __m512i limb0(__m512i v) { return _mm512_and_si512(v, _mm512_set1_epi64((long long)LIMB)); }
IFMA_INLINE __m512i limb1(__m512i v) { return _mm512_srli_epi64(v, 52); }

/* a product x w in limbs, its seven IFMA into the accumulators t[0..6]
 * (at 2^0, three at 2^52, three at 2^104): seven registers of their own
 * for a dot product (mac8), or the three columns of a sum (mac_cols) */
IFMA_INLINE void mac7(__m512i *const t[7], __m512i x0, __m512i x1, __m512i w0, __m512i w1)
{
    *t[0] = _mm512_madd52lo_epu64(*t[0], x0, w0);
    *t[1] = _mm512_madd52hi_epu64(*t[1], x0, w0);
    *t[2] = _mm512_madd52lo_epu64(*t[2], x0, w1);
    *t[3] = _mm512_madd52lo_epu64(*t[3], x1, w0);
    *t[4] = _mm512_madd52hi_epu64(*t[4], x0, w1);
    *t[5] = _mm512_madd52hi_epu64(*t[5], x1, w0);
    *t[6] = _mm512_madd52lo_epu64(*t[6], x1, w1);
}

IFMA_INLINE void mac8(__m512i a[7], __m512i x0, __m512i x1, __m512i w0, __m512i w1)
{
    mac7((__m512i *const[7]){a, a + 1, a + 2, a + 3, a + 4, a + 5, a + 6}, x0, x1, w0, w1);
}

/* s += the lanes' sum: each column's 24 lane words are below 2^69 */
IFMA static void add_lanes(uint64_t s[3], const __m512i a[7])
{
    uint64_t v[7][8];
    for (int i = 0; i < 7; i++)
        _mm512_storeu_si512((void *)v[i], a[i]);
    u128 c0 = 0, c1 = 0, c2 = 0;
    for (int l = 0; l < 8; l++) {
        c0 += v[0][l];
        c1 += (u128)v[1][l] + v[2][l] + v[3][l];
        c2 += (u128)v[4][l] + v[5][l] + v[6][l];
    }
    add192(s, (uint64_t)c0, (uint64_t)(c0 >> 64), 0);
    add192(s, (uint64_t)c1 << 52, (uint64_t)(c1 >> 12), 0);
    add192(s, 0, (uint64_t)c2 << 40, (uint64_t)(c2 >> 24));
}

/* x (y + y2) with y + y2 a 65-bit integer: its high limb (13 bits) keeps
 * x0 w1 below 2^65 and x1 w1 below 2^25, so the columns' bounds hold with
 * two products a step (this one and u v). */
IFMA static void exact_ifma(uint64_t s[3], const uint64_t *x, const uint64_t *y, const uint64_t *y2,
                            const uint64_t *u, const uint64_t *v, size_t n)
{
    const __m512i top = _mm512_set1_epi64(1ll << 12);
    for (size_t b0 = 0; b0 < n; b0 += 8 * BLOCK) {
        size_t b1 = n - b0 < 8 * BLOCK ? n : b0 + 8 * BLOCK;
        __m512i a[7];
        for (int i = 0; i < 7; i++)
            a[i] = _mm512_setzero_si512();
        for (size_t k = b0; k < b1; k += 8) {
            __mmask8 mk = lanes(b1 - k);
            __m512i vx = _mm512_maskz_loadu_epi64(mk, x + k), w = _mm512_maskz_loadu_epi64(mk, y + k), w1;
            if (y2) { /* y + y2, its carry into the high limb */
                __m512i w2 = _mm512_maskz_loadu_epi64(mk, y2 + k);
                w = _mm512_add_epi64(w, w2);
                w1 = _mm512_mask_add_epi64(limb1(w), _mm512_cmplt_epu64_mask(w, w2), limb1(w), top);
            } else
                w1 = limb1(w);
            mac8(a, limb0(vx), limb1(vx), limb0(w), w1);
            if (u) {
                __m512i vu = _mm512_maskz_loadu_epi64(mk, u + k), vv = _mm512_maskz_loadu_epi64(mk, v + k);
                mac8(a, limb0(vu), limb1(vu), limb0(vv), limb1(vv));
            }
        }
        add_lanes(s, a);
    }
}
#endif

static int portable; /* wdot_set_portable */

void wdot_set_portable(int on) { portable = on; }

static int use_ifma(void)
{
#if WDOT_X86
    return !portable && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
#else
    return 0;
#endif
}

void wdot_exact(uint64_t s[3], const uint64_t *x, const uint64_t *y, const uint64_t *y2, const uint64_t *u,
                const uint64_t *v, size_t n)
{
#if WDOT_X86
    if (n >= 8 && use_ifma()) {
        exact_ifma(s, x, y, y2, u, v, n);
        return;
    }
#endif
    exact_portable(s, x, y, y2, u, v, n);
}

/* ---- sums of lam x in rows ----
 * Portable: three words a sum, exact. IFMA: columns c0 + 2^52 c1 + 2^104
 * c2 as in exact_ifma, with lam = l0 + 2^52 l1 (l1 < 2^11). A product adds
 * below 2^52 to c0, below 3 * 2^52 to c1 and below 2^24 to c2, so a row is
 * normalized (c0 and c1 carried into the next column, below 2^52 after)
 * every ROW_LIMIT products: c1 then stays below 2^52 (1 + 3 ROW_LIMIT) <
 * 2^64, and c2, below 2^35 (2^24 + 2^12) for 2^35 products, never wraps. */
enum { ROW_LIMIT = 1024 };

struct wdot_acc {
    int limbs;
    size_t rows, len;
    uint64_t *c[3]; /* c[j][i]: word or column j of sum i */
    uint32_t *cnt;  /* limbs: products into each row since it was normalized */
};

wdot_acc *wdot_acc_new(size_t rows, size_t len)
{
    wdot_acc *a = calloc(1, sizeof *a);
    size_t n = rows * len;
    if (!a)
        return NULL;
    a->limbs = use_ifma(), a->rows = rows, a->len = len;
    a->c[0] = calloc(3 * n + 1, sizeof(uint64_t));
    a->cnt = a->limbs ? calloc(rows + 1, sizeof *a->cnt) : NULL;
    if (!a->c[0] || (a->limbs && !a->cnt)) {
        wdot_acc_free(a);
        return NULL;
    }
    a->c[1] = a->c[0] + n, a->c[2] = a->c[1] + n;
    return a;
}

void wdot_acc_free(wdot_acc *a)
{
    if (a)
        free(a->c[0]), free(a->cnt);
    free(a);
}

static void mac_portable(uint64_t *c0, uint64_t *c1, uint64_t *c2, const uint64_t *lam, size_t s, const uint64_t *x,
                         size_t n)
{
    for (size_t k = 0; k < n; k++) {
        u128 t = (u128)lam[k * s] * x[k];
        uint64_t lo = (uint64_t)t, hi = (uint64_t)(t >> 64); /* hi < 2^63: adding a carry cannot wrap */
        c0[k] += lo;
        hi += c0[k] < lo;
        c1[k] += hi;
        c2[k] += c1[k] < hi;
    }
}

static void normalize(uint64_t *c0, uint64_t *c1, uint64_t *c2, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        c1[k] += c0[k] >> 52, c0[k] &= LIMB;
        c2[k] += c1[k] >> 52, c1[k] &= LIMB;
    }
}

#if WDOT_X86
/* the columns (a[0], a[1], a[2]) += lam x, lam and x in limbs */
IFMA_INLINE void mac_cols(__m512i a[3], __m512i l0, __m512i l1, __m512i x0, __m512i x1)
{
    mac7((__m512i *const[7]){a, a + 1, a + 1, a + 1, a + 2, a + 2, a + 2}, l0, l1, x0, x1);
}

IFMA_INLINE void load_cols(__m512i a[3], uint64_t *const c[3], size_t k, __mmask8 mk)
{
    for (int j = 0; j < 3; j++)
        a[j] = _mm512_maskz_loadu_epi64(mk, c[j] + k);
}

IFMA_INLINE void store_cols(uint64_t *const c[3], size_t k, __mmask8 mk, const __m512i a[3])
{
    for (int j = 0; j < 3; j++)
        _mm512_mask_storeu_epi64(c[j] + k, mk, a[j]);
}

IFMA static void mac_ifma(uint64_t *const c[3], const uint64_t *lam, size_t s, const uint64_t *x, size_t n)
{
    __m512i l = _mm512_set1_epi64((long long)lam[0]), l0 = limb0(l), l1 = limb1(l);
    for (size_t k = 0; k < n; k += 8) {
        __mmask8 mk = lanes(n - k);
        if (s) {
            l = _mm512_maskz_loadu_epi64(mk, lam + k);
            l0 = limb0(l), l1 = limb1(l);
        }
        __m512i v = _mm512_maskz_loadu_epi64(mk, x + k), a[3];
        load_cols(a, c, k, mk);
        mac_cols(a, l0, l1, limb0(v), limb1(v));
        store_cols(c, k, mk, a);
    }
}

/* each sum of the row += sum_i lam_i x_i: loaded and stored once for the n products */
IFMA static void mac_n_ifma(uint64_t *const c[3], const uint64_t *lam, const uint64_t *const *x, size_t n, size_t len)
{
    __m512i l0[WDOT_MAX_N], l1[WDOT_MAX_N];
    for (size_t i = 0; i < n; i++) {
        __m512i l = _mm512_set1_epi64((long long)lam[i]);
        l0[i] = limb0(l), l1[i] = limb1(l);
    }
    for (size_t k = 0; k < len; k += 8) {
        __mmask8 mk = lanes(len - k);
        __m512i a[3];
        load_cols(a, c, k, mk);
        for (size_t i = 0; i < n; i++) {
            __m512i v = _mm512_maskz_loadu_epi64(mk, x[i] + k);
            mac_cols(a, l0[i], l1[i], limb0(v), limb1(v));
        }
        store_cols(c, k, mk, a);
    }
}
#endif

/* the row's columns, normalized first where n more products could wrap them */
static void row_cols(wdot_acc *a, size_t row, size_t n, uint64_t *c[3])
{
    size_t i = row * a->len;
    c[0] = a->c[0] + i, c[1] = a->c[1] + i, c[2] = a->c[2] + i;
    if (a->limbs && (a->cnt[row] += (uint32_t)n) > ROW_LIMIT) {
        normalize(c[0], c[1], c[2], a->len);
        a->cnt[row] = (uint32_t)n;
    }
}

void wdot_acc_mac(wdot_acc *a, size_t row, const uint64_t *lam, size_t s, const uint64_t *x)
{
    uint64_t *c[3];
    row_cols(a, row, 1, c);
#if WDOT_X86
    if (a->limbs) {
        mac_ifma(c, lam, s, x, a->len);
        return;
    }
#endif
    mac_portable(c[0], c[1], c[2], lam, s, x, a->len);
}

void wdot_acc_mac_n(wdot_acc *a, size_t row, const uint64_t *lam, const uint64_t *const *x, size_t n)
{
    uint64_t *c[3];
    row_cols(a, row, n, c);
#if WDOT_X86
    if (a->limbs) {
        mac_n_ifma(c, lam, x, n, a->len);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        mac_portable(c[0], c[1], c[2], lam + i, 0, x[i], a->len);
}

void wdot_acc_get(const wdot_acc *a, size_t i, uint64_t v[3])
{
    uint64_t c0 = a->c[0][i], c1 = a->c[1][i], c2 = a->c[2][i];
    if (!a->limbs) {
        v[0] = c0, v[1] = c1, v[2] = c2;
        return;
    }
    v[0] = v[1] = v[2] = 0;
    add192(v, c0, 0, 0);
    add192(v, c1 << 52, c1 >> 12, 0);
    add192(v, 0, c2 << 40, c2 >> 24);
}
