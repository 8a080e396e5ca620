/* TFLite arithmetic: rounding edge cases, multipliers, softmax. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/qmath.h"
#include "helpers.h"

START_TEST(srdhm_saturates_min_times_min)
{
    ck_assert_int_eq(qm_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
    ck_assert_int_eq(qm_srdhm(INT32_MIN, INT32_MAX), -INT32_MAX);
    ck_assert_int_eq(qm_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1);
}
END_TEST

START_TEST(srdhm_ties)
{
    /* a*b/2^31 = +0.5 rounds up, -0.5 rounds toward +inf (gemmlowp's nudge) */
    ck_assert_int_eq(qm_srdhm(1 << 15, 1 << 15), 1);          /* 2^30/2^31 = 0.5 */
    ck_assert_int_eq(qm_srdhm(-(1 << 15), 1 << 15), 0);       /* -0.5 */
    ck_assert_int_eq(qm_srdhm(3 << 14, 1 << 16), 2);          /* 1.5 */
    ck_assert_int_eq(qm_srdhm(-(3 << 14), 1 << 16), -1);      /* -1.5 */
    ck_assert_int_eq(qm_srdhm(0, INT32_MIN), 0);
}
END_TEST

START_TEST(srdhm_matches_reference_on_random)
{
    uint32_t s = 12345;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        int32_t a = (int32_t)s;
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        int32_t m = (int32_t)(s >> 1) | (1 << 30); /* normalized multipliers */
        int shift = (int)(s % 20) - 12;
        int64_t want = ref_requant(a, m, shift);
        ck_assert_int_eq(qm_mul_by_qmult(a, m, shift), (int32_t)want);
    }
}
END_TEST

START_TEST(rdivpot_ties_away_from_zero)
{
    ck_assert_int_eq(qm_rdivpot(5, 1), 3);   /* 2.5 -> 3 */
    ck_assert_int_eq(qm_rdivpot(-5, 1), -3); /* -2.5 -> -3 */
    ck_assert_int_eq(qm_rdivpot(-6, 2), -2); /* -1.5 -> -2 */
    ck_assert_int_eq(qm_rdivpot(6, 2), 2);   /* 1.5 -> 2 */
    ck_assert_int_eq(qm_rdivpot(-5, 2), -1); /* -1.25 -> -1 */
    ck_assert_int_eq(qm_rdivpot(7, 0), 7);
    ck_assert_int_eq(qm_rdivpot(INT32_MIN, 31), -1);
    ck_assert_int_eq(qm_rdivpot(INT32_MAX, 31), 1);
    ck_assert_int_eq(qm_rdivpot(INT32_MAX, 40), 0);
}
END_TEST

START_TEST(quantize_multiplier_cases)
{
    int32_t m;
    int s;
    qm_quantize_multiplier(0.5, &m, &s);
    ck_assert_int_eq(m, 1 << 30);
    ck_assert_int_eq(s, 0);
    qm_quantize_multiplier(0.0, &m, &s);
    ck_assert_int_eq(m, 0);
    ck_assert_int_eq(s, 0);
    qm_quantize_multiplier(1.0, &m, &s);
    ck_assert_int_eq(m, 1 << 30);
    ck_assert_int_eq(s, 1);
    /* q rounds up to 2^31: halved, shift incremented */
    qm_quantize_multiplier(0.99999999999, &m, &s);
    ck_assert_int_eq(m, 1 << 30);
    ck_assert_int_eq(s, 1);
    qm_quantize_multiplier(1e-12, &m, &s); /* below 2^-31: zero */
    ck_assert_int_eq(m, 0);
    ck_assert_int_eq(s, 0);
    qm_quantize_multiplier(0.0123 * 0.5 / 0.3, &m, &s);
    ck_assert(fabs(ldexp((double)m, s - 31) - 0.0123 * 0.5 / 0.3) < 1e-11);
}
END_TEST

