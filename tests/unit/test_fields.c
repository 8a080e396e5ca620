/* The proofs' fields (runtime/core/gf64.c, runtime/core/fp192.c) against slow
 * references written from the definitions: GF(2^64) by shift-and-xor, its
 * modulus irreducible (Rabin) and primitive, the bit tables and the bulk
 * kernels by direct sums, on both multiplication paths; F_p by
 * shift-and-subtract on six-word numbers, with the edge values, the
 * refusal of encodings >= p and the lazy accumulator; both fields' fold
 * polynomials (Karatsuba) by direct sums; wdot's exact sums on both
 * paths. The share field
 * F_(2^127 - 1) (runtime/core/fp127.c) against GMP's mpz. */
#include <check.h>
#include <gmp.h>
#include <stdlib.h>

#include "runtime/core/fp127.h"
#include "runtime/core/kernels.h"

#include "runtime/core/fp192.h"
#include "runtime/core/gf64.h"
#include "runtime/core/wdot.h"
#include "runtime/proto/dzkp_arith.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t rnd(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return z ^ z >> 31;
}

/* inputs that stress carries and reductions as well as random ones */
static uint64_t rnd_word(uint64_t *s)
{
    static const uint64_t edge[] = {0, 1, 2, ~0ull, ~0ull - 1, 1ull << 63, (1ull << 63) - 1, 0x1B};
    uint64_t r = rnd(s);
    return r % 4 ? rnd(s) : edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
}

/* ================= GF(2^64) ================= */

#define POLY_LOW 0x1Bull /* x^4 + x^3 + x + 1 */

static gf64 ref_mul(gf64 a, gf64 b)
{
    gf64 r = 0;
    for (int i = 0; i < 64; i++, a = a << 1 ^ (a >> 63 ? POLY_LOW : 0))
        if (b >> i & 1)
            r ^= a;
    return r;
}

static u128 ref_clmul(uint64_t a, uint64_t b)
{
    u128 r = 0;
    for (int i = 0; i < 64; i++)
        if (b >> i & 1)
            r ^= (u128)a << i;
    return r;
}

/* every test of GF(2^64) runs on every multiplication path: the fastest,
 * the portable one, PCLMUL alone */
static void each_path(void (*t)(void))
{
    for (int portable = 0; portable < 3; portable++) {
        gf64_set_portable(portable);
        t();
    }
    gf64_set_portable(0);
}

static void mul_matches(void)
{
    uint64_t s = 1;
    for (int i = 0; i < 20000; i++) {
        uint64_t a = rnd_word(&s), b = rnd_word(&s);
        gf64_wide w = gf64_clmul(a, b);
        u128 want = ref_clmul(a, b);
        ck_assert_uint_eq(w.lo, (uint64_t)want);
        ck_assert_uint_eq(w.hi, (uint64_t)(want >> 64));
        ck_assert_uint_eq(gf64_mul(a, b), ref_mul(a, b));
        ck_assert_uint_eq(gf64_reduce(w), ref_mul(a, b));
    }
    ck_assert_uint_eq(gf64_pow(2, 64), POLY_LOW); /* xi^64 = xi^4 + xi^3 + xi + 1 */
}

START_TEST(gf64_mul_matches_shift_and_xor) { each_path(mul_matches); }
END_TEST

/* polynomials over F_2 of degree < 128 */
static int deg(u128 a)
{
    int d = -1;
    for (; a; a >>= 1)
        d++;
    return d;
}

static u128 poly_gcd(u128 a, u128 b)
{
    while (b) {
        while (a && deg(a) >= deg(b))
            a ^= b << (deg(a) - deg(b));
        u128 t = a;
        a = b;
        b = t;
    }
    return a;
}

static gf64 square_times(gf64 a, int k)
{
    while (k--)
        a = gf64_mul(a, a);
    return a;
}

/* Rabin: f of degree 64 is irreducible iff x^(2^64) = x mod f and
 * gcd(x^(2^32) - x, f) = 1 (2 is the only prime factor of 64). Primitive:
 * xi has order 2^64 - 1, checked against each prime factor. */
START_TEST(gf64_modulus_irreducible_and_primitive)
{
    const u128 f = (u128)1 << 64 | POLY_LOW;
    ck_assert_uint_eq(square_times(2, 64), 2);
    ck_assert(poly_gcd(f, square_times(2, 32) ^ 2) == 1);

    static const uint64_t q[] = {3, 5, 17, 257, 641, 65537, 6700417};
    uint64_t prod = 1;
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        prod *= q[i];
    ck_assert_uint_eq(prod, ~0ull);
    ck_assert_uint_eq(gf64_pow(2, ~0ull), 1);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        ck_assert_uint_ne(gf64_pow(2, ~0ull / q[i]), 1);
}
END_TEST

static gf64 tab[8][256];

