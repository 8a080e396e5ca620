/* Oblivious transfer alone, in one process (the messages passed by hand):
 * base OT (baseot.h) and IKNP extension (otext.h). Each checks that the
 * receiver gets exactly the chosen key and not the other, that what the
 * receiver sends looks uniform whatever its choices, and that bad input
 * from a peer is refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/kernels.h"
#include "runtime/net/prg.h"
#include "runtime/ot/baseot.h"
#include "runtime/ot/otext.h"

static uint8_t bit(const uint8_t *p, size_t j) { return (uint8_t)((p[j / 8] >> (j % 8)) & 1); }

static void fill(uint8_t seed_byte, void *p, size_t n)
{
    uint8_t seed[16] = {seed_byte};
    prg *g = prg_new(seed);
    ck_assert_ptr_nonnull(g);
    prg_fill(g, p, n);
    prg_free(g);
}

/* ones among n bytes: within 6 standard deviations of half */
static void looks_uniform(const uint8_t *p, size_t n, const char *what)
{
    size_t ones = 0;
    for (size_t i = 0; i < n; i++)
        ones += (size_t)__builtin_popcount(p[i]);
    double mean = 4.0 * (double)n, sd = 0.5 * __builtin_sqrt(8.0 * (double)n);
    ck_assert_msg((double)ones > mean - 6 * sd && (double)ones < mean + 6 * sd, "%s: %zu ones in %zu bits", what,
                  ones, 8 * n);
}

