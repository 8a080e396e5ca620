/* fp127: the out-of-line part of F_(2^127 - 1) (fp127.h): encodings, the
 * accumulator's reduction, and GMP for inverses and the prime's check. */
#include "runtime/core/fp127.h"

#include <gmp.h>

int fp127_to_i64(fp127 a, int64_t *v)
{
    fp127_u128 x = fp127_u(a);
    if (x <= FP127_P / 2) { /* x >= 0 */
        if (x >> 63)
            return -1;
        *v = (int64_t)x;
        return 0;
    }
    fp127_u128 m = FP127_P - x; /* the value is -m */
    if (m > (fp127_u128)1 << 63)
        return -1;
    *v = m == (fp127_u128)1 << 63 ? INT64_MIN : -(int64_t)m;
    return 0;
}

/* little-endian words, written so that compilers emit one move on such hosts */
static uint64_t le64(const uint8_t *b)
{
    return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
           (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
}

static void st64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> 8 * i);
}

void fp127_to_bytes(uint8_t b[FP127_BYTES], fp127 a)
{
    st64(b, a.lo);
    st64(b + 8, a.hi);
}

static fp127_u128 load(const uint8_t b[FP127_BYTES]) { return (fp127_u128)le64(b + 8) << 64 | le64(b); }

int fp127_from_bytes(fp127 *a, const uint8_t b[FP127_BYTES])
{
    fp127_u128 v = load(b);
    if (v >= FP127_P)
        return -1;
    *a = fp127_of(v);
    return 0;
}

fp127 fp127_from_random(const uint8_t b[FP127_BYTES]) { return fp127_random_words(le64(b), le64(b + 8)); }

/* The columns as five limbs N = l0 + l1 2^64 + l2 2^128 + l3 2^192 + l4
 * 2^256; with 2^128 = 2 and 2^256 = 4 mod p, N = A + 2 B + 4 l4 for A, B
 * the low and middle 128 bits. */
fp127 fp127_acc_reduce(const fp127_acc *s)
{
    uint64_t l[5];
    fp127_u128 t = 0;
    for (int k = 0; k < 4; k++) {
        t = (t >> 64) + s->c[k];
        l[k] = (uint64_t)t;
    }
    l[4] = (uint64_t)(t >> 64);
    fp127 A = fp127_of(fp127_fold((fp127_u128)l[1] << 64 | l[0]));
    fp127 B = fp127_of(fp127_fold((fp127_u128)l[3] << 64 | l[2]));
    fp127 C = fp127_of(fp127_fold((fp127_u128)l[4] << 2));
    return fp127_add(fp127_add(A, fp127_add(B, B)), C);
}

static void to_mpz(mpz_t z, fp127 a)
{
    mpz_set_ui(z, a.hi);
    mpz_mul_2exp(z, z, 64);
    mpz_add_ui(z, z, a.lo);
}

static fp127 from_mpz(const mpz_t z)
{
    mpz_t t;
    mpz_init(t);
    mpz_fdiv_q_2exp(t, z, 64);
    fp127 a = {mpz_get_ui(z), mpz_get_ui(t)}; /* mpz_get_ui: the least significant limb */
    mpz_clear(t);
    return a;
}

static void p_mpz(mpz_t p)
{
    mpz_set_ui(p, 1);
    mpz_mul_2exp(p, p, 127);
    mpz_sub_ui(p, p, 1);
}

fp127 fp127_inv(fp127 a)
{
    mpz_t x, p;
    mpz_inits(x, p, NULL);
    to_mpz(x, a);
    p_mpz(p);
    if (!mpz_invert(x, x, p))
        mpz_set_ui(x, 0); /* a = 0 has none */
    fp127 r = from_mpz(x);
    mpz_clears(x, p, NULL);
    return r;
}

/* mpz_probab_prime_p, and Lucas-Lehmer: s = 4, s = s^2 - 2 mod p 125 times
 * ends at 0 exactly when 2^127 - 1 is prime */
int fp127_check_prime(void)
{
    mpz_t p, s;
    mpz_inits(p, s, NULL);
    p_mpz(p);
    int ok = mpz_probab_prime_p(p, 50) > 0;
    mpz_set_ui(s, 4);
    for (int i = 0; i < 125; i++) {
        mpz_mul(s, s, s);
        mpz_sub_ui(s, s, 2);
        mpz_mod(s, s, p);
    }
    ok = ok && mpz_sgn(s) == 0 && fp127_u(from_mpz(p)) == FP127_P;
    mpz_clears(p, s, NULL);
    return ok ? 0 : -1;
}