START_TEST(mul_by_qmult_left_shift)
{
    /* multiplier 1.5 = 0.75 * 2^1 */
    ck_assert_int_eq(qm_mul_by_qmult(10, 3 << 29, 1), 15);
    ck_assert_int_eq(qm_mul_by_qmult(-10, 3 << 29, 1), -15);
    ck_assert_int_eq(qm_mul_by_qmult(-3, 3 << 29, 1), -4); /* -4.5: SRDHM of -6*0.75 rounds to -4 */
}
END_TEST

START_TEST(div_round_half_away)
{
    ck_assert_int_eq(qm_div_round(10, 4), 3);
    ck_assert_int_eq(qm_div_round(-10, 4), -3);
    ck_assert_int_eq(qm_div_round(9, 4), 2);
    ck_assert_int_eq(qm_div_round(-9, 4), -2);
    ck_assert_int_eq(qm_div_round(12, 25), 0);
    ck_assert_int_eq(qm_div_round(13, 25), 1);
    ck_assert_int_eq(qm_div_round(0, 7), 0);
}
END_TEST

START_TEST(quantize_float_rounds_in_float)
{
    ck_assert_int_eq(qm_quantize_float(6.0f, 0.0235294122f, 0), 255);
    ck_assert_int_eq(qm_quantize_float(0.0f, 0.05f, -3), -3);
    ck_assert_int_eq(qm_quantize_float(6.0f, 0.05f, -128), -8);
}
END_TEST

