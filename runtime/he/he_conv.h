/* he_conv: Cheetah's coefficient encodings of a convolution as one
 * polynomial product per block in Z[X]/(X^N + 1), no rotations
 * (docs/plans/hemi.md 3.6), generalized so that several output channels
 * share a product. Pure arithmetic on plain polynomials: the RLWE layer
 * (rlwe.h) encrypts the input side and multiplies by the filter side.
 *
 * A tile covers ho x wo stride-1 output positions from (r0, c0), measured in
 * padded coordinates (padded row r is input row r - PT; outside the input
 * everything is 0), so its input block is hb = ho + EKH - 1 by wb = wo +
 * EKW - 1 (EKH = (KH - 1) DH + 1, likewise EKW). Convolution, input
 * channels [ch0, ch0 + cn), output channels [m0, m0 + mn):
 *   input   sum x[r0 + i - PT][c0 + j - PL][c] X^((c - ch0) hb wb + i wb + j)
 *   filter  sum W[m0 + mu][u][v][c] X^(O - (c - ch0) hb wb - u DH wb - v DW + mu S)
 *           O = (cn - 1) hb wb + (EKH - 1) wb + (EKW - 1), S = cn hb wb
 *   output  (m0 + mu, stride-1 position (r0 + i, c0 + j)) at X^(O + mu S + i wb + j),
 *           for mn S <= N; a position is an output when r0 + i and c0 + j are
 *           multiples of the strides and inside OH x OW.
 * Depthwise, channels [ch0, ch0 + cn), multiplier index q (filter channel
 * c M + q), with G = hb wb and cn^2 G <= N:
 *   input   sum over c of X^((c - ch0) G) (the channel's block as above)
 *   filter  sum over c of X^((c - ch0) cn G) sum W[u][v][c M + q] X^(O1 - u DH wb - v DW),
 *           O1 = (EKH - 1) wb + (EKW - 1)
 *   output  channel c at X^((c - ch0)(cn + 1) G + O1 + i wb + j).
 * Sums over channel blocks add the products; the other coefficients hold
 * partial sums the protocol never reveals. */
#ifndef HE_CONV_H
#define HE_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/geom.h"

typedef struct {
    uint32_t ho, wo;  /* stride-1 output positions per tile */
    uint32_t cn, mn;  /* input channels per block; output channels per product (convolution) */
} he_tile;

typedef struct {
    uint32_t r0, c0;  /* the tile's first stride-1 position, padded coordinates */
    uint32_t ch0, m0; /* first input channel, first output channel (or multiplier index q) */
} he_at;

uint32_t he_tile_hb(const geom *g, const he_tile *t);
uint32_t he_tile_wb(const geom *g, const he_tile *t);
/* 1 if the tile's products fit N coefficients (the constraints above) */
int he_conv_fits(const geom *g, const he_tile *t, uint32_t n);
int he_dw_fits(const geom *g, const he_tile *t, uint32_t n);

/* the input block of a tile (x: H W C, values mod 2^64) into poly (n) */
void he_conv_input(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const uint64_t *x, uint64_t *poly);
/* the filter side (w: OC KH KW C, oc output channels) into poly (n) */
void he_conv_filter(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const int64_t *w, uint32_t oc,
                    int64_t *poly);
/* the coefficient of output channel m0 + mu at stride-1 position (r0 + i, c0 + j) */
uint32_t he_conv_coef(const geom *g, const he_tile *t, uint32_t mu, uint32_t i, uint32_t j);

void he_dw_input(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const uint64_t *x, uint64_t *poly);
/* w: 1 KH KW C M (depth multiplier M), the filter set of multiplier index at->m0 */
void he_dw_filter(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const int64_t *w, uint32_t m,
                  int64_t *poly);
uint32_t he_dw_coef(const geom *g, const he_tile *t, uint32_t c, uint32_t i, uint32_t j);

/* A layer's plan: the tile minimizing the bytes it sends, under the
 * constraints of the encodings (he_conv_fits, he_dw_fits) and of the noise
 * and exactness bounds of docs/plans/hemi.md 3.1: with B_W the largest sum
 * of |weights| behind one output (conv: mn C KH KW wmax; depthwise: cn KH
 * KW wmax), the modulus q = ceil(log2(21 B_W)) + l + 42 <= 109, q + log2
 * B_W <= 121, B_W <= 2^24. Bytes: in_ct ceil(N q / 8) up, out_ct ceil(N (l
 * + 13) / 8) + ceil(outputs (l + 2) / 8) down; ties go to fewer products,
 * then to the smallest (ho, wo, cn, mn). Deterministic: both parties and
 * the cost model compute the same. */
typedef struct {
    he_tile t;
    uint32_t q;                 /* the layer's ciphertext modulus bits */
    uint64_t bw;                /* B_W */
    uint64_t in_ct, out_ct, products;
    uint64_t up, down;          /* bytes */
} he_plan;

/* 0, or -1 when no tile fits (a layer too wide for N, or weights too large) */
int he_plan_layer(const geom *g, uint32_t oc_or_m, int dw, uint32_t l, uint32_t wmax, uint32_t n, he_plan *p);

#endif
