/* bounds: the ranges a program's values can take when every input lies
 * anywhere in its slot's range, and the preconditions the secure
 * operations assume of them.
 *
 * A protocol computes the bytecode's function only where the operations'
 * preconditions hold (docs/protocols.md): |m x + offsets| < 2^62 for a
 * truncation (REQUANT, DIVR, REQCLAMP, REQS; exact ones with TFLite's
 * offsets), |compared| < 2^bound for LTZ, CLAMP, REQCLAMP (less a
 * channel's e bits) and REQS's lanes, |x| <= 256 divisor for an exact
 * DIVR, |output| < 2^e for a convolution's accbits e, and a softmax's
 * revealed values within its dtype. Some of those bounds are promises (the
 * compiler's acc_bound=, from the honest owner's weights); against a party
 * that inputs anything its dtype allows they must follow from the inputs'
 * ranges and the public constants alone, which is what this checks.
 *
 * The check propagates, in program order, an interval per register element
 * (kept per register, or periodic per channel, where the elements agree)
 * from each INPUT's range ([lo, lo + 2^bound) as vm_decode gives it, the
 * dtype's, narrowed by proto_input_range: int32 in 31 bits) through every
 * instruction, on a program qbc_load accepted. */
#ifndef BOUNDS_H
#define BOUNDS_H

#include <stddef.h>
#include <stdint.h>

#include "vm/bytecode.h"

/* Returns 0 when every precondition follows from the inputs' ranges, or -1
 * with one line in err naming the first instruction that does not (its
 * byte offset, opcode and layer) and the bound. */
int vm_check_bounds(const qbc_program *p, char *err, size_t errlen);
/* The same; on failure *layer is the refused instruction's layer (the
 * first whose output depends on it; p->nlayers after the last), which the
 * compiler maps to its statement. */
int vm_check_bounds_at(const qbc_program *p, uint32_t *layer, char *err, size_t errlen);
/* The prime-field domain's check (docs/plans/prime-field.md §3): every
 * value the program computes and every truncation's |m x + offsets| stay
 * below 2^bits (1 <= bits <= 63) for inputs anywhere in their dtype
 * ranges (int32's whole), so that arithmetic modulo a prime above 2^(bits
 * + 1) agrees with the program's. The bounds that are promises (acc_bound,
 * the comparisons) are not checked: a broken one gives a wrong bit, never
 * a wrap. 0, or -1 as vm_check_bounds_at. */
int vm_check_fit(const qbc_program *p, uint32_t bits, uint32_t *layer, char *err, size_t errlen);

#endif
