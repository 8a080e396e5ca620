/* rlwe: BFV-style encryption over R_q = Z_q[X]/(X^N + 1) with plaintext
 * modulus t = 2^l (l <= 64), q a product of L word-size NTT primes (RNS:
 * a polynomial is L rows of N residues), for hemi's linear layers (issue
 * 15): the client encrypts, the owner multiplies by its plaintext weights
 * and adds a mask, the client decrypts.
 *
 *   secret s      uniform ternary coefficients
 *   error e       centred binomial, eta = 21 (sigma = 3.24, |e| <= 21)
 *   Delta         floor(q / t)
 *   encryption    (c0, c1) = (-a s + e + Delta m, a), a uniform from a
 *                 public seed (the seed travels instead of c1: seeded
 *                 symmetric encryption)
 *   decryption    m = round(t (c0 + c1 s) / q) mod t
 *   noise         the invariant noise t (c0 + c1 s) - q m (centred mod t q):
 *                 decryption is right while it stays below q / 2 (this
 *                 survives modulus switching, unlike c0 + c1 s - Delta m)
 * Polynomials here are in coefficient form; the products run through the
 * NTT (ntt.h) one prime at a time. Parameters and their security are the
 * caller's (docs/protocols.md gives hemi's). */
#ifndef RLWE_H
#define RLWE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/he/ntt.h"

#define RLWE_MAX_PRIMES 4

typedef struct {
    uint32_t logn, n;
    int nq;                          /* primes */
    uint64_t q[RLWE_MAX_PRIMES];
    ntt_table ntt[RLWE_MAX_PRIMES];
    int l;                           /* t = 2^l */
    /* Delta = floor(q' / t) mod q_i for the modulus q' of the first k + 1
     * primes (a ciphertext keeps the first primes after switching; 0 where
     * q' < t) */
    uint64_t delta[RLWE_MAX_PRIMES][RLWE_MAX_PRIMES];
} rlwe_params;

/* a polynomial of R_q: nq rows of n residues */
typedef struct {
    int nq;
    uint64_t *c;
} rlwe_poly;

typedef struct {
    rlwe_poly c0, c1;
} rlwe_ct;

typedef struct {
    rlwe_poly s;   /* the secret, per prime, transformed (ntt_forward) */
    int8_t *ts;    /* its ternary coefficients */
} rlwe_sk;

/* Parameters for N = 2^logn, the primes q[0..nq) (each = 1 mod 2N) and
 * t = 2^l; 0, or -1 (err says why). */
int rlwe_init(rlwe_params *p, uint32_t logn, const uint64_t *q, int nq, int l, char *err, size_t errlen);
void rlwe_free(rlwe_params *p);

int rlwe_poly_alloc(const rlwe_params *p, rlwe_poly *a, int nq);
void rlwe_poly_free(rlwe_poly *a);
int rlwe_ct_alloc(const rlwe_params *p, rlwe_ct *c, int nq);
void rlwe_ct_free(rlwe_ct *c);

/* A fresh secret key from a 16-byte seed; 0 or -1. */
int rlwe_keygen(const rlwe_params *p, const uint8_t seed[16], rlwe_sk *sk);
void rlwe_sk_free(rlwe_sk *sk);

/* The public polynomial a of a seeded ciphertext (uniform mod each q_i). */
void rlwe_expand_a(const rlwe_params *p, const uint8_t seed[16], rlwe_poly *a);
/* c = Enc(m), m: n values mod t, a from aseed, the error from eseed (the
 * encryptor's private randomness); 0 or -1. */
int rlwe_encrypt(const rlwe_params *p, const rlwe_sk *sk, const uint64_t *m, const uint8_t aseed[16],
                 const uint8_t eseed[16], rlwe_ct *c);
/* m = Dec(c) (n values mod t); 0 or -1 (out of memory). */
int rlwe_decrypt(const rlwe_params *p, const rlwe_sk *sk, const rlwe_ct *c, uint64_t *m);
/* The noise budget given the plaintext m: bits(q) - 1 - bits(the largest
 * |invariant noise| coefficient); decryption is right while it is positive
 * (-1000 when out of memory). */
int rlwe_noise_budget(const rlwe_params *p, const rlwe_sk *sk, const rlwe_ct *c, const uint64_t *m);

/* c *= w, w: n signed coefficients (the owner's plaintext, small); 0 or -1. */
int rlwe_mul_plain(const rlwe_params *p, rlwe_ct *c, const int64_t *w);
/* c += Delta r, r: n values mod t (a mask the owner adds). */
void rlwe_add_plain(const rlwe_params *p, rlwe_ct *c, const uint64_t *r);
/* Drops the last prime of c, dividing by it with rounding (c keeps
 * decrypting to the same m while the noise allows). */
void rlwe_mod_switch(const rlwe_params *p, rlwe_ct *c);

#endif
