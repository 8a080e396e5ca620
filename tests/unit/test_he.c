/* The RLWE arithmetic alone (runtime/he): primes, the negacyclic NTT
 * against schoolbook multiplication in Z_p[X]/(X^N + 1). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/kernels.h"
#include "runtime/he/he_conv.h"
#include "runtime/he/ntt.h"
#include "runtime/he/rlwe.h"
#include "runtime/net/prg.h"

static void random_poly(uint8_t seed_byte, uint64_t *a, uint32_t n, uint64_t p)
{
    uint8_t seed[16] = {seed_byte, 0x4e};
    prg *g = prg_new(seed);
    ck_assert_ptr_nonnull(g);
    prg_fill(g, a, n * sizeof *a);
    prg_free(g);
    for (uint32_t i = 0; i < n; i++)
        a[i] %= p;
}

/* c = a b in Z_p[X]/(X^N + 1), O(N^2) */
static void schoolbook(uint64_t *c, const uint64_t *a, const uint64_t *b, uint32_t n, uint64_t p)
{
    memset(c, 0, n * sizeof *c);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            uint64_t v = ntt_mulmod(a[i], b[j], p), k = (i + j) % n;
            if (i + j >= n) /* X^N = -1 */
                c[k] = c[k] >= v ? c[k] - v : c[k] + p - v;
            else
                c[k] = c[k] + v >= p ? c[k] + v - p : c[k] + v;
        }
}

START_TEST(primes)
{
    static const int bits[] = {30, 49, 60, 62};
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        uint64_t p = ntt_prime_below((uint64_t)1 << bits[i], 4096);
        ck_assert_msg(p && p < (uint64_t)1 << bits[i] && p >= (uint64_t)1 << (bits[i] - 1), "%d bits: %llu", bits[i],
                      (unsigned long long)p);
        ck_assert_uint_eq(p % 8192, 1);
        ck_assert(ntt_is_prime(p));
    }
    ck_assert(!ntt_is_prime(3215031751ull)); /* a strong pseudoprime to bases 2, 3, 5 and 7 */
    ck_assert(ntt_is_prime(2305843009213693951ull)); /* 2^61 - 1 */
    ck_assert(!ntt_is_prime(1) && ntt_is_prime(2) && !ntt_is_prime(561));
}
END_TEST

START_TEST(ntt_products_are_negacyclic)
{
    static const uint32_t logns[] = {3, 10, 12};
    for (size_t k = 0; k < sizeof logns / sizeof logns[0]; k++) {
        uint32_t n = 1u << logns[k];
        uint64_t p = ntt_prime_below((uint64_t)1 << (k == 2 ? 60 : 49), n);
        ntt_table t;
        ck_assert_int_eq(ntt_init(&t, p, logns[k]), 0);
        uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *c = malloc(n * 8), *d = malloc(n * 8), *a0 = malloc(n * 8);
        ck_assert(a && b && c && d && a0);
        random_poly(1, a, n, p);
        random_poly(2, b, n, p);
        a[0] = p - 1; /* the extremes */
        b[n - 1] = p - 1;
        memcpy(a0, a, n * 8);
        schoolbook(d, a, b, n, p);
        ntt_forward(&t, a);
        ntt_forward(&t, b);
        ntt_pointwise(&t, c, a, b);
        ntt_inverse(&t, c);
        for (uint32_t i = 0; i < n; i++)
            ck_assert_msg(c[i] == d[i], "N = %u, coefficient %u: %llu, schoolbook %llu", n, i,
                          (unsigned long long)c[i], (unsigned long long)d[i]);
        ntt_inverse(&t, a);
        ck_assert_msg(memcmp(a, a0, n * 8) == 0, "N = %u: the inverse does not undo the transform", n);
        free(a), free(b), free(c), free(d), free(a0);
        ntt_free(&t);
    }
    ntt_table t;
    ck_assert_int_eq(ntt_init(&t, 97, 5), -1); /* 97 is not 1 mod 64 */
    ck_assert_int_eq(ntt_init(&t, 91, 1), -1); /* 91 = 7 13 */
}
END_TEST

