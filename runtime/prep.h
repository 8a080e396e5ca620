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

#include "geom.h"
#include "net.h"

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
    enum { PREP_MUL, PREP_CONV2D, PREP_DWCONV2D } kind;
    size_t na, nb, n; /* a, b and c's lengths */
    geom g;
    uint32_t channels;
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

/* ---- the dealer source's streams, for material not yet in the catalog
 * (spdz2k's authenticated vectors over Z_2^128) ---- */
/* party: my stream */
void prep_draw(prep *p, void *out, size_t nbytes);
/* party N-1: the next corrections */
void prep_read(prep *p, void *out, size_t nbytes);
/* dealer: party i's stream, and corrections for party N-1 (buffered) */
void prep_draw_for(prep *p, int party, void *out, size_t nbytes);
void prep_write(prep *p, const void *c, size_t nbytes);
/* dealer: sends what is buffered */
void prep_flush(prep *p);
/* 0, or -1 with the first failure in err */
int prep_error(const prep *p, char *err, size_t errlen);

#endif
