/* wdot: exact sums of products of 64-bit words, the prover's lift of a
 * convolution in rep3-active's proof A (dzkp_arith.c). Each product is a
 * 128-bit integer and the sum is kept in three words, so nothing wraps for
 * fewer than 2^64 products. Where the CPU has AVX-512 IFMA (chosen at run
 * time) eight products go at once in 52-bit limbs; elsewhere 128-bit
 * arithmetic. Both give the same sums (tests/unit/test_fields.c). */
#ifndef WDOT_H
#define WDOT_H

#include <stddef.h>
#include <stdint.h>

/* s += sum_{k < n} (x[k] (y[k] + y2[k]) + u[k] v[k]), s three words,
 * least significant first; y2 and u (with v) may be NULL. The prover's
 * lift of a convolution's cross terms: xa (wb + wa) + xb wa, or the one
 * product left where a share of the weights is zero. */
void wdot_exact(uint64_t s[3], const uint64_t *x, const uint64_t *y, const uint64_t *y2, const uint64_t *u,
                const uint64_t *v, size_t n);

/* Sums of products lam x, lam below 2^63 and x a word (Freivalds' corr
 * and convT: a convolution's output weights times its inputs or weights),
 * in rows of len sums: wdot_acc_mac adds lam[k s] x[k] to sum k of a row
 * for every k < len (s = 0: one lam for the row; s = 1: a lam a sum). A
 * sum takes at most 2^35 products. */
typedef struct wdot_acc wdot_acc;
wdot_acc *wdot_acc_new(size_t rows, size_t len); /* zero sums; NULL when out of memory */
void wdot_acc_mac(wdot_acc *a, size_t row, const uint64_t *lam, size_t s, const uint64_t *x);
/* sum k of the row += sum_{i < n} lam[i] x[i][k], for every k < len and n
 * <= WDOT_MAX_N: a dense convolution's rows, several at each load of the
 * sums */
enum { WDOT_MAX_N = 8 };
void wdot_acc_mac_n(wdot_acc *a, size_t row, const uint64_t *lam, const uint64_t *const *x, size_t n);
void wdot_acc_get(const wdot_acc *a, size_t i, uint64_t v[3]); /* sum i = row * len + k */
void wdot_acc_free(wdot_acc *a);

/* Tests and benchmarks: the portable path even where IFMA is there (1), or
 * the fastest the CPU has (0). */
void wdot_set_portable(int on);

#endif
