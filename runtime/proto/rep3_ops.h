/* rep3_ops: the operations of three-party replicated sharing over Z_2^64
 * (Araki et al. CCS 2016; ABY3), for the protocols that build on them:
 * rep3 (passive) and rep3-active (its checks hook into rss.c's blocks).
 *
 * A protocol passes its mode, whose `self` is its own table: the generic
 * compositions (EXACT through TRUNC, LTZ and MUL) call back into it, so a
 * protocol that adds checks to an operation also gets them inside the
 * compositions. The functions below have the signatures of protocol.h's
 * callbacks; steps and cost take the mode, the others find it in the
 * state that rep3_new returns. */
#ifndef REP3_OPS_H
#define REP3_OPS_H

#include "runtime/proto/proto.h"
#include "runtime/proto/rss.h"

typedef struct rep3_mode {
    const protocol *self;
    /* TRUNC and LTZ's bit injection by split + a2r instead of the
     * three-party OT: one round more and fewer bytes, and no message that
     * two honest receivers must agree on comes from a third party (whose
     * cheating could then fail a check depending on the choice bit) */
    int no_ot;
    /* INPUT also shares the bits of x - lo and proves them (a carry chain):
     * every input lies in the range the protocol's bounds assume
     * (proto_input_range) */
    int typed_input;
    /* every convolution reshared (proven), none left an unfinished sum: a
     * lazy sum's opens would each be a statement of its own, with the
     * convolution behind it found through the linear operations between */
    int no_lazy;
    /* REQCLAMP's party 0 deals c's 64 bits instead of its comparison's
     * L + 1 (derived from them), so that what it splits can be proven
     * against c */
    int deal_c;
} rep3_mode;

typedef struct {
    rss rs;
    int comm; /* this step sends or receives: a lazy convolution does not */
    const rep3_mode *mode;
} rep3;

/* What the comparisons read of their operand a (LTZ, CLAMP, REQCLAMP,
 * exact REQCLAMP) without rep3-active's checks: role 0 the sum of its two
 * shares x_0 + x_1, roles 1 and 2 only x_2 (rep3-field converts into this:
 * proto_rep3f.c). A change that reads more fails rep3-field's tests. */

/* The asymmetric methods rotate their roles by the instruction's position
 * (op->rot): role v is real party v + rot, and stream S[role v] is
 * S[v + rot], known to roles v - 1 and v. */
static inline int rep3_role(int me, const pop *op) { return (me + 3 - op->rot) % 3; }
static inline int rep3_party(const pop *op, int v) { return (v + op->rot) % 3; }

/* A rep3 state (the shared seeds: rss_init's round) of size bytes, zeroed
 * beyond the rep3 it starts with (a protocol's own state may extend it), or
 * NULL with err. */
void *rep3_new(const proto_env *env, const rep3_mode *m, size_t size, char *err, size_t errlen);
void rep3_destroy(void *ps);
void rep3_setup_cost(int nparties, proto_cost *acc);

void rep3_add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
void rep3_sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
void rep3_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);
void rep3_mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);
void rep3_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc);

/* rep3-active, exact REQCLAMP with two floors (xq_decrement_record, plan
 * §6.1): the decrement chain's statement words, exported for the unit
 * tests. rep3_decrement_masks gives relation plane j's lane masks for the
 * n elements' shifts d (k), into m (6 plane words: lin, chn, rho, pad, and,
 * and z, the lanes where rho = 0); rep3_decrement_words gives one side of
 * plane j's words from the dealt planes S (c_j at j, c'_j at 64 + j - 31,
 * rho at 64 + E; P with one = ~0, which takes the constants, Q with 0):
 * into t the linear word's and the AND word's t, into v d_j and NOT c_j.
 * The relations: (t_P ^ t_Q) AND lin = 0, (t_P ^ t_Q ^ d_P NOT c_Q ^ NOT
 * c_P d_Q) AND and = 0 (t and v at offset nw), (rho_P ^ rho_Q) AND z = 0. */
void rep3_decrement_masks(const uint8_t *d, size_t n, uint32_t E, uint32_t j, word *m);
void rep3_decrement_words(const word *S, size_t nw, uint32_t j, uint32_t E, const word *m, word one, word *t, word *v);

/* The table entries every protocol on these operations shares. */
#define REP3_ENTRIES                                                                                           \
    .domain = "Z_2^64", .configs = {3}, .min_parties = 3, .max_parties = 3, .share_words = 2, .add = rep3_add, \
    .sub = rep3_sub, .addc = rep3_addc, .mulc = rep3_mulc, .fillc = rep3_fillc, .exchange = rep3_exchange,     \
    .setup_cost = rep3_setup_cost

int rep3_steps(const rep3_mode *m, const pop *op);
int rep3_prepare(void *ps, pop *op, int step, char *err, size_t errlen);
int rep3_exchange(void *ps, char *err, size_t errlen);
int rep3_finish(void *ps, pop *op, int step, char *err, size_t errlen);
void rep3_cost(const rep3_mode *m, const pop *op, proto_cost *acc);

#endif