START_TEST(base_ot_keys)
{
    enum { N = 128 };
    uint8_t A[BASEOT_POINT], B[N * BASEOT_POINT], c[N], k[N][BASEOT_KEY], k0[N][BASEOT_KEY], k1[N][BASEOT_KEY];
    char err[256];
    fill(1, c, N);
    for (int i = 0; i < N; i++)
        c[i] &= 1;
    baseot_sender *s = baseot_sender_new(A, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_msg(baseot_receive(A, c, N, B, k, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(baseot_sender_keys(s, B, N, k0, k1, err, sizeof err) == 0, "%s", err);
    int zeros = 0;
    for (int i = 0; i < N; i++) {
        ck_assert_msg(memcmp(k[i], c[i] ? k1[i] : k0[i], BASEOT_KEY) == 0, "OT %d: the chosen key differs", i);
        ck_assert_msg(memcmp(k[i], c[i] ? k0[i] : k1[i], BASEOT_KEY) != 0, "OT %d: the other key too", i);
        zeros += !c[i];
    }
    ck_assert(zeros > 0 && zeros < N);
    looks_uniform(&k0[0][0], sizeof k0, "the sender's keys");
    baseot_sender_free(s);
}
END_TEST

START_TEST(base_ot_refuses_bad_points)
{
    uint8_t A[BASEOT_POINT], B[BASEOT_POINT], bad[BASEOT_POINT], c[1] = {1}, k[1][BASEOT_KEY], k1[1][BASEOT_KEY];
    char err[256];
    baseot_sender *s = baseot_sender_new(A, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    memset(bad, 0xff, sizeof bad); /* no point has this encoding */
    ck_assert_int_eq(baseot_receive(bad, c, 1, B, k, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not a point") != NULL, "%s", err);
    ck_assert_int_eq(baseot_sender_keys(s, bad, 1, k, k1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "point 0") != NULL, "%s", err);
    baseot_sender_free(s);
}
END_TEST

/* M: more than two of the threads' chunks of 4096 columns, the last short */
START_TEST(transpose_is_transpose)
{
    enum { M = 8320 };
    static uint8_t rows[OTEXT_K * M / 8], cols[M][OTEXT_BLOCK];
    fill(2, rows, sizeof rows);
    kern_set_threads(3);
    otext_transpose(rows, M, cols);
    kern_set_threads(1);
    size_t wrong = 0, first = 0; /* one assertion: a million would be slow under the sanitizers */
    for (size_t i = 0; i < OTEXT_K; i++)
        for (size_t j = 0; j < M; j++)
            if (bit(rows + i * (M / 8), j) != bit(cols[j], i) && !wrong++)
                first = i * M + j;
    ck_assert_msg(wrong == 0, "%zu entries differ, the first (%zu, %zu)", wrong, first / M, first % M);
}
END_TEST

/* base OTs with swapped roles, then two batches of extension, for each
 * k (IKNP and SoftSpoken), on one thread and on three (chunks of 4096 OTs
 * and groups shared out) */
START_TEST(extension_gives_the_chosen_block)
{
    static const unsigned ks_[] = {1, 2, 4, 8};
    unsigned K = ks_[_i % 4];
    enum { M = 8320 };
    kern_set_threads(_i < 4 ? 1 : 3);
    uint8_t A[BASEOT_POINT], B[OTEXT_K * BASEOT_POINT], sbits[OTEXT_K], s[OTEXT_K / 8] = {0};
    uint8_t ks[OTEXT_K][16], k0[OTEXT_K][16], k1[OTEXT_K][16];
    char err[256];
    fill(3, sbits, OTEXT_K);
    for (int i = 0; i < OTEXT_K; i++)
        s[i / 8] |= (uint8_t)((sbits[i] & 1) << (i % 8)), sbits[i] &= 1;
    baseot_sender *bs = baseot_sender_new(A, err, sizeof err); /* the extension's receiver */
    ck_assert_ptr_nonnull(bs);
    ck_assert_msg(baseot_receive(A, sbits, OTEXT_K, B, ks, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(baseot_sender_keys(bs, B, OTEXT_K, k0, k1, err, sizeof err) == 0, "%s", err);
    baseot_sender_free(bs);
    static uint8_t setup[OTEXT_K * 2 * OTEXT_BLOCK];
    ck_assert_uint_le(otext_setup_bytes(K), sizeof setup);
    otext_receiver *R = otext_receiver_new(K, (const uint8_t(*)[16])k0, (const uint8_t(*)[16])k1, setup);
    otext_sender *S = otext_sender_new(K, s, (const uint8_t(*)[16])ks, setup);
    ck_assert(S && R);
    ck_assert_ptr_null(otext_receiver_new(3, (const uint8_t(*)[16])k0, (const uint8_t(*)[16])k1, setup));
    static uint8_t r[M / 8], u[OTEXT_K * M / 8], out[M][OTEXT_BLOCK], o0[M][OTEXT_BLOCK], o1[M][OTEXT_BLOCK];
    ck_assert_int_eq(otext_receive(R, r, 8, u, out), -1); /* not a multiple of 128 */
    ck_assert_int_eq(otext_send(S, u, 8, o0, o1), -1);
    for (int batch = 0; batch < 2; batch++) {
        if (batch == 0)
            fill(4, r, sizeof r);
        else
            memset(r, 0xff, sizeof r); /* all ones: u must still look uniform */
        ck_assert_int_eq(otext_receive(R, r, M, u, out), 0);
        looks_uniform(u, otext_u_bytes(K, M), "the receiver's message");
        ck_assert_int_eq(otext_send(S, u, M, o0, o1), 0);
        for (size_t j = 0; j < M; j++) {
            int c = bit(r, j);
            ck_assert_msg(memcmp(out[j], c ? o1[j] : o0[j], OTEXT_BLOCK) == 0, "k %u, batch %d, OT %zu: not the chosen",
                          K, batch, j);
            ck_assert_msg(memcmp(out[j], c ? o0[j] : o1[j], OTEXT_BLOCK) != 0, "k %u, batch %d, OT %zu: the other too",
                          K, batch, j);
        }
        looks_uniform(&o0[0][0], sizeof o0, "the sender's first outputs");
        /* correlated OT on top: y = x + r delta */
        static uint64_t delta[M], x[M], msg[M], y[M];
        fill(5, delta, sizeof delta);
        otext_cot_send((const uint8_t(*)[OTEXT_BLOCK])o0, (const uint8_t(*)[OTEXT_BLOCK])o1, delta, M, x, msg);
        otext_cot_receive((const uint8_t(*)[OTEXT_BLOCK])out, r, msg, M, y);
        for (size_t j = 0; j < M; j++)
            ck_assert_msg(y[j] == x[j] + (bit(r, j) ? delta[j] : 0), "batch %d, correlated OT %zu", batch, j);
        looks_uniform((const uint8_t *)msg, sizeof msg, "the correlated OT's message");
    }
    otext_sender_free(S);
    otext_receiver_free(R);
    kern_set_threads(1);
}
END_TEST

Suite *suite_ot(void)
{
    Suite *s = suite_create("ot");
    TCase *c = tcase_create("ot");
    tcase_add_test(c, base_ot_keys);
    tcase_add_test(c, base_ot_refuses_bad_points);
    tcase_add_test(c, transpose_is_transpose);
    tcase_add_loop_test(c, extension_gives_the_chosen_block, 0, 8);
    suite_add_tcase(s, c);
    return s;
}
