/* qmath: TensorFlow Lite / gemmlowp integer arithmetic (see qmath.h).
 * int32 wrap-around, which gemmlowp relies on, is done in uint32 to stay
 * clear of undefined behaviour. */
#include "runtime/core/qmath.h"

#include <float.h>
#include <stdlib.h>
#include <math.h>

static int32_t wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }
static int32_t add32(int32_t a, int32_t b) { return wrap32((int64_t)a + b); }
static int32_t sub32(int32_t a, int32_t b) { return wrap32((int64_t)a - b); }

int32_t qm_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* Exponents past 31 (reachable from softmax on long rows, undefined in C++)
 * are evaluated exactly in 64 bits. */
int32_t qm_rdivpot(int32_t x, int exponent)
{
    int64_t mask = ((int64_t)1 << exponent) - 1;
    int64_t remainder = (int64_t)x & mask;
    int64_t threshold = (mask >> 1) + (x < 0);
    return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold));
}

int32_t qm_mul_by_qmult(int32_t x, int32_t m0, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    return qm_rdivpot(qm_srdhm(wrap32((int64_t)x * ((int64_t)1 << left)), m0), right);
}

void qm_quantize_multiplier(double m, int32_t *m0, int *shift)
{
    if (m == 0.0) {
        *m0 = 0;
        *shift = 0;
        return;
    }
    double q = frexp(m, shift);
    int64_t fixed = (int64_t)round(q * (double)((int64_t)1 << 31));
    if (fixed == ((int64_t)1 << 31)) {
        fixed /= 2;
        ++*shift;
    }
    if (*shift < -31) {
        *shift = 0;
        fixed = 0;
    }
    *m0 = (int32_t)fixed;
}

int64_t qm_div_round(int64_t x, int64_t d)
{
    return x >= 0 ? (x + d / 2) / d : (x - d / 2) / d;
}

