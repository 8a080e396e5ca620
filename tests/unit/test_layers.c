/* Each layer in clear against a straightforward reference implementation
 * of TensorFlow Lite's kernels, written here independently (loops over
 * NHWC, the rounding rules in helpers.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/qmath.h"
#include "helpers.h"

typedef struct {
    int h, w, c;          /* input */
    int kh, kw, oc, m;    /* kernel; output channels (conv) or multiplier (depthwise) */
    int sh, sw, dh, dw, same;
    int i8, per_channel;  /* int8 with per-channel weight scales */
    int act;              /* 0 none, 1 relu, 2 relu6 */
    int depthwise;
} convcase;

static const char *act_name(int a) { return a == 2 ? "relu6" : a == 1 ? "relu" : "none"; }

static int out_size(int in, int k, int s, int d, int same, int *pad)
{
    int eff = (k - 1) * d + 1;
    int o = same ? (in + s - 1) / s : (in - eff + s) / s;
    int total = (o - 1) * s + eff - in;
    *pad = total > 0 ? total / 2 : 0;
    return o;
}

static float wscale(int ch) { return 0.004f + 0.0005f * (float)(ch % 7); }

/* Builds the program text for one convolution case. */
static void conv_source(const convcase *k, char *src, size_t len)
{
    const char *dt = k->i8 ? "i8" : "u8";
    int oc = k->depthwise ? k->c * k->m : k->oc;
    float sx = 0.02f, sy = 0.05f;
    int zx = k->i8 ? -5 : 120, zw = k->i8 ? 0 : 131, zy = k->i8 ? 3 : 100;
    char wq[8192] = "", bq[8192] = "";
    if (k->per_channel) {
        int o1 = snprintf(wq, sizeof wq, "q(["), o2 = snprintf(bq, sizeof bq, "q([");
        for (int ch = 0; ch < oc; ch++) {
            o1 += snprintf(wq + o1, sizeof wq - (size_t)o1, "%s%.9g", ch ? "," : "", (double)wscale(ch));
            o2 += snprintf(bq + o2, sizeof bq - (size_t)o2, "%s%.9g", ch ? "," : "",
                           (double)(sx * wscale(ch)));
        }
        snprintf(wq + o1, sizeof wq - (size_t)o1, "], 0, axis=%d)", k->depthwise ? 3 : 0);
        snprintf(bq + o2, sizeof bq - (size_t)o2, "], 0)");
    } else {
        snprintf(wq, sizeof wq, "q(%.9g, %d)", (double)wscale(0), zw);
        snprintf(bq, sizeof bq, "q(%.9g, 0)", (double)(sx * wscale(0)));
    }
    char wshape[64];
    if (k->depthwise)
        snprintf(wshape, sizeof wshape, "[1,%d,%d,%d]", k->kh, k->kw, oc);
    else
        snprintf(wshape, sizeof wshape, "[%d,%d,%d,%d]", oc, k->kh, k->kw, k->c);
    snprintf(src, len,
             "network t\nparty m = 0\nparty c = 1\n"
             "input x : %s[1,%d,%d,%d] q(%.9g, %d) from c\n"
             "input w : %s%s %s from m\n"
             "input b : i32[%d] %s from m\n"
             "y = %s(x, w, b, stride=[%d,%d], dilation=[%d,%d], padding=%s, activation=%s) -> q(%.9g, %d)\n"
             "output y to c\n",
             dt, k->h, k->w, k->c, (double)sx, zx, dt, wshape, wq, oc, bq,
             k->depthwise ? "depthwise_conv2d" : "conv2d", k->sh, k->sw, k->dh, k->dw,
             k->same ? "same" : "valid", act_name(k->act), (double)sy, zy);
}

