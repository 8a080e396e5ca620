/* dzkp_bool: the boolean proof over GF(2^64) (see dzkp_bool.h). */
#include "runtime/proto/dzkp_bool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/core/gf64.h"
#include "runtime/net/prg.h"

const dzkb_params DZKB_PARAMS = {0, {NULL, 0}};

enum { K1 = 64, STEP_FOLD1 = 2, STEP_FINAL = 4 + 2 * DZKB_FOLDS, CHUNK = 256 };

/* ---- GF(2^64) as a dzk_field ---- */

static const uint64_t gf_one = 1;
static int gf_decode(uint64_t *e, const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    *e = v;
    return 0;
}
static void gf_encode(uint8_t *b, const uint64_t *e)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(*e >> (8 * i));
}
static void gf_add(uint64_t *r, const uint64_t *a, const uint64_t *b) { *r = *a ^ *b; }
static void gf_mul(uint64_t *r, const uint64_t *a, const uint64_t *b) { *r = gf64_mul(*a, *b); }

static const dzk_field GF = {1, &gf_one, gf_decode, gf_encode, gf_add, gf_add, gf_mul, gf64_fold_poly, gf64_fold_eval};

/* ---- the statement store: words by slot count ----
 * in blocks of BLOCK words that recording fills in turn and never moves: a
 * growing array would copy (and first touch) its pages again at every
 * doubling, which cost more than the proof on MobileNet. A carry chain's
 * relations are kept as its bit planes instead (chain_rec), which a block
 * of their own names and each pass expands a chunk at a time: the planes
 * take half the words that the relations' slots would. */

enum { BLOCK = 1 << 16, MIN_BLOCK = BLOCK / 16 }; /* a block's words: a record's, between these */

typedef struct chain_side {
    uint64_t *v, *d; /* the bit planes of S (or T), and D (or E) */
} chain_side;

/* A carry chain as dzkb_chain got it: width planes of nw words on each
 * side a position holds (NULL elsewhere). */
typedef struct chain_rec {
    struct chain_rec *next;
    size_t n, nw;
    chain_side ps, ns;
} chain_rec;

typedef struct {
    size_t nw, cap;
    uint64_t *x, *y; /* sigma per word, at the positions holding them */
    uint64_t *t;     /* prev t_p, next t_n, a cheating prover t_p ^ t_n */
    const chain_rec *ch; /* or: relations j0, j0 + 1, ... of this chain (j0 = -1: D_0 ^ E_0 = 0) */
    int j0;
} block;

typedef struct {
    size_t nw, nblocks;
    block *b;
} pool;

struct dzkb {
    dzk *d;
    dzk_pos pos;
    int prover;
    const dzkb_params *prm;
    int hx, hy, ht; /* which of x, y, t this position keeps */
    pool pool[DZKB_SIGMA_MAX + 1];
    chain_rec *chains; /* what the pools' chain blocks name */
    int closed, last_out;
    uint8_t sigma1[DZK_SEED];
};

dzkb *dzkb_new(dzk_pos pos, int prover, const dzk_keys *keys, const dzkb_params *prm)
{
    dzkb *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->pos = pos, b->prover = prover, b->prm = prm;
    b->d = dzk_new(&GF, pos, prover, DZK_PROOF_BOOL, keys, prm->cheat.chal ? &prm->cheat : NULL);
    if (!b->d) {
        free(b);
        return NULL;
    }
    b->hx = pos != DZK_NEXT;
    b->hy = pos != DZK_PREV;
    b->ht = pos != DZK_PROVER || prm->cheat.chal;
    return b;
}

static void free_pools(dzkb *b)
{
    for (int s = 0; s <= DZKB_SIGMA_MAX; s++) {
        for (size_t k = 0; k < b->pool[s].nblocks; k++)
            free(b->pool[s].b[k].x), free(b->pool[s].b[k].y), free(b->pool[s].b[k].t);
        free(b->pool[s].b);
        b->pool[s] = (pool){0, 0, NULL};
    }
    for (chain_rec *c = b->chains, *next; c; c = next) {
        next = c->next;
        free(c->ps.v), free(c->ps.d), free(c->ns.v), free(c->ns.d);
        free(c);
    }
    b->chains = NULL;
}

void dzkb_free(dzkb *b)
{
    if (!b)
        return;
    free_pools(b);
    dzk_free(b->d);
    free(b);
}

static uint64_t *words(int held, size_t n)
{
    if (!held || !n)
        return NULL;
    uint64_t *w = malloc(n * sizeof *w);
    dzk_need(w != NULL); /* out of memory: the recorder has no way to fail */
    return w;
}

