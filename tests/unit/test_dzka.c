/* Proof A (runtime/proto/dzkp_arith.c on dzkp.c), its three positions run
 * in one process with the messages passed by hand, sigma_1's halves taken
 * from proof B's V1 messages as the networked layer sends them: honest
 * batches of many shapes and extreme values pass; a false statement (off
 * by 1, 2^63 or a random delta, in any operand), cancelling pairs, a wrong
 * quotient bit, a flipped bit of any message, an F_p element >= p, a
 * forging prover that knows only half a challenge all fail; what the
 * proof's parts guard is shown by weakening them through the test
 * parameters (one subset lets 2^63 on two statements pass half the time;
 * a prover told the challenge early forges a false claim: H-1); the size
 * refusals; the H-1 order asserts. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/fp192.h"
#include "runtime/core/kernels.h"
#include "runtime/proto/dzkp_arith.h"
#include "runtime/proto/dzkp_bool.h"
#include "dzktest.h"

/* ---- statements: n of length m ---- */

typedef struct {
    size_t n;
    uint32_t m;
    uint64_t *a, *b, *tp, *tn;
    const dzka_conv_def *cv; /* instead: a convolution's outputs */
    int take;                 /* recorded by dzka_arith_take, each position its own copies */
} stmt;

static uint64_t *words(size_t n)
{
    uint64_t *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

enum { V_RANDOM, V_HIGH, V_EDGE, V_ODD }; /* how operands are drawn */

static uint64_t value(uint64_t *seed, int how)
{
    static const uint64_t edge[] = {0, 1, 2, ~0ull, ~0ull - 1, 1ull << 63, (1ull << 63) - 1, 1ull << 32};
    uint64_t r = dzt_rnd(seed);
    switch (how) {
    case V_HIGH: /* near 2^64 */
        return ~0ull - r % 16;
    case V_EDGE:
        return r % 3 ? edge[r % 8] : dzt_rnd(seed);
    case V_ODD: /* a change of the other factor by delta != 0 changes the product */
        return r | 1;
    default:
        return r;
    }
}

/* t_n = sum_j a_j b_j - t_p (mod 2^64) makes statement i hold */
static void fix_tn(stmt *s, size_t i)
{
    uint64_t sum = 0;
    for (uint32_t j = 0; j < s->m; j++)
        sum += s->a[i * s->m + j] * s->b[i * s->m + j];
    s->tn[i] = sum - s->tp[i];
}

static stmt honest(uint64_t *seed, size_t n, uint32_t m, int how)
{
    stmt s = {n, m, words(n * m), words(n * m), words(n), words(n), NULL, 0};
    for (size_t i = 0; i < n * m; i++)
        s.a[i] = value(seed, how), s.b[i] = value(seed, how);
    for (size_t i = 0; i < n; i++) {
        s.tp[i] = value(seed, how == V_ODD ? V_RANDOM : how);
        fix_tn(&s, i);
        if (how == V_HIGH && s.tn[i] < 1ull << 62) /* t_n near 2^64 as well */
            s.tp[i] -= 1ull << 63, s.tn[i] += 1ull << 63;
    }
    return s;
}

static uint64_t *dup_words(const uint64_t *a, size_t n)
{
    uint64_t *p = words(n);
    memcpy(p, a, n * sizeof *p);
    return p;
}

static stmt copy(const stmt *s)
{
    return (stmt){s->n,  s->m, dup_words(s->a, s->n * s->m), dup_words(s->b, s->n * s->m), dup_words(s->tp, s->n),
                  dup_words(s->tn, s->n), NULL, s->take};
}

static void release(stmt *s) { free(s->a), free(s->b), free(s->tp), free(s->tn); }

static void record(dzka *z, dzk_pos pos, const stmt *s)
{
    if (s->cv) {
        dzka_conv_def d = *s->cv;
        if (pos == DZK_NEXT)
            d.xa = d.wa = d.tp = NULL;
        if (pos == DZK_PREV)
            d.xb = d.wb = d.tn = NULL;
        dzka_conv(z, &d);
        return;
    }
    if (s->take) /* every array, also those the position lacks: the store frees them */
        dzka_arith_take(z, s->n, s->m, dup_words(s->a, s->n * s->m), dup_words(s->b, s->n * s->m),
                        dup_words(s->tp, s->n), dup_words(s->tn, s->n));
    else
        dzka_arith(z, s->n, s->m, pos != DZK_NEXT ? s->a : NULL, pos != DZK_PREV ? s->b : NULL,
                   pos != DZK_NEXT ? s->tp : NULL, pos != DZK_PREV ? s->tn : NULL);
}

/* ---- running a proof ---- */

/* a message changed on its way: bit `at` flipped, or the 24 bytes at
 * byte `at` made p or 2^192 - 1 (no elements). Step 1 is the sigma_1 half. */
enum { E_FLIP, E_P, E_MAX };
typedef struct {
    int step;
    dzk_pos from, to;
    size_t at;
    int what;
} edit;

static void apply(uint8_t *buf, size_t len, const edit *e)
{
    static const fp p = {{~0ull, ~0ull - 1, ~0ull}};
    if (e->what == E_FLIP) {
        ck_assert_uint_lt(e->at, 8 * len);
        buf[e->at / 8] ^= (uint8_t)(1u << e->at % 8);
        return;
    }
    ck_assert_uint_le(e->at + FP_BYTES, len);
    if (e->what == E_P)
        fp_to_bytes(buf + e->at, &p);
    else
        memset(buf + e->at, 0xff, FP_BYTES);
}

enum { MAXMSG = 4096, BOTH = 1 << DZK_PREV | 1 << DZK_NEXT };
/* bytes per proof: 792, 16 + 16, 336, 5 x (24 + 24), 720 and 3 x 3024 (folds of 16 and 64), 720, 48 + 48 */
#define PROOF_BYTES (792 + 32 + 336 + 5 * 48 + 720 + 3 * 3024 + 720 + 96)

/* How a run ended: the positions that failed (bits by dzk_pos), at which
 * step, with the first reason. The parties stop after a failing step, as
 * they abort. */
typedef struct {
    int failed, step;
    char err[160];
} outcome;

/* sigma_1's halves for prover's proofs, as proof B's verifiers send them */
static void sigma1_halves(int prover, uint8_t half[3][MAXMSG])
{
    char err[100];
    for (int p = DZK_PREV; p <= DZK_NEXT; p++) {
        dzk_keys k = dzt_keys_of(prover, (dzk_pos)p);
        dzkb *b = dzkb_new((dzk_pos)p, prover, &k, &DZKB_PARAMS);
        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(dzkb_close(b, err, sizeof err), 0);
        ck_assert_uint_eq(dzkb_out(b, 1, DZK_PROVER, half[p]), DZK_SEED);
        dzkb_free(b);
    }
}

/* The three positions of prover's proof, views[pos] recorded at pos (count
 * statement groups each); prm->kappa is everyone's, prm->cheat the
 * prover's. */
static outcome prove(int prover, const dzka_params *prm, stmt *const views[3], size_t count, const edit *ed,
                     size_t ned)
{
    dzka *st[3];
    char err[160];
    const dzka_params verifier = {prm->kappa, {NULL, 0}};
    for (int p = 0; p < 3; p++) {
        dzk_keys k = dzt_keys_of(prover, (dzk_pos)p);
        st[p] = dzka_new((dzk_pos)p, prover, &k, p == DZK_PROVER ? prm : &verifier);
        ck_assert_ptr_nonnull(st[p]);
        for (size_t i = 0; i < count; i++)
            record(st[p], (dzk_pos)p, &views[p][i]);
        ck_assert_int_eq(dzka_close(st[p], err, sizeof err), 0);
    }
    static uint8_t buf[3][3][MAXMSG], half[3][MAXMSG];
    size_t len[3][3] = {{0}}, sent = 0;
    outcome o = {0, 0, ""};
    sigma1_halves(prover, half);
    for (int step = 1; step <= DZKA_STEPS && !o.failed; step++) {
        for (int p = 0; p < 3; p++)
            for (int q = 0; q < 3; q++)
                if (p != q) {
                    len[p][q] = dzka_out(st[p], step, (dzk_pos)q, buf[p][q]);
                    ck_assert_uint_eq(len[p][q], dzka_len(step, (dzk_pos)p, (dzk_pos)q));
                    sent += len[p][q];
                }
        for (size_t i = 0; i < ned; i++)
            if (ed[i].step == step)
                apply(step == 1 ? half[ed[i].from] : buf[ed[i].from][ed[i].to],
                      step == 1 ? DZK_SEED : len[ed[i].from][ed[i].to], &ed[i]);
        for (int q = 0; q < 3; q++)
            for (int p = 0; p < 3; p++) {
                int bad = p != q && dzka_in(st[q], step, (dzk_pos)p, buf[p][q], len[p][q], err, sizeof err);
                if (step == 1 && q == DZK_PROVER && p != q)
                    bad = dzka_sigma1(st[q], (dzk_pos)p, half[p], DZK_SEED, err, sizeof err);
                if (bad && !o.failed)
                    o.step = step, snprintf(o.err, sizeof o.err, "%s", err);
                o.failed |= bad ? 1 << q : 0;
            }
    }
    if (!o.failed)
        ck_assert_uint_eq(sent, PROOF_BYTES);
    for (int p = 0; p < 3; p++)
        dzka_free(st[p]);
    return o;
}

/* The positions that failed; a failure must be the final check's. */
static int run(int prover, const dzka_params *prm, stmt *pv, stmt *pp, stmt *pn, size_t count, const edit *ed,
               size_t ned)
{
    stmt *const views[3] = {pp, pv, pn}; /* indexed by dzk_pos: prover, prev, next */
    outcome o = prove(prover, prm, views, count, ed, ned);
    if (o.failed) {
        char want[64];
        snprintf(want, sizeof want, "party %d's proof failed (arith, final check)", prover);
        ck_assert_str_eq(o.err, want);
        ck_assert_int_eq(o.step, DZKA_STEPS);
    }
    return o.failed;
}

static int run_same(int prover, stmt *s, size_t count) { return run(prover, &DZKA_PARAMS, s, s, s, count, NULL, 0); }

/* ---- honest batches ---- */

START_TEST(honest_batches_pass)
{
    static const uint32_t ms[] = {1, 2, 3, 27};
    static const size_t ns[] = {1, 2, 5, 64, 300, 10000};
    uint64_t seed = 10 + (uint64_t)_i;
    dzt_make_keys(seed);
    for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
        for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
            stmt s = honest(&seed, ns[b], ms[a], (int)(a + b) % 3);
            ck_assert_int_eq(run_same(_i, &s, 1), 0);
            release(&s);
        }
    ck_assert_int_eq(run_same(_i, NULL, 0), 0); /* an empty batch */
}
END_TEST

