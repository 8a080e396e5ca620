/* qmath: TensorFlow Lite's integer arithmetic, bit for bit.
 *
 * These are the reference kernels' building blocks (gemmlowp's fixed-point
 * helpers and TFLite's quantization utilities). The `clear` protocol and the
 * compiler use them so that plaintext evaluation reproduces TFLite exactly;
 * every function is total (no undefined behaviour on any int32 input). */
#ifndef QMATH_H
#define QMATH_H

#include <stdint.h>

int32_t qm_srdhm(int32_t a, int32_t b);            /* SaturatingRoundingDoublingHighMul */
int32_t qm_rdivpot(int32_t x, int exponent);       /* RoundingDivideByPOT, 0 <= exponent <= 62 */
int32_t qm_mul_by_qmult(int32_t x, int32_t m0, int shift); /* MultiplyByQuantizedMultiplier */
void qm_quantize_multiplier(double m, int32_t *m0, int *shift); /* QuantizeMultiplier */
int64_t qm_div_round(int64_t x, int64_t d);        /* x/d rounded half away from zero, d > 0 */
int32_t qm_quantize_float(float real, float scale, int32_t zp); /* zp + round(real/scale) in float, saturated to int32 */

/* A layer's multiplier as TFLite's kernels compute it from the input,
 * weight and output scales: in float when float_product (fully connected,
 * and per-tensor uint8 convolutions), else in double. */
void qm_layer_multiplier(float sx, float sw, float sy, int float_product, int32_t *m0, int *shift);
/* ADD's multipliers as TFLite's Prepare computes them (left shift 20):
 * the inputs' (below one half) and the output's; -1 when the output's is
 * not below one (the output scale too small for the inputs'). */
int qm_add_multipliers(float s1, float s2, float sy, int32_t m0[3], int shift[3]);
/* The clamp of a fused activation (0 none, 1 relu, 2 relu6) on a dtype's
 * range, for output scale and zero point. */
void qm_act_range(int act, int dtype_min, int dtype_max, float scale, int32_t zp, int64_t *lo, int64_t *hi);
/* Bits to bound |y + zp - T| (T within 257 of zp) for y = round(acc M0
 * 2^shift / 2^31), |acc| <= acc_bound: 0 when the shift gives no cheap
 * bound (a left shift past 16, a right shift past 30). */
uint32_t qm_requant_bits(uint64_t acc_bound, int32_t m0, int shift);

/* LOGISTIC's table for int8 as TFLite builds it (LUTPopulate in
 * kernels/internal/common.h, 2.14-2.16's int8 kernels): for each code v,
 * d = s_in (v - zp_in), t = 1 / (1 + expf(-d)), round(t / s_out) + zp_out,
 * every step a float32 operation, clamped to int8; out[v + 128]. */
void qm_logistic_table(float s_in, int32_t zp_in, float s_out, int32_t zp_out, int32_t out[256]);

/* HARD_SWISH's table for an 8-bit dtype ([qmin, qmax], 256 codes) as
 * TFLite computes it: HardSwishPrepare's multipliers (activations.cc, in
 * float, then QuantizeMultiplier and DownScaleInt32ToInt16Multiplier) and
 * reference_ops::HardSwish's int16 steps (reference/hard_swish.h,
 * unchanged from TFLite 2.3 to 2.16); out[v - qmin]. -1 when Prepare
 * refuses the scales (the output multiplier's exponent above 0: s_out
 * below s_in / 128). */
int qm_hard_swish_table(float s_in, int32_t zp_in, float s_out, int32_t zp_out, int32_t qmin, int32_t qmax,
                        int32_t out[256]);
/* HARD_SWISH above +3, where its relu-ish factor saturates and the output
 * multiplier's rounding of a positive input is exact: the line floor((m x +
 * b) / 2^k) + zp_out of the code x (k <= 31 + 8). Which codes it holds for
 * is the table's to say (the compiler compares them). -1 as the table. */
int qm_hard_swish_line(float s_in, int32_t zp_in, float s_out, int32_t *m, int64_t *b, int *k);

/* MUL's multiplier as TFLite's Prepare computes it: QuantizeMultiplier of
 * (double)(float)((float)(s1 * s2) / s_out). */
void qm_mul_multiplier(float s1, float s2, float sy, int32_t *m0, int *shift);

/* A standalone RELU (act 0: [0, inf)), RELU6 (1: [0, 6]) or RELU_N1_TO_1
 * (2: [-1, 1]) as TFLite's ReluPrepare and QuantizedReluX compute it: the
 * multiplier of (double)(float)(s_in / s_out), and the clamp [lo, hi] of
 * zp_out + round(a / s_out) (float) within [qmin, qmax]; the output is
 * clamp(zp_out + MultiplyByQuantizedMultiplier(x - zp_in, m0, shift), lo, hi). */
