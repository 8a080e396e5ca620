/* el128: the 16-byte elements of the MACed protocols' shares, in one of two
 * domains: Z_2^128 (spdz2k: a value of Z_2^64 with s = 64 bits above it)
 * or F_p, p = 2^127 - 1 (spdz), as canonical residues. Prefix el_.
 *
 * One element type for both, so that the SPDZ machinery (openings, Beaver
 * products, MAC checks, the dealer's catalog) is written once: the domain
 * is a run's constant, and the branch on it in these inline helpers is
 * predicted after the first element (measured as free against F_p's own
 * multiply in the loops that use them). */
#ifndef EL128_H
#define EL128_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/fp127.h"

__extension__ typedef unsigned __int128 el;
__extension__ typedef __int128 el_i128;

typedef enum { EL_Z2K, EL_FP } el_dom;

static inline el el_add(el_dom d, el a, el b)
{
    return d == EL_FP ? fp127_cond(a + b) : a + b;
}

static inline el el_sub(el_dom d, el a, el b)
{
    return d == EL_FP ? fp127_u(fp127_sub(fp127_of(a), fp127_of(b))) : a - b;
}

static inline el el_mul(el_dom d, el a, el b)
{
    return d == EL_FP ? fp127_u(fp127_mul(fp127_of(a), fp127_of(b))) : a * b;
}

/* a signed constant: sign-extended in Z_2^128, centered in F_p */
static inline el el_from_i64(el_dom d, int64_t c)
{
    return d == EL_FP ? fp127_u(fp127_from_i64(c)) : (el)(__extension__(__int128)c);
}

/* 2^k, k < 127 */
static inline el el_pow2(unsigned k) { return (el)1 << k; }

/* whether a received element is the one encoding of its value (F_p
 * elements are canonical; every 128-bit string is an element of Z_2^128) */
static inline int el_canonical(el_dom d, el a) { return d != EL_FP || a < FP127_P; }

/* An element from 16 uniform bytes: uniform in the domain. */
static inline el el_random(el_dom d, el r)
{
    return d == EL_FP ? fp127_u(fp127_random_words((uint64_t)r, (uint64_t)(r >> 64))) : r;
}

/* the integer a stands for, as a signed 128-bit value: itself in Z_2^128
 * (two's complement), centered in F_p (|v| < 2^126) */
static inline el_i128 el_signed(el_dom d, el a)
{
    return d == EL_FP && a > FP127_P / 2 ? -(el_i128)(FP127_P - a) : (el_i128)a;
}

/* a signed integer as an element (F_p: |v| < p) */
static inline el el_from_i128(el_dom d, el_i128 v)
{
    return d == EL_FP && v < 0 ? FP127_P - (el)(-v) : (el)v;
}

/* n random elements of the domain in place, from n x 16 uniform bytes */
static inline void el_random_vec(el_dom d, el *v, size_t n)
{
    for (size_t k = 0; d == EL_FP && k < n; k++)
        v[k] = el_random(d, v[k]);
}

#endif