/* lengths mixed in one batch, a long statement, and every operand at its
 * largest (the lift's sums at their widest) */
START_TEST(mixed_and_extreme_batches_pass)
{
    uint64_t seed = 20 + (uint64_t)_i;
    dzt_make_keys(seed);
    stmt s[8] = {honest(&seed, 7, 2, V_RANDOM),     honest(&seed, 3, 27, V_HIGH), honest(&seed, 100, 1, V_EDGE),
                 honest(&seed, 5, 2, V_HIGH),       honest(&seed, 1, 100000, V_HIGH),
                 honest(&seed, 1000, 3, V_RANDOM), honest(&seed, 2, 2, V_EDGE),  honest(&seed, 40, 5, V_RANDOM)};
    ck_assert_int_eq(run_same(_i, s, 8), 0);
    stmt top = honest(&seed, 50, 27, V_RANDOM);
    for (size_t i = 0; i < top.n * top.m; i++)
        top.a[i] = top.b[i] = ~0ull;
    for (size_t i = 0; i < top.n; i++) {
        top.tp[i] = ~0ull;
        fix_tn(&top, i);
    }
    ck_assert_int_eq(run_same(_i, &top, 1), 0);
    release(&top);
    for (int i = 0; i < 8; i++)
        release(&s[i]);
}
END_TEST

