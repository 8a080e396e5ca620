/* exact: REQUANT, DIVR and REQCLAMP with TensorFlow Lite's rounding, bit
 * for bit, for any protocol, from its own TRUNC, LTZ and MUL.
 *
 * Every such rounding is one of two floors chosen by the sign:
 *   y0 = floor(W0 / 2^k), y1 = floor(W1 / 2^k), W0 = m x + off0, W1 = m x + off1,
 *   y  = y0 if y0 >= 1 else y1,  where y0 - y1 = tau is 0 or 1,
 * so y = y1 + tau [y1 >= 0] (the constants per element in proto_exact_consts below;
 * the derivation in docs/protocols.md "Exact requantization"). Stages:
 *   1. TRUNC of (W0, W1): floors or floors + 1 (2n elements)
 *   2. LTZ of W - 2^k TRUNC(W), |.| <= 2^k: the excess, so y0, y1 exact
 *   3. LTZ of z - T for the lanes T: z = y1 (+ zp), n elements a lane
 *   4. one MUL of the selected products
 * REQUANT, DIVR: one lane T = 0, y = z + tau (1 - [z < 0]).
 * REQCLAMP: lanes lo, hi + 1, hi, T3 = min(hi, max(lo, zp)) with bits b1,
 * l2, b2, b3; out = hi - D l2 + (l2 - b1)(z - lo) + (b2 - b3) tau: the
 * clamp of z, plus tau where the rounding's choice lands inside [lo, hi].
 * REQS (secret parameters, proto.h) is REQCLAMP with m = 1, off0 = 0, W1 =
 * W0 - Delta and secret zp, lo, hi, T3: the same stages with secret
 * subtractions, and D l2 a third product; without its exact flag it skips
 * stage 2 and the tie lanes (TRUNC of W0, lanes lo and hi + 1). */
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/proto/proto.h"

enum { X_TRUNC, X_EPS, X_LANES, X_MUL, X_STAGES };

/* DIVR's offset K: its input is a sum of dv values of an 8-bit dtype,
 * |x| <= 256 dv, so x + K dv > 0 and the division is of a natural number. */
#define DIVR_K 257

typedef struct {
    int sec, fast;   /* REQS; and without its exact flag */
    size_t nq;       /* REQS: channels (its parameters' Delta) */
    int ids[X_STAGES], ns; /* the stages run, in order */
    int64_t *m, *off0, *off1; /* per element (parties only) */
    int64_t *k, *negpow;      /* the shift k and -2^k, periodic */
    size_t nk;                /* their period: the shifts' or the divisors' */
    int64_t post;    /* added to y1: -K for DIVR */
    int nl;          /* lanes */
    int64_t T[4];    /* their thresholds */
    int64_t one;
    pop in[X_STAGES]; /* the inner operations */
} xplan;

typedef struct {
    xplan p;
    word *W, *Y, *E, *eps, *Z, *bits, *ma, *mb, *prod, *tau, *z;
} xstate;


/* the constants of element i */
void proto_exact_consts(const pop *op, size_t i, int64_t *m, int64_t *k, int64_t *off0, int64_t *off1)
{
    if (op->of == PK_DIVR) { /* floor(z / dv) = floor(z mu / 2^k) for 0 <= z < 2^N (Granlund-Montgomery) */
        int64_t dv = op->divisor[i % op->ndivisor], h = dv / 2;
        int N = (int)bits_len((uint64_t)(2 * DIVR_K) * (uint64_t)dv), e = (int)bits_len((uint64_t)dv - 1);
        *k = N + e;
        *m = (int64_t)((((uint64_t)1 << *k) + (uint64_t)dv - 1) / (uint64_t)dv);
        *off0 = *m * (h + DIVR_K * dv);
        *off1 = *off0 - (dv % 2 == 0 ? *m : 0); /* x < 0 rounds (x - h) / dv toward zero */
        return;
    }
    int64_t m0 = op->mult[i % op->nmult], sh = op->shift[i % op->nshift];
    int64_t left = sh > 0 ? sh : 0, right = sh > 0 ? 0 : -sh;
    *m = m0 * ((int64_t)1 << left);
    *k = 31 + right; /* SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT */
    *off0 = ((int64_t)1 << 30) + (right ? (int64_t)1 << (30 + right) : 0);
    *off1 = *off0 - (right ? (int64_t)1 << 31 : 0);
}

/* the plan: constants and inner operations (registers unset); the
 * per-element arrays only when `full` (the stages' inputs need them; steps,
 * costs and the dealer need the shifts alone, which have the period of the
 * shift or divisor operand) */
