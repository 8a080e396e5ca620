/* baseot: oblivious transfer from the elliptic-curve Diffie-Hellman
 * assumption (Chou and Orlandi, "The Simplest Protocol for Oblivious
 * Transfer", LATINCRYPT 2015), passive security, on NIST P-256 with
 * OpenSSL's EC API. The few OTs an OT extension starts from (otext.h).
 *
 * n OTs in two messages, as pure functions over byte buffers (the caller
 * moves them over its rounds):
 *   1. the sender draws a, sends A = aG                   (BASEOT_POINT bytes)
 *   2. the receiver, for choice c_i, draws b_i and sends
 *      B_i = b_i G + c_i A                                (n BASEOT_POINT bytes)
 * The sender's keys are k_i^0 = H(i, A, B_i, a B_i) and k_i^1 =
 * H(i, A, B_i, a (B_i - A)); the receiver's k_i^{c_i} = H(i, A, B_i, b_i A).
 * B_i is uniform whatever c_i (b_i G is), and the other key needs the
 * discrete logarithm of A. Every received point is decoded and checked to
 * lie on the curve (and not at infinity) before use: a bad one fails the
 * call with a message. A point travels as its x coordinate alone, with y
 * even: the parties draw their scalar again until it is, so the bytes sent
 * are uniform (a compressed point's first byte would not be). */
#ifndef BASEOT_H
#define BASEOT_H

#include <stddef.h>
#include <stdint.h>

#define BASEOT_POINT 32 /* a P-256 point with even y, as its x */
#define BASEOT_KEY 16

typedef struct baseot_sender baseot_sender;

/* Message 1 into A; NULL on failure (err says why). */
baseot_sender *baseot_sender_new(uint8_t A[BASEOT_POINT], char *err, size_t errlen);
/* From message 2 (n points), the pairs: k0[i], k1[i]; 0, or -1 (err). */
int baseot_sender_keys(baseot_sender *s, const uint8_t *B, size_t n, uint8_t (*k0)[BASEOT_KEY],
                       uint8_t (*k1)[BASEOT_KEY], char *err, size_t errlen);
void baseot_sender_free(baseot_sender *s);

/* The receiver in one call: from message 1 and its n choice bits c[i] (0 or
 * 1), message 2 into B and its keys into k; 0, or -1 (err). */
int baseot_receive(const uint8_t A[BASEOT_POINT], const uint8_t *c, size_t n, uint8_t *B,
                   uint8_t (*k)[BASEOT_KEY], char *err, size_t errlen);

#endif