/* Batches the store takes as they are (70,000 one-term statements, 9,000
 * of 8 terms) or copies (below a block), between copied ones: they pass,
 * and one false statement in a taken batch fails. */
START_TEST(taken_batches_pass_and_false_fail)
{
    uint64_t seed = 30 + (uint64_t)_i;
    dzt_make_keys(seed);
    stmt s[5] = {honest(&seed, 70000, 1, V_RANDOM), honest(&seed, 300, 2, V_EDGE), honest(&seed, 9000, 8, V_HIGH),
                 honest(&seed, 100, 3, V_RANDOM), honest(&seed, 5, 27, V_RANDOM)};
    s[0].take = s[2].take = s[3].take = 1;
    ck_assert_int_eq(run_same(_i, s, 5), 0);
    stmt bad = copy(&s[2]);
    bad.tp[4321] += 1;
    stmt with_bad[5] = {s[0], s[1], bad, s[3], s[4]};
    ck_assert_int_eq(run_same(_i, with_bad, 5), BOTH);
    release(&bad);
    for (int i = 0; i < 5; i++)
        release(&s[i]);
}
END_TEST

/* ---- false statements ---- */

enum { OP_A, OP_B, OP_TP, OP_TN, NOPS };

static void add_op(stmt *s, int op, size_t i, uint32_t j, uint64_t delta)
{
    uint64_t *v[NOPS] = {s->a + i * s->m + j, s->b + i * s->m + j, s->tp + i, s->tn + i};
    *v[op] += delta;
}

/* One statement off by 1, 2^63 or a random delta, in any operand: the
 * verifier that holds the operand and the prover see the changed one; for
 * a and b also the prover alone (a wrong witness against true statements;
 * a prover's own t_p, t_n only make its quotients, which may come out
 * right). */
