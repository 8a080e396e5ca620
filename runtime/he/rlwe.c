/* rlwe: RLWE with a power-of-two modulus (see rlwe.h). */
#include "runtime/he/rlwe.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/net/prg.h"

typedef kern_u128 u128;

#define CBD_ETA 21

static u128 mask(unsigned q) { return ((u128)1 << q) - 1; }

/* ------------------------------------------------------------ set-up */

int rlwe_init(rlwe_params *p, uint32_t logn)
{
    memset(p, 0, sizeof *p);
    if (logn < 2 || logn > 16)
        return -1;
    p->logn = logn, p->n = (uint32_t)1 << logn;
    uint64_t p1 = ntt_prime_below((uint64_t)1 << 61, p->n), p2 = ntt_prime_below(p1, p->n);
    if (!p1 || !p2 || ntt_init(&p->t1, p1, logn) || ntt_init(&p->t2, p2, logn)) {
        rlwe_free(p);
        return -1;
    }
    uint64_t inv = 1, b = p1 % p2; /* p1^-1 mod p2 by Fermat */
    for (uint64_t e = p2 - 2; e; e >>= 1, b = ntt_mulmod(b, b, p2))
        if (e & 1)
            inv = ntt_mulmod(inv, b, p2);
    p->p1inv = inv;
    return 0;
}

void rlwe_free(rlwe_params *p)
{
    if (p->t1.w)
        ntt_free(&p->t1);
    if (p->t2.w)
        ntt_free(&p->t2);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------ streams */

/* the stream (tag, seed, ctr): AES-CTR keyed by a hash of them */
static prg *stream(const char *tag, const uint8_t seed[16], uint64_t ctr)
{
    uint8_t m[32 + 16 + 8], h[SHA256_DIGEST_LENGTH];
    memset(m, 0, sizeof m);
    strncpy((char *)m, tag, 31);
    memcpy(m + 32, seed, 16);
    for (int i = 0; i < 8; i++)
        m[48 + i] = (uint8_t)(ctr >> (8 * i));
    SHA256(m, sizeof m, h);
    prg *g = prg_new(h);
    if (!g)
        abort(); /* both sides must draw the same stream: no fallback */
    return g;
}

void rlwe_expand(const uint8_t seed[16], uint64_t ctr, unsigned q, uint32_t n, kern_u128 *a)
{
    prg *g = stream("qnn rlwe a", seed, ctr);
    prg_fill(g, a, n * sizeof *a);
    for (uint32_t j = 0; j < n; j++)
        a[j] &= mask(q); /* uniform: Q is a power of two */
    prg_free(g);
}

void rlwe_errors(const uint8_t seed[16], uint64_t ctr, uint32_t n, int64_t *e)
{
    prg *g = stream("qnn rlwe e", seed, ctr);
    for (uint32_t j = 0; j < n; j++) {
        uint64_t w = 0;
        prg_fill(g, &w, 6);
        e[j] = (int64_t)__builtin_popcountll(w & ((1ull << CBD_ETA) - 1)) -
               (int64_t)__builtin_popcountll((w >> CBD_ETA) & ((1ull << CBD_ETA) - 1));
    }
    prg_free(g);
}

/* ---------------------------------------------------- exact products */

/* x mod 2^q, centred, mod p */
static uint64_t big_mod(u128 x, unsigned q, uint64_t p)
{
    if (x >> (q - 1)) /* negative: x - 2^q */
        return (uint64_t)((p - (uint64_t)((((u128)1 << q) - x) % p)) % p);
    return (uint64_t)(x % p);
}

static uint64_t small_mod(int64_t v, uint64_t p)
{
    int64_t r = v % (int64_t)p;
    return (uint64_t)(r < 0 ? r + (int64_t)p : r);
}

/* x transformed mod p1 and p2 into x1, x2 */
static void big_ntt(const rlwe_params *p, const u128 *x, unsigned q, uint64_t *x1, uint64_t *x2)
{
    for (uint32_t j = 0; j < p->n; j++)
        x1[j] = big_mod(x[j], q, p->t1.p), x2[j] = big_mod(x[j], q, p->t2.p);
    ntt_forward(&p->t1, x1);
    ntt_forward(&p->t2, x2);
}

/* d = the integer from residues r1, r2 (Garner), centred mod p1 p2, mod 2^q */
static void garner(const rlwe_params *p, const uint64_t *r1, const uint64_t *r2, unsigned q, u128 *d)
{
    uint64_t p1 = p->t1.p, p2 = p->t2.p;
    u128 P = (u128)p1 * p2;
    for (uint32_t j = 0; j < p->n; j++) {
        uint64_t k = ntt_mulmod((r2[j] + p2 - r1[j] % p2) % p2, p->p1inv, p2);
        u128 v = r1[j] + (u128)p1 * k;
        if (v > P / 2)
            v -= P; /* wraps mod 2^128: the negative value, whose low q bits are right */
        d[j] = v & mask(q);
    }
}

/* d = x * (small, transformed as s1, s2) */
static int mul_transformed(const rlwe_params *p, const u128 *x, unsigned q, const uint64_t *s1,
                           const uint64_t *s2, u128 *d)
{
    uint32_t n = p->n;
    uint64_t *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2);
    if (!x1 || !x2) {
        free(x1), free(x2);
        return -1;
    }
    big_ntt(p, x, q, x1, x2);
    ntt_pointwise(&p->t1, x1, x1, s1);
    ntt_pointwise(&p->t2, x2, x2, s2);
    ntt_inverse(&p->t1, x1);
    ntt_inverse(&p->t2, x2);
    garner(p, x1, x2, q, d);
    free(x1), free(x2);
    return 0;
}

