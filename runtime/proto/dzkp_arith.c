/* dzkp_arith: the ring proof, exact over Z and F_p (see dzkp_arith.h). */
#include "runtime/proto/dzkp_arith.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/fp192.h"
#include "runtime/core/kara.h"
#include "runtime/core/kernels.h"
#include "runtime/core/wdot.h"
#include "runtime/net/prg.h"

__extension__ typedef unsigned __int128 u128;

const dzka_params DZKA_PARAMS = {DZKA_KAPPA, {NULL, 0}};

enum {
    K1 = 8, /* the first fold's factor: U is F_p, B still 64-bit words */
    STEP_QBITS = 2,
    STEP_SIGMA2 = 3,
    STEP_FOLD1 = 4,
    STEP_FINAL = 6 + 2 * DZKA_FOLDS,
    QBITS = DZKA_KAPPA * DZKA_QBITS, /* bit s * DZKA_QBITS + j is bit j of Q'_s */
    QBYTES = QBITS / 8,
    CHUNK = 1024, /* fold-1 vector elements per kernel call, a multiple of K1 */
    SCHUNK = 256, /* statements per draw of membership words */
};

/* ---- F_p as a dzk_field ----
 * The folds' sums of products are formed unreduced: a product of two
 * three-word values (elements, or the first fold's folded values below) is
 * below 2^384, and seven words hold fewer than 2^64 of them (a fold sums
 * at most 16 n < 2^40). */

typedef struct {
    uint64_t w[7];
} fp_wide;

/* acc += a b: the six-word product row by row (each step's sum
 * x_i y_j + r + c is below 2^128), then added into the seven words with
 * explicit carries (fp_addc: gcc's code for the column sums in 128 bits
 * spilled and ran at half the speed) */
static inline void wide_mac(fp_wide *acc, const fp *a, const fp *b)
{
    const uint64_t *x = a->w, *y = b->w;
    uint64_t r[6], c;
    u128 t = (u128)x[0] * y[0];
    r[0] = (uint64_t)t, c = (uint64_t)(t >> 64);
    t = (u128)x[0] * y[1] + c;
    r[1] = (uint64_t)t, c = (uint64_t)(t >> 64);
    t = (u128)x[0] * y[2] + c;
    r[2] = (uint64_t)t, r[3] = (uint64_t)(t >> 64);
    t = (u128)x[1] * y[0] + r[1];
    r[1] = (uint64_t)t, c = (uint64_t)(t >> 64);
    t = (u128)x[1] * y[1] + r[2] + c;
    r[2] = (uint64_t)t, c = (uint64_t)(t >> 64);
    t = (u128)x[1] * y[2] + r[3] + c;
    r[3] = (uint64_t)t, r[4] = (uint64_t)(t >> 64);
    t = (u128)x[2] * y[0] + r[2];
    r[2] = (uint64_t)t, c = (uint64_t)(t >> 64);
    t = (u128)x[2] * y[1] + r[3] + c;
    r[3] = (uint64_t)t, c = (uint64_t)(t >> 64);
    t = (u128)x[2] * y[2] + r[4] + c;
    r[4] = (uint64_t)t, r[5] = (uint64_t)(t >> 64);
    uint64_t *w = acc->w;
    unsigned char k = fp_addc(0, w[0], r[0], &w[0]);
    k = fp_addc(k, w[1], r[1], &w[1]);
    k = fp_addc(k, w[2], r[2], &w[2]);
    k = fp_addc(k, w[3], r[3], &w[3]);
    k = fp_addc(k, w[4], r[4], &w[4]);
    k = fp_addc(k, w[5], r[5], &w[5]);
    w[6] += k;
}

/* acc += a w for a word w: wide_mac's columns with b = (w, 0, 0) */
static inline void wide_mac_u64(fp_wide *acc, const fp *a, uint64_t w)
{
    u128 p0 = (u128)a->w[0] * w, p1 = (u128)a->w[1] * w, p2 = (u128)a->w[2] * w;
    u128 t = (u128)acc->w[0] + (uint64_t)p0;
    acc->w[0] = (uint64_t)t;
    t = (t >> 64) + acc->w[1] + (uint64_t)(p0 >> 64) + (uint64_t)p1;
    acc->w[1] = (uint64_t)t;
    t = (t >> 64) + acc->w[2] + (uint64_t)(p1 >> 64) + (uint64_t)p2;
    acc->w[2] = (uint64_t)t;
    t = (t >> 64) + acc->w[3] + (uint64_t)(p2 >> 64);
    acc->w[3] = (uint64_t)t;
    for (int k = 4; k < 7 && (t >> 64); k++) {
        t = (t >> 64) + acc->w[k];
        acc->w[k] = (uint64_t)t;
    }
}

/* 2^320 = 2^128 + 2^64 + 1 and 2^384 = 2^128 + 2^65 + 1 (mod p): words 5
 * and 6 fold into words 0..2, adding less than 2^194. A carry out of 2^320
 * folds once more; the five words are then below 2^194, so that cannot
 * carry again, and fp_acc reduces five words. */
static void wide_reduce(fp *r, const fp_wide *a)
{
    const uint64_t *c = a->w;
    fp_acc x;
    u128 t = (u128)c[0] + c[5] + c[6];
    x.w[0] = (uint64_t)t;
    t = (t >> 64) + c[1] + c[5] + ((u128)c[6] << 1);
    x.w[1] = (uint64_t)t;
    t = (t >> 64) + c[2] + c[5] + c[6];
    x.w[2] = (uint64_t)t;
    t = (t >> 64) + c[3];
    x.w[3] = (uint64_t)t;
    t = (t >> 64) + c[4];
    x.w[4] = (uint64_t)t;
    uint64_t carry = (uint64_t)(t >> 64);
    t = 0;
    for (int i = 0; i < 5; i++) {
        t = (t >> 64) + x.w[i] + (i < 3 ? carry : 0);
        x.w[i] = (uint64_t)t;
    }
    fp_acc_reduce(r, &x);
}

/* ---- the first fold's bulk arithmetic ----
 * Its vector's U elements and the weights w_v are kept as three words
 * congruent to the value mod p, below 2^192 but not always below p: every
 * use multiplies them into an unreduced sum, whose bounds hold for any
 * three words. */

/* x < 2^256 into three words: 2^192 = 2^64 + 1 (mod p) folds word 3 into
 * words 0 and 1; a carry out of 2^192 folds once more, and what is left is
 * then below 2^130, so it cannot carry again. */
static inline void fold4(fp *r, const uint64_t x[4])
{
    u128 t = (u128)x[0] + x[3];
    r->w[0] = (uint64_t)t;
    t = (t >> 64) + x[1] + x[3];
    r->w[1] = (uint64_t)t;
    t = (t >> 64) + x[2];
    r->w[2] = (uint64_t)t;
    uint64_t c = (uint64_t)(t >> 64);
    t = (u128)r->w[0] + c;
    r->w[0] = (uint64_t)t;
    t = (t >> 64) + r->w[1] + c;
    r->w[1] = (uint64_t)t;
    r->w[2] += (uint64_t)(t >> 64);
}

/* x < 2^320 (an fp_acc) into three words: 2^256 = 2^128 + 2^64 (mod p)
 * folds word 4 into words 1 and 2, a carry out of 2^256 likewise once more
 * (what is left is then below 2^194, so it cannot carry again), and fold4
 * does the rest. */
static inline void fold5(fp *r, const fp_acc *a)
{
    uint64_t x[4];
    u128 t = (u128)a->w[1] + a->w[4];
    x[0] = a->w[0];
    x[1] = (uint64_t)t;
    t = (t >> 64) + a->w[2] + a->w[4];
    x[2] = (uint64_t)t;
    t = (t >> 64) + a->w[3];
    x[3] = (uint64_t)t;
    uint64_t c = (uint64_t)(t >> 64);
    t = (u128)x[1] + c;
    x[1] = (uint64_t)t;
    t = (t >> 64) + x[2] + c;
    x[2] = (uint64_t)t;
    x[3] += (uint64_t)(t >> 64);
    fold4(r, x);
}

/* r = a v, folded */
static inline void mul_fold(fp *r, const fp *a, uint64_t v)
{
    uint64_t x[4];
    u128 t = (u128)a->w[0] * v;
    x[0] = (uint64_t)t;
    t = (u128)a->w[1] * v + (uint64_t)(t >> 64);
    x[1] = (uint64_t)t;
    t = (u128)a->w[2] * v + (uint64_t)(t >> 64);
    x[2] = (uint64_t)t, x[3] = (uint64_t)(t >> 64);
    fold4(r, x);
}

