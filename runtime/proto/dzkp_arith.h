/* dzkp_arith: proof A of rep3-active, network-free (docs/plans/rep3-active.md
 * §1 "Statement A", §4.1-§4.4, §9, §10.1). Prefix dzka_.
 *
 * A statement of length m >= 1 is a relation in Z_2^64:
 *   sum_{j<m} a_j b_j = t_p + t_n  (mod 2^64),
 * a and t_p held by prev, b and t_n by next, all by the prover. The batch
 * is proven exactly, over the integers and then over F_p,
 * p = 2^192 - 2^64 - 1 (fp192.h):
 *  - lift: E_v = sum_j a_j b_j - t_p - t_n over Z (every word read in
 *    [0, 2^64)); statement v holds iff 2^64 divides E_v;
 *  - subsets: sigma_1 gives statement v a membership word mu_v, and S_s
 *    (s < 64) holds the statements with bit s set; the prover shares
 *    Q'_s = sum_{v in S_s} E_v / 2^64 + 2 |S_s| as DZKA_QBITS bits, qp
 *    from K^mask_i (prev's share) and qn = bits ^ qp sent to next. Each
 *    received bit is decoded as one bit (L-2), so qp + qn - 2 qp qn is a
 *    bit by encoding;
 *  - sigma_2 gives rho_s uniform in [0, 2^57), and sum_s rho_s (sum_{v in S_s} E_v -
 *    2^64 Q'_s + 2^65 |S_s|) = 0 becomes the inner product <U, B> =
 *    T_p + T_n of §4.2, U and T_p at prev, B and T_n at next;
 *  - a first fold of 8, exactly four folds (16, 64, 64, 64; vectors
 *    padded) and the final step, so the messages and their sizes are
 *    fixed:
 *
 *   step      message                                      bytes
 *   V1        prev, next -> prover: sigma_1 halves         (proof B's)
 *   V2        prover -> next: qn, 64 x 99 bits, 8 a byte    792
 *   V3        prev, next -> prover: sigma_2 halves          16 each
 *   V4        prover -> next: fold 1 (14 coefficients)      336
 *   V5..V13   odd: prev, next -> prover: r_u halves         24 each
 *   V6        prover -> next: fold 2 (by 16)                720
 *   V8..V12   even: prover -> next: folds 3..5 (by 64)      3024
 *   V14       prover -> next: final coefficients            720
 *   V15       prev <-> next: (F(r_f) or G(r_f), H share)    48 each
 *
 * sigma_1 is one seed for proofs A and B (its ctx names no proof, §4.2),
 * so its halves travel once, in proof B's V1 message: dzka_len(1, ...) is
 * 0. A verifier's dzka_out at V1 derives sigma_1 and writes nothing (it
 * abort()s there unless this batch is closed: the statements are fixed
 * before sigma_1 leaves, H-1); the prover passes each half it read in
 * proof B's V1 message to dzka_sigma1.
 *
 * The quotient width is fixed at DZKA_QBITS = 64 + 35 rather than the
 * plan's 64 + ceil(log2(M + 1)), so that V2's size is the same for every
 * batch: a batch holds at most DZKA_MAX_PRODS < 2^35 products M (a
 * convolution's count, not its Freivalds vector), so an honest
 * Q'_s < 2^64 M + 2M < 2^99 always fits. Soundness (§4.2, L-1)
 * needs LHS_s = sum_{v in S_s} (E_v + 2^65) - 2^64 Q'_s, for any bits the
 * prover sends, to be nonzero mod p when nonzero over Z: the sum is in
 * [0, M 2^128 + M 2^65) and 2^64 Q'_s in [0, 2^163), so |LHS_s| < 2^164 < p.
 *
 * Memory: the statements are kept in blocks, 8 bytes per term and per
 * statement for each of a, b, t_p, t_n a position holds, until the fold
 * by r_1 (V5 at a verifier) drops them; the prover drops them at V4, a
 * block at a time as it builds the first fold's vector, which it keeps
 * instead (per term 18 bytes, and 24 per weight: one a statement, one a
 * convolution's element, 42 bytes where a convolution's store held 16 for
 * the same element) until V6, so that it builds that vector once. The
 * folded vectors are then 24 bytes per 8 terms for each of U, B held.
 *
 * The caller runs, for step = 1..DZKA_STEPS, dzka_out towards each peer
 * (queue what it returns; call it even where dzka_len is 0, as at V1),
 * then dzka_in from each peer: it is the prepare/finish of one network
 * round. dzka_in returns -1 with the reason ("party P's proof failed
 * (arith, final check)", or "malformed proof message from party P (step
 * Vn)": a wrong length, or an F_p element >= p) and the caller aborts; the
 * caller prefixes its own protocol name. The H-1 order and every misuse
 * abort() inside (dzkp.h). */
#ifndef DZKP_ARITH_H
#define DZKP_ARITH_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/geom.h"
#include "runtime/proto/dzkp.h"

/* after the first fold (by 8), four: by 16, 64, 64, 64 to at most
 * DZK_FINAL_N = 15 elements, so that the proof ends with proof B's */