/* a new last block of pool p, empty */
static block *add_block(pool *p)
{
    if (!(p->nblocks & (p->nblocks - 1))) { /* the index doubles at powers of two */
        block *nb = realloc(p->b, (p->nblocks ? 2 * p->nblocks : 1) * sizeof *nb);
        dzk_need(nb != NULL);
        p->b = nb;
    }
    block *k = &p->b[p->nblocks++];
    *k = (block){0, 0, NULL, NULL, NULL, NULL, 0};
    return k;
}

/* The block that takes the pool's next word, want words in all: after a
 * chain's block or a full one, a new block sized to want (within
 * MIN_BLOCK..BLOCK), so that records between chains leave little room
 * unused. */
static block *open_block(dzkb *b, pool *p, unsigned sigma, size_t want)
{
    if (p->nblocks && p->b[p->nblocks - 1].nw < p->b[p->nblocks - 1].cap)
        return &p->b[p->nblocks - 1];
    size_t cap = want > BLOCK ? BLOCK : want < MIN_BLOCK ? MIN_BLOCK : want;
    block *k = add_block(p);
    *k = (block){0, cap, words(b->hx, cap * sigma), words(b->hy, cap * sigma), words(b->ht, cap), NULL, 0};
    return k;
}

void dzkb_bool(dzkb *b, size_t nw, unsigned sigma, const uint64_t *lanes, const uint64_t *const *x,
               const uint64_t *const *y, const uint64_t *tp, const uint64_t *tn)
{
    int own_tp = b->pos != DZK_NEXT, own_tn = b->pos != DZK_PREV;
    dzk_need(!b->closed && sigma <= DZKB_SIGMA_MAX && (!b->hx || !sigma || x) && (!b->hy || !sigma || y) &&
             (!b->ht || ((!own_tp || tp) && (!own_tn || tn))));
    pool *p = &b->pool[sigma];
    for (size_t w = 0; w < nw; w++) {
        block *k = open_block(b, p, sigma, nw - w);
        uint64_t lane = lanes ? lanes[w] : ~(uint64_t)0;
        size_t at = k->nw++;
        for (unsigned s = 0; s < sigma; s++) {
            if (b->hx)
                k->x[at * sigma + s] = x[s][w] & lane;
            if (b->hy)
                k->y[at * sigma + s] = y[s][w] & lane;
        }
        if (b->ht)
            k->t[at] = ((own_tp ? tp[w] : 0) ^ (own_tn ? tn[w] : 0)) & lane;
    }
    p->nw += nw;
}

/* ---- carry chains (§1) ----
 * With D = P ^ S and E = Q ^ T (bitwise, per plane), D_j ^ E_j is the
 * carry into bit j exactly when the sum's bits are P ^ Q. So the chain is
 * D_0 ^ E_0 = 0 and, for j < width - 1, carry_(j+1) = maj(S_j, T_j,
 * carry_j) with the terms each verifier can compute moved to its side:
 *   (D_(j+1) ^ S_j D_j) ^ (E_(j+1) ^ T_j E_j) = S_j T_j ^ S_j E_j ^ D_j T_j
 *                                              = S_j E_j ^ (S_j ^ D_j) T_j,
 * sigma = 2 with x = (S_j, S_j ^ D_j), y = (E_j, T_j): the same relation,
 * its right side factored (plan §1 wrote it with three products). Where
 * P_j = Q_j = 0 is known, D_j = S_j and E_j = T_j, and relation j is
 *   (D_(j+1) ^ S_j) ^ (E_(j+1) ^ T_j) = S_j T_j   (sigma = 1). */

static void chain_side_make(chain_side *c, size_t n, size_t nw, unsigned width, const uint64_t *V,
                            const uint64_t *planes)
{
    c->v = malloc(width * nw * sizeof *c->v);
    c->d = malloc(width * nw * sizeof *c->d);
    dzk_need(c->v && c->d);
    bits_pack(V, 1, n, width, c->v, nw);
    for (size_t i = 0; i < width * nw; i++)
        c->d[i] = c->v[i] ^ planes[i];
}

/* relations j0 .. j1 - 1 of chain c into pool sigma, as one block */
static void chain_block(dzkb *b, const chain_rec *c, unsigned sigma, int j0, int j1)
{
    if (j1 <= j0)
        return;
    pool *p = &b->pool[sigma];
    block *k = add_block(p);
    k->nw = k->cap = (size_t)(j1 - j0) * c->nw, k->ch = c, k->j0 = j0;
    p->nw += k->nw;
}

