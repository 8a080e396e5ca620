/* dzkp_bool: proof B of rep3-active, network-free (docs/plans/rep3-active.md
 * §1 "Statement B" and "Carry chain", §5, §10.1). Prefix dzkb_.
 *
 * A statement word is 64 GF(2) relations, one per lane:
 *   (t_p ^ t_n ^ xor_{s<sigma} (x_s AND y_s)) AND lanes = 0,
 * x_s and t_p held by prev, y_s and t_n by next, all by the prover. Each
 * operand is ANDed with the public lane mask when recorded (L-4), so
 * padding lanes hold nothing. The batch is proven in GF(2^64): one weight
 * rho_w per word (from sigma_1), a first fold along the 64 bits, exactly
 * five folds (16, 16, 64, 64, 64; vectors padded), and the final
 * step, so the messages and their sizes are fixed:
 *
 *   step      message                                    bytes
 *   V1        prev, next -> prover: sigma_1 halves        16 each
 *   V2        prover -> next: fold 1 (126 coefficients)   1008
 *   V3..V13   odd: prev, next -> prover: r_u halves      8 each
 *   V4, V6    prover -> next: folds 2, 3 (by 16)          240
 *   V8..V12   even: prover -> next: folds 4..6 (by 64)    1008
 *   V14       prover -> next: final coefficients          240
 *   V15       prev <-> next: (F(r_f) or G(r_f), H share)  16 each
 *
 * The caller runs, for step = 1..DZKB_STEPS, dzkb_out towards each peer
 * (queue what it returns), then dzkb_in from each peer: it is the
 * prepare/finish of one network round. dzkb_in returns -1 with the reason
 * ("party P's proof failed (bool, final check)", or a malformed message)
 * and the caller aborts; the caller prefixes its own protocol name. The
 * H-1 order and every misuse abort() inside (dzkp.h). A batch of more than
 * DZKB_MAX_TERMS products (slots summed over words) is refused by
 * dzkb_close, alike at every party. */
#ifndef DZKP_BOOL_H
#define DZKP_BOOL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/proto/dzkp.h"

/* after the first fold, five: by 16, 16, 64, 64, 64 to at most
 * DZK_FINAL_N = 15 elements */
enum { DZKB_FOLDS = 5, DZKB_STEPS = 5 + 2 * DZKB_FOLDS, DZKB_SIGMA_MAX = 4 };
#define DZKB_MAX_TERMS (15ull << 26)

/* Production passes DZKB_PARAMS. Tests may weaken the proof to show what
 * its parts do: fixed_rho != 0 gives every word that weight; cheat makes
 * the prover use early challenges (dzk_cheat; it then records t_p ^ t_n
 * as its claim). */
typedef struct {
    uint64_t fixed_rho;
    dzk_cheat cheat;
} dzkb_params;
extern const dzkb_params DZKB_PARAMS;

typedef struct dzkb dzkb;

/* The proof of prover P_prover at position pos, with the keys pos holds
 * (dzk_keys; copied) and prm (kept: it must outlive b); NULL when out of
 * memory. */
dzkb *dzkb_new(dzk_pos pos, int prover, const dzk_keys *keys, const dzkb_params *prm);
void dzkb_free(dzkb *b);

/* nw statement words with sigma <= DZKB_SIGMA_MAX slots: x[s], y[s], tp,
 * tn point to nw words each (lanes too, or NULL for all lanes). A position
 * passes what it holds and NULL for the rest. Out of memory aborts. */
void dzkb_bool(dzkb *b, size_t nw, unsigned sigma, const uint64_t *lanes, const uint64_t *const *x,
               const uint64_t *const *y, const uint64_t *tp, const uint64_t *tn);
/* The carry chain CC(S, T; P, Q; width) over n elements: bits 0..width-1
 * of S + T mod 2^64 equal P ^ Q. S and T are n words (prev holds S, next
 * T); P and Q are width planes of ceil(n / 64) words, plane j at
 * P + j * ceil(n / 64) (prev holds P, next Q). 1 <= width <= 64. The
 * planes from `dealt` up are zero, which every position knows (not shares
 * of anything: a range's top bits): their relations carry one product
 * instead of three. */
void dzkb_chain(dzkb *b, size_t n, unsigned width, unsigned dealt, const uint64_t *S, const uint64_t *T,
                const uint64_t *P, const uint64_t *Q);
/* Ends the batch: 0, or -1 if it exceeds DZKB_MAX_TERMS. */
int dzkb_close(dzkb *b, char *err, size_t errlen);

/* Bytes from position `from` to `to` at step (1..DZKB_STEPS), whatever the
 * batch; 0 where nothing is sent. */
size_t dzkb_len(int step, dzk_pos from, dzk_pos to);
/* What this position sends to `to` at step, into buf (dzkb_len bytes). */
size_t dzkb_out(dzkb *b, int step, dzk_pos to, uint8_t *buf);
/* What `from` sent at step: 0, or -1 with the reason in err. */
int dzkb_in(dzkb *b, int step, dzk_pos from, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
