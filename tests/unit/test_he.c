/* The RLWE arithmetic alone (runtime/he): primes, the negacyclic NTT
 * against schoolbook multiplication in Z_p[X]/(X^N + 1). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

Suite *suite_he(void)
{
    Suite *s = suite_create("he");
    TCase *c = tcase_create("he");
    tcase_set_timeout(c, 60);
    tcase_add_test(c, primes);
    tcase_add_test(c, ntt_products_are_negacyclic);
    tcase_add_test(c, rlwe_chain);
    suite_add_tcase(s, c);
    return s;
}