static void tables_match(void)
{
    uint64_t s = 7;
    for (int t = 0; t < 8; t++) {
        gf64 base = rnd_word(&s), e[64];
        gf64_bit_tables(base, tab);
        for (int i = 0; i < 200; i++) {
            uint64_t w = rnd_word(&s);
            gf64 want = 0, pw = 1;
            for (int b = 0; b < 64; b++, pw = ref_mul(pw, base))
                if (w >> b & 1)
                    want ^= pw;
            ck_assert_uint_eq(gf64_bits_eval((const gf64(*)[256])tab, w), want);
        }
        for (int b = 0; b < 64; b++)
            e[b] = rnd(&s);
        gf64_vec_tables(e, tab);
        for (int i = 0; i < 200; i++) {
            uint64_t w = rnd_word(&s);
            gf64 want = 0;
            for (int b = 0; b < 64; b++)
                if (w >> b & 1)
                    want ^= e[b];
            ck_assert_uint_eq(gf64_bits_eval((const gf64(*)[256])tab, w), want);
        }
    }
}

START_TEST(gf64_tables_match_direct_sums) { each_path(tables_match); }
END_TEST

static void kernels_match(void)
{
    enum { N = 97, SIG = 5, K = 16, G = 5 }; /* SIG past shift_512's four slots a pass */
    uint64_t s = 11;
    gf64 a[N * SIG], b[N * SIG], x[N * SIG], y[N * SIG], out[N * SIG];
    for (int i = 0; i < N * SIG; i++)
        a[i] = rnd_word(&s), b[i] = rnd_word(&s), x[i] = rnd_word(&s), y[i] = rnd_word(&s);

    gf64 want = 0;
    for (int i = 0; i < N; i++)
        want ^= ref_mul(a[i], b[i]);
    ck_assert_uint_eq(gf64_dot(a, b, N), want);

    gf64_scale(out, a, b, N, SIG);
    for (int w = 0; w < N; w++)
        for (int j = 0; j < SIG; j++)
            ck_assert_uint_eq(out[w * SIG + j], ref_mul(a[w], b[w * SIG + j]));

    /* shift products: acc[63 + d] = sum_w rho_w sum_s sum_b xi^b x_b y_(b-d) */
    for (unsigned sigma = 0; sigma <= SIG; sigma++) {
        gf64_wide acc[127] = {{0, 0}};
        gf64_shift_products(acc, a, N, sigma, x, y);
        for (int d = -63; d <= 63; d++) {
            gf64 h = 0;
            for (int w = 0; w < N; w++) {
                gf64 c = 0;
                for (unsigned j = 0; j < sigma; j++)
                    for (int bit = 0; bit < 64; bit++)
                        if (bit - d >= 0 && bit - d < 64)
                            c ^= (x[w * sigma + j] >> bit & y[w * sigma + j] >> (bit - d) & 1) << bit;
                h ^= ref_mul(a[w], c);
            }
            ck_assert_uint_eq(gf64_reduce(acc[63 + d]), h);
        }
    }

    gf64_fold_eval(out, a, G, K, b);
    for (int l = 0; l < G; l++) {
        gf64 e = 0;
        for (int j = 0; j < K; j++)
            e ^= ref_mul(a[l * K + j], b[j]);
        ck_assert_uint_eq(out[l], e);
    }
}

START_TEST(gf64_kernels_match_direct_sums) { each_path(kernels_match); }
END_TEST

/* The fold polynomial H[m] = sum_l sum_(j - i = m - (k-1)) U[lk+j] B[lk+i]
 * for every factor a fold uses and more, with one group and several:
 * Karatsuba (runtime/core/kara.c) where k is a power of two and there are
 * two groups or more, the direct sum otherwise. */
enum { POLY_G = 5, POLY_MAXK = 64 };
static const unsigned poly_ks[] = {2, 4, 6, 8, 16, 32, 64};
static const size_t poly_gs[] = {1, 2, POLY_G};

static void poly_matches(void)
{
    uint64_t s = 29;
    gf64 a[POLY_G * POLY_MAXK], b[POLY_G * POLY_MAXK], H[2 * POLY_MAXK - 1];
    for (int i = 0; i < POLY_G * POLY_MAXK; i++)
        a[i] = rnd_word(&s), b[i] = rnd_word(&s);
    for (size_t ki = 0; ki < sizeof poly_ks / sizeof poly_ks[0]; ki++)
        for (size_t gi = 0; gi < sizeof poly_gs / sizeof poly_gs[0]; gi++) {
            unsigned k = poly_ks[ki];
            size_t g = poly_gs[gi];
            gf64_fold_poly(H, a, b, g, k);
            for (unsigned m = 0; m < 2 * k - 1; m++) {
                gf64 h = 0;
                for (size_t l = 0; l < g; l++)
                    for (unsigned j = 0; j < k; j++) {
                        int i = (int)j - ((int)m - (int)(k - 1));
                        if (i >= 0 && i < (int)k)
                            h ^= ref_mul(a[l * k + j], b[l * k + (unsigned)i]);
                    }
                ck_assert_msg(H[m] == h, "k %u, %zu groups, coefficient %u", k, g, m);
            }
        }
}

