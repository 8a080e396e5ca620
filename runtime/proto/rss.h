/* rss: the building blocks of three-party replicated secret sharing over
 * Z_2^64 (arithmetic) or bit-sliced words (boolean), for protocols such as
 * rep3 to compose. x = x0 + x1 + x2 (or xor); party i holds (x_i, x_{i+1}),
 * indices mod 3. Party i holds the seeds of PRG streams S[i] and S[i+1], so
 * stream S[k] is known exactly to parties k-1 and k.
 *
 * Contract: every block names its parties by real index (a protocol that
 * rotates roles passes the rotated ones), and every party calls the same
 * blocks in the same order, drawing from the streams only in `prepare`, so
 * that both holders of a stream draw the same words. A communicating block
 * comes as *_prepare (draw, queue what it sends, declare what it expects),
 * then the caller's network round, then *_finish (consume what arrived, in
 * the order the prepares expected it). Each block below states its
 * messages (sender -> receiver: words, what masks them) and its rounds; its
 * *_cost adds the bytes each party sends to acc->bytes and returns the
 * rounds. Words are 8 bytes. */
#ifndef RSS_H
#define RSS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/proto/proto.h"

struct net;
struct prg;
struct jmp;
struct dzkb;
struct dzka;

typedef struct {
    int me;
    struct net *nt;
    struct prg *s[3]; /* s[me] and s[me + 1]; the other is NULL */
    struct prg *own;  /* this party's private stream (rss_lut's r) */
    /* rep3-active's checks, NULL under rep3: the hash chains (owned), into
     * which the blocks that say "hash-checked" absorb, and this party's side
     * of each prover's boolean proof (indexed by prover; not owned), into
     * which the blocks that say "proven" record their statements */
    struct jmp *j;
    struct dzkb *pb[3];
    struct dzka *pa[3]; /* the same for the arithmetic proof */
} rss;

/* Where a block writes this party's two shares (x_me, x_{me+1}) of n
 * elements: element i at own[i * stride] and next[i * stride]. */
typedef struct {
    word *own, *next;
    size_t stride;
} rss_pair;

/* A register of replicated shares: the two words of element i side by side. */
static inline rss_pair rss_words(word *d) { return (rss_pair){d, d + 1, 2}; }
/* Two separate arrays (bit planes). */
static inline rss_pair rss_planes(word *own, word *next) { return (rss_pair){own, next, 1}; }

/* The ring of a block's masks and shares: + and - mod 2^64, or xor. */
typedef enum { RSS_ARITH, RSS_BOOL } rss_ring;

static inline int rss_next(int p) { return (p + 1) % 3; }
static inline int rss_prev(int p) { return (p + 2) % 3; }

/* ---- set-up and streams ---- */

/* Set-up, 1 round: party i draws a fresh seed S[i] (OpenSSL) and sends it
 * to party i-1 (16 bytes each). 0, or -1 with the reason in err. */
int rss_init(rss *r, int me, struct net *nt, char *err, size_t errlen);
void rss_free(rss *r);
uint64_t rss_init_cost(proto_cost *acc);

/* n words of stream S[k]; this party must hold it (k = me or me + 1). */
void rss_draw(rss *r, int k, word *out, size_t n);

/* ---- plain messages (the caller states what masks them) ---- */

/* kind names the message for the cheating tests: in test builds QNN_CHEAT
 * with that kind flips a bit of it (net_cheat) */
void rss_send(rss *r, const char *kind, int to, const word *v, size_t n);
void rss_expect(rss *r, int from, size_t n);
/* the next n words from `from` (in the order expected) into v[i * stride];
 * returns them as they arrived (for the hash chains) */
const uint8_t *rss_recv(rss *r, int from, word *v, size_t stride, size_t n);

/* A message from -> to of n words that this party received or, as the
 * third party, recomputed: into rep3-active's hash chains (jmp.h), in the
 * finish of its round; nothing under rep3. */
void rss_hashed(rss *r, int from, int to, const void *v, size_t n);

/* ---- zero sharings (no message) ----
 * alpha_me = F(S[me]) - F(S[me + 1]) (xor for the boolean one): the three
 * sum to 0 and each is uniform to the other parties. Draws n words from
 * each stream held. */
void rss_zero(rss *r, word *out, size_t n);
void rss_bool_zero(rss *r, word *out, size_t n);

