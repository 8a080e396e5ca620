/* Bounds: vm_check_bounds accepts programs whose every bound follows from
 * their inputs' dtype ranges and refuses, by instruction and layer, those
 * resting on a promise (acc_bound=) or past a truncation's 2^62; qnnc
 * --proven-bounds ignores acc_bound= and refuses such layers itself. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "vm/bounds.h"
#include "helpers.h"

#define HEAD "network b\nparty m = 0\nparty c = 1\n"

/* conv (lazy fused requantization), depthwise, add, max and average
 * pooling (padding=same: windows of 4, 6 and 9 values, divided exactly),
 * fully connected and argmax, without acc_bound */
static const char *const small_net =
    HEAD "input x : u8[1,6,6,2] q(0.02, 120) from c\n"
    "input w : u8[3,3,3,2] q(0.01, 130) from m\n"
    "input b : i32[3] q(0.0002, 0) from m\n"
    "input dw : i8[1,3,3,3] q([0.01, 0.02, 0.03], 0, axis=3) from m\n"
    "input db : i32[3] q([0.0005, 0.001, 0.0015], 0, axis=0) from m\n"
    "input fw : u8[4,27] q(0.01, 128) from m\n"
    "input fb : i32[4] q(0.0008, 0) from m\n"
    "c1 = conv2d(x, w, b, stride=2, padding=same, activation=relu6) -> q(0.05, 0)\n"
    "q1 = quantize(c1) -> i8 q(0.05, -128)\n"
    "d1 = depthwise_conv2d(q1, dw, db, padding=same, activation=relu) -> q(0.05, -128)\n"
    "s1 = add(q1, d1) -> q(0.08, -100)\n"
    "m1 = max_pool2d(s1, size=2, stride=1, padding=same)\n"
    "a1 = avg_pool2d(m1, size=3, stride=1, padding=same, activation=relu6)\n"
    "u1 = quantize(a1) -> u8 q(0.08, 28)\n"
    "g = flatten(u1)\n"
    "f = fully_connected(g, fw, fb) -> q(0.1, 100)\n"
    "output argmax(f) to c\n";

static void compile_ok(const char *src, unsigned flags, qbc_program *p)
{
    char msg[4096];
    ck_assert_msg(th_compile_flags(src, flags, p, msg, sizeof msg) == 0, "%s", msg);
}

/* vm_check_bounds's message for src compiled without flags */
static int check(const char *src, char *err, size_t errlen)
{
    qbc_program p;
    compile_ok(src, 0, &p);
    int rc = vm_check_bounds(&p, err, errlen);
    qbc_free(&p);
    if (rc)
        ck_assert_msg(!strncmp(err, "instruction at offset ", 22) && !strchr(err, '\n'), "bad message '%s'", err);
    return rc;
}

static void assert_has(const char *s, const char *part) { ck_assert_msg(strstr(s, part), "'%s' lacks '%s'", s, part); }