static void check_conv(const convcase *k)
{
    char src[20000], msg[4096], err[256];
    conv_source(k, src, sizeof src);
    th_run r;
    memset(&r, 0, sizeof r);
    ck_assert_msg(th_compile(src, &r.p, msg, sizeof msg) == 0, "%s\n%s", msg, src);
    th_random_inputs(&r, 3, 3000);
    ck_assert_msg(th_run_clear(&r, err, sizeof err) == 0, "%s", err);
    const int64_t *x = r.in[th_input(&r, "x")], *w = r.in[th_input(&r, "w")];
    const int64_t *b = r.in[th_input(&r, "b")];
    int pt, pl, oh = out_size(k->h, k->kh, k->sh, k->dh, k->same, &pt);
    int ow = out_size(k->w, k->kw, k->sw, k->dw, k->same, &pl);
    int oc = k->depthwise ? k->c * k->m : k->oc;
    float sx = 0.02f, sy = 0.05f;
    int zx = k->i8 ? -5 : 120, zw = k->i8 ? 0 : 131, zy = k->i8 ? 3 : 100;
    int64_t lo = k->i8 ? -128 : 0, hi = k->i8 ? 127 : 255;
    if (k->act >= 1 && zy > lo)
        lo = zy;
    if (k->act == 2 && zy + (int64_t)(6.0f / sy + 0.5f) < hi)
        hi = zy + (int64_t)(6.0f / sy + 0.5f);
    ck_assert_uint_eq(shape_elems(&r.p.outputs[0].shape), (uint64_t)oh * ow * oc);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int o = 0; o < oc; o++) {
                int64_t acc = b[o];
                int cin_lo = k->depthwise ? o / k->m : 0, cin_hi = k->depthwise ? o / k->m + 1 : k->c;
                for (int ky = 0; ky < k->kh; ky++)
                    for (int kx = 0; kx < k->kw; kx++) {
                        int iy = oy * k->sh - pt + ky * k->dh, ix = ox * k->sw - pl + kx * k->dw;
                        if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w)
                            continue;
                        for (int ci = cin_lo; ci < cin_hi; ci++) {
                            int64_t xv = x[(iy * k->w + ix) * k->c + ci] - zx;
                            int64_t wv = k->depthwise ? w[(ky * k->kw + kx) * oc + o]
                                                      : w[((o * k->kh + ky) * k->kw + kx) * k->c + ci];
                            acc += xv * (wv - zw);
                        }
                    }
                float swc = wscale(k->per_channel ? o : 0);
                double real = k->per_channel || k->i8 ? (double)sx * (double)swc / (double)sy
                                                      : (double)(sx * swc) / (double)sy;
                int32_t m0;
                int shift;
                qm_quantize_multiplier(real, &m0, &shift);
                int64_t want = ref_clamp(ref_requant(acc, m0, shift) + zy, lo, hi);
                int64_t got = r.out[0][(oy * ow + ox) * oc + o];
                ck_assert_msg(got == want, "(%d,%d,%d): got %lld want %lld", oy, ox, o,
                              (long long)got, (long long)want);
            }
    th_free(&r);
}

START_TEST(conv_u8_valid_relu6)
{
    convcase k = {9, 7, 3, 3, 3, 4, 1, 1, 1, 1, 1, 0, 0, 0, 2, 0};
    check_conv(&k);
}
END_TEST

START_TEST(conv_u8_same_stride2_extra_padding_bottom_right)
{
    convcase k = {8, 7, 2, 3, 2, 5, 1, 2, 2, 1, 1, 1, 0, 0, 0, 0};
    check_conv(&k);
}
END_TEST

START_TEST(conv_u8_dilation2_same)
{
    convcase k = {10, 9, 2, 3, 3, 3, 1, 1, 1, 2, 2, 1, 0, 0, 1, 0};
    check_conv(&k);
}
END_TEST

