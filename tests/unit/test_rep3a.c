/* rep3-active's checks (runtime/proto/jmp.c): a link's two chains agree
 * exactly when the receiver and the backup absorbed the same bytes in the
 * same order; links and runs are kept apart. Exact REQCLAMP's decrement
 * chain (rep3_decrement_*): its relations hold for the honest c' and rho
 * of every shift and fail, at that element, for every other value. The
 * protocol end to end is in test_protocols.c (honest) and tests/secure.sh
 * (cheating). */
#include <check.h>
#include <string.h>

#include "runtime/proto/jmp.h"
#include "runtime/proto/rep3_ops.h"

static const uint8_t run_a[32] = {1}, run_b[32] = {2};

/* party me's view of the link from -> to after the messages m[0..k) */
static void chain(int me, const uint8_t run[32], int from, int to, const char *const *m, int k, uint8_t out[32])
{
    jmp *j = jmp_new(me, run);
    ck_assert_ptr_nonnull(j);
    for (int i = 0; i < k; i++)
        jmp_absorb(j, from, to, m[i], strlen(m[i]));
    jmp_digest(j, from, to, out);
    jmp_free(j);
}

START_TEST(receiver_and_backup_agree_on_the_same_messages)
{
    static const char *const m[] = {"first message", "second", "third one"};
    uint8_t rx[32], bk[32];
    chain(2, run_a, 0, 2, m, 3, rx); /* party 2 receives from 0 */
    chain(1, run_a, 0, 2, m, 3, bk); /* party 1 backs the link up */
    ck_assert_mem_eq(rx, bk, 32);
}
END_TEST

START_TEST(an_altered_or_reordered_message_differs)
{
    static const char *const m[] = {"first message", "second", "third one"};
    static const char *const altered[] = {"first message", "secone", "third one"};
    static const char *const swapped[] = {"first message", "third one", "second"};
    uint8_t rx[32], bk[32];
    chain(2, run_a, 0, 2, m, 3, rx);
    chain(1, run_a, 0, 2, altered, 3, bk);
    ck_assert_mem_ne(rx, bk, 32);
    chain(1, run_a, 0, 2, swapped, 3, bk);
    ck_assert_mem_ne(rx, bk, 32);
    chain(1, run_a, 0, 2, m, 2, bk); /* one missing */
    ck_assert_mem_ne(rx, bk, 32);
}
END_TEST

START_TEST(links_and_runs_are_kept_apart)
{
    static const char *const m[] = {"the same words"};
    uint8_t a[32], b[32];
    chain(2, run_a, 0, 2, m, 1, a);
    chain(2, run_a, 1, 2, m, 1, b); /* another link into party 2 */
    ck_assert_mem_ne(a, b, 32);
    chain(2, run_b, 0, 2, m, 1, b); /* another run */
    ck_assert_mem_ne(a, b, 32);
}
END_TEST

START_TEST(the_sender_absorbs_nothing)
{
    static const char *const m[] = {"sent by party 0"};
    jmp *j = jmp_new(0, run_a);
    ck_assert_ptr_nonnull(j);
    jmp_absorb(j, 0, 1, m[0], strlen(m[0])); /* party 0's own message: no chain */
    uint8_t got[32], fresh[32];
    jmp_digest(j, 1, 2, got);
    jmp_free(j);
    chain(0, run_a, 1, 2, m, 0, fresh);
    ck_assert_mem_eq(got, fresh, 32);
}
END_TEST

/* ---- the decrement chain: n <= 64 elements, planes of one word ---- */

static uint64_t xs(uint64_t *s) /* xorshift64 */
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* the lanes whose relations fail, proof B's rule on the words (P, Q the sides' dealt planes) */
static word decrement_fails(const uint8_t *d, size_t n, uint32_t E, const word *P, const word *Q)
{
    word m[6], t[4], v[4], bad = 0;
    for (uint32_t j = 31; j < 31 + E; j++) {
        rep3_decrement_masks(d, n, E, j, m);
        rep3_decrement_words(P, 1, j, E, m, ~(word)0, t, v);
        rep3_decrement_words(Q, 1, j, E, m, 0, t + 2, v + 2);
        bad |= (t[0] ^ t[2]) & m[0];
        bad |= (t[1] ^ t[3] ^ (v[0] & v[3]) ^ (v[1] & v[2])) & m[4];
    }
    return bad | ((P[64 + E] ^ Q[64 + E]) & m[5]);
}