static const uint64_t fp_one[3] = {1, 0, 0};
static int f_decode(uint64_t *e, const uint8_t *b) { return fp_from_bytes((fp *)e, b); }
static void f_encode(uint8_t *b, const uint64_t *e) { fp_to_bytes(b, (const fp *)e); }
static void f_add(uint64_t *r, const uint64_t *a, const uint64_t *b) { fp_add((fp *)r, (const fp *)a, (const fp *)b); }
static void f_sub(uint64_t *r, const uint64_t *a, const uint64_t *b) { fp_sub((fp *)r, (const fp *)a, (const fp *)b); }
static void f_mul(uint64_t *r, const uint64_t *a, const uint64_t *b) { fp_mul((fp *)r, (const fp *)a, (const fp *)b); }

/* r = a + b as three words congruent mod p (wide_mac takes any three
 * words): a carry out of 2^192 is worth 2^64 + 1; folding it in can carry
 * once more, and then leaves at most 2^64, so the second fold cannot */
static inline void fold_add(fp *r, const fp *a, const fp *b)
{
    uint64_t *w = r->w;
    unsigned char c = fp_addc(0, a->w[0], b->w[0], &w[0]);
    c = fp_addc(c, a->w[1], b->w[1], &w[1]);
    c = fp_addc(c, a->w[2], b->w[2], &w[2]);
    for (int fold = 0; fold < 2; fold++) {
        uint64_t m = c;
        c = fp_addc(0, w[0], m, &w[0]);
        c = fp_addc(c, w[1], m, &w[1]);
        c = fp_addc(c, w[2], 0, &w[2]);
    }
}

/* H[j + k - 1 - i] sums U_j B_i over the groups: the product of U's
 * polynomial and B's reversed one, by Karatsuba (kara.h) where k is a power
 * of two and there is more than one group to repay the join */
static void f_poly(uint64_t *H, const uint64_t *U, const uint64_t *B, size_t groups, unsigned k)
{
    const fp *u = (const fp *)U, *b = (const fp *)B;
    kara_plan p;
    dzk_need(k <= DZK_MAX_K);
    if (groups < 2 || !kara_plan_for(&p, k)) {
        fp_wide acc[2 * DZK_MAX_K - 1];
        memset(acc, 0, (2 * k - 1) * sizeof *acc);
        for (size_t l = 0; l < groups; l++, u += k, b += k)
            for (unsigned j = 0; j < k; j++)
                for (unsigned i = 0; i < k; i++)
                    wide_mac(&acc[j - i + k - 1], &u[j], &b[i]);
        for (unsigned m = 0; m < 2 * k - 1; m++)
            wide_reduce((fp *)H + m, &acc[m]);
        return;
    }
    fp *su = malloc(3 * p.nslot * sizeof *su);
    fp_wide *acc = calloc(p.nslot, sizeof *acc);
    dzk_need(su && acc);
    fp *sb = su + p.nslot, *P = sb + p.nslot;
    for (size_t l = 0; l < groups; l++, u += k, b += k) {
        for (unsigned j = 0; j < k; j++)
            su[j] = u[j], sb[j] = b[k - 1 - j];
        for (unsigned a = 0; a < p.nslot - k; a++) {
            const kara_add *d = &p.add[a];
            fold_add(&su[d->dst], &su[d->a], &su[d->b]);
            fold_add(&sb[d->dst], &sb[d->a], &sb[d->b]);
        }
        for (unsigned s = 0; s < p.nslot; s++)
            wide_mac(&acc[s], &su[s], &sb[s]);
    }
    for (unsigned s = 0; s < p.nslot; s++)
        wide_reduce(&P[s], &acc[s]);
    kara_join(&p, 3, f_add, f_sub, (const uint64_t *)P, H);
    free(acc), free(su);
}

/* out[l] is written after group l (at lk >= l) is read, so out may be V */
static void f_eval(uint64_t *out, const uint64_t *V, size_t groups, unsigned k, const uint64_t *pw)
{
    const fp *v = (const fp *)V, *p = (const fp *)pw;
    for (size_t l = 0; l < groups; l++) {
        fp_wide acc = {{0}};
        for (unsigned j = 0; j < k; j++)
            wide_mac(&acc, &v[l * k + j], &p[j]);
        wide_reduce((fp *)out + l, &acc);
    }
}

const dzk_field dzka_fp = {3, fp_one, f_decode, f_encode, f_add, f_sub, f_mul, f_poly, f_eval};

/* ---- the statement store ----
 * in blocks that recording fills in turn and never moves (a growing array
 * would copy and first-touch its pages again at every doubling, as proof
 * B's store found): BLOCK terms each, or a longer statement alone, so that
 * a statement never straddles two blocks. */

enum { BLOCK = 1 << 16, MIN_BLOCK = BLOCK / 16 }; /* a new block's terms: a record's, between these */

typedef struct conv_rec conv_rec;

typedef struct {
    size_t n; /* statements of length m, consecutive; or a convolution's outputs */
    uint32_t m;
    conv_rec *cv; /* a convolution (m = 0): its own arrays */
} run;

/* a dzka_conv_def, copied: sizes of x, w and the outputs */
struct conv_rec {
    dzka_conv_def d;
    size_t nx, nw, n;
    uint64_t *arr[6]; /* the copies d points into */
};

typedef struct {
    size_t cap, terms, stmts;  /* room for cap terms (and statements, m >= 1) */
    uint64_t *a, *b, *tp, *tn; /* NULL where not kept */
    run *runs;
    size_t nruns, runs_cap;
} block;

/* A chunk of the first fold's vector as its kernels read it: groups * K1
 * elements, element x as U_x = wt[wi[x]] A[x] (A, wt at the positions
 * that build U) and B_x (B at those that build B). The prover keeps its
 * chunks from the fold polynomial (V4) to the fold by r_1 (V6), so that
 * it builds the vector once, not twice: the build walks every
 * convolution for corr and convT, the proof's largest cost. */
typedef struct chunk {
    struct chunk *next;
    size_t groups;
    const uint64_t *A, *B;
    const uint16_t *wi;
    const fp *wt;
} chunk;

struct dzka {
    dzk *d;
    dzk_pos pos;
    int prover;
    const dzka_params *prm;
    int ha, hb; /* keeps a and t_p (the prover, prev); b and t_n (the prover, next) */
    block *blocks;
    size_t nblocks;
    unsigned long long terms; /* the vector's elements */
    unsigned long long prods; /* M: products, which bound the quotients */
    int closed, last_out, have_sigma1;
    chunk *kept; /* the prover's vector, V4 to V6 */
    uint8_t sigma1[DZK_SEED], sigma2[DZK_SEED];
    uint8_t qp[QBYTES], qn[QBYTES]; /* the quotient bits' shares: prev qp, next qn, the prover both */
};

dzka *dzka_new(dzk_pos pos, int prover, const dzk_keys *keys, const dzka_params *prm)
{
    dzk_need(prm->kappa >= 1 && prm->kappa <= DZKA_KAPPA);
    dzka *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->pos = pos, z->prover = prover, z->prm = prm;
    z->d = dzk_new(&dzka_fp, pos, prover, DZK_PROOF_ARITH, keys, prm->cheat.chal ? &prm->cheat : NULL);
    if (!z->d) {
        free(z);
        return NULL;
    }
    z->ha = pos != DZK_NEXT;
    z->hb = pos != DZK_PREV;
    return z;
}

static void free_block(block *q)
{
    for (size_t r = 0; r < q->nruns; r++)
        if (q->runs[r].cv) {
            for (int i = 0; i < 6; i++)
                free(q->runs[r].cv->arr[i]);
            free(q->runs[r].cv);
        }
    free(q->a), free(q->b), free(q->tp), free(q->tn), free(q->runs);
    *q = (block){0};
}

static void free_store(dzka *z)
{
    for (size_t k = 0; k < z->nblocks; k++)
        free_block(&z->blocks[k]);
    free(z->blocks);
    z->blocks = NULL, z->nblocks = 0;
}

