/* fp192: the prime field F_p, p = 2^192 - 2^64 - 1 (the NIST P-192 prime),
 * for the proof of ring relations (docs/plans/rep3-active.md §4). An
 * element is three little-endian 64-bit words, always reduced (< p); its
 * wire form is 24 little-endian bytes, and fp_from_bytes refuses a value
 * >= p, so a received element has one encoding. Functions accept aliased
 * arguments. fp_acc sums many products of an element by a 64-bit word
 * without reducing (each < 2^256, fewer than 2^64 of them fit its five
 * words) and reduces once. */
#ifndef FP192_H
#define FP192_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t w[3];
} fp;

typedef struct {
    uint64_t w[5];
} fp_acc;

enum { FP_BYTES = 24 };

void fp_add(fp *r, const fp *a, const fp *b);
void fp_sub(fp *r, const fp *a, const fp *b);
void fp_neg(fp *r, const fp *a);
void fp_mul(fp *r, const fp *a, const fp *b);
void fp_from_u64(fp *r, uint64_t v);
void fp_from_u128(fp *r, uint64_t lo, uint64_t hi);
/* 0, or -1 if the 24 bytes encode a value >= p (r is then unchanged) */
int fp_from_bytes(fp *r, const uint8_t b[FP_BYTES]);
void fp_to_bytes(uint8_t b[FP_BYTES], const fp *a);
int fp_eq(const fp *a, const fp *b);
int fp_is_zero(const fp *a);

__extension__ typedef unsigned __int128 fp_u128;

/* *s = a + b + c, returning the carry out (c in {0, 1}). On x86-64 the
 * compiler intrinsic, which gcc turns into one adc where its code for the
 * same sum in 128 bits spills (the proofs' folds ran 2x slower). */
#if defined(__x86_64__)
#include <x86intrin.h>
static inline unsigned char fp_addc(unsigned char c, uint64_t a, uint64_t b, uint64_t *s)
{
    unsigned long long r;
    c = _addcarry_u64(c, a, b, &r);
    *s = r;
    return c;
}
#else
static inline unsigned char fp_addc(unsigned char c, uint64_t a, uint64_t b, uint64_t *s)
{
    fp_u128 t = (fp_u128)a + b + c;
    *s = (uint64_t)t;
    return (unsigned char)(t >> 64);
}
#endif

static inline void fp_acc_zero(fp_acc *acc) { *acc = (fp_acc){{0, 0, 0, 0, 0}}; }
/* acc += a v, unreduced; inline, as the proofs' inner loops call it */
static inline void fp_acc_mac_u64(fp_acc *acc, const fp *a, uint64_t v)
{
    fp_u128 t = (fp_u128)a->w[0] * v + acc->w[0];
    acc->w[0] = (uint64_t)t;
    t = (fp_u128)a->w[1] * v + acc->w[1] + (uint64_t)(t >> 64);
    acc->w[1] = (uint64_t)t;
    t = (fp_u128)a->w[2] * v + acc->w[2] + (uint64_t)(t >> 64);
    acc->w[2] = (uint64_t)t;
    t = (fp_u128)acc->w[3] + (uint64_t)(t >> 64);
    acc->w[3] = (uint64_t)t;
    acc->w[4] += (uint64_t)(t >> 64);
}
/* r = acc mod p */
void fp_acc_reduce(fp *r, const fp_acc *acc);

#endif
