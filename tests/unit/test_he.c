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

/* Cheetah's shape: N = 4096, q of 60 + 49 bits, t = 2^37; and N = 8192,
 * three 58-bit primes, t = 2^64. Encrypt, multiply by plaintext weights in
 * [-255, 255], add a mask, switch away the last prime, decrypt: every
 * coefficient right, with the noise budget left measured at each step
 * (seen: 39, 25, 16 bits and 45, 30, 30 bits). */
START_TEST(rlwe_round_trip)
{
    static const struct {
        uint32_t logn;
        int bits[3], nq, l;
    } cases[] = {{12, {60, 49}, 2, 37}, {13, {58, 58, 58}, 3, 64}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint32_t n = 1u << cases[k].logn;
        uint64_t q[3];
        for (int i = 0; i < cases[k].nq; i++) { /* distinct primes of the sizes asked */
            uint64_t bound = (uint64_t)1 << cases[k].bits[i];
            q[i] = ntt_prime_below(i && q[i - 1] < bound ? q[i - 1] : bound, n);
        }
        rlwe_params p;
        char err[256];
        ck_assert_msg(rlwe_init(&p, cases[k].logn, q, cases[k].nq, cases[k].l, err, sizeof err) == 0, "%s", err);
        uint8_t ks[16] = {7}, as[16] = {8}, es[16] = {9};
        rlwe_sk sk;
        rlwe_ct c;
        ck_assert_int_eq(rlwe_keygen(&p, ks, &sk), 0);
        ck_assert_int_eq(rlwe_ct_alloc(&p, &c, p.nq), 0);
        uint64_t *m = malloc(n * 8), *d = malloc(n * 8), *want = malloc(n * 8), *r = malloc(n * 8);
        int64_t *w = malloc(n * 8);
        ck_assert(m && d && want && r && w);
        uint64_t mask = cases[k].l == 64 ? ~0ull : (1ull << cases[k].l) - 1;
        random_poly(3, m, n, ~0ull);
        random_poly(4, r, n, ~0ull);
        random_poly(5, want, n, ~0ull);
        for (uint32_t j = 0; j < n; j++)
            m[j] &= mask, r[j] &= mask, w[j] = (int64_t)(want[j] % 511) - 255;
        m[0] = mask, w[0] = -255, w[1] = 255; /* extremes */
        ck_assert_int_eq(rlwe_encrypt(&p, &sk, m, as, es, &c), 0);
        ck_assert_int_eq(rlwe_decrypt(&p, &sk, &c, d), 0);
        ck_assert_msg(memcmp(d, m, n * 8) == 0, "case %zu: fresh decryption", k);
        int fresh = rlwe_noise_budget(&p, &sk, &c, m);
        ck_assert_int_eq(rlwe_mul_plain(&p, &c, w), 0);
        plain_product(want, m, w, n, cases[k].l);
        int after = rlwe_noise_budget(&p, &sk, &c, want);
        rlwe_add_plain(&p, &c, r);
        for (uint32_t j = 0; j < n; j++)
            want[j] = (want[j] + r[j]) & mask;
        rlwe_mod_switch(&p, &c);
        ck_assert_int_eq(c.c0.nq, p.nq - 1);
        int switched = rlwe_noise_budget(&p, &sk, &c, want);
        ck_assert_int_eq(rlwe_decrypt(&p, &sk, &c, d), 0);
        for (uint32_t j = 0; j < n; j++)
            ck_assert_msg(d[j] == want[j], "case %zu, coefficient %u: %llu, want %llu (budgets %d, %d, %d)", k, j,
                          (unsigned long long)d[j], (unsigned long long)want[j], fresh, after, switched);
        ck_assert_msg(fresh > after && after > 0 && switched > 0, "case %zu: budgets %d, %d, %d", k, fresh, after,
                      switched);
        free(m), free(d), free(want), free(r), free(w);
        rlwe_ct_free(&c);
        rlwe_sk_free(&sk);
        rlwe_free(&p);
    }
}
END_TEST

Suite *suite_he(void)
{
    Suite *s = suite_create("he");
    TCase *c = tcase_create("he");
    tcase_set_timeout(c, 60);
    tcase_add_test(c, primes);
    tcase_add_test(c, ntt_products_are_negacyclic);
    tcase_add_test(c, rlwe_round_trip);
    suite_add_tcase(s, c);
    return s;
}