int32_t qm_quantize_float(float real, float scale, int32_t zp)
{
    /* saturated: a tiny scale (a hostile model's) puts real / scale past int32 */
    float q = roundf(real / scale);
    int64_t v = q >= 2147483648.0f ? INT32_MAX : q <= -2147483648.0f ? INT32_MIN
              : q == q ? (int64_t)q : 0;
    v += zp;
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* ---- gemmlowp fixed point, just what softmax needs ---- */

static int32_t sat_shl(int32_t x, int e) /* SaturatingRoundingMultiplyByPOT, e > 0 */
{
    int32_t threshold = (int32_t)(((int64_t)1 << (31 - e)) - 1);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

static int32_t rescale(int32_t x, int exponent) /* Rescale: src - dst integer bits */
{
    return exponent > 0 ? sat_shl(x, exponent) : exponent < 0 ? qm_rdivpot(x, -exponent) : x;
}

/* exp(x) for x in [-1/4, 0), Q0.31 in and out */
static int32_t exp_quarter(int32_t a)
{
    const int32_t c = 1895147668, third = 715827883;
    int32_t x = add32(a, 1 << 28);
    int32_t x2 = qm_srdhm(x, x), x3 = qm_srdhm(x2, x), x4 = qm_srdhm(x2, x2);
    int32_t x4_4 = qm_rdivpot(x4, 2);
    int32_t poly = qm_rdivpot(add32(qm_srdhm(add32(x4_4, x3), third), x2), 1);
    return add32(c, qm_srdhm(c, add32(x, poly)));
}

/* exp(a) for a <= 0, a in Q5.26, result in Q0.31 */
static int32_t exp_neg(int32_t a)
{
    static const int32_t mult[7] = {1672461947, 1302514674, 790015084, 290630308,
                                    39332535,   720401,     242};
    const int frac = 26;
    int32_t quarter = 1 << 24;
    int32_t a_mod = sub32(a & (quarter - 1), quarter);
    int32_t result = exp_quarter(rescale(a_mod, 5));
    int32_t remainder = sub32(a_mod, a);
    for (int e = -2; e <= 4; e++)
        if (remainder & ((int32_t)1 << (frac + e)))
            result = qm_srdhm(result, mult[e + 2]);
    return a == 0 ? INT32_MAX : result;
}

/* 1/(1+x) for x in [0, 1), Q0.31 in and out */
static int32_t one_over_one_plus(int32_t a)
{
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48 = 1515870810, cm32 = -1010580540, one2 = 1 << 29;
    int32_t x = add32(c48, qm_srdhm(half_den, cm32));
    for (int i = 0; i < 3; i++) {
        int32_t one_minus = sub32(one2, qm_srdhm(half_den, x));
        x = add32(x, rescale(qm_srdhm(x, one_minus), 2));
    }
    return rescale(x, 1);
}

static int clz32(uint32_t x)
{
    int n = 0;
    if (x == 0)
        return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

void qm_softmax_prepare(double beta, double input_scale, qm_softmax_params *p)
{
    const int int_bits = 5;
    double real = beta * input_scale * (double)(1 << (31 - int_bits));
    if (real > 2147483647.0)
        real = 2147483647.0;
    qm_quantize_multiplier(real, &p->multiplier, &p->left_shift);
    double radius = 1.0 * ((1 << int_bits) - 1) * (double)((int64_t)1 << (31 - int_bits)) /
                    ldexp(1.0, p->left_shift); /* the compiler keeps the shift positive, as TFLite */
    p->diff_min = -(int32_t)floor(radius);
}

static int32_t scaled_diff(const qm_softmax_params *p, int32_t diff)
{
    return qm_srdhm(wrap32((int64_t)diff * ((int64_t)1 << p->left_shift)), p->multiplier);
}

void qm_softmax(const qm_softmax_params *p, const int32_t *in, int32_t *out, int n,
                int32_t out_min)
{
    int32_t max = INT32_MIN;
    for (int i = 0; i < n; i++)
        if (in[i] > max)
            max = in[i];
    int32_t sum = 0; /* Q12.19 */
    /* differences in 64 bits: logits span the whole int32 range */
    for (int i = 0; i < n; i++)
        if ((int64_t)in[i] - max >= p->diff_min)
            sum = add32(sum, rescale(exp_neg(scaled_diff(p, in[i] - max)), -12));
    int headroom = clz32((uint32_t)sum);
    int bits_over_unit = 12 - headroom;
    int32_t scale =
        one_over_one_plus((int32_t)(((uint32_t)sum << headroom) - ((uint32_t)1 << 31)));
    for (int i = 0; i < n; i++) {
        int32_t v = out_min;
        if ((int64_t)in[i] - max >= p->diff_min) {
            int32_t e = exp_neg(scaled_diff(p, in[i] - max));
            v = qm_rdivpot(qm_srdhm(scale, e), bits_over_unit + 31 - 8) + out_min;
            if (v > out_min + 255)
                v = out_min + 255;
            if (v < out_min)
                v = out_min;
        }
        out[i] = v;
    }
}

void qm_layer_multiplier(float sx, float sw, float sy, int float_product, int32_t *m0, int *shift)
{
    double real = float_product ? (double)(sx * sw) / (double)sy : (double)sx * (double)sw / (double)sy;
    qm_quantize_multiplier(real, m0, shift);
}

void qm_logistic_table(float s_in, int32_t zp_in, float s_out, int32_t zp_out, int32_t out[256])
{
    float inv = 1.0f / s_out;
    for (int v = -128; v <= 127; v++) {
        float d = s_in * (float)(v - zp_in);
        float e = expf(-d);
        float den = 1.0f + e;
        float t = 1.0f / den;
        float u = t * inv;
        float r = roundf(u);
        float q = r + (float)zp_out;
        int32_t k = (int32_t)q;
        out[v + 128] = k < -128 ? -128 : k > 127 ? 127 : k;
    }
}

/* ---- HARD_SWISH's int16 arithmetic (reference/hard_swish.h) ---- */

static int16_t wrap16(int32_t v) { return (int16_t)(uint16_t)(uint32_t)v; }

/* gemmlowp's SaturatingRoundingDoublingHighMul on int16 (round: nudge
 * +-2^14), or hard_swish.h's SaturatingDoublingHighMul (no nudge: the C
 * division truncates), saturating only for -2^15 times itself */
static int16_t dhm16(int16_t a, int16_t b, int round)
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    int32_t ab = (int32_t)a * b, nudge = round ? (ab >= 0 ? 1 << 14 : 1 - (1 << 14)) : 0;
    return (int16_t)((ab + nudge) / (1 << 15));
}

static int16_t sat_shl16(int16_t v, int amount) /* SaturatingLeftShift, amount >= 0 */
{
    int64_t r = amount > 40 ? (v > 0 ? INT16_MAX : v < 0 ? INT16_MIN : 0) : (int64_t)v * ((int64_t)1 << amount);
    return (int16_t)(r > INT16_MAX ? INT16_MAX : r < INT16_MIN ? INT16_MIN : r);
}

/* gemmlowp's RoundingDivideByPOT on int16, its mask taken as an int16
 * (Dup<int16_t>((1ll << exponent) - 1)), 0 <= exponent <= 31 */
static int16_t rdivpot16(int16_t x, int exponent)
{
    int16_t mask = wrap16((int32_t)(((int64_t)1 << exponent) - 1));
    int16_t remainder = (int16_t)(x & mask), threshold = wrap16((mask >> 1) + (x < 0));
    return wrap16((x >> (exponent > 15 ? 15 : exponent)) + (remainder > threshold));
}

static int16_t downscale16(int32_t m) /* DownScaleInt32ToInt16Multiplier */
{
    return m >= INT32_MAX - (1 << 15) ? INT16_MAX : (int16_t)((m + (1 << 15)) >> 16);
}

/* HardSwishPrepare's parameters: the output multiplier m16 with exponent
 * e_out, the reluish one r16 with e_r; -1 when Prepare refuses (e_out > 0) */
static int hard_swish_prepare(float s_in, float s_out, int16_t *m16, int *e_out, int16_t *r16, int *e_r)
{
    float hires = (1.0f / 128.0f) * s_in, reluish_scale = 3.0f / 32768.0f;
    float out_mult = hires / s_out, reluish_mult = hires / reluish_scale;
    int32_t m32, r32;
    qm_quantize_multiplier((double)out_mult, &m32, e_out);
    qm_quantize_multiplier((double)reluish_mult, &r32, e_r);
    *m16 = downscale16(m32), *r16 = downscale16(r32);
    return *e_out > 0 ? -1 : 0;
}

int qm_hard_swish_line(float s_in, int32_t zp_in, float s_out, int32_t *m, int64_t *b, int *k)
{
    int16_t m16, r16;
    int e_out, e_r;
    if (hard_swish_prepare(s_in, s_out, &m16, &e_out, &r16, &e_r))
        return -1;
    /* pre = floor((128 iv m16 + 2^14) / 2^15) = floor((iv m16 + 128) / 2^8);
     * the saturated reluish value 32767 makes the product pre - 1; the
     * output shift rounds half up: nested floors of one numerator */
    *m = m16;
    *k = 8 - e_out;
    *b = 128 - 256 + (e_out < 0 ? (int64_t)1 << (7 - e_out) : 0) - (int64_t)m16 * zp_in;
    return 0;
}

int qm_hard_swish_table(float s_in, int32_t zp_in, float s_out, int32_t zp_out, int32_t qmin, int32_t qmax,
                        int32_t out[256])
{
    int16_t m16, r16;
    int e_out, e_r;
    if (hard_swish_prepare(s_in, s_out, &m16, &e_out, &r16, &e_r))
        return -1;
    for (int32_t v = qmin; v <= qmax && v - qmin < 256; v++) {
        int16_t iv = wrap16(v - zp_in), hi = wrap16(iv * (1 << 7));
        int16_t pre = dhm16(hi, m16, 1), rv = hi;
        if (e_r > 0)
            rv = sat_shl16(rv, e_r - 1);
        rv = dhm16(rv, r16, 1);
        if (e_r > 0)
            rv = sat_shl16(rv, 1);
        if (e_r < 0)
            rv = rdivpot16(rv, -e_r);
        rv = wrap16((rv + (1 << 15)) >> 1);
        int16_t o = wrap16(rdivpot16(dhm16(rv, pre, 0), -e_out) + zp_out);
        out[v - qmin] = o > qmax ? qmax : o < qmin ? qmin : o;
    }
    return 0;
}

void qm_mul_multiplier(float s1, float s2, float sy, int32_t *m0, int *shift)
{
    float p = s1 * s2;
    qm_quantize_multiplier((double)(p / sy), m0, shift);
}

void qm_relu_params(int act, float s_in, float s_out, int32_t zp_out, int32_t qmin, int32_t qmax, int32_t *m0,
                    int *shift, int32_t *lo, int32_t *hi)
{
    static const float amin[3] = {0.0f, 0.0f, -1.0f}, amax[3] = {0.0f, 6.0f, 1.0f};
    qm_quantize_multiplier((double)(s_in / s_out), m0, shift);
    int32_t l = zp_out + (int32_t)roundf(amin[act] / s_out), h = zp_out + (int32_t)roundf(amax[act] / s_out);
    *lo = l > qmin ? l : qmin;
    *hi = act == 0 || h > qmax ? qmax : h;
}

int qm_add_multipliers(float s1, float s2, float sy, int32_t m0[3], int shift[3])
{
    double twice = (double)(2.0f * fmaxf(s1, s2));
    double real[3] = {(double)s1 / twice, (double)s2 / twice, twice / (double)((float)(1 << 20) * sy)};
    int ok = 0;
    for (int i = 0; i < 3; i++) {
        qm_quantize_multiplier(real[i], &m0[i], &shift[i]);
        ok |= shift[i] > 0;
    }
    return ok ? -1 : 0;
}

void qm_act_range(int act, int dtype_min, int dtype_max, float scale, int32_t zp, int64_t *lo, int64_t *hi)
{
    *lo = dtype_min;
    *hi = dtype_max;
    if (act >= 1) {
        int64_t z = qm_quantize_float(0.0f, scale, zp);
        if (z > *lo)
            *lo = z;
    }
    if (act == 2) {
        int64_t s = qm_quantize_float(6.0f, scale, zp);
        if (s < *hi)
            *hi = s;
    }
}

uint32_t qm_requant_bits(uint64_t acc_bound, int32_t m0, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    if (left > 16 || right > 30 || m0 < 0 || acc_bound >= ((uint64_t)1 << 31))
        return 0;
    uint64_t m = (uint64_t)m0 << left, yb = ((acc_bound * ((m >> 16) + 1)) >> (15 + right)) + 2 + 257;
    uint32_t bits = 0;
    while (yb >> bits)
        bits++;
    return bits;
}

/* FLT_EVAL_METHOD 0: each float operation below rounds to float32, and
 * separate statements keep compilers from fusing a multiply and an add
 * (GCC contracts only within expressions in ISO C mode, Clang only within
 * an expression at its default). */
_Static_assert(FLT_EVAL_METHOD == 0, "float operations must round to float32");

int32_t qm_mean_float(int64_t sum, int64_t n, float s_in, float s_out, int32_t zp_in, int32_t zp_out,
                      int32_t qmin, int32_t qmax)
{
    float scale = s_in / s_out;
    float t = (float)(-zp_in) * scale;
    float bias = t + 0.5f;
    float mean = (float)sum / (float)n;
    float u = mean * scale;
    float v = u + bias;
    float r = roundf(v);
    float result = r + (float)zp_out;
    result = result < (float)qmax ? result : (float)qmax;
    result = result > (float)qmin ? result : (float)qmin;
    return (int32_t)result;
}

int32_t qm_mean_int_div(int64_t sum, int64_t n, float s_in, float s_out, int32_t zp_in, int32_t zp_out,
                        int32_t qmin, int32_t qmax)
{
    int32_t m0;
    int shift;
    qm_quantize_multiplier((double)s_in / (double)s_out, &m0, &shift);
    int64_t a = qm_div_round(qm_mul_by_qmult((int32_t)(sum - (int64_t)zp_in * n), m0, shift), n) + zp_out;
    return a < qmin ? qmin : a > qmax ? qmax : (int32_t)a;
}

void qm_mean_int_multiplier(int64_t n, float s_in, float s_out, int32_t *m0, int *shift)
{
    qm_quantize_multiplier((double)s_in / (double)s_out, m0, shift);
    int s = 0;
    while (s < 63 && ((int64_t)1 << (s + 1)) <= n) /* 63 - CountLeadingZeros(n) */
        s++;
    s = s < 32 ? s : 32;
    s = s < 31 + *shift ? s : 31 + *shift;
    *m0 = (int32_t)(((int64_t)*m0 << s) / n);
    *shift -= s;
}

void qm_mean_opt_params(int64_t n, float s_in, float s_out, int32_t zp_in, int32_t zp_out, int32_t *m0, int *shift,
                        int32_t *bias)
{
    float nf = (float)n, den = nf * s_out, real = s_in / den; /* float32 steps (FLT_EVAL_METHOD 0) */
    float t = (float)zp_in * s_in, u = t / s_out;
    qm_quantize_multiplier((double)real, m0, shift);
    *bias = zp_out - (int32_t)u;
}

__extension__ typedef __int128 i128;

static i128 floor_div(i128 a, i128 b) /* b > 0 */
{
    i128 q = a / b;
    return q - (a % b != 0 && a < 0);
}

/* The thresholds of f: t[j] = min{s : f(s) >= lv[j]} for every level
 * above f(smin); at most qmax - qmin of them. */
typedef struct {
    int64_t *t;
    int32_t *lv;
    int n;
} steps;

static steps steps_of(const int32_t *f, int64_t smin, int64_t n, int32_t qmin, int32_t qmax)
{
    steps st = {malloc((size_t)(qmax - qmin + 1) * sizeof(int64_t)), malloc((size_t)(qmax - qmin + 1) * sizeof(int32_t)), 0};
    for (int64_t i = 1; st.t && st.lv && i < n; i++)
        for (int32_t v = f[i - 1] + 1; v <= f[i]; v++)
            st.t[st.n] = smin + i, st.lv[st.n++] = v;
    return st;
}

/* The line y(s) = floor((m0 (s + c) + K) / 2^k), K = 2^30 + 2^(30 + e),
 * which MultiplyByQuantizedMultiplier(s + c, m0, -e) is for s + c >= 0,
 * less zz must reach level v exactly from its threshold T_v on: with W =
 * K + m0 c - zz 2^k, v 2^k - m0 T_v <= W < v 2^k - m0 (T_v - 1); and hold
 * f(smin) at smin when that is above qmin, f(smax) at smax when below qmax.
 * [lo, hi] is the window of W, empty when lo > hi. */
static void fit_window(const steps *st, int32_t f0, int32_t f1, int64_t smin, int64_t smax, int32_t qmin,
                       int32_t qmax, i128 m0, i128 p, i128 *lo, i128 *hi)
{
    *lo = f0 > qmin ? f0 * p - m0 * smin : -((i128)1 << 100);
    *hi = f1 < qmax ? (f1 + 1) * p - m0 * smax - 1 : (i128)1 << 100;
    for (int j = 0; j < st->n; j++) {
        i128 a = st->lv[j] * p - m0 * st->t[j], b = a + m0 - 1;
        *lo = a > *lo ? a : *lo;
        *hi = b < *hi ? b : *hi;
    }
}

/* The multipliers the thresholds allow, from every pair v > w:
 * (v - w) 2^k / (T_v - T_w + 1) < m0 < (v - w) 2^k / (T_v - T_w - 1). */
static void fit_range(const steps *st, i128 p, i128 *m_lo, i128 *m_hi)
{
    *m_lo = 1, *m_hi = ((i128)1 << 31) - 1;
    for (int a = 0; a < st->n; a++)
        for (int b = a + 1; b < st->n; b++) {
            i128 dv = st->lv[b] - st->lv[a], dt = st->t[b] - st->t[a];
            i128 lo = floor_div(dv * p, dt + 1) + 1;
            *m_lo = lo > *m_lo ? lo : *m_lo;
            if (dt >= 2) {
                i128 hi = floor_div(dv * p - 1, dt - 1);
                *m_hi = hi < *m_hi ? hi : *m_hi;
            }
        }
}

static int fit_check(const int32_t *f, int64_t smin, int64_t n, int32_t qmin, int32_t qmax, const qm_fit *fit)
{
    for (int64_t i = 0; i < n; i++) { /* the whole domain, through TFLite's own function */
        int64_t y = (int64_t)qm_mul_by_qmult((int32_t)(smin + i + fit->c), fit->m0, -fit->e) + fit->z;
        if ((y < qmin ? qmin : y > qmax ? qmax : y) != f[i])
            return -1;
    }
    return 0;
}

/* the first c from -smin on (at most 2^20 tries) and zz with K + m0 c - zz p in [lo, hi] */
static int fit_offset(i128 m0, i128 K, i128 p, i128 lo, i128 hi, int64_t smin, int64_t smax, int64_t *c, i128 *zz)
{
    for (int64_t k = -smin; k < -smin + (1 << 20); k++) {
        i128 t = K + m0 * k, z = floor_div(t - lo, p); /* the largest zz with t - zz p >= lo */
        if ((smax + k) * m0 + K >= (i128)1 << 62 || smax + k > INT32_MAX)
            return -1;
        if (t - z * p <= hi) {
            *c = k, *zz = z;
            return 0;
        }
    }
    return -1;
}

int qm_fit_requant(const int32_t *f, int64_t smin, int64_t smax, int32_t qmin, int32_t qmax, qm_fit *fit)
{
    int64_t n = smax - smin + 1;
    if (n < 1 || n > (1 << 20) || qmin > qmax)
        return -1;
    for (int64_t i = 0; i < n; i++)
        if (f[i] < qmin || f[i] > qmax || (i && f[i] < f[i - 1]))
            return -1;
    steps st = steps_of(f, smin, n, qmin, qmax);
    int rc = -1;
    for (int e = 1; st.t && st.lv && e <= 30 && rc; e++) {
        int k = 31 + e;
        i128 p = (i128)1 << k, K = ((i128)1 << 30) + ((i128)1 << (30 + e)), m_lo, m_hi;
        fit_range(&st, p, &m_lo, &m_hi);
        for (i128 m0 = m_lo; m0 <= m_hi && m0 <= m_lo + 4096 && rc; m0++) {
            i128 lo, hi, zz;
            int64_t c;
            fit_window(&st, f[0], f[n - 1], smin, smax, qmin, qmax, m0, p, &lo, &hi);
            if (lo > hi || fit_offset(m0, K, p, lo, hi, smin, smax, &c, &zz))
                continue;
            i128 y0 = floor_div(m0 * (smin + c) + K, p) - zz, y1 = floor_div(m0 * (smax + c) + K, p) - zz;
            i128 d = y1 - qmin, w;
            w = qmax + 1 - y0, d = w > d ? w : d; /* |y - T| for y in [y0, y1], T in [qmin, qmax + 1] */
            w = y0 - qmin < 0 ? qmin - y0 : y0 - qmin, d = w > d ? w : d;
            w = y1 - qmax - 1 < 0 ? qmax + 1 - y1 : y1 - qmax - 1, d = w > d ? w : d;
            uint32_t bits = 1;
            while (((i128)1 << bits) <= d)
                bits++;
            *fit = (qm_fit){c, -(int64_t)zz, (int32_t)m0, e, bits};
            rc = fit_check(f, smin, n, qmin, qmax, fit);
        }
    }
    free(st.t), free(st.lv);
    return rc;
}