START_TEST(one_false_statement_fails)
{
    uint64_t seed = 100 + (uint64_t)_i;
    dzt_make_keys(seed);
    for (int op = 0; op < NOPS; op++)
        for (int t = 0; t < 6; t++) {
            uint64_t delta = t % 3 == 0 ? 1 : t % 3 == 1 ? 1ull << 63 : dzt_rnd(&seed) | 1;
            stmt s = honest(&seed, 1 + dzt_rnd(&seed) % 200, 1 + (uint32_t)(dzt_rnd(&seed) % 4), V_ODD), bad = copy(&s);
            add_op(&bad, op, dzt_rnd(&seed) % s.n, (uint32_t)(dzt_rnd(&seed) % s.m), delta);
            int at_prev = op == OP_A || op == OP_TP;
            ck_assert_int_eq(run(_i, &DZKA_PARAMS, at_prev ? &bad : &s, &bad, at_prev ? &s : &bad, 1, NULL, 0), BOTH);
            if (op == OP_A || op == OP_B)
                ck_assert_int_eq(run(_i, &DZKA_PARAMS, &s, &bad, &s, 1, NULL, 0), BOTH);
            release(&s);
            release(&bad);
        }
}
END_TEST

/* Errors that cancel in one subset sum, unless every subset separates the
 * two statements: +delta and -delta, and 2^63 twice, in t_p or across t_p
 * and t_n. */
START_TEST(cancelling_pairs_fail)
{
    uint64_t seed = 200;
    dzt_make_keys(seed);
    for (int t = 0; t < 12; t++) {
        stmt s = honest(&seed, 2 + dzt_rnd(&seed) % 100, 1 + (uint32_t)(t % 3), V_RANDOM), bad = copy(&s);
        size_t v = dzt_rnd(&seed) % s.n, w = (v + 1 + dzt_rnd(&seed) % (s.n - 1)) % s.n;
        uint64_t delta = t % 2 ? dzt_rnd(&seed) : 1ull << 63;
        int across = t % 4 >= 2;
        add_op(&bad, OP_TP, v, 0, delta); /* E_v - delta */
        add_op(&bad, across ? OP_TN : OP_TP, w, 0, 0 - delta); /* E_w + delta */
        ck_assert_int_eq(run(t % 3, &DZKA_PARAMS, &bad, &bad, &bad, 1, NULL, 0), BOTH);
        release(&s);
        release(&bad);
    }
}
END_TEST

/* One subset (kappa = 1): 2^63 on two statements passes when both or
 * neither are in it, half the time; with 64 subsets it never does. */
START_TEST(one_subset_passes_a_pair_half_the_time)
{
    uint64_t seed = 300;
    dzka_params one = {1, {NULL, 0}};
    int passed = 0;
    for (int t = 0; t < 40; t++) {
        dzt_make_keys(seed + (uint64_t)t);
        stmt s = honest(&seed, 20, 2, V_RANDOM), bad = copy(&s);
        add_op(&bad, OP_TP, 3, 0, 1ull << 63);
        add_op(&bad, OP_TP, 11, 0, 1ull << 63);
        int failed = run(t % 3, &one, &bad, &bad, &s, 1, NULL, 0);
        ck_assert(failed == 0 || failed == BOTH);
        passed += !failed;
        ck_assert_int_eq(run(t % 3, &DZKA_PARAMS, &bad, &bad, &s, 1, NULL, 0), BOTH);
        release(&s);
        release(&bad);
    }
    ck_assert_int_ge(passed, 8);
    ck_assert_int_le(passed, 32);
}
END_TEST

/* ---- messages ---- */

/* A wrong quotient: bit 0 of Q'_s flipped (Q'_s +- 1) or its top bit
 * (+- 2^98), in the shares next receives; the statements are true. */
START_TEST(wrong_quotient_bit_fails)
{
    uint64_t seed = 400;
    dzt_make_keys(seed);
    stmt s = honest(&seed, 60, 3, V_RANDOM);
    for (unsigned s_ = 0; s_ < DZKA_KAPPA; s_ += 9)
        for (int top = 0; top < 2; top++) {
            edit e = {2, DZK_PROVER, DZK_NEXT, s_ * DZKA_QBITS + (top ? DZKA_QBITS - 1 : 0), E_FLIP};
            ck_assert_int_eq(run((int)s_ % 3, &DZKA_PARAMS, &s, &s, &s, 1, &e, 1), BOTH);
        }
    release(&s);
}
END_TEST

/* Every message of the schedule, sigma_1's halves included, a few bits
 * each: a prover's message or a half changes what both verifiers check; a
 * final value only its reader's check. */
