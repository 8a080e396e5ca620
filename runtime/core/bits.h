/* bits: bit-sliced boolean vectors for the comparison protocols. Plane j of
 * n elements holds bit j of each element, 64 elements per word, so that
 * bitwise gates on whole planes process 64 elements at once and a round
 * moves only the bits still needed. Also the shape of the carry tree that
 * every comparison protocol and its cost model share. */
#ifndef BITS_H
#define BITS_H

#include <stddef.h>
#include <stdint.h>

/* the bits of v: the least b with v < 2^b */
static inline uint32_t bits_len(uint64_t v)
{
    uint32_t b = 0;
    while (b < 64 && v >> b)
        b++;
    return b;
}
/* words per plane of n elements */
static inline size_t bits_words(size_t n) { return (n + 63) / 64; }
/* bit i of a plane */
static inline uint64_t bits_get(const uint64_t *plane, size_t i) { return (plane[i / 64] >> (i % 64)) & 1; }
/* planes[j * nw + i / 64] bit i % 64 = bit j of v[i * stride], for j < nbits */
void bits_pack(const uint64_t *v, size_t stride, size_t n, uint32_t nbits, uint64_t *planes, size_t nw);
/* Tests: bits_pack's portable transpose even where AVX-512 VBMI and GFNI
 * are there (on = 1), or the fastest the CPU has (0). */
void bits_set_portable(int on);
/* n bits of the plane src ORed into the plane dst from element `at` on */
void bits_put(uint64_t *dst, size_t at, const uint64_t *src, size_t n);
/* dst (planes of 2na elements, nw words each) = each plane of src (na
 * elements, bits_words(na) words each) twice: elements i and na + i equal */
void bits_dup(const uint64_t *src, size_t na, uint32_t nplanes, uint64_t *dst, size_t nw);
/* levels of the carry tree over L bits: ceil(log2 L) */
int bits_levels(uint32_t L);
/* AND gates at tree level k (1-based): a group starting at j (a multiple of
 * 2s, s = 2^(k-1)) with a high half at j + s < L combines G (one AND) and,
 * unless j = 0, P (a second AND). With `full` group 0 combines P too, so
 * that the tree also yields the propagate bit of all L bits (for a carry
 * that enters later from below). */
void bits_level_ands(uint32_t L, int k, int full, size_t *nand);
/* Those gates in order, allocated (free them), their count in *nand: gate i computes P[hi] AND
 * Y, Y = G[lo] when !second (the result, combined with G[hi], becomes
 * G[lo]) or P[lo] when second (the result becomes P[lo]). */
typedef struct {
    uint32_t hi, lo;
    int second;
} bits_gate;
bits_gate *bits_level_gates(uint32_t L, int k, int full, size_t *nand);
/* The gates' operands, gate i as plane i of x and of y (nw words each):
 * x = P[hi], y = G[lo] or P[lo]. */
void bits_gate_operands(const bits_gate *gt, size_t nand, size_t nw, const uint64_t *g, const uint64_t *p, uint64_t *x,
                        uint64_t *y);
/* Their results z (gate i as plane i) into the tree: G[lo] = G[hi] ^ z, or
 * P[lo] = z. */
void bits_gate_results(const bits_gate *gt, size_t nand, size_t nw, const uint64_t *z, uint64_t *g, uint64_t *p);
/* the least b with v <= 2^b */
static inline uint32_t bits_ceil_log2(uint64_t v) { return v <= 1 ? 0 : bits_len(v - 1); }

#endif
