/* TFLite import: robustness against truncated and corrupted models, and
 * clear errors for what is not supported. Needs the reference models. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "compiler/tflite/flatbuf.h"
#include "compiler/tflite/tflite.h"
#include "runtime/io/tensorio.h"

/* name.tflite from ../shared/models (QNN_MODELS), or from a folder beside it */
static uint8_t *load_model(const char *name, size_t *len)
{
    const char *dir = getenv("QNN_MODELS");
    if (!dir) {
        const char *ci = getenv("CI");
        ck_assert_msg(!ci || strcmp(ci, "true") != 0, "CI: reference models missing");
        fprintf(stderr, "skip: QNN_MODELS not set (reference models expected in ../shared/models)\n");
        return NULL;
    }
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    uint8_t *b = tio_slurp(path, 1 << 26, len, err, sizeof err);
    ck_assert_msg(b != NULL, "%s", err);
    return b;
}

/* Imports buf; when that succeeds the program must compile. Returns 0/-1. */
static int import_and_compile(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    tfl_result r;
    if (tfl_import(buf, len, "m", TFL_OUT_MODEL, 0, &r, err, errlen) != 0) {
        ck_assert_msg(strlen(err) > 0 && !strchr(err, '\n'), "bad message '%s'", err);
        return -1;
    }
    FILE *devnull = fopen("/dev/null", "w");
    qbc_program p;
    int n = compile_source("m.qnn", r.qnn, strlen(r.qnn), 0, &p, devnull);
    fclose(devnull);
    if (n == 0)
        qbc_free(&p);
    tfl_free(&r);
    return n ? -1 : 0;
}

START_TEST(every_prefix_fails_cleanly)
{
    size_t len;
    uint8_t *b = load_model("micro_speech_quantized", &len);
    if (!b)
        return;
    char err[512];
    ck_assert_msg(import_and_compile(b, len, err, sizeof err) == 0, "%s", err);
    for (size_t k = 0; k < len; k++) {
        uint8_t *c = malloc(k + 1); /* exact size, so reads past k are caught */
        memcpy(c, b, k);
        ck_assert_msg(import_and_compile(c, k, err, sizeof err) != 0, "prefix %zu imported", k);
        free(c);
    }
    free(b);
}
END_TEST

START_TEST(random_byte_flips_never_crash)
{
    size_t len;
    uint8_t *b = load_model("micro_speech_quantized", &len);
    if (!b)
        return;
    uint32_t s = 2024;
    int failed = 0;
    for (int trial = 0; trial < 4000; trial++) {
        uint8_t *c = malloc(len);
        memcpy(c, b, len);
        for (int f = 0; f < 1 + trial % 3; f++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            /* half the flips hit the first 2 KiB: tables and vtables live there */
            size_t pos = (trial & 1) ? s % len : s % (len < 2048 ? len : 2048);
            c[pos] ^= (uint8_t)(1u << (s >> 29));
        }
        char err[512];
        failed += import_and_compile(c, len, err, sizeof err) != 0;
        free(c);
    }
    ck_assert_int_gt(failed, 0);
    free(b);
}
END_TEST

/* the model's first subgraph (a table) */
static uint32_t first_subgraph(flatbuf *fb)
{
    uint32_t n, subs = fb_vector(fb, fb_root(fb), 2, 4, &n);
    return fb_vec_table(fb, subs, 0);
}

/* Opcode table entry `entry` becomes builtin `code` (< 128: both the
 * deprecated byte and the int32 field), for every operator that uses it. */
static void set_opcode(uint8_t *b, size_t len, uint32_t entry, uint8_t code)
{
    flatbuf fb;
    fb_init(&fb, b, len);
    uint32_t n, codes = fb_vector(&fb, fb_root(&fb), 1, 4, &n);
    uint32_t oc = fb_vec_table(&fb, codes, entry);
    uint32_t dep = fb_field_pos(&fb, oc, 0, 1), pos = fb_field_pos(&fb, oc, 3, 4);
    ck_assert(!fb.failed && (dep || pos));
    if (dep)
        b[dep] = code;
    if (pos)
        b[pos] = code, b[pos + 1] = b[pos + 2] = b[pos + 3] = 0;
}