static void free_kept(dzka *z)
{
    for (chunk *k = z->kept, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    z->kept = NULL;
}

void dzka_free(dzka *z)
{
    if (!z)
        return;
    free_store(z);
    free_kept(z);
    dzk_free(z->d);
    free(z);
}

static void *resize(void *p, size_t n, size_t size)
{
    p = realloc(p, n * size);
    dzk_need(p != NULL); /* out of memory: the recorder has no way to fail */
    return p;
}

static uint64_t *words(int held, size_t n) { return held ? resize(NULL, n, sizeof(uint64_t)) : NULL; }

static void add_run(block *q, run r)
{
    if (q->nruns == q->runs_cap)
        q->runs = resize(q->runs, q->runs_cap = q->runs_cap ? 2 * q->runs_cap : 4, sizeof *q->runs);
    q->runs[q->nruns++] = r;
}

/* a new last block, empty */
static block *add_block(dzka *z)
{
    if (!(z->nblocks & (z->nblocks - 1))) /* the index doubles at powers of two */
        z->blocks = resize(z->blocks, z->nblocks ? 2 * z->nblocks : 1, sizeof *z->blocks);
    block *q = &z->blocks[z->nblocks++];
    *q = (block){0};
    return q;
}

/* the block that takes the next statement of m terms, of want terms in
 * all: a new one sized to want (within MIN_BLOCK..BLOCK, at least m), so
 * that records between taken blocks leave little room unused */
static block *open_block(dzka *z, uint32_t m, size_t want)
{
    if (z->nblocks && z->blocks[z->nblocks - 1].cap - z->blocks[z->nblocks - 1].terms >= m)
        return &z->blocks[z->nblocks - 1];
    block *q = add_block(z);
    size_t cap = want > BLOCK ? BLOCK : want < MIN_BLOCK ? MIN_BLOCK : want;
    cap = cap > m ? cap : m;
    *q = (block){cap, 0, 0, words(z->ha, cap), words(z->hb, cap), words(z->ha, cap), words(z->hb, cap), NULL, 0, 0};
    return q;
}

void dzka_arith(dzka *z, size_t n, uint32_t m, const uint64_t *a, const uint64_t *b, const uint64_t *tp,
                const uint64_t *tn)
{
    dzk_need(!z->closed && m >= 1 && (!z->ha || (a && tp)) && (!z->hb || (b && tn)));
    for (size_t done = 0, k; done < n; done += k) {
        block *q = open_block(z, m, (n - done) * m);
        k = (q->cap - q->terms) / m;
        k = k < n - done ? k : n - done;
        if (z->ha) {
            memcpy(q->a + q->terms, a + done * m, k * m * sizeof *a);
            memcpy(q->tp + q->stmts, tp + done, k * sizeof *tp);
        }
        if (z->hb) {
            memcpy(q->b + q->terms, b + done * m, k * m * sizeof *b);
            memcpy(q->tn + q->stmts, tn + done, k * sizeof *tn);
        }
        if (q->nruns && q->runs[q->nruns - 1].m == m)
            q->runs[q->nruns - 1].n += k;
        else
            add_run(q, (run){k, m, NULL});
        q->terms += k * m, q->stmts += k;
        z->terms += k * m, z->prods += k * m;
    }
}

void dzka_arith_take(dzka *z, size_t n, uint32_t m, uint64_t *a, uint64_t *b, uint64_t *tp, uint64_t *tn)
{
    if (!z->ha)
        free(a), free(tp), a = tp = NULL;
    if (!z->hb)
        free(b), free(tn), b = tn = NULL;
    if (n * m < BLOCK) { /* a block of its own would waste the rest of one */
        dzka_arith(z, n, m, a, b, tp, tn);
        free(a), free(b), free(tp), free(tn);
        return;
    }
    dzk_need(!z->closed && m >= 1 && (!z->ha || (a && tp)) && (!z->hb || (b && tn)));
    block *q = add_block(z);
    *q = (block){n * m, n * m, n, a, b, tp, tn, NULL, 0, 0};
    add_run(q, (run){n, m, NULL});
    z->terms += n * m, z->prods += n * m;
}

static uint64_t *copy_held(int held, const uint64_t *v, size_t n)
{
    uint64_t *c = words(held && n, n);
    if (c)
        memcpy(c, v, n * sizeof *v);
    return c;
}

void dzka_conv(dzka *z, const dzka_conv_def *d)
{
    unsigned t = d->terms;
    dzk_need(!z->closed && (t & (DZKA_AWB | DZKA_BWA)) && t <= (DZKA_AWB | DZKA_BWA | DZKA_AWA));
    conv_rec *cv = calloc(1, sizeof *cv);
    dzk_need(cv != NULL);
    const geom *g = &d->g;
    size_t taps = (size_t)g->kh * g->kw, och = d->depthwise ? (size_t)g->c * d->oc : d->oc;
    cv->d = *d;
    cv->nx = (size_t)g->h * g->w * g->c;
    cv->nw = taps * och * (d->depthwise ? 1 : g->c);
    cv->n = (size_t)g->oh * g->ow * och;
    const uint64_t *src[6] = {d->xa, d->wa, d->tp, d->xb, d->wb, d->tn};
    size_t len[6] = {cv->nx, cv->nw, cv->n, cv->nx, cv->nw, cv->n};
    int read[6] = {(t & (DZKA_AWB | DZKA_AWA)) != 0, (t & (DZKA_BWA | DZKA_AWA)) != 0, 1, (t & DZKA_BWA) != 0,
                   (t & DZKA_AWB) != 0, 1}; /* what the named products read */
    uint64_t **a = cv->arr;
    for (int i = 0; i < 6; i++) { /* prev's three, then next's */
        int held = (i < 3 ? z->ha : z->hb) && read[i];
        dzk_need(!held || src[i]);
        a[i] = copy_held(held, src[i], len[i]);
    }
    cv->d.xa = a[0], cv->d.wa = a[1], cv->d.tp = a[2], cv->d.xb = a[3], cv->d.wb = a[4], cv->d.tn = a[5];
    add_run(open_block(z, 0, 0), (run){cv->n, 0, cv});
    z->terms += (t & DZKA_AWB ? cv->nw : 0) + (t & DZKA_BWA ? cv->nx : 0);
    z->prods += cv->n * taps * (d->depthwise ? 1 : g->c) * ((t & 1) + (t >> 1 & 1) + (t >> 2 & 1));
}

int dzka_fits(unsigned long long terms, unsigned long long prods, char *err, size_t errlen)
{
    if (terms > DZKA_MAX_TERMS)
        snprintf(err, errlen, "batch of %llu arith terms is too long for the fold schedule (at most %llu)", terms,
                 DZKA_MAX_TERMS);
    else if (prods > DZKA_MAX_PRODS)
        snprintf(err, errlen, "batch of %llu arith products is too large for one verification (at most %llu)",
                 prods, DZKA_MAX_PRODS);
    else
        return 0;
    return -1;
}

int dzka_close(dzka *z, char *err, size_t errlen)
{
    if (dzka_fits(z->terms, z->prods, err, errlen))
        return -1;
    z->closed = 1;
    dzk_close(z->d);
    return 0;
}

/* ---- passes over the statements with their membership words ----
 * mu is one AES-CTR stream under a key from sigma_1, a word per statement
 * in recording order keeping its low kappa bits, so every position gives a
 * statement the same word. */

typedef struct {
    size_t n; /* statements, at most SCHUNK, of length m */
    uint32_t m;
    const uint64_t *a, *b, *tp, *tn; /* theirs, NULL where not kept */
    uint64_t mu[SCHUNK];
} span;

typedef void span_fn(const span *sp, void *ctx);
/* a convolution with the membership words of its n outputs */
typedef void conv_fn(const conv_rec *cv, const uint64_t *mu, void *ctx);

static void conv_span(prg *g, uint64_t keep, const conv_rec *cv, conv_fn *fc, void *ctx)
{
    uint64_t *mu = resize(NULL, cv->n, sizeof *mu);
    prg_fill(g, mu, cv->n * sizeof *mu);
    for (size_t j = 0; j < cv->n; j++)
        mu[j] &= keep;
    fc(cv, mu, ctx);
    free(mu);
}

/* run r of block q, which starts at its term x and statement v */
static void term_spans(const block *q, const run *r, size_t x, size_t v, prg *g, uint64_t keep, span_fn *fn,
                       void *ctx)
{
    span sp;
    sp.m = r->m;
    for (size_t i = 0; i < r->n; i += sp.n, x += sp.n * sp.m, v += sp.n) {
        sp.n = r->n - i < SCHUNK ? r->n - i : SCHUNK;
        sp.a = q->a ? q->a + x : NULL, sp.tp = q->tp ? q->tp + v : NULL;
        sp.b = q->b ? q->b + x : NULL, sp.tn = q->tn ? q->tn + v : NULL;
        prg_fill(g, sp.mu, sp.n * sizeof *sp.mu);
        for (size_t j = 0; j < sp.n; j++)
            sp.mu[j] &= keep;
        fn(&sp, ctx);
    }
}

/* drop: each block is freed once read (the prover's build at V4, which
 * keeps the vector instead), so the store and the kept vector are not both
 * whole at once */
static void each_span(dzka *z, int drop, span_fn *fn, conv_fn *fc, void *ctx)
{
    dzk_need(z->have_sigma1);
    uint8_t key[16];
    dzk_seed_key(z->sigma1, z->prover, DZK_PROOF_ARITH, DZK_SUBSET, key);
    prg *g = prg_new(key);
    dzk_need(g != NULL);
    uint64_t keep = z->prm->kappa == 64 ? ~0ull : (1ull << z->prm->kappa) - 1;
    for (size_t k = 0; k < z->nblocks; k++) {
        const block *q = &z->blocks[k];
        size_t x = 0, v = 0; /* the run's first term and statement in the block */
        for (size_t r = 0; r < q->nruns; r++) {
            const run *rn = &q->runs[r];
            if (rn->cv) {
                conv_span(g, keep, rn->cv, fc, ctx);
                continue;
            }
            term_spans(q, rn, x, v, g, keep, fn, ctx);
            x += rn->n * rn->m, v += rn->n;
        }
        if (drop)
            free_block(&z->blocks[k]);
    }
    prg_free(g);
}

/* ---- a convolution's products ----
 * Every product x[xi] w[wi] of output oi, in rows of len: (oi + k oinc,
 * wi + k, xi + k xinc) for k < len, in kernels.c's order of taps. */
typedef void row_fn(void *ctx, size_t oi, size_t oinc, size_t wi, size_t xi, size_t xinc, size_t len);

static void conv_walk_rows(const conv_rec *cv, row_fn *fn, void *ctx, uint32_t oy0, uint32_t oy1)
{
    const geom *g = &cv->d.g;
    size_t m = cv->d.oc, cm = (size_t)g->c * m;
    for (uint32_t oy = oy0; oy < oy1; oy++)
        for (uint32_t ox = 0; ox < g->ow; ox++)
            for (uint32_t ky = 0; ky < g->kh; ky++) {
                int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh);
                for (uint32_t kx = 0; iy >= 0 && iy < g->h && kx < g->kw; kx++) {
                    int64_t ix = geom_in(ox, g->sw, g->pl, kx, g->dw);
                    if (ix < 0 || ix >= g->w)
                        continue;
                    size_t xb = ((size_t)iy * g->w + (size_t)ix) * g->c, tap = (size_t)ky * g->kw + kx;
                    size_t ob = ((size_t)oy * g->ow + ox) * (cv->d.depthwise ? cm : m);
                    if (!cv->d.depthwise)
                        for (size_t o = 0; o < m; o++)
                            fn(ctx, ob + o, 0, (o * g->kh * g->kw + tap) * g->c, xb, 1, g->c);
                    else if (m == 1)
                        fn(ctx, ob, 1, tap * cm, xb, 1, cm);
                    else
                        for (size_t ch = 0; ch < cm; ch++)
                            fn(ctx, ob + ch, 0, tap * cm + ch, xb + ch / m, 0, 1);
                }
            }
}

