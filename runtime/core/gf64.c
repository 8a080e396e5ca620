/* gf64: GF(2^64) arithmetic and the proof's kernels (see gf64.h). */
#include "runtime/core/gf64.h"

#include "runtime/core/kara.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define GF64_X86 1
#else
#define GF64_X86 0
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#if GF64_X86
#define HW __attribute__((target("pclmul")))
#else
#define HW
#endif

/* x^64 = x^4 + x^3 + x + 1 (mod f), so h x^64 is h (x^4 + x^3 + x + 1): the
 * shifts of h by 0, 1, 3 and 4. Their bits past 63 (those of h >> 63,
 * h >> 61, h >> 60) form t < 16, and t x^64 = t (x^4 + x^3 + x + 1) has
 * degree < 8, so a second pass ends the reduction. */
gf64 gf64_reduce(gf64_wide w)
{
    uint64_t h = w.hi, t = h >> 63 ^ h >> 61 ^ h >> 60;
    return w.lo ^ h ^ h << 1 ^ h << 3 ^ h << 4 ^ t ^ t << 1 ^ t << 3 ^ t << 4;
}

/* ---- carry-less multiplication: the multiplier is prepared once, then used
 * for many products (the portable one builds its table there) ---- */

typedef struct {
    uint64_t a;
    uint64_t lo[16], hi[16]; /* a times each polynomial of degree < 4 (portable only) */
} mulr;

#if GF64_X86
HW static inline __m128i clmul_xmm(uint64_t a, uint64_t b)
{
    return _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)a), _mm_cvtsi64_si128((long long)b), 0x00);
}

HW static inline gf64_wide clmul_hw(uint64_t a, uint64_t b)
{
    __m128i p = clmul_xmm(a, b);
    return (gf64_wide){(uint64_t)_mm_cvtsi128_si64(p), (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(p, p))};
}

/* gf64_wide has the layout of an __m128i (lo in the low half), so a sum
 * stays in the xmm registers */
HW static inline void mac_hw(gf64_wide *acc, uint64_t a, uint64_t b)
{
    _mm_storeu_si128((__m128i *)acc, _mm_xor_si128(_mm_loadu_si128((const __m128i *)acc), clmul_xmm(a, b)));
}
#endif

ALWAYS_INLINE void mulr_init(int hw, mulr *m, uint64_t a)
{
    m->a = a;
    if (GF64_X86 && hw)
        return;
    m->lo[0] = m->hi[0] = 0;
    m->lo[1] = a, m->hi[1] = 0;
    for (int i = 2; i < 16; i += 2) {
        m->lo[i] = m->lo[i / 2] << 1;
        m->hi[i] = m->hi[i / 2] << 1 | m->lo[i / 2] >> 63;
        m->lo[i + 1] = m->lo[i] ^ a;
        m->hi[i + 1] = m->hi[i];
    }
}

/* 4 bits of b per step, from the top; the product has degree < 127, so
 * shifting the partial result left by 4 loses nothing */
ALWAYS_INLINE gf64_wide mulr_mul(int hw, const mulr *m, uint64_t b)
{
#if GF64_X86
    if (hw)
        return clmul_hw(m->a, b);
#else
    (void)hw;
#endif
    gf64_wide r = {0, 0};
    for (int j = 60; j >= 0; j -= 4) {
        unsigned v = (unsigned)(b >> j) & 15;
        r.hi = (r.hi << 4 | r.lo >> 60) ^ m->hi[v];
        r.lo = r.lo << 4 ^ m->lo[v];
    }
    return r;
}

/* *acc += a b */
ALWAYS_INLINE void mulr_mac(int hw, gf64_wide *acc, const mulr *m, uint64_t b)
{
#if GF64_X86
    if (hw) {
        mac_hw(acc, m->a, b);
        return;
    }
#endif
    gf64_wide_add(acc, mulr_mul(hw, m, b));
}

ALWAYS_INLINE gf64_wide clmul(int hw, uint64_t a, uint64_t b)
{
    mulr m;
    mulr_init(hw, &m, a);
    return mulr_mul(hw, &m, b);
}

/* ---- kernel bodies: hw is a constant in each instantiation below ---- */

ALWAYS_INLINE gf64 dot_body(int hw, const gf64 *a, const gf64 *b, size_t n)
{
    gf64_wide acc = {0, 0};
    for (size_t i = 0; i < n; i++)
        gf64_wide_add(&acc, clmul(hw, a[i], b[i]));
    return gf64_reduce(acc);
}