START_TEST(unsupported_operator_is_named)
{
    size_t len;
    uint8_t *b = load_model("micro_speech_quantized", &len);
    if (!b)
        return;
    /* the opcode of the model's first operator (its only user) becomes RESIZE_NEAREST_NEIGHBOR */
    flatbuf fb;
    fb_init(&fb, b, len);
    uint32_t n, ops = fb_vector(&fb, first_subgraph(&fb), 3, 4, &n);
    set_opcode(b, len, (uint32_t)fb_uint(&fb, fb_vec_table(&fb, ops, 0), 0, 4, 0), 97);
    tfl_result r;
    char err[512];
    ck_assert(tfl_import(b, len, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) != 0);
    ck_assert_str_eq(err, "unsupported operators: RESIZE_NEAREST_NEIGHBOR at operator 0 (upsampling)");
    free(b);
}
END_TEST

/* The program imported from buf, compiled and serialized (allocated), or NULL */
static uint8_t *imported_bytecode(const uint8_t *buf, size_t len, size_t *n)
{
    tfl_result r;
    char err[512];
    ck_assert_msg(tfl_import(buf, len, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) == 0, "%s", err);
    FILE *devnull = fopen("/dev/null", "w");
    qbc_program p;
    ck_assert(compile_source("m.qnn", r.qnn, strlen(r.qnn), 0, &p, devnull) == 0);
    fclose(devnull);
    uint8_t *out = qbc_write(&p, n);
    qbc_free(&p);
    tfl_free(&r);
    return out;
}

/* SQUEEZE and EXPAND_DIMS change only the shape, as RESHAPE does: a
 * model's RESHAPE (MobileNet V1's SpatialSqueeze) under either code gives
 * the same bytecode */
START_TEST(squeeze_and_expand_dims_reshape)
{
    size_t len, n0, n1;
    uint8_t *b = load_model("mobilenet_v1_0.25_128_quant", &len);
    if (!b)
        return;
    flatbuf fb;
    fb_init(&fb, b, len);
    uint32_t nc, codes = fb_vector(&fb, fb_root(&fb), 1, 4, &nc), entry = nc;
    for (uint32_t k = 0; k < nc && entry == nc; k++) {
        uint32_t oc = fb_vec_table(&fb, codes, k);
        if (fb_int(&fb, oc, 0, 1, 0) == 22 || fb_int(&fb, oc, 3, 4, 0) == 22)
            entry = k;
    }
    ck_assert_uint_lt(entry, nc);
    uint8_t *want = imported_bytecode(b, len, &n0);
    for (int i = 0; i < 2; i++) {
        set_opcode(b, len, entry, i ? 70 : 43);
        uint8_t *got = imported_bytecode(b, len, &n1);
        ck_assert(n0 == n1 && memcmp(want, got, n0) == 0);
        free(got);
    }
    free(want);
    free(b);
}
END_TEST

/* A Keras export (../shared/models-keras beside the models) imports (its
 * MEAN, the SOFTMAX then QUANTIZE to uint8 at its end, with --output
 * logits); with the operators of opcode entries 0 and 1 turned into
 * SUB and RESIZE_BILINEAR, both kinds are listed at once, in one line. */
START_TEST(every_unsupported_operator_is_named)
{
    const char *dir = getenv("QNN_MODELS");
    size_t len;
    uint8_t *b = load_model("../models-keras/keras_mobilenet_v2_int8_uint8io", &len);
    if (!b)
        return;
    tfl_result r;
    char err[512];
    ck_assert_msg(tfl_import(b, len, "m", TFL_OUT_LOGITS, 0, &r, err, sizeof err) == 0, "%s (models in %s)", err, dir);
    ck_assert(strstr(r.qnn, " = mean(") != NULL);
    tfl_free(&r);
    ck_assert(tfl_import(b, len, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "SOFTMAX is followed by a QUANTIZE to u8") && strstr(err, "--output logits"), "%s", err);
    set_opcode(b, len, 0, 41);
    set_opcode(b, len, 1, 23);
    ck_assert(tfl_import(b, len, "m", TFL_OUT_LOGITS, 0, &r, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "unsupported operators: ") && strstr(err, "SUB at operator") &&
                      strstr(err, " (an elementwise difference)") && strstr(err, "RESIZE_BILINEAR at operator") &&
                      strchr(err, ';'), "%s", err);
    ck_assert_msg(!strchr(err, '\n'), "one line: %s", err);
    free(b);
}
END_TEST

/* A model with float edges (tests/fuzz/mktflite.py float_edges: a float32
 * input quantized at once, a DEQUANTIZE to a float32 output): the
 * QUANTIZE's output is the client's input, and the output is dequantized
 * by the receiver, or revealed as codes (--output logits) or its argmax */