START_TEST(gf64_fold_poly_matches_the_definition) { each_path(poly_matches); }
END_TEST

/* ================= F_p ================= */

static const uint64_t P[3] = {~0ull, ~0ull - 1, ~0ull};

/* r (4 words, < 2p) >= p */
static int ge_p4(const uint64_t r[4])
{
    if (r[3])
        return 1;
    for (int i = 2; i >= 0; i--)
        if (r[i] != P[i])
            return r[i] > P[i];
    return 1;
}

/* c (6 words) mod p, one bit at a time: r = 2r + bit, minus p if >= p */
static fp ref_mod(const uint64_t c[6])
{
    uint64_t r[4] = {0};
    for (int i = 383; i >= 0; i--) {
        for (int k = 3; k > 0; k--)
            r[k] = r[k] << 1 | r[k - 1] >> 63;
        r[0] = r[0] << 1 | (c[i / 64] >> (i % 64) & 1);
        if (ge_p4(r)) {
            uint64_t borrow = 0;
            for (int k = 0; k < 4; k++) {
                uint64_t pk = k < 3 ? P[k] : 0, d = r[k] - pk - borrow;
                borrow = r[k] < pk || (r[k] == pk && borrow);
                r[k] = d;
            }
        }
    }
    return (fp){{r[0], r[1], r[2]}};
}

/* c += a << sh, six words */
static void add_shifted(uint64_t c[6], const uint64_t a[3], int sh)
{
    uint64_t v[6] = {0};
    for (int k = 0; k < 3; k++) {
        int at = sh / 64 + k;
        v[at] |= a[k] << (sh % 64);
        if (sh % 64)
            v[at + 1] |= a[k] >> (64 - sh % 64);
    }
    uint64_t carry = 0;
    for (int k = 0; k < 6; k++) {
        uint64_t t = c[k] + carry;
        carry = t < carry;
        c[k] = t + v[k];
        carry += c[k] < v[k];
    }
}

static fp ref_mul_p(const fp *a, const fp *b)
{
    uint64_t c[6] = {0};
    for (int i = 0; i < 192; i++)
        if (b->w[i / 64] >> (i % 64) & 1)
            add_shifted(c, a->w, i);
    return ref_mod(c);
}

static fp ref_add_p(const fp *a, const fp *b)
{
    uint64_t c[6] = {0};
    add_shifted(c, a->w, 0);
    add_shifted(c, b->w, 0);
    return ref_mod(c);
}

static fp ref_neg_p(const fp *a) /* p - a, or 0 */
{
    uint64_t c[6] = {0}, borrow = 0;
    for (int k = 0; k < 3; k++) {
        c[k] = P[k] - a->w[k] - borrow;
        borrow = P[k] < a->w[k] || (P[k] == a->w[k] && borrow);
    }
    return ref_mod(c);
}

static void assert_fp_eq(const fp *a, const fp *b)
{
    for (int k = 0; k < 3; k++)
        ck_assert_uint_eq(a->w[k], b->w[k]);
}

/* a uniform-ish element, or an edge value: 0, 1, p - 1, p - 2, 2^64,
 * 2^128, 2^192 - 2^64 - 2, or words of edge patterns */
static fp rnd_fp(uint64_t *s)
{
    static const fp edge[] = {
        {{0, 0, 0}}, {{1, 0, 0}}, {{~0ull - 1, ~0ull - 1, ~0ull}}, {{~0ull - 2, ~0ull - 1, ~0ull}},
        {{0, 1, 0}}, {{0, 0, 1}}, {{~0ull, ~0ull - 2, ~0ull}},     {{~0ull, ~0ull, ~0ull - 1}}};
    for (;;) {
        uint64_t r = rnd(s);
        fp a = r % 3 ? (fp){{rnd_word(s), rnd_word(s), rnd_word(s)}} : edge[(r >> 8) % 8];
        uint8_t b[FP_BYTES];
        fp_to_bytes(b, &a);
        if (fp_from_bytes(&a, b) == 0)
            return a;
    }
}

