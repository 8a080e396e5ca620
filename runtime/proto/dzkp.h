/* dzkp: the network-free core of rep3-active's distributed zero-knowledge
 * proofs (docs/plans/rep3-active.md §1, §4.3, §4.4, §10.1), shared by the
 * boolean proof (dzkp_bool.h) and, later, the ring proof. Prefix dzk_.
 *
 * A proof has a prover P_i and two verifiers, prev = P_{i-1} and
 * next = P_{i+1}; each of the three parties runs one dzk object for it, in
 * its position. The claim <U, B> = T_p + T_n is held as U and T_p by prev,
 * B and T_n by next, U and B by the prover. This module draws every value
 * from the check keys, folds (coefficient form), releases challenge halves
 * and runs the final step; the proof modules record statements, run their
 * first fold and map the verification rounds V1, V2, ... (`step`) to these
 * calls.
 *
 * Contract:
 *  - Every drawn value is AES-128(K, ctx) of its own 16-byte ctx =
 *    (prover, proof, purpose, half, step as 4 bytes, index as 8 bytes,
 *    little-endian), AES in ECB mode on that one block (a field element
 *    takes the leading bytes of its block, or of two blocks for 24-byte
 *    elements, redrawn under index + 2^32 while not an element). So the
 *    order of draws does not matter and no value serves twice (M-2).
 *  - H-1: a verifier derives a challenge half only in dzk_release (or the
 *    final point in dzk_exchange_out), which abort()s unless the batch is
 *    closed and, at next, the prover's message of the previous step was
 *    read (dzk_fold_in, dzk_final_in, dzk_took). A challenge answering the
 *    message of step s is released at step s + 1. The final point is never
 *    sent.
 *  - Misuse (a call for another position, a step out of order) is a bug
 *    and abort()s; what a peer sent can only make a call return -1.
 *  - Production passes cheat = NULL. A test may pass a prover the
 *    challenge key, to show that a prover that knows a challenge before its
 *    message forges any claim (H-1); see dzk_cheat. */
#ifndef DZKP_H
#define DZKP_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef enum { DZK_PROVER, DZK_PREV, DZK_NEXT } dzk_pos;

/* a caller's bug, not a protocol failure */
static inline void dzk_need(int ok)
{
    if (!ok)
        abort();
}

/* the real index of the party in position pos of prover's proof */
static inline int dzk_party(int prover, dzk_pos pos) { return (prover + (pos == DZK_PREV ? 2 : pos == DZK_NEXT)) % 3; }

/* The check keys of prover P_i's proof (§1), NULL where this position
 * lacks them: mask = K^mask_i (prover, prev: fold masks, alpha),
 * mask_next = K^mask_{i+1} (prover, next: beta), chal = K^chal_{i-1}
 * (prev, next: challenges and final points; never the prover). */
typedef struct {
    const uint8_t *mask, *mask_next, *chal;
} dzk_keys;

/* K^mask_k and K^chal_k = SHA-256(label || run id || k || S[k])[0..16),
 * label "qnn rep3a mask" or "qnn rep3a chal" (14 bytes), k one byte. */
void dzk_derive_keys(const uint8_t run_id[32], int k, const uint8_t seed[16], uint8_t mask[16], uint8_t chal[16]);

/* ctx fields */
enum { DZK_PROOF_BOTH, DZK_PROOF_ARITH, DZK_PROOF_BOOL };
enum { DZK_SIGMA1 = 1, DZK_SIGMA2, DZK_CHAL, DZK_POINT, DZK_MASK, DZK_ALPHA, DZK_BETA, DZK_QBIT, DZK_RHO, DZK_SUBSET };
enum { DZK_WHOLE, DZK_HALF_P, DZK_HALF_N };
enum { DZK_SEED = 16 }; /* bytes of sigma_1, sigma_2 and their halves */

/* A 16-byte key for one purpose of a public seed (sigma_1 expands to the
 * boolean weights rho with purpose DZK_RHO, to the ring subsets with
 * DZK_SUBSET): AES(seed, ctx(prover, proof, purpose, 0, 0, 0)). */
void dzk_seed_key(const uint8_t seed[DZK_SEED], int prover, int proof, int purpose, uint8_t key[16]);

/* A field, by its element operations and the two bulk kernels of a fold.
 * An element is `words` 64-bit words (zero is all zero), 8 * words bytes
 * on the wire. */
typedef struct {
    unsigned words;
    const uint64_t *one;
    int (*decode)(uint64_t *e, const uint8_t *b); /* -1 if b is no element */
    void (*encode)(uint8_t *b, const uint64_t *e);
    void (*add)(uint64_t *r, const uint64_t *a, const uint64_t *b);
    void (*sub)(uint64_t *r, const uint64_t *a, const uint64_t *b);
    void (*mul)(uint64_t *r, const uint64_t *a, const uint64_t *b);
    /* H[m] = sum_l sum_{j - i = m - (k-1)} U[lk + j] B[lk + i], m < 2k - 1 */
    void (*poly)(uint64_t *H, const uint64_t *U, const uint64_t *B, size_t groups, unsigned k);
    /* out[l] = sum_{j<k} V[lk + j] pw[j]; out may be V */
    void (*eval)(uint64_t *out, const uint64_t *V, size_t groups, unsigned k, const uint64_t *pw);
} dzk_field;

