/* dzktest: what the proof tests (test_dzkp.c, test_dzka.c) share: a
 * deterministic generator and the check keys of the three streams, derived
 * as the parties derive them (dzk_derive_keys), with each position's share
 * of them. */
#ifndef DZKTEST_H
#define DZKTEST_H

#include <stdint.h>

#include "runtime/proto/dzkp.h"

uint64_t dzt_rnd(uint64_t *s); /* splitmix64 */
/* K^mask_k, K^chal_k for k = 0..2 from seeds drawn from seed */
void dzt_make_keys(uint64_t seed);
extern uint8_t dzt_mask[3][16], dzt_chal[3][16];
/* what position pos of prover's proof holds of them */
dzk_keys dzt_keys_of(int prover, dzk_pos pos);

#endif