START_TEST(conv_i8_per_channel_relu)
{
    convcase k = {6, 6, 4, 3, 3, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    check_conv(&k);
}
END_TEST

START_TEST(conv_1x1_pointwise)
{
    convcase k = {5, 5, 16, 1, 1, 8, 1, 1, 1, 1, 1, 1, 0, 0, 2, 0};
    check_conv(&k);
}
END_TEST

START_TEST(dwconv_u8_stride2_same_relu6)
{
    convcase k = {9, 9, 5, 3, 3, 0, 1, 2, 2, 1, 1, 1, 0, 0, 2, 1};
    check_conv(&k);
}
END_TEST

START_TEST(dwconv_i8_multiplier3_per_channel_valid)
{
    convcase k = {7, 6, 2, 3, 2, 0, 3, 1, 1, 1, 1, 0, 1, 1, 0, 1};
    check_conv(&k);
}
END_TEST

START_TEST(dwconv_multiplier8_single_channel)
{
    convcase k = {8, 8, 1, 3, 3, 0, 8, 2, 2, 1, 1, 1, 1, 1, 2, 1};
    check_conv(&k);
}
END_TEST

/* Runs src and returns the first output; the caller frees r. */
static void run_src(th_run *r, const char *src, uint32_t seed)
{
    char msg[4096], err[256];
    memset(r, 0, sizeof *r);
    ck_assert_msg(th_compile(src, &r->p, msg, sizeof msg) == 0, "%s\n%s", msg, src);
    th_random_inputs(r, seed, 3000);
    ck_assert_msg(th_run_clear(r, err, sizeof err) == 0, "%s", err);
}

static void check_fc(int i8, int batch, int in, int out)
{
    char src[2048];
    const char *dt = i8 ? "i8" : "u8";
    int zx = i8 ? 7 : 128, zw = i8 ? 0 : 140, zy = i8 ? -20 : 90;
    snprintf(src, sizeof src,
             "network f\nparty m = 0\nparty c = 1\n"
             "input x : %s[%d,%d] q(0.1, %d) from c\n"
             "input w : %s[%d,%d] q(0.01, %d) from m\n"
             "input b : i32[%d] q(0.001, 0) from m\n"
             "y = fully_connected(x, w, b) -> q(0.4, %d)\n"
             "output y to c\n",
             dt, batch, in, zx, dt, out, in, zw, out, zy);
    th_run r;
    run_src(&r, src, 11);
    int32_t m0;
    int sh;
    qm_quantize_multiplier((double)(0.1f * 0.01f) / (double)0.4f, &m0, &sh);
    for (int bi = 0; bi < batch; bi++)
        for (int o = 0; o < out; o++) {
            int64_t acc = r.in[2][o];
            for (int i = 0; i < in; i++)
                acc += (r.in[0][bi * in + i] - zx) * (r.in[1][o * in + i] - zw);
            int64_t want = ref_clamp(ref_requant(acc, m0, sh) + zy, i8 ? -128 : 0, i8 ? 127 : 255);
            ck_assert_int_eq(r.out[0][bi * out + o], want);
        }
    th_free(&r);
}

START_TEST(fc_u8)
{
    check_fc(0, 1, 50, 12);
}
END_TEST

START_TEST(fc_i8_batch2)
{
    check_fc(1, 2, 33, 7);
}
END_TEST

static void check_pool(int is_max, int i8, int h, int w, int c, int k, int s, int same, int act)
{
    char src[2048];
    const char *dt = i8 ? "i8" : "u8";
    int zp = i8 ? -10 : 20;
    float scale = 0.03f;
    snprintf(src, sizeof src,
             "network p\nparty c = 0\ninput x : %s[1,%d,%d,%d] q(0.03, %d) from c\n"
             "y = %s(x, size=%d, stride=%d, padding=%s, activation=%s)\noutput y to c\n",
             dt, h, w, c, zp, is_max ? "max_pool2d" : "avg_pool2d", k, s, same ? "same" : "valid",
             act_name(act));
    th_run r;
    run_src(&r, src, 5);
    int pt, pl, oh = out_size(h, k, s, 1, same, &pt), ow = out_size(w, k, s, 1, same, &pl);
    int64_t lo = i8 ? -128 : 0, hi = i8 ? 127 : 255;
    if (act >= 1 && zp > lo)
        lo = zp;
    if (act == 2)
        hi = ref_clamp(zp + (int64_t)(6.0f / scale + 0.5f), lo, hi);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int ch = 0; ch < c; ch++) {
                int64_t sum = 0, mx = INT64_MIN, n = 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int iy = oy * s - pt + ky, ix = ox * s - pl + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                            continue;
                        int64_t v = r.in[0][(iy * w + ix) * c + ch];
                        sum += v;
                        mx = v > mx ? v : mx;
                        n++;
                    }
                int64_t avg = sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n;
                int64_t want = ref_clamp(is_max ? mx : avg, lo, hi);
                ck_assert_int_eq(r.out[0][(oy * ow + ox) * c + ch], want);
            }
    th_free(&r);
}