START_TEST(float_edges_are_the_clients)
{
    char err[512];
    size_t len;
    uint8_t *b = tio_slurp("tests/fuzz/seeds/tflite/float_edges.tflite", 1 << 20, &len, err, sizeof err);
    ck_assert_msg(b != NULL, "%s", err);
    static const enum tfl_output modes[3] = {TFL_OUT_MODEL, TFL_OUT_LOGITS, TFL_OUT_ARGMAX};
    static const char *const want[3] = {"output dequantize(m) to client", "output m to client",
                                        "output argmax(m) to client"};
    for (int k = 0; k < 3; k++) {
        tfl_result r;
        ck_assert_msg(tfl_import(b, len, "m", modes[k], 0, &r, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(strstr(r.qnn, "input x : i8[1,2,2,3] q(0.5, -1) from client") && strstr(r.qnn, want[k]) &&
                          !strstr(r.qnn, "= quantize("), "%s", r.qnn);
        tfl_free(&r);
    }
    ck_assert_int_eq(import_and_compile(b, len, err, sizeof err), 0);
    free(b);
}
END_TEST

/* MEAN's kernel follows the TFLite version (tests/fuzz/mktflite.py means:
 * int8, keep_dims=true, and keep_dims=false to the input's quantization):
 * 2.12 and before (the default) took reference_integer_ops::Mean and a
 * truncating division there, 2.13 and later the integer QuantizedMeanOrSum
 * but, for keep_dims, optimized_integer_ops::Mean in the default resolver */
START_TEST(mean_kernel_by_version)
{
    char err[512];
    size_t len;
    uint8_t *b = tio_slurp("tests/fuzz/seeds/tflite/means.tflite", 1 << 20, &len, err, sizeof err);
    ck_assert_msg(b != NULL, "%s", err);
    tfl_result r;
    ck_assert_msg(tfl_import(b, len, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(strstr(r.qnn, "kept = mean(x, keep_dims=true, arith=int_div)") &&
                      strstr(r.qnn, "same = mean(x, arith=trunc)"), "%s", r.qnn);
    tfl_free(&r);
    ck_assert_msg(tfl_import(b, len, "m", TFL_OUT_MODEL, TFL_MEAN_INT, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(strstr(r.qnn, "kept = mean(x, keep_dims=true, arith=opt)") &&
                      strstr(r.qnn, "same = mean(x, arith=int)"), "%s", r.qnn);
    tfl_free(&r);
    ck_assert_msg(tfl_import(b, len, "m", TFL_OUT_MODEL, TFL_MEAN_INT | TFL_MEAN_REF, &r, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_msg(strstr(r.qnn, "kept = mean(x, keep_dims=true, arith=int)") &&
                      strstr(r.qnn, "same = mean(x, arith=int)"), "%s", r.qnn);
    tfl_free(&r);
    ck_assert_int_eq(import_and_compile(b, len, err, sizeof err), 0);
    free(b);
}
END_TEST

/* The offset of the first operator's bias data in model b (its operator
 * in *op), with fb opened on b. */
static uint32_t first_bias(flatbuf *fb, uint8_t *b, size_t len, uint32_t *op)
{
    fb_init(fb, b, len);
    uint32_t n, sub = first_subgraph(fb);
    uint32_t ops = fb_vector(fb, sub, 3, 4, &n), tensors = fb_vector(fb, sub, 0, 4, &n);
    uint32_t bufs = fb_vector(fb, fb_root(fb), 4, 4, &n), at = 0;
    for (*op = 0; *op < 4 && !at; ++*op) {
        uint32_t in = fb_vector(fb, fb_vec_table(fb, ops, *op), 1, 4, &n);
        if (n < 3)
            continue;
        uint32_t t = fb_vec_table(fb, tensors, fb_u32_at(fb, in + 8));
        at = fb_vector(fb, fb_vec_table(fb, bufs, (uint32_t)fb_uint(fb, t, 2, 4, 0)), 0, 1, &n);
    }
    ck_assert(!fb->failed && at && n >= 4);
    --*op;
    return at;
}

static void put_i32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> 8 * k);
}

/* how many i32 weights equal v */
static int count_i32(const tfl_result *r, int64_t v)
{
    int c = 0;
    for (int k = 0; k < r->nweights; k++) {
        const tio_tensor *w = &r->weights[k];
        for (uint64_t e = 0; w->dtype == DT_I32 && e < tshape_elems(&w->shape, TIO_MAX_ELEMS); e++)
            c += w->data[e] == v;
    }
    return c;
}

/* A bias of +2^30 (TFLite's converter saturates a dead channel's there)
 * whose channel outputs one byte for every input becomes 2^30 - 1, inside
 * the proven-bounds protocols' int32 range; a bias past 2^30 stays. */
START_TEST(saturated_bias_fits_proven_range)
{
    size_t len;
    uint8_t *b = load_model("micro_speech_quantized", &len);
    if (!b)
        return;
    flatbuf fb;
    uint32_t op, at = first_bias(&fb, b, len, &op);
    tfl_result r;
    char err[512];
    const int64_t top = (int64_t)1 << 30;
    put_i32(b + at, (uint32_t)top); /* far past the clamp: the channel is constant */
    ck_assert_msg(tfl_import(b, len, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(count_i32(&r, top), 0);
    ck_assert_int_eq(count_i32(&r, top - 1), 1);
    tfl_free(&r);
    put_i32(b + at, (uint32_t)top + 1);
    ck_assert_msg(tfl_import(b, len, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(count_i32(&r, top + 1), 1);
    tfl_free(&r);
    free(b);
}
END_TEST

/* An accumulator that exact rounding cannot take (|acc M0 2^left| near
 * 2^62) is refused by layer and channel, and imports with --rounding fast:
 * micro_speech's first convolution gets bias INT32_MIN in channel 0 and an
 * output scale 2^-12 of its own (a multiplier past 1: a left shift). */
START_TEST(accumulator_past_exact_is_named)
{
    size_t len;
    uint8_t *b = load_model("micro_speech_quantized", &len);
    if (!b)
        return;
    flatbuf fb;
    uint32_t n, op, at = first_bias(&fb, b, len, &op);
    uint32_t sub = first_subgraph(&fb);
    uint32_t ops = fb_vector(&fb, sub, 3, 4, &n), tensors = fb_vector(&fb, sub, 0, 4, &n);
    b[at] = b[at + 1] = b[at + 2] = 0, b[at + 3] = 0x80;
    uint32_t out = fb_vector(&fb, fb_vec_table(&fb, ops, op), 2, 4, &n);
    uint32_t yq = fb_table(&fb, fb_vec_table(&fb, tensors, fb_u32_at(&fb, out)), 4);
    uint32_t sc = fb_vector(&fb, yq, 2, 4, &n);
    ck_assert(!fb.failed && sc && n >= 1);
    float f;
    memcpy(&f, b + sc, 4);
    f /= 4096;
    memcpy(b + sc, &f, 4);
    tfl_result r;
    char err[512], want[64];
    snprintf(want, sizeof want, "operator %u (", op);
    ck_assert(tfl_import(b, len, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) != 0);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0 && strstr(err, "output channel 0: accumulators reach") &&
                      strstr(err, "bias -2147483648") && strstr(err, "--rounding fast"), "%s", err);
    ck_assert_msg(tfl_import(b, len, "m", TFL_OUT_MODEL, TFL_FAST, &r, err, sizeof err) == 0, "%s", err);
    tfl_free(&r);
    free(b);
}
END_TEST

START_TEST(not_a_model)
{
    tfl_result r;
    char err[512];
    const uint8_t junk[16] = "0123456789abcdef";
    ck_assert(tfl_import(junk, sizeof junk, "m", TFL_OUT_MODEL, 0, &r, err, sizeof err) != 0);
    ck_assert_str_eq(err, "not a TensorFlow Lite model (no TFL3 identifier)");
}
END_TEST

Suite *suite_import(void)
{
    Suite *s = suite_create("import");
    TCase *t = tcase_create("tflite");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, every_prefix_fails_cleanly);
    tcase_add_test(t, random_byte_flips_never_crash);
    tcase_add_test(t, unsupported_operator_is_named);
    tcase_add_test(t, every_unsupported_operator_is_named);
    tcase_add_test(t, float_edges_are_the_clients);
    tcase_add_test(t, mean_kernel_by_version);
    tcase_add_test(t, squeeze_and_expand_dims_reshape);
    tcase_add_test(t, accumulator_past_exact_is_named);
    tcase_add_test(t, saturated_bias_fits_proven_range);
    tcase_add_test(t, not_a_model);
    suite_add_tcase(s, t);
    return s;
}
