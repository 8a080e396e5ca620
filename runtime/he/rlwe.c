/* rlwe: BFV-style encryption with t = 2^l over RNS primes (see rlwe.h).
 * GMP serves where a value of the whole modulus is needed: Delta, and
 * decryption's reconstruction and rounding. */
#include "runtime/he/rlwe.h"

#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/net/prg.h"

__extension__ typedef unsigned __int128 u128;

#define CBD_ETA 21

/* --------------------------------------------------------------- helpers */

static uint64_t *row(const rlwe_poly *a, int i, uint32_t n) { return a->c + (size_t)i * n; }

static uint64_t addm(uint64_t a, uint64_t b, uint64_t q) { return a + b >= q ? a + b - q : a + b; }
static uint64_t subm(uint64_t a, uint64_t b, uint64_t q) { return a >= b ? a - b : a + q - b; }

/* a signed value mod q */
static uint64_t smod(int64_t v, uint64_t q)
{
    int64_t r = v % (int64_t)q;
    return (uint64_t)(r < 0 ? r + (int64_t)q : r);
}

/* the modulus of the first k primes into m */
static void modulus(const rlwe_params *p, int k, mpz_t m)
{
    mpz_set_ui(m, 1);
    for (int i = 0; i < k; i++)
        mpz_mul_ui(m, m, (unsigned long)p->q[i]);
}

static void mpz_set_u64(mpz_t z, uint64_t v) { mpz_import(z, 1, -1, sizeof v, 0, 0, &v); }

static uint64_t mpz_mod_u64(const mpz_t z, uint64_t q)
{
    mpz_t r;
    mpz_init(r);
    mpz_fdiv_r_ui(r, z, (unsigned long)q);
    uint64_t v = (uint64_t)mpz_get_ui(r);
    mpz_clear(r);
    return v;
}

/* ----------------------------------------------------------- parameters */

int rlwe_init(rlwe_params *p, uint32_t logn, const uint64_t *q, int nq, int l, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (sizeof(unsigned long) < 8) {
        snprintf(err, errlen, "RLWE: needs 64-bit unsigned long for GMP's word functions");
        return -1;
    }
    if (logn < 2 || logn > 16 || nq < 1 || nq > RLWE_MAX_PRIMES || l < 1 || l > 64) {
        snprintf(err, errlen, "RLWE: N = 2^%u, %d primes, t = 2^%d out of range", logn, nq, l);
        return -1;
    }
    p->logn = logn, p->n = (uint32_t)1 << logn, p->nq = nq, p->l = l;
    for (int i = 0; i < nq; i++) {
        p->q[i] = q[i];
        for (int j = 0; j < i; j++)
            if (q[j] == q[i]) {
                snprintf(err, errlen, "RLWE: prime %d repeats prime %d", i, j);
                rlwe_free(p);
                return -1;
            }
        if (ntt_init(&p->ntt[i], q[i], logn)) {
            snprintf(err, errlen, "RLWE: %llu is not a prime = 1 mod 2N below 2^62", (unsigned long long)q[i]);
            rlwe_free(p);
            return -1;
        }
    }
    mpz_t m, d;
    mpz_inits(m, d, NULL);
    int rc = 0;
    for (int k = 1; k <= nq && rc == 0; k++) {
        modulus(p, k, m);
        mpz_fdiv_q_2exp(d, m, (mp_bitcnt_t)l); /* 0 below t: no message fits at that level */
        if (k == nq && mpz_sgn(d) == 0) {
            snprintf(err, errlen, "RLWE: the modulus is below t = 2^%d", l);
            rc = -1;
        }
        for (int i = 0; i < k && rc == 0; i++)
            p->delta[k - 1][i] = mpz_mod_u64(d, p->q[i]);
    }
    mpz_clears(m, d, NULL);
    if (rc)
        rlwe_free(p);
    return rc;
}

void rlwe_free(rlwe_params *p)
{
    for (int i = 0; i < RLWE_MAX_PRIMES; i++)
        if (p->ntt[i].w)
            ntt_free(&p->ntt[i]);
    memset(p, 0, sizeof *p);
}