/* m w in Z_2^l[X]/(X^N + 1), O(N^2), for signed w */
static void plain_product(uint64_t *c, const uint64_t *m, const int64_t *w, uint32_t n, int l)
{
    uint64_t mask = l == 64 ? ~0ull : (1ull << l) - 1;
    memset(c, 0, n * sizeof *c);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            uint64_t v = m[i] * (uint64_t)w[j];
            if (i + j >= n)
                c[i + j - n] -= v;
            else
                c[i + j] += v;
        }
    for (uint32_t i = 0; i < n; i++)
        c[i] &= mask;
}

/* hemi's chain (docs/plans/hemi.md 3.2-3.4) at N = 4096, t = 2^22, q = 89:
 * the client encrypts its share m (seeded), the owner multiplies by weights
 * in [-255, 255] on every coefficient (the worst l1 norm), re-randomizes
 * with a fresh public-key encryption of zero, subtracts Delta R, shrinks c0
 * to l + 2 bits (dithered) and c1 to l + 13 (rounded); the client decrypts
 * m w - R mod 2^l, every coefficient, with the noise budget measured at
 * each step. The exact products are checked against schoolbook ones. */
START_TEST(rlwe_chain)
{
    enum { LOGN = 12, N = 1 << LOGN, L = 22, Q = 89 };
    rlwe_params p;
    ck_assert_int_eq(rlwe_init(&p, LOGN), 0);
    uint8_t ks[16] = {7}, as[16] = {8}, es[16] = {9}, pks[16] = {10}, us[16] = {11}, ds[16] = {12};
    rlwe_sk sk;
    ck_assert_int_eq(rlwe_keygen(&p, ks, &sk), 0);
    int weight = 0;
    for (int j = 0; j < N; j++)
        weight += sk.s[j] != 0;
    ck_assert_int_le(weight, N / 10 * 7);
    static kern_u128 a[N], b[N], apk[N], bpk[N], C0[N], C1[N], t0[N], c0[N], c1[N];
    static uint64_t m[N], d[N], want[N], R[N], zero[N];
    static int64_t w[N], u[N], e0[N], e1[N];
    kern_u128 tm = ((kern_u128)1 << L) - 1, qm = ((kern_u128)1 << Q) - 1;
    random_poly(3, m, N, ~0ull);
    random_poly(4, R, N, ~0ull);
    random_poly(5, want, N, ~0ull);
    for (int j = 0; j < N; j++)
        m[j] &= (uint64_t)tm, R[j] &= (uint64_t)tm, w[j] = (int64_t)(want[j] % 511) - 255;
    m[0] = (uint64_t)tm, w[0] = -255, w[1] = 255;
    /* keys: the public key is an encryption of zero */
    ck_assert_int_eq(rlwe_encrypt(&p, &sk, pks, 0, es, Q, L, zero, bpk), 0);
    rlwe_expand(pks, 0, Q, N, apk);
    /* the client: a seeded encryption of m */
    ck_assert_int_eq(rlwe_encrypt(&p, &sk, as, 1, es, Q, L, m, b), 0);
    rlwe_expand(as, 1, Q, N, a);
    ck_assert_int_eq(rlwe_decrypt(&p, &sk, b, Q, a, Q, L, d), 0);
    ck_assert_msg(memcmp(d, m, sizeof m) == 0, "fresh decryption");
    int fresh = rlwe_noise_budget(&p, &sk, b, Q, a, Q, L, m);
    /* the exact product against schoolbook, on a 64-coefficient slice */
    ck_assert_int_eq(rlwe_mul_small(&p, a, Q, w, C1), 0);
    for (int k = 0; k < 64; k++) {
        kern_u128 acc = 0;
        for (int i = 0; i < N; i++) {
            int j = (k - i + N) % N;
            kern_u128 v = a[i] * (kern_u128)(__extension__(__int128)w[j]);
            acc = i <= k ? acc + v : acc - v;
        }
        ck_assert_msg((acc & qm) == C1[k], "product coefficient %d", k);
    }
    /* the owner: products, re-randomization, mask */
    ck_assert_int_eq(rlwe_mul_small(&p, b, Q, w, C0), 0);
    random_poly(6, want, N, ~0ull);
    for (int j = 0; j < N; j++)
        u[j] = (int64_t)(want[j] % 3) - 1;
    rlwe_errors(us, 0, N, e0);
    rlwe_errors(us, 1, N, e1);
    ck_assert_int_eq(rlwe_mul_small(&p, bpk, Q, u, t0), 0);
    for (int j = 0; j < N; j++)
        C0[j] = (C0[j] + t0[j] + (kern_u128)(__extension__(__int128)e0[j]) - ((kern_u128)R[j] << (Q - L))) & qm;
    ck_assert_int_eq(rlwe_mul_small(&p, apk, Q, u, t0), 0);
    for (int j = 0; j < N; j++)
        C1[j] = (C1[j] + t0[j] + (kern_u128)(__extension__(__int128)e1[j])) & qm;
    plain_product(want, m, w, N, L);
    for (int j = 0; j < N; j++)
        want[j] = (want[j] - R[j]) & (uint64_t)tm;
    int evaluated = rlwe_noise_budget(&p, &sk, C0, Q, C1, Q, L, want);
    /* the response */
    rlwe_shrink(C0, N, Q, L + 2, ds, c0);
    rlwe_shrink(C1, N, Q, L + 13, NULL, c1);
    int shrunk = rlwe_noise_budget(&p, &sk, c0, L + 2, c1, L + 13, L, want);
    ck_assert_int_eq(rlwe_decrypt(&p, &sk, c0, L + 2, c1, L + 13, L, d), 0);
    for (int j = 0; j < N; j++)
        ck_assert_msg(d[j] == want[j], "coefficient %d: %llu, want %llu (budgets %d, %d, %d)", j,
                      (unsigned long long)d[j], (unsigned long long)want[j], fresh, evaluated, shrunk);
    /* the response is sized to the worst case, |D| < 3483 < 2^12: budget >= 0 (seen: 62, 49, 1) */
    ck_assert_msg(fresh > evaluated && evaluated > 0 && shrunk >= 0, "budgets %d, %d, %d", fresh, evaluated, shrunk);
    rlwe_sk_free(&sk);
    rlwe_free(&p);
}
END_TEST

