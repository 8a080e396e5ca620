/* kara: Karatsuba's plan for the proofs' fold polynomials (gf64.c's and
 * dzkp_arith.c's poly kernels). A fold polynomial is a sum over groups of
 * products u(X) b(X) of k coefficients each; Karatsuba's algorithm is
 * bilinear, so each group's u and b become the same 3^t slot values (k =
 * 2^t: the coefficients themselves, then sums of two earlier slots, in the
 * order `add` lists them), the slots' products are summed over all groups,
 * and one join at the end turns the 3^t sums into the 2k - 1 coefficients.
 * A group then costs 3^t products instead of k^2 (729 against 4,096 for k =
 * 64, 81 against 256 for 16) and 2 (3^t - k) additions. The plan is the
 * same for every field; the caller supplies the arithmetic. */
#ifndef KARA_H
#define KARA_H

#include <stddef.h>
#include <stdint.h>

enum { KARA_MAX_K = 64, KARA_MAX_SLOTS = 729, KARA_MAX_WORDS = 3 };

typedef struct {
    uint16_t dst, a, b; /* slot dst = slot a + slot b */
} kara_add;

typedef struct {
    unsigned k, nslot; /* nslot - k additions */
    kara_add add[KARA_MAX_SLOTS];
    uint16_t leaf[KARA_MAX_SLOTS]; /* the slots in the join's order */
} kara_plan;

/* 1 with the plan for k, or 0 when k is not a power of two in [2, KARA_MAX_K] */
int kara_plan_for(kara_plan *p, unsigned k);

/* H (2k - 1 elements of `words` <= KARA_MAX_WORDS words) from the slots' summed products P
 * (indexed by slot), with the field's addition and subtraction */
typedef void kara_op(uint64_t *r, const uint64_t *a, const uint64_t *b);
void kara_join(const kara_plan *p, unsigned words, kara_op *add, kara_op *sub, const uint64_t *P, uint64_t *H);

#endif
