/* Proof B (runtime/proto/dzkp_bool.c on dzkp.c), its three positions run
 * in one process with the messages passed by hand: honest batches of many
 * shapes pass; a false relation, a cancelling pair of errors, a flipped bit
 * of any message, a forging prover that knows only half a challenge all
 * fail; what the proof's parts guard is shown by weakening them through
 * the test parameters (one weight for every word; a prover told the
 * challenge early, which forges a false claim: H-1); carry chains,
 * exhaustively for small widths; the H-1 order assert. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/proto/dzkp_bool.h"
#include "dzktest.h"

START_TEST(keys_are_separate)
{
    dzt_make_keys(1);
    for (int a = 0; a < 6; a++)
        for (int b = a + 1; b < 6; b++)
            ck_assert(memcmp(a < 3 ? dzt_mask[a] : dzt_chal[a - 3], b < 3 ? dzt_mask[b] : dzt_chal[b - 3], 16));
}
END_TEST

/* ---- statements ---- */

typedef struct {
    size_t nw;
    unsigned sigma;
    uint64_t *lanes; /* NULL: every lane */
    uint64_t *x[DZKB_SIGMA_MAX], *y[DZKB_SIGMA_MAX], *tp, *tn;
} stmt;

static uint64_t *words(size_t n)
{
    uint64_t *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* random operands, t_n making every relation hold (in every lane) */
static stmt honest(uint64_t *seed, size_t nw, unsigned sigma, int partial)
{
    stmt s = {nw, sigma, NULL, {NULL}, {NULL}, words(nw), words(nw)};
    if (partial) {
        s.lanes = words(nw);
        for (size_t w = 0; w < nw; w++)
            s.lanes[w] = w % 3 ? dzt_rnd(seed) : ~0ull >> (dzt_rnd(seed) % 64);
    }
    for (unsigned j = 0; j < sigma; j++) {
        s.x[j] = words(nw), s.y[j] = words(nw);
        for (size_t w = 0; w < nw; w++)
            s.x[j][w] = dzt_rnd(seed), s.y[j][w] = dzt_rnd(seed);
    }
    for (size_t w = 0; w < nw; w++) {
        s.tp[w] = dzt_rnd(seed);
        s.tn[w] = s.tp[w];
        for (unsigned j = 0; j < sigma; j++)
            s.tn[w] ^= s.x[j][w] & s.y[j][w];
    }
    return s;
}

static uint64_t *dup_words(const uint64_t *a, size_t n)
{
    if (!a)
        return NULL;
    uint64_t *p = words(n);
    memcpy(p, a, n * sizeof *p);
    return p;
}

static stmt copy(const stmt *s)
{
    stmt c = *s;
    c.lanes = dup_words(s->lanes, s->nw);
    for (unsigned j = 0; j < s->sigma; j++)
        c.x[j] = dup_words(s->x[j], s->nw), c.y[j] = dup_words(s->y[j], s->nw);
    c.tp = dup_words(s->tp, s->nw), c.tn = dup_words(s->tn, s->nw);
    return c;
}

static void release(stmt *s)
{
    free(s->lanes);
    for (unsigned j = 0; j < s->sigma; j++)
        free(s->x[j]), free(s->y[j]);
    free(s->tp), free(s->tn);
}

static void record(dzkb *b, dzk_pos pos, const stmt *s)
{
    const uint64_t *const *x = (const uint64_t *const *)s->x, *const *y = (const uint64_t *const *)s->y;
    dzkb_bool(b, s->nw, s->sigma, s->lanes, pos != DZK_NEXT ? x : NULL, pos != DZK_PREV ? y : NULL,
              pos != DZK_NEXT ? s->tp : NULL, pos != DZK_PREV ? s->tn : NULL);
}

/* ---- running a proof ---- */

/* a bit flipped in a message on its way */
typedef struct {
    int step;
    dzk_pos from, to;
    size_t bit;
} flip;

enum { MAXMSG = 4096 };

/* What each position records: statements, or a chain. */
typedef void recorder(dzkb *b, dzk_pos pos, void *ctx);

/* The three positions of prover's proof: the views record, the proof runs;
 * returns the set of verifiers that failed (bit pos). prm->fixed_rho is
 * everyone's, prm->cheat the prover's. */
static int prove(int prover, const dzkb_params *prm, recorder *rec, void *ctx, const flip *fl, size_t nfl)
{
    dzkb *st[3];
    char err[160];
    const dzkb_params verifier = {prm->fixed_rho, {NULL, 0}};
    for (int p = 0; p < 3; p++) {
        dzk_keys k = dzt_keys_of(prover, (dzk_pos)p);
        st[p] = dzkb_new((dzk_pos)p, prover, &k, p == DZK_PROVER ? prm : &verifier);
        ck_assert_ptr_nonnull(st[p]);
        rec(st[p], (dzk_pos)p, ctx);
        ck_assert_int_eq(dzkb_close(st[p], err, sizeof err), 0);
    }
    static uint8_t buf[3][3][MAXMSG];
    size_t len[3][3] = {{0}}, sent = 0;
    int failed = 0;
    for (int step = 1; step <= DZKB_STEPS; step++) {
        for (int p = 0; p < 3; p++)
            for (int q = 0; q < 3; q++)
                if (p != q) {
                    len[p][q] = dzkb_out(st[p], step, (dzk_pos)q, buf[p][q]);
                    ck_assert_uint_eq(len[p][q], dzkb_len(step, (dzk_pos)p, (dzk_pos)q));
                    sent += len[p][q];
                }
        for (size_t i = 0; i < nfl; i++)
            if (fl[i].step == step) {
                ck_assert_uint_lt(fl[i].bit, 8 * len[fl[i].from][fl[i].to]);
                buf[fl[i].from][fl[i].to][fl[i].bit / 8] ^= (uint8_t)(1u << fl[i].bit % 8);
            }
        for (int q = 0; q < 3; q++)
            for (int p = 0; p < 3; p++)
                if (p != q && dzkb_in(st[q], step, (dzk_pos)p, buf[p][q], len[p][q], err, sizeof err)) {
                    char want[64];
                    snprintf(want, sizeof want, "party %d's proof failed (bool, final check)", prover);
                    ck_assert_str_eq(err, want);
                    ck_assert_int_eq(step, DZKB_STEPS);
                    failed |= 1 << q;
                }
    }
    /* 16 + 16, 1008, 6 x (8 + 8), 2 x 240 and 3 x 1008 (folds of 16 and 64), 240, 16 + 16 */
    ck_assert_uint_eq(sent, 32 + 1008 + 6 * 16 + 2 * 240 + 3 * 1008 + 240 + 32);
    for (int p = 0; p < 3; p++)
        dzkb_free(st[p]);
    return failed;
}

enum { BOTH = 1 << DZK_PREV | 1 << DZK_NEXT };

/* statements per position: view[pos] */
typedef struct {
    stmt *view[3];
    size_t n;
} views;

static void record_views(dzkb *b, dzk_pos pos, void *ctx)
{
    views *v = ctx;
    for (size_t i = 0; i < v->n; i++)
        record(b, pos, &v->view[pos][i]);
}

static int prove_views(int prover, const dzkb_params *prm, stmt *pv, stmt *pp, stmt *pn, size_t n, const flip *fl,
                       size_t nfl)
{
    views v = {{pp, pv, pn}, n}; /* indexed by dzk_pos: prover, prev, next */
    return prove(prover, prm, record_views, &v, fl, nfl);
}

static int prove_same(int prover, stmt *s, size_t n) { return prove_views(prover, &DZKB_PARAMS, s, s, s, n, NULL, 0); }

/* ---- honest batches ---- */

START_TEST(honest_batches_pass)
{
    static const size_t nws[] = {1, 2, 63, 64, 65, 300, 5000};
    uint64_t seed = 10 + (uint64_t)_i;
    dzt_make_keys(seed);
    for (size_t a = 0; a < sizeof nws / sizeof nws[0]; a++) {
        stmt s[DZKB_SIGMA_MAX + 2];
        size_t n = 0;
        for (unsigned sigma = 0; sigma <= DZKB_SIGMA_MAX; sigma++)
            s[n++] = honest(&seed, nws[a] - (nws[a] > 1 && sigma % 2), sigma, (int)(sigma + a) % 2);
        s[n++] = honest(&seed, 3, 2, 1); /* a second call of one slot count */
        ck_assert_int_eq(prove_same(_i, s, n), 0);
        for (size_t i = 0; i < n; i++)
            release(&s[i]);
    }
    ck_assert_int_eq(prove_same(_i, NULL, 0), 0); /* an empty batch */
}
END_TEST

/* ---- false relations ---- */

/* which operand of one relation word a test changes */
enum { OP_X, OP_Y, OP_TP, OP_TN, NOPS };

static void flip_op(stmt *s, int op, unsigned slot, size_t w, unsigned lane)
{
    uint64_t *v[NOPS] = {s->x[slot], s->y[slot], s->tp, s->tn};
    v[op][w] ^= 1ull << lane;
}

/* a lane that the mask keeps */
static unsigned kept_lane(const stmt *s, size_t w, uint64_t *seed)
{
    uint64_t m = s->lanes ? s->lanes[w] : ~0ull;
    for (;;) {
        unsigned b = (unsigned)(dzt_rnd(seed) % 64);
        if (m >> b & 1)
            return b;
    }
}

START_TEST(one_flipped_bit_fails)
{
    uint64_t seed = 100 + (uint64_t)_i;
    dzt_make_keys(seed);
    for (int op = 0; op < NOPS; op++)
        for (int t = 0; t < 6; t++) {
            unsigned sigma = op == OP_X || op == OP_Y ? 1 + (unsigned)t % DZKB_SIGMA_MAX : (unsigned)t % 3;
            stmt s = honest(&seed, 1 + (size_t)(dzt_rnd(&seed) % 200), sigma, t % 2);
            stmt bad = copy(&s);
            size_t w = dzt_rnd(&seed) % s.nw;
            flip_op(&bad, op, (unsigned)(dzt_rnd(&seed) % (sigma ? sigma : 1)), w, kept_lane(&s, w, &seed));
            /* the verifier that holds the operand sees the changed one; for
             * x and y also the other way round (a prover's wrong witness) */
            int at_prev = op == OP_X || op == OP_TP;
            ck_assert_int_eq(prove_views(_i, &DZKB_PARAMS, at_prev ? &bad : &s, &s, at_prev ? &s : &bad, 1, NULL, 0),
                             BOTH);
            if (op == OP_X || op == OP_Y)
                ck_assert_int_eq(prove_views(_i, &DZKB_PARAMS, &s, &bad, &s, 1, NULL, 0), BOTH);
            release(&s);
            release(&bad);
        }
}
END_TEST

/* The same error in two words cancels when every word has the same weight:
 * one weight per word is what catches it. */
START_TEST(same_bit_in_two_words_fails)
{
    uint64_t seed = 200;
    dzt_make_keys(seed);
    for (int t = 0; t < 8; t++) {
        stmt s = honest(&seed, 2 + (size_t)(dzt_rnd(&seed) % 100), (unsigned)t % 3, 0);
        stmt bad = copy(&s);
        size_t w1 = dzt_rnd(&seed) % s.nw, w2 = (w1 + 1 + dzt_rnd(&seed) % (s.nw - 1)) % s.nw;
        unsigned lane = (unsigned)(dzt_rnd(&seed) % 64);
        flip_op(&bad, OP_TP, 0, w1, lane);
        flip_op(&bad, OP_TP, 0, w2, lane);
        ck_assert_int_eq(prove_views(t % 3, &DZKB_PARAMS, &bad, &bad, &s, 1, NULL, 0), BOTH);
        dzkb_params one = {1, {NULL, 0}};
        ck_assert_int_eq(prove_views(t % 3, &one, &bad, &bad, &s, 1, NULL, 0), 0);
        release(&s);
        release(&bad);
    }
}
END_TEST

/* Padding lanes carry nothing (L-4): garbage there, different at each
 * position, passes; the same garbage with every lane kept fails. */
START_TEST(masked_lanes_are_ignored)
{
    uint64_t seed = 300;
    dzt_make_keys(seed);
    for (int t = 0; t < 6; t++) {
        stmt s = honest(&seed, 1 + (size_t)(dzt_rnd(&seed) % 300), 1 + (unsigned)t % 3, 1), v[3];
        for (int p = 0; p < 3; p++) {
            v[p] = copy(&s);
            for (size_t w = 0; w < s.nw; w++) {
                uint64_t junk = ~s.lanes[w];
                for (unsigned j = 0; j < s.sigma; j++)
                    v[p].x[j][w] ^= dzt_rnd(&seed) & junk, v[p].y[j][w] ^= dzt_rnd(&seed) & junk;
                v[p].tp[w] ^= dzt_rnd(&seed) & junk, v[p].tn[w] ^= dzt_rnd(&seed) & junk;
            }
        }
        ck_assert_int_eq(prove_views(t % 3, &DZKB_PARAMS, &v[DZK_PREV], &v[DZK_PROVER], &v[DZK_NEXT], 1, NULL, 0), 0);
        int junk = 0;
        for (size_t w = 0; w < s.nw; w++)
            junk |= v[DZK_PREV].tp[w] != s.tp[w];
        for (int p = 0; p < 3; p++)
            free(v[p].lanes), v[p].lanes = NULL;
        if (junk)
            ck_assert_int_eq(prove_views(t % 3, &DZKB_PARAMS, &v[DZK_PREV], &v[DZK_PROVER], &v[DZK_NEXT], 1, NULL, 0),
                             BOTH);
        for (int p = 0; p < 3; p++)
            release(&v[p]);
        release(&s);
    }
}
END_TEST

/* ---- messages ---- */

/* Every message of the schedule, a few bits each: a prover's message or a
 * half changes what both verifiers check; a final value only its reader's
 * check. */
START_TEST(any_flipped_message_bit_fails)
{
    uint64_t seed = 400;
    dzt_make_keys(seed);
    stmt s[2] = {honest(&seed, 40, 2, 1), honest(&seed, 7, 3, 0)};
    for (int step = 1; step <= DZKB_STEPS; step++)
        for (int p = 0; p < 3; p++)
            for (int q = 0; q < 3; q++) {
                size_t len = p == q ? 0 : dzkb_len(step, (dzk_pos)p, (dzk_pos)q);
                for (int t = 0; len && t < 3; t++) {
                    flip f = {step, (dzk_pos)p, (dzk_pos)q, t == 0 ? 0 : t == 1 ? 8 * len - 1 : dzt_rnd(&seed) % (8 * len)};
                    int want = step == DZKB_STEPS ? 1 << q : BOTH;
                    ck_assert_int_eq(prove_views(step % 3, &DZKB_PARAMS, s, s, s, 2, &f, 1), want);
                }
            }
    release(&s[0]);
    release(&s[1]);
}
END_TEST

/* H-1: a prover that knows a fold's whole challenge before sending the fold
 * message makes a false claim pass; knowing prev's half alone, it fails. */
START_TEST(early_challenge_forges_only_with_both_halves)
{
    uint64_t seed = 500;
    for (int prover = 0; prover < 3; prover++) {
        dzt_make_keys(seed + (uint64_t)prover);
        stmt s = honest(&seed, 50, 2, 1), bad = copy(&s);
        flip_op(&bad, OP_TP, 0, 7, kept_lane(&s, 7, &seed)); /* prev and the prover agree on a false t_p */
        const uint8_t *chal = dzt_chal[(prover + 2) % 3];
        dzkb_params both = {0, {chal, 1u << DZK_HALF_P | 1u << DZK_HALF_N}}, p_only = {0, {chal, 1u << DZK_HALF_P}};
        ck_assert_int_eq(prove_views(prover, &both, &bad, &bad, &s, 1, NULL, 0), 0);
        ck_assert_int_eq(prove_views(prover, &p_only, &bad, &bad, &s, 1, NULL, 0), BOTH);
        ck_assert_int_eq(prove_views(prover, &p_only, &s, &s, &s, 1, NULL, 0), 0); /* nothing to forge */
        ck_assert_int_eq(prove_views(prover, &DZKB_PARAMS, &bad, &bad, &s, 1, NULL, 0), BOTH);
        release(&s);
        release(&bad);
    }
}
END_TEST

/* A message of another length than the schedule's is refused, naming its
 * sender and step. */
START_TEST(wrong_length_is_malformed)
{
    dzt_make_keys(602);
    dzk_keys k = dzt_keys_of(2, DZK_NEXT);
    dzkb *b = dzkb_new(DZK_NEXT, 2, &k, &DZKB_PARAMS);
    char err[100];
    uint8_t buf[MAXMSG] = {0};
    ck_assert_int_eq(dzkb_close(b, err, sizeof err), 0);
    ck_assert_uint_eq(dzkb_out(b, 1, DZK_PROVER, buf), 16);
    ck_assert_int_eq(dzkb_in(b, 1, DZK_PREV, buf, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "malformed proof message from party 1 (step V1)");
    ck_assert_int_eq(dzkb_in(b, 2, DZK_PROVER, buf, dzkb_len(2, DZK_PROVER, DZK_NEXT) - 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "malformed proof message from party 2 (step V2)");
    dzkb_free(b);
}
END_TEST

/* A verifier that sends its half before reading the prover's message it
 * answers is a bug: abort. */
START_TEST(half_before_message_aborts)
{
    dzt_make_keys(600);
    dzk_keys k = dzt_keys_of(1, DZK_NEXT);
    dzkb *b = dzkb_new(DZK_NEXT, 1, &k, &DZKB_PARAMS);
    char err[100];
    uint8_t buf[MAXMSG];
    ck_assert_int_eq(dzkb_close(b, err, sizeof err), 0);
    dzkb_out(b, 1, DZK_PROVER, buf);
    dzkb_out(b, 3, DZK_PROVER, buf); /* the fold 1 message of V2 was not read */
}
END_TEST

START_TEST(release_before_close_aborts)
{
    dzt_make_keys(601);
    dzk_keys k = dzt_keys_of(0, DZK_PREV);
    dzkb *b = dzkb_new(DZK_PREV, 0, &k, &DZKB_PARAMS);
    uint8_t buf[MAXMSG];
    dzkb_out(b, 1, DZK_PROVER, buf);
}
END_TEST

/* ---- carry chains ---- */

typedef struct {
    size_t n;
    unsigned width, dealt;
    uint64_t *S, *T, *P[3], *Q[3]; /* planes per view */
} chain;

static void record_chain(dzkb *b, dzk_pos pos, void *ctx)
{
    chain *c = ctx;
    dzkb_chain(b, c->n, c->width, c->dealt, pos != DZK_NEXT ? c->S : NULL, pos != DZK_PREV ? c->T : NULL,
               pos != DZK_NEXT ? c->P[pos] : NULL, pos != DZK_PREV ? c->Q[pos] : NULL);
}

/* P random, Q = P ^ the sum's bits; the same in every view; garbage in
 * the last word's padding lanes */
static chain chain_make(uint64_t *seed, size_t n, unsigned width, const uint64_t *S, const uint64_t *T)
{
    size_t nw = bits_words(n);
    chain c = {n, width, width, words(n), words(n), {NULL}, {NULL}};
    uint64_t *sum = words(n);
    for (size_t i = 0; i < n; i++)
        c.S[i] = S[i], c.T[i] = T[i], sum[i] = S[i] + T[i];
    c.P[0] = words(width * nw), c.Q[0] = words(width * nw);
    bits_pack(sum, 1, n, width, c.Q[0], nw);
    for (size_t i = 0; i < width * nw; i++) {
        uint64_t pad = (i + 1) % nw == 0 && n % 64 ? ~0ull << (n % 64) : 0;
        c.P[0][i] = dzt_rnd(seed);
        c.Q[0][i] = (c.Q[0][i] ^ c.P[0][i]) ^ (dzt_rnd(seed) & pad);
    }
    for (int p = 1; p < 3; p++)
        c.P[p] = dup_words(c.P[0], width * nw), c.Q[p] = dup_words(c.Q[0], width * nw);
    free(sum);
    return c;
}

static void chain_free(chain *c)
{
    free(c->S), free(c->T);
    for (int p = 0; p < 3; p++)
        free(c->P[p]), free(c->Q[p]);
}

/* bit j of element i of one view's P (or Q) flipped: the dealer's planes */
static int chain_flipped(int prover, chain *c, int q, unsigned j, size_t i)
{
    size_t nw = bits_words(c->n);
    uint64_t **v = q ? c->Q : c->P;
    for (int p = 0; p < 3; p++)
        v[p][j * nw + i / 64] ^= 1ull << (i % 64);
    int r = prove(prover, &DZKB_PARAMS, record_chain, c, NULL, 0);
    for (int p = 0; p < 3; p++)
        v[p][j * nw + i / 64] ^= 1ull << (i % 64);
    return r;
}

/* The chain's relations word by word through dzkb_bool, as the store
 * expands them (dzkp_bool.c: x = (S_j, S_j ^ D_j), y = (E_j, T_j) where
 * the planes are dealt, else x = S_j, y = T_j; t = D_(j+1) ^ S_j D_j on
 * each side; D_0 ^ E_0 first) */
static void record_chain_words(dzkb *b, dzk_pos pos, const chain *c)
{
    size_t nw = bits_words(c->n);
    uint64_t *v[2], *d[2], *lanes = words(nw), *t[2] = {words(nw), words(nw)}, *sd = words(nw);
    const uint64_t *V[2] = {c->S, c->T}, *pl[2] = {c->P[pos], c->Q[pos]};
    for (int k = 0; k < 2; k++) {
        v[k] = words(c->width * nw), d[k] = words(c->width * nw);
        bits_pack(V[k], 1, c->n, c->width, v[k], nw);
        for (size_t i = 0; i < c->width * nw; i++)
            d[k][i] = v[k][i] ^ pl[k][i];
    }
    for (size_t w = 0; w < nw; w++)
        lanes[w] = w + 1 < nw || c->n % 64 == 0 ? ~0ull : (1ull << (c->n % 64)) - 1;
    int hp = pos != DZK_NEXT, hn = pos != DZK_PREV;
    dzkb_bool(b, nw, 0, lanes, NULL, NULL, hp ? d[0] : NULL, hn ? d[1] : NULL);
    for (unsigned j = 0; j + 1 < c->width; j++) {
        int dealt = j < c->dealt;
        for (size_t w = 0; w < nw; w++)
            sd[w] = v[0][j * nw + w] ^ d[0][j * nw + w];
        const uint64_t *x[2] = {v[0] + j * nw, sd}, *y[2] = {dealt ? d[1] + j * nw : v[1] + j * nw, v[1] + j * nw};
        for (int k = 0; k < 2; k++)
            for (size_t w = 0; w < nw; w++)
                t[k][w] = d[k][(j + 1) * nw + w] ^ (v[k][j * nw + w] & d[k][j * nw + w]);
        dzkb_bool(b, nw, dealt ? 2 : 1, lanes, hp ? x : NULL, hn ? y : NULL, hp ? t[0] : NULL, hn ? t[1] : NULL);
    }
    for (int k = 0; k < 2; k++)
        free(v[k]), free(d[k]), free(t[k]);
    free(lanes), free(sd);
}

/* Chains among words of every slot count, in one batch: position `words`
 * records the chains word by word instead (the others as chains) */
typedef struct {
    chain c[2];
    stmt s[3];
    int words; /* a dzk_pos, or -1 */
} mixed;

static void record_mixed(dzkb *b, dzk_pos pos, void *ctx)
{
    mixed *m = ctx;
    for (int i = 0; i < 2; i++) {
        record(b, pos, &m->s[i]);
        if ((int)pos == m->words)
            record_chain_words(b, pos, &m->c[i]);
        else
            record_chain(b, pos, &m->c[i]);
    }
    record(b, pos, &m->s[2]);
}

/* The store keeps a chain as its planes and expands them in each pass:
 * the proof is the same as of the relations recorded word by word (a
 * position whose vector differed in one word would fail it), between
 * other words of the same slot counts, over chunk boundaries within and
 * across relations; a false chain or word among them fails. */
START_TEST(chains_among_words_are_their_relations)
{
    uint64_t seed = 650 + (uint64_t)_i;
    dzt_make_keys(seed);
    enum { N1 = 20000, N2 = 300 };
    uint64_t *S = words(N1), *T = words(N1);
    for (size_t i = 0; i < N1; i++) /* with _i = 1, S + T below 2^41: planes 41 and up known zero */
        S[i] = dzt_rnd(&seed) >> (_i ? 24 : 0), T[i] = dzt_rnd(&seed) >> (_i ? 24 : 0);
    mixed m = {{chain_make(&seed, N1, 64, S, T), chain_make(&seed, N2, 10, S, T)},
               {honest(&seed, 70, 3, 1), honest(&seed, 40, 1, 0), honest(&seed, 5, 3, 1)}, -1};
    if (_i) {
        size_t nw = bits_words(N1);
        m.c[0].dealt = 41;
        for (int p = 0; p < 3; p++)
            memset(m.c[0].P[p] + 41 * nw, 0, 23 * nw * 8), memset(m.c[0].Q[p] + 41 * nw, 0, 23 * nw * 8);
    }
    for (int w = -1; w < 3; w++) {
        m.words = w;
        ck_assert_int_eq(prove(_i, &DZKB_PARAMS, record_mixed, &m, NULL, 0), 0);
    }
    m.words = -1;
    m.s[2].x[1][3] ^= 1; /* a word after both chains, at every position */
    ck_assert_int_eq(prove(_i, &DZKB_PARAMS, record_mixed, &m, NULL, 0), BOTH);
    m.s[2].x[1][3] ^= 1;
    for (int p = 0; p < 3; p++) /* the second chain's plane 4 */
        m.c[1].Q[p][4 * bits_words(N2) + 2] ^= 1ull << 17;
    ck_assert_int_eq(prove(_i, &DZKB_PARAMS, record_mixed, &m, NULL, 0), BOTH);
    for (int i = 0; i < 2; i++)
        chain_free(&m.c[i]);
    for (int i = 0; i < 3; i++)
        release(&m.s[i]);
    free(S), free(T);
}
END_TEST

/* Every S, T < 2^w for w <= 10 in one batch passes; high bits random too. */
START_TEST(chain_exhaustive_honest_passes)
{
    uint64_t seed = 700;
    dzt_make_keys(seed);
    for (unsigned w = 1; w <= 10; w++) {
        size_t n = (size_t)1 << (2 * w);
        uint64_t *S = words(n), *T = words(n);
        for (size_t i = 0; i < n; i++)
            S[i] = i >> w, T[i] = i & (((size_t)1 << w) - 1);
        chain c = chain_make(&seed, n, w, S, T);
        ck_assert_int_eq(prove((int)w % 3, &DZKB_PARAMS, record_chain, &c, NULL, 0), 0);
        chain_free(&c);
        for (size_t i = 0; i < n; i++)
            S[i] = dzt_rnd(&seed), T[i] = dzt_rnd(&seed);
        c = chain_make(&seed, n - 1, w, S, T); /* a partial last word */
        ck_assert_int_eq(prove((int)w % 3, &DZKB_PARAMS, record_chain, &c, NULL, 0), 0);
        chain_free(&c);
        free(S);
        free(T);
    }
    for (unsigned w = 11; w <= 64; w += 53 / 4) {
        uint64_t S[100], T[100];
        for (int i = 0; i < 100; i++)
            S[i] = dzt_rnd(&seed), T[i] = i % 2 ? ~S[i] : dzt_rnd(&seed); /* long carries too */
        chain c = chain_make(&seed, 100, w, S, T);
        ck_assert_int_eq(prove(1, &DZKB_PARAMS, record_chain, &c, NULL, 0), 0);
        chain_free(&c);
    }
}
END_TEST

/* Every single-bit change of P or Q fails: for every S, T < 2^w and every
 * bit when w <= 4, one element per proof; for w up to 10, every bit of
 * random elements among others. */
START_TEST(chain_every_corruption_fails)
{
    uint64_t seed = 800;
    dzt_make_keys(seed);
    for (unsigned w = 1; w <= 4; w++)
        for (uint64_t s = 0; s < (1u << w); s++)
            for (uint64_t t = 0; t < (1u << w); t++) {
                chain c = chain_make(&seed, 1, w, &s, &t);
                for (unsigned j = 0; j < w; j++)
                    for (int q = 0; q < 2; q++)
                        ck_assert_int_eq(chain_flipped((int)(s + t) % 3, &c, q, j, 0), BOTH);
                chain_free(&c);
            }
    for (unsigned w = 5; w <= 10; w++) {
        enum { N = 70 };
        uint64_t S[N], T[N];
        for (int i = 0; i < N; i++)
            S[i] = dzt_rnd(&seed) >> (64 - w), T[i] = dzt_rnd(&seed) >> (64 - w);
        chain c = chain_make(&seed, N, w, S, T);
        for (unsigned j = 0; j < w; j++)
            for (int q = 0; q < 4; q++)
                ck_assert_int_eq(chain_flipped((int)j % 3, &c, q % 2, j, dzt_rnd(&seed) % N), BOTH);
        chain_free(&c);
    }
}
END_TEST

/* The planes from `dealt` up known to be zero (a range): sums below
 * 2^dealt pass, every sum with a bit at or above it fails, whatever the
 * dealt planes say (they are the sum's low bits). */
START_TEST(chain_with_zero_planes_proves_a_range)
{
    static const unsigned dealt[] = {1, 5, 8, 31, 63};
    uint64_t seed = 900;
    dzt_make_keys(seed);
    for (size_t k = 0; k < sizeof dealt / sizeof dealt[0]; k++) {
        unsigned b = dealt[k];
        enum { N = 130 };
        uint64_t S[N], T[N];
        for (int i = 0; i < N; i++) { /* S + T in [0, 2^b), S anything */
            S[i] = dzt_rnd(&seed), T[i] = (dzt_rnd(&seed) >> (64 - b)) - S[i];
            if (i == 0)
                T[i] = ((1ull << b) - 1) - S[i]; /* the top of the range */
        }
        uint64_t t7 = T[7];
        for (int out = 0; out < 3; out++) {
            /* out of range: one sum plus 2^b, or plus 2^62 (b < 62 here: bit 62 or a carry set) */
            T[7] = t7 + (out == 1 ? 1ull << b : out == 2 && b < 62 ? 1ull << 62 : 0);
            int bad = out == 1 || (out == 2 && b < 62);
            chain c = chain_make(&seed, N, 64, S, T);
            size_t nw = bits_words(N);
            c.dealt = b;
            for (int p = 0; p < 3; p++)
                memset(c.P[p] + b * nw, 0, (64 - b) * nw * 8), memset(c.Q[p] + b * nw, 0, (64 - b) * nw * 8);
            ck_assert_int_eq(prove((int)k % 3, &DZKB_PARAMS, record_chain, &c, NULL, 0), bad ? BOTH : 0);
            chain_free(&c);
        }
    }
}
END_TEST

Suite *suite_dzkp(void)
{
    Suite *s = suite_create("dzkp");
    TCase *t = tcase_create("bool");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, keys_are_separate);
    tcase_add_loop_test(t, honest_batches_pass, 0, 3);
    tcase_add_loop_test(t, one_flipped_bit_fails, 0, 3);
    tcase_add_test(t, same_bit_in_two_words_fails);
    tcase_add_loop_test(t, chains_among_words_are_their_relations, 0, 2);
    tcase_add_test(t, masked_lanes_are_ignored);
    tcase_add_test(t, any_flipped_message_bit_fails);
    tcase_add_test(t, early_challenge_forges_only_with_both_halves);
    tcase_add_test(t, wrong_length_is_malformed);
    tcase_add_test_raise_signal(t, half_before_message_aborts, SIGABRT);
    tcase_add_test_raise_signal(t, release_before_close_aborts, SIGABRT);
    suite_add_tcase(s, t);
    t = tcase_create("chain");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, chain_exhaustive_honest_passes);
    tcase_add_test(t, chain_every_corruption_fails);
    tcase_add_test(t, chain_with_zero_planes_proves_a_range);
    suite_add_tcase(s, t);
    return s;
}
