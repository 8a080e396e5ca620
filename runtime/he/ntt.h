/* ntt: the negacyclic number-theoretic transform over a word-size prime,
 * the arithmetic of RLWE encryption (issue 15's hemi): a polynomial of
 * Z_p[X]/(X^N + 1), N a power of two, p a prime with p = 1 mod 2N below
 * 2^62, as N coefficients in [0, p).
 *
 * With psi a primitive 2N-th root of unity mod p, the forward transform
 * evaluates a at psi^(2 brv(i) + 1) (Cooley-Tukey butterflies, in place,
 * output in bit-reversed order); the inverse undoes it (Gentleman-Sande)
 * and scales by 1/N. A product of two polynomials is the inverse of the
 * pointwise product of their transforms. Multiplications by table entries
 * use Shoup's precomputed quotients (w' = floor(w 2^64 / p)), so no
 * division runs in a butterfly. */
#ifndef NTT_H
#define NTT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t p;             /* the prime */
    uint32_t logn, n;       /* N = 2^logn */
    uint64_t *w, *ws;       /* psi^brv(i), i < N, and their Shoup quotients */
    uint64_t *wi, *wis;     /* psi^-(brv(i)) likewise, for the inverse */
    uint64_t ninv, ninvs;   /* 1/N and its quotient */
} ntt_table;

/* 1 if p is prime (deterministic Miller-Rabin for 64-bit p) */
int ntt_is_prime(uint64_t p);
/* The largest prime p < bound with p = 1 mod 2N (bound <= 2^62); 0 if
 * none. Successive calls with the last prime as bound give distinct ones. */
uint64_t ntt_prime_below(uint64_t bound, uint32_t n);
/* Tables for p and N = 2^logn (p prime, p = 1 mod 2N); 0, or -1 when p does
 * not qualify or memory runs out. */
int ntt_init(ntt_table *t, uint64_t p, uint32_t logn);
void ntt_free(ntt_table *t);

void ntt_forward(const ntt_table *t, uint64_t *a);
void ntt_inverse(const ntt_table *t, uint64_t *a);
/* c = a * b pointwise (transforms), mod p */
void ntt_pointwise(const ntt_table *t, uint64_t *c, const uint64_t *a, const uint64_t *b);

/* Shoup's quotient of w < p: floor(w 2^64 / p) */
uint64_t ntt_shoup(uint64_t w, uint64_t p);
/* acc += x * w pointwise mod p (acc, w < p; ws: w's quotients) */
void ntt_mac_shoup(const ntt_table *t, uint64_t *acc, const uint64_t *x, const uint64_t *w, const uint64_t *ws);
/* a * b mod p for a, b < p */
uint64_t ntt_mulmod(uint64_t a, uint64_t b, uint64_t p);

#endif