START_TEST(fp_matches_shift_and_subtract)
{
    uint64_t s = 3;
    for (int i = 0; i < 4000; i++) {
        fp a = rnd_fp(&s), b = rnd_fp(&s), r, want;
        fp_mul(&r, &a, &b);
        want = ref_mul_p(&a, &b);
        assert_fp_eq(&r, &want);
        fp_add(&r, &a, &b);
        want = ref_add_p(&a, &b);
        assert_fp_eq(&r, &want);
        fp_neg(&r, &b);
        want = ref_neg_p(&b);
        assert_fp_eq(&r, &want);
        fp_sub(&r, &a, &b);
        want = ref_add_p(&a, &want);
        assert_fp_eq(&r, &want);
        ck_assert_int_eq(fp_eq(&a, &b), a.w[0] == b.w[0] && a.w[1] == b.w[1] && a.w[2] == b.w[2]);
        ck_assert_int_eq(fp_is_zero(&a), !(a.w[0] | a.w[1] | a.w[2]));
    }
    /* (p - 1)^2 = 1, and 2^128 squared is 2^256 = 2^128 + 2^64 */
    fp m1, r, x;
    fp_from_u64(&x, 1);
    fp_neg(&m1, &x);
    fp_mul(&r, &m1, &m1);
    assert_fp_eq(&r, &x);
    fp_from_u128(&x, 0, 1); /* 2^64 */
    fp_mul(&r, &x, &x);
    ck_assert(r.w[0] == 0 && r.w[1] == 0 && r.w[2] == 1);
    fp_mul(&r, &r, &r);
    ck_assert(r.w[0] == 0 && r.w[1] == 1 && r.w[2] == 1);
    fp_from_u128(&x, ~0ull, ~0ull);
    fp_mul(&r, &x, &x);
    fp want = ref_mul_p(&x, &x);
    assert_fp_eq(&r, &want);
}
END_TEST

/* the words of p are (2^64 - 1, 2^64 - 2, 2^64 - 1), least significant first */
static int decodes(uint64_t w0, uint64_t w1, uint64_t w2)
{
    uint8_t b[FP_BYTES], back[FP_BYTES];
    fp a = {{w0, w1, w2}}, got = {{5, 6, 7}};
    fp_to_bytes(b, &a);
    if (fp_from_bytes(&got, b)) {
        ck_assert(got.w[0] == 5 && got.w[1] == 6 && got.w[2] == 7); /* untouched */
        return 0;
    }
    assert_fp_eq(&got, &a);
    fp_to_bytes(back, &got);
    for (int i = 0; i < FP_BYTES; i++)
        ck_assert_uint_eq(back[i], b[i]);
    return 1;
}

START_TEST(fp_bytes_refuse_values_from_p)
{
    ck_assert(!decodes(P[0], P[1], P[2]));        /* p */
    ck_assert(!decodes(0, ~0ull, ~0ull));         /* p + 1 */
    ck_assert(!decodes(~0ull, ~0ull, ~0ull));     /* 2^192 - 1 */
    ck_assert(decodes(P[0] - 1, P[1], P[2]));     /* p - 1 */
    ck_assert(decodes(P[0], P[1] - 1, P[2]));     /* p - 2^64 */
    ck_assert(decodes(~0ull, ~0ull, ~0ull >> 1)); /* 2^191 - 1 */
    ck_assert(decodes(0, 0, 0));
    uint8_t b[FP_BYTES] = {0x2a}; /* little-endian */
    fp got;
    ck_assert_int_eq(fp_from_bytes(&got, b), 0);
    ck_assert(got.w[0] == 42 && got.w[1] == 0 && got.w[2] == 0);
}
END_TEST

START_TEST(fp_acc_matches_sum_of_products)
{
    uint64_t s = 5;
    for (int t = 0; t < 40; t++) {
        size_t n = t < 20 ? (size_t)t : 1000;
        fp_acc acc;
        fp_acc_zero(&acc);
        fp sum = {{0, 0, 0}}, r, v;
        for (size_t i = 0; i < n; i++) {
            fp a = t % 2 ? (fp){{~0ull - 1, ~0ull - 1, ~0ull}} : rnd_fp(&s);
            uint64_t m = t % 2 ? ~0ull : rnd_word(&s);
            fp_acc_mac_u64(&acc, &a, m);
            fp_from_u64(&v, m);
            fp_mul(&r, &a, &v);
            fp_add(&sum, &sum, &r);
        }
        fp_acc_reduce(&r, &acc);
        assert_fp_eq(&r, &sum);
        const uint64_t c[6] = {acc.w[0], acc.w[1], acc.w[2], acc.w[3], acc.w[4], 0};
        fp want = ref_mod(c);
        assert_fp_eq(&r, &want);
    }
}
END_TEST

/* F_p's fold polynomial (proof A's dzk_field), as GF(2^64)'s above; the
 * inputs include three words at or above p (the kernels take any three) */