START_TEST(any_flipped_message_bit_fails)
{
    uint64_t seed = 500;
    dzt_make_keys(seed);
    stmt s[2] = {honest(&seed, 40, 2, V_RANDOM), honest(&seed, 7, 27, V_HIGH)};
    for (int step = 1; step <= DZKA_STEPS; step++)
        for (int p = 0; p < 3; p++)
            for (int q = 0; q < 3; q++) {
                size_t len = p == q                                    ? 0
                             : step == 1 && q == DZK_PROVER            ? DZK_SEED
                                                                       : dzka_len(step, (dzk_pos)p, (dzk_pos)q);
                for (int t = 0; len && t < 3; t++) {
                    edit e = {step, (dzk_pos)p, (dzk_pos)q, t == 0 ? 0 : t == 1 ? 8 * len - 1 : dzt_rnd(&seed) % (8 * len),
                              E_FLIP};
                    int want = step == DZKA_STEPS ? 1 << q : BOTH;
                    ck_assert_int_eq(run(step % 3, &DZKA_PARAMS, s, s, s, 2, &e, 1), want);
                }
            }
    release(&s[0]);
    release(&s[1]);
}
END_TEST

/* An F_p element >= p in a fold, the final message, a half or a final
 * value is refused by its reader, naming the sender and the step. */
START_TEST(element_not_below_p_is_malformed)
{
    static const struct {
        int step;
        dzk_pos from, to;
        size_t at;
    } at[] = {{4, DZK_PROVER, DZK_NEXT, 0},
              {4, DZK_PROVER, DZK_NEXT, 13 * 24},
              {6, DZK_PROVER, DZK_NEXT, 29 * 24},              /* a fold of 16 */
              {10, DZK_PROVER, DZK_NEXT, 125 * 24},            /* a fold of 64 */
              {DZKA_STEPS - 1, DZK_PROVER, DZK_NEXT, 29 * 24}, /* the final message */
              {5, DZK_PREV, DZK_PROVER, 0},
              {DZKA_STEPS - 2, DZK_NEXT, DZK_PROVER, 0},
              {DZKA_STEPS, DZK_PREV, DZK_NEXT, 0},
              {DZKA_STEPS, DZK_NEXT, DZK_PREV, 24}};
    uint64_t seed = 600;
    dzt_make_keys(seed);
    stmt s = honest(&seed, 30, 2, V_RANDOM);
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        for (int what = E_P; what <= E_MAX; what++) {
            int prover = (int)i % 3;
            edit e = {at[i].step, at[i].from, at[i].to, at[i].at, what};
            stmt *const views[3] = {&s, &s, &s};
            outcome o = prove(prover, &DZKA_PARAMS, views, 1, &e, 1);
            char want[80];
            snprintf(want, sizeof want, "malformed proof message from party %d (step V%d)",
                     dzk_party(prover, at[i].from), at[i].step);
            ck_assert_int_eq(o.failed, 1 << at[i].to);
            ck_assert_int_eq(o.step, at[i].step);
            ck_assert_str_eq(o.err, want);
        }
    release(&s);
}
END_TEST

