/* dzkp: keys, draws, challenge halves, folds and the final step of
 * rep3-active's proofs (see dzkp.h). */
#include "runtime/proto/dzkp.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEY_MASK, KEY_MASK_NEXT, KEY_CHAL, NKEYS };
enum { MAX_COEF = 2 * DZK_MAX_K - 1, FINAL_COEF = 2 * DZK_FINAL_N + 1, FINAL_MID = DZK_FINAL_N + 1 };
enum { HALF_BYTES = 8 * DZK_MAX_WORDS > DZK_SEED ? 8 * DZK_MAX_WORDS : DZK_SEED };

struct dzk {
    const dzk_field *f;
    dzk_pos pos;
    int prover, proof;
    EVP_CIPHER_CTX *key[NKEYS]; /* NULL where this position lacks the key */
    EVP_CIPHER_CTX *cheat;      /* tests: the challenge key of a cheating prover */
    unsigned cheat_halves;
    int closed;
    int taken;    /* next: the last step whose prover message it read */
    int released; /* a verifier: the last step it derived a half or point at */
    uint64_t *U, *B;
    size_t n, cap;
    uint64_t T[DZK_MAX_WORDS];
    /* the coefficient shares of the current message: next, as received;
     * prev, its masks; a cheating prover, what it sent unmasked */
    uint64_t coef[MAX_COEF * DZK_MAX_WORDS];
    uint8_t half[2][HALF_BYTES]; /* the prover: halves from prev, next */
    int half_step[2];
    uint64_t mine[2 * DZK_MAX_WORDS]; /* a verifier's final pair */
    int exchanged;
};

static uint64_t *el(const dzk *d, uint64_t *a, size_t i) { return a + i * d->f->words; }
static size_t elt_bytes(const dzk_field *f) { return 8 * (size_t)f->words; }

/* ---- AES on ctx blocks ---- */

static EVP_CIPHER_CTX *aes_new(const uint8_t key[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c || EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) != 1) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    EVP_CIPHER_CTX_set_padding(c, 0);
    return c;
}

static void aes_block(EVP_CIPHER_CTX *c, const uint8_t in[16], uint8_t out[16])
{
    int len = 0;
    dzk_need(EVP_EncryptUpdate(c, out, &len, in, 16) == 1 && len == 16);
}

static void ctx_block(uint8_t b[16], int prover, int proof, int purpose, int half, int step, uint64_t index)
{
    b[0] = (uint8_t)prover, b[1] = (uint8_t)proof, b[2] = (uint8_t)purpose, b[3] = (uint8_t)half;
    for (int i = 0; i < 4; i++)
        b[4 + i] = (uint8_t)((uint32_t)step >> (8 * i));
    for (int i = 0; i < 8; i++)
        b[8 + i] = (uint8_t)(index >> (8 * i));
}

/* sigma_1 is one seed for both proofs (§4.2: the boolean weights and the
 * ring subsets both come from it) */
static int proof_of(const dzk *d, int purpose) { return purpose == DZK_SIGMA1 ? DZK_PROOF_BOTH : d->proof; }

static void draw_seed(const dzk *d, EVP_CIPHER_CTX *k, int purpose, int half, int step, uint8_t out[DZK_SEED])
{
    uint8_t in[16];
    ctx_block(in, d->prover, proof_of(d, purpose), purpose, half, step, 0);
    aes_block(k, in, out);
}

/* element m of (purpose, half, step): its leading bytes of one or two
 * blocks, redrawn under index + 2^32 while they are no element */
static void draw(const dzk *d, EVP_CIPHER_CTX *k, int purpose, int half, int step, uint64_t m, uint64_t *e)
{
    size_t nb = (elt_bytes(d->f) + 15) / 16;
    dzk_need(k != NULL);
    for (uint64_t a = 0;; a++) {
        uint8_t in[16], out[2 * 16];
        for (size_t j = 0; j < nb; j++) {
            ctx_block(in, d->prover, proof_of(d, purpose), purpose, half, step, a << 32 | (m * nb + j));
            aes_block(k, in, out + 16 * j);
        }
        if (d->f->decode(e, out) == 0)
            return;
    }
}