enum { DZKA_FOLDS = 4, DZKA_STEPS = 7 + 2 * DZKA_FOLDS, DZKA_KAPPA = 64, DZKA_QBITS = 99, DZKA_RHO_BITS = 57 };
/* Terms the fold schedule admits: the vector (terms, then 64 x DZKA_QBITS
 * quotient bits) folds by 8 and then by 16, 64, 64, 64 to at most
 * DZK_FINAL_N = 15 elements. Products (M) the quotients admit: below 2^35. */
#define DZKA_MAX_TERMS ((8ull * 15 << 22) - DZKA_KAPPA * DZKA_QBITS)
#define DZKA_MAX_PRODS ((1ull << 35) - 1)

/* Production passes DZKA_PARAMS. Tests may weaken the proof to show what
 * its parts do: kappa < 64 subsets (the membership words keep kappa bits;
 * the other subsets are empty); cheat makes the prover use early
 * challenges (dzk_cheat). */
typedef struct {
    unsigned kappa;
    dzk_cheat cheat;
} dzka_params;
extern const dzka_params DZKA_PARAMS;

/* F_p as the proof's dzk_field (tests check its kernels) */
extern const dzk_field dzka_fp;

typedef struct dzka dzka;

/* The proof of prover P_prover at position pos, with the keys pos holds
 * (dzk_keys; copied) and prm (kept: it must outlive z); NULL when out of
 * memory. */
dzka *dzka_new(dzk_pos pos, int prover, const dzk_keys *keys, const dzka_params *prm);
void dzka_free(dzka *z);

/* n statements of length m >= 1: a and b point to n * m words (statement
 * i's terms at i * m), tp and tn to n words. A position passes what it
 * holds and NULL for the rest. Out of memory aborts. */
void dzka_arith(dzka *z, size_t n, uint32_t m, const uint64_t *a, const uint64_t *b, const uint64_t *tp,
                const uint64_t *tn);
/* The same, taking the arrays (malloc'd, NULL for what the caller lacks):
 * the store keeps those of a long batch as they are, instead of a copy,
 * and frees the rest. */
void dzka_arith_take(dzka *z, size_t n, uint32_t m, uint64_t *a, uint64_t *b, uint64_t *tp, uint64_t *tn);
/* A convolution's n outputs as n statements at once (plan §4.5), output o:
 *   [conv(xa, wb)_o] + [conv(xb, wa)_o] + [conv(xa, wa)_o] = tp_o + tn_o
 * (mod 2^64) with the products `terms` names (DZKA_AWB, DZKA_BWA,
 * DZKA_AWA; AWB or BWA among them), the convolution as kernels.h's
 * kern_conv2d (oc output channels) or kern_dwconv2d (depthwise: oc is the
 * depth multiplier) on g: xa, wa and tp at prev, xb, wb and tn at next. A
 * multiplier per output channel is the caller's to fold into the weights.
 * The proof weighs the outputs by lambda_o and, as sum_o lambda_o conv(x,
 * w)_o = <corr(lambda, x), w> = <convT(lambda, w), x> exactly, puts |W|
 * (with AWB) + |X| (with BWA) elements into the vector instead of every
 * product: U = (corr(lambda, xa), convT(lambda, wa)) in F_p against B =
 * (wb, xb), each part where its product is named, and the local part AWA
 * into prev's claim as <corr(lambda, xa), wa>, or <convT(lambda, wa), xa>
 * without AWB. A caller that knows a share of w to be zero names only the
 * products left (rep3-active: filters as their owner input them). The
 * prover's quotients lift every output exactly. The arrays the named
 * products read are copied; the others may be NULL. */
enum { DZKA_AWB = 1, DZKA_BWA = 2, DZKA_AWA = 4 };
typedef struct {
    int depthwise;
    geom g;
    uint32_t oc;
    unsigned terms;
    const uint64_t *xa, *wa, *tp; /* prev (and the prover) */
    const uint64_t *xb, *wb, *tn; /* next (and the prover) */
} dzka_conv_def;
void dzka_conv(dzka *z, const dzka_conv_def *d);

/* 0 if a batch of `terms` vector elements (a statement's length, a
 * convolution's |W| + |X|) and `prods` products (M, summed over statements
 * and convolutions' outputs) can be proven, or -1 with the reason: more
 * than DZKA_MAX_TERMS elements (the fold schedule) or DZKA_MAX_PRODS
 * products (the quotients' width). */
int dzka_fits(unsigned long long terms, unsigned long long prods, char *err, size_t errlen);
/* Ends the batch: 0, or -1 as dzka_fits. */
int dzka_close(dzka *z, char *err, size_t errlen);

/* Bytes from position `from` to `to` at step (1..DZKA_STEPS), whatever the
 * batch; 0 where proof A sends nothing. */
size_t dzka_len(int step, dzk_pos from, dzk_pos to);
/* What this position sends to `to` at step, into buf (dzka_len bytes). */
size_t dzka_out(dzka *z, int step, dzk_pos to, uint8_t *buf);
/* What `from` sent at step: 0, or -1 with the reason in err. */
int dzka_in(dzka *z, int step, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* The prover at V1: the sigma_1 half `from` sent in proof B's V1 message
 * (DZK_SEED bytes). 0, or -1 if malformed. */
int dzka_sigma1(dzka *z, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