/* A message of another length than the schedule's is refused. */
START_TEST(wrong_length_is_malformed)
{
    dzt_make_keys(602);
    char err[100];
    uint8_t buf[MAXMSG] = {0};
    dzk_keys k = dzt_keys_of(2, DZK_NEXT);
    dzka *z = dzka_new(DZK_NEXT, 2, &k, &DZKA_PARAMS);
    ck_assert_int_eq(dzka_close(z, err, sizeof err), 0);
    ck_assert_uint_eq(dzka_out(z, 1, DZK_PROVER, buf), 0);
    ck_assert_int_eq(dzka_in(z, 2, DZK_PROVER, buf, 791, err, sizeof err), -1);
    ck_assert_str_eq(err, "malformed proof message from party 2 (step V2)");
    ck_assert_int_eq(dzka_in(z, 1, DZK_PREV, buf, 16, err, sizeof err), -1); /* sigma_1 is proof B's */
    ck_assert_str_eq(err, "malformed proof message from party 1 (step V1)");
    dzka_free(z);
    k = dzt_keys_of(0, DZK_PROVER);
    z = dzka_new(DZK_PROVER, 0, &k, &DZKA_PARAMS);
    ck_assert_int_eq(dzka_close(z, err, sizeof err), 0);
    ck_assert_int_eq(dzka_sigma1(z, DZK_NEXT, buf, DZK_SEED - 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "malformed proof message from party 1 (step V1)");
    dzka_free(z);
}
END_TEST

/* H-1: a prover that knows a fold's whole challenge before sending the fold
 * message makes a false claim pass; knowing one half alone, it fails. */
START_TEST(early_challenge_forges_only_with_both_halves)
{
    uint64_t seed = 700;
    for (int prover = 0; prover < 3; prover++) {
        dzt_make_keys(seed + (uint64_t)prover);
        stmt s = honest(&seed, 50, 2, V_RANDOM), bad = copy(&s);
        add_op(&bad, OP_TP, 7, 0, 1); /* prev and the prover agree on a false t_p */
        const uint8_t *chal = dzt_chal[(prover + 2) % 3];
        dzka_params both = {DZKA_KAPPA, {chal, 1u << DZK_HALF_P | 1u << DZK_HALF_N}};
        dzka_params p_only = {DZKA_KAPPA, {chal, 1u << DZK_HALF_P}}, n_only = {DZKA_KAPPA, {chal, 1u << DZK_HALF_N}};
        ck_assert_int_eq(run(prover, &both, &bad, &bad, &s, 1, NULL, 0), 0);
        ck_assert_int_eq(run(prover, &p_only, &bad, &bad, &s, 1, NULL, 0), BOTH);
        ck_assert_int_eq(run(prover, &n_only, &bad, &bad, &s, 1, NULL, 0), BOTH);
        ck_assert_int_eq(run(prover, &p_only, &s, &s, &s, 1, NULL, 0), 0); /* nothing to forge */
        ck_assert_int_eq(run(prover, &DZKA_PARAMS, &bad, &bad, &s, 1, NULL, 0), BOTH);
        release(&s);
        release(&bad);
    }
}
END_TEST

/* ---- refusals and order ---- */

START_TEST(oversized_batches_are_refused)
{
    char err[160];
    ck_assert_int_eq(dzka_fits(0, 0, err, sizeof err), 0);
    ck_assert_int_eq(dzka_fits(DZKA_MAX_TERMS, DZKA_MAX_PRODS, err, sizeof err), 0);
    ck_assert_int_eq(dzka_fits(DZKA_MAX_TERMS + 1, 0, err, sizeof err), -1);
    ck_assert_str_eq(err, "batch of 503310145 arith terms is too long for the fold schedule (at most 503310144)");
    /* products beyond the quotients' width, however short the vector (a convolution's) */
    ck_assert_int_eq(dzka_fits(1000, DZKA_MAX_PRODS + 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "batch of 34359738368 arith products is too large for one verification (at most "
                          "34359738367)");
    /* an honest quotient fits its 99 bits: (2^35 - 1)(2^64 + 2) < 2^99 */
    ck_assert(((unsigned __int128)DZKA_MAX_PRODS * (((unsigned __int128)1 << 64) + 2)) >> 99 == 0);
    /* the schedule's bound: ceil((terms + 64 x 99) / 8) folds by 16, 64, 64, 64 to 15 */
    ck_assert_uint_eq((DZKA_MAX_TERMS + DZKA_KAPPA * DZKA_QBITS) / 8, 15ull << 22);
}
END_TEST

/* A verifier that derives sigma_1 before the batch is closed, or sends a
 * half before reading the prover's message it answers, is a bug: abort. */
START_TEST(sigma1_before_close_aborts)
{
    dzt_make_keys(800);
    dzk_keys k = dzt_keys_of(0, DZK_PREV);
    dzka *z = dzka_new(DZK_PREV, 0, &k, &DZKA_PARAMS);
    uint8_t buf[MAXMSG];
    dzka_out(z, 1, DZK_PROVER, buf);
}
END_TEST

static dzka *closed_next(int prover)
{
    char err[100];
    dzt_make_keys(801);
    dzk_keys k = dzt_keys_of(prover, DZK_NEXT);
    dzka *z = dzka_new(DZK_NEXT, prover, &k, &DZKA_PARAMS);
    ck_assert_int_eq(dzka_close(z, err, sizeof err), 0);
    return z;
}

START_TEST(sigma2_before_quotient_bits_aborts)
{
    uint8_t buf[MAXMSG];
    dzka *z = closed_next(1);
    dzka_out(z, 1, DZK_PROVER, buf);
    dzka_out(z, 3, DZK_PROVER, buf); /* the qn bits of V2 were not read */
}
END_TEST

START_TEST(challenge_before_fold_aborts)
{
    uint8_t buf[MAXMSG] = {0};
    char err[100];
    dzka *z = closed_next(2);
    dzka_out(z, 1, DZK_PROVER, buf);
    ck_assert_int_eq(dzka_in(z, 2, DZK_PROVER, buf, dzka_len(2, DZK_PROVER, DZK_NEXT), err, sizeof err), 0);
    ck_assert_uint_eq(dzka_out(z, 3, DZK_PROVER, buf), DZK_SEED);
    dzka_out(z, 5, DZK_PROVER, buf); /* fold 1 of V4 was not read */
}
END_TEST

/* ---- convolutions (Freivalds) ---- */

/* A convolution's statements with random shares (how: value()), t_n from
 * kernels.c's convolutions, so that every output holds; the arrays are
 * kept in cs until conv_free. */
typedef struct {
    dzka_conv_def d;
    uint64_t *v[6]; /* xa, wa, tp, xb, wb, tn */
    size_t nx, nw, n;
} conv_stmt;

static geom conv_geom(uint32_t h, uint32_t w, uint32_t c, uint32_t k, uint32_t stride, uint32_t pad, uint32_t dil)
{
    uint32_t eff = dil * (k - 1) + 1;
    return (geom){h, w, c, k, k, (h + 2 * pad - eff) / stride + 1, (w + 2 * pad - eff) / stride + 1, stride, stride,
                  pad, pad, dil, dil};
}

static void conv_apply(const conv_stmt *s, uint64_t *out, const uint64_t *x, const uint64_t *w)
{
    if (s->d.depthwise)
        kern_dwconv2d(out, x, w, &s->d.g, s->d.oc);
    else
        kern_conv2d(out, x, w, &s->d.g, s->d.oc);
}

/* what each array of a convolution's statement is read by (xa, wa, tp, xb, wb, tn) */
static const unsigned CONV_READ[6] = {DZKA_AWB | DZKA_AWA, DZKA_BWA | DZKA_AWA, ~0u, DZKA_BWA, DZKA_AWB, ~0u};

static conv_stmt conv_honest(uint64_t *seed, int dw, geom g, uint32_t oc, unsigned terms, int how)
{
    conv_stmt s = {{dw, g, oc, terms, NULL, NULL, NULL, NULL, NULL, NULL}, {NULL}, 0, 0, 0};
    size_t och = dw ? (size_t)g.c * oc : oc;
    s.nx = (size_t)g.h * g.w * g.c, s.nw = (size_t)g.kh * g.kw * och * (dw ? 1 : g.c), s.n = (size_t)g.oh * g.ow * och;
    size_t len[6] = {s.nx, s.nw, s.n, s.nx, s.nw, s.n};
    for (int i = 0; i < 6; i++) {
        s.v[i] = words(len[i]);
        for (size_t j = 0; j < len[i]; j++)
            s.v[i][j] = value(seed, how);
    }
    uint64_t *t = words(s.n);
    memset(s.v[5], 0, s.n * sizeof *s.v[5]);
    for (int k = 0; k < 3; k++) { /* xa wb, xb wa, xa wa: the named ones */
        if (!(terms >> k & 1))
            continue;
        conv_apply(&s, t, s.v[k == 1 ? 3 : 0], s.v[k == 0 ? 4 : 1]);
        for (size_t o = 0; o < s.n; o++)
            s.v[5][o] += t[o];
    }
    for (size_t o = 0; o < s.n; o++)
        s.v[5][o] -= s.v[2][o];
    free(t);
    const uint64_t **d[6] = {&s.d.xa, &s.d.wa, &s.d.tp, &s.d.xb, &s.d.wb, &s.d.tn};
    for (int i = 0; i < 6; i++) /* an array no named product reads goes as NULL */
        *d[i] = CONV_READ[i] & terms ? s.v[i] : NULL;
    return s;
}

static void conv_free(conv_stmt *s)
{
    for (int i = 0; i < 6; i++)
        free(s->v[i]);
}

static stmt conv_view(const conv_stmt *s) { return (stmt){s->n, 0, NULL, NULL, NULL, NULL, &s->d, 0}; }

enum { NCONV = 12 };
static conv_stmt conv_case(uint64_t *seed, int k, int how)
{
    enum { CROSS = DZKA_AWB | DZKA_BWA, ALL = CROSS | DZKA_AWA, BL = DZKA_BWA | DZKA_AWA };
    switch (k) {
    case 0: return conv_honest(seed, 0, conv_geom(5, 4, 3, 3, 2, 1, 1), 4, CROSS, how);
    case 1: return conv_honest(seed, 0, conv_geom(6, 6, 8, 1, 1, 0, 1), 5, ALL, how);
    case 2: return conv_honest(seed, 1, conv_geom(7, 5, 4, 3, 1, 1, 1), 1, CROSS, how);
    case 3: return conv_honest(seed, 1, conv_geom(6, 7, 3, 3, 2, 1, 1), 2, ALL, how);
    case 4: return conv_honest(seed, 0, conv_geom(9, 9, 2, 3, 1, 2, 2), 3, ALL, how);
    case 5: return conv_honest(seed, 1, conv_geom(9, 8, 5, 3, 1, 2, 2), 1, ALL, how);
    case 6: return conv_honest(seed, 0, conv_geom(3, 3, 64, 3, 1, 1, 1), 16, ALL, how);
    /* a share of w zero: the products left (rep3-active's filters as input) */
    case 7: return conv_honest(seed, 0, conv_geom(5, 4, 3, 3, 2, 1, 1), 4, DZKA_AWB, how);
    case 8: return conv_honest(seed, 0, conv_geom(6, 6, 24, 1, 1, 0, 1), 5, BL, how);
    case 9: return conv_honest(seed, 1, conv_geom(6, 7, 3, 3, 2, 1, 1), 2, BL, how);
    case 10: return conv_honest(seed, 1, conv_geom(7, 5, 4, 3, 1, 1, 1), 1, DZKA_AWB, how);
    default: return conv_honest(seed, 0, conv_geom(9, 9, 2, 3, 1, 2, 2), 3, DZKA_BWA, how);
    }
}

/* Honest convolutions of every shape (strides, padding, dilation, depth
 * multipliers, every set of products a statement may name, operands at
 * 2^64 - 1)
 * pass, alone and beside ordinary statements; one output off by 1, 2^63
 * or a random delta, or two outputs off by +delta and -delta, fail. */
START_TEST(convolutions_pass_and_false_outputs_fail)
{
    uint64_t seed = 700 + (uint64_t)_i;
    dzt_make_keys(seed);
    for (int k = 0; k < NCONV; k++) {
        conv_stmt c = conv_case(&seed, k, k % 2 ? V_HIGH : V_RANDOM);
        stmt v[3] = {honest(&seed, 5, 2, V_RANDOM), conv_view(&c), honest(&seed, 3, 1, V_RANDOM)};
        ck_assert_int_eq(run_same(_i, v, 3), 0);
        for (int t = 0; t < 4; t++) {
            size_t o = dzt_rnd(&seed) % c.n, o2 = (o + 1 + dzt_rnd(&seed) % (c.n - 1)) % c.n;
            uint64_t delta = t == 0 ? 1 : t == 1 ? 1ull << 63 : dzt_rnd(&seed) | 1;
            c.v[2][o] += delta;
            if (t == 3)
                c.v[2][o2] -= delta;
            ck_assert_int_eq(run_same(_i, v, 3), BOTH);
            c.v[2][o] -= delta;
            if (t == 3)
                c.v[2][o2] += delta;
        }
        release(&v[0]), release(&v[2]);
        conv_free(&c);
    }
}
END_TEST

/* A prover whose operands differ from its verifiers' (a wrong weight or
 * input share, its own or next's) fails. */
START_TEST(convolution_with_a_wrong_operand_fails)
{
    uint64_t seed = 800 + (uint64_t)_i;
    dzt_make_keys(seed);
    for (int k = 0; k < NCONV; k++)
        for (int which = 0; which < 6; which++) {
            conv_stmt c = conv_case(&seed, k, V_ODD), bad = conv_case(&seed, k, V_ODD);
            if (which == 2 || which == 5 || !(CONV_READ[which] & c.d.terms)) { /* t_p, t_n: the test above */
                conv_free(&c), conv_free(&bad);
                continue;
            }
            for (int i = 0; i < 6; i++) /* bad: c's values, one changed */
                memcpy(bad.v[i], c.v[i], (i % 3 == 0 ? c.nx : i % 3 == 1 ? c.nw : c.n) * sizeof(uint64_t));
            size_t at = dzt_rnd(&seed) % (which % 3 == 0 ? c.nx : c.nw);
            bad.v[which][at] += 2;
            stmt good = conv_view(&c), wrong = conv_view(&bad);
            int at_prev = which < 3;
            /* the holder's view and the prover's changed: every share a named product
             * reads meets one in these shapes, each changed by 2 times an odd word (2
             * (wb + wa) for xa in two products, 2 (xa + xb) for wa: 2^64 divides it
             * with negligible probability) */
            ck_assert_int_eq(run(_i, &DZKA_PARAMS, at_prev ? &wrong : &good, &wrong, at_prev ? &good : &wrong, 1, NULL, 0),
                             BOTH);
            conv_free(&c), conv_free(&bad);
        }
}
END_TEST

Suite *suite_dzka(void)
{
    Suite *s = suite_create("dzka");
    TCase *t = tcase_create("arith");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, honest_batches_pass, 0, 3);
    tcase_add_loop_test(t, mixed_and_extreme_batches_pass, 0, 3);
    tcase_add_loop_test(t, taken_batches_pass_and_false_fail, 0, 3);
    tcase_add_loop_test(t, one_false_statement_fails, 0, 3);
    tcase_add_test(t, cancelling_pairs_fail);
    tcase_add_test(t, one_subset_passes_a_pair_half_the_time);
    tcase_add_test(t, wrong_quotient_bit_fails);
    tcase_add_test(t, any_flipped_message_bit_fails);
    tcase_add_test(t, element_not_below_p_is_malformed);
    tcase_add_test(t, wrong_length_is_malformed);
    tcase_add_test(t, early_challenge_forges_only_with_both_halves);
    tcase_add_test(t, oversized_batches_are_refused);
    tcase_add_loop_test(t, convolutions_pass_and_false_outputs_fail, 0, 3);
    tcase_add_loop_test(t, convolution_with_a_wrong_operand_fails, 0, 3);
    tcase_add_test_raise_signal(t, sigma1_before_close_aborts, SIGABRT);
    tcase_add_test_raise_signal(t, sigma2_before_quotient_bits_aborts, SIGABRT);
    tcase_add_test_raise_signal(t, challenge_before_fold_aborts, SIGABRT);
    suite_add_tcase(s, t);
    return s;
}