/* the source with the text from `from` replaced by `to` */
static char *with(const char *src, const char *from, const char *to)
{
    const char *at = strstr(src, from);
    ck_assert_ptr_nonnull(at);
    char *s = malloc(strlen(src) + strlen(to) + 1);
    sprintf(s, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
    return s;
}

START_TEST(dtype_bounds_pass)
{
    char err[512];
    ck_assert_msg(check(small_net, err, sizeof err) == 0, "%s", err);
    char *fast = with(small_net, "avg_pool2d(m1,", "avg_pool2d(m1, rounding=fast,");
    ck_assert_msg(check(fast, err, sizeof err) == 0, "%s", err);
    free(fast);
}
END_TEST

/* acc_bound=: promises the compiler believes; an owner may input others */
START_TEST(small_acc_bound_is_refused)
{
    char err[512];
    char *src = with(small_net, "activation=relu6) -> q(0.05, 0)", "activation=relu6, acc_bound=300) -> q(0.05, 0)");
    ck_assert_int_eq(check(src, err, sizeof err), -1);
    assert_has(err, "(CONV2D, layer c1): output bound 2^9 is not implied by the inputs' ranges");
    assert_has(err, "acc_bound is a promise; compile with qnnc --proven-bounds");
    free(src);
    /* a bound large enough for the products, not for the bias: the comparisons */
    src = with(small_net, "activation=relu6) -> q(0.05, 0)", "activation=relu6, acc_bound=600000) -> q(0.05, 0)");
    ck_assert_int_eq(check(src, err, sizeof err), -1);
    assert_has(err, "(REQCLAMP, layer c1): bound 2^");
    free(src);
}
END_TEST

/* a LUT's index must be one of its table's codes: hard_swish's on int8
 * passes; the same bytecode told the codes start at 0 is refused */
START_TEST(lut_index_among_codes)
{
    qbc_program p;
    char err[512];
    compile_ok("network h\nparty c = 0\ninput x : i8[1,6] q(0.143888, -47) from c\n"
               "h = hard_swish(x) -> q(0.0976449, -124)\noutput h to c\n",
               0, &p);
    ck_assert_msg(vm_check_bounds(&p, err, sizeof err) == 0, "%s", err);
    uint32_t pc = 0;
    while (pc < p.ncode && qbc_op(p.code[pc]) != OP_LUT)
        pc += 1 + (uint32_t)qbc_nops(p.code[pc]);
    ck_assert_uint_lt(pc, p.ncode);
    ck_assert_uint_eq(p.code[pc + 4], 1);
    p.code[pc + 4] = 0;
    ck_assert_int_eq(vm_check_bounds(&p, err, sizeof err), -1);
    assert_has(err, "(LUT, layer h): a table lookup's index may leave the table's codes [0, 255]");
    qbc_free(&p);
}
END_TEST

START_TEST(proven_bounds_ignores_acc_bound)
{
    char *src = with(small_net, "activation=relu6) -> q(0.05, 0)", "activation=relu6, acc_bound=300) -> q(0.05, 0)");
    qbc_program p, q;
    compile_ok(src, COMPILE_PROVEN_BOUNDS, &p);
    compile_ok(small_net, 0, &q);
    size_t np, nq;
    uint8_t *bp = qbc_write(&p, &np), *bq = qbc_write(&q, &nq);
    ck_assert(np == nq && memcmp(bp, bq, np) == 0);
    free(bp);
    free(bq);
    qbc_free(&p);
    qbc_free(&q);
    free(src);
}
END_TEST

/* A per-channel layer fuses its requantization and clamp only when every
 * channel's bound, scaled by 2^e for a right shift e above the smallest,
 * fits the instruction's: here channel 0 (right shift 24) does not, channel
 * 1 (22) does, and the program, no longer fused, passes --proven-bounds
 * (the Keras MobileNetV2's first convolution is such a layer) */
START_TEST(every_channel_decides_fusion)
{
    static const char *const src = HEAD "input x : i8[1,1,1,1] q(1.0, 0) from c\n"
        "input w : i8[2,1,1,1] q([4.47034836e-08, 1.78813934e-07], 0, axis=0) from m\n"
        "input b : i32[2] q([4.47034836e-08, 1.78813934e-07], 0) from m\n"
        "y = conv2d(x, w, b) -> q(1.0, 100)\n"
        "output y to c\n";
    qbc_program p;
    compile_ok(src, COMPILE_PROVEN_BOUNDS, &p);
    qbc_free(&p);
}
END_TEST

/* A fully connected layer with multiplier 0.97 2^-8: M0 (2^31 + the
 * products) passes 2^62 for an i32 bias near its extremes once there are
 * 4,096 products (2^28), not with 16 (2^20). */
static const char *const wide_fc = HEAD "input x : u8[1,N] q(0.5, 0) from c\n"
                                        "input w : u8[1,N] q(0.0019, 128) from m\n"
                                        "input b : i32[1] q(0.00095, 0) from m\n"
                                        "y = fully_connected(x, w, b) -> q(0.25, 0)\n"
                                        "output y to c\n";

START_TEST(large_bias_is_refused)
{
    char err[512], msg[4096];
    char *narrow = with(wide_fc, "N] q(0.5", "16] q(0.5"), *src = with(narrow, "N] q(0.0019", "16] q(0.0019");
    ck_assert_msg(check(src, err, sizeof err) == 0, "%s", err);
    free(narrow), free(src);
    narrow = with(wide_fc, "N] q(0.5", "65536] q(0.5"), src = with(narrow, "N] q(0.0019", "65536] q(0.0019");
    ck_assert_int_eq(check(src, err, sizeof err), -1);
    assert_has(err, "layer y): truncation needs |m x + offsets| < 2^62 with m = ");
    assert_has(err, "|x| reaches 3212836864 from the inputs' ranges"); /* 2^30 (an int32 input's proven range) + 65536 x 255 x 128 */
    qbc_program p;
    ck_assert_int_ne(th_compile_flags(src, COMPILE_PROVEN_BOUNDS, &p, msg, sizeof msg), 0);
    assert_has(msg, "test.qnn:7:1: error: --proven-bounds: instruction at offset ");
    free(narrow), free(src);
}
END_TEST

/* Exact rounding adds 2^30 + 2^(30 + right) before truncating: with a right
 * shift of 30 that is what passes 2^62, and fast rounding would fit. */
START_TEST(exact_offsets_suggest_fast)
{
    static const char *const src = HEAD "input x : u8[1,64000] q(0.0001, 128) from c\n"
                                        "input w : u8[2,64000] q(0.0001, 128) from m\n"
                                        "input b : i32[2] q(0.00000001, 0) from m\n"
                                        "y = fully_connected(x, w, b) -> q(13.4, 0)\n"
                                        "output y to c\n";
    char err[512];
    ck_assert_int_eq(check(src, err, sizeof err), -1);
    assert_has(err, "(REQUANT, layer y): truncation needs");
    assert_has(err, "(rounding=fast on this layer would fit)");
    char *fast = with(src, "b) ->", "b, rounding=fast) ->");
    ck_assert_msg(check(fast, err, sizeof err) == 0, "%s", err);
    free(fast);
}
END_TEST

START_TEST(secret_params_are_refused)
{
    static const char *const src = HEAD "input x : u8[1,4] q(0.02, 120) from c\n"
                                        "input w : i32[2,4] from m\n"
                                        "input p : i32[12] from m\n"
                                        "y = fully_connected(x, w, secret=p, shift=38, bits=20) -> u8\n"
                                        "output argmax(y) to c\n";
    char err[512], msg[4096];
    ck_assert_int_eq(check(src, err, sizeof err), -1);
    qbc_program p;
    ck_assert_int_ne(th_compile_flags(src, COMPILE_PROVEN_BOUNDS, &p, msg, sizeof msg), 0);
    assert_has(msg, "test.qnn:7:");
    assert_has(msg, "secret= under --proven-bounds");
}
END_TEST

/* Any program the loader accepts is checked without a crash: every byte of
 * a compiled program's code changed in turn. */
START_TEST(any_loaded_program_is_checked)
{
    qbc_program p;
    compile_ok(small_net, 0, &p);
    size_t n;
    uint8_t *b = qbc_write(&p, &n);
    size_t code = n - (size_t)p.ncode * 4;
    qbc_free(&p);
    char err[512];
    int refused = 0;
    for (size_t k = code; k < n; k++) {
        b[k] ^= 0x05;
        if (qbc_load(b, n, &p, err, sizeof err) == 0) {
            refused += vm_check_bounds(&p, err, sizeof err) != 0;
            qbc_free(&p);
        }
        b[k] ^= 0x05;
    }
    ck_assert_int_gt(refused, 0);
    free(b);
}
END_TEST

/* vm_check_fit (the prime field's): the promises (acc_bound=) are not
 * checked, a value that would wrap in Z_2^64 is refused by layer */
static int fit(const char *src, char *err, size_t errlen, uint32_t *layer)
{
    qbc_program p;
    compile_ok(src, 0, &p);
    int rc = vm_check_fit(&p, 63, layer, err, errlen);
    qbc_free(&p);
    if (rc)
        ck_assert_msg(!strncmp(err, "instruction at offset ", 22) && !strchr(err, '\n'), "bad message '%s'", err);
    return rc;
}

START_TEST(fit_ignores_promises_and_refuses_wraps)
{
    char err[512];
    uint32_t layer = 99;
    ck_assert_msg(fit(small_net, err, sizeof err, &layer) == 0, "%s", err);
    char *src = with(small_net, "activation=relu6) -> q(0.05, 0)", "activation=relu6, acc_bound=300) -> q(0.05, 0)");
    ck_assert_msg(fit(src, err, sizeof err, &layer) == 0, "%s", err); /* a promise, refused by vm_check_bounds */
    free(src);
    /* a secret i32 multiplier times the accumulators passes 2^63 */
    static const char *const secret = HEAD "input x : u8[1,4] q(0.02, 120) from c\n"
                                           "input w : i32[2,4] from m\n"
                                           "input p : i32[12] from m\n"
                                           "y = fully_connected(x, w, secret=p, shift=38, bits=20) -> u8\n"
                                           "output argmax(y) to c\n";
    ck_assert_int_eq(fit(secret, err, sizeof err, &layer), -1);
    assert_has(err, "layer y): a value leaves (-2^63, 2^63) for inputs in their dtype ranges");
    ck_assert_uint_eq(layer, 0);
    /* the truncation's limit is 2^63 here, the ring's masked opening's 2^62 there */
    char *narrow = with(wide_fc, "N] q(0.5", "65536] q(0.5"), *fc = with(narrow, "N] q(0.0019", "65536] q(0.0019");
    ck_assert_int_eq(check(fc, err, sizeof err), -1);
    assert_has(err, "truncation needs |m x + offsets| < 2^62");
    ck_assert_msg(fit(fc, err, sizeof err, &layer) == 0, "%s", err);
    free(narrow), free(fc);
    qbc_program p;
    compile_ok(small_net, 0, &p);
    ck_assert_int_eq(vm_check_fit(&p, 0, NULL, err, sizeof err), -1); /* bits outside 1..63 */
    ck_assert_int_eq(vm_check_fit(&p, 64, NULL, err, sizeof err), -1);
    qbc_free(&p);
}
END_TEST

/* qnnc --field: the layer whose values could wrap is named at its
 * statement; secret= is refused where it is written */
START_TEST(field_flag_refuses_at_the_layer)
{
    char msg[4096];
    qbc_program p;
    ck_assert_int_eq(th_compile_flags(small_net, COMPILE_FIELD, &p, msg, sizeof msg), 0);
    qbc_free(&p);
    char *narrow = with(wide_fc, "N] q(0.5", "262144] q(0.5"), *fc = with(narrow, "N] q(0.0019", "262144] q(0.0019");
    ck_assert_int_eq(th_compile_flags(fc, 0, &p, msg, sizeof msg), 0);
    qbc_free(&p);
    ck_assert_int_ne(th_compile_flags(fc, COMPILE_FIELD, &p, msg, sizeof msg), 0);
    assert_has(msg, "test.qnn:7:1: error: --field: instruction at offset ");
    assert_has(msg, "layer y): truncation needs |m x + offsets| < 2^63");
    free(narrow), free(fc);
    static const char *const secret = HEAD "input x : u8[1,4] q(0.02, 120) from c\n"
                                           "input w : i32[2,4] from m\n"
                                           "input p : i32[12] from m\n"
                                           "y = fully_connected(x, w, secret=p, shift=38, bits=20) -> u8\n"
                                           "output argmax(y) to c\n";
    ck_assert_int_ne(th_compile_flags(secret, COMPILE_FIELD, &p, msg, sizeof msg), 0);
    assert_has(msg, "test.qnn:7:");
    assert_has(msg, "secret= under --field");
}
END_TEST

Suite *suite_bounds(void)
{
    Suite *s = suite_create("bounds");
    TCase *t = tcase_create("check");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, dtype_bounds_pass);
    tcase_add_test(t, small_acc_bound_is_refused);
    tcase_add_test(t, lut_index_among_codes);
    tcase_add_test(t, proven_bounds_ignores_acc_bound);
    tcase_add_test(t, large_bias_is_refused);
    tcase_add_test(t, every_channel_decides_fusion);
    tcase_add_test(t, exact_offsets_suggest_fast);
    tcase_add_test(t, secret_params_are_refused);
    tcase_add_test(t, any_loaded_program_is_checked);
    tcase_add_test(t, fit_ignores_promises_and_refuses_wraps);
    tcase_add_test(t, field_flag_refuses_at_the_layer);
    suite_add_tcase(s, t);
    return s;
}
