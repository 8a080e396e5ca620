/* Bit slicing (runtime/core/bits.c): packing, and the duplication that lets the
 * two comparisons of a clamp share one value's planes. */
#include <check.h>
#include <stdlib.h>

#include "runtime/core/bits.h"

START_TEST(pack_then_dup_repeats_every_element)
{
    static const size_t sizes[] = {1, 63, 64, 65, 130, 191};
    enum { PLANES = 5 };
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t na = sizes[t], nwa = bits_words(na), nw = bits_words(2 * na);
        uint64_t *v = malloc(na * sizeof *v), *src = malloc(PLANES * nwa * sizeof *src);
        uint64_t *dst = malloc(PLANES * nw * sizeof *dst);
        ck_assert(v && src && dst);
        for (size_t i = 0; i < na; i++)
            v[i] = (i * 0x9E3779B97F4A7C15ull) >> 17;
        bits_pack(v, 1, na, PLANES, src, nwa);
        if (na % 64) /* bits past na must not leak into the copy */
            for (uint32_t j = 0; j < PLANES; j++)
                src[j * nwa + nwa - 1] |= ~(uint64_t)0 << (na % 64);
        bits_dup(src, na, PLANES, dst, nw);
        for (uint32_t j = 0; j < PLANES; j++) {
            for (size_t i = 0; i < na; i++) {
                uint64_t want = (v[i] >> j) & 1;
                ck_assert_uint_eq(bits_get(dst + j * nw, i), want);
                ck_assert_uint_eq(bits_get(dst + j * nw, na + i), want);
            }
            for (size_t i = 2 * na; i < nw * 64; i++)
                ck_assert_uint_eq(bits_get(dst + j * nw, i), 0);
        }
        free(v);
        free(src);
        free(dst);
    }
}
END_TEST

/* bits_pack against the definition on both transposes (AVX-512 where the
 * CPU has it, and portable): all 64 planes, with a stride, past a word */
START_TEST(pack_matches_the_definition)
{
    enum { N = 200, STRIDE = 3 };
    uint64_t v[N * STRIDE], planes[64 * 4], x = 1;
    for (size_t i = 0; i < N * STRIDE; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[i] = i % 5 == 0 ? ~(uint64_t)0 : x;
    }
    for (int portable = 0; portable < 2; portable++) {
        bits_set_portable(portable);
        bits_pack(v, STRIDE, N, 64, planes, 4);
        for (uint32_t j = 0; j < 64; j++)
            for (size_t i = 0; i < 4 * 64; i++)
                ck_assert_msg(bits_get(planes + j * 4, i) == (i < N ? (v[i * STRIDE] >> j) & 1 : 0),
                              "plane %u element %zu portable %d", j, i, portable);
    }
    bits_set_portable(0);
}
END_TEST

Suite *suite_bits(void)
{
    Suite *s = suite_create("bits");
    TCase *t = tcase_create("core");
    tcase_add_test(t, pack_then_dup_repeats_every_element);
    tcase_add_test(t, pack_matches_the_definition);
    suite_add_tcase(s, t);
    return s;
}
