/* The RLWE arithmetic alone (runtime/he): primes, the negacyclic NTT
 * against schoolbook multiplication in Z_p[X]/(X^N + 1). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/he/ntt.h"
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
        uint64_t p = ntt_prime_below(bits[i], 4096);
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
        uint64_t p = ntt_prime_below(k == 2 ? 60 : 49, n);
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

Suite *suite_he(void)
{
    Suite *s = suite_create("he");
    TCase *c = tcase_create("he");
    tcase_set_timeout(c, 60);
    tcase_add_test(c, primes);
    tcase_add_test(c, ntt_products_are_negacyclic);
    suite_add_tcase(s, c);
    return s;
}
