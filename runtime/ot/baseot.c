/* baseot: Chou-Orlandi OT on P-256 (see baseot.h). */
#include "runtime/ot/baseot.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct baseot_sender {
    EC_GROUP *g;
    BN_CTX *bn;
    BIGNUM *a;
    EC_POINT *A;
    uint8_t Ab[BASEOT_POINT];
};

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "base OT: %s", why);
    return -1;
}

#define COMPRESSED (BASEOT_POINT + 1) /* OpenSSL's encoding: 02 or 03 (y's parity), then x */

/* H(i, A, B, P): SHA-256 under a tag, cut to a key */
static int key_of(const EC_GROUP *g, BN_CTX *bn, size_t i, const uint8_t A[BASEOT_POINT],
                  const uint8_t B[BASEOT_POINT], const EC_POINT *P, uint8_t k[BASEOT_KEY])
{
    static const char tag[] = "qnn base OT v2";
    uint8_t m[sizeof tag + 8 + 2 * BASEOT_POINT + COMPRESSED], h[SHA256_DIGEST_LENGTH], *q = m;
    memcpy(q, tag, sizeof tag), q += sizeof tag;
    for (int j = 0; j < 8; j++)
        *q++ = (uint8_t)((uint64_t)i >> (8 * j));
    memcpy(q, A, BASEOT_POINT), q += BASEOT_POINT;
    memcpy(q, B, BASEOT_POINT), q += BASEOT_POINT;
    if (EC_POINT_point2oct(g, P, POINT_CONVERSION_COMPRESSED, q, COMPRESSED, bn) != COMPRESSED)
        return -1;
    SHA256(m, sizeof m, h);
    memcpy(k, h, BASEOT_KEY);
    return 0;
}

/* a received point (x; y even), on the curve and not at infinity */
static EC_POINT *point_in(const EC_GROUP *g, BN_CTX *bn, const uint8_t p[BASEOT_POINT])
{
    uint8_t c[COMPRESSED] = {2};
    memcpy(c + 1, p, BASEOT_POINT);
    EC_POINT *P = EC_POINT_new(g);
    if (P && (EC_POINT_oct2point(g, P, c, COMPRESSED, bn) != 1 || EC_POINT_is_at_infinity(g, P) ||
              EC_POINT_is_on_curve(g, P, bn) != 1)) {
        EC_POINT_free(P);
        return NULL;
    }
    return P;
}

/* P's x into p when its y is even (1 when odd: draw another, so that what
 * travels is x alone, whose bytes are uniform; -1 on failure) */
static int point_out(const EC_GROUP *g, BN_CTX *bn, const EC_POINT *P, uint8_t p[BASEOT_POINT])
{
    uint8_t c[COMPRESSED];
    if (EC_POINT_point2oct(g, P, POINT_CONVERSION_COMPRESSED, c, COMPRESSED, bn) != COMPRESSED)
        return -1;
    if (c[0] != 2)
        return 1;
    memcpy(p, c + 1, BASEOT_POINT);
    return 0;
}

/* a uniform nonzero scalar (NULL on failure) */
static BIGNUM *scalar(const EC_GROUP *g)
{
    BIGNUM *x = BN_new();
    const BIGNUM *order = EC_GROUP_get0_order(g);
    for (int tries = 0; x && tries < 8; tries++)
        if (BN_rand_range(x, order) == 1 && !BN_is_zero(x))
            return x;
    BN_free(x);
    return NULL;
}

void baseot_sender_free(baseot_sender *s)
{
    if (!s)
        return;
    EC_POINT_free(s->A);
    BN_clear_free(s->a);
    BN_CTX_free(s->bn);
    EC_GROUP_free(s->g);
    free(s);
}