START_TEST(softmax_uniform_and_peaked)
{
    qm_softmax_params p;
    qm_softmax_prepare(1.0, 0.1, &p);
    int32_t in[4] = {10, 10, 10, 10}, out[4];
    qm_softmax(&p, in, out, 4, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(out[i], 64); /* 0.25 * 256 */
    int32_t pk[3] = {255, 0, 0};
    qm_softmax(&p, pk, out, 3, -128);
    ck_assert_int_eq(out[0], 127);
    ck_assert_int_eq(out[1], -128);
}
END_TEST

/* The reference models' logits give exactly their expected softmax outputs. */
static void check_softmax_file(const char *model, const char *cs, double scale, int i8, int n)
{
    char lp[512], ep[512];
    snprintf(lp, sizeof lp, "%s/testdata/%s/%s.logits.bin", getenv("QNN_MODELS"), model, cs);
    snprintf(ep, sizeof ep, "%s/testdata/%s/%s.expected.bin", getenv("QNN_MODELS"), model, cs);
    FILE *fl = fopen(lp, "rb"), *fe = fopen(ep, "rb");
    ck_assert_msg(fl && fe, "missing %s or %s", lp, ep);
    unsigned char a[2048], b[2048];
    ck_assert_int_eq((int)fread(a, 1, (size_t)n, fl), n);
    ck_assert_int_eq((int)fread(b, 1, (size_t)n, fe), n);
    fclose(fl);
    fclose(fe);
    int32_t in[2048], out[2048];
    for (int i = 0; i < n; i++)
        in[i] = i8 ? (int8_t)a[i] : a[i];
    qm_softmax_params p;
    qm_softmax_prepare(1.0, scale, &p);
    qm_softmax(&p, in, out, n, i8 ? -128 : 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(out[i], i8 ? (int8_t)b[i] : b[i]);
}

START_TEST(softmax_matches_reference_models)
{
    if (!getenv("QNN_MODELS")) {
        ck_assert_msg(!getenv("CI") || !*getenv("CI") || !strcmp(getenv("CI"), "false"),
                      "CI: the reference models (../shared/models) are missing");
        fprintf(stderr, "skip: QNN_MODELS not set (reference models expected in ../shared/models)\n");
        return;
    }
    check_softmax_file("mobilenet_v1_0.25_128_quant", "collie", 0.130832836, 0, 1001);
    check_softmax_file("mobilenet_v1_0.5_160_quant", "grace_hopper", 0.146457195, 0, 1001);
    check_softmax_file("mobilenet_v2_1.0_224_quant", "rand_seed1", 0.0988925397, 0, 1001);
    check_softmax_file("person_detect", "person", 0.0125187514, 1, 2);
    check_softmax_file("micro_speech_quantized", "rand_seed2", 0.0917319208, 1, 4);
}
END_TEST

/* TFLite's float MEAN on hand-computed values: 0.5f is added before the
 * round half away from zero, so a mean of exactly k + 0.5 - 0.5 ties up */
START_TEST(mean_float_steps)
{
    /* scale 1, zero points 0: round(S / n + 0.5) */
    ck_assert_int_eq(qm_mean_float(3, 2, 1.0f, 1.0f, 0, 0, -128, 127), 2);  /* 1.5 + 0.5 = 2 */
    ck_assert_int_eq(qm_mean_float(1, 4, 1.0f, 1.0f, 0, 0, -128, 127), 1);  /* 0.75 -> 1.25 -> 1 */
    ck_assert_int_eq(qm_mean_float(0, 4, 1.0f, 1.0f, 0, 0, -128, 127), 1);  /* 0.5 rounds away: 1 */
    ck_assert_int_eq(qm_mean_float(-4, 4, 1.0f, 1.0f, 0, 0, -128, 127), -1); /* -1 + 0.5 = -0.5 -> -1 */
    ck_assert_int_eq(qm_mean_float(-8, 4, 1.0f, 1.0f, 0, 0, -128, 127), -2); /* -2 + 0.5 = -1.5 -> -2 */
    /* zero points and clamps */
    ck_assert_int_eq(qm_mean_float(100 * 49, 49, 0.5f, 0.25f, 10, -3, -128, 127), 127);
    ck_assert_int_eq(qm_mean_float(-128 * 49, 49, 0.5f, 0.25f, 10, -3, -128, 127), -128);
    ck_assert_int_eq(qm_mean_float(10 * 9, 9, 0.5f, 0.25f, 10, -3, -128, 127), -2); /* 0 + 0.5 -> 1, + -3 */
}
END_TEST

/* 2.13+'s optimized keep_dims kernel on the shared Keras model's MEAN
 * (s_in 0.0235294122, zp_in -128, s_out 0.0224314351, zp_out -128, 7x7),
 * as a float32 port of optimized_integer_ops::Mean computes it
 * (docs/plans/keras-ops.md 1.1): M 1471085056, shift -5, bias 6 */
START_TEST(mean_opt_params_as_tflite)
{
    int32_t m0, bias;
    int shift;
    qm_mean_opt_params(49, 0.0235294122f, 0.0224314351f, -128, -128, &m0, &shift, &bias);
    ck_assert_int_eq(m0, 1471085056);
    ck_assert_int_eq(shift, -5);
    ck_assert_int_eq(bias, 6);
    qm_mean_opt_params(4, 0.0517499968f, 0.0603750013f, 61, -67, &m0, &shift, &bias); /* tests/dsl/mean.qnn */
    ck_assert_int_eq(m0, 1840700160);
    ck_assert_int_eq(shift, -2);
    ck_assert_int_eq(bias, -119);
}
END_TEST

/* where the fitter finds a requantization, it equals the float MEAN over
 * the whole sum domain (qm_fit_requant checks it too; here again,
 * independently), for random scales, zero points and window sizes; float
 * rounding near ties leaves some without one (the compiler then sums
 * comparisons), but not most */
START_TEST(fit_requant_reproduces_float_mean)
{
    uint32_t seed = 12345;
    int fitted = 0;
    for (int trial = 0; trial < 30; trial++) {
        seed = seed * 1103515245u + 12345u;
        int u8 = trial % 2;
        int32_t qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
        int64_t n = trial == 0 ? 49 : trial == 1 ? 1 : 1 + (int64_t)(seed >> 8) % 400;
        float s_in = 0.001f + (float)((seed >> 4) % 10000) / 20000.0f, s_out = s_in * (0.3f + (float)(seed % 97) / 60.0f);
        int32_t zp_in = qmin + (int32_t)((seed >> 12) % 256), zp_out = qmin + (int32_t)((seed >> 20) % 256);
        int64_t smin = (int64_t)qmin * n, smax = (int64_t)qmax * n;
        int32_t *f = malloc((size_t)(smax - smin + 1) * sizeof *f);
        ck_assert_ptr_nonnull(f);
        for (int64_t s = smin; s <= smax; s++)
            f[s - smin] = qm_mean_float(s, n, s_in, s_out, zp_in, zp_out, qmin, qmax);
        qm_fit fit;
        int rc = qm_fit_requant(f, smin, smax, qmin, qmax, &fit);
        if (rc != 0) {
            free(f);
            continue;
        }
        ck_assert(fit.c >= -smin && fit.m0 > 0 && fit.e >= 1 && fit.e <= 30 && fit.bits + 31 + fit.e <= 63);
        for (int64_t s = smin; s <= smax; s++) {
            int64_t y = (int64_t)qm_mul_by_qmult((int32_t)(s + fit.c), fit.m0, -fit.e) + fit.z;
            ck_assert(llabs(y - qmin) < (1ll << fit.bits) && llabs(y - qmax - 1) < (1ll << fit.bits));
            ck_assert_int_eq(y < qmin ? qmin : y > qmax ? qmax : y, f[s - smin]);
        }
        fitted++;
        free(f);
    }
    ck_assert_int_ge(fitted, 8);
    int32_t down[3] = {1, 0, 2}; /* not non-decreasing: refused */
    qm_fit fit;
    ck_assert_int_eq(qm_fit_requant(down, 0, 2, 0, 255, &fit), -1);
}
END_TEST

/* activations_test.cc QuantizedActivationsOpTest.Sigmoid's values on
 * [-10, 10] (int8: scale 20/255, zero point -1 as test_util rounds it),
 * within its kQuantizedTolerance 2/256 */
START_TEST(logistic_table_meets_tflite_test)
{
    static const int q[8] = {-1, -78, 25, 50, 37, -27, 127, 12}; /* 0, -6, 2, 4, 3, -2, 10, 1 */
    static const double want[8] = {0.5, 0.002473, 0.880797, 0.982014, 0.952574, 0.119203, 0.999955, 0.731059};
    int32_t t[256];
    qm_logistic_table(20.0f / 255.0f, -1, 1.0f / 256, -128, t);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(fabs((t[q[i] + 128] + 128) / 256.0 - want[i]) <= 2.0 / 256, "value %d: %d", i, t[q[i] + 128]);
    for (int v = 1; v < 256; v++) /* monotone, from 0 to 1 */
        ck_assert_int_ge(t[v], t[v - 1]);
}
END_TEST

/* HARD_SWISH against float hard-swish x relu6(x + 3) / 6, for the ranges
 * of TFLite's tests: activations_test.cc QuantizedActivationsOpTest.HardSwish
 * (and tflite-micro's hard_swish_test.cc SimpleHardSwishTestInt8 and
 * SimpleHardSwishTestUint8): every pair of the ranges {0, 1}, {-2, 1},
 * {-5, 10}, {-40, 60} as input and output, uint8 and int8, quantized as
 * test_util does; every one of the 256 input codes (the tests draw random
 * floats) within their tolerance max(input range, output range) 1.5/256 of
 * the float function clamped to the output range. */
static double hard_swish_ref(double x) { return x * fmin(6.0, fmax(0.0, x + 3.0)) / 6.0; }

START_TEST(hard_swish_within_tflite_tolerance)
{
    static const float r[4][2] = {{0.f, 1.f}, {-2.f, 1.f}, {-5.f, 10.f}, {-40.f, 60.f}};
    for (int i8 = 0; i8 < 2; i8++)
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++) {
                int32_t qmin = i8 ? -128 : 0, qmax = qmin + 255, zi, zo, t[256];
                float si, so;
                tu_quant_params(r[a][0], r[a][1], qmin, qmax, &si, &zi);
                tu_quant_params(r[b][0], r[b][1], qmin, qmax, &so, &zo);
                ck_assert_int_eq(qm_hard_swish_table(si, zi, so, zo, qmin, qmax, t), 0);
                double tol = fmax(r[a][1] - r[a][0], r[b][1] - r[b][0]) * (1.5 / 256);
                for (int v = qmin; v <= qmax; v++) {
                    double want = fmin(r[b][1], fmax(r[b][0], hard_swish_ref((double)si * (v - zi))));
                    double got = (double)so * (t[v - qmin] - zo);
                    ck_assert_msg(fabs(got - want) <= tol, "i8 %d ranges %d %d code %d: %g, want %g", i8, a, b, v,
                                  got, want);
                }
            }
}
END_TEST

/* activations_test.cc QuantizedActivationsOpTest.HardSwishBias (and
 * hard_swish_test.cc SimpleHardSwishTestQuantizedBias), uint8, the ranges
 * of a MobileNet V3 node: over the codes from -3 to +3 the mean error
 * against float, in units of the larger scale, is at most 0.035 (the bias
 * TFLite's SaturatingDoublingHighMul keeps small); and TFLite's Prepare
 * refuses an output scale below the input's / 128 */
START_TEST(hard_swish_bias_and_refusal)
{
    float si, so;
    int32_t zi, zo, t[256];
    tu_quant_params(-11.654928f, 25.036512f, 0, 255, &si, &zi);
    tu_quant_params(-0.3905796f, 24.50887f, 0, 255, &so, &zo);
    ck_assert_int_eq(qm_hard_swish_table(si, zi, so, zo, 0, 255, t), 0);
    int lo = (int)roundf((-3.0f + 11.654928f) / si), hi = (int)roundf((3.0f + 11.654928f) / si);
    double sum = 0;
    for (int i = lo; i <= hi; i++) {
        float f = -11.654928f + (float)i * si;
        int32_t q = qm_quantize_float(f, si, zi);
        sum += (double)so * (t[q] - zo) - fmin(24.50887, fmax(-0.3905796, hard_swish_ref((double)f)));
    }
    double bias = sum / ((hi - lo + 1) * (double)fmaxf(si, so));
    ck_assert_msg(fabs(bias) <= 0.035, "bias %g", bias);
    ck_assert_int_eq(qm_hard_swish_table(1.0f, 0, 1.0f / 200, 0, -128, 127, t), -1);
    ck_assert_int_eq(qm_hard_swish_table(1.0f, 0, 1.0f / 100, 0, -128, 127, t), 0);
}
END_TEST

Suite *suite_qmath(void)
{
    Suite *s = suite_create("qmath");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, srdhm_saturates_min_times_min);
    tcase_add_test(t, srdhm_ties);
    tcase_add_test(t, srdhm_matches_reference_on_random);
    tcase_add_test(t, rdivpot_ties_away_from_zero);
    tcase_add_test(t, quantize_multiplier_cases);
    tcase_add_test(t, mul_by_qmult_left_shift);
    tcase_add_test(t, div_round_half_away);
    tcase_add_test(t, quantize_float_rounds_in_float);
    tcase_add_test(t, softmax_uniform_and_peaked);
    tcase_add_test(t, softmax_matches_reference_models);
    tcase_add_test(t, mean_float_steps);
    tcase_add_test(t, fit_requant_reproduces_float_mean);
    tcase_add_test(t, logistic_table_meets_tflite_test);
    tcase_add_test(t, hard_swish_within_tflite_tolerance);
    tcase_add_test(t, mean_opt_params_as_tflite);
    tcase_add_test(t, hard_swish_bias_and_refusal);
    suite_add_tcase(s, t);
    return s;
}
