/* net's rounds (runtime/net/net.c) between two parties over a socketpair:
 * what is sent arrives whatever the sizes, and a large round's buffers are
 * given back once a round needs far less (trim), then grow again. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/net/net.h"

enum { MB = 1 << 20 };

/* the rounds' sizes in bytes, the same each way */
static const size_t SIZES[] = {12 * MB, 100, 12 * MB, 0, 9 * MB, 3 * MB, 100};
enum { NROUNDS = sizeof SIZES / sizeof SIZES[0] };

typedef struct {
    int me, fd;
    size_t held[NROUNDS]; /* net_held after each round */
    int ok;               /* every byte received as sent */
    char err[256];
} side;

static uint8_t pattern(int from, int round, size_t i) { return (uint8_t)(from * 131 + round * 31 + i * 7 + (i >> 13)); }

static void *run_side(void *arg)
{
    side *sd = arg;
    int fds[2] = {-1, -1};
    fds[!sd->me] = sd->fd;
    net_config c;
    memset(&c, 0, sizeof c);
    c.me = sd->me, c.n = 2, c.timeout_s = 30, c.protocol = "test", c.quiet = 1;
    net *nt = net_open_fds(&c, fds, sd->err, sizeof sd->err);
    if (!nt)
        return NULL;
    int peer = !sd->me;
    sd->ok = 1;
    for (int r = 0; r < NROUNDS; r++) {
        size_t n = SIZES[r];
        if (n) {
            uint8_t *o = net_out(nt, peer, n);
            for (size_t i = 0; i < n; i++)
                o[i] = pattern(sd->me, r, i);
            net_expect(nt, peer, n);
        }
        if (net_round(nt, sd->err, sizeof sd->err) != 0) {
            sd->ok = 0;
            break;
        }
        const uint8_t *in = n ? net_in(nt, peer, n) : NULL;
        for (size_t i = 0; i < n; i++)
            sd->ok &= in[i] == pattern(peer, r, i);
        sd->held[r] = net_held(nt);
    }
    net_close(nt);
    return NULL;
}

START_TEST(large_rounds_give_their_buffers_back)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    side s[2] = {{.me = 0, .fd = sv[0]}, {.me = 1, .fd = sv[1]}};
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, run_side, &s[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    for (int k = 0; k < 2; k++) {
        ck_assert_msg(s[k].ok, "party %d: %s", k, s[k].err[0] ? s[k].err : "bytes differ");
        for (int r = 0; r < NROUNDS; r++) {
            /* a round of 9 or 12 MB holds both its buffers (16 MB each);
             * the next one gives them back when they are more than four
             * times its need: all of them after a small (or empty) round,
             * and after 3 MB too */
            if (SIZES[r] >= 9 * MB)
                ck_assert_uint_ge(s[k].held[r], 2 * SIZES[r]);
            else if (r > 0 && SIZES[r - 1] >= 9 * MB)
                ck_assert_msg(s[k].held[r] < (SIZES[r] < MB ? MB : 16 * MB),
                              "party %d round %d: %zu bytes held after a round of %zu", k, r, s[k].held[r], SIZES[r]);
        }
    }
}
END_TEST

Suite *suite_net(void)
{
    Suite *s = suite_create("net");
    TCase *t = tcase_create("rounds");
    tcase_add_test(t, large_rounds_give_their_buffers_back);
    suite_add_tcase(s, t);
    return s;
}
