/* fp192: arithmetic modulo p = 2^192 - 2^64 - 1 (see fp192.h). */
#include "runtime/core/fp192.h"

__extension__ typedef unsigned __int128 u128;

/* 2^192 = 2^64 + 1 (mod p) is the whole trick: a carry out of bit 192 is
 * worth 2^64 + 1, and x >= p exactly when x + 2^64 + 1 carries out. */

/* (w, carry) = w + c (2^64 + 1), c <= 4; returns the carry out of bit 192 */
static uint64_t add_c65(uint64_t w[3], uint64_t c)
{
    u128 s = (u128)w[0] + c;
    w[0] = (uint64_t)s;
    s = (u128)w[1] + c + (uint64_t)(s >> 64);
    w[1] = (uint64_t)s;
    s = (u128)w[2] + (uint64_t)(s >> 64);
    w[2] = (uint64_t)s;
    return (uint64_t)(s >> 64);
}

/* w = w mod p for w < 2^192 + carry 2^192 < 2p: subtract p (add 2^64 + 1
 * and drop 2^192) when w carried out or w + 2^64 + 1 does; without branches */
static void final_sub(uint64_t w[3], uint64_t carry)
{
    uint64_t t[3] = {w[0], w[1], w[2]};
    uint64_t take = 0 - ((carry | add_c65(t, 1)) & 1);
    for (int i = 0; i < 3; i++)
        w[i] = (t[i] & take) | (w[i] & ~take);
}

void fp_add(fp *r, const fp *a, const fp *b)
{
    uint64_t w[3];
    u128 s = 0;
    for (int i = 0; i < 3; i++) {
        s = (u128)a->w[i] + b->w[i] + (uint64_t)(s >> 64);
        w[i] = (uint64_t)s;
    }
    final_sub(w, (uint64_t)(s >> 64));
    r->w[0] = w[0], r->w[1] = w[1], r->w[2] = w[2];
}

/* When a < b the words hold a - b + 2^192, and a - b + p is that minus
 * 2^64 + 1; it is at least 2^192 - p + 1 = 2^64 + 2, so this last
 * subtraction does not wrap. */
void fp_sub(fp *r, const fp *a, const fp *b)
{
    uint64_t w[3], borrow = 0;
    for (int i = 0; i < 3; i++) {
        u128 d = (u128)a->w[i] - b->w[i] - borrow;
        w[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    uint64_t c = borrow; /* subtract c (2^64 + 1) */
    u128 d = (u128)w[0] - c;
    r->w[0] = (uint64_t)d;
    d = (u128)w[1] - c - ((uint64_t)(d >> 64) & 1);
    r->w[1] = (uint64_t)d;
    r->w[2] = w[2] - ((uint64_t)(d >> 64) & 1);
}

void fp_neg(fp *r, const fp *a)
{
    static const fp zero;
    fp_sub(r, &zero, a);
}

/* c = sum c_k 2^(64k), k < 6, reduced modulo p. With 2^192 = 2^64 + 1 and
 * 2^256 = 2^128 + 2^64, 2^320 = 2^192 + 2^128 = 2^128 + 2^64 + 1 (mod p):
 *   c = (c2,c1,c0) + (0,c3,c3) + (c4,c4,0) + (c5,c5,c5)   (mod p),
 * four numbers below 2^192 whose sum s + s3 2^192 has s3 <= 3. Folding s3
 * back as s3 (2^64 + 1) carries out of bit 192 at most once, and then the
 * low words are below 2^66, so one more fold cannot carry; a final
 * subtraction brings s < 2^192 < 2p below p. */
static void reduce6(fp *r, const uint64_t c[6])
{
    uint64_t s[3];
    u128 acc = (u128)c[0] + c[3] + c[5];
    s[0] = (uint64_t)acc;
    acc = (acc >> 64) + c[1] + c[3] + c[4] + c[5];
    s[1] = (uint64_t)acc;
    acc = (acc >> 64) + c[2] + c[4] + c[5];
    s[2] = (uint64_t)acc;
    uint64_t carry = add_c65(s, (uint64_t)(acc >> 64));
    carry = add_c65(s, carry);
    final_sub(s, carry);
    r->w[0] = s[0], r->w[1] = s[1], r->w[2] = s[2];
}

void fp_mul(fp *r, const fp *a, const fp *b)
{
    uint64_t c[6] = {0};
    for (int i = 0; i < 3; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 3; j++) {
            u128 t = (u128)a->w[i] * b->w[j] + c[i + j] + carry;
            c[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        c[i + 3] = carry;
    }
    reduce6(r, c);
}

void fp_from_u64(fp *r, uint64_t v) { *r = (fp){{v, 0, 0}}; }

void fp_from_u128(fp *r, uint64_t lo, uint64_t hi) { *r = (fp){{lo, hi, 0}}; }

int fp_from_bytes(fp *r, const uint8_t b[FP_BYTES])
{
    uint64_t w[3] = {0, 0, 0};
    for (int i = 0; i < FP_BYTES; i++)
        w[i / 8] |= (uint64_t)b[i] << (8 * (i % 8));
    uint64_t t[3] = {w[0], w[1], w[2]};
    if (add_c65(t, 1))
        return -1;
    r->w[0] = w[0], r->w[1] = w[1], r->w[2] = w[2];
    return 0;
}

void fp_to_bytes(uint8_t b[FP_BYTES], const fp *a)
{
    for (int i = 0; i < FP_BYTES; i++)
        b[i] = (uint8_t)(a->w[i / 8] >> (8 * (i % 8)));
}

int fp_eq(const fp *a, const fp *b) { return !((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2])); }

int fp_is_zero(const fp *a) { return !(a->w[0] | a->w[1] | a->w[2]); }

void fp_acc_reduce(fp *r, const fp_acc *acc)
{
    const uint64_t c[6] = {acc->w[0], acc->w[1], acc->w[2], acc->w[3], acc->w[4], 0};
    reduce6(r, c);
}
