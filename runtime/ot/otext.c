/* otext: IKNP OT extension (see otext.h). */
#include "runtime/ot/otext.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/net/prg.h"

struct otext_sender {
    uint8_t s[OTEXT_K / 8];
    prg *g[OTEXT_K]; /* G(k_i^{s_i}) */
    uint64_t next;   /* the index of the next OT (H's tweak) */
};

struct otext_receiver {
    prg *g0[OTEXT_K], *g1[OTEXT_K];
    uint64_t next;
};

/* ---------------------------------------------------------- transposition */

/* a 64 x 64 bit matrix, a[i] bit j = entry (i, j), in place */
static void transpose64(uint64_t a[64])
{
    uint64_t m = 0x00000000FFFFFFFFull;
    for (int j = 32; j != 0; j >>= 1, m ^= m << j)
        for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
            uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
            a[k] ^= t << j;
            a[k | j] ^= t;
        }
}

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--)
        v = v << 8 | p[b];
    return v;
}

static void st64(uint8_t *p, uint64_t v)
{
    for (int b = 0; b < 8; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

void otext_transpose(const uint8_t *rows, size_t m, uint8_t (*cols)[OTEXT_BLOCK])
{
    size_t rb = m / 8; /* bytes per row */
    uint64_t a[64];
    for (size_t c0 = 0; c0 < m; c0 += 64)
        for (int r0 = 0; r0 < OTEXT_K; r0 += 64) {
            for (int i = 0; i < 64; i++)
                a[i] = ld64(rows + (size_t)(r0 + i) * rb + c0 / 8);
            transpose64(a); /* a[j] bit i = row r0 + i, column c0 + j */
            for (int j = 0; j < 64; j++)
                st64(cols[c0 + (size_t)j] + r0 / 8, a[j]);
        }
}

/* ------------------------------------------------------------------ hash */

/* out[j] = AES(x_j ^ tweak) ^ x_j ^ tweak, tweak = first + j, under a fixed
 * public key (the hash is public: only its inputs are secret) */
static int hash_blocks(uint8_t (*x)[OTEXT_BLOCK], size_t m, uint64_t first, uint8_t (*out)[OTEXT_BLOCK])
{
    static const uint8_t key[16] = "qnn otext hash 1";
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
                      EVP_CIPHER_CTX_set_padding(c, 0) == 1;
    for (size_t j = 0; j < m; j++) {
        uint64_t t = first + j;
        for (int b = 0; b < 8; b++)
            x[j][b] ^= (uint8_t)(t >> (8 * b));
    }
    for (size_t j = 0; ok && j < m; j += 4096) { /* EVP takes an int length */
        size_t k = m - j < 4096 ? m - j : 4096;
        ok = EVP_EncryptUpdate(c, out[j], &len, x[j], (int)(k * OTEXT_BLOCK)) == 1;
    }
    for (size_t j = 0; ok && j < m; j++)
        for (int b = 0; b < OTEXT_BLOCK; b++)
            out[j][b] ^= x[j][b];
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------- correlated OT */

void otext_cot_send(const uint8_t (*o0)[OTEXT_BLOCK], const uint8_t (*o1)[OTEXT_BLOCK], const uint64_t *delta,
                    size_t m, uint64_t *x, uint64_t *msg)
{
    for (size_t j = 0; j < m; j++) {
        x[j] = ld64(o0[j]);
        msg[j] = x[j] + delta[j] - ld64(o1[j]);
    }
}

void otext_cot_receive(const uint8_t (*out)[OTEXT_BLOCK], const uint8_t *choices, const uint64_t *msg, size_t m,
                       uint64_t *y)
{
    for (size_t j = 0; j < m; j++)
        y[j] = ld64(out[j]) + (((choices[j / 8] >> (j % 8)) & 1) ? msg[j] : 0);
}

/* --------------------------------------------------------------- parties */

otext_sender *otext_sender_new(const uint8_t s[OTEXT_K / 8], const uint8_t (*ks)[16])
{
    otext_sender *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    memcpy(o->s, s, sizeof o->s);
    for (int i = 0; i < OTEXT_K; i++)
        if (!(o->g[i] = prg_new(ks[i]))) {
            otext_sender_free(o);
            return NULL;
        }
    return o;
}

otext_receiver *otext_receiver_new(const uint8_t (*k0)[16], const uint8_t (*k1)[16])
{
    otext_receiver *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    for (int i = 0; i < OTEXT_K; i++)
        if (!(o->g0[i] = prg_new(k0[i])) || !(o->g1[i] = prg_new(k1[i]))) {
            otext_receiver_free(o);
            return NULL;
        }
    return o;
}

void otext_sender_free(otext_sender *s)
{
    for (int i = 0; s && i < OTEXT_K; i++)
        prg_free(s->g[i]);
    free(s);
}

void otext_receiver_free(otext_receiver *r)
{
    for (int i = 0; r && i < OTEXT_K; i++)
        prg_free(r->g0[i]), prg_free(r->g1[i]);
    free(r);
}

int otext_receive(otext_receiver *r, const uint8_t *choices, size_t m, uint8_t *u, uint8_t (*out)[OTEXT_BLOCK])
{
    if (m % 128)
        return -1;
    size_t rb = m / 8;
    uint8_t *t = malloc(OTEXT_K * rb), *v = malloc(rb), (*tc)[OTEXT_BLOCK] = malloc(m * OTEXT_BLOCK);
    int rc = t && v && tc ? 0 : -1;
    for (int i = 0; rc == 0 && i < OTEXT_K; i++) {
        uint8_t *ti = t + (size_t)i * rb, *ui = u + (size_t)i * rb;
        prg_fill(r->g0[i], ti, rb);
        prg_fill(r->g1[i], v, rb);
        for (size_t b = 0; b < rb; b++)
            ui[b] = ti[b] ^ v[b] ^ choices[b];
    }
    if (rc == 0) {
        otext_transpose(t, m, tc);
        rc = hash_blocks(tc, m, r->next, out);
        r->next += m;
    }
    free(t), free(v), free(tc);
    return rc;
}

int otext_send(otext_sender *s, const uint8_t *u, size_t m, uint8_t (*out0)[OTEXT_BLOCK],
               uint8_t (*out1)[OTEXT_BLOCK])
{
    if (m % 128)
        return -1;
    size_t rb = m / 8;
    uint8_t *q = malloc(OTEXT_K * rb), (*qc)[OTEXT_BLOCK] = malloc(m * OTEXT_BLOCK);
    int rc = q && qc ? 0 : -1;
    for (int i = 0; rc == 0 && i < OTEXT_K; i++) {
        uint8_t *qi = q + (size_t)i * rb, si = (uint8_t)-((s->s[i / 8] >> (i % 8)) & 1);
        prg_fill(s->g[i], qi, rb);
        for (size_t b = 0; b < rb; b++)
            qi[b] ^= u[(size_t)i * rb + b] & si;
    }
    if (rc == 0) {
        otext_transpose(q, m, qc);
        uint8_t (*q1)[OTEXT_BLOCK] = malloc(m * OTEXT_BLOCK);
        rc = q1 ? 0 : -1;
        for (size_t j = 0; rc == 0 && j < m; j++)
            for (int b = 0; b < OTEXT_BLOCK; b++)
                q1[j][b] = qc[j][b] ^ s->s[b];
        rc = rc || hash_blocks(qc, m, s->next, out0) || hash_blocks(q1, m, s->next, out1);
        s->next += m;
        free(q1);
    }
    free(q), free(qc);
    return rc;
}