ALWAYS_INLINE void scale_body(int hw, gf64 *out, const gf64 *s, const gf64 *v, size_t n, size_t per)
{
    for (size_t w = 0; w < n; w++) {
        mulr m;
        mulr_init(hw, &m, s[w]);
        for (size_t j = 0; j < per; j++)
            out[w * per + j] = gf64_reduce(mulr_mul(hw, &m, v[w * per + j]));
    }
}

/* Two words at a time, one per lane (both lanes shift alike), and the
 * slots of a word share rho, so their bit products are xored first: each
 * shift then costs one multiplication per word. */
typedef uint64_t u64x2 __attribute__((vector_size(16)));

#if GF64_X86
HW static inline void mac2_hw(gf64_wide *acc, __m128i rho, u64x2 c)
{
    __m128i v = (__m128i)c, p = _mm_xor_si128(_mm_clmulepi64_si128(rho, v, 0x00), _mm_clmulepi64_si128(rho, v, 0x11));
    _mm_storeu_si128((__m128i *)acc, _mm_xor_si128(_mm_loadu_si128((const __m128i *)acc), p));
}
#endif

ALWAYS_INLINE void shift_body(int hw, gf64_wide *acc, const gf64 *rho, size_t n, unsigned sigma, const uint64_t *x,
                              const uint64_t *y)
{
    for (size_t w = 0; w < n; w += 2) {
        int two = w + 1 < n; /* an odd last word pairs with nothing */
        u64x2 c[127] = {{0, 0}};
        for (unsigned s = 0; s < sigma; s++) {
            u64x2 xs = {x[w * sigma + s], two ? x[(w + 1) * sigma + s] : 0};
            u64x2 ys = {y[w * sigma + s], two ? y[(w + 1) * sigma + s] : 0};
            c[63] ^= xs & ys;
            for (int d = 1; d < 64; d++) {
                c[63 + d] ^= xs & ys << d;
                c[63 - d] ^= xs & ys >> d;
            }
        }
#if GF64_X86
        if (hw) {
            __m128i r = _mm_set_epi64x((long long)(two ? rho[w + 1] : 0), (long long)rho[w]);
            for (int d = 0; d < 127; d++)
                mac2_hw(&acc[d], r, c[d]);
            continue;
        }
#endif
        mulr m0, m1;
        mulr_init(hw, &m0, rho[w]);
        mulr_init(hw, &m1, two ? rho[w + 1] : 0);
        for (int d = 0; d < 127; d++) {
            mulr_mac(hw, &acc[d], &m0, c[d][0]);
            mulr_mac(hw, &acc[d], &m1, c[d][1]);
        }
    }
}

static void gf_xor(uint64_t *r, const uint64_t *a, const uint64_t *b) { *r = *a ^ *b; }

/* H[j + k - 1 - i] sums U_j B_i over the groups: the product of U's
 * polynomial and B's reversed one, by Karatsuba (kara.h) where k is a power
 * of two and there is more than one group to repay the join */
ALWAYS_INLINE void poly_body(int hw, gf64 *H, const gf64 *U, const gf64 *B, size_t groups, unsigned k)
{
    kara_plan p;
    if (groups < 2 || !kara_plan_for(&p, k)) {
        gf64_wide acc[127] = {{0, 0}};
        for (size_t l = 0; l < groups; l++)
            for (unsigned j = 0; j < k; j++) {
                mulr m;
                mulr_init(hw, &m, U[l * k + j]);
                for (unsigned i = 0; i < k; i++)
                    mulr_mac(hw, &acc[j + k - 1 - i], &m, B[l * k + i]);
            }
        for (unsigned m = 0; m < 2 * k - 1; m++)
            H[m] = gf64_reduce(acc[m]);
        return;
    }
    gf64 su[KARA_MAX_SLOTS], sb[KARA_MAX_SLOTS];
    gf64_wide acc[KARA_MAX_SLOTS] = {{0, 0}};
    for (size_t l = 0; l < groups; l++) {
        for (unsigned j = 0; j < k; j++)
            su[j] = U[l * k + j], sb[j] = B[l * k + k - 1 - j];
        for (unsigned a = 0; a < p.nslot - k; a++) {
            const kara_add *d = &p.add[a];
            su[d->dst] = su[d->a] ^ su[d->b], sb[d->dst] = sb[d->a] ^ sb[d->b];
        }
        for (unsigned s = 0; s < p.nslot; s++) {
            mulr m;
            mulr_init(hw, &m, su[s]);
            mulr_mac(hw, &acc[s], &m, sb[s]);
        }
    }
    gf64 P[KARA_MAX_SLOTS];
    for (unsigned s = 0; s < p.nslot; s++)
        P[s] = gf64_reduce(acc[s]);
    kara_join(&p, 1, gf_xor, gf_xor, P, H);
}