void qm_relu_params(int act, float s_in, float s_out, int32_t zp_out, int32_t qmin, int32_t qmax, int32_t *m0,
                    int *shift, int32_t *lo, int32_t *hi);

/* MEAN over a sum of n codes as TFLite's reference QuantizedMeanOrSum
 * computes it for a quantized mean (reference/reduce.h, the float path of
 * TFLite 2.12 and before, which the converter's Keras models were checked
 * against): every step one float32 operation, in the kernel's order,
 * rounding half away from zero after adding 0.5 (sic), clamped to
 * [qmin, qmax]. */
int32_t qm_mean_float(int64_t sum, int64_t n, float s_in, float s_out, int32_t zp_in, int32_t zp_out,
                      int32_t qmin, int32_t qmax);
/* MEAN over H and W with keep_dims=true of an int8 tensor in TFLite 2.12
 * and before (reference_integer_ops::Mean, reference/integer_ops/mean.h):
 * a = MultiplyByQuantizedMultiplier(S - zp_in n, M0, shift) with (M0,
 * shift) = QuantizeMultiplier((double)s_in / (double)s_out), then a / n
 * rounded half away from zero (C divisions), plus zp_out, clamped. */
int32_t qm_mean_int_div(int64_t sum, int64_t n, float s_in, float s_out, int32_t zp_in, int32_t zp_out,
                        int32_t qmin, int32_t qmax);
/* MEAN's multiplier in TFLite 2.13 and later (reference/reduce.h's integer
 * QuantizedMeanOrSum, which both resolvers run for keep_dims=false and the
 * reference resolver for keep_dims=true): QuantizeMultiplier of
 * (double)s_in / (double)s_out, then s = min(floor(log2 n), 32, 31 + shift),
 * m0 = (m0 2^s) / n truncated, shift - s; the output of a window sum S is
 * clamp(MultiplyByQuantizedMultiplier(S - zp_in n, m0, shift) + zp_out). */
void qm_mean_int_multiplier(int64_t n, float s_in, float s_out, int32_t *m0, int *shift);
/* MEAN over H and W with keep_dims=true of an int8 tensor in TFLite 2.13 to
 * 2.16's default (optimized) resolver, optimized_integer_ops::Mean: (m0,
 * shift) = QuantizeMultiplier(s_in / ((float)n s_out)) and bias = zp_out -
 * (int32)((float)zp_in s_in / s_out) (truncated), all in float32; the
 * output of a window sum S of the raw codes is clamp(MultiplyByQuantized-
 * Multiplier(S, m0, shift) + bias). */
void qm_mean_opt_params(int64_t n, float s_in, float s_out, int32_t zp_in, int32_t zp_out, int32_t *m0, int *shift,
                        int32_t *bias);
/* An exact requantization for a non-decreasing map f of the integers
 * [smin, smax] (f[s - smin], values in [qmin, qmax]): c >= -smin, m0 <
 * 2^31, 1 <= e <= 30 and z with clamp(MultiplyByQuantizedMultiplier(s + c,
 * m0, -e) + z, qmin, qmax) = f(s) for every s, and, in bits, the bound of
 * |that value before the clamp - T| for T in [qmin, qmax + 1] (a REQCLAMP's
 * comparisons). 0, or -1 when f is not non-decreasing or no such line
 * exists (smax - smin < 2^20). */
typedef struct {
    int64_t c, z;
    int32_t m0;
    int e;
    uint32_t bits;
} qm_fit;
int qm_fit_requant(const int32_t *f, int64_t smin, int64_t smax, int32_t qmin, int32_t qmax, qm_fit *fit);

/* Softmax as TFLite's reference fixed-point kernel (kScaledDiffIntegerBits = 5). */
typedef struct {
    int32_t multiplier;   /* input_beta_multiplier */
    int left_shift;       /* input_beta_left_shift */
    int32_t diff_min;
} qm_softmax_params;

void qm_softmax_prepare(double beta, double input_scale, qm_softmax_params *p);
/* The most values one softmax takes: the Q12.19 sum of their exponentials
 * (each at most 1.0 = 2^19) must stay below 2^31, where TFLite's kernel
 * would wrap to a sum of zero and shift by 32. */
#define QM_SOFTMAX_MAX 4095
/* in: n values in [lo, hi] (the input dtype's range); out: n values in the
 * output dtype's range, out_min = 0 for uint8 and -128 for int8. */
void qm_softmax(const qm_softmax_params *p, const int32_t *in, int32_t *out, int n,
                int32_t out_min);

#endif