/* ---- sharing a value one party knows ----
 * Party o knows x (n words): x_o = F(S[o]) (parties o and o+2 draw it),
 * x_{o+1} = x - x_o (xor), x_{o+2} = 0. Message: o -> o+1, n words, masked
 * by x_o (S[o], unknown to o+1; kind names it). 1 round. Parties o and o+2
 * have their shares after prepare, party o+1 after finish. x is read at o
 * only. Boolean, it hands the two sides of o's carry chains (dzkb_chain) to
 * o's verifiers: P = x_o to prev (o+2), Q = x_{o+1} to next (o+1). */
void rss_share_prepare(rss *r, const char *kind, int o, rss_ring ring, const word *x, size_t n, rss_pair y);
void rss_share_finish(rss *r, int o, size_t n, rss_pair y);
uint64_t rss_share_cost(int o, size_t n, proto_cost *acc);

/* ---- sharing a value one party knows, both others' shares streamed ----
 * Party o knows x (n words): x_o = F(S[o]) (parties o and o+2 draw it),
 * x_{o+1} = F(S[o+1]) (parties o and o+1), x_{o+2} = x - x_o - x_{o+1}
 * (xor) sent to o+1 and o+2 (n words each; to o+1 masked by x_o, to o+2 by
 * x_{o+1}, the share each receiver lacks). Unlike rss_share, each other
 * party knows one of its shares before the round (o+1: x_{o+1}, o+2: x_o),
 * which lets rss_andk run in the same round. 1 round. Hash-checked: each
 * receiver is the backup of the other's copy. */
void rss_share2_prepare(rss *r, int o, rss_ring ring, const word *x, size_t n, rss_pair y);
void rss_share2_finish(rss *r, int o, size_t n, rss_pair y);
uint64_t rss_share2_cost(int o, size_t n, proto_cost *acc);

/* ---- opening to one party ----
 * The receiver rc lacks x_{rc+2}: party rc+1 sends it (n words, a share;
 * with rc's two shares it is the value, which is what is opened). 1 round.
 * a is a register of replicated shares (rss_words). */
void rss_open_prepare(rss *r, int rc, const word *a, size_t n);
void rss_open_finish(rss *r, int rc, const word *a, int64_t *out, size_t n);
uint64_t rss_open_cost(int rc, size_t n, proto_cost *acc);

/* ---- reshare (Araki et al.'s multiplication message) ----
 * Each party holds z_me of a 3-out-of-3 sharing (a product's cross terms
 * plus a zero share): it sends z_me to party me-1 (n words each, masked by
 * the zero share's F(S[me+1]), unknown to me-1) and then holds (z_me,
 * z_{me+1}), a replicated sharing. 1 round. */
void rss_reshare_prepare(rss *r, const char *kind, const word *z, size_t n);
void rss_reshare_finish(rss *r, const word *z, size_t n, rss_pair y);
uint64_t rss_reshare_cost(size_t n, proto_cost *acc);

/* ---- three-party OT of a share ----
 * Sender s knows two candidates v_0, v_1 per element; parties s+1 and s+2
 * both know the choice c. The result is the replicated sharing of v_c with
 * y_s = F(S[s]), y_{s+1} = F(S[s+1]) and y_{s+2} = v_c - y_s - y_{s+1}
 * (xor), which s+1 and s+2 receive, each helped by the other:
 *   s -> s+1: the two m_c = y_{s+2}(c) + w_c, 2n words, w from S[s]
 *   s -> s+2: the same masked by w' from S[s+1], 2n words
 *   s+2 -> s+1: w_c, n words; s+1 -> s+2: w'_c, n words (uniform)
 * so each receiver unmasks exactly y_{s+2}(c), itself masked by the share
 * it lacks. 1 round. Each stream draws the share (n) and then the masks
 * (2n). The sender passes v (v_0, v_1 of element i at 2i, 2i + 1); the
 * others pass c in both halves (n words: RSS_ARITH takes all-ones to choose
 * v_1 and 0 for v_0, RSS_BOOL chooses bit by bit). The sender has its
 * shares after prepare, the others after finish. */
void rss_ot_prepare(rss *r, int s, rss_ring ring, const word *v, const word *c, size_t n, rss_pair y);
void rss_ot_finish(rss *r, int s, rss_ring ring, const word *c, size_t n, rss_pair y);
uint64_t rss_ot_cost(int s, size_t n, proto_cost *acc);