/* a b in Z_2^64[X]/(X^N + 1), added into c */
static void negacyclic_acc(uint64_t *c, const uint64_t *a, const int64_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n && a[i]; j++) {
            uint64_t v = a[i] * (uint64_t)b[j];
            if (i + j >= n)
                c[i + j - n] -= v;
            else
                c[i + j] += v;
        }
}

/* Every tile, channel block and output block of a convolution (or a
 * depthwise one) through the encodings, against kernels.c: every output,
 * modulo 2^64. */
static void encodings_match(const geom *g, uint32_t oc_or_m, int dw, const he_tile *t, uint32_t n)
{
    uint32_t oc = dw ? g->c * oc_or_m : oc_or_m, M = dw ? oc_or_m : 1;
    size_t nx = (size_t)g->h * g->w * g->c, nw = (size_t)g->kh * g->kw * g->c * (dw ? M : oc), ny = (size_t)g->oh * g->ow * oc;
    uint64_t *x = malloc(nx * 8), *wu = malloc(nw * 8), *want = malloc(ny * 8), *xp = malloc(n * 8), *acc = malloc(n * 8);
    int64_t *w = malloc(nw * 8), *wp = malloc(n * 8);
    ck_assert(x && wu && want && xp && acc && w && wp);
    random_poly(21, x, (uint32_t)nx, ~0ull);
    random_poly(22, wu, (uint32_t)nw, ~0ull);
    for (size_t k = 0; k < nw; k++)
        w[k] = (int64_t)(wu[k] % 511) - 255, wu[k] = (uint64_t)w[k];
    if (dw)
        kern_dwconv2d(want, x, wu, g, M);
    else
        kern_conv2d(want, x, wu, g, oc);
    ck_assert(dw ? he_dw_fits(g, t, n) : he_conv_fits(g, t, n));
    uint32_t Rs = (g->oh - 1) * g->sh + 1, Cs = (g->ow - 1) * g->sw + 1, checked = 0;
    for (uint32_t r0 = 0; r0 < Rs; r0 += t->ho)
        for (uint32_t c0 = 0; c0 < Cs; c0 += t->wo)
            for (uint32_t m0 = 0; m0 < (dw ? M : oc); m0 += dw ? 1 : t->mn)
                for (uint32_t cb = 0; cb < (dw ? g->c : 1); cb += dw ? t->cn : 1) {
                    memset(acc, 0, n * 8);
                    for (uint32_t ch0 = dw ? cb : 0; ch0 < (dw ? cb + 1 : g->c); ch0 += t->cn) {
                        he_at at = {r0, c0, ch0, m0};
                        if (dw) {
                            he_dw_input(g, t, &at, n, x, xp);
                            he_dw_filter(g, t, &at, n, w, M, wp);
                        } else {
                            he_conv_input(g, t, &at, n, x, xp);
                            he_conv_filter(g, t, &at, n, w, oc, wp);
                        }
                        negacyclic_acc(acc, xp, wp, n);
                    }
                    for (uint32_t k = 0; k < (dw ? t->cn : t->mn); k++)
                        for (uint32_t i = 0; i < t->ho; i++)
                            for (uint32_t j = 0; j < t->wo; j++) {
                                uint32_t r = r0 + i, cc = c0 + j, ch = dw ? (cb + k) * M + m0 : m0 + k;
                                if (r % g->sh || cc % g->sw || r / g->sh >= g->oh || cc / g->sw >= g->ow ||
                                    (dw ? cb + k >= g->c : ch >= oc))
                                    continue;
                                uint32_t at = dw ? he_dw_coef(g, t, k, i, j) : he_conv_coef(g, t, k, i, j);
                                size_t o = ((size_t)(r / g->sh) * g->ow + cc / g->sw) * oc + ch;
                                ck_assert_msg(acc[at] == want[o], "%s, output (%u, %u, %u): %llu, kernel %llu",
                                              dw ? "depthwise" : "conv", r / g->sh, cc / g->sw, ch,
                                              (unsigned long long)acc[at], (unsigned long long)want[o]);
                                checked++;
                            }
                }
    ck_assert_uint_eq(checked, ny); /* every output exactly once */
    free(x), free(wu), free(want), free(xp), free(acc), free(w), free(wp);
}