static void xplan_make(const pop *op, xplan *p, int full)
{
    size_t n = op->n;
    memset(p, 0, sizeof *p);
    p->one = 1;
    p->sec = op->kind == PK_REQS;
    p->fast = p->sec && !op->exact;
    enum proto_kind of = p->sec ? PK_REQCLAMP : op->of;
    p->nq = p->sec ? op->nb - 4 : 0;
    p->nk = p->sec ? 1 : of == PK_DIVR ? op->ndivisor : op->nshift;
    p->k = proto_alloc(p->nk * sizeof(int64_t)), p->negpow = proto_alloc(p->nk * sizeof(int64_t));
    int64_t kmax = 0, kmin = 62, m, k, o0, o1;
    for (size_t i = 0; i < p->nk; i++) {
        if (p->sec)
            k = op->kshift;
        else
            proto_exact_consts(op, i, &m, &k, &o0, &o1);
        p->k[i] = k, p->negpow[i] = -((int64_t)1 << k);
        kmax = k > kmax ? k : kmax, kmin = k < kmin ? k : kmin;
    }
    if (full && !p->sec) {
        p->m = proto_alloc(n * sizeof(int64_t));
        p->off0 = proto_alloc(n * sizeof(int64_t)), p->off1 = proto_alloc(n * sizeof(int64_t));
        for (size_t i = 0; i < n; i++)
            proto_exact_consts(op, i, &p->m[i], &k, &p->off0[i], &p->off1[i]);
    }
    uint32_t L;
    if (of == PK_REQCLAMP) {
        int64_t t3 = op->zp > op->lo ? op->zp : op->lo;
        p->nl = p->fast ? 2 : 4;
        p->T[0] = op->lo, p->T[1] = op->hi + 1, p->T[2] = op->hi, p->T[3] = t3 < op->hi ? t3 : op->hi;
        L = op->bound;
    } else {
        p->nl = 1;
        /* DIVR: |y| <= 257; REQUANT: |W| < 2^62, |y| <= 2^(62 - k) */
        L = of == PK_DIVR ? 10 : (uint32_t)(63 - kmin);
        L = L > 62 ? 62 : L;
    }
    p->post = of == PK_DIVR ? -DIVR_K : 0;
    int ids[X_STAGES] = {X_TRUNC, X_EPS, X_LANES, X_MUL}, fast_ids[3] = {X_TRUNC, X_LANES, X_MUL};
    p->ns = p->fast ? 3 : X_STAGES;
    memcpy(p->ids, p->fast ? fast_ids : ids, (size_t)p->ns * sizeof(int));
    size_t nmul = (of == PK_REQCLAMP ? 2 : 1) + (p->sec && !p->fast); /* REQS: D l2 too */
    for (int s = 0; s < p->ns; s++) {
        pop *q = &p->in[s];
        int id = p->ids[s];
        q->rot = op->rot;
        q->n = q->na = (id == X_LANES ? (size_t)p->nl : id == X_MUL ? nmul : p->fast ? 1 : 2) * n;
        q->kind = id == X_TRUNC ? PK_TRUNC : id == X_MUL ? PK_MUL : PK_LTZ;
        q->abit = id == X_MUL; /* its selectors are differences of ordered lanes, or 1 - a bit */
        q->bound = id == X_EPS ? (uint32_t)kmax + 1 : L;
    }
    p->in[0].mult = &p->one, p->in[0].nmult = 1;
    p->in[0].shift = p->k, p->in[0].nshift = p->nk;
    p->in[p->ns - 1].nb = p->in[p->ns - 1].n;
}

static void xplan_free(xplan *p) { free(p->m), free(p->k), free(p->off0), free(p->off1), free(p->negpow); }

/* the stage of a step, and the step within it */
static int xstage(const protocol *pr, const xplan *p, int *step)
{
    int s = 0;
    while (s < p->ns - 1 && *step >= pr->steps(&p->in[s]))
        *step -= pr->steps(&p->in[s++]);
    return s;
}

int proto_exact_steps(const protocol *pr, const pop *op)
{
    xplan p;
    xplan_make(op, &p, 0);
    int k = 0;
    for (int s = 0; s < p.ns; s++)
        k += pr->steps(&p.in[s]);
    xplan_free(&p);
    return k;
}

#define WS(x) ((x) * sw * sizeof(word))

/* REQS's secret parameter j after the channels' Delta: 0 zp, 1 lo, 2 hi, 3 T3 */
static const word *sparam(const pop *op, const xplan *p, size_t j, size_t sw) { return op->b + (p->nq + j) * sw; }