static void conv_walk(const conv_rec *cv, row_fn *fn, void *ctx) { conv_walk_rows(cv, fn, ctx, 0, cv->d.g.oh); }

/* Work on a convolution split among kern_threads() threads (kernels.h),
 * parts of equal size: part i of n covers [lo, hi) of total. */
static size_t part_lo(size_t total, size_t i, size_t n) { return total * i / n; }

/* ---- the quotients (§4.1-§4.2, the prover at V2) ----
 * The lift is exact over Z: E'_v = E_v + 2^65 = sum_j a_j b_j + 2^65 -
 * t_p - t_n, each word read in [0, 2^64), is an integer in
 * (0, m 2^128 + 2^65) since t_p + t_n < 2^65, and Q'_s = sum_{v in S_s}
 * E'_v / 2^64 (the 2^65 per member is the 2 |S_s|). Every product is a
 * 128-bit word; every partial sum, of one statement or of many, is at most
 * sum_v E'_v < M 2^128 + N 2^65 < 2^164 (M <= DZKA_MAX_TERMS < 2^35,
 * N <= M), so three unsigned words hold it without wrapping, and the
 * quotient is below 2^99 = 2^DZKA_QBITS. The sums go by byte:
 * bucket[k][c] adds the E'_v whose mu_v has byte k equal to c (8
 * additions per statement, not one per set bit), and subset 8k + b adds
 * the buckets of k whose c has bit b. */

typedef struct {
    uint64_t w[3];
} u192;

static inline void u192_add(u192 *s, const u192 *x)
{
    u128 t = (u128)s->w[0] + x->w[0];
    s->w[0] = (uint64_t)t;
    t = (t >> 64) + s->w[1] + x->w[1];
    s->w[1] = (uint64_t)t;
    s->w[2] += (uint64_t)(t >> 64) + x->w[2];
}

static inline void u192_add_u128(u192 *s, u128 x)
{
    u128 t = (u128)s->w[0] + (uint64_t)x;
    s->w[0] = (uint64_t)t;
    t = (t >> 64) + s->w[1] + (uint64_t)(x >> 64);
    s->w[1] = (uint64_t)t;
    s->w[2] += (uint64_t)(t >> 64);
}

/* s -= x, for s >= x */
static inline void u192_sub_u64(u192 *s, uint64_t x)
{
    uint64_t b0 = s->w[0] < x, b1 = s->w[1] < b0;
    s->w[0] -= x, s->w[1] -= b0, s->w[2] -= b1;
}

static void quotient_span(const span *sp, void *ctx)
{
    u192(*bucket)[256] = ctx;
    for (size_t v = 0; v < sp->n; v++) {
        const uint64_t *a = sp->a + v * sp->m, *b = sp->b + v * sp->m;
        u192 e = {{0, 2, 0}}; /* 2^65 */
        for (uint32_t j = 0; j < sp->m; j++)
            u192_add_u128(&e, (u128)a[j] * b[j]);
        u192_sub_u64(&e, sp->tp[v]);
        u192_sub_u64(&e, sp->tn[v]);
        for (int k = 0; k < 8; k++)
            u192_add(&bucket[k][sp->mu[v] >> 8 * k & 0xff], &e);
    }
}

typedef struct {
    const conv_rec *cv;
    u192 *e;
} exact_ctx;

static inline void exact_mac(u192 *e, const dzka_conv_def *d, size_t xi, size_t wi)
{
    if (d->terms & DZKA_AWB)
        u192_add_u128(e, (u128)d->xa[xi] * d->wb[wi]);
    if (d->terms & DZKA_BWA)
        u192_add_u128(e, (u128)d->xb[xi] * d->wa[wi]);
    if (d->terms & DZKA_AWA)
        u192_add_u128(e, (u128)d->xa[xi] * d->wa[wi]);
}

static const uint64_t *at(const uint64_t *v, size_t i) { return v ? v + i : NULL; }

/* A row's products, as few as wdot_exact takes them: xa (wb [+ wa]) [+ xb
 * wa], or wa (xb [+ xa]) without AWB */
static void exact_dot(u192 *e, const dzka_conv_def *d, size_t xi, size_t wi, size_t len)
{
    unsigned t = d->terms;
    const uint64_t *xa = at(d->xa, xi), *xb = at(d->xb, xi), *wa = at(d->wa, wi), *wb = at(d->wb, wi);
    if (t & DZKA_AWB)
        wdot_exact(e->w, xa, wb, t & DZKA_AWA ? wa : NULL, t & DZKA_BWA ? xb : NULL, wa, len);
    else
        wdot_exact(e->w, wa, xb, t & DZKA_AWA ? xa : NULL, NULL, NULL, len);
}

static void exact_row(void *ctx, size_t oi, size_t oinc, size_t wi, size_t xi, size_t xinc, size_t len)
{
    const exact_ctx *c = ctx;
    const dzka_conv_def *d = &c->cv->d;
    if (!oinc && xinc == 1) { /* one output over contiguous inputs: a pointwise or full convolution's row */
        exact_dot(&c->e[oi], d, xi, wi, len);
        return;
    }
    for (size_t k = 0; k < len; k++, oi += oinc, wi++, xi += xinc)
        exact_mac(&c->e[oi], d, xi, wi);
}