void dzkb_chain(dzkb *b, size_t n, unsigned width, unsigned dealt, const uint64_t *S, const uint64_t *T,
                const uint64_t *P, const uint64_t *Q)
{
    dzk_need(!b->closed && width >= 1 && width <= 64 && dealt <= width);
    if (!n)
        return;
    chain_rec *c = calloc(1, sizeof *c);
    dzk_need(c != NULL);
    c->n = n, c->nw = bits_words(n);
    if (b->hx)
        chain_side_make(&c->ps, n, c->nw, width, S, P);
    if (b->hy)
        chain_side_make(&c->ns, n, c->nw, width, T, Q);
    c->next = b->chains, b->chains = c;
    int last = (int)width - 1, cut = (int)dealt < last ? (int)dealt : last;
    chain_block(b, c, 0, -1, 0);
    chain_block(b, c, 2, 0, cut);
    chain_block(b, c, 1, cut, last);
}

/* Words w0 .. w0 + n - 1 of chain block k (pool sigma) as dzkb_bool would
 * have stored them, into x, y (sigma slots a word) and t where this
 * position holds them: relation j of word w is x = (S_j, S_j ^ D_j), y =
 * (E_j, T_j), t_p = D_(j+1) ^ S_j D_j, t_n = E_(j+1) ^ T_j E_j (one slot,
 * S_j and T_j, for sigma = 1); j = -1 is t_p = D_0, t_n = E_0. */
static void chain_words(const dzkb *b, const block *k, unsigned sigma, size_t w0, size_t n, uint64_t *x, uint64_t *y,
                        uint64_t *t)
{
    const chain_rec *c = k->ch;
    const chain_side *ps = &c->ps, *ns = &c->ns;
    int own_tp = b->pos != DZK_NEXT, own_tn = b->pos != DZK_PREV;
    size_t nw = c->nw, last = nw - 1;
    uint64_t top = c->n % 64 ? ((uint64_t)1 << (c->n % 64)) - 1 : ~(uint64_t)0;
    int j = k->j0 + (int)(w0 / nw);
    size_t w = w0 % nw;
    for (size_t i = 0; i < n; i++) {
        uint64_t lane = w == last ? top : ~(uint64_t)0;
        if (j < 0) { /* D_0 ^ E_0 */
            if (t)
                t[i] = ((own_tp ? ps->d[w] : 0) ^ (own_tn ? ns->d[w] : 0)) & lane;
        } else {
            size_t at = (size_t)j * nw + w, up = at + nw;
            if (x) {
                uint64_t *o = x + i * sigma;
                o[0] = ps->v[at] & lane;
                if (sigma == 2)
                    o[1] = (ps->v[at] ^ ps->d[at]) & lane;
            }
            if (y) {
                uint64_t *o = y + i * sigma;
                if (sigma == 2)
                    o[0] = ns->d[at] & lane, o[1] = ns->v[at] & lane;
                else
                    o[0] = ns->v[at] & lane;
            }
            if (t)
                t[i] = ((own_tp ? ps->d[up] ^ (ps->v[at] & ps->d[at]) : 0) ^
                        (own_tn ? ns->d[up] ^ (ns->v[at] & ns->d[at]) : 0)) &
                       lane;
        }
        if (++w == nw)
            w = 0, j++;
    }
}

int dzkb_close(dzkb *b, char *err, size_t errlen)
{
    unsigned long long terms = 0;
    for (unsigned s = 1; s <= DZKB_SIGMA_MAX; s++)
        terms += (unsigned long long)b->pool[s].nw * s;
    if (terms > DZKB_MAX_TERMS) {
        snprintf(err, errlen, "batch of %llu bool terms is too large for one verification", terms);
        return -1;
    }
    b->closed = 1;
    dzk_close(b->d);
    return 0;
}

/* ---- passes over the words with their weights rho_w ----
 * rho is one AES-CTR stream under a key from sigma_1, drawn for the words
 * in store order (slot count 0, 1, ..., then recording order), so every
 * position gives a word the same weight. The vectors of the first fold
 * list the slots of the words with sigma > 0 in the same order. */

/* n words of sigma slots at x, y, t (NULL where not held) */
typedef void chunk_fn(dzkb *b, unsigned sigma, const uint64_t *x, const uint64_t *y, const uint64_t *t, size_t n,
                      const gf64 *rho, void *ctx);

