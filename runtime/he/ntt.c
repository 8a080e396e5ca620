/* ntt: negacyclic NTT over a word-size prime (see ntt.h). */
#include "runtime/he/ntt.h"

#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

uint64_t ntt_mulmod(uint64_t a, uint64_t b, uint64_t p) { return (uint64_t)(((u128)a * b) % p); }

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t p)
{
    uint64_t r = 1 % p;
    for (b %= p; e; e >>= 1, b = ntt_mulmod(b, b, p))
        if (e & 1)
            r = ntt_mulmod(r, b, p);
    return r;
}

int ntt_is_prime(uint64_t p)
{
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}; /* enough below 2^64 */
    if (p < 2)
        return 0;
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
        if (p % bases[i] == 0)
            return p == bases[i];
    uint64_t d = p - 1;
    int s = 0;
    while (!(d & 1))
        d >>= 1, s++;
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        uint64_t x = powmod(bases[i], d, p);
        if (x == 1 || x == p - 1)
            continue;
        int composite = 1;
        for (int r = 1; r < s && composite; r++)
            if ((x = ntt_mulmod(x, x, p)) == p - 1)
                composite = 0;
        if (composite)
            return 0;
    }
    return 1;
}

uint64_t ntt_prime_below(uint64_t bound, uint32_t n)
{
    if (bound < 3 || bound > (uint64_t)1 << 62 || !n)
        return 0;
    uint64_t step = 2 * (uint64_t)n, p = ((bound - 1) / step) * step + 1;
    for (; p > step; p -= step)
        if (p < bound && ntt_is_prime(p))
            return p;
    return 0;
}

static uint64_t shoup(uint64_t w, uint64_t p) { return (uint64_t)(((u128)w << 64) / p); }

/* w * x mod p with w's quotient ws (x < 2^64: the result is in [0, p)) */
static uint64_t mul_shoup(uint64_t x, uint64_t w, uint64_t ws, uint64_t p)
{
    uint64_t q = (uint64_t)(((u128)x * ws) >> 64), r = x * w - q * p;
    return r >= p ? r - p : r;
}

static uint32_t brv(uint32_t x, uint32_t logn)
{
    uint32_t r = 0;
    for (uint32_t i = 0; i < logn; i++)
        r = r << 1 | ((x >> i) & 1);
    return r;
}

/* a primitive 2N-th root of unity: g^((p-1)/2N) for the first g giving psi^N = -1 */
static uint64_t root(uint64_t p, uint32_t n)
{
    for (uint64_t g = 2; g < 1000; g++) {
        uint64_t psi = powmod(g, (p - 1) / (2 * (uint64_t)n), p);
        if (powmod(psi, n, p) == p - 1)
            return psi;
    }
    return 0;
}

void ntt_free(ntt_table *t)
{
    free(t->w), free(t->ws), free(t->wi), free(t->wis);
    memset(t, 0, sizeof *t);
}

int ntt_init(ntt_table *t, uint64_t p, uint32_t logn)
{
    memset(t, 0, sizeof *t);
    if (logn < 1 || logn > 17)
        return -1;
    uint32_t n = (uint32_t)1 << logn;
    if (p >= (uint64_t)1 << 62 || (p - 1) % (2 * (uint64_t)n) || !ntt_is_prime(p))
        return -1;
    uint64_t psi = root(p, n);
    if (!psi)
        return -1;
    uint64_t psiinv = powmod(psi, p - 2, p);
    t->p = p, t->logn = logn, t->n = n;
    t->w = malloc(n * sizeof *t->w), t->ws = malloc(n * sizeof *t->ws);
    t->wi = malloc(n * sizeof *t->wi), t->wis = malloc(n * sizeof *t->wis);
    if (!t->w || !t->ws || !t->wi || !t->wis) {
        ntt_free(t);
        return -1;
    }
    uint64_t pw = 1, pwi = 1;
    for (uint32_t i = 0; i < n; i++, pw = ntt_mulmod(pw, psi, p), pwi = ntt_mulmod(pwi, psiinv, p)) {
        uint32_t j = brv(i, logn);
        t->w[j] = pw, t->ws[j] = shoup(pw, p);
        t->wi[j] = pwi, t->wis[j] = shoup(pwi, p);
    }
    t->ninv = powmod(n, p - 2, p), t->ninvs = shoup(t->ninv, p);
    return 0;
}

/* w x mod p up to one p: in [0, 2p) (Harvey's lazy butterflies; 4p < 2^64) */
static uint64_t mul_lazy(uint64_t x, uint64_t w, uint64_t ws, uint64_t p)
{
    uint64_t q = (uint64_t)(((u128)x * ws) >> 64);
    return x * w - q * p;
}

void ntt_forward(const ntt_table *t, uint64_t *a)
{
    uint64_t p = t->p, p2 = 2 * p;
    /* values stay in [0, 4p) between the stages (p < 2^62), reduced at the end */
    for (uint32_t m = 1, len = t->n / 2; m < t->n; m <<= 1, len >>= 1)
        for (uint32_t i = 0; i < m; i++) {
            uint64_t w = t->w[m + i], ws = t->ws[m + i];
            uint64_t *x = a + 2 * i * len, *y = x + len;
            for (uint32_t j = 0; j < len; j++) {
                uint64_t u = x[j] >= p2 ? x[j] - p2 : x[j], v = mul_lazy(y[j], w, ws, p);
                x[j] = u + v;
                y[j] = u + p2 - v;
            }
        }
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t v = a[i] >= p2 ? a[i] - p2 : a[i];
        a[i] = v >= p ? v - p : v;
    }
}

void ntt_inverse(const ntt_table *t, uint64_t *a)
{
    uint64_t p = t->p, p2 = 2 * p;
    /* values stay in [0, 2p) between the stages */
    for (uint32_t m = t->n / 2, len = 1; m >= 1; m >>= 1, len <<= 1)
        for (uint32_t i = 0; i < m; i++) {
            uint64_t w = t->wi[m + i], ws = t->wis[m + i];
            uint64_t *x = a + 2 * i * len, *y = x + len;
            for (uint32_t j = 0; j < len; j++) {
                uint64_t u = x[j], v = y[j], s = u + v;
                x[j] = s >= p2 ? s - p2 : s;
                y[j] = mul_lazy(u + p2 - v, w, ws, p);
            }
        }
    for (uint32_t i = 0; i < t->n; i++)
        a[i] = mul_shoup(a[i], t->ninv, t->ninvs, p);
}

uint64_t ntt_shoup(uint64_t w, uint64_t p) { return shoup(w, p); }

void ntt_mac_shoup(const ntt_table *t, uint64_t *acc, const uint64_t *x, const uint64_t *w, const uint64_t *ws)
{
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t v = acc[i] + mul_shoup(x[i], w[i], ws[i], t->p);
        acc[i] = v >= t->p ? v - t->p : v;
    }
}

void ntt_pointwise(const ntt_table *t, uint64_t *c, const uint64_t *a, const uint64_t *b)
{
    for (uint32_t i = 0; i < t->n; i++)
        c[i] = ntt_mulmod(a[i], b[i], t->p);
}