/* element i's honest c' top planes (bits 31..31 + E - 1 of c mod 2^k - 2^31, 1 from k up) and rho, as
 * E + 1 bits */
static uint64_t decrement_honest(uint64_t c, uint32_t k, uint32_t E)
{
    uint64_t mk = ((uint64_t)1 << k) - 1, cl = c & mk, delta = k > 31 ? (uint64_t)1 << 31 : 0;
    uint64_t top = (((cl - delta) & mk) | (~mk & (((uint64_t)1 << (31 + E)) - 1))) >> 31;
    return top | (uint64_t)(cl < delta) << E;
}

/* planes: c's 64, then c' top's E and rho from the E + 1 bits alt[i], shared as P ^ Q with P random */
static void decrement_planes(const uint64_t *c, const uint64_t *alt, size_t n, uint32_t E, uint64_t *s, word *P,
                             word *Q)
{
    for (uint32_t j = 0; j < 64 + E + 1; j++) {
        word v = 0;
        for (size_t i = 0; i < n; i++)
            v |= (j < 64 ? c[i] >> j & 1 : alt[i] >> (j - 64) & 1) << i;
        P[j] = xs(s), Q[j] = v ^ P[j];
    }
}

START_TEST(decrement_chain_pins_c_prime_and_rho)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    word P[64 + 33 + 1], Q[64 + 33 + 1];
    for (uint32_t E = 1; E <= 32; E++) {
        size_t n = E + 1 < 64 ? E + 1 : 64; /* every k from 31 to 31 + E, then random ones */
        uint8_t d[64];
        uint64_t c[64], want[64], alt[64];
        for (size_t i = 0; i < n; i++) {
            d[i] = (uint8_t)(31 + (i <= E ? i : xs(&s) % (E + 1)));
            c[i] = xs(&s);
            if (i % 3 == 1) /* borrows that run far: c's bits from 31 up zero */
                c[i] &= ((uint64_t)1 << 31) - 1;
            want[i] = decrement_honest(c[i], d[i], E);
        }
        decrement_planes(c, want, n, E, &s, P, Q);
        ck_assert_msg(decrement_fails(d, n, E, P, Q) == 0, "E = %u: an honest element fails", E);
        /* every other value of one element: exhaustively up to E = 7, else each single bit and random ones */
        uint64_t vals = (uint64_t)1 << (E + 1), tries = E <= 7 ? vals : 2 * (E + 1) + 64;
        for (size_t i = 0; i < n; i++)
            for (uint64_t a = 0; a < tries; a++) {
                uint64_t wrong = E <= 7 ? a : a <= E ? want[i] ^ (uint64_t)1 << a : xs(&s) & (vals - 1);
                if (wrong == want[i])
                    continue;
                memcpy(alt, want, n * sizeof *alt);
                alt[i] = wrong;
                decrement_planes(c, alt, n, E, &s, P, Q);
                ck_assert_msg(decrement_fails(d, n, E, P, Q) == (word)1 << i,
                              "E = %u, k = %u: c' and rho %llx instead of %llx pass", E, d[i],
                              (unsigned long long)wrong, (unsigned long long)want[i]);
            }
    }
}
END_TEST

Suite *suite_rep3a(void)
{
    Suite *s = suite_create("rep3a");
    TCase *c = tcase_create("jmp");
    tcase_add_test(c, receiver_and_backup_agree_on_the_same_messages);
    tcase_add_test(c, an_altered_or_reordered_message_differs);
    tcase_add_test(c, links_and_runs_are_kept_apart);
    tcase_add_test(c, the_sender_absorbs_nothing);
    suite_add_tcase(s, c);
    c = tcase_create("decrement");
    tcase_add_test(c, decrement_chain_pins_c_prime_and_rho);
    suite_add_tcase(s, c);
    return s;
}