/* stage 1's input: W0 and W1 (REQS fast: W0 alone) */
static void x_begin(const protocol *pr, void *ps, pop *op, xstate *x, size_t sw)
{
    size_t n = op->n;
    x->W = proto_alloc(WS(2 * n)), x->Y = proto_alloc(WS(2 * n));
    if (x->p.fast) { /* a less its rounding offset's public part: TRUNC rounds */
        int64_t half = -((int64_t)1 << (op->kshift - 1));
        pr->addc(ps, x->W, op->a, &half, n, 1);
    } else if (x->p.sec) { /* W0 = a, W1 = a - Delta */
        int64_t delta;
        memcpy(x->W, op->a, WS(n));
        if (op->relu) { /* y0 alone: W1 = W0, tau = 0 */
            memcpy(x->W + n * sw, op->a, WS(n));
        } else if (proto_reqs_public_delta(op, &delta)) {
            delta = -delta;
            pr->addc(ps, x->W + n * sw, op->a, &delta, n, 1);
        } else {
            pr->sub(ps, x->W + n * sw, op->a, op->b, n, x->p.nq);
        }
    } else {
        pr->mulc(ps, x->W, op->a, x->p.m, n, n);
        pr->addc(ps, x->W + n * sw, x->W, x->p.off1, n, n);
        pr->addc(ps, x->W, x->W, x->p.off0, n, n);
    }
    x->p.in[0].a = x->W, x->p.in[0].d = x->Y;
}

/* z (y1 + zp, or y1 - K for DIVR) and the lanes z - T */
static void x_lanes(const protocol *pr, void *ps, const pop *op, xstate *x, const word *y1, size_t sw)
{
    size_t n = op->n, nl = (size_t)x->p.nl;
    x->z = proto_alloc(WS(n));
    x->Z = proto_alloc(WS(nl * n)), x->bits = proto_alloc(WS(nl * n));
    if (x->p.sec) { /* thresholds lo, hi + 1, hi, T3, secret */
        static const size_t which[4] = {1, 2, 2, 3};
        int64_t minus1 = -1;
        pr->add(ps, x->z, y1, sparam(op, &x->p, 0, sw), n, 1);
        for (size_t l = 0; l < nl; l++)
            pr->sub(ps, x->Z + l * n * sw, x->z, sparam(op, &x->p, which[l], sw), n, 1);
        pr->addc(ps, x->Z + n * sw, x->Z + n * sw, &minus1, n, 1);
        return;
    }
    int64_t c = x->p.post + (op->of == PK_REQCLAMP ? op->zp : 0);
    pr->addc(ps, x->z, y1, &c, n, 1);
    for (size_t l = 0; l < nl; l++) {
        int64_t t = -x->p.T[l];
        pr->addc(ps, x->Z + l * n * sw, x->z, &t, n, 1);
    }
}

/* REQS: z - lo into d, and D = hi - lo for every element into dd */
static void x_secret_spans(const protocol *pr, void *ps, const pop *op, xstate *x, word *d, word *dd, size_t sw)
{
    size_t n = op->n;
    int64_t zero = 0;
    pr->sub(ps, d, x->z, sparam(op, &x->p, 1, sw), n, 1);
    pr->fillc(ps, dd, &zero, n, 1);
    pr->add(ps, dd, dd, sparam(op, &x->p, 2, sw), n, 1);
    pr->sub(ps, dd, dd, sparam(op, &x->p, 1, sw), n, 1);
}

/* the input of stage s from the results of the ones before */
static void x_glue(const protocol *pr, void *ps, const pop *op, xstate *x, int s, size_t sw)
{
    size_t n = op->n;
    pop *q = &x->p.in[s];
    int id = x->p.ids[s];
    if (id == X_EPS) { /* W - 2^k Y */
        x->E = proto_alloc(WS(2 * n)), x->eps = proto_alloc(WS(2 * n));
        pr->mulc(ps, x->E, x->Y, x->p.negpow, 2 * n, x->p.nk);
        pr->add(ps, x->E, x->E, x->W, 2 * n, 2 * n);
        q->a = x->E, q->d = x->eps;
    } else if (id == X_LANES) { /* y0, y1 exact (but for REQS fast); tau, z and z - T */
        if (!x->p.fast) {
            pr->sub(ps, x->Y, x->Y, x->eps, 2 * n, 2 * n);
            x->tau = proto_alloc(WS(n));
            pr->sub(ps, x->tau, x->Y, x->Y + n * sw, n, n);
        }
        x_lanes(pr, ps, op, x, x->p.fast ? x->Y : x->Y + n * sw, sw);
        q->a = x->Z, q->d = x->bits;
    } else if (id == X_MUL) {
        size_t mn = q->n;
        x->ma = proto_alloc(WS(mn)), x->mb = proto_alloc(WS(mn)), x->prod = proto_alloc(WS(mn));
        word *b = x->bits;
        if (x->p.sec || op->of == PK_REQCLAMP) { /* (l2 - b1, b2 - b3[, l2]) times (z - lo, tau[, D]) */
            int64_t nlo = -op->lo;
            pr->sub(ps, x->ma, b + n * sw, b, n, n);
            if (x->p.sec)
                x_secret_spans(pr, ps, op, x, x->mb, x->mb + (mn - n) * sw, sw);
            else
                pr->addc(ps, x->mb, x->z, &nlo, n, 1);
            if (!x->p.fast) {
                pr->sub(ps, x->ma + n * sw, b + 2 * n * sw, b + 3 * n * sw, n, n);
                memcpy(x->mb + n * sw, x->tau, WS(n));
            }
            if (x->p.sec)
                memcpy(x->ma + (mn - n) * sw, b + n * sw, WS(n));
        } else { /* (1 - [z < 0]) tau */
            pr->fillc(ps, x->ma, &x->p.one, n, 1);
            pr->sub(ps, x->ma, x->ma, b, n, n);
            memcpy(x->mb, x->tau, WS(n));
        }
        q->a = x->ma, q->b = x->mb, q->d = x->prod;
    }
}