/* ---- AND of shared bits with bits the other two parties know ----
 * g = a AND b (bit-sliced, n words): a replicated (a_o, a_{o+1}, a_{o+2}),
 * b known to parties o+1 and o+2. g_o = F(S[o]), g_{o+1} = F(S[o+1]);
 * o+1 sends a_{o+1} b ^ g_{o+1} to o+2 and o+2 sends a_o b ^ g_o to o+1 (n
 * words each, masked by the share of g the receiver lacks); each then has
 * g_{o+2} = a_{o+2} b ^ (what it sent) ^ (what it received). 1 round, 2n
 * words in all, against 6n for the three-party OT. prepare takes the share
 * of a known before the round (o+1: a_{o+1}, o+2: a_o), finish a_{o+2}, so
 * a may be dealt by rss_share2 in the same round; party o passes NULLs. */
void rss_andk_prepare(rss *r, int o, const word *a_known, const word *b, size_t n, rss_pair y);
/* a: this party's two shares of a (own, next), n words each; proven: each
 * message is its sender's statement m = a_s b ^ g_s (one product) */
void rss_andk_finish(rss *r, int o, const word *const a[2], const word *b, size_t n, rss_pair y);
uint64_t rss_andk_cost(int o, size_t n, proto_cost *acc);

/* ---- one level of boolean ANDs (bit-sliced words) ----
 * Gate k of m ANDs the replicated words x_k, y_k (nw words each):
 * z_me = x_me y_me ^ x_me y_{me+1} ^ x_{me+1} y_me ^ a boolean zero share,
 * then the reshare above (m nw words each, 1 round). z has m nw words;
 * gate k's result is at offset k nw of each share. */
typedef struct {
    const word *x[2], *y[2]; /* this party's two shares of each operand */
} rss_and_gate;
/* z holds rss_and_words(r, m, nw) words (rep3-active keeps the zero
 * share's two stream parts there for its statements); finish takes the
 * same gates as prepare. Proven: P_i's message z_i is the statement
 * z_i ^ x_i y_i ^ F(S[i]) ^ F(S[i+1]) = x_i y_{i+1} ^ y_i x_{i+1} (two
 * products between its verifiers' shares). */
size_t rss_and_words(const rss *r, size_t m, size_t nw);
void rss_and_prepare(rss *r, const rss_and_gate *g, size_t m, size_t nw, word *z);
void rss_and_finish(rss *r, const rss_and_gate *g, const word *z, size_t m, size_t nw, rss_pair y);
uint64_t rss_and_cost(size_t m, size_t nw, proto_cost *acc);

/* ---- carry tree ----
 * The carry out of L bits from boolean shares of generate bits G and
 * propagate bits P (L planes of nw words each): ceil(log2 L) AND levels
 * (bits_levels), level k combining groups of 2^k bits as
 *   G[j] = G[j+s] ^ (P[j+s] AND G[j]),  P[j] = P[j+s] AND P[j] (j > 0),
 * with s = 2^(k-1), the gates of bits_level_gates. Afterwards plane 0 of
 * G holds the carry. Per level: the AND level's message. */
typedef struct {
    uint32_t L;
    int full;          /* also the propagate bit of all L bits, in plane 0 of P */
    size_t nw;
    word *g[2], *p[2]; /* this party's two shares, L * nw words each (owned) */
    word *z;           /* the level in flight */
} rss_carry;
void rss_carry_prepare(rss *r, rss_carry *c, int level);
void rss_carry_finish(rss *r, rss_carry *c, int level);
void rss_carry_free(rss_carry *c);
uint64_t rss_carry_cost(uint32_t L, int full, size_t nw, proto_cost *acc);

/* ---- split of a value one party knows ----
 * Party s knows X (m words) and splits it as X = e + f, e = F(S[s+1])
 * (parties s and s+1 draw it), f sent to party s+2 (m words, masked by e;
 * kind names the message). Afterwards x holds s's f, s+1's e and (after
 * finish) s+2's f: additive shares of X between s+1 and s+2. Party s also
 * keeps e where e is not NULL (rep3-active's statements). 1 round. Not
 * proven here: what X is belongs to the caller, which states it (the
 * split's statement: prover s, prev s+2 holding f, next s+1 holding e). */
void rss_split_prepare(rss *r, const char *kind, int s, word *x, word *e, size_t m);
void rss_split_finish(rss *r, int s, word *x, size_t m);
uint64_t rss_split_cost(int s, size_t m, proto_cost *acc);