void dzk_derive_keys(const uint8_t run_id[32], int k, const uint8_t seed[16], uint8_t mask[16], uint8_t chal[16])
{
    static const char *label[2] = {"qnn rep3a mask", "qnn rep3a chal"};
    uint8_t *out[2] = {mask, chal};
    for (int i = 0; i < 2; i++) {
        uint8_t msg[14 + 32 + 1 + 16], md[32];
        unsigned len = 0;
        memcpy(msg, label[i], 14);
        memcpy(msg + 14, run_id, 32);
        msg[46] = (uint8_t)k;
        memcpy(msg + 47, seed, 16);
        dzk_need(EVP_Digest(msg, sizeof msg, md, &len, EVP_sha256(), NULL) == 1 && len == 32);
        memcpy(out[i], md, 16);
    }
}

void dzk_seed_key(const uint8_t seed[DZK_SEED], int prover, int proof, int purpose, uint8_t key[16])
{
    EVP_CIPHER_CTX *c = aes_new(seed);
    uint8_t in[16];
    dzk_need(c != NULL);
    ctx_block(in, prover, proof, purpose, DZK_WHOLE, 0, 0);
    aes_block(c, in, key);
    EVP_CIPHER_CTX_free(c);
}

/* ---- the object ---- */

dzk *dzk_new(const dzk_field *f, dzk_pos pos, int prover, int proof, const dzk_keys *keys, const dzk_cheat *cheat)
{
    dzk *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->f = f, d->pos = pos, d->prover = prover, d->proof = proof;
    const uint8_t *k[NKEYS] = {keys->mask, keys->mask_next, keys->chal};
    /* which keys each position needs, and the prover never the challenge key */
    dzk_need((pos != DZK_NEXT) == (k[KEY_MASK] != NULL) && (pos != DZK_PREV) == (k[KEY_MASK_NEXT] != NULL) &&
             (pos != DZK_PROVER) == (k[KEY_CHAL] != NULL) && (!cheat || pos == DZK_PROVER));
    int ok = 1;
    for (int i = 0; i < NKEYS; i++)
        if (k[i])
            ok &= (d->key[i] = aes_new(k[i])) != NULL;
    if (cheat) {
        ok &= (d->cheat = aes_new(cheat->chal)) != NULL;
        d->cheat_halves = cheat->halves;
    }
    if (!ok) {
        dzk_free(d);
        return NULL;
    }
    return d;
}

void dzk_free(dzk *d)
{
    if (!d)
        return;
    for (int i = 0; i < NKEYS; i++)
        EVP_CIPHER_CTX_free(d->key[i]);
    EVP_CIPHER_CTX_free(d->cheat);
    free(d->U);
    free(d->B);
    free(d);
}

void dzk_close(dzk *d) { d->closed = 1; }

/* ---- challenges ---- */

static int is_seed(int purpose) { return purpose == DZK_SIGMA1 || purpose == DZK_SIGMA2; }

size_t dzk_half_len(const dzk_field *f, int purpose) { return is_seed(purpose) ? DZK_SEED : elt_bytes(f); }

/* the halves h[0] (p) and h[1] (n) combined */
static void combine(const dzk *d, int purpose, const uint8_t h[2][HALF_BYTES], void *c)
{
    if (is_seed(purpose)) {
        for (int i = 0; i < DZK_SEED; i++)
            ((uint8_t *)c)[i] = h[0][i] ^ h[1][i];
        return;
    }
    uint64_t a[DZK_MAX_WORDS], b[DZK_MAX_WORDS];
    dzk_need(d->f->decode(a, h[0]) == 0 && d->f->decode(b, h[1]) == 0);
    d->f->add(c, a, b);
}

/* Both halves from the challenge key: H-1's release point. At next the
 * prover's message being answered (that of step - 1) must have been read;
 * sigma_1 answers the whole batch, which must be closed. */
size_t dzk_release(dzk *d, int purpose, int step, uint8_t *buf, void *c)
{
    dzk_need(d->pos != DZK_PROVER && d->closed && step > d->released &&
             (d->pos == DZK_PREV || purpose == DZK_SIGMA1 || d->taken == step - 1));
    d->released = step;
    uint8_t h[2][HALF_BYTES];
    for (int i = 0; i < 2; i++) {
        int half = i ? DZK_HALF_N : DZK_HALF_P;
        if (is_seed(purpose))
            draw_seed(d, d->key[KEY_CHAL], purpose, half, step, h[i]);
        else {
            uint64_t e[DZK_MAX_WORDS];
            draw(d, d->key[KEY_CHAL], purpose, half, step, 0, e);
            d->f->encode(h[i], e);
        }
    }
    combine(d, purpose, (const uint8_t(*)[HALF_BYTES])h, c);
    size_t len = dzk_half_len(d->f, purpose);
    memcpy(buf, h[d->pos == DZK_NEXT], len);
    return len;
}

