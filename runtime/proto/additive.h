/* additive: the building blocks of N-party additive secret sharing, for
 * protocols such as semi2k (Z_2^64 words), spdz2k (Z_2^128 with MAC
 * shares) and spdz (F_p with MAC shares) to compose. x = x_0 + ... + x_{N-1} (xor for bit planes); party
 * i holds x_i. Public values enter party 0's share (and, with MACs, every
 * party's MAC share as alpha_i times the value).
 *
 * Contract: every party calls the same blocks in the same order. A
 * communicating block comes as a send half (queue what it sends, declare
 * what it expects), then the caller's network round, then a finish half
 * (consume what arrived, in the order the sends expected it). The blocks
 * do not choose masks: the caller states what masks each value it opens
 * (a dealt element that no party knows in full, for a uniform opening).
 * Each cost helper adds the bytes every party sends to acc->bytes and
 * returns the rounds. Nothing here runs at a dealer. */
#ifndef ADDITIVE_H
#define ADDITIVE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/prep/prep.h"
#include "runtime/proto/proto.h"

struct net;

typedef struct {
    struct net *nt;
    int me, n; /* this party, of n */
} add_parties;

/* The ring of an open's sum: + mod 2^64, or xor (bit-sliced planes). */
typedef enum { ADD_ARITH, ADD_BOOL } add_ring;

/* The local ADDC and FILLC of one-word shares, for a protocol whose state
 * begins with its add_parties: a public constant enters party 0's share. */
void add_word_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);
void add_word_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc);

/* ---- messages ---- */

/* The same len bytes to every other party, and as many expected from each:
 * the pattern of every open to all (and of any broadcast-style message). */
void add_send_all(const add_parties *p, const void *v, size_t len);

/* ---- open to all ----
 * Every party sends its share v (n elements: words, or 16-byte elements of
 * Z_2^128 or F_p) to every other party; on arrival each holds the value, its
 * own share plus (xor) the N-1 others'. 1 round; (N-1) n elements sent by
 * each party, n values opened. What is opened must be masked by the caller.
 * out may be mine. add_open128_finish returns the first party that sent an
 * element that is not canonical (F_p: not below p), or -1. */
void add_open_send(const add_parties *p, const word *v, size_t n);
void add_open_finish(const add_parties *p, add_ring ring, const word *mine, word *out, size_t n);
void add_open128_send(const add_parties *p, const el *v, size_t n);
int add_open128_finish(const add_parties *p, el_dom dom, const el *mine, el *out, size_t n);
/* every party: (N-1) n elements of width bytes */
uint64_t add_open_cost(int N, uint64_t n, size_t width, proto_cost *acc);

/* ---- open to one party ----
 * Every party but rc sends rc its share (n words, unmasked: rc learns the
 * value and only rc); rc then calls add_open_finish. 1 round. */
void add_open_to_send(const add_parties *p, int rc, const word *v, size_t n);
uint64_t add_open_to_cost(int N, int rc, uint64_t n, size_t width, proto_cost *acc);

/* ---- Beaver products ----
 * A triple (a, b, c = a . b) of a shape (prep_shape: elementwise with b
 * periodic, (depthwise) convolution of input a with filters b, or grouped
 * products sharing their left operand) turns x . y into one open to all of
 * e = x - a (na elements) and f = y - b (nb), masked by the triple's
 * uniform a and b, then the local z = c + e . b + a . f + e . f, the public
 * e . f entering party 0's share: 1 round, (N-1)(na + nb) elements sent by
 * each party, na + nb values opened. Over Z_2^128 and F_p the same combination
 * applies to value and MAC shares alike (e and f are public, so e . m_b
 * and m_a . f are shares of the MAC of e . b and a . f), and e . f enters
 * the MAC shares as alpha_i (e . f).
 *
 * The send half: v holds this party's shares of x (na elements) then y
 * (nb), in the shape's layout; it subtracts the triple's a and b and sends
 * the result (over Z_2^128 the value shares; the MAC shares stay in v->m
 * for the MAC check). The caller then opens v with add_open(128)_finish
 * into ef (e then f), and the combination replaces c by the product's
 * shares (n elements). */
void add_beaver_send(const add_parties *p, const prep_shape *sh, const word *a, const word *b, word *v);
void add_beaver_combine(const add_parties *p, const prep_shape *sh, const word *ef, const word *a, const word *b,
                        word *c);
void add_beaver128_send(const add_parties *p, el_dom dom, const prep_shape *sh, const prep_avec *a,
                        const prep_avec *b, prep_avec *v);
void add_beaver128_combine(const add_parties *p, el_dom dom, const prep_shape *sh, el alpha, const el *ef,
                           const prep_avec *a, const prep_avec *b, prep_avec *c);
/* The triple's shape for a MUL (elementwise on n: y, periodic in the
 * operation, is opened expanded to n) or a (depthwise) convolution (op's
 * input and filters: na and nb elements). */
prep_shape add_op_shape(const pop *op);

/* ---- AND of xor-shared bit planes (Beaver) ----
 * With a triple's shares (a, b, c = a & b) and the opened d = x ^ a, e = y
 * ^ b (m words), this party's share of x & y: c ^ (d & b) ^ (e & a), and d &
 * e at party 0. */
void add_and_combine(const add_parties *p, const word *d, const word *e, const word *a, const word *b, const word *c,
                     size_t m, word *z);

/* ---- MAC accumulation (SPDZ-style) ----
 * For values y just opened, with this party's MAC shares m of what was
 * opened and its key share alpha_i: sigma_k = m_k - alpha_i y_k, which sum
 * to 0 over the parties when y is authentic. A batch is checked as a whole
 * through z_i = sum_k chi_k sigma_k, chi_k coefficients from a PRG
 * (AES-CTR) seeded with a coin tossed after the batch was opened: 64-bit
 * words over Z_2^128, where sum z_i = 0 then holds for a forged y with
 * probability about 2^-(s - log s); uniform elements of F_p, where it is at
 * most 2/p. No message here: the protocol commits to z_i and reveals it. */
typedef struct {
    el *v; /* sigma of the batch */
    size_t len, cap;
} add_mac_batch;
void add_mac_push(add_mac_batch *b, el_dom dom, el alpha, const el *m, const el *y, size_t n);
/* z_i of the batch, which is emptied */
el add_mac_combine(add_mac_batch *b, el_dom dom, const uint8_t coin[16]);
void add_mac_free(add_mac_batch *b);

#endif