ALWAYS_INLINE void eval_body(int hw, gf64 *out, const gf64 *V, size_t groups, unsigned k, const gf64 *pw)
{
    for (size_t l = 0; l < groups; l++) {
        gf64_wide acc = {0, 0};
        for (unsigned j = 0; j < k; j++)
            gf64_wide_add(&acc, clmul(hw, V[l * k + j], pw[j]));
        out[l] = gf64_reduce(acc);
    }
}

/* ---- one instantiation per implementation, chosen per call ---- */

static int portable; /* gf64_set_portable */

void gf64_set_portable(int on) { portable = on; }

static inline int use_hw(void)
{
#if GF64_X86
    return portable != 1 && __builtin_cpu_supports("pclmul");
#else
    return 0;
#endif
}

HW static gf64_wide clmul_hw1(uint64_t a, uint64_t b) { return clmul(1, a, b); }
static gf64_wide clmul_sw1(uint64_t a, uint64_t b) { return clmul(0, a, b); }
gf64_wide gf64_clmul(uint64_t a, uint64_t b) { return use_hw() ? clmul_hw1(a, b) : clmul_sw1(a, b); }

HW static gf64 mul_hw(gf64 a, gf64 b) { return gf64_reduce(clmul(1, a, b)); }
static gf64 mul_sw(gf64 a, gf64 b) { return gf64_reduce(clmul(0, a, b)); }
gf64 gf64_mul(gf64 a, gf64 b) { return use_hw() ? mul_hw(a, b) : mul_sw(a, b); }

HW static gf64 dot_hw(const gf64 *a, const gf64 *b, size_t n) { return dot_body(1, a, b, n); }
static gf64 dot_sw(const gf64 *a, const gf64 *b, size_t n) { return dot_body(0, a, b, n); }
gf64 gf64_dot(const gf64 *a, const gf64 *b, size_t n) { return use_hw() ? dot_hw(a, b, n) : dot_sw(a, b, n); }

/* The body of a kernel that returns nothing, instantiated twice: name_hw
 * (hw = 1, compiled for PCLMUL) and name_sw (hw = 0). */
#define VARIANTS(name, params, ...)                                                                                    \
    HW static void name##_hw params { name##_body(1, __VA_ARGS__); }                                                   \
    static void name##_sw params { name##_body(0, __VA_ARGS__); }

VARIANTS(scale, (gf64 *out, const gf64 *s, const gf64 *v, size_t n, size_t per), out, s, v, n, per)
void gf64_scale(gf64 *out, const gf64 *s, const gf64 *v, size_t n, size_t per)
{
    (use_hw() ? scale_hw : scale_sw)(out, s, v, n, per);
}

VARIANTS(shift, (gf64_wide *acc, const gf64 *rho, size_t n, unsigned sigma, const uint64_t *x, const uint64_t *y),
         acc, rho, n, sigma, x, y)

#if GF64_X86
/* The shift products eight words at a time (AVX-512 and VPCLMULQDQ: four
 * carry-less products an instruction), for proof B's first fold, the
 * largest of its kernels: a lane per word, as shift_body's two. */
#define HW512 __attribute__((target("avx512f,vpclmulqdq,pclmul")))

/* Per block of eight words and up to four slots, the slots' words are
 * gathered once and each shift d is summed in a register and multiplied
 * by rho at once (clmul is linear in c), so only the 127 sums acc live in
 * memory. */
enum { SLOTS_512 = 4 };

HW512 static inline __m512i rho_times(__m512i r, __m512i c)
{
    return _mm512_xor_si512(_mm512_clmulepi64_epi128(r, c, 0x00), _mm512_clmulepi64_epi128(r, c, 0x11));
}