static void x_end(const protocol *pr, void *ps, pop *op, xstate *x, size_t sw)
{
    size_t n = op->n, mn = x->p.in[x->p.ns - 1].n;
    if (x->p.sec) { /* hi - D l2 + the products */
        pr->sub(ps, op->d, x->prod, x->prod + (mn - n) * sw, n, n);
        if (!x->p.fast)
            pr->add(ps, op->d, op->d, x->prod + n * sw, n, n);
        pr->add(ps, op->d, op->d, sparam(op, &x->p, 2, sw), n, 1);
    } else if (op->of == PK_REQCLAMP) {
        int64_t negD = op->lo - op->hi, hi = op->hi;
        pr->mulc(ps, op->d, x->bits + n * sw, &negD, n, 1);
        pr->add(ps, op->d, op->d, x->prod, n, n);
        pr->add(ps, op->d, op->d, x->prod + n * sw, n, n);
        pr->addc(ps, op->d, op->d, &hi, n, 1);
    } else {
        pr->add(ps, op->d, x->z, x->prod, n, n);
    }
    xplan_free(&x->p);
    free(x->W), free(x->Y), free(x->E), free(x->eps), free(x->Z), free(x->bits);
    free(x->ma), free(x->mb), free(x->prod), free(x->tau), free(x->z);
    free(x);
    op->state = NULL;
}

int proto_exact_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    size_t sw = (size_t)pr->share_words;
    if (step == 0) {
        xstate *x = proto_zalloc(sizeof *x);
        op->state = x;
        xplan_make(op, &x->p, 1);
        x_begin(pr, ps, op, x, sw);
    }
    xstate *x = op->state;
    int t = step, s = xstage(pr, &x->p, &t);
    if (t == 0 && s > 0)
        x_glue(pr, ps, op, x, s, sw);
    return pr->prepare(ps, &x->p.in[s], t, err, errlen);
}

int proto_exact_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    xstate *x = op->state;
    int t = step, s = xstage(pr, &x->p, &t);
    if (pr->finish(ps, &x->p.in[s], t, err, errlen) != 0)
        return -1;
    if (s == x->p.ns - 1 && t + 1 == pr->steps(&x->p.in[s]))
        x_end(pr, ps, op, x, (size_t)pr->share_words);
    return 0;
}

void proto_cost_add(proto_cost *acc, const proto_cost *part)
{
    acc->rounds += part->rounds;
    acc->opened += part->opened;
    for (int j = 0; j < PROTO_MAX_PARTIES; j++)
        acc->bytes[j] += part->bytes[j], acc->pre[j] += part->pre[j];
    acc->triples += part->triples, acc->dot_triples += part->dot_triples;
    acc->bits += part->bits, acc->trunc_pairs += part->trunc_pairs;
}

void proto_exact_cost(const protocol *pr, const pop *op, int nparties, proto_cost *acc)
{
    xplan p;
    xplan_make(op, &p, 0);
    uint64_t rounds = 0;
    for (int s = 0; s < p.ns; s++) {
        proto_cost c;
        memset(&c, 0, sizeof c);
        pr->cost(&p.in[s], nparties, &c);
        rounds += c.rounds;
        proto_cost_add(acc, &c);
    }
    acc->rounds = rounds;
    xplan_free(&p);
}

/* the dealer's inner operation at a step: the plan's, with its shifts */
void proto_exact_deal(const protocol *pr, void *ps, const pop *op, int step)
{
    xplan p;
    xplan_make(op, &p, 0);
    int s = xstage(pr, &p, &step);
    pr->deal(ps, &p.in[s], step);
    xplan_free(&p);
}

void proto_exact_prep_cost(const protocol *pr, const pop *op, int step, int nparties, proto_cost *acc)
{
    xplan p;
    xplan_make(op, &p, 0);
    int s = xstage(pr, &p, &step);
    pr->prep_cost(&p.in[s], step, nparties, acc);
    xplan_free(&p);
}