START_TEST(encodings_are_convolutions)
{
    /* H W C KH KW OH OW SH SW PT PL DH DW */
    geom same3 = {7, 6, 5, 3, 3, 7, 6, 1, 1, 1, 1, 1, 1}, s2 = {9, 8, 3, 3, 3, 5, 4, 2, 2, 1, 0, 1, 1};
    geom dil = {8, 8, 2, 3, 3, 4, 4, 1, 1, 0, 0, 2, 2}, pw = {4, 4, 9, 1, 1, 4, 4, 1, 1, 0, 0, 1, 1};
    geom k5 = {6, 6, 2, 5, 5, 3, 3, 2, 2, 2, 2, 1, 1};
    encodings_match(&same3, 4, 0, &(he_tile){3, 4, 2, 2}, 256);
    encodings_match(&s2, 2, 0, &(he_tile){4, 3, 3, 2}, 256);
    encodings_match(&dil, 3, 0, &(he_tile){2, 4, 1, 3}, 256);
    encodings_match(&pw, 6, 0, &(he_tile){4, 4, 4, 4}, 256); /* pointwise: channel blocks and 4 outputs a product */
    encodings_match(&k5, 2, 0, &(he_tile){3, 5, 2, 1}, 256);
    encodings_match(&same3, 1, 1, &(he_tile){3, 3, 3, 0}, 256); /* depthwise, 3 channels a block */
    encodings_match(&s2, 2, 1, &(he_tile){5, 5, 2, 0}, 256);   /* depthwise, multiplier 2 */
    encodings_match(&dil, 1, 1, &(he_tile){2, 2, 2, 0}, 256);
}
END_TEST

