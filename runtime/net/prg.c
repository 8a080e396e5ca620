/* prg: AES-128-CTR streams (see prg.h). */
#include "runtime/net/prg.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

struct prg {
    EVP_CIPHER_CTX *ctx;
    uint8_t zeros[4096];
};

prg *prg_new(const uint8_t seed[16])
{
    prg *g = calloc(1, sizeof *g);
    static const uint8_t iv[16] = {0};
    if (!g || !(g->ctx = EVP_CIPHER_CTX_new()) ||
        EVP_EncryptInit_ex(g->ctx, EVP_aes_128_ctr(), NULL, seed, iv) != 1) {
        prg_free(g);
        return NULL;
    }
    return g;
}

void prg_free(prg *g)
{
    if (!g)
        return;
    EVP_CIPHER_CTX_free(g->ctx);
    free(g);
}

/* The keystream is the encryption of zeros. */
void prg_fill(prg *g, void *out, size_t n)
{
    uint8_t *o = out;
    while (n) {
        int k = n < sizeof g->zeros ? (int)n : (int)sizeof g->zeros, len = 0;
        EVP_EncryptUpdate(g->ctx, o, &len, g->zeros, k);
        o += k;
        n -= (size_t)k;
    }
}

int prg_seed(uint8_t seed[16]) { return RAND_bytes(seed, 16) == 1 ? 0 : -1; }