START_TEST(fp_fold_poly_matches_the_definition)
{
    uint64_t s = 31;
    static const fp zero;
    fp *a = malloc(2 * POLY_G * POLY_MAXK * sizeof *a), *b = a + POLY_G * POLY_MAXK, H[2 * POLY_MAXK - 1];
    ck_assert(a != NULL);
    /* 2^192 - 1 in pairs (Karatsuba's sums then carry out of 2^192 and
     * again out of the fold), scattered, and at random */
    for (int i = 0; i < POLY_G * POLY_MAXK; i++) {
        int top = i < 2 * POLY_MAXK ? i % 4 < 2 : i % 7 == 3;
        a[i] = top ? (fp){{~0ull, ~0ull, ~0ull}} : rnd_fp(&s);
        b[i] = top || i % 11 == 5 ? (fp){{~0ull, ~0ull, ~0ull}} : rnd_fp(&s);
    }
    for (size_t ki = 0; ki < sizeof poly_ks / sizeof poly_ks[0]; ki++)
        for (size_t gi = 0; gi < sizeof poly_gs / sizeof poly_gs[0]; gi++) {
            unsigned k = poly_ks[ki];
            size_t g = poly_gs[gi];
            dzka_fp.poly((uint64_t *)H, (const uint64_t *)a, (const uint64_t *)b, g, k);
            for (unsigned m = 0; m < 2 * k - 1; m++) {
                fp h = zero, x, y, r;
                for (size_t l = 0; l < g; l++)
                    for (unsigned j = 0; j < k; j++) {
                        int i = (int)j - ((int)m - (int)(k - 1));
                        if (i < 0 || i >= (int)k)
                            continue;
                        fp_add(&x, &a[l * k + j], &zero); /* reduced below p */
                        fp_add(&y, &b[l * k + (unsigned)i], &zero);
                        fp_mul(&r, &x, &y);
                        fp_add(&h, &h, &r);
                    }
                ck_assert_msg(H[m].w[0] == h.w[0] && H[m].w[1] == h.w[1] && H[m].w[2] == h.w[2],
                              "k %u, %zu groups, coefficient %u", k, g, m);
            }
        }
    free(a);
}
END_TEST

/* ================= wdot: exact sums of word products ================= */

/* s += a b, three words */
static void ref_mac192(uint64_t s[3], uint64_t a, uint64_t b)
{
    u128 p = (u128)a * b, t = (u128)s[0] + (uint64_t)p;
    s[0] = (uint64_t)t;
    t = (t >> 64) + s[1] + (uint64_t)(p >> 64);
    s[1] = (uint64_t)t;
    s[2] += (uint64_t)(t >> 64);
}

static uint64_t rnd_lam(uint64_t *s, int max) { return max ? (1ull << 63) - 1 : rnd_word(s) >> 1; }

/* On both paths (IFMA where the CPU has it, and portable), against sums
 * formed product by product: wdot_exact over lengths around the vector
 * width and past IFMA's block, wdot_acc with rows visited past its
 * normalization interval, with one lam a row and one a sum, at random and
 * at the largest words. */
START_TEST(wdot_matches_sums_of_products)
{
    uint64_t s = 37;
    enum { N = 12000 }; /* 1,500 steps a lane: past exact_ifma's block and past wrapping without it */
    uint64_t *v = malloc(4 * N * sizeof *v);
    ck_assert(v != NULL);
    for (int portable = 0; portable < 2; portable++) {
        wdot_set_portable(portable);
        for (int max = 0; max < 2; max++) {
            for (int i = 0; i < 4 * N; i++)
                v[i] = max ? ~0ull : rnd_word(&s);
            static const size_t ns[] = {0, 1, 7, 8, 9, 17, 1000, 8192, 8193, N};
            for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++)
                for (int form = 0; form < 4; form++) { /* with or without y2, with or without u v */
                    const uint64_t *y2 = form & 1 ? v + 3 * N : NULL, *u = form & 2 ? v + 2 * N : NULL;
                    uint64_t got[3] = {5, 6, 7}, want[3] = {5, 6, 7};
                    wdot_exact(got, v, v + N, y2, u, u ? v + 3 * N : NULL, ns[t]);
                    for (size_t k = 0; k < ns[t]; k++) {
                        ref_mac192(want, v[k], v[N + k]);
                        if (y2)
                            ref_mac192(want, v[k], y2[k]);
                        if (u)
                            ref_mac192(want, u[k], v[3 * N + k]);
                    }
                    ck_assert_msg(got[0] == want[0] && got[1] == want[1] && got[2] == want[2],
                                  "wdot_exact n %zu form %d max %d portable %d", ns[t], form, max, portable);
                }
            static const size_t lens[] = {1, 3, 8, 13, 64};
            for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++)
                for (size_t st = 0; st < 3; st++) { /* one lam a row, a lam a sum, several rows at once */
                    size_t len = lens[t], rows = 2, visits = 4200; /* 2,100 a row: past ROW_LIMIT and past wrapping without it */
                    wdot_acc *a = wdot_acc_new(rows, len);
                    uint64_t(*want)[3] = calloc(rows * len, sizeof *want), lam[64];
                    ck_assert(a && want);
                    for (size_t r = 0; r < visits; r++) {
                        size_t row = r % rows, off = (r * 7) % (N - len), n = 1 + r % WDOT_MAX_N;
                        for (size_t k = 0; k < len || k < n; k++)
                            lam[k] = rnd_lam(&s, max);
                        if (st == 2) {
                            const uint64_t *xs[WDOT_MAX_N];
                            for (size_t i = 0; i < n; i++)
                                xs[i] = v + (off + 13 * i) % (N - len);
                            wdot_acc_mac_n(a, row, lam, xs, n);
                            for (size_t i = 0; i < n; i++)
                                for (size_t k = 0; k < len; k++)
                                    ref_mac192(want[row * len + k], lam[i], xs[i][k]);
                            continue;
                        }
                        wdot_acc_mac(a, row, lam, st, v + off);
                        for (size_t k = 0; k < len; k++)
                            ref_mac192(want[row * len + k], lam[k * st], v[off + k]);
                    }
                    for (size_t i = 0; i < rows * len; i++) {
                        uint64_t got[3];
                        wdot_acc_get(a, i, got);
                        ck_assert_msg(got[0] == want[i][0] && got[1] == want[i][1] && got[2] == want[i][2],
                                      "wdot_acc len %zu mode %zu sum %zu max %d portable %d", len, st, i, max, portable);
                    }
                    wdot_acc_free(a), free(want);
                }
        }
    }
    wdot_set_portable(0);
    free(v);
}
END_TEST