/* ---- additive shares of two parties made replicated ----
 * Parties s+1 and s+2 hold additive shares of y = sum_k X_k Y_k + loc
 * (n values, m products each): X_k split by party s (rss_split: e_k at s+1,
 * f_k at s+2), Y_k and loc known to both s+1 and s+2, so
 * p_{s+1} = sum_k e_k Y_k + loc and p_{s+2} = sum_k f_k Y_k.
 * y_s = F(S[s]), y_{s+1} = F(S[s+1]); first round: s+1 sends
 * m1 = p_{s+1} - y_{s+1} to s+2 (n words, masked by y_{s+1}), which then
 * knows y_{s+2} = y - y_s - y_{s+1}; second round (rss_a2r_send_*): s+2
 * sends y_{s+2} to s+1 (n words, masked by y_s). The first round may be
 * the split's. Proven (rep3-active), recorded in each round's finish:
 *   m1:      sum_k e_k Y_k = y_{s+1} + (m1 - loc)         prover s+1, prev s, next s+2
 *   y_{s+2}: sum_k Y_k f_k = (y_{s+2} - m1) + y_s         prover s+2, prev s+1, next s
 * so every share two parties hold comes from one of them or a common
 * stream: no message can make two honest parties disagree. */
typedef struct {
    uint32_t m;
    const word *x;   /* the split's parts: s f, s+1 e, s+2 f; X_k of value i at k n + i */
    const word *e;   /* s, rep3-active: the e parts, the same layout */
    const word *Y;   /* s+1, s+2: Y_k of value i at i m + k */
    const word *loc; /* s+1, s+2; NULL for 0 */
    int sign01;      /* Y_0 = 1 - 2 Y_1 for every value (a clamp's s t): the
                      * statements, the same relations, take e_0 Y_0 + e_1 Y_1
                      * as e_0 + (e_1 - 2 e_0) Y_1, e_0 into t: m - 1 terms */
} rss_a2r_def;
void rss_a2r_prepare(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y);
void rss_a2r_finish(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y);
void rss_a2r_send_prepare(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y);
void rss_a2r_send_finish(rss *r, int s, const rss_a2r_def *d, size_t n, rss_pair y);
uint64_t rss_a2r_cost(int s, size_t n, proto_cost *acc);

/* ---- lookup of a public table at a shared index (one-of-256 OT) ----
 * T holds the values of the 256 codes lo, lo + 1, ...; a (rss_words) the
 * replicated shares of n indices x among them; the result is the
 * replicated sharing of T(x) with y_s = F(S[s]), y_{s+1} = F(S[s+1]) and
 * y_{s+2} = T(x) - y_s - y_{s+1}. Party s draws r_i mod 256 from its
 * private stream (i the index's position; x_s below a share of it). First
 * round:
 *   s -> s+1: x_s + r_i mod 256 (n bytes), so that s+1 knows u_i = x + r_i
 *             mod 256, uniform to it (r is private to s); then the table
 *             V_i[k] = T[(k - r_i - lo) mod 256] - y_s - y_{s+1} + w_{i,k}
 *             (T[j] the value of code lo + j)
 *             (256 n words; w from a seed drawn from S[s], which s+1 lacks:
 *             every entry uniform to s+1, V_i[u_i] = y_{s+2} + w_{i,u_i})
 *   s -> s+2: x_{s+1} + r_i mod 256 (n bytes): s+2 knows u_i too.
 * Second round:
 *   s+1 -> s+2: V_i[u_i] (n words): s+2 knows w and takes y_{s+2}, its own
 *               share, masked to it by y_{s+1}
 *   s+2 -> s+1: w_{i,u_i} (n words, uniform to s+1): s+1 takes y_{s+2},
 *               masked to it by y_s; the other entries stay masked.
 * 2 rounds (steps 0 and 1); s receives nothing. A third party's message
 * decides what a receiver takes: passive protocols only (rep3_mode.no_ot). */
typedef struct {
    word seed[2]; /* s, s+2: the seed of w */
    word *keep;   /* s+1: y_{s+1}; s+2: y_s (written at the end: y may be a) */
    word *sel;    /* s+1: V_i[u_i]; s+2: w_{i,u_i} */
} rss_lut;
void rss_lut_prepare(rss *r, rss_lut *l, int step, int s, const int64_t *T, int64_t lo, const word *a, size_t n,
                     rss_pair y);
void rss_lut_finish(rss *r, rss_lut *l, int step, int s, const word *a, size_t n, rss_pair y);
void rss_lut_free(rss_lut *l);
uint64_t rss_lut_cost(int s, size_t n, proto_cost *acc);

#endif