START_TEST(avgpool_u8_valid_full_window)
{
    check_pool(0, 0, 5, 5, 3, 5, 1, 0, 0);
}
END_TEST

START_TEST(avgpool_i8_same_partial_windows_rounding)
{
    check_pool(0, 1, 6, 5, 4, 3, 1, 1, 0);
}
END_TEST

START_TEST(avgpool_u8_stride2_relu6)
{
    check_pool(0, 0, 8, 8, 2, 2, 2, 0, 2);
}
END_TEST

START_TEST(maxpool_u8_same_3x3_stride2)
{
    check_pool(1, 0, 9, 8, 3, 3, 2, 1, 0);
}
END_TEST

START_TEST(maxpool_i8_valid_2x2)
{
    check_pool(1, 1, 6, 6, 5, 2, 2, 0, 1);
}
END_TEST

static void check_add(int i8, int act)
{
    char src[2048];
    const char *dt = i8 ? "i8" : "u8";
    float s1 = 0.05f, s2 = 0.021f, so = 0.07f;
    int z1 = i8 ? -3 : 128, z2 = i8 ? 10 : 100, zo = i8 ? 0 : 120;
    snprintf(src, sizeof src,
             "network a\nparty c = 0\n"
             "input x1 : %s[1,4,4,6] q(%.9g, %d) from c\ninput x2 : %s[1,4,4,6] q(%.9g, %d) from c\n"
             "y = add(x1, x2, activation=%s) -> q(%.9g, %d)\noutput y to c\n",
             dt, (double)s1, z1, dt, (double)s2, z2, act_name(act), (double)so, zo);
    th_run r;
    run_src(&r, src, 9);
    double twice = 2.0 * (double)(s1 > s2 ? s1 : s2);
    int32_t m[3];
    int sh[3];
    qm_quantize_multiplier((double)s1 / twice, &m[0], &sh[0]);
    qm_quantize_multiplier((double)s2 / twice, &m[1], &sh[1]);
    qm_quantize_multiplier(twice / ((double)(1 << 20) * (double)so), &m[2], &sh[2]);
    int64_t lo = i8 ? -128 : 0, hi = i8 ? 127 : 255;
    if (act >= 1)
        lo = zo > lo ? zo : lo;
    for (int i = 0; i < 96; i++) {
        int64_t a = ref_requant((r.in[0][i] - z1) * (1 << 20), m[0], sh[0]);
        int64_t b = ref_requant((r.in[1][i] - z2) * (1 << 20), m[1], sh[1]);
        int64_t want = ref_clamp(ref_requant(a + b, m[2], sh[2]) + zo, lo, hi);
        ck_assert_int_eq(r.out[0][i], want);
    }
    th_free(&r);
}

START_TEST(add_u8_different_scales)
{
    check_add(0, 0);
}
END_TEST

START_TEST(add_i8_relu)
{
    check_add(1, 1);
}
END_TEST

/* hard_swish lowered (its line above +3 and a step sum below, or the step
 * sum alone) and run in clear on all 256 codes equals TFLite's table
 * (qm_hard_swish_table, the int16 port) for the ranges of
 * activations_test.cc QuantizedActivationsOpTest.HardSwish (and
 * tflite-micro's hard_swish_test.cc SimpleHardSwishTestInt8/Uint8): {0, 1},
 * {-2, 1}, {-5, 10}, {-40, 60} as input and output, and HardSwishBias's
 * pair, u8 and i8 */