/* ================= F_(2^127 - 1) against mpz ================= */

static void mpz_of(mpz_t z, fp127 a)
{
    mpz_set_ui(z, a.hi);
    mpz_mul_2exp(z, z, 64);
    mpz_add_ui(z, z, a.lo);
}

static void assert_fp127_mpz(fp127 a, const mpz_t want)
{
    mpz_t z;
    mpz_init(z);
    mpz_of(z, a);
    ck_assert_msg(mpz_cmp(z, want) == 0, "fp127 %016llx%016llx differs from mpz", (unsigned long long)a.hi,
                  (unsigned long long)a.lo);
    mpz_clear(z);
}

/* random elements, and the edges: 0, 1, 2, p - 1, p - 2, 2^64 +- 1, 2^126, (p - 1) / 2 */
static fp127 rnd_fp127(uint64_t *s)
{
    static const fp127 edge[] = {{0, 0}, {1, 0}, {2, 0}, {~0ull - 1, ~0ull >> 1}, {~0ull - 2, ~0ull >> 1},
                                 {0, 1}, {1, 1}, {~0ull, 0}, {0, 1ull << 62}, {~0ull, (1ull << 62) - 1}};
    uint64_t r = rnd(s);
    if (r % 4 == 0)
        return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    fp127 a = {rnd(s), rnd(s) >> 1};
    return fp127_u(a) == FP127_P ? (fp127){0, 0} : a;
}

START_TEST(fp127_matches_mpz)
{
    ck_assert_int_eq(fp127_check_prime(), 0);
    mpz_t p, x, y, w;
    mpz_inits(p, x, y, w, NULL);
    mpz_ui_pow_ui(p, 2, 127);
    mpz_sub_ui(p, p, 1);
    uint64_t s = 11;
    for (int i = 0; i < 20000; i++) {
        fp127 a = rnd_fp127(&s), b = rnd_fp127(&s);
        int64_t c = (int64_t)rnd_word(&s), back;
        mpz_of(x, a), mpz_of(y, b);
        mpz_add(w, x, y), mpz_mod(w, w, p);
        assert_fp127_mpz(fp127_add(a, b), w);
        mpz_sub(w, x, y), mpz_mod(w, w, p);
        assert_fp127_mpz(fp127_sub(a, b), w);
        mpz_neg(w, x), mpz_mod(w, w, p);
        assert_fp127_mpz(fp127_neg(a), w);
        mpz_mul(w, x, y), mpz_mod(w, w, p);
        assert_fp127_mpz(fp127_mul(a, b), w);
        mpz_set_si(w, c), mpz_mul(w, w, x), mpz_mod(w, w, p);
        assert_fp127_mpz(fp127_mul_i64(a, c), w);
        mpz_set_si(w, c), mpz_mod(w, w, p);
        assert_fp127_mpz(fp127_from_i64(c), w);
        ck_assert_int_eq(fp127_to_i64(fp127_from_i64(c), &back), 0);
        ck_assert(back == c);
        if (fp127_u(a)) { /* a a^-1 = 1 */
            fp127 one = fp127_mul(a, fp127_inv(a));
            ck_assert(one.lo == 1 && one.hi == 0);
        }
    }
    /* centered decoding: (p - 1) / 2 and beyond it, int64's edges */
    int64_t v;
    ck_assert_int_eq(fp127_to_i64(fp127_of(FP127_P / 2), &v), -1); /* 2^126 - 1 */
    ck_assert_int_eq(fp127_to_i64(fp127_of(FP127_P / 2 + 1), &v), -1); /* -(2^126 - 1) */
    ck_assert_int_eq(fp127_to_i64(fp127_of((fp127_u128)1 << 63), &v), -1);
    ck_assert_int_eq(fp127_to_i64(fp127_of(FP127_P - ((fp127_u128)1 << 63)), &v), 0);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(fp127_to_i64(fp127_of(FP127_P - ((fp127_u128)1 << 63) - 1), &v), -1);
    mpz_clears(p, x, y, w, NULL);
}
END_TEST