int rlwe_poly_alloc(const rlwe_params *p, rlwe_poly *a, int nq)
{
    a->nq = nq;
    a->c = calloc((size_t)nq * p->n, sizeof *a->c);
    return a->c ? 0 : -1;
}

void rlwe_poly_free(rlwe_poly *a)
{
    free(a->c);
    a->c = NULL;
}

int rlwe_ct_alloc(const rlwe_params *p, rlwe_ct *c, int nq)
{
    if (rlwe_poly_alloc(p, &c->c0, nq) || rlwe_poly_alloc(p, &c->c1, nq)) {
        rlwe_ct_free(c);
        return -1;
    }
    return 0;
}

void rlwe_ct_free(rlwe_ct *c)
{
    rlwe_poly_free(&c->c0);
    rlwe_poly_free(&c->c1);
}

/* ------------------------------------------------------------ sampling */

int rlwe_keygen(const rlwe_params *p, const uint8_t seed[16], rlwe_sk *sk)
{
    uint32_t n = p->n;
    memset(sk, 0, sizeof *sk);
    prg *g = prg_new(seed);
    sk->ts = malloc(n);
    if (!g || !sk->ts || rlwe_poly_alloc(p, &sk->s, p->nq)) {
        prg_free(g);
        rlwe_sk_free(sk);
        return -1;
    }
    for (uint32_t j = 0; j < n;) { /* uniform in {-1, 0, 1}: bytes below 255, mod 3 */
        uint8_t b;
        prg_fill(g, &b, 1);
        if (b < 255)
            sk->ts[j++] = (int8_t)(b % 3) - 1;
    }
    prg_free(g);
    for (int i = 0; i < p->nq; i++) {
        uint64_t *s = row(&sk->s, i, n);
        for (uint32_t j = 0; j < n; j++)
            s[j] = smod(sk->ts[j], p->q[i]);
        ntt_forward(&p->ntt[i], s);
    }
    return 0;
}

void rlwe_sk_free(rlwe_sk *sk)
{
    rlwe_poly_free(&sk->s);
    free(sk->ts);
    sk->ts = NULL;
}

void rlwe_expand_a(const rlwe_params *p, const uint8_t seed[16], rlwe_poly *a)
{
    prg *g = prg_new(seed);
    if (!g)
        abort(); /* both sides must draw the same a: no fallback */
    for (int i = 0; i < a->nq; i++) {
        uint64_t q = p->q[i], lim = (uint64_t)(((u128)1 << 64) / q * q - 1), *r = row(a, i, p->n);
        for (uint32_t j = 0; j < p->n;) {
            uint64_t w;
            prg_fill(g, &w, sizeof w);
            if (w <= lim) /* rejection: uniform mod q */
                r[j++] = w % q;
        }
    }
    prg_free(g);
}

/* centred binomial errors, |e| <= CBD_ETA */
static void errors(const uint8_t seed[16], int64_t *e, uint32_t n)
{
    prg *g = prg_new(seed);
    if (!g)
        abort();
    for (uint32_t j = 0; j < n; j++) {
        uint64_t w = 0;
        prg_fill(g, &w, 6);
        e[j] = (int64_t)__builtin_popcountll(w & ((1ull << CBD_ETA) - 1)) -
               (int64_t)__builtin_popcountll((w >> CBD_ETA) & ((1ull << CBD_ETA) - 1));
    }
    prg_free(g);
}

/* out = a s in row i (coefficient form; s transformed) */
static void times_s(const rlwe_params *p, const rlwe_sk *sk, const uint64_t *a, int i, uint64_t *out)
{
    memcpy(out, a, p->n * sizeof *out);
    ntt_forward(&p->ntt[i], out);
    ntt_pointwise(&p->ntt[i], out, out, row(&sk->s, i, p->n));
    ntt_inverse(&p->ntt[i], out);
}

/* --------------------------------------------------- encrypt, decrypt */