/* A proof folds its vector by factors of at most DZK_MAX_K down to at most
 * DZK_FINAL_N elements, then runs the final step. Each proof module fixes
 * its schedule (a fold costs the vector's length times its factor, so the
 * large factors go where the vector is short; fewer folds are fewer
 * rounds). */
enum { DZK_MAX_WORDS = 3, DZK_MAX_K = 64, DZK_FINAL_N = 15 };

/* Tests only: a cheating prover that holds the challenge key and uses the
 * halves in `halves` (bit DZK_HALF_P, bit DZK_HALF_N) of each fold's
 * challenge before sending that fold's message, to make its claim (set
 * with dzk_set_claim) consistent. */
typedef struct {
    const uint8_t *chal;
    unsigned halves;
} dzk_cheat;

typedef struct dzk dzk;

/* NULL when out of memory. keys as above; proof is DZK_PROOF_*. */
dzk *dzk_new(const dzk_field *f, dzk_pos pos, int prover, int proof, const dzk_keys *keys, const dzk_cheat *cheat);
void dzk_free(dzk *d);

/* The batch is complete: no statement is added after this. */
void dzk_close(dzk *d);

/* ---- challenges ---- */

/* A verifier, at `step`: derives both halves of the challenge of this
 * step, writes its own half to buf and the whole challenge to c (a field
 * element, or for DZK_SIGMA1/DZK_SIGMA2 a seed, the halves xored).
 * Returns the bytes written. */
size_t dzk_release(dzk *d, int purpose, int step, uint8_t *buf, void *c);
/* The prover: the half from `from`. 0, or -1 (reason in err) if malformed. */
int dzk_receive(dzk *d, int purpose, int step, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* The prover: the challenge of `step`, once both halves arrived. */
void dzk_challenge(dzk *d, int purpose, int step, void *c);
/* bytes of one half */
size_t dzk_half_len(const dzk_field *f, int purpose);
/* next: it read the prover's message of `step` that the proof module
 * decodes itself (proof A's quotient bits), so the challenge answering it
 * may be released. */
void dzk_took(dzk *d, int step);
/* "malformed proof message from party P (step Vn)", P in position from;
 * returns -1 */
int dzk_malformed(const dzk *d, dzk_pos from, int step, char *err, size_t errlen);

/* The prover and prev: n bytes from K^mask under (purpose, step), AES of
 * the ctx blocks of index 0, 1, ...: the mask of a message that is no
 * field element (proof A's quotient bits). */
void dzk_mask_bytes(dzk *d, int purpose, int step, uint8_t *out, size_t n);

/* ---- vectors and claim ---- */

/* Allocates this position's vectors (U at prover and prev, B at prover and
 * next) for n elements, zero beyond n (out of memory aborts). The caller
 * fills them. */
void dzk_vectors(dzk *d, size_t n);
uint64_t *dzk_u(dzk *d);
uint64_t *dzk_b(dzk *d);
/* this verifier's share of the claim (or a cheating prover's claim) */
void dzk_set_claim(dzk *d, const uint64_t *T);

/* ---- folds (§4.3) ---- */

/* The prover's fold polynomial of the current vectors, groups of k. */
void dzk_poly(dzk *d, unsigned k, uint64_t *H);
/* The prover's fold message for H (2k - 1 coefficients): H[m] - h[m] for
 * m != k - 1, masks h from K^mask under (MASK, step, m). Returns bytes. */
size_t dzk_fold_out(dzk *d, int step, unsigned k, const uint64_t *H, uint8_t *buf);
/* next: the prover's fold message of `step`. 0, or -1 if malformed. */
int dzk_fold_in(dzk *d, int step, unsigned k, const uint8_t *buf, size_t len, char *err, size_t errlen);
size_t dzk_fold_len(const dzk_field *f, unsigned k);
/* Every position, once the challenge r answering the message of `step`
 * is known: the claim becomes H(r) (each verifier its share). */
void dzk_fold_claim(dzk *d, int step, unsigned k, const uint64_t *r);
/* The vectors fold by r in groups of k: U_l = sum_j U_{lk+j} r^j,
 * B_l = sum_j B_{lk+j} r^(k-1-j), length ceil(n / k). */
void dzk_fold(dzk *d, unsigned k, const uint64_t *r);

/* ---- final step (§4.4), at most DZK_FINAL_N elements left ---- */

/* The prover's final message of `step`; returns bytes. */
size_t dzk_final_out(dzk *d, int step, uint8_t *buf);
int dzk_final_in(dzk *d, int step, const uint8_t *buf, size_t len, char *err, size_t errlen);
size_t dzk_final_len(const dzk_field *f);
/* A verifier at `step`: the final point, and its (F(r) or G(r), share of
 * H(r)) to the other verifier; msg_step is the final message's step. */
size_t dzk_exchange_out(dzk *d, int step, int msg_step, uint8_t *buf);
/* The other verifier's pair: 0 if F(r) G(r) = H_p(r) + H_n(r), else -1 with
 * "party P's proof failed (<name>, final check)". */
int dzk_exchange_in(dzk *d, const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen);
size_t dzk_exchange_len(const dzk_field *f);

#endif