int dzk_malformed(const dzk *d, dzk_pos from, int step, char *err, size_t errlen)
{
    snprintf(err, errlen, "malformed proof message from party %d (step V%d)", dzk_party(d->prover, from), step);
    return -1;
}

int dzk_receive(dzk *d, int purpose, int step, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    dzk_need(d->pos == DZK_PROVER && from != DZK_PROVER);
    uint64_t e[DZK_MAX_WORDS];
    if (len != dzk_half_len(d->f, purpose) || (!is_seed(purpose) && d->f->decode(e, buf)))
        return dzk_malformed(d, from, step, err, errlen);
    int i = from == DZK_NEXT;
    memcpy(d->half[i], buf, len);
    d->half_step[i] = step;
    return 0;
}

void dzk_challenge(dzk *d, int purpose, int step, void *c)
{
    dzk_need(d->pos == DZK_PROVER && d->half_step[0] == step && d->half_step[1] == step);
    combine(d, purpose, (const uint8_t(*)[HALF_BYTES])d->half, c);
}

void dzk_took(dzk *d, int step)
{
    dzk_need(d->pos == DZK_NEXT && step > d->taken);
    d->taken = step;
}

void dzk_mask_bytes(dzk *d, int purpose, int step, uint8_t *out, size_t n)
{
    dzk_need(d->key[KEY_MASK] != NULL);
    for (uint64_t i = 0; n; i++) {
        uint8_t in[16], block[16];
        size_t k = n < 16 ? n : 16;
        ctx_block(in, d->prover, d->proof, purpose, DZK_WHOLE, step, i);
        aes_block(d->key[KEY_MASK], in, block);
        memcpy(out, block, k);
        out += k, n -= k;
    }
}

/* ---- vectors and claim ---- */

void dzk_vectors(dzk *d, size_t n)
{
    free(d->U);
    free(d->B);
    d->U = d->B = NULL;
    d->n = n;
    d->cap = n < DZK_MAX_K ? DZK_MAX_K : (n + DZK_MAX_K - 1) / DZK_MAX_K * DZK_MAX_K; /* any fold's groups */
    size_t bytes = d->cap * elt_bytes(d->f);
    if (d->pos != DZK_NEXT)
        dzk_need((d->U = calloc(1, bytes)) != NULL);
    if (d->pos != DZK_PREV)
        dzk_need((d->B = calloc(1, bytes)) != NULL);
}

uint64_t *dzk_u(dzk *d) { return d->U; }
uint64_t *dzk_b(dzk *d) { return d->B; }

void dzk_set_claim(dzk *d, const uint64_t *T) { memcpy(d->T, T, elt_bytes(d->f)); }

/* sum_{m != mid} coef[m] r^m + T r^mid, by Horner */
static void claim_at(dzk *d, unsigned ncoef, unsigned mid, const uint64_t *r, uint64_t *out)
{
    uint64_t acc[DZK_MAX_WORDS] = {0};
    for (unsigned m = ncoef; m-- > 0;) {
        d->f->mul(acc, acc, r);
        d->f->add(acc, acc, m == mid ? d->T : el(d, d->coef, m));
    }
    memcpy(out, acc, elt_bytes(d->f));
}

static void powers(const dzk *d, const uint64_t *r, unsigned k, uint64_t *pw)
{
    memcpy(pw, d->f->one, elt_bytes(d->f));
    for (unsigned j = 1; j < k; j++)
        d->f->mul(pw + j * d->f->words, pw + (j - 1) * d->f->words, r);
}

/* ---- folds ---- */

size_t dzk_fold_len(const dzk_field *f, unsigned k) { return (2 * (size_t)k - 2) * elt_bytes(f); }

void dzk_poly(dzk *d, unsigned k, uint64_t *H)
{
    size_t groups = (d->n + k - 1) / k;
    dzk_need(d->pos == DZK_PROVER && k <= DZK_MAX_K && groups * k <= d->cap);
    d->f->poly(H, d->U, d->B, groups, k);
}

/* A prover that knows (part of) the challenge r of this message early:
 * with e = H_mid - T the claim's error, adding e g^mid to H_0 makes the
 * verifiers' H(r) with T in the middle equal to the true one when g = r. */
static void forge(dzk *d, int step, unsigned k)
{
    uint64_t g[DZK_MAX_WORDS] = {0}, e[DZK_MAX_WORDS], t[DZK_MAX_WORDS];
    for (int half = DZK_HALF_P; half <= DZK_HALF_N; half++)
        if (d->cheat_halves & (1u << half)) {
            draw(d, d->cheat, DZK_CHAL, half, step + 1, 0, t);
            d->f->add(g, g, t);
        }
    d->f->sub(e, el(d, d->coef, k - 1), d->T);
    memcpy(t, d->f->one, elt_bytes(d->f));
    for (unsigned j = 0; j < k - 1; j++)
        d->f->mul(t, t, g);
    d->f->mul(t, t, e);
    d->f->add(d->coef, d->coef, t);
}