/* output rows part i of kern_threads(): every row writes its own outputs */
static void exact_part(void *ctx, size_t i, int tid)
{
    (void)tid;
    const exact_ctx *c = ctx;
    size_t oh = c->cv->d.g.oh, n = (size_t)kern_threads();
    conv_walk_rows(c->cv, exact_row, ctx, (uint32_t)part_lo(oh, i, n), (uint32_t)part_lo(oh, i + 1, n));
}

/* the prover: every output's E'_o, exactly */
static void quotient_conv(const conv_rec *cv, const uint64_t *mu, void *ctx)
{
    u192(*bucket)[256] = ctx;
    exact_ctx c = {cv, resize(NULL, cv->n, sizeof(u192))};
    for (size_t o = 0; o < cv->n; o++)
        c.e[o] = (u192){{0, 2, 0}}; /* 2^65 */
    kern_parallel((size_t)kern_threads(), kern_threads(), exact_part, &c);
    for (size_t o = 0; o < cv->n; o++) {
        u192_sub_u64(&c.e[o], cv->d.tp[o]);
        u192_sub_u64(&c.e[o], cv->d.tn[o]);
        for (int k = 0; k < 8; k++)
            u192_add(&bucket[k][mu[o] >> 8 * k & 0xff], &c.e[o]);
    }
    free(c.e);
}

static int qbit(const uint8_t *q, unsigned s, unsigned j)
{
    unsigned i = s * DZKA_QBITS + j;
    return q[i / 8] >> i % 8 & 1;
}

/* the bits of every Q'_s */
static void quotients(dzka *z, uint8_t bits[QBYTES])
{
    u192(*bucket)[256] = calloc(8, sizeof *bucket);
    dzk_need(bucket != NULL);
    each_span(z, 0, quotient_span, quotient_conv, bucket);
    memset(bits, 0, QBYTES);
    for (unsigned s = 0; s < DZKA_KAPPA; s++) {
        u192 sum = {{0, 0, 0}};
        for (unsigned c = 0; c < 256; c++)
            if (c >> s % 8 & 1)
                u192_add(&sum, &bucket[s / 8][c]);
        for (unsigned j = 0; j < DZKA_QBITS; j++) {
            unsigned i = s * DZKA_QBITS + j, bit = (unsigned)(sum.w[1 + j / 64] >> j % 64) & 1;
            bits[i / 8] |= (uint8_t)(bit << i % 8);
        }
    }
    free(bucket);
}

/* the prover at V2: qn = bits ^ qp, qp from K^mask */
static size_t qbits_out(dzka *z, uint8_t *buf)
{
    uint8_t bits[QBYTES];
    dzk_challenge(z->d, DZK_SIGMA1, 1, z->sigma1);
    z->have_sigma1 = 1;
    quotients(z, bits);
    dzk_mask_bytes(z->d, DZK_QBIT, STEP_QBITS, z->qp, QBYTES);
    for (int i = 0; i < QBYTES; i++)
        z->qn[i] = bits[i] ^ z->qp[i];
    memcpy(buf, z->qn, QBYTES);
    return QBYTES;
}

/* ---- the inner product (§4.2) ----
 * U = (w_v a_vj ; 2^(65+j) rho_s qp_sj) and B = (b_vj ; qn_sj): the terms
 * in recording order, then the quotient bits subset after subset, with
 * w_v = sum_{s in mu_v} rho_s. Then <U, B> = T_p + T_n for
 *   T_p = sum_v w_v (t_p,v - 2^65) + sum_s rho_s 2^64 QP_s,
 *   T_n = sum_v w_v t_n,v + sum_s rho_s 2^64 QN_s,
 * QP_s, QN_s the integers of bits qp_s., qn_s. (sum_s rho_s |S_s| is
 * sum_v w_v). The vectors are never stored whole: a pass builds CHUNK
 * elements at a time, element x as U_x = wt[wi[x]] A[x] (a statement's
 * terms share their weight w_v; a quotient bit has its own, 2^(65+j) rho_s,
 * times A = qp) and B_x, and hands them to a kernel: the prover's first
 * fold polynomial, or the fold by r_1. */

typedef struct vec vec;
typedef void kernel_fn(vec *c, const chunk *k);

struct vec {
    dzka *z; /* not const: the prover's build at V4 frees the statements it read */
    kernel_fn *kernel;
    int hu, hb, ht; /* builds U, B, the claim */
    fp rho[DZKA_KAPPA];
    uint64_t (*wtab)[256]; /* byte tables: wtab[k][c] = sum of rho_(8k+b) over the bits b of c */
    uint64_t A[CHUNK], B[CHUNK];
    uint16_t wi[CHUNK];
    fp wt[CHUNK + 1]; /* the chunk's weights, the current one last */
    size_t fill, nwt, done; /* elements and weights in the chunk, groups before it */
    fp_acc T, W;            /* sum_v w_v t_v and sum_v w_v */
    fp_acc L;               /* the convolutions' local parts, sum_o w_o conv(xa, wa)_o */
    fp_acc H[2 * K1 - 1];
    fp pw[K1], rev[K1];
    fp *outU, *outB;
    chunk **keep; /* where flush appends a copy of each chunk, or NULL */
};

/* rho from sigma_2: AES-CTR, 8 bytes an element, its low DZKA_RHO_BITS
 * bits. Uniform on [0, 2^57) suffices (plan §9: the 64 subset relations
 * are fixed before sigma_2, each nonzero below p, so one rho_s value at
 * most cancels them) and keeps every weight w_v, a sum of at most 64
 * rho_s, a word: the convolutions' corr and convT then cost one 64-bit
 * multiply a product. */
static void rhos(const dzka *z, fp rho[DZKA_KAPPA])
{
    uint8_t key[16], b[8];
    dzk_seed_key(z->sigma2, z->prover, DZK_PROOF_ARITH, DZK_RHO, key);
    prg *g = prg_new(key);
    dzk_need(g != NULL);
    for (int s = 0; s < DZKA_KAPPA; s++) {
        uint64_t v = 0;
        prg_fill(g, b, sizeof b);
        for (int i = 0; i < 8; i++)
            v |= (uint64_t)b[i] << 8 * i;
        rho[s] = (fp){{v & (((uint64_t)1 << DZKA_RHO_BITS) - 1), 0, 0}};
    }
    prg_free(g);
}

static vec *vec_new(dzka *z, kernel_fn *kernel, int ht)
{
    vec *c = calloc(1, sizeof *c);
    dzk_need(c && (c->wtab = malloc(8 * sizeof *c->wtab)));
    c->z = z, c->kernel = kernel, c->ht = ht;
    c->hu = z->ha, c->hb = z->hb;
    c->nwt = 1; /* wt[0] = 0 until a weight is set */
    rhos(z, c->rho);
    for (int k = 0; k < 8; k++) {
        c->wtab[k][0] = 0;
        for (unsigned v = 1; v < 256; v++) /* v without its lowest bit, plus that bit's rho */
            c->wtab[k][v] = c->wtab[k][v & (v - 1)] + c->rho[8 * k + __builtin_ctz(v)].w[0];
    }
    return c;
}

static void vec_free(vec *c)
{
    free(c->wtab);
    free(c);
}

/* a copy of k in one allocation, wt sized to the weights it uses */
static chunk *chunk_copy(const chunk *k, size_t nwt)
{
    size_t n = k->groups * K1;
    chunk *d = malloc(sizeof *d + nwt * sizeof(fp) + 2 * n * sizeof(uint64_t) + n * sizeof(uint16_t));
    dzk_need(d != NULL);
    fp *wt = (fp *)(d + 1);
    uint64_t *A = (uint64_t *)(wt + nwt), *B = A + n;
    uint16_t *wi = (uint16_t *)(B + n);
    memcpy(wt, k->wt, nwt * sizeof *wt);
    memcpy(A, k->A, n * sizeof *A);
    memcpy(B, k->B, n * sizeof *B);
    memcpy(wi, k->wi, n * sizeof *wi);
    *d = (chunk){NULL, k->groups, A, B, wi, wt};
    return d;
}

static void flush(vec *c)
{
    size_t groups = (c->fill + K1 - 1) / K1;
    for (; c->fill < groups * K1; c->fill++) /* padding: zero elements */
        c->A[c->fill] = c->B[c->fill] = 0, c->wi[c->fill] = (uint16_t)(c->nwt - 1);
    chunk k = {NULL, groups, c->A, c->B, c->wi, c->wt};
    c->kernel(c, &k);
    if (c->keep) {
        *c->keep = chunk_copy(&k, c->nwt);
        c->keep = &(*c->keep)->next;
    }
    c->done += groups;
    c->fill = 0;
    c->wt[0] = c->wt[c->nwt - 1]; /* a statement may go on in the next chunk */
    c->nwt = 1;
}

