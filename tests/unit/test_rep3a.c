/* rep3-active's checks (runtime/proto/jmp.c): a link's two chains agree
 * exactly when the receiver and the backup absorbed the same bytes in the
 * same order; links and runs are kept apart. The protocol end to end is in
 * test_protocols.c (honest) and tests/secure.sh (cheating). */
#include <check.h>
#include <string.h>

#include "runtime/proto/jmp.h"

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

Suite *suite_rep3a(void)
{
    Suite *s = suite_create("rep3a");
    TCase *c = tcase_create("jmp");
    tcase_add_test(c, receiver_and_backup_agree_on_the_same_messages);
    tcase_add_test(c, an_altered_or_reordered_message_differs);
    tcase_add_test(c, links_and_runs_are_kept_apart);
    tcase_add_test(c, the_sender_absorbs_nothing);
    suite_add_tcase(s, c);
    return s;
}