START_TEST(hard_swish_every_code_every_test_range)
{
    static const float rg[6][2] = {{0.f, 1.f}, {-2.f, 1.f}, {-5.f, 10.f}, {-40.f, 60.f},
                                   {-11.654928f, 25.036512f}, {-0.3905796f, 24.50887f}};
    for (int i8 = 0; i8 < 2; i8++)
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 6; b++) {
                if ((a == 4) != (b == 5) || b == 4) /* HardSwishBias's ranges go as a pair */
                    continue;
                int32_t qmin = i8 ? -128 : 0, zi, zo, t[256];
                float si, so;
                tu_quant_params(rg[a][0], rg[a][1], qmin, qmin + 255, &si, &zi);
                tu_quant_params(rg[b][0], rg[b][1], qmin, qmin + 255, &so, &zo);
                ck_assert_int_eq(qm_hard_swish_table(si, zi, so, zo, qmin, qmin + 255, t), 0);
                char src[512], msg[4096], err[256];
                snprintf(src, sizeof src, "network h\nparty c = 0\ninput x : %s[1,256] q(%.9g, %d) from c\n"
                         "y = hard_swish(x) -> q(%.9g, %d)\noutput y to c\n", i8 ? "i8" : "u8", (double)si, zi,
                         (double)so, zo);
                th_run r;
                memset(&r, 0, sizeof r);
                ck_assert_msg(th_compile(src, &r.p, msg, sizeof msg) == 0, "%s\n%s", msg, src);
                th_random_inputs(&r, 1, 0);
                for (int v = 0; v < 256; v++)
                    r.in[0][v] = qmin + v;
                ck_assert_msg(th_run_clear(&r, err, sizeof err) == 0, "%s", err);
                for (int v = 0; v < 256; v++)
                    ck_assert_msg(r.out[0][v] == t[v], "%s ranges %d %d code %d: %lld, want %d", i8 ? "i8" : "u8", a,
                                  b, qmin + v, (long long)r.out[0][v], t[v]);
                th_free(&r);
            }
}
END_TEST

/* mean over every possible window sum: channel k of a [1, H, W, 255 n + 1]
 * input sums to qmin n + k, for n = H W in {1, 4, 49, 64}, u8 and i8,
 * keep_dims true and false; written out here: arith=int, TFLite 2.13+'s
 * integer QuantizedMeanOrSum (the multiplier adapted to 1/n, then
 * MultiplyByQuantizedMultiplier of S - zp_in n), arith=int_div, 2.12's
 * reference_integer_ops::Mean (MultiplyByQuantizedMultiplier, then a
 * division by n rounding half away from zero), arith=trunc (S / n
 * truncated); arith=float against qm_mean_float (2.12's float kernel) */
static void check_mean_domain(int h, int w, int i8, int arith, int keep, float si, int zi, float so, int zo)
{
    static const char *const ariths[] = {"float", "int", "int_div", "trunc"};
    int64_t n = (int64_t)h * w, qmin = i8 ? -128 : 0, ch = 255 * n + 1;
    char src[512], msg[4096], err[256];
    snprintf(src, sizeof src, "network m\nparty c = 0\ninput x : %s[1,%d,%d,%lld] q(%.9g, %d) from c\n"
             "y = mean(x, keep_dims=%s, arith=%s) -> q(%.9g, %d)\noutput y to c\n", i8 ? "i8" : "u8", h, w,
             (long long)ch, (double)si, zi, keep ? "true" : "false", ariths[arith], (double)so, zo);
    th_run r;
    memset(&r, 0, sizeof r);
    ck_assert_msg(th_compile(src, &r.p, msg, sizeof msg) == 0, "%s\n%s", msg, src);
    ck_assert_int_eq(r.p.outputs[0].shape.ndim, keep ? 4 : 2);
    th_random_inputs(&r, 1, 0);
    for (int64_t k = 0; k < ch; k++)
        for (int64_t i = 0; i < n; i++)
            r.in[0][i * ch + k] = qmin + k / n + (i < k % n);
    ck_assert_msg(th_run_clear(&r, err, sizeof err) == 0, "%s", err);
    int32_t m0, m1;
    int shift, s = 0;
    qm_quantize_multiplier((double)si / (double)so, &m0, &shift);
    while (((int64_t)2 << s) <= n)
        s++;
    s = s < 31 + shift ? s : 31 + shift;
    m1 = (int32_t)(((int64_t)m0 << s) / n);
    for (int64_t k = 0; k < ch; k++) {
        int64_t sum = qmin * n + k, a = ref_requant(sum - zi * n, m0, shift);
        a = a > 0 ? (a + n / 2) / n : (a - n / 2) / n;
        int64_t want = arith == 1   ? ref_clamp(ref_requant(sum - zi * n, m1, shift - s) + zo, qmin, qmin + 255)
                       : arith == 2 ? ref_clamp(a + zo, qmin, qmin + 255)
                       : arith == 3 ? sum / n
                                    : qm_mean_float(sum, n, si, so, zi, zo, (int32_t)qmin, (int32_t)qmin + 255);
        ck_assert_msg(r.out[0][k] == want, "n %lld %s arith %d sum %lld: %lld, want %lld", (long long)n,
                      i8 ? "i8" : "u8", arith, (long long)sum, (long long)r.out[0][k], (long long)want);
    }
    th_free(&r);
}