/* The weight of the elements pushed next. Each is followed by a push, so
 * a chunk holds at most CHUNK + 1 weights. */
static void set_weight(vec *c, const fp *w) { c->wt[c->nwt++] = *w; }

static void push(vec *c, uint64_t a, uint64_t b)
{
    c->A[c->fill] = a, c->B[c->fill] = b, c->wi[c->fill] = (uint16_t)(c->nwt - 1);
    if (++c->fill == CHUNK)
        flush(c);
}

/* w_v = sum_{s in mu_v} rho_s: eight table entries, below 64 * 2^57 */
static uint64_t weight(const vec *c, uint64_t mu)
{
    uint64_t w = 0;
    for (int k = 0; k < 8; k++)
        w += c->wtab[k][mu >> 8 * k & 0xff];
    return w;
}

/* corr and convT sum lambda x over the integers (wdot_acc), each product
 * below 2^127 (lambda, a sum of at most 64 rho_s, is below 2^63) and at
 * most DZKA_MAX_PRODS < 2^35 of them: three words, below 2^162 < p, so a
 * sum is its own residue */
_Static_assert(DZKA_RHO_BITS + 6 + 64 + 35 < 191, "a convolution's corr and convT sums stay below p");

static void acc_get(fp *r, const wdot_acc *a, size_t i) { wdot_acc_get(a, i, r->w); }

static void vec_span(const span *sp, void *ctx)
{
    vec *c = ctx;
    for (size_t v = 0; v < sp->n; v++) {
        fp w = {{weight(c, sp->mu[v]), 0, 0}};
        if (c->ht && sp->tp) {
            fp_acc_mac_u64(&c->T, &w, sp->tp[v]);
            fp_acc_mac_u64(&c->W, &w, 1);
        }
        if (c->ht && sp->tn)
            fp_acc_mac_u64(&c->T, &w, sp->tn[v]);
        if (c->hu)
            set_weight(c, &w);
        for (size_t x = v * sp->m; x < (v + 1) * sp->m; x++)
            push(c, c->hu ? sp->a[x] : 0, c->hb ? sp->b[x] : 0);
    }
}

typedef struct {
    const conv_rec *cv;
    uint64_t *lam;
    size_t len; /* conv_walk's row length: c, or cm for a depthwise one with multiplier 1, else 1 */
    wdot_acc *corr, *convt;
} fold_ctx;

/* A depthwise convolution's corr(lambda, xa) and convT(lambda, wa): every
 * row of conv_walk's starts a row of both sums (a tap, an input pixel; or,
 * with a multiplier above 1, single sums) */
static void fold_row(void *ctx, size_t oi, size_t oinc, size_t wi, size_t xi, size_t xinc, size_t len)
{
    const fold_ctx *c = ctx;
    (void)xinc, (void)len; /* 1 and c->len, or 0 and 1 */
    if (c->corr)
        wdot_acc_mac(c->corr, wi / c->len, c->lam + oi, oinc, c->cv->d.xa + xi);
    if (c->convt)
        wdot_acc_mac(c->convt, xi / c->len, c->lam + oi, oinc, c->cv->d.wa + wi);
}

/* A dense convolution's corr and convT, blocked so that each row of sums
 * takes several products a pass: for a block of up to WDOT_MAX_N adjacent
 * output positions and a tap, corr row (o, tap) += sum over the block's
 * positions p of lambda_(p, o) x_(in(p, tap)); for each position p and a
 * block of output channels, convT row in(p, tap) += sum over them of
 * lambda_(p, o) w_(o, tap). The same sums as conv_walk's rows give. corr
 * goes in parts by output channel, convT by output row where each input
 * pixel has one reader (a 1x1 kernel), else whole: each part writes its
 * own rows. */
typedef struct {
    const uint64_t *xs[WDOT_MAX_N]; /* xa at the inputs xi, where xa is kept */
    size_t pos[WDOT_MAX_N], xi[WDOT_MAX_N], n;
} dense_block;

/* the block's positions from (oy, ox0) at tap (ky, kx) that read an input */
static void dense_at(const fold_ctx *f, dense_block *b, uint32_t oy, uint32_t ox0, uint32_t ky, uint32_t kx)
{
    const geom *g = &f->cv->d.g;
    int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh);
    b->n = 0;
    for (uint32_t ox = ox0; iy >= 0 && iy < g->h && ox < g->ow && ox < ox0 + WDOT_MAX_N; ox++) {
        int64_t ix = geom_in(ox, g->sw, g->pl, kx, g->dw);
        if (ix < 0 || ix >= g->w)
            continue;
        b->pos[b->n] = (size_t)oy * g->ow + ox;
        b->xi[b->n] = ((size_t)iy * g->w + (size_t)ix) * g->c;
        b->xs[b->n] = at(f->cv->d.xa, b->xi[b->n]);
        b->n++;
    }
}

static void dense_corr(const fold_ctx *f, size_t o0, size_t o1)
{
    const geom *g = &f->cv->d.g;
    size_t m = f->cv->d.oc, taps = (size_t)g->kh * g->kw;
    dense_block b;
    for (uint32_t oy = 0; oy < g->oh; oy++)
        for (uint32_t ox0 = 0; ox0 < g->ow; ox0 += WDOT_MAX_N)
            for (uint32_t ky = 0; ky < g->kh; ky++)
                for (uint32_t kx = 0; kx < g->kw; kx++) {
                    dense_at(f, &b, oy, ox0, ky, kx);
                    for (size_t o = o0; b.n && o < o1; o++) {
                        uint64_t lam[WDOT_MAX_N];
                        for (size_t i = 0; i < b.n; i++)
                            lam[i] = f->lam[b.pos[i] * m + o];
                        wdot_acc_mac_n(f->corr, o * taps + ky * g->kw + kx, lam, b.xs, b.n);
                    }
                }
}

static void dense_convt(const fold_ctx *f, uint32_t oy0, uint32_t oy1)
{
    const dzka_conv_def *d = &f->cv->d;
    const geom *g = &d->g;
    size_t m = d->oc, taps = (size_t)g->kh * g->kw, c = g->c;
    dense_block b;
    for (uint32_t oy = oy0; oy < oy1; oy++)
        for (uint32_t ox0 = 0; ox0 < g->ow; ox0 += WDOT_MAX_N)
            for (uint32_t ky = 0; ky < g->kh; ky++)
                for (uint32_t kx = 0; kx < g->kw; kx++) {
                    size_t tap = (size_t)ky * g->kw + kx;
                    dense_at(f, &b, oy, ox0, ky, kx);
                    for (size_t i = 0; i < b.n; i++)
                        for (size_t o0 = 0; o0 < m; o0 += WDOT_MAX_N) {
                            const uint64_t *ws[WDOT_MAX_N];
                            size_t nn = m - o0 < WDOT_MAX_N ? m - o0 : WDOT_MAX_N;
                            for (size_t j = 0; j < nn; j++)
                                ws[j] = d->wa + ((o0 + j) * taps + tap) * c;
                            wdot_acc_mac_n(f->convt, b.xi[i] / c, f->lam + b.pos[i] * m + o0, ws, nn);
                        }
                }
}

/* the parts of corr (by output channel) and of convT (one unless each
 * input pixel has one reader), none for a sum the statement lacks */
static size_t corr_parts(const fold_ctx *f) { return f->corr ? (size_t)kern_threads() : 0; }

static size_t convt_parts(const fold_ctx *f)
{
    return !f->convt ? 0 : f->cv->d.g.kh * f->cv->d.g.kw == 1 ? (size_t)kern_threads() : 1;
}

/* parts 0..C-1: corr; then convT's */
static void dense_part(void *ctx, size_t i, int tid)
{
    (void)tid;
    const fold_ctx *f = ctx;
    size_t C = corr_parts(f), P = convt_parts(f), m = f->cv->d.oc, oh = f->cv->d.g.oh;
    if (i < C)
        dense_corr(f, part_lo(m, i, C), part_lo(m, i + 1, C));
    else
        dense_convt(f, (uint32_t)part_lo(oh, i - C, P), (uint32_t)part_lo(oh, i - C + 1, P));
}

static void fold_dense(const fold_ctx *f)
{
    kern_parallel(corr_parts(f) + convt_parts(f), kern_threads(), dense_part, (void *)f);
}

/* a convolution's elements: (corr_t, wb_t) for its weights, then
 * (convT_p, xb_p) for its inputs, U as the element's weight times 1 */