/* the small polynomial w transformed mod p1, p2 (allocated) */
static int small_ntt(const rlwe_params *p, const int64_t *w, uint64_t **w1, uint64_t **w2)
{
    *w1 = malloc(p->n * sizeof **w1), *w2 = malloc(p->n * sizeof **w2);
    if (!*w1 || !*w2) {
        free(*w1), free(*w2);
        return -1;
    }
    for (uint32_t j = 0; j < p->n; j++)
        (*w1)[j] = small_mod(w[j], p->t1.p), (*w2)[j] = small_mod(w[j], p->t2.p);
    ntt_forward(&p->t1, *w1);
    ntt_forward(&p->t2, *w2);
    return 0;
}

int rlwe_mul_small(const rlwe_params *p, const kern_u128 *x, unsigned q, const int64_t *w, kern_u128 *d)
{
    uint64_t *w1, *w2;
    if (small_ntt(p, w, &w1, &w2))
        return -1;
    int rc = mul_transformed(p, x, q, w1, w2, d);
    free(w1), free(w2);
    return rc;
}

int rlwe_mul_sk(const rlwe_params *p, const kern_u128 *x, unsigned q, const rlwe_sk *sk, kern_u128 *d)
{
    return mul_transformed(p, x, q, sk->s1, sk->s2, d);
}

/* ---------------------------------------------------------------- keys */

int rlwe_keygen(const rlwe_params *p, const uint8_t seed[16], rlwe_sk *sk)
{
    uint32_t n = p->n, weight = n;
    memset(sk, 0, sizeof *sk);
    int64_t *w = malloc(n * sizeof *w);
    sk->s = malloc(n);
    if (!w || !sk->s) {
        free(w);
        rlwe_sk_free(sk);
        return -1;
    }
    prg *g = stream("qnn rlwe s", seed, 0);
    while (weight > n / 10 * 7) { /* ||s||_1 <= 0.7 N, which the noise bound assumes */
        weight = 0;
        for (uint32_t j = 0; j < n;) { /* uniform in {-1, 0, 1}: bytes below 255, mod 3 */
            uint8_t b;
            prg_fill(g, &b, 1);
            if (b < 255) {
                sk->s[j] = (int8_t)(b % 3) - 1;
                weight += sk->s[j] != 0;
                j++;
            }
        }
    }
    prg_free(g);
    for (uint32_t j = 0; j < n; j++)
        w[j] = sk->s[j];
    int rc = small_ntt(p, w, &sk->s1, &sk->s2);
    free(w);
    if (rc)
        rlwe_sk_free(sk);
    return rc;
}

void rlwe_sk_free(rlwe_sk *sk)
{
    free(sk->s), free(sk->s1), free(sk->s2);
    memset(sk, 0, sizeof *sk);
}