START_TEST(fp127_bytes_refuse_values_from_p)
{
    uint8_t b[FP127_BYTES];
    fp127 got = {5, 6}, a;
    for (int i = 0; i < FP127_BYTES; i++)
        b[i] = 0xff; /* 2^128 - 1 */
    ck_assert_int_eq(fp127_from_bytes(&got, b), -1);
    b[15] = 0x7f; /* p */
    ck_assert_int_eq(fp127_from_bytes(&got, b), -1);
    ck_assert(got.lo == 5 && got.hi == 6); /* untouched */
    a = fp127_from_random(b); /* p, drawn: 0 */
    ck_assert(a.lo == 0 && a.hi == 0);
    b[0] = 0xfe; /* p - 1 */
    ck_assert_int_eq(fp127_from_bytes(&got, b), 0);
    ck_assert(fp127_u(got) == FP127_P - 1);
    uint8_t back[FP127_BYTES];
    fp127_to_bytes(back, got);
    for (int i = 0; i < FP127_BYTES; i++)
        ck_assert_uint_eq(back[i], b[i]);
    b[15] = 0xff; /* the top bit drops for a random draw */
    a = fp127_from_random(b);
    ck_assert(fp127_u(a) == FP127_P - 1);
}
END_TEST

START_TEST(fp127_acc_matches_sum_of_products)
{
    uint64_t s = 13;
    mpz_t p, sum, x, y;
    mpz_inits(p, sum, x, y, NULL);
    mpz_ui_pow_ui(p, 2, 127);
    mpz_sub_ui(p, p, 1);
    for (int t = 0; t < 40; t++) {
        size_t n = t < 20 ? (size_t)t : 3000;
        fp127_acc acc;
        fp127_acc_zero(&acc);
        mpz_set_ui(sum, 0);
        for (size_t i = 0; i < n; i++) {
            fp127 a = t % 2 ? fp127_of(FP127_P - 1) : rnd_fp127(&s), b = t % 2 ? a : rnd_fp127(&s);
            fp127_acc_mac(&acc, a, b);
            mpz_of(x, a), mpz_of(y, b);
            mpz_addmul(sum, x, y);
        }
        mpz_mod(sum, sum, p);
        assert_fp127_mpz(fp127_acc_reduce(&acc), sum);
    }
    /* the columns near their capacity: 2^62 products of (p - 1)^2 each, as
     * their column sums (every 64-bit half of every partial product 2^64 - 1) */
    fp127_acc full = {{(fp127_u128)~0ull << 62, (fp127_u128)3 * ~0ull << 62, (fp127_u128)3 * ~0ull << 62,
                       (fp127_u128)~0ull << 62}};
    mpz_set_ui(sum, 0);
    for (int k = 4; k-- > 0;) {
        mpz_mul_2exp(sum, sum, 64);
        mpz_set_ui(x, (uint64_t)(full.c[k] >> 64));
        mpz_mul_2exp(x, x, 64);
        mpz_add_ui(x, x, (uint64_t)full.c[k]);
        mpz_add(sum, sum, x);
    }
    mpz_mod(sum, sum, p);
    assert_fp127_mpz(fp127_acc_reduce(&full), sum);
    mpz_clears(p, sum, x, y, NULL);
}
END_TEST

/* the F_p convolution kernels against the definition, element by element
 * (fp127_mul and fp127_add, themselves checked against mpz): strides,
 * padding, dilation, depth multipliers, 1 and 3 threads; and the Z_2^64
 * kernels (AVX-512's dot products for 16 channels or more) on the elements'
 * low words */