START_TEST(mean_every_sum)
{
    check_mean_domain(1, 1, 1, 1, 0, 0.05f, -3, 0.04f, 5);
    check_mean_domain(2, 2, 0, 1, 1, 0.1f, 10, 0.05f, 3);
    check_mean_domain(7, 7, 1, 1, 0, 0.0235294122f, -128, 0.0224314351f, -128); /* the shared Keras model's */
    check_mean_domain(8, 8, 0, 1, 1, 0.02f, 128, 0.031f, 100);
    check_mean_domain(7, 7, 1, 0, 1, 0.0235294122f, -128, 0.0224314351f, -128);
    check_mean_domain(2, 2, 0, 0, 0, 0.1f, 10, 0.05f, 3);
    check_mean_domain(7, 7, 1, 2, 1, 0.0235294122f, -128, 0.0224314351f, -128);
    check_mean_domain(2, 2, 1, 2, 1, 0.1f, 10, 0.05f, 3);
    check_mean_domain(8, 8, 1, 2, 0, 0.02f, -5, 0.031f, 100);
    check_mean_domain(7, 7, 1, 3, 0, 0.05f, -3, 0.05f, -3);
    check_mean_domain(2, 2, 0, 3, 1, 0.1f, 10, 0.1f, 10);
}
END_TEST

START_TEST(concat_channels_and_rows)
{
    th_run r;
    run_src(&r,
            "network c\nparty p = 0\n"
            "input a : u8[1,2,3,2] q(0.1, 0) from p\ninput b : u8[1,2,3,3] q(0.1, 0) from p\n"
            "input d : u8[1,1,3,5] q(0.1, 0) from p\n"
            "ch = concat(a, b, axis=3)\nrows = concat(ch, d, axis=1)\noutput rows to p\n",
            2);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 5; c++) {
                int64_t want = y == 2 ? r.in[2][x * 5 + c]
                               : c < 2 ? r.in[0][(y * 3 + x) * 2 + c]
                                       : r.in[1][(y * 3 + x) * 3 + c - 2];
                ck_assert_int_eq(r.out[0][(y * 3 + x) * 5 + c], want);
            }
    th_free(&r);
}
END_TEST

START_TEST(pad_with_zero_point_and_reshape)
{
    th_run r;
    run_src(&r,
            "network c\nparty p = 0\ninput a : u8[1,2,2,3] q(0.1, 77) from p\n"
            "b = pad(a, paddings=[[0,0],[1,0],[0,2],[1,1]])\n"
            "f = reshape(b, shape=[3, -1])\noutput f to p\n",
            4);
    ck_assert_int_eq(r.p.outputs[0].shape.dims[0], 3);
    ck_assert_int_eq(r.p.outputs[0].shape.dims[1], 3 * 4 * 5 / 3);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            for (int c = 0; c < 5; c++) {
                int in = y >= 1 && x < 2 && c >= 1 && c < 4;
                int64_t want = in ? r.in[0][((y - 1) * 2 + x) * 3 + c - 1] : 77;
                ck_assert_int_eq(r.out[0][(y * 4 + x) * 5 + c], want);
            }
    th_free(&r);
}
END_TEST