/* ------------------------------------------------ encrypt and decrypt */

int rlwe_encrypt(const rlwe_params *p, const rlwe_sk *sk, const uint8_t aseed[16], uint64_t ctr,
                 const uint8_t eseed[16], unsigned q, unsigned l, const uint64_t *m, kern_u128 *b)
{
    uint32_t n = p->n;
    u128 *a = malloc(n * sizeof *a);
    int64_t *e = malloc(n * sizeof *e);
    int rc = a && e && q <= RLWE_MAX_Q && l < q ? 0 : -1;
    if (rc == 0) {
        rlwe_expand(aseed, ctr, q, n, a);
        rlwe_errors(eseed, ctr, n, e);
        rc = rlwe_mul_sk(p, a, q, sk, b);
    }
    for (uint32_t j = 0; rc == 0 && j < n; j++)
        b[j] = ((u128)0 - b[j] + (u128)(__extension__(__int128)e[j]) + ((u128)(m[j] & (uint64_t)mask(l)) << (q - l))) &
               mask(q);
    free(a), free(e);
    return rc;
}

/* v = c0 2^(q1 - q0) + c1 s mod 2^q1 (allocated) */
static u128 *phase(const rlwe_params *p, const rlwe_sk *sk, const kern_u128 *c0, unsigned q0, const kern_u128 *c1,
                   unsigned q1)
{
    u128 *v = malloc(p->n * sizeof *v);
    if (!v || q0 > q1 || q1 > RLWE_MAX_Q || rlwe_mul_sk(p, c1, q1, sk, v)) {
        free(v);
        return NULL;
    }
    for (uint32_t j = 0; j < p->n; j++)
        v[j] = (v[j] + (c0[j] << (q1 - q0))) & mask(q1);
    return v;
}

int rlwe_decrypt(const rlwe_params *p, const rlwe_sk *sk, const kern_u128 *c0, unsigned q0, const kern_u128 *c1,
                 unsigned q1, unsigned l, uint64_t *m)
{
    u128 *v = l < q1 ? phase(p, sk, c0, q0, c1, q1) : NULL;
    if (!v)
        return -1;
    for (uint32_t j = 0; j < p->n; j++)
        m[j] = (uint64_t)(((v[j] + ((u128)1 << (q1 - l - 1))) >> (q1 - l)) & mask(l));
    free(v);
    return 0;
}

int rlwe_noise_budget(const rlwe_params *p, const rlwe_sk *sk, const kern_u128 *c0, unsigned q0,
                      const kern_u128 *c1, unsigned q1, unsigned l, const uint64_t *m)
{
    u128 *v = l < q1 ? phase(p, sk, c0, q0, c1, q1) : NULL, worst = 0;
    if (!v)
        return -1000;
    for (uint32_t j = 0; j < p->n; j++) {
        u128 d = (v[j] - ((u128)(m[j] & (uint64_t)mask(l)) << (q1 - l))) & mask(q1);
        if (d >> (q1 - 1))
            d = ((u128)1 << q1) - d; /* centred */
        worst = d > worst ? d : worst;
    }
    free(v);
    int bits = 0;
    while (worst >> bits)
        bits++;
    return (int)q1 - (int)l - 1 - bits;
}

void rlwe_shrink(const kern_u128 *x, uint32_t n, unsigned from, unsigned to, const uint8_t *dither_seed,
                 kern_u128 *out)
{
    unsigned d = from - to;
    prg *g = dither_seed ? stream("qnn rlwe dither", dither_seed, 0) : NULL;
    for (uint32_t j = 0; j < n; j++) {
        u128 u = d ? (u128)1 << (d - 1) : 0;
        if (g && d) {
            prg_fill(g, &u, sizeof u);
            u &= mask(d);
        }
        out[j] = ((x[j] + u) >> d) & mask(to);
    }
    prg_free(g);
}

/* ------------------------------------------- products in NTT form */

void rlwe_fwd_big(const rlwe_params *p, const kern_u128 *x, unsigned q, uint64_t *x12)
{
    big_ntt(p, x, q, x12, x12 + p->n);
}

