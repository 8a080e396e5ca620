/* rlwe: RLWE encryption over R = Z[X]/(X^N + 1) with a power-of-two
 * ciphertext modulus Q = 2^q and plaintext modulus t = 2^l dividing it,
 * for hemi's linear layers (docs/plans/hemi.md, section 3): the client
 * encrypts its share, the owner multiplies by its plaintext weights,
 * re-randomizes with a fresh encryption of zero, masks and shrinks the
 * result, the client decrypts.
 *
 *   secret s      uniform ternary, resampled until ||s||_1 <= 0.7 N
 *   error e       centred binomial, eta = 21 (sigma = 3.24, |e| <= 21)
 *   Delta         2^(q - l): t divides Q, so products need no correction
 *   encryption    (b, a) = (-a s + e + Delta m, a) mod 2^q, a uniform from a
 *                 public seed (the seed travels instead of a)
 *   public key    (b_pk, a_pk) = (-a_pk s + e, a_pk)
 *   decryption    m = round((b + a s) / Delta) mod t
 * Coefficients are kern_u128 values mod 2^q (q <= 120). Products of a
 * polynomial mod 2^q with a small signed one are exact: both go through
 * the negacyclic NTT (ntt.h) mod two primes below 2^61, Garner's
 * reconstruction gives the integer product while it stays below p1 p2 / 2
 * (about 2^121: q + log2 of the small side's l1 norm <= 121, which the
 * caller's parameters guarantee), and masking reduces it mod 2^q. */
#ifndef RLWE_H
#define RLWE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/kernels.h"
#include "runtime/he/ntt.h"

#define RLWE_MAX_Q 120

typedef struct {
    uint32_t logn, n;
    ntt_table t1, t2;  /* the two auxiliary primes */
    uint64_t p1inv;    /* p1^-1 mod p2, for Garner */
} rlwe_params;

typedef struct {
    int8_t *s;         /* ternary coefficients */
    uint64_t *s1, *s2; /* transformed mod p1, p2 */
} rlwe_sk;

/* N = 2^logn (2 <= logn <= 16); the primes are the two largest below 2^61
 * that are 1 mod 2N. 0, or -1 when memory runs out. */
int rlwe_init(rlwe_params *p, uint32_t logn);
void rlwe_free(rlwe_params *p);

/* A secret key from a 16-byte seed; 0 or -1. */
int rlwe_keygen(const rlwe_params *p, const uint8_t seed[16], rlwe_sk *sk);
void rlwe_sk_free(rlwe_sk *sk);

/* d = x * w mod 2^q in R, x coefficients mod 2^q, w small and signed
 * (|x w| below 2^120 coefficient-wise, see above); 0 or -1. */
int rlwe_mul_small(const rlwe_params *p, const kern_u128 *x, unsigned q, const int64_t *w, kern_u128 *d);
/* The same with the secret key as the small side. */
int rlwe_mul_sk(const rlwe_params *p, const kern_u128 *x, unsigned q, const rlwe_sk *sk, kern_u128 *d);

/* a: N uniform coefficients mod 2^q from seed (the counter ctr selects
 * one polynomial of the seed's stream family). */
void rlwe_expand(const uint8_t seed[16], uint64_t ctr, unsigned q, uint32_t n, kern_u128 *a);
/* e: N centred-binomial errors from seed (ctr as for rlwe_expand). */
void rlwe_errors(const uint8_t seed[16], uint64_t ctr, uint32_t n, int64_t *e);

/* b = -a s + e + Delta m mod 2^q, a = rlwe_expand(aseed, ctr), e from
 * eseed; m: N values mod 2^l; 0 or -1. */
int rlwe_encrypt(const rlwe_params *p, const rlwe_sk *sk, const uint8_t aseed[16], uint64_t ctr,
                 const uint8_t eseed[16], unsigned q, unsigned l, const uint64_t *m, kern_u128 *b);
/* m = round((c0 2^(q1 - q0) + c1 s) / 2^(q1 - l)) mod 2^l: a ciphertext
 * whose parts were shrunk to q0 <= q1 bits (q1 = q0 for a fresh one, whose
 * c1 is a); 0 or -1. */
int rlwe_decrypt(const rlwe_params *p, const rlwe_sk *sk, const kern_u128 *c0, unsigned q0, const kern_u128 *c1,
                 unsigned q1, unsigned l, uint64_t *m);
/* The noise budget of that ciphertext given its plaintext m: q1 - l - 1 -
 * bits(max |(c0 2^(q1 - q0) + c1 s) - 2^(q1 - l) m|, centred): decryption is
 * right while it is positive (-1000 when memory runs out). */
int rlwe_noise_budget(const rlwe_params *p, const rlwe_sk *sk, const kern_u128 *c0, unsigned q0,
                      const kern_u128 *c1, unsigned q1, unsigned l, const uint64_t *m);

/* out = floor((x + U) / 2^(from - to)) mod 2^to: U uniform in [0, 2^(from
 * - to)) drawn from dither (dithered rounding), or half of it with dither
 * NULL (rounding to nearest). */
void rlwe_shrink(const kern_u128 *x, uint32_t n, unsigned from, unsigned to, const uint8_t *dither_seed,
                 kern_u128 *out);

/* Products accumulated in NTT form: a polynomial as 2N residues (mod p1,
 * then p2); a small one as 4N words (its residues, then their Shoup
 * quotients). x mod 2^q (centred) or a small signed w forward; acc += x w;
 * back: the integer sum of products (below p1 p2 / 2 in magnitude, which
 * the caller's parameters guarantee) mod 2^q, destroying acc. */
void rlwe_fwd_big(const rlwe_params *p, const kern_u128 *x, unsigned q, uint64_t *x12);
void rlwe_fwd_small(const rlwe_params *p, const int64_t *w, uint64_t *w4);
void rlwe_mac(const rlwe_params *p, uint64_t *acc12, const uint64_t *x12, const uint64_t *w4);
void rlwe_back(const rlwe_params *p, uint64_t *acc12, unsigned q, kern_u128 *out);
/* A fresh encryption of zero under the public key (bpk, apk) mod 2^q,
 * (u bpk + e0, u apk + e1), u ternary and e0, e1 centred binomial, all
 * from the stream (seed, ctr), which must be fresh and private to the
 * caller: rlwe_add_zero adds it to (c0, c1); or the caller adds u's
 * products itself (rlwe_ternary's u, in NTT form) and then
 * rlwe_add_errors. 0 or -1. */
int rlwe_add_zero(const rlwe_params *p, const kern_u128 *bpk, const kern_u128 *apk, unsigned q, const uint8_t seed[16],
                  uint64_t ctr, kern_u128 *c0, kern_u128 *c1);
void rlwe_ternary(const uint8_t seed[16], uint64_t ctr, uint32_t n, int64_t *u);
int rlwe_add_errors(const rlwe_params *p, unsigned q, const uint8_t seed[16], uint64_t ctr, kern_u128 *c0,
                    kern_u128 *c1);
/* n values of w bits, little-endian bit by bit: ceil(n w / 8) bytes */
void rlwe_pack(const kern_u128 *x, size_t n, unsigned w, uint8_t *out);
void rlwe_unpack(const uint8_t *in, size_t n, unsigned w, kern_u128 *x);
#endif