static void push_folded(vec *c, const wdot_acc *u, const uint64_t *b, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        if (c->hu) {
            fp w;
            acc_get(&w, u, t);
            set_weight(c, &w);
        }
        push(c, (uint64_t)c->hu, c->hb ? b[t] : 0);
    }
}

/* prev's claim: minus sum_o lambda_o conv(xa, wa)_o, which is <u, v> */
static void local_part(vec *c, const wdot_acc *u, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fp w;
        acc_get(&w, u, i);
        fp_acc_mac_u64(&c->L, &w, v[i]);
    }
}

static void vec_conv(const conv_rec *cv, const uint64_t *mu, void *ctx)
{
    vec *c = ctx;
    const dzka_conv_def *d = &cv->d;
    fold_ctx f = {cv, resize(NULL, cv->n, sizeof(uint64_t)), 1, NULL, NULL};
    for (size_t o = 0; o < cv->n; o++) {
        fp lam = {{f.lam[o] = weight(c, mu[o]), 0, 0}};
        if (c->ht && d->tp) {
            fp_acc_mac_u64(&c->T, &lam, d->tp[o]);
            fp_acc_mac_u64(&c->W, &lam, 1);
        }
        if (c->ht && d->tn)
            fp_acc_mac_u64(&c->T, &lam, d->tn[o]);
    }
    unsigned t = d->terms;
    if (c->hu) {
        if (!d->depthwise || d->oc == 1)
            f.len = (size_t)d->g.c * (d->depthwise ? d->oc : 1);
        if (t & DZKA_AWB)
            dzk_need((f.corr = wdot_acc_new(cv->nw / f.len, f.len)) != NULL);
        if (t & DZKA_BWA)
            dzk_need((f.convt = wdot_acc_new(cv->nx / f.len, f.len)) != NULL);
        if (d->depthwise)
            conv_walk(cv, fold_row, &f);
        else
            fold_dense(&f);
        if (c->ht && (t & DZKA_AWA)) /* the local part: <corr, wa>, or <convT, xa> */
            local_part(c, f.corr ? f.corr : f.convt, f.corr ? d->wa : d->xa, f.corr ? cv->nw : cv->nx);
    }
    if (t & DZKA_AWB)
        push_folded(c, f.corr, d->wb, cv->nw);
    if (t & DZKA_BWA)
        push_folded(c, f.convt, d->xb, cv->nx);
    wdot_acc_free(f.corr), wdot_acc_free(f.convt), free(f.lam);
}

static void vec_tail(vec *c)
{
    static const fp two65 = {{0, 2, 0}};
    for (unsigned s = 0; s < DZKA_KAPPA; s++) {
        fp u;
        fp_mul(&u, &c->rho[s], &two65);
        for (unsigned j = 0; j < DZKA_QBITS; j++, fp_add(&u, &u, &u)) {
            if (c->hu)
                set_weight(c, &u);
            push(c, c->hu ? (uint64_t)qbit(c->z->qp, s, j) : 0, c->hb ? (uint64_t)qbit(c->z->qn, s, j) : 0);
        }
    }
    flush(c);
}

static void vec_run(vec *c)
{
    each_span(c->z, c->keep != NULL, vec_span, vec_conv, c);
    vec_tail(c);
}

/* sum_s rho_s 2^64 Q_s for the bits q */
static void tail_claim(const fp rho[DZKA_KAPPA], const uint8_t *q, fp *T)
{
    for (unsigned s = 0; s < DZKA_KAPPA; s++) {
        fp x = {{0, 0, 0}};
        for (unsigned j = 0; j < DZKA_QBITS; j++)
            x.w[1 + j / 64] |= (uint64_t)qbit(q, s, j) << j % 64;
        fp_mul(&x, &x, &rho[s]);
        fp_add(T, T, &x);
    }
}

/* this position's share of the claim (the whole claim at a cheating prover) */
static void claim(const vec *c, fp *T)
{
    static const fp two65 = {{0, 2, 0}};
    fp_acc_reduce(T, &c->T);
    if (c->z->ha) { /* prev's part: minus 2^65 per statement and the local products */
        fp l;
        fp_acc_reduce(&l, &c->L);
        fp_sub(T, T, &l);
        fp x;
        fp_acc_reduce(&x, &c->W);
        fp_mul(&x, &x, &two65);
        fp_sub(T, T, &x);
        tail_claim(c->rho, c->z->qp, T);
    }
    if (c->z->hb)
        tail_claim(c->rho, c->z->qn, T);
}

/* ---- the first fold (k = 8, §4.3) ----
 * U is F_p and B 64-bit words: each product is an F_p by word
 * multiply-add into an unreduced fp_acc (fewer than 2^64 of them: 8 per
 * element), reduced once per coefficient. */

/* acc += u v for u below 2^128 (two words), unreduced */
static inline void acc_mac_u128(fp_acc *acc, uint64_t lo, uint64_t hi, uint64_t v)
{
    u128 t = (u128)lo * v + acc->w[0];
    acc->w[0] = (uint64_t)t;
    t = (u128)hi * v + acc->w[1] + (uint64_t)(t >> 64);
    acc->w[1] = (uint64_t)t;
    t = (u128)acc->w[2] + (uint64_t)(t >> 64);
    acc->w[2] = (uint64_t)t;
    t = (u128)acc->w[3] + (uint64_t)(t >> 64);
    acc->w[3] = (uint64_t)t;
    acc->w[4] += (uint64_t)(t >> 64);
}

/* A group whose weights are all words (a statement's, rho_s < 2^57: the
 * usual case) has U = w A below 2^127 < p, its own residue: two multiplies
 * a product instead of three, and no reduction. */
static void poly_kernel(vec *c, const chunk *k)
{
    fp_acc H[2 * K1 - 1];
    memcpy(H, c->H, sizeof H);
    for (size_t l = 0; l < k->groups; l++) {
        const uint64_t *b = k->B + l * K1;
        uint64_t top = 0;
        for (size_t x = l * K1; x < (l + 1) * K1; x++)
            top |= k->wt[k->wi[x]].w[1] | k->wt[k->wi[x]].w[2];
        if (!top) {
            uint64_t lo[K1], hi[K1];
            for (size_t j = 0, x = l * K1; j < K1; j++, x++) {
                u128 u = (u128)k->wt[k->wi[x]].w[0] * k->A[x];
                lo[j] = (uint64_t)u, hi[j] = (uint64_t)(u >> 64);
            }
            for (int j = 0; j < K1; j++)
                for (int i = 0; i < K1; i++)
                    acc_mac_u128(&H[j - i + K1 - 1], lo[j], hi[j], b[i]);
            continue;
        }
        fp u[K1];
        for (size_t j = 0, x = l * K1; j < K1; j++, x++)
            mul_fold(&u[j], &k->wt[k->wi[x]], k->A[x]);
        for (int j = 0; j < K1; j++)
            for (int i = 0; i < K1; i++)
                fp_acc_mac_u64(&H[j - i + K1 - 1], &u[j], b[i]);
    }
    memcpy(c->H, H, sizeof H);
}

/* U'_l = sum_j U_(8l+j) r^j: over each run of elements of one weight w,
 * w sum_j A_(8l+j) r^j, so a multiply-add per element and one fold and
 * product per run. B'_l = sum_j B_(8l+j) r^(7-j). */
static void eval_groups(const vec *c, const chunk *k, size_t done)
{
    for (size_t l = 0; l < k->groups; l++) {
        size_t x0 = l * K1;
        if (c->hu) {
            fp_wide acc = {{0}};
            fp_acc s;
            fp_acc_zero(&s);
            for (size_t j = 0; j < K1; j++) {
                fp_acc_mac_u64(&s, &c->pw[j], k->A[x0 + j]);
                if (j == K1 - 1 || k->wi[x0 + j + 1] != k->wi[x0 + j]) {
                    fp t;
                    const fp *w = &k->wt[k->wi[x0 + j]];
                    fold5(&t, &s);
                    if (w->w[1] | w->w[2]) /* a word weight: a third of the multiplies */
                        wide_mac(&acc, &t, w);
                    else
                        wide_mac_u64(&acc, &t, w->w[0]);
                    fp_acc_zero(&s);
                }
            }
            wide_reduce(&c->outU[done + l], &acc);
        }
        if (c->hb) {
            fp_acc acc;
            fp_acc_zero(&acc);
            for (size_t j = 0; j < K1; j++)
                fp_acc_mac_u64(&acc, &c->rev[j], k->B[x0 + j]);
            fp_acc_reduce(&c->outB[done + l], &acc);
        }
    }
}