static void each_chunk(dzkb *b, chunk_fn *fn, void *ctx)
{
    uint8_t key[16];
    dzk_seed_key(b->sigma1, b->prover, DZK_PROOF_BOOL, DZK_RHO, key);
    prg *g = prg_new(key);
    dzk_need(g != NULL);
    gf64 rho[CHUNK];
    uint64_t cx[2 * CHUNK], cy[2 * CHUNK], ct[CHUNK]; /* a chain block's chunk, expanded: at most 2 slots */
    for (unsigned s = 0; s <= DZKB_SIGMA_MAX; s++)
        for (size_t q = 0; q < b->pool[s].nblocks; q++) {
            const block *k = &b->pool[s].b[q];
            for (size_t w0 = 0; w0 < k->nw; w0 += CHUNK) {
                size_t n = k->nw - w0 < CHUNK ? k->nw - w0 : CHUNK;
                if (b->prm->fixed_rho)
                    for (size_t i = 0; i < n; i++)
                        rho[i] = b->prm->fixed_rho;
                else
                    prg_fill(g, rho, n * sizeof *rho);
                if (k->ch) {
                    dzk_need(s <= 2);
                    uint64_t *x = b->hx && s ? cx : NULL, *y = b->hy && s ? cy : NULL, *t = b->ht ? ct : NULL;
                    chain_words(b, k, s, w0, n, x, y, t);
                    fn(b, s, x, y, t, n, rho, ctx);
                } else
                    fn(b, s, k->x ? k->x + w0 * s : NULL, k->y ? k->y + w0 * s : NULL, k->t ? k->t + w0 : NULL, n,
                       rho, ctx);
            }
        }
    prg_free(g);
}

/* fold 1 at the prover: H_(63+d) = sum_w rho_w xor_s x_s AND (y_s << d) */
typedef struct {
    gf64_wide acc[2 * K1 - 1];
    gf64 T;
} fold1_ctx;

static void fold1_chunk(dzkb *b, unsigned s, const uint64_t *x, const uint64_t *y, const uint64_t *t, size_t n,
                        const gf64 *rho, void *ctx)
{
    (void)b;
    fold1_ctx *c = ctx;
    if (s)
        gf64_shift_products(c->acc, rho, n, s, x, y);
    if (t)
        c->T ^= gf64_dot(rho, t, n);
}

static size_t fold1_out(dzkb *b, uint8_t *buf)
{
    fold1_ctx c;
    memset(&c, 0, sizeof c);
    each_chunk(b, fold1_chunk, &c);
    gf64 H[2 * K1 - 1];
    for (int m = 0; m < 2 * K1 - 1; m++)
        H[m] = gf64_reduce(c.acc[m]);
    if (b->ht)
        dzk_set_claim(b->d, &c.T); /* a cheating prover's claim */
    return dzk_fold_out(b->d, STEP_FOLD1, K1, H, buf);
}

/* After r_1: u' = rho_w sum_b x_b (xi r)^b and v' = sum_b y_b r^(63-b)
 * (the first fold's F and G at r, §5), and each verifier's claim share
 * sum_w rho_w t_w. */
typedef struct {
    gf64 (*tu)[256], (*tb)[256];
    uint64_t *U, *B;
    size_t at;
    gf64 T;
} eval_ctx;

static void eval_chunk(dzkb *b, unsigned s, const uint64_t *x, const uint64_t *y, const uint64_t *t, size_t n,
                       const gf64 *rho, void *ctx)
{
    eval_ctx *c = ctx;
    if (b->pos != DZK_PROVER)
        c->T ^= gf64_dot(rho, t, n);
    if (!s)
        return;
    size_t m = n * s;
    if (c->U) {
        gf64 ev[CHUNK * DZKB_SIGMA_MAX];
        for (size_t i = 0; i < m; i++)
            ev[i] = gf64_bits_eval((const gf64(*)[256])c->tu, x[i]);
        gf64_scale(c->U + c->at, rho, ev, n, s);
    }
    if (c->B)
        for (size_t i = 0; i < m; i++)
            c->B[c->at + i] = gf64_bits_eval((const gf64(*)[256])c->tb, y[i]);
    c->at += m;
}

static void fold1_eval(dzkb *b, gf64 r)
{
    size_t n = 0;
    for (unsigned s = 1; s <= DZKB_SIGMA_MAX; s++)
        n += b->pool[s].nw * s;
    dzk_vectors(b->d, n);
    eval_ctx c = {NULL, NULL, dzk_u(b->d), dzk_b(b->d), 0, 0};
    dzk_need((c.tu = malloc(8 * sizeof *c.tu)) && (c.tb = malloc(8 * sizeof *c.tb)));
    if (c.U)
        gf64_bit_tables(gf64_mul(2, r), c.tu); /* xi r */
    if (c.B) {
        gf64 e[K1];
        e[K1 - 1] = 1;
        for (int j = K1 - 1; j-- > 0;)
            e[j] = gf64_mul(e[j + 1], r);
        gf64_vec_tables(e, c.tb);
    }
    each_chunk(b, eval_chunk, &c);
    free(c.tu);
    free(c.tb);
    free_pools(b); /* the statements are folded into the vectors */
    if (b->pos != DZK_PROVER)
        dzk_set_claim(b->d, &c.T);
    dzk_fold_claim(b->d, STEP_FOLD1, K1, &r);
}

