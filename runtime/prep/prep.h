/* prep: preprocessing, the correlated randomness protocols consume. A
 * protocol asks its source for typed material (the catalog below: Beaver
 * and convolution triples, truncation pairs, masks with their bits, AND
 * triples, daBits) and never builds it itself; the same calls run at every
 * party and, for a source that has one, at its dealer, in execution order.
 *
 * The one source so far is the dealer (`--prep dealer`): an extra process
 * that never sees an input or a share of one. At set-up it sends party i a
 * 16-byte PRG seed (one round). From then on party i draws its share of
 * every dealt vector from its stream, and only what cannot be drawn travels:
 * the corrections that make party N-1's shares add up to a derived value (a
 * triple's product, a truncation pair, bits, a MAC). The dealer writes them
 * to party N-1 as a stream while it walks the program, and party N-1 reads
 * them as it goes, so neither holds them all. A source generated among the
 * parties (OT, HE) implements the same catalog.
 *
 * A failed read or write (the peer gone) is sticky: later calls do nothing
 * and prep_error reports it, so protocols check once per instruction. */
#ifndef PREP_H
#define PREP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/el128.h"
#include "runtime/core/geom.h"
#include "runtime/core/kernels.h"
#include "runtime/net/net.h"

typedef struct prep prep;

/* me == n: the dealer. One round with the seeds. NULL with err set. */
prep *prep_open(net *nt, int me, int n, char *err, size_t errlen);
void prep_close(prep *p);
/* Whether this process is the dealer (it makes the material and has no
 * shares: the online part of an operation is not its business). */
int prep_dealer(const prep *p);

/* ---- the catalog over Z_2^64 (and bit-sliced GF(2) planes) ----
 * Each call fills this party's shares of fresh material; at the dealer the
 * output pointers may be NULL. Sizes are in elements (64-bit words). */

/* The product a triple's c is of: elementwise (b periodic), or a
 * (depthwise) convolution of a (the input) with b (the filters). */
typedef struct {
    enum { PREP_MUL, PREP_CONV2D, PREP_DWCONV2D, PREP_GROUPED } kind;
    size_t na, nb, n; /* a, b and c's lengths */
    geom g;
    uint32_t channels;
    /* PREP_GROUPED (authenticated only): products sharing their left
     * operand, c[k cols + q] = a[xi[k] cols + q] * b[k cols + q] */
    const uint32_t *xi;
    size_t cols;
} prep_shape;

/* Beaver triples (a, b, c = a * b) of the shape: a, b uniform. */
void prep_triples(prep *p, const prep_shape *sh, uint64_t *a, uint64_t *b, uint64_t *c);
/* Truncation pairs: r uniform, R = (r mod 2^63) >> d[k], v = msb r. */
void prep_trunc(prep *p, size_t n, const uint8_t *d, uint64_t *r, uint64_t *R, uint64_t *v);
/* The same, and the bits 0..L of Q = (R << (d - dmin)) + [63 - dmin = L] 2^L v
 * as L + 1 planes of bits_words(n) words (boolean shares). */
void prep_trunc_bits(prep *p, size_t n, const uint8_t *d, uint8_t dmin, uint32_t L, uint64_t *r,
                     uint64_t *R, uint64_t *v, uint64_t *planes);
/* r uniform and its bits 0..L as L + 1 planes (boolean shares). */
void prep_masked_bits(prep *p, size_t n, uint32_t L, uint64_t *r, uint64_t *planes);
/* AND triples on m words of bit planes: c = a & b (boolean shares). */
void prep_and_triples(prep *p, size_t m, uint64_t *a, uint64_t *b, uint64_t *c);
/* daBits: n random bits rho as a plane (boolean shares, bits_words(n)
 * words) and as arithmetic shares (n words). */
void prep_dabits(prep *p, size_t n, uint64_t *plane, uint64_t *arith);
/* r uniform and the one-hot rows of r mod 256: oh[v n + e] = [r_e mod 256
 * == v] (256 n words), arithmetic shares. */
void prep_onehot8(prep *p, size_t n, uint64_t *r, uint64_t *oh);

/* ---- authenticated material over Z_2^128 (SPDZ2k, k = s = 64) or F_p ----
 * A vector of value shares x and MAC shares m, sum m = alpha sum x (in the
 * domain: runtime/core/el128.h), alpha the sum of the parties' key shares
 * (64-bit ones over Z_2^128, elements of F_p). The calls allocate v->x and
 * v->m (n elements; prep_avec_free); at the dealer x holds the values.
 * Over F_p every mask the calls below bound is uniform in [0, 2^126)
 * (PREP_FP_MASK_BITS): room above a 63-bit value for statistical masking,
 * with no wrap modulo p. */
typedef struct {
    el *x, *m;
    size_t n;
} prep_avec;

#define PREP_FP_MASK_BITS 126

void prep_avec_alloc(prep_avec *v, size_t n);
void prep_avec_free(prep_avec *v);
/* My MAC key share (the dealer: the key itself), which fixes the domain of
 * the calls below. Once, first. */
el prep_mac_key(prep *p, el_dom dom);
/* d += x . y of the shape, in the domain (triples, Beaver's combination) */
void prep_product_add(el_dom dom, const prep_shape *sh, el *d, const el *x, const el *y);
/* Uniform values. */
void prep_auth_random(prep *p, prep_avec *v, size_t n);
/* Uniform values party `owner` knows: its value shares are the values, the
 * others' 0 (input and output masks). */
void prep_auth_owned(prep *p, prep_avec *v, size_t n, int owner);
/* Triples of the shape (a, b uniform, c = their product). */
void prep_auth_triples(prep *p, const prep_shape *sh, prep_avec *a, prep_avec *b, prep_avec *c);
/* Truncation pairs over Z_2^128: r uniform, R = (r mod 2^63) >> d[k], v = bit 63 of r.
 * Over F_p: r < 2^126, R = r >> d[k], no v. */
void prep_auth_trunc(prep *p, size_t n, const uint8_t *d, prep_avec *r, prep_avec *R, prep_avec *v);
/* r uniform (F_p: below 2^126) and the one-hot rows of the chunks of r
 * mod 2^L (chunk bits each: element e of chunk i's row v is [chunk i of
 * r_e == v]), then, with top, a row of bit L of r (F_p: of r >> L): rows x
 * n elements in oh. F_p with split (else NULL): element e's rows are of
 * r_e mod 2^split[e] (split[e] <= L) and its top r_e >> split[e]. */
void prep_auth_chunks(prep *p, size_t n, uint32_t L, uint32_t chunk, const uint8_t *split, int top, prep_avec *r,
                      prep_avec *oh);
/* The rows of the one-hot chunks of L bits, `chunk` bits each but the last. */
size_t prep_onehot_count(uint32_t L, uint32_t chunk);
/* Input masks: r (n values; F_p: below 2^126) that party `owner` knows,
 * unauthenticated (into r at the owner; r may be NULL elsewhere), and the
 * one-hot rows of the chunks of r mod 2^L, authenticated and known to the
 * owner. */
void prep_auth_input_chunks(prep *p, size_t n, uint32_t L, uint32_t chunk, int owner, el *r, prep_avec *oh);
/* dealer: sends what is buffered (at the end of the program) */
void prep_flush(prep *p);
/* 0, or -1 with the first failure in err */
int prep_error(const prep *p, char *err, size_t errlen);

#endif
