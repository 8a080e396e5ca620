/* bits: bit slicing and the carry tree (see bits.h). */
#include "runtime/core/bits.h"

#include <stdlib.h>
#include <string.h>

int bits_levels(uint32_t L)
{
    int k = 0;
    while (((uint32_t)1 << k) < L)
        k++;
    return k;
}

void bits_level_ands(uint32_t L, int k, int full, size_t *nand)
{
    uint32_t s = (uint32_t)1 << (k - 1);
    size_t n = 0;
    for (uint32_t j = 0; j < L; j += 2 * s)
        if (j + s < L)
            n += j || full ? 2 : 1;
    *nand = n;
}

bits_gate *bits_level_gates(uint32_t L, int k, int full, size_t *nand)
{
    bits_level_ands(L, k, full, nand);
    bits_gate *g = malloc((*nand ? *nand : 1) * sizeof *g);
    if (!g)
        abort();
    uint32_t s = (uint32_t)1 << (k - 1);
    size_t n = 0;
    for (uint32_t j = 0; j < L; j += 2 * s) {
        if (j + s >= L)
            continue;
        g[n++] = (bits_gate){j + s, j, 0};
        if (j || full)
            g[n++] = (bits_gate){j + s, j, 1};
    }
    return g;
}

void bits_put(uint64_t *dst, size_t at, const uint64_t *src, size_t n)
{
    size_t base = at / 64, off = at % 64, nws = bits_words(n), nwd = bits_words(at + n);
    uint64_t last = n % 64 ? ((uint64_t)1 << (n % 64)) - 1 : ~(uint64_t)0;
    for (size_t k = 0; k < nws; k++) {
        uint64_t v = k + 1 == nws ? src[k] & last : src[k];
        dst[base + k] |= v << off;
        if (off && base + k + 1 < nwd)
            dst[base + k + 1] |= v >> (64 - off);
    }
}

void bits_dup(const uint64_t *src, size_t na, uint32_t nplanes, uint64_t *dst, size_t nw)
{
    size_t nwa = bits_words(na);
    for (uint32_t j = 0; j < nplanes; j++) {
        uint64_t *d = dst + j * nw;
        for (size_t k = 0; k < nw; k++)
            d[k] = 0;
        bits_put(d, 0, src + j * nwa, na);
        bits_put(d, na, src + j * nwa, na);
    }
}

/* In-place transpose of a 64x64 bit matrix: afterwards bit i of a[j] is bit
 * j of the former a[i] (Hacker's Delight, 7-3). */
static void transpose_portable(uint64_t a[64])
{
    uint64_t m = 0x00000000FFFFFFFFull;
    for (int j = 32; j; j >>= 1, m ^= m << j)
        for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
            uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
            a[k] ^= t << j;
            a[k | j] ^= t;
        }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define T512 __attribute__((target("avx512f,avx512bw,avx512vbmi,gfni")))

/* The same transpose as 8x8 blocks of 8x8 bits, block (I, J) being byte J
 * of words 8I..8I+7: a byte permutation (VBMI) gathers each block into a
 * qword of register I, its rows reversed; GF2P8AFFINEQB with the block as
 * its matrix and the bytes 1 << i transposes it (byte i of the result is
 * column i, bit r row r); then qword J of every register I, as register J
 * (through memory), and a plain 8x8 byte transpose give words 8J..8J+7.
 * 17 times faster than the portable one here (15 against 254 ns). */
T512 static void transpose_512(uint64_t a[64])
{
    uint8_t gather[64], bytes[64];
    for (int k = 0; k < 64; k++) {
        gather[k] = (uint8_t)(8 * (7 - k % 8) + k / 8); /* qword J byte i = word 7 - i byte J */
        bytes[k] = (uint8_t)(8 * (k % 8) + k / 8);
    }
    __m512i g = _mm512_loadu_si512((const void *)gather), t = _mm512_loadu_si512((const void *)bytes);
    __m512i unit = _mm512_set1_epi64(0x8040201008040201ll);
    uint64_t z[8][8];
    for (int i = 0; i < 8; i++) {
        __m512i v = _mm512_permutexvar_epi8(g, _mm512_loadu_si512((const void *)(a + 8 * i)));
        _mm512_storeu_si512((void *)z[i], _mm512_gf2p8affine_epi64_epi8(unit, v, 0));
    }
    for (int j = 0; j < 8; j++) {
        uint64_t q[8];
        for (int i = 0; i < 8; i++)
            q[i] = z[i][j];
        _mm512_storeu_si512((void *)(a + 8 * j), _mm512_permutexvar_epi8(t, _mm512_loadu_si512((const void *)q)));
    }
}

static int portable; /* bits_set_portable */

void bits_set_portable(int on) { portable = on; }

static void transpose64(uint64_t a[64])
{
    if (!portable && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("gfni"))
        transpose_512(a);
    else
        transpose_portable(a);
}
#else
void bits_set_portable(int on) { (void)on; }

static void transpose64(uint64_t a[64]) { transpose_portable(a); }
#endif

void bits_pack(const uint64_t *v, size_t stride, size_t n, uint32_t nbits, uint64_t *planes, size_t nw)
{
    uint64_t blk[64];
    for (size_t b = 0; b < nw; b++) {
        for (size_t i = 0; i < 64; i++)
            blk[i] = b * 64 + i < n ? v[(b * 64 + i) * stride] : 0;
        transpose64(blk);
        for (uint32_t j = 0; j < nbits; j++)
            planes[j * nw + b] = blk[j];
    }
}

void bits_gate_operands(const bits_gate *gt, size_t nand, size_t nw, const uint64_t *g, const uint64_t *p, uint64_t *x,
                        uint64_t *y)
{
    for (size_t i = 0; i < nand; i++) {
        memcpy(x + i * nw, p + gt[i].hi * nw, nw * sizeof *x);
        memcpy(y + i * nw, (gt[i].second ? p : g) + gt[i].lo * nw, nw * sizeof *y);
    }
}

void bits_gate_results(const bits_gate *gt, size_t nand, size_t nw, const uint64_t *z, uint64_t *g, uint64_t *p)
{
    for (size_t i = 0; i < nand; i++)
        for (size_t q = 0; q < nw; q++) {
            if (!gt[i].second)
                g[gt[i].lo * nw + q] = g[gt[i].hi * nw + q] ^ z[i * nw + q];
            else
                p[gt[i].lo * nw + q] = z[i * nw + q];
        }
}