/* the coefficients of coef but mid, each minus its mask, onto the wire */
static size_t send_masked(dzk *d, int step, unsigned ncoef, unsigned mid, uint8_t *buf)
{
    size_t at = 0, bytes = elt_bytes(d->f);
    for (unsigned m = 0; m < ncoef; m++) {
        if (m == mid)
            continue;
        uint64_t h[DZK_MAX_WORDS], v[DZK_MAX_WORDS];
        draw(d, d->key[KEY_MASK], DZK_MASK, DZK_WHOLE, step, m, h);
        d->f->sub(v, el(d, d->coef, m), h);
        d->f->encode(buf + at, v);
        at += bytes;
    }
    return at;
}

size_t dzk_fold_out(dzk *d, int step, unsigned k, const uint64_t *H, uint8_t *buf)
{
    dzk_need(d->pos == DZK_PROVER && k >= 2 && k <= DZK_MAX_K);
    memcpy(d->coef, H, (2 * k - 1) * elt_bytes(d->f));
    if (d->cheat)
        forge(d, step, k);
    return send_masked(d, step, 2 * k - 1, k - 1, buf);
}

/* next: the prover's coefficients but mid into coef */
static int take_coefs(dzk *d, int step, unsigned ncoef, unsigned mid, const uint8_t *buf, size_t len, char *err,
                      size_t errlen)
{
    dzk_need(d->pos == DZK_NEXT && step > d->taken);
    size_t bytes = elt_bytes(d->f), at = 0;
    if (len != (ncoef - 1) * bytes)
        return dzk_malformed(d, DZK_PROVER, step, err, errlen);
    for (unsigned m = 0; m < ncoef; m++) {
        if (m == mid)
            continue;
        if (d->f->decode(el(d, d->coef, m), buf + at))
            return dzk_malformed(d, DZK_PROVER, step, err, errlen);
        at += bytes;
    }
    dzk_took(d, step);
    return 0;
}

int dzk_fold_in(dzk *d, int step, unsigned k, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    dzk_need(k >= 2 && k <= DZK_MAX_K);
    return take_coefs(d, step, 2 * k - 1, k - 1, buf, len, err, errlen);
}

/* prev's shares of a message are its masks */
static void masks(dzk *d, int step, unsigned ncoef, unsigned mid)
{
    for (unsigned m = 0; m < ncoef; m++)
        if (m != mid)
            draw(d, d->key[KEY_MASK], DZK_MASK, DZK_WHOLE, step, m, el(d, d->coef, m));
}

void dzk_fold_claim(dzk *d, int step, unsigned k, const uint64_t *r)
{
    if (d->pos == DZK_PROVER && !d->cheat)
        return; /* an honest prover needs no claim */
    if (d->pos == DZK_PREV)
        masks(d, step, 2 * k - 1, k - 1);
    claim_at(d, 2 * k - 1, k - 1, r, d->T);
}

void dzk_fold(dzk *d, unsigned k, const uint64_t *r)
{
    uint64_t pw[DZK_MAX_K * DZK_MAX_WORDS], rev[DZK_MAX_K * DZK_MAX_WORDS];
    unsigned w = d->f->words;
    size_t groups = (d->n + k - 1) / k;
    dzk_need(k >= 2 && k <= DZK_MAX_K && groups * k <= d->cap);
    powers(d, r, k, pw);
    for (unsigned j = 0; j < k; j++)
        memcpy(rev + j * w, pw + (k - 1 - j) * w, elt_bytes(d->f));
    uint64_t *v[2] = {d->U, d->B};
    for (int i = 0; i < 2; i++) {
        if (!v[i])
            continue;
        d->f->eval(v[i], v[i], groups, k, i ? rev : pw);
        /* later folds (by at most DZK_MAX_K) read padding below groups + DZK_MAX_K only */
        size_t pad = d->cap - groups < DZK_MAX_K ? d->cap - groups : DZK_MAX_K;
        memset(el(d, v[i], groups), 0, pad * elt_bytes(d->f));
    }
    d->n = groups;
}

/* ---- final step ---- */