static fp127 conv_at(const fp127 *x, const fp127 *w, const geom *g, uint32_t oc, int depthwise, uint32_t oy,
                     uint32_t ox, uint32_t o, uint64_t *z64)
{
    fp127 sum = {0, 0};
    *z64 = 0;
    uint32_t m = depthwise ? oc : 1, c0 = depthwise ? o / m : 0, c1 = depthwise ? o / m + 1 : g->c;
    for (uint32_t ky = 0; ky < g->kh; ky++)
        for (uint32_t kx = 0; kx < g->kw; kx++) {
            int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh), ix = geom_in(ox, g->sw, g->pl, kx, g->dw);
            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                continue;
            for (uint32_t c = c0; c < c1; c++) {
                fp127 xv = x[((uint64_t)iy * g->w + (uint64_t)ix) * g->c + c];
                fp127 wv = depthwise ? w[((uint64_t)ky * g->kw + kx) * g->c * m + o]
                                     : w[(((uint64_t)o * g->kh + ky) * g->kw + kx) * g->c + c];
                sum = fp127_add(sum, fp127_mul(xv, wv));
                *z64 += xv.lo * wv.lo;
            }
        }
    return sum;
}

START_TEST(fp127_kernels_match_the_definition)
{
    static const geom shapes[] = {
        {5, 6, 3, 3, 3, 5, 6, 1, 1, 1, 1, 1, 1}, /* same padding */
        {7, 7, 4, 3, 3, 3, 3, 2, 2, 0, 0, 1, 1}, /* stride 2 */
        {9, 8, 2, 3, 2, 5, 6, 1, 1, 0, 0, 2, 2}, /* dilation */
        {4, 4, 17, 1, 1, 4, 4, 1, 1, 0, 0, 1, 1}, /* pointwise */
        {3, 3, 40, 1, 1, 3, 3, 1, 1, 0, 0, 1, 1}, /* pointwise, 40 channels: five vectors of eight */
    };
    uint64_t s = 17;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int dw = 0; dw < 2; dw++)
            for (int threads = 1; threads <= 3; threads += 2) {
                const geom *g = &shapes[k];
                uint32_t oc = dw ? 2 : 5, och = dw ? g->c * oc : oc;
                size_t nx = (size_t)g->h * g->w * g->c, nw = (size_t)g->kh * g->kw * g->c * oc;
                size_t nd = (size_t)g->oh * g->ow * och;
                fp127 *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *d = malloc(nd * sizeof *d);
                uint64_t *x64 = malloc(nx * sizeof *x64), *w64 = malloc(nw * sizeof *w64),
                         *d64 = malloc(nd * sizeof *d64);
                ck_assert(x && w && d && x64 && w64 && d64);
                for (size_t i = 0; i < nx; i++)
                    x[i] = rnd_fp127(&s), x64[i] = x[i].lo;
                for (size_t i = 0; i < nw; i++)
                    w[i] = rnd_fp127(&s), w64[i] = w[i].lo;
                kern_set_threads(threads);
                if (dw)
                    kern_dwconv2d_fp(d, x, w, g, oc), kern_dwconv2d(d64, x64, w64, g, oc);
                else
                    kern_conv2d_fp(d, x, w, g, oc), kern_conv2d(d64, x64, w64, g, oc);
                kern_set_threads(1);
                for (uint32_t oy = 0; oy < g->oh; oy++)
                    for (uint32_t ox = 0; ox < g->ow; ox++)
                        for (uint32_t o = 0; o < och; o++) {
                            uint64_t want64;
                            fp127 want = conv_at(x, w, g, oc, dw, oy, ox, o, &want64);
                            size_t i = ((size_t)oy * g->ow + ox) * och + o;
                            ck_assert_msg(d[i].lo == want.lo && d[i].hi == want.hi && d64[i] == want64,
                                          "shape %zu, %s, output %u %u %u", k, dw ? "depthwise" : "conv", oy, ox, o);
                        }
                free(x), free(w), free(d), free(x64), free(w64), free(d64);
            }
}
END_TEST

Suite *suite_fields(void)
{
    Suite *s = suite_create("fields");
    TCase *t = tcase_create("gf64");
    tcase_add_test(t, gf64_mul_matches_shift_and_xor);
    tcase_add_test(t, gf64_modulus_irreducible_and_primitive);
    tcase_add_test(t, gf64_tables_match_direct_sums);
    tcase_add_test(t, gf64_kernels_match_direct_sums);
    tcase_add_test(t, gf64_fold_poly_matches_the_definition);
    suite_add_tcase(s, t);
    t = tcase_create("fp192");
    tcase_add_test(t, fp_matches_shift_and_subtract);
    tcase_add_test(t, fp_bytes_refuse_values_from_p);
    tcase_add_test(t, fp_acc_matches_sum_of_products);
    tcase_add_test(t, fp_fold_poly_matches_the_definition);
    suite_add_tcase(s, t);
    t = tcase_create("wdot");
    tcase_add_test(t, wdot_matches_sums_of_products);
    suite_add_tcase(s, t);
    t = tcase_create("fp127");
    tcase_add_test(t, fp127_matches_mpz);
    tcase_add_test(t, fp127_bytes_refuse_values_from_p);
    tcase_add_test(t, fp127_acc_matches_sum_of_products);
    tcase_add_test(t, fp127_kernels_match_the_definition);
    suite_add_tcase(s, t);
    return s;
}