START_TEST(argmax_first_of_ties_any_length)
{
    for (int n = 1; n <= 19; n++) {
        char src[512];
        snprintf(src, sizeof src,
                 "network c\nparty p = 0\ninput v : u8[1,%d] q(0.1, 0) from p\n"
                 "output argmax(v) to p\n",
                 n);
        th_run r;
        memset(&r, 0, sizeof r);
        char msg[1024], err[256];
        ck_assert_msg(th_compile(src, &r.p, msg, sizeof msg) == 0, "%s", msg);
        r.in = calloc(1, sizeof *r.in);
        r.in[0] = calloc((size_t)n, sizeof(int64_t));
        for (int trial = 0; trial < 3; trial++) {
            for (int i = 0; i < n; i++) /* many ties: values 0..3 */
                r.in[0][i] = (i * 7 + trial * 5 + n) % 4 + (trial == 2 ? 252 : 0);
            for (uint32_t o = 0; r.out && o < r.p.noutputs; o++)
                free(r.out[o]);
            free(r.out);
            r.out = NULL;
            ck_assert_msg(th_run_clear(&r, err, sizeof err) == 0, "%s", err);
            int best = 0;
            for (int i = 1; i < n; i++)
                if (r.in[0][i] > r.in[0][best])
                    best = i;
            ck_assert_int_eq(r.out[0][0], best);
        }
        th_free(&r);
    }
}
END_TEST

/* Biases far outside the range saturate at both ends of the clamp. */
START_TEST(requant_saturates_to_dtype_range)
{
    th_run r;
    memset(&r, 0, sizeof r);
    char msg[2048], err[256];
    ck_assert_msg(th_compile("network s\nparty p = 0\n"
                             "input x : u8[1,4] q(0.5, 0) from p\ninput w : u8[4,4] q(0.5, 0) from p\n"
                             "input b : i32[4] q(0.25, 0) from p\n"
                             "y = fully_connected(x, w, b) -> q(0.5, 128)\noutput y to p\n",
                             &r.p, msg, sizeof msg) == 0,
                  "%s", msg);
    r.in = calloc(3, sizeof *r.in);
    r.in[0] = calloc(4, sizeof(int64_t));
    r.in[1] = calloc(16, sizeof(int64_t));
    r.in[2] = calloc(4, sizeof(int64_t));
    int64_t bias[4] = {INT32_MAX, INT32_MIN, 1000, -1000};
    for (int i = 0; i < 4; i++)
        r.in[2][i] = bias[i];
    ck_assert_msg(th_run_clear(&r, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(r.out[0][0], 255);
    ck_assert_int_eq(r.out[0][1], 0);
    ck_assert_int_eq(r.out[0][2], 255);
    ck_assert_int_eq(r.out[0][3], 0);
    th_free(&r);
}
END_TEST

Suite *suite_layers(void)
{
    Suite *s = suite_create("layers");
    TCase *t = tcase_create("clear vs reference");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, conv_u8_valid_relu6);
    tcase_add_test(t, conv_u8_same_stride2_extra_padding_bottom_right);
    tcase_add_test(t, conv_u8_dilation2_same);
    tcase_add_test(t, conv_i8_per_channel_relu);
    tcase_add_test(t, conv_1x1_pointwise);
    tcase_add_test(t, dwconv_u8_stride2_same_relu6);
    tcase_add_test(t, dwconv_i8_multiplier3_per_channel_valid);
    tcase_add_test(t, dwconv_multiplier8_single_channel);
    tcase_add_test(t, fc_u8);
    tcase_add_test(t, fc_i8_batch2);
    tcase_add_test(t, avgpool_u8_valid_full_window);
    tcase_add_test(t, avgpool_i8_same_partial_windows_rounding);
    tcase_add_test(t, avgpool_u8_stride2_relu6);
    tcase_add_test(t, maxpool_u8_same_3x3_stride2);
    tcase_add_test(t, maxpool_i8_valid_2x2);
    tcase_add_test(t, add_u8_different_scales);
    tcase_add_test(t, add_i8_relu);
    tcase_add_test(t, hard_swish_every_code_every_test_range);
    tcase_add_test(t, mean_every_sum);
    tcase_add_test(t, concat_channels_and_rows);
    tcase_add_test(t, pad_with_zero_point_and_reshape);
    tcase_add_test(t, argmax_first_of_ties_any_length);
    tcase_add_test(t, requant_saturates_to_dtype_range);
    suite_add_tcase(s, t);
    return s;
}