static void eval_kernel(vec *c, const chunk *k) { eval_groups(c, k, c->done); }

/* The prover's kept chunks in kern_threads() parts, each chunk with the
 * group it starts at: the parts write their own groups. */
typedef struct {
    const vec *c;
    const chunk **k;
    size_t *at, n;
} kept_job;

static void kept_part(void *ctx, size_t i, int tid)
{
    (void)tid;
    const kept_job *j = ctx;
    size_t T = (size_t)kern_threads();
    for (size_t q = part_lo(j->n, i, T); q < part_lo(j->n, i + 1, T); q++)
        eval_groups(j->c, j->k[q], j->at[q]);
}

static void eval_kept(vec *c, const chunk *kept)
{
    size_t n = 0;
    for (const chunk *k = kept; k; k = k->next)
        n++;
    kept_job j = {c, resize(NULL, n ? n : 1, sizeof *j.k), resize(NULL, n ? n : 1, sizeof *j.at), n};
    n = 0;
    for (const chunk *k = kept; k; k = k->next, n++)
        j.k[n] = k, j.at[n] = c->done, c->done += k->groups;
    kern_parallel((size_t)kern_threads(), kern_threads(), kept_part, &j);
    free(j.k), free(j.at);
}

/* the prover at V4: sigma_2, then fold 1's polynomial */
static size_t fold1_out(dzka *z, uint8_t *buf)
{
    dzk_challenge(z->d, DZK_SIGMA2, STEP_SIGMA2, z->sigma2);
    vec *c = vec_new(z, poly_kernel, z->prm->cheat.chal != NULL);
    c->keep = &z->kept;
    vec_run(c);
    free_store(z); /* the kept chunks hold what the fold by r_1 reads */
    fp H[2 * K1 - 1], T;
    for (int m = 0; m < 2 * K1 - 1; m++)
        fp_acc_reduce(&H[m], &c->H[m]);
    if (c->ht) { /* a cheating prover's claim */
        claim(c, &T);
        dzk_set_claim(z->d, T.w);
    }
    vec_free(c);
    return dzk_fold_out(z->d, STEP_FOLD1, K1, (uint64_t *)H, buf);
}

/* Every position once r_1 is known: the vectors folded by it (the
 * statements, or the prover's chunks, are then dropped) and, at a
 * verifier, its claim share. */
static void fold1_eval(dzka *z, const fp *r)
{
    dzk_vectors(z->d, (z->terms + QBITS + K1 - 1) / K1);
    if (z->pos == DZK_PREV) /* its share of the quotient bits is its mask */
        dzk_mask_bytes(z->d, DZK_QBIT, STEP_QBITS, z->qp, QBYTES);
    vec *c = vec_new(z, eval_kernel, z->pos != DZK_PROVER);
    c->outU = (fp *)dzk_u(z->d), c->outB = (fp *)dzk_b(z->d);
    c->pw[0] = (fp){{1, 0, 0}};
    for (int j = 1; j < K1; j++)
        fp_mul(&c->pw[j], &c->pw[j - 1], r);
    for (int j = 0; j < K1; j++)
        c->rev[j] = c->pw[K1 - 1 - j];
    if (z->kept) /* the prover: the vector it built at V4 */
        eval_kept(c, z->kept);
    else
        vec_run(c);
    free_kept(z);
    if (c->ht) {
        fp T;
        claim(c, &T);
        dzk_set_claim(z->d, T.w);
    }
    vec_free(c);
    free_store(z);
    dzk_fold_claim(z->d, STEP_FOLD1, K1, r->w);
}

/* ---- the schedule ---- */

static int is_verifier(dzk_pos p) { return p != DZK_PROVER; }

/* the factor of the fold whose message goes at step (4 or even) */
static unsigned fold_k(int step) { return step == STEP_FOLD1 ? K1 : step < 8 ? 16 : 64; }

size_t dzka_len(int step, dzk_pos from, dzk_pos to)
{
    if (step == 1) /* sigma_1: proof B's message */
        return 0;
    if (step % 2 && step < DZKA_STEPS) /* sigma_2 or a challenge's halves */
        return is_verifier(from) && to == DZK_PROVER ? dzk_half_len(&dzka_fp, step == STEP_SIGMA2 ? DZK_SIGMA2 : DZK_CHAL)
                                                     : 0;
    if (step == DZKA_STEPS)
        return is_verifier(from) && is_verifier(to) && from != to ? dzk_exchange_len(&dzka_fp) : 0;
    if (from != DZK_PROVER || to != DZK_NEXT || step < STEP_QBITS || step > STEP_FINAL)
        return 0;
    return step == STEP_QBITS   ? QBYTES
           : step == STEP_FINAL ? dzk_final_len(&dzka_fp)
                                : dzk_fold_len(&dzka_fp, fold_k(step));
}

/* every position, once r answering the fold message of msg_step is known */
static void fold_by(dzka *z, int msg_step, const fp *r)
{
    if (msg_step == STEP_FOLD1)
        fold1_eval(z, r);
    else {
        dzk_fold_claim(z->d, msg_step, fold_k(msg_step), r->w);
        dzk_fold(z->d, fold_k(msg_step), r->w);
    }
}

/* the prover at an even step: r of the previous fold, then this step's message */
static size_t prover_out(dzka *z, int step, uint8_t *buf)
{
    if (step == STEP_QBITS)
        return qbits_out(z, buf);
    if (step == STEP_FOLD1)
        return fold1_out(z, buf);
    fp r, H[2 * DZK_MAX_K - 1];
    dzk_challenge(z->d, DZK_CHAL, step - 1, r.w);
    fold_by(z, step - 2, &r);
    if (step == STEP_FINAL)
        return dzk_final_out(z->d, step, buf);
    dzk_poly(z->d, fold_k(step), (uint64_t *)H);
    return dzk_fold_out(z->d, step, fold_k(step), (uint64_t *)H, buf);
}

/* a verifier at an odd step: its half, then the fold it answers */
static size_t verifier_out(dzka *z, int step, uint8_t *buf)
{
    if (step == STEP_SIGMA2)
        return dzk_release(z->d, DZK_SIGMA2, step, buf, z->sigma2);
    fp r;
    size_t len = dzk_release(z->d, DZK_CHAL, step, buf, r.w);
    fold_by(z, step - 1, &r);
    return len;
}

size_t dzka_out(dzka *z, int step, dzk_pos to, uint8_t *buf)
{
    dzk_need(step >= 1 && step <= DZKA_STEPS && to != z->pos);
    /* a verifier derives sigma_1 at V1; proof B sends the half */
    int sigma1 = step == 1 && is_verifier(z->pos) && to == DZK_PROVER;
    if (!sigma1 && !dzka_len(step, z->pos, to))
        return 0;
    dzk_need(z->closed && step > z->last_out);
    z->last_out = step;
    if (sigma1) {
        uint8_t half[DZK_SEED];
        dzk_release(z->d, DZK_SIGMA1, step, half, z->sigma1);
        z->have_sigma1 = 1;
        return 0;
    }
    if (z->pos == DZK_PROVER)
        return prover_out(z, step, buf);
    if (step == DZKA_STEPS)
        return dzk_exchange_out(z->d, step, STEP_FINAL, buf);
    return verifier_out(z, step, buf);
}

int dzka_in(dzka *z, int step, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    dzk_need(step >= 1 && step <= DZKA_STEPS && from != z->pos);
    size_t want = dzka_len(step, from, z->pos);
    if (len != want)
        return dzk_malformed(z->d, from, step, err, errlen);
    if (!want)
        return 0;
    if (z->pos == DZK_PROVER)
        return dzk_receive(z->d, step == STEP_SIGMA2 ? DZK_SIGMA2 : DZK_CHAL, step, from, buf, len, err, errlen);
    if (step == DZKA_STEPS)
        return dzk_exchange_in(z->d, buf, len, "arith", err, errlen);
    if (step == STEP_QBITS) { /* any 792 bytes are 6336 bits: nothing is malformed */
        memcpy(z->qn, buf, QBYTES);
        dzk_took(z->d, step);
        return 0;
    }
    if (step == STEP_FINAL)
        return dzk_final_in(z->d, step, buf, len, err, errlen);
    return dzk_fold_in(z->d, step, fold_k(step), buf, len, err, errlen);
}

int dzka_sigma1(dzka *z, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    return dzk_receive(z->d, DZK_SIGMA1, 1, from, buf, len, err, errlen);
}
