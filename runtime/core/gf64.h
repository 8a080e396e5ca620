/* gf64: the field GF(2^64) = F_2[x]/(x^64 + x^4 + x^3 + x + 1), for the
 * proof of boolean relations (docs/plans/rep3-active.md §5). An element is a
 * word whose bit b is the coefficient of xi^b, xi the class of x (the word
 * 2); addition is xor. The modulus is irreducible and primitive, so xi has
 * order 2^64 - 1 (tests/unit/test_fields.c checks both).
 *
 * Products are carry-less multiplications (PCLMUL on x86-64 CPUs that have
 * it, chosen at run time; a 4-bit-window multiplication elsewhere, whose
 * table look-ups depend on the second operand) followed by a reduction.
 * Sums of many products are formed unreduced (gf64_wide) and reduced once:
 * the reduction is linear. The bulk kernels below are the proof's inner
 * loops; each chooses its implementation once per call. */
#ifndef GF64_H
#define GF64_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t gf64;

/* a polynomial of degree < 128 over F_2: an unreduced product or a sum of them */
typedef struct {
    uint64_t lo, hi;
} gf64_wide;

gf64 gf64_mul(gf64 a, gf64 b);
/* Tests and benchmarks: use the portable multiplication even where PCLMUL
 * is available (on = 1), PCLMUL without the 512-bit kernels (2), or the
 * fastest the CPU has (0). */
void gf64_set_portable(int on);
gf64 gf64_pow(gf64 a, uint64_t e);
gf64 gf64_reduce(gf64_wide w);
/* The product of a and b over F_2[x], unreduced. */
gf64_wide gf64_clmul(uint64_t a, uint64_t b);
static inline void gf64_wide_add(gf64_wide *acc, gf64_wide v)
{
    acc->lo ^= v.lo;
    acc->hi ^= v.hi;
}

/* Bit tables of 64 elements e: tab[k][v] = sum of e[8k + b] over the set
 * bits b of the byte v. Then gf64_bits_eval(tab, w) = sum_b bit_b(w) e[b],
 * a linear map F_2^64 -> GF(2^64) in 8 look-ups. */
void gf64_vec_tables(const gf64 e[64], gf64 tab[8][256]);
/* e[b] = base^b: gf64_bits_eval(tab, w) evaluates the polynomial with
 * coefficients the bits of w at base. */
void gf64_bit_tables(gf64 base, gf64 tab[8][256]);
static inline gf64 gf64_bits_eval(const gf64 tab[8][256], uint64_t w)
{
    gf64 r = 0;
    for (int k = 0; k < 8; k++)
        r ^= tab[k][(w >> 8 * k) & 0xff];
    return r;
}

/* ---- bulk kernels ---- */

/* sum_i a[i] b[i] */
gf64 gf64_dot(const gf64 *a, const gf64 *b, size_t n);
/* out[w * per + j] = s[w] v[w * per + j] for w < n, j < per */
void gf64_scale(gf64 *out, const gf64 *s, const gf64 *v, size_t n, size_t per);
/* The shift products of the bit-level first fold (§5), added to acc:
 * acc[63 + d] += sum_w rho[w] c_{w,d} for d = -63..63, where
 * c_{w,d} = xor over s < sigma of x[w sigma + s] AND (y[w sigma + s] << d)
 * (a right shift by -d when d < 0). With x_b the bits of x and y_b those
 * of y, c_{w,d} read as an element is sum_b xi^b x_b y_{b-d}. */
void gf64_shift_products(gf64_wide acc[127], const gf64 *rho, size_t n, unsigned sigma, const uint64_t *x,
                         const uint64_t *y);
/* A fold's polynomial (§4.3) over groups of k elements (k <= 64):
 * H[m] = sum_l sum_{j - j' = m - (k-1)} U[lk + j] B[lk + j'], m < 2k - 1. */
void gf64_fold_poly(gf64 *H, const gf64 *U, const gf64 *B, size_t groups, unsigned k);
/* out[l] = sum_{j<k} V[lk + j] pw[j] for l < groups */
void gf64_fold_eval(gf64 *out, const gf64 *V, size_t groups, unsigned k, const gf64 *pw);

#endif