void rlwe_fwd_small(const rlwe_params *p, const int64_t *w, uint64_t *w4)
{
    uint32_t n = p->n;
    for (uint32_t j = 0; j < n; j++)
        w4[j] = small_mod(w[j], p->t1.p), w4[n + j] = small_mod(w[j], p->t2.p);
    ntt_forward(&p->t1, w4);
    ntt_forward(&p->t2, w4 + n);
    for (uint32_t j = 0; j < n; j++)
        w4[2 * n + j] = ntt_shoup(w4[j], p->t1.p), w4[3 * n + j] = ntt_shoup(w4[n + j], p->t2.p);
}

void rlwe_mac(const rlwe_params *p, uint64_t *acc12, const uint64_t *x12, const uint64_t *w4)
{
    uint32_t n = p->n;
    ntt_mac_shoup(&p->t1, acc12, x12, w4, w4 + 2 * n);
    ntt_mac_shoup(&p->t2, acc12 + n, x12 + n, w4 + n, w4 + 3 * n);
}

void rlwe_back(const rlwe_params *p, uint64_t *acc12, unsigned q, kern_u128 *out)
{
    ntt_inverse(&p->t1, acc12);
    ntt_inverse(&p->t2, acc12 + p->n);
    garner(p, acc12, acc12 + p->n, q, out);
}

/* ----------------------------------------- public-key re-randomization */

void rlwe_ternary(const uint8_t seed[16], uint64_t ctr, uint32_t n, int64_t *u)
{
    prg *g = stream("qnn rlwe u", seed, ctr);
    for (uint32_t j = 0; j < n;) {
        uint8_t b;
        prg_fill(g, &b, 1);
        if (b < 255)
            u[j++] = (int64_t)(b % 3) - 1;
    }
    prg_free(g);
}

int rlwe_add_errors(const rlwe_params *p, unsigned q, const uint8_t seed[16], uint64_t ctr, kern_u128 *c0,
                    kern_u128 *c1)
{
    int64_t *e = malloc(p->n * sizeof *e);
    if (!e)
        return -1;
    for (int h = 0; h < 2; h++) {
        kern_u128 *c = h ? c1 : c0;
        rlwe_errors(seed, 2 * ctr + (uint64_t)h, p->n, e); /* e0, e1: their own streams of this seed */
        for (uint32_t j = 0; j < p->n; j++)
            c[j] = (c[j] + (u128)(__extension__(__int128)e[j])) & mask(q);
    }
    free(e);
    return 0;
}

int rlwe_add_zero(const rlwe_params *p, const kern_u128 *bpk, const kern_u128 *apk, unsigned q, const uint8_t seed[16],
                  uint64_t ctr, kern_u128 *c0, kern_u128 *c1)
{
    uint32_t n = p->n;
    int64_t *u = malloc(n * sizeof *u);
    u128 *t = malloc(n * sizeof *t);
    int rc = u && t ? 0 : -1;
    if (rc == 0)
        rlwe_ternary(seed, ctr, n, u);
    for (int h = 0; rc == 0 && h < 2; h++) {
        kern_u128 *c = h ? c1 : c0;
        rc = rlwe_mul_small(p, h ? apk : bpk, q, u, t);
        for (uint32_t j = 0; rc == 0 && j < n; j++)
            c[j] = (c[j] + t[j]) & mask(q);
    }
    rc = rc || rlwe_add_errors(p, q, seed, ctr, c0, c1);
    free(u), free(t);
    return rc;
}

/* --------------------------------------------------------- packing */

void rlwe_pack(const kern_u128 *x, size_t n, unsigned w, uint8_t *out)
{
    u128 acc = 0;
    unsigned nb = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= (x[i] & mask(w)) << nb; /* nb < 8 and w <= 120: no bit lost */
        for (nb += w; nb >= 8; nb -= 8, acc >>= 8)
            *out++ = (uint8_t)acc;
    }
    if (nb)
        *out = (uint8_t)acc;
}

void rlwe_unpack(const uint8_t *in, size_t n, unsigned w, kern_u128 *x)
{
    u128 acc = 0;
    unsigned nb = 0;
    for (size_t i = 0; i < n; i++) {
        for (; nb < w; nb += 8)
            acc |= (u128)*in++ << nb;
        x[i] = acc & mask(w);
        acc = w < 128 ? acc >> w : 0;
        nb -= w;
    }
}
