/* otext: OT extension, passive security: from OTEXT_K base OTs
 * (baseot.h), any number of random OTs. SoftSpoken OT (Roy, CRYPTO 2022)
 * with k bits per group, k in {1, 2, 4, 8}; k = 1 is IKNP (Ishai, Kilian,
 * Nissim, Petrank, CRYPTO 2003). The extension's receiver sends OTEXT_K / k
 * bits per OT.
 *
 * The roles swap: the extension's receiver R is the base OTs' sender (key
 * pairs k_i^0, k_i^1), the extension's sender S their receiver (choices s_i,
 * keys k_i^{s_i}). The base OTs come in OTEXT_K / k groups of k. For each
 * group R grows a GGM tree of depth k (AES-CTR expansion) and sends, for
 * level j, the sums of its left and of its right nodes under base OT j's
 * two keys (the set-up message, otext_setup_bytes); S, whose choices are
 * the complements of the bits of delta_g, learns every leaf but the one at
 * delta_g (for k = 1 the base keys are the leaves and nothing is sent).
 * A batch of m OTs (m a multiple of 128), R with choice bits r: each leaf
 * x seeds a stream G_x; R sends, per group, u_g = r ^ (xor of G_x) and
 * keeps the rows t_{g,b} = xor of G_x over x with bit b set; S forms q_{g,b}
 * = xor of G_x over x whose x ^ delta_g has bit b set (the missing leaf has
 * none), plus u_g when delta_g has bit b: q = t ^ r Delta, Delta the
 * concatenation of the delta_g (OTEXT_K bits). Column j of the matrices, as
 * rows T_j and Q_j of OTEXT_K bits, satisfy Q_j = T_j ^ r_j Delta, so S gets
 * the pair (H(j, Q_j), H(j, Q_j ^ Delta)) and R gets H(j, T_j), the r_j-th of
 * them; the other stays hidden behind Delta, which R never sees (u_g is
 * masked by G at delta_g, the leaf S lacks, and by the others R alone
 * knows). H: fixed-key AES as a correlation-robust hash, H(j, x) = AES(x ^
 * j) ^ x ^ j, j counting every OT of the session. Bits are packed
 * little-endian: bit j of a bit string is byte j / 8, bit j % 8. */
#ifndef OTEXT_H
#define OTEXT_H

#include <stddef.h>
#include <stdint.h>

#define OTEXT_K 128
#define OTEXT_BLOCK 16 /* bytes of an output, and of a row T_j, Q_j */

typedef struct otext_sender otext_sender;
typedef struct otext_receiver otext_receiver;

/* The set-up message's bytes (R to S, once): OTEXT_K 2 OTEXT_BLOCK for k >
 * 1, else 0; and a batch's u (R to S): OTEXT_K / k rows of m bits. */
size_t otext_setup_bytes(unsigned k);
size_t otext_u_bytes(unsigned k, size_t m);
/* R from the base-OT key pairs: writes the set-up message; NULL when k is
 * not 1, 2, 4 or 8, or out of memory or entropy. */
otext_receiver *otext_receiver_new(unsigned k, const uint8_t (*k0)[16], const uint8_t (*k1)[16], uint8_t *setup);
/* S from its base-OT choices s (OTEXT_K bits, packed), keys and R's set-up
 * message; NULL as above. */
otext_sender *otext_sender_new(unsigned k, const uint8_t s[OTEXT_K / 8], const uint8_t (*ks)[16],
                               const uint8_t *setup);
void otext_sender_free(otext_sender *s);
void otext_receiver_free(otext_receiver *r);

/* R's half of a batch of m OTs: choices r (m bits, packed) give the
 * message u (otext_u_bytes) and its outputs out[j]; 0, or -1 when m is not
 * a multiple of 128 or memory runs out. */
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
