/* proto_rep3a: rep3-active, three parties, security with abort against one
 * actively corrupted party (issue 14; docs/plans/rep3-active.md). It runs
 * rep3_ops.c's operations with rep3's messages; a message that a second
 * party can recompute is hash-checked (jmp.h), and every OUTPUT first runs
 * a verification: the backups' digests (V1), then an all-clear from every
 * party (V2), so that no share of an output is sent unless every party
 * passed V1; the output round carries the digest of the share the
 * receiver gets, from the party that also holds it.
 *
 * UNDER CONSTRUCTION: the messages that only their sender knows (products'
 * reshares, AND gates, OT candidates and helpers, splits) are not proven
 * yet, so this protocol is listed in test builds only (protocols.c) and
 * claims nothing. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/net/net.h"
#include "runtime/proto/jmp.h"
#include "runtime/proto/rep3_ops.h"

extern const protocol proto_rep3a;
static const rep3_mode active = {&proto_rep3a};

/* the steps an OUTPUT runs before rep3's */
enum { V_DIGESTS, V_ALLCLEAR, VERIFY_STEPS };
#define DIGEST 32

static void *create(const proto_env *env, char *err, size_t errlen)
{
    rep3 *r = rep3_new(env, &active, err, errlen);
    if (r && !(r->rs.j = jmp_new(env->party, net_run_id(env->net)))) {
        rep3_destroy(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return r;
}

static int steps(const pop *op) { return rep3_steps(&active, op) + (op->kind == PK_OUTPUT ? VERIFY_STEPS : 0); }

/* The output link rc+1 -> rc carries x_{rc+2}, which party rc+2 holds as its
 * first word: the digest it sends lets rc check what arrived. */
static void out_digest(const pop *op, int me, const word *shares, uint8_t h[DIGEST])
{
    word *x = proto_alloc(op->n * sizeof(word));
    for (size_t i = 0; i < op->n; i++)
        x[i] = me == op->owner % 3 ? (word)op->out[i] - op->a[2 * i] - op->a[2 * i + 1] : shares[2 * i];
    SHA256((const uint8_t *)x, op->n * sizeof(word), h);
    free(x);
}

static int prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3 *r = ps;
    net *nt = r->rs.nt;
    int me = r->rs.me;
    if (op->kind != PK_OUTPUT)
        return rep3_prepare(ps, op, step, err, errlen);
    r->comm = 1;
    if (step == V_DIGESTS) {
        jmp_send(r->rs.j, nt);
    } else if (step == V_ALLCLEAR) {
        for (int p = 0; p < 3; p++)
            if (p != me) {
                *net_out(nt, p, 1) = net_cheat(nt, "all-clear") ? 0 : 1;
                net_expect(nt, p, 1);
            }
    } else {
        int rc = op->owner % 3;
        if (me == rss_prev(rc)) {
            uint8_t *h = net_out(nt, rc, DIGEST);
            out_digest(op, me, op->a, h);
            h[0] ^= (uint8_t)net_cheat(nt, "bad-digest");
        }
        else if (me == rc)
            net_expect(nt, rss_prev(rc), DIGEST);
        return rep3_prepare(ps, op, step - VERIFY_STEPS, err, errlen);
    }
    return 0;
}

static int finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3 *r = ps;
    net *nt = r->rs.nt;
    int me = r->rs.me;
    if (op->kind != PK_OUTPUT)
        return rep3_finish(ps, op, step, err, errlen);
    if (step == V_DIGESTS)
        return jmp_check(r->rs.j, nt, err, errlen);
    if (step == V_ALLCLEAR) {
        for (int p = 0; p < 3; p++)
            if (p != me && *net_in(nt, p, 1) != 1) {
                snprintf(err, errlen, "rep3-active: party %d's all-clear is malformed", p);
                return -1;
            }
        return 0;
    }
    if (rep3_finish(ps, op, step - VERIFY_STEPS, err, errlen) != 0)
        return -1;
    int rc = op->owner % 3;
    if (me != rc)
        return 0;
    uint8_t h[DIGEST];
    out_digest(op, me, NULL, h);
    if (memcmp(h, net_in(nt, rss_prev(rc), DIGEST), DIGEST) != 0) {
        snprintf(err, errlen, "rep3-active: party %d's output share differs from backup party %d's", rss_next(rc),
                 rss_prev(rc));
        return -1;
    }
    return 0;
}

static void cost(const pop *op, int nparties, proto_cost *acc)
{
    (void)nparties;
    rep3_cost(&active, op, acc);
    if (op->kind != PK_OUTPUT)
        return;
    acc->rounds += VERIFY_STEPS;
    for (int k = 0; k < 3; k++)
        acc->bytes[k] += JMP_BYTES + 2;
    acc->bytes[(op->owner + 2) % 3] += DIGEST;
}

const protocol proto_rep3a = {
    .name = "rep3-active",
    .security = "INCOMPLETE (test builds only): hash checks of recomputable messages; products, AND gates, OTs "
                "and splits not yet proven",
    .domain = "Z_2^64",
    .configs = {3},
    .min_parties = 3,
    .max_parties = 3,
    .share_words = 2,
    .create = create,
    .destroy = rep3_destroy,
    .add = rep3_add,
    .sub = rep3_sub,
    .addc = rep3_addc,
    .mulc = rep3_mulc,
    .fillc = rep3_fillc,
    .steps = steps,
    .prepare = prepare,
    .exchange = rep3_exchange,
    .finish = finish,
    .cost = cost,
    .setup_cost = rep3_setup_cost,
};