/* The planner reproduces docs/plans/hemi.md 3.7's MobileNet V1 0.25_128
 * examples (tile, modulus, ciphertexts, bytes), and its plans fit. */
START_TEST(planner_matches_the_plan)
{
    static const struct {
        geom g;
        uint32_t oc, dw, l;
        he_tile t;
        uint32_t hb, wb, q;
        uint64_t up, down;
    } cases[] = {
        /* H W C KH KW OH OW SH SW PT PL DH DW */
        {{8, 8, 128, 1, 1, 8, 8, 1, 1, 0, 0, 1, 1}, 128, 0, 22, {8, 8, 16, 4}, 8, 8, 86, 352256, 598016},
        {{8, 8, 128, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1}, 1, 1, 19, {8, 8, 6, 1}, 10, 10, 80, 901120, 0},
        {{128, 128, 3, 3, 3, 64, 64, 2, 2, 0, 0, 1, 1}, 8, 0, 20, {26, 127, 1, 1}, 28, 129, 80, 614400, 0},
        {{1, 1, 256, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1}, 1001, 0, 23, {1, 1, 52, 77}, 1, 1, 92, 235520, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        he_plan p;
        ck_assert_int_eq(he_plan_layer(&cases[k].g, cases[k].oc, (int)cases[k].dw, cases[k].l, 255, 4096, &p), 0);
        ck_assert_msg(p.t.cn == cases[k].t.cn && p.t.mn == cases[k].t.mn && he_tile_hb(&cases[k].g, &p.t) == cases[k].hb &&
                          he_tile_wb(&cases[k].g, &p.t) == cases[k].wb && p.q == cases[k].q,
                      "case %zu: (cn %u, hb %u, wb %u, mn %u) q %u", k, p.t.cn, he_tile_hb(&cases[k].g, &p.t),
                      he_tile_wb(&cases[k].g, &p.t), p.t.mn, p.q);
        ck_assert_uint_eq(p.up, cases[k].up);
        if (cases[k].down)
            ck_assert_uint_eq(p.down, cases[k].down);
        ck_assert(cases[k].dw ? he_dw_fits(&cases[k].g, &p.t, 4096) : he_conv_fits(&cases[k].g, &p.t, 4096));
    }
    geom wide = {1, 1, 5000, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1}; /* B_W past 2^24 at any tile */
    he_plan p;
    ck_assert_int_eq(he_plan_layer(&wide, 4, 0, 23, 4000, 4096, &p), -1);
}
END_TEST

/* Sums of products in NTT form (rlwe_fwd_big, rlwe_fwd_small with Shoup
 * quotients, rlwe_mac, rlwe_back) equal the sums of rlwe_mul_small's
 * products; the re-randomization folded into such sums equals
 * rlwe_add_zero's; packing round-trips every width. */
START_TEST(sums_in_ntt_form)
{
    enum { LOGN = 12, N = 1 << LOGN, Q = 100, G = 3 };
    rlwe_params p;
    ck_assert_int_eq(rlwe_init(&p, LOGN), 0);
    static kern_u128 x[G][N], want[N], t[N], got[N], bpk[N], apk[N], c0[N], c1[N], d0[N], d1[N], pk[N];
    static uint64_t r[N], acc[2 * N], acc1[2 * N], x12[2 * N], pk12[2][2 * N], w4[4 * N];
    static int64_t w[G][N], u[N];
    kern_u128 qm = ((kern_u128)1 << Q) - 1;
    for (int g = 0; g < G; g++) {
        random_poly((uint8_t)(30 + g), r, N, ~0ull);
        for (int j = 0; j < N; j++)
            x[g][j] = (((kern_u128)r[j] << 64) | r[(j + 1) % N]) & qm, w[g][j] = (int64_t)(r[j] % 511) - 255;
    }
    memset(want, 0, sizeof want);
    memset(acc, 0, sizeof acc);
    for (int g = 0; g < G; g++) {
        ck_assert_int_eq(rlwe_mul_small(&p, x[g], Q, w[g], t), 0);
        for (int j = 0; j < N; j++)
            want[j] = (want[j] + t[j]) & qm;
        rlwe_fwd_big(&p, x[g], Q, x12);
        rlwe_fwd_small(&p, w[g], w4);
        rlwe_mac(&p, acc, x12, w4);
    }
    rlwe_back(&p, acc, Q, got);
    ck_assert_msg(memcmp(got, want, sizeof got) == 0, "NTT-form sums differ from the products' sum");
    /* re-randomization: rlwe_add_zero against u's products in the sums */
    uint8_t seed[16] = {44};
    rlwe_expand(seed, 5, Q, N, bpk);
    rlwe_expand(seed, 6, Q, N, apk);
    memcpy(c0, x[0], sizeof c0), memcpy(c1, x[1], sizeof c1), memcpy(d0, x[0], sizeof d0), memcpy(d1, x[1], sizeof d1);
    ck_assert_int_eq(rlwe_add_zero(&p, bpk, apk, Q, seed, 3, c0, c1), 0);
    rlwe_ternary(seed, 3, N, u);
    rlwe_fwd_small(&p, u, w4);
    for (int h = 0; h < 2; h++) {
        memcpy(pk, h ? apk : bpk, sizeof pk);
        rlwe_fwd_big(&p, pk, Q, pk12[h]);
        memset(acc1, 0, sizeof acc1);
        rlwe_mac(&p, acc1, pk12[h], w4);
        rlwe_back(&p, acc1, Q, t);
        for (int j = 0; j < N; j++)
            (h ? d1 : d0)[j] = ((h ? d1 : d0)[j] + t[j]) & qm;
    }
    ck_assert_int_eq(rlwe_add_errors(&p, Q, seed, 3, d0, d1), 0);
    ck_assert_msg(memcmp(c0, d0, sizeof c0) == 0 && memcmp(c1, d1, sizeof c1) == 0, "the two re-randomizations differ");
    /* packing */
    static const unsigned widths[] = {1, 7, 13, 33, 64, 109, 120};
    for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        unsigned wd = widths[k];
        uint8_t buf[37 * 16];
        kern_u128 back[37], m = wd >= 128 ? ~(kern_u128)0 : ((kern_u128)1 << wd) - 1;
        memset(buf, 0xa5, sizeof buf);
        rlwe_pack(x[2], 37, wd, buf);
        size_t bytes = (37 * wd + 7) / 8;
        if ((37 * wd) % 8)
            ck_assert_msg((buf[bytes - 1] >> ((37 * wd) % 8)) == 0, "width %u: padding bits set", wd);
        ck_assert_uint_eq(buf[bytes], 0xa5); /* nothing written past ceil(n w / 8) */
        rlwe_unpack(buf, 37, wd, back);
        for (int j = 0; j < 37; j++)
            ck_assert_msg(back[j] == (x[2][j] & m), "width %u, value %d", wd, j);
    }
    rlwe_free(&p);
}
END_TEST

