/* prg: a pseudo-random stream from a 16-byte seed: AES-128 in counter mode
 * (OpenSSL). Two parties holding the same seed draw the same stream, so the
 * order of draws must be the same on both: the protocols draw in
 * instruction order. */
#ifndef PRG_H
#define PRG_H

#include <stddef.h>
#include <stdint.h>

typedef struct prg prg;

prg *prg_new(const uint8_t seed[16]);
void prg_free(prg *g);
void prg_fill(prg *g, void *out, size_t n);
/* Fresh seed from the operating system's generator; 0 on success. */
int prg_seed(uint8_t seed[16]);

#endif