baseot_sender *baseot_sender_new(uint8_t A[BASEOT_POINT], char *err, size_t errlen)
{
    baseot_sender *s = calloc(1, sizeof *s);
    int rc = !s || !(s->g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) || !(s->bn = BN_CTX_new()) ||
                     !(s->A = EC_POINT_new(s->g))
                 ? -1
                 : 1;
    for (int tries = 0; rc == 1 && tries < 128; tries++) { /* y even: half the scalars */
        BN_clear_free(s->a);
        rc = !(s->a = scalar(s->g)) || EC_POINT_mul(s->g, s->A, s->a, NULL, NULL, s->bn) != 1
                 ? -1
                 : point_out(s->g, s->bn, s->A, s->Ab);
    }
    if (rc) {
        baseot_sender_free(s);
        fail(err, errlen, "cannot set up the sender (OpenSSL's EC)");
        return NULL;
    }
    memcpy(A, s->Ab, BASEOT_POINT);
    return s;
}

int baseot_sender_keys(baseot_sender *s, const uint8_t *B, size_t n, uint8_t (*k0)[BASEOT_KEY],
                       uint8_t (*k1)[BASEOT_KEY], char *err, size_t errlen)
{
    EC_POINT *P = EC_POINT_new(s->g), *Q = EC_POINT_new(s->g), *negA = EC_POINT_dup(s->A, s->g);
    int rc = P && Q && negA && EC_POINT_invert(s->g, negA, s->bn) == 1 ? 0 : fail(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const uint8_t *Bi = B + i * BASEOT_POINT;
        EC_POINT *Bp = point_in(s->g, s->bn, Bi);
        if (!Bp) {
            snprintf(err, errlen, "base OT: the receiver's point %zu is not a point of the curve", i);
            rc = -1;
            break;
        }
        if (EC_POINT_mul(s->g, P, NULL, Bp, s->a, s->bn) != 1 || EC_POINT_add(s->g, Q, Bp, negA, s->bn) != 1 ||
            EC_POINT_mul(s->g, Q, NULL, Q, s->a, s->bn) != 1 || key_of(s->g, s->bn, i, s->Ab, Bi, P, k0[i]) ||
            key_of(s->g, s->bn, i, s->Ab, Bi, Q, k1[i]))
            rc = fail(err, errlen, "EC arithmetic failed");
        EC_POINT_free(Bp);
    }
    EC_POINT_free(P), EC_POINT_free(Q), EC_POINT_free(negA);
    return rc;
}

int baseot_receive(const uint8_t A[BASEOT_POINT], const uint8_t *c, size_t n, uint8_t *B,
                   uint8_t (*k)[BASEOT_KEY], char *err, size_t errlen)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BN_CTX *bn = BN_CTX_new();
    EC_POINT *Ap = g && bn ? point_in(g, bn, A) : NULL, *P = g ? EC_POINT_new(g) : NULL,
             *K = g ? EC_POINT_new(g) : NULL;
    int rc = 0;
    if (!g || !bn || !P || !K)
        rc = fail(err, errlen, "out of memory");
    else if (!Ap)
        rc = fail(err, errlen, "the sender's point is not a point of the curve");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint8_t *Bi = B + i * BASEOT_POINT;
        BIGNUM *b = NULL;
        int out = 1;
        for (int tries = 0; out == 1 && tries < 128 && c[i] <= 1; tries++) { /* B_i's y even */
            BN_clear_free(b);
            out = !(b = scalar(g)) || EC_POINT_mul(g, P, b, NULL, NULL, bn) != 1 ||
                          (c[i] && EC_POINT_add(g, P, P, Ap, bn) != 1)
                      ? -1
                      : point_out(g, bn, P, Bi);
        }
        if (c[i] > 1 || out || EC_POINT_mul(g, K, NULL, Ap, b, bn) != 1 || key_of(g, bn, i, A, Bi, K, k[i]))
            rc = fail(err, errlen, c[i] > 1 ? "a choice is not a bit" : "EC arithmetic failed");
        BN_clear_free(b);
    }
    EC_POINT_free(Ap), EC_POINT_free(P), EC_POINT_free(K);
    BN_CTX_free(bn);
    EC_GROUP_free(g);
    return rc;
}