/* ---- the schedule ---- */

static int is_verifier(dzk_pos p) { return p != DZK_PROVER; }

/* the factor of the fold whose message goes at step (2 or even) */
static unsigned fold_k(int step) { return step == STEP_FOLD1 ? K1 : step < 8 ? 16 : 64; }

size_t dzkb_len(int step, dzk_pos from, dzk_pos to)
{
    if (step % 2 && step < DZKB_STEPS) /* sigma_1 or a challenge's halves */
        return is_verifier(from) && to == DZK_PROVER ? dzk_half_len(&GF, step == 1 ? DZK_SIGMA1 : DZK_CHAL) : 0;
    if (step == DZKB_STEPS)
        return is_verifier(from) && is_verifier(to) && from != to ? dzk_exchange_len(&GF) : 0;
    if (from != DZK_PROVER || to != DZK_NEXT || step < STEP_FOLD1 || step > STEP_FINAL)
        return 0;
    return step == STEP_FINAL ? dzk_final_len(&GF) : dzk_fold_len(&GF, fold_k(step));
}

/* the prover at an even step: r of the previous fold, then this step's message */
static size_t prover_out(dzkb *b, int step, uint8_t *buf)
{
    if (step == STEP_FOLD1) {
        dzk_challenge(b->d, DZK_SIGMA1, 1, b->sigma1);
        return fold1_out(b, buf);
    }
    gf64 r;
    dzk_challenge(b->d, DZK_CHAL, step - 1, &r);
    if (step - 2 == STEP_FOLD1)
        fold1_eval(b, r);
    else {
        dzk_fold_claim(b->d, step - 2, fold_k(step - 2), &r);
        dzk_fold(b->d, fold_k(step - 2), &r);
    }
    if (step == STEP_FINAL)
        return dzk_final_out(b->d, step, buf);
    gf64 H[2 * DZK_MAX_K - 1];
    dzk_poly(b->d, fold_k(step), H);
    return dzk_fold_out(b->d, step, fold_k(step), H, buf);
}

/* a verifier at an odd step: its half, then the fold it answers */
static size_t verifier_out(dzkb *b, int step, uint8_t *buf)
{
    if (step == 1)
        return dzk_release(b->d, DZK_SIGMA1, step, buf, b->sigma1);
    gf64 r;
    size_t len = dzk_release(b->d, DZK_CHAL, step, buf, &r);
    if (step - 1 == STEP_FOLD1)
        fold1_eval(b, r);
    else {
        dzk_fold_claim(b->d, step - 1, fold_k(step - 1), &r);
        dzk_fold(b->d, fold_k(step - 1), &r);
    }
    return len;
}

size_t dzkb_out(dzkb *b, int step, dzk_pos to, uint8_t *buf)
{
    dzk_need(step >= 1 && step <= DZKB_STEPS && to != b->pos);
    if (!dzkb_len(step, b->pos, to))
        return 0;
    dzk_need(b->closed && step > b->last_out);
    b->last_out = step;
    if (b->pos == DZK_PROVER)
        return prover_out(b, step, buf);
    if (step == DZKB_STEPS)
        return dzk_exchange_out(b->d, step, STEP_FINAL, buf);
    return verifier_out(b, step, buf);
}

int dzkb_in(dzkb *b, int step, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    dzk_need(step >= 1 && step <= DZKB_STEPS && from != b->pos);
    size_t want = dzkb_len(step, from, b->pos);
    if (len != want)
        return dzk_malformed(b->d, from, step, err, errlen);
    if (!want)
        return 0;
    if (b->pos == DZK_PROVER)
        return dzk_receive(b->d, step == 1 ? DZK_SIGMA1 : DZK_CHAL, step, from, buf, len, err, errlen);
    if (step == DZKB_STEPS)
        return dzk_exchange_in(b->d, buf, len, "bool", err, errlen);
    if (step == STEP_FINAL)
        return dzk_final_in(b->d, step, buf, len, err, errlen);
    return dzk_fold_in(b->d, step, fold_k(step), buf, len, err, errlen);
}
