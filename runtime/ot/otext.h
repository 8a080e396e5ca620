/* otext: OT extension (Ishai, Kilian, Nissim, Petrank, CRYPTO 2003),
 * passive security: from OTEXT_K base OTs (baseot.h), any number of random
 * OTs at OTEXT_K bits sent per OT.
 *
 * The roles swap: the extension's receiver R is the base OTs' sender (key
 * pairs k_i^0, k_i^1), the extension's sender S their receiver (choices s_i,
 * keys k_i^{s_i}). A batch of m OTs (m a multiple of 128): R, with choice
 * bits r, expands t_i = G(k_i^0) and sends u_i = t_i ^ G(k_i^1) ^ r (OTEXT_K
 * rows of m bits: OTEXT_K m / 8 bytes); S forms q_i = G(k_i^{s_i}) ^ s_i u_i
 * = t_i ^ s_i r. Column j of the matrices, as rows T_j and Q_j of OTEXT_K
 * bits, satisfy Q_j = T_j ^ r_j s, so S gets the pair (H(j, Q_j), H(j, Q_j
 * ^ s)) and R gets H(j, T_j), the r_j-th of them; the other stays hidden
 * behind s, which R never sees (u_i is masked by G(k_i^{1 - s_i}), unknown
 * to S). G: AES-128 in counter mode per base key (prg.h), each stream going
 * on across batches; H: fixed-key AES as a correlation-robust hash,
 * H(j, x) = AES(x ^ j) ^ x ^ j, j counting every OT of the session. Bits
 * are packed little-endian: bit j of a bit string is byte j / 8, bit j % 8. */
#ifndef OTEXT_H
#define OTEXT_H

#include <stddef.h>
#include <stdint.h>

#define OTEXT_K 128
#define OTEXT_BLOCK 16 /* bytes of an output, and of a row T_j, Q_j */

typedef struct otext_sender otext_sender;
typedef struct otext_receiver otext_receiver;

/* S from its base-OT choices s (OTEXT_K bits, packed) and keys; NULL when
 * out of memory. */
otext_sender *otext_sender_new(const uint8_t s[OTEXT_K / 8], const uint8_t (*ks)[16]);
/* R from the base-OT key pairs. */
otext_receiver *otext_receiver_new(const uint8_t (*k0)[16], const uint8_t (*k1)[16]);
void otext_sender_free(otext_sender *s);
void otext_receiver_free(otext_receiver *r);

/* R's half of a batch of m OTs: choices r (m bits, packed) give the
 * message u (OTEXT_K m / 8 bytes) and its outputs out[j]; 0, or -1 when m
 * is not a multiple of 128 or memory runs out. */
int otext_receive(otext_receiver *r, const uint8_t *choices, size_t m, uint8_t *u,
                  uint8_t (*out)[OTEXT_BLOCK]);
/* S's half: from u, the pairs out0[j], out1[j]; 0, or -1 as above. */
int otext_send(otext_sender *s, const uint8_t *u, size_t m, uint8_t (*out0)[OTEXT_BLOCK],
               uint8_t (*out1)[OTEXT_BLOCK]);

/* Correlated OT over Z_2^64 from a batch's random OTs, one word sent per
 * OT: the sender, with o0, o1 and its correlations delta[j], gets x[j] (the
 * low word of o0[j], uniform) and the message msg[j] = x[j] + delta[j] -
 * (the low word of o1[j]); the receiver, with its out and choices, gets
 * y[j] = x[j] + r_j delta[j]. msg hides delta behind o1, which the receiver
 * lacks when r_j = 0 and which it needs to learn x otherwise. */
void otext_cot_send(const uint8_t (*o0)[OTEXT_BLOCK], const uint8_t (*o1)[OTEXT_BLOCK], const uint64_t *delta,
                    size_t m, uint64_t *x, uint64_t *msg);
void otext_cot_receive(const uint8_t (*out)[OTEXT_BLOCK], const uint8_t *choices, const uint64_t *msg, size_t m,
                       uint64_t *y);

/* The transposition both sides use: rows (OTEXT_K rows of m bits) to m
 * rows of OTEXT_K bits (m % 128 == 0). */
void otext_transpose(const uint8_t *rows, size_t m, uint8_t (*cols)[OTEXT_BLOCK]);

#endif