HW512 static void shift_512(gf64_wide *acc, const gf64 *rho, size_t n, unsigned sigma, const uint64_t *x,
                            const uint64_t *y)
{
    __m512i a[127];
    for (int d = 0; d < 127; d++)
        a[d] = _mm512_setzero_si512();
    long long st = (long long)sigma;
    __m512i idx = _mm512_set_epi64(7 * st, 6 * st, 5 * st, 4 * st, 3 * st, 2 * st, st, 0);
    for (size_t w = 0; w + 8 <= n; w += 8) {
        __m512i r = _mm512_loadu_si512((const void *)(rho + w));
        for (unsigned s0 = 0; s0 < sigma; s0 += SLOTS_512) {
            unsigned ns = sigma - s0 < SLOTS_512 ? sigma - s0 : SLOTS_512;
            __m512i xs[SLOTS_512], ys[SLOTS_512], c = _mm512_setzero_si512();
            for (unsigned s = 0; s < ns; s++) {
                xs[s] = _mm512_i64gather_epi64(idx, (const void *)(x + w * sigma + s0 + s), 8);
                ys[s] = _mm512_i64gather_epi64(idx, (const void *)(y + w * sigma + s0 + s), 8);
                c = _mm512_xor_si512(c, _mm512_and_si512(xs[s], ys[s]));
            }
            a[63] = _mm512_xor_si512(a[63], rho_times(r, c));
            for (int d = 1; d < 64; d++) {
                __m128i k = _mm_cvtsi32_si128(d);
                __m512i up = _mm512_setzero_si512(), down = _mm512_setzero_si512();
                for (unsigned s = 0; s < ns; s++) {
                    up = _mm512_xor_si512(up, _mm512_and_si512(xs[s], _mm512_sll_epi64(ys[s], k)));
                    down = _mm512_xor_si512(down, _mm512_and_si512(xs[s], _mm512_srl_epi64(ys[s], k)));
                }
                a[63 + d] = _mm512_xor_si512(a[63 + d], rho_times(r, up));
                a[63 - d] = _mm512_xor_si512(a[63 - d], rho_times(r, down));
            }
        }
    }
    for (int d = 0; d < 127; d++) { /* four 128-bit sums a lane */
        uint64_t v[8];
        _mm512_storeu_si512((void *)v, a[d]);
        acc[d].lo ^= v[0] ^ v[2] ^ v[4] ^ v[6];
        acc[d].hi ^= v[1] ^ v[3] ^ v[5] ^ v[7];
    }
}

static int use_512(void)
{
    return portable == 0 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
}
#else
static void shift_512(gf64_wide *acc, const gf64 *rho, size_t n, unsigned sigma, const uint64_t *x,
                      const uint64_t *y)
{
    (void)acc, (void)rho, (void)n, (void)sigma, (void)x, (void)y;
}
static int use_512(void) { return 0; }
#endif

void gf64_shift_products(gf64_wide acc[127], const gf64 *rho, size_t n, unsigned sigma, const uint64_t *x,
                         const uint64_t *y)
{
    size_t n8 = use_512() && sigma ? n / 8 * 8 : 0;
    if (n8)
        shift_512(acc, rho, n8, sigma, x, y);
    (use_hw() ? shift_hw : shift_sw)(acc, rho + n8, n - n8, sigma, x + n8 * sigma, y + n8 * sigma);
}

VARIANTS(poly, (gf64 *H, const gf64 *U, const gf64 *B, size_t groups, unsigned k), H, U, B, groups, k)
void gf64_fold_poly(gf64 *H, const gf64 *U, const gf64 *B, size_t groups, unsigned k)
{
    (use_hw() ? poly_hw : poly_sw)(H, U, B, groups, k);
}

VARIANTS(eval, (gf64 *out, const gf64 *V, size_t groups, unsigned k, const gf64 *pw), out, V, groups, k, pw)
void gf64_fold_eval(gf64 *out, const gf64 *V, size_t groups, unsigned k, const gf64 *pw)
{
    (use_hw() ? eval_hw : eval_sw)(out, V, groups, k, pw);
}

/* ---- powers and tables ---- */

gf64 gf64_pow(gf64 a, uint64_t e)
{
    gf64 r = 1;
    for (; e; e >>= 1, a = gf64_mul(a, a))
        if (e & 1)
            r = gf64_mul(r, a);
    return r;
}

void gf64_vec_tables(const gf64 e[64], gf64 tab[8][256])
{
    for (int k = 0; k < 8; k++) {
        tab[k][0] = 0;
        for (unsigned v = 1; v < 256; v++) /* v without its lowest bit, plus that bit's element */
            tab[k][v] = tab[k][v & (v - 1)] ^ e[8 * k + __builtin_ctz(v)];
    }
}

void gf64_bit_tables(gf64 base, gf64 tab[8][256])
{
    gf64 e[64];
    e[0] = 1;
    for (int b = 1; b < 64; b++)
        e[b] = gf64_mul(e[b - 1], base);
    gf64_vec_tables(e, tab);
}