int rlwe_encrypt(const rlwe_params *p, const rlwe_sk *sk, const uint64_t *m, const uint8_t aseed[16],
                 const uint8_t eseed[16], rlwe_ct *c)
{
    uint32_t n = p->n;
    int64_t *e = malloc(n * sizeof *e);
    uint64_t *as = malloc(n * sizeof *as);
    if (!e || !as) {
        free(e), free(as);
        return -1;
    }
    errors(eseed, e, n);
    rlwe_expand_a(p, aseed, &c->c1);
    for (int i = 0; i < c->c0.nq; i++) {
        uint64_t q = p->q[i], dl = p->delta[c->c0.nq - 1][i], *c0 = row(&c->c0, i, n);
        times_s(p, sk, row(&c->c1, i, n), i, as);
        for (uint32_t j = 0; j < n; j++)
            c0[j] = addm(subm(smod(e[j], q), as[j], q), ntt_mulmod(dl, m[j] % q, q), q);
    }
    free(e), free(as);
    return 0;
}

/* x_j = c0 + c1 s (coefficient j, mod the ciphertext's modulus) by CRT;
 * calls fn(ud, j, x, modulus) for each j */
static int phases(const rlwe_params *p, const rlwe_sk *sk, const rlwe_ct *c,
                  void (*fn)(void *ud, uint32_t j, const mpz_t x, const mpz_t q), void *ud)
{
    uint32_t n = p->n;
    int k = c->c0.nq;
    uint64_t *v = malloc((size_t)k * n * sizeof *v), y[RLWE_MAX_PRIMES];
    if (!v)
        return -1;
    mpz_t Q, Qi[RLWE_MAX_PRIMES], x, t, qi;
    mpz_inits(Q, x, t, qi, NULL);
    modulus(p, k, Q);
    for (int i = 0; i < k; i++) {
        uint64_t *vi = v + (size_t)i * n, q = p->q[i];
        times_s(p, sk, row(&c->c1, i, n), i, vi);
        for (uint32_t j = 0; j < n; j++)
            vi[j] = addm(vi[j], row(&c->c0, i, n)[j], q);
        mpz_init(Qi[i]);
        mpz_set_u64(qi, q);
        mpz_divexact(Qi[i], Q, qi);
        mpz_set_u64(t, mpz_mod_u64(Qi[i], q));
        mpz_invert(t, t, qi);
        y[i] = (uint64_t)mpz_get_ui(t); /* (Q / q_i)^-1 mod q_i */
    }
    for (uint32_t j = 0; j < n; j++) {
        mpz_set_ui(x, 0);
        for (int i = 0; i < k; i++) {
            mpz_mul_ui(t, Qi[i], (unsigned long)ntt_mulmod(v[(size_t)i * n + j], y[i], p->q[i]));
            mpz_add(x, x, t);
        }
        mpz_mod(x, x, Q);
        fn(ud, j, x, Q);
    }
    for (int i = 0; i < k; i++)
        mpz_clear(Qi[i]);
    mpz_clears(Q, x, t, qi, NULL);
    free(v);
    return 0;
}

typedef struct {
    int l;
    uint64_t *m;
} dec_ctx;

/* m = round(t x / Q) mod t */
static void dec_one(void *ud, uint32_t j, const mpz_t x, const mpz_t Q)
{
    dec_ctx *d = ud;
    mpz_t r, h;
    mpz_inits(r, h, NULL);
    mpz_mul_2exp(r, x, (mp_bitcnt_t)d->l);
    mpz_fdiv_q_2exp(h, Q, 1);
    mpz_add(r, r, h);
    mpz_fdiv_q(r, r, Q);
    mpz_fdiv_r_2exp(r, r, (mp_bitcnt_t)d->l);
    uint64_t v = 0;
    mpz_export(&v, NULL, -1, sizeof v, 0, 0, r);
    d->m[j] = v;
    mpz_clears(r, h, NULL);
}

int rlwe_decrypt(const rlwe_params *p, const rlwe_sk *sk, const rlwe_ct *c, uint64_t *m)
{
    dec_ctx d = {p->l, m};
    return phases(p, sk, c, dec_one, &d);
}

typedef struct {
    int l;
    const uint64_t *m;
    size_t bits;
} noise_ctx;