/* The noise margin of every convolution of MobileNet V1 0.25_128 as hemi
 * runs it (docs/protocols.md "hemi"): the layer's plan for l = bits(the
 * worst accumulator 255 255 C KH KW) + 2, every filter weight +-255 (the
 * largest l1 norm the owner may hold), one output ciphertext of the first
 * tile through encryption, the products summed over the channel blocks,
 * re-randomization, mask, shrinking and decryption: every coefficient
 * right. The budget (bits between the noise and the rounding's half step)
 * is at least 40 before shrinking (the dither's flooding margin, 2^-40)
 * and at least 0 after it (|D| < 2^12, the plan's bound being 3,483).
 * HE_MARGINS=1 prints them. */
typedef struct {
    geom g;
    uint32_t oc; /* output channels, or the depth multiplier */
    int dw;
} layer_case;

START_TEST(layer_noise_margins)
{
    enum { LOGN = 12, N = 1 << LOGN };
    static const layer_case layers[] = {
        {{128, 128, 3, 3, 3, 64, 64, 2, 2, 0, 0, 1, 1}, 8, 0},      {{64, 64, 8, 3, 3, 64, 64, 1, 1, 1, 1, 1, 1}, 1, 1},
        {{64, 64, 8, 1, 1, 64, 64, 1, 1, 0, 0, 1, 1}, 16, 0},      {{64, 64, 16, 3, 3, 32, 32, 2, 2, 0, 0, 1, 1}, 1, 1},
        {{32, 32, 16, 1, 1, 32, 32, 1, 1, 0, 0, 1, 1}, 32, 0},     {{32, 32, 32, 3, 3, 32, 32, 1, 1, 1, 1, 1, 1}, 1, 1},
        {{32, 32, 32, 1, 1, 32, 32, 1, 1, 0, 0, 1, 1}, 32, 0},     {{32, 32, 32, 3, 3, 16, 16, 2, 2, 0, 0, 1, 1}, 1, 1},
        {{16, 16, 32, 1, 1, 16, 16, 1, 1, 0, 0, 1, 1}, 64, 0},     {{16, 16, 64, 3, 3, 16, 16, 1, 1, 1, 1, 1, 1}, 1, 1},
        {{16, 16, 64, 1, 1, 16, 16, 1, 1, 0, 0, 1, 1}, 64, 0},     {{16, 16, 64, 3, 3, 8, 8, 2, 2, 0, 0, 1, 1}, 1, 1},
        {{8, 8, 64, 1, 1, 8, 8, 1, 1, 0, 0, 1, 1}, 128, 0},        {{8, 8, 128, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1}, 1, 1},
        {{8, 8, 128, 1, 1, 8, 8, 1, 1, 0, 0, 1, 1}, 128, 0},       {{8, 8, 128, 3, 3, 4, 4, 2, 2, 0, 0, 1, 1}, 1, 1},
        {{4, 4, 128, 1, 1, 4, 4, 1, 1, 0, 0, 1, 1}, 256, 0},       {{4, 4, 256, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1}, 1, 1},
        {{4, 4, 256, 1, 1, 4, 4, 1, 1, 0, 0, 1, 1}, 256, 0},       {{1, 1, 256, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1}, 1001, 0},
    };
    rlwe_params p;
    ck_assert_int_eq(rlwe_init(&p, LOGN), 0);
    uint8_t ks[16] = {51}, as[16] = {52}, es[16] = {53}, zs[16] = {54}, ds[16] = {55};
    rlwe_sk sk;
    ck_assert_int_eq(rlwe_keygen(&p, ks, &sk), 0);
    static kern_u128 b[N], a[N], c0[N], c1[N], s0[N], s1[N], bpk[N], apk[N];
    static uint64_t xp[N], plain[N], want[N], d[N], R[N], x12b[2 * N], x12a[2 * N], accb[2 * N], acca[2 * N],
        w4[4 * N];
    static int64_t wp[N];
    static uint64_t zero[N];
    for (size_t k = 0; k < sizeof layers / sizeof layers[0]; k++) {
        const geom *g = &layers[k].g;
        int dw = layers[k].dw;
        uint64_t taps = (uint64_t)g->kh * g->kw, worst = 255ull * 255 * taps * (dw ? 1 : g->c);
        uint32_t l = 2;
        while (worst >> (l - 2))
            l++;
        he_plan pl;
        ck_assert_msg(he_plan_layer(g, layers[k].oc, dw, l, 255, N, &pl) == 0, "layer %zu: no plan", k);
        unsigned q = pl.q;
        kern_u128 qm = ((kern_u128)1 << q) - 1;
        ck_assert_int_eq(rlwe_encrypt(&p, &sk, as, 0, es, q, 1, zero, bpk), 0);
        rlwe_expand(as, 0, q, N, apk);
        uint32_t cblocks = (g->c + pl.t.cn - 1) / pl.t.cn, first = 0, last = dw ? 1 : cblocks;
        size_t nx = (size_t)g->h * g->w * g->c, nw = taps * g->c * (dw ? layers[k].oc : layers[k].oc);
        uint64_t *x = malloc(nx * 8), *wr = malloc(nw * 8);
        int64_t *w = malloc(nw * 8);
        ck_assert(x && wr && w);
        random_poly((uint8_t)(60 + k), x, (uint32_t)nx, (uint64_t)1 << l);
        random_poly((uint8_t)(90 + k), wr, (uint32_t)nw, ~0ull);
        for (size_t i = 0; i < nw; i++)
            w[i] = wr[i] & 1 ? 255 : -255;
        memset(accb, 0, sizeof accb), memset(acca, 0, sizeof acca), memset(plain, 0, sizeof plain);
        for (uint32_t cb = first; cb < last; cb++) {
            he_at at = {0, 0, cb * pl.t.cn, 0};
            he_conv_input(g, &pl.t, &at, N, x, xp);
            if (dw)
                he_dw_filter(g, &pl.t, &at, N, w, layers[k].oc, wp);
            else
                he_conv_filter(g, &pl.t, &at, N, w, layers[k].oc, wp);
            ck_assert_int_eq(rlwe_encrypt(&p, &sk, as, 1 + cb, es, q, l, xp, b), 0);
            rlwe_expand(as, 1 + cb, q, N, a);
            rlwe_fwd_big(&p, b, q, x12b);
            rlwe_fwd_big(&p, a, q, x12a);
            rlwe_fwd_small(&p, wp, w4);
            rlwe_mac(&p, accb, x12b, w4);
            rlwe_mac(&p, acca, x12a, w4);
            negacyclic_acc(plain, xp, wp, N);
        }
        rlwe_back(&p, accb, q, c0);
        rlwe_back(&p, acca, q, c1);
        ck_assert_int_eq(rlwe_add_zero(&p, bpk, apk, q, zs, k, c0, c1), 0);
        random_poly((uint8_t)(120 + k), R, N, (uint64_t)1 << l);
        for (int j = 0; j < N; j++) {
            c0[j] = (c0[j] - ((kern_u128)R[j] << (q - l))) & qm;
            want[j] = (plain[j] - R[j]) & (((uint64_t)1 << l) - 1);
        }
        int evaluated = rlwe_noise_budget(&p, &sk, c0, q, c1, q, l, want);
        rlwe_shrink(c0, N, q, l + 2, ds, s0);
        rlwe_shrink(c1, N, q, l + 13, NULL, s1);
        int shrunk = rlwe_noise_budget(&p, &sk, s0, l + 2, s1, l + 13, l, want);
        ck_assert_int_eq(rlwe_decrypt(&p, &sk, s0, l + 2, s1, l + 13, l, d), 0);
        for (int j = 0; j < N; j++)
            ck_assert_msg(d[j] == want[j], "layer %zu, coefficient %d: decryption failed (budgets %d, %d)", k, j,
                          evaluated, shrunk);
        ck_assert_msg(shrunk >= 0 && evaluated >= 40, "layer %zu: budgets %d, %d", k, evaluated, shrunk);
        if (getenv("HE_MARGINS"))
            printf("layer %2zu %s C=%3u OC/M=%4u l=%u q=%u tile %ux%u cn=%u mn=%u: budget %d bits evaluated, %d "
                   "after shrinking\n",
                   k, dw ? "dw" : "cv", g->c, layers[k].oc, l, q, pl.t.ho, pl.t.wo, pl.t.cn, pl.t.mn, evaluated, shrunk);
        free(x), free(wr), free(w);
    }
    rlwe_sk_free(&sk);
    rlwe_free(&p);
}
END_TEST

Suite *suite_he(void)
{
    Suite *s = suite_create("he");
    TCase *c = tcase_create("he");
    tcase_set_timeout(c, 60);
    tcase_add_test(c, primes);
    tcase_add_test(c, ntt_products_are_negacyclic);
    tcase_add_test(c, rlwe_chain);
    tcase_add_test(c, encodings_are_convolutions);
    tcase_add_test(c, planner_matches_the_plan);
    tcase_add_test(c, sums_in_ntt_form);
    tcase_add_test(c, layer_noise_margins);
    suite_add_tcase(s, c);
    return s;
}
