/* fp127: the prime field F_p, p = 2^127 - 1, the share domain of the
 * prime-field protocols (docs/plans/prime-field.md §1). Prefix fp127_.
 *
 * An element is two words, always canonical (< p), so zero is all-zero
 * words; its wire form is 16 little-endian bytes and fp127_from_bytes
 * refuses a value >= p. Signed values are centered: x < 0 is p + x, and
 * fp127_to_i64 takes v > (p - 1) / 2 back to v - p.
 *
 * Why this prime and this arithmetic (measured, plan §1.3): 2^127 = 1 mod p,
 * so a product reduces by a shift and an add, and two elements sum below
 * 2^128 with no carry out; every hot operation is unsigned __int128 with
 * branchless reductions (a branch on random shares cost 8.3 ns an add,
 * against 1.75). GMP's mpn layer pays a call and a generic division per
 * operation at two limbs, 2 to 6 times slower (add 9.0 ns, multiply 28.7
 * against 4.8, multiply-accumulate 6.3-10.6 against 3.1-3.9), so GMP serves
 * where speed does not matter: checking the prime and inverses.
 *
 * fp127_acc sums products without reducing: four 128-bit columns take the
 * 64-bit halves of each product's partial products (at most three a column
 * a product), so 2^62 products fit before the one reduction. */
#ifndef FP127_H
#define FP127_H

#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 fp127_u128;

typedef struct {
    uint64_t lo, hi; /* value lo + 2^64 hi, hi < 2^63 */
} fp127;

typedef struct {
    fp127_u128 c[4]; /* column k weighs 2^(64 k) */
} fp127_acc;

enum { FP127_BYTES = 16 };

#define FP127_P (((fp127_u128)1 << 127) - 1)

static inline fp127_u128 fp127_u(fp127 a) { return (fp127_u128)a.hi << 64 | a.lo; }
static inline fp127 fp127_of(fp127_u128 v) { return (fp127){(uint64_t)v, (uint64_t)(v >> 64)}; }

/* v < 2p: v - p when v >= p (v >= p iff bit 127 of v + 1 is set) */
static inline fp127_u128 fp127_cond(fp127_u128 v)
{
    uint64_t m = 0 - (uint64_t)((v + 1) >> 127);
    return v - (FP127_P & ((fp127_u128)m << 64 | m));
}

/* any v < 2^128, reduced: v = (v mod 2^127) + (v >> 127) mod p */
static inline fp127_u128 fp127_fold(fp127_u128 v) { return fp127_cond((v & FP127_P) + (v >> 127)); }

static inline fp127 fp127_add(fp127 a, fp127 b) { return fp127_of(fp127_cond(fp127_u(a) + fp127_u(b))); }

static inline fp127 fp127_sub(fp127 a, fp127 b)
{
    fp127_u128 x = fp127_u(a), y = fp127_u(b);
    uint64_t m = 0 - (uint64_t)(x < y);
    return fp127_of(x - y + (FP127_P & ((fp127_u128)m << 64 | m)));
}

static inline fp127 fp127_neg(fp127 a) { return fp127_sub((fp127){0, 0}, a); }

/* a b < 2^254 as H 2^128 + L, then L mod 2^127 + (a b >> 127) < 2p - 1 */
static inline fp127 fp127_mul(fp127 a, fp127 b)
{
    fp127_u128 p00 = (fp127_u128)a.lo * b.lo, mid = (fp127_u128)a.lo * b.hi + (fp127_u128)a.hi * b.lo;
    fp127_u128 L = p00 + (mid << 64), H = (fp127_u128)a.hi * b.hi + (mid >> 64) + (L < p00);
    return fp127_of(fp127_cond((L & FP127_P) + (H << 1 | L >> 127)));
}

static inline fp127 fp127_from_i64(int64_t c)
{
    fp127_u128 v = (uint64_t)c; /* 2^64 + c when c < 0, whose element is p + c */
    return fp127_of(c < 0 ? v + FP127_P - ((fp127_u128)1 << 64) : v);
}

static inline fp127 fp127_mul_i64(fp127 a, int64_t c) { return fp127_mul(a, fp127_from_i64(c)); }

/* 0 and the centered value in *v, or -1 when it lies outside int64 */
int fp127_to_i64(fp127 a, int64_t *v);

void fp127_to_bytes(uint8_t b[FP127_BYTES], fp127 a);
/* 0, or -1 when the 16 bytes hold a value >= p */
int fp127_from_bytes(fp127 *a, const uint8_t b[FP127_BYTES]);
/* a uniform element from 16 uniform bytes (the top bit dropped, p taken
 * to 0: a bias of 2^-127), the same at every holder of the bytes */
fp127 fp127_from_random(const uint8_t b[FP127_BYTES]);
/* the same from the bytes' two little-endian words */
static inline fp127 fp127_random_words(uint64_t lo, uint64_t hi)
{
    fp127_u128 v = ((fp127_u128)hi << 64 | lo) & FP127_P;
    return fp127_of(v == FP127_P ? 0 : v);
}

static inline void fp127_acc_zero(fp127_acc *s) { s->c[0] = s->c[1] = s->c[2] = s->c[3] = 0; }

static inline void fp127_acc_mac(fp127_acc *s, fp127 a, fp127 b)
{
    fp127_u128 p00 = (fp127_u128)a.lo * b.lo, p01 = (fp127_u128)a.lo * b.hi, p10 = (fp127_u128)a.hi * b.lo,
               p11 = (fp127_u128)a.hi * b.hi;
    s->c[0] += (uint64_t)p00;
    s->c[1] += (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    s->c[2] += (p01 >> 64) + (p10 >> 64) + (uint64_t)p11;
    s->c[3] += p11 >> 64;
}

fp127 fp127_acc_reduce(const fp127_acc *s);

/* GMP: a^-1 (a != 0), and whether FP127_P is prime (a probable-prime
 * test and the Lucas-Lehmer proof for 2^127 - 1): 0 or -1 */
fp127 fp127_inv(fp127 a);
int fp127_check_prime(void);

#endif