/* |t x - Q m| centred mod t Q */
static void noise_one(void *ud, uint32_t j, const mpz_t x, const mpz_t Q)
{
    noise_ctx *d = ud;
    mpz_t v, tq, h;
    mpz_inits(v, tq, h, NULL);
    mpz_mul_2exp(v, x, (mp_bitcnt_t)d->l);
    mpz_set_u64(h, d->m[j]);
    mpz_mul(h, h, Q);
    mpz_sub(v, v, h);
    mpz_mul_2exp(tq, Q, (mp_bitcnt_t)d->l);
    mpz_mod(v, v, tq);
    mpz_fdiv_q_2exp(h, tq, 1);
    if (mpz_cmp(v, h) > 0)
        mpz_sub(v, tq, v);
    size_t b = mpz_sgn(v) ? mpz_sizeinbase(v, 2) : 0;
    d->bits = b > d->bits ? b : d->bits;
    mpz_clears(v, tq, h, NULL);
}

int rlwe_noise_budget(const rlwe_params *p, const rlwe_sk *sk, const rlwe_ct *c, const uint64_t *m)
{
    noise_ctx d = {p->l, m, 0};
    if (phases(p, sk, c, noise_one, &d))
        return -1000;
    mpz_t Q;
    mpz_init(Q);
    modulus(p, c->c0.nq, Q);
    int qbits = (int)mpz_sizeinbase(Q, 2);
    mpz_clear(Q);
    return qbits - 1 - (int)d.bits;
}

/* ---------------------------------------------- the owner's operations */

int rlwe_mul_plain(const rlwe_params *p, rlwe_ct *c, const int64_t *w)
{
    uint32_t n = p->n;
    uint64_t *W = malloc(n * sizeof *W);
    if (!W)
        return -1;
    for (int i = 0; i < c->c0.nq; i++) {
        for (uint32_t j = 0; j < n; j++)
            W[j] = smod(w[j], p->q[i]);
        ntt_forward(&p->ntt[i], W);
        uint64_t *part[2] = {row(&c->c0, i, n), row(&c->c1, i, n)};
        for (int h = 0; h < 2; h++) {
            ntt_forward(&p->ntt[i], part[h]);
            ntt_pointwise(&p->ntt[i], part[h], part[h], W);
            ntt_inverse(&p->ntt[i], part[h]);
        }
    }
    free(W);
    return 0;
}

void rlwe_add_plain(const rlwe_params *p, rlwe_ct *c, const uint64_t *r)
{
    for (int i = 0; i < c->c0.nq; i++) {
        uint64_t q = p->q[i], dl = p->delta[c->c0.nq - 1][i], *c0 = row(&c->c0, i, p->n);
        for (uint32_t j = 0; j < p->n; j++)
            c0[j] = addm(c0[j], ntt_mulmod(dl, r[j] % q, q), q);
    }
}

/* c' = (c - [c]_qL) / qL in the remaining primes: round(c / qL) */
static void switch_poly(const rlwe_params *p, rlwe_poly *a)
{
    int L = a->nq - 1;
    uint64_t qL = p->q[L], *last = row(a, L, p->n);
    for (int i = 0; i < L; i++) {
        uint64_t q = p->q[i], inv = 1, b = qL % q, *ai = row(a, i, p->n);
        for (uint64_t e = q - 2; e; e >>= 1, b = ntt_mulmod(b, b, q)) /* qL^-1 mod q */
            if (e & 1)
                inv = ntt_mulmod(inv, b, q);
        for (uint32_t j = 0; j < p->n; j++) {
            int64_t r = last[j] > qL / 2 ? (int64_t)last[j] - (int64_t)qL : (int64_t)last[j];
            ai[j] = ntt_mulmod(subm(ai[j], smod(r, q), q), inv, q);
        }
    }
    a->nq = L;
}

void rlwe_mod_switch(const rlwe_params *p, rlwe_ct *c)
{
    if (c->c0.nq < 2)
        return;
    switch_poly(p, &c->c0);
    switch_poly(p, &c->c1);
}