size_t dzk_final_len(const dzk_field *f) { return (FINAL_COEF - 1) * elt_bytes(f); }
size_t dzk_exchange_len(const dzk_field *f) { return 2 * elt_bytes(f); }

/* F = alpha + sum_j U_j Z^(j+1) and G = beta + sum_j B_j Z^(n-j), n =
 * DZK_FINAL_N (the vector padded): as one fold group of k = n + 1, F's
 * coefficients are (alpha, U_0, ..., U_(n-1)) and G's, read as
 * sum_i g_i Z^(k-1-i), are (B_0, ..., B_(n-1), beta). Then H = F G has
 * <U, B> as its coefficient n + 1. */
static void final_f(dzk *d, int step, uint64_t *F)
{
    draw(d, d->key[KEY_MASK], DZK_ALPHA, DZK_WHOLE, step, 0, F);
    memcpy(el(d, F, 1), d->U, DZK_FINAL_N * elt_bytes(d->f));
}

static void final_g(dzk *d, int step, uint64_t *G)
{
    memcpy(G, d->B, DZK_FINAL_N * elt_bytes(d->f));
    draw(d, d->key[KEY_MASK_NEXT], DZK_BETA, DZK_WHOLE, step, 0, el(d, G, DZK_FINAL_N));
}

size_t dzk_final_out(dzk *d, int step, uint8_t *buf)
{
    uint64_t F[(DZK_FINAL_N + 1) * DZK_MAX_WORDS], G[(DZK_FINAL_N + 1) * DZK_MAX_WORDS];
    dzk_need(d->pos == DZK_PROVER && d->n <= DZK_FINAL_N);
    final_f(d, step, F);
    final_g(d, step, G);
    d->f->poly(d->coef, F, G, 1, DZK_FINAL_N + 1);
    return send_masked(d, step, FINAL_COEF, FINAL_MID, buf);
}

int dzk_final_in(dzk *d, int step, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    return take_coefs(d, step, FINAL_COEF, FINAL_MID, buf, len, err, errlen);
}

size_t dzk_exchange_out(dzk *d, int step, int msg_step, uint8_t *buf)
{
    dzk_need(d->pos != DZK_PROVER && d->closed && step > d->released && (d->pos == DZK_PREV || d->taken == step - 1) &&
             d->n <= DZK_FINAL_N);
    d->released = step;
    unsigned w = d->f->words;
    uint64_t r[DZK_MAX_WORDS], pw[(DZK_FINAL_N + 1) * DZK_MAX_WORDS], v[(DZK_FINAL_N + 1) * DZK_MAX_WORDS];
    draw(d, d->key[KEY_CHAL], DZK_POINT, DZK_WHOLE, step, 0, r);
    powers(d, r, DZK_FINAL_N + 1, pw);
    if (d->pos == DZK_PREV) {
        final_f(d, msg_step, v);
        masks(d, msg_step, FINAL_COEF, FINAL_MID);
    } else { /* G is read with reversed powers */
        final_g(d, msg_step, v);
        for (unsigned i = 0; i < (DZK_FINAL_N + 1) / 2; i++)
            for (unsigned j = 0; j < w; j++) {
                uint64_t t = v[i * w + j];
                v[i * w + j] = v[(DZK_FINAL_N - i) * w + j];
                v[(DZK_FINAL_N - i) * w + j] = t;
            }
    }
    d->f->eval(d->mine, v, 1, DZK_FINAL_N + 1, pw);
    claim_at(d, FINAL_COEF, FINAL_MID, r, d->mine + w);
    d->f->encode(buf, d->mine);
    d->f->encode(buf + elt_bytes(d->f), d->mine + w);
    d->exchanged = 1;
    return dzk_exchange_len(d->f);
}

int dzk_exchange_in(dzk *d, const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen)
{
    dzk_need(d->exchanged);
    unsigned w = d->f->words;
    dzk_pos from = d->pos == DZK_PREV ? DZK_NEXT : DZK_PREV;
    uint64_t o[2 * DZK_MAX_WORDS], lhs[DZK_MAX_WORDS], rhs[DZK_MAX_WORDS];
    if (len != dzk_exchange_len(d->f) || d->f->decode(o, buf) || d->f->decode(o + w, buf + elt_bytes(d->f)))
        return dzk_malformed(d, from, d->released, err, errlen);
    d->f->mul(lhs, d->mine, o);
    d->f->add(rhs, d->mine + w, o + w);
    if (memcmp(lhs, rhs, elt_bytes(d->f))) {
        snprintf(err, errlen, "party %d's proof failed (%s, final check)", d->prover, name);
        return -1;
    }
    return 0;
}
