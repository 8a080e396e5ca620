/* dzktest: the proof tests' shared helpers (dzktest.h). */
#include "dzktest.h"

uint8_t dzt_mask[3][16], dzt_chal[3][16];

uint64_t dzt_rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return z ^ z >> 31;
}

void dzt_make_keys(uint64_t seed)
{
    uint8_t run_id[32], s[3][16];
    for (int i = 0; i < 32; i++)
        run_id[i] = (uint8_t)dzt_rnd(&seed);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 16; i++)
            s[k][i] = (uint8_t)dzt_rnd(&seed);
        dzk_derive_keys(run_id, k, s[k], dzt_mask[k], dzt_chal[k]);
    }
}

dzk_keys dzt_keys_of(int prover, dzk_pos pos)
{
    const uint8_t *mask = dzt_mask[prover], *mask_next = dzt_mask[(prover + 1) % 3], *chal = dzt_chal[(prover + 2) % 3];
    return (dzk_keys){pos != DZK_NEXT ? mask : NULL, pos != DZK_PREV ? mask_next : NULL,
                      pos != DZK_PROVER ? chal : NULL};
}
