/* Limits and hostile files: what the fuzzers (tests/fuzz) found, each
 * checked where it was fixed: the memory cap (QNN_MAX_MEMORY) of the
 * loaders, the validator's cost on huge windows, softmax parameters and
 * logits at the ends of their ranges, BMP header extremes. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/io/image.h"
#include "runtime/core/qmath.h"
#include "runtime/io/tensorio.h"
#include "vm/bytecode.h"
#include "helpers.h"

static char *party_names[] = {"p"};

/* A program of one party and nothing else, to add fields to. */
static qbc_program empty_program(void)
{
    qbc_program p;
    memset(&p, 0, sizeof p);
    p.ring_bits = 64;
    p.nparties = 1;
    p.party_names = party_names;
    return p;
}

/* Serializes p and loads it back; returns qbc_load's result, message in err. */
static int reload(const qbc_program *p, char *err, size_t errlen)
{
    size_t n;
    uint8_t *b = qbc_write(p, &n);
    ck_assert_ptr_nonnull(b);
    qbc_program q;
    int rc = qbc_load(b, n, &q, err, errlen);
    if (rc == 0)
        qbc_free(&q);
    free(b);
    return rc;
}

START_TEST(bytecode_over_the_memory_cap_is_refused)
{
    qbc_program p = empty_program();
    qbc_output o = {"y", 0, DT_U8, OUT_RAW, {2, {1 << 14, 1 << 10}}, 1.0f, 0, 0, 0, 0};
    p.noutputs = 1; /* 2^24 elements, 256 MB as a run keeps it twice */
    p.outputs = &o;
    char err[512];
    setenv("QNN_MAX_MEMORY", "64M", 1);
    ck_assert_int_ne(reload(&p, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "offset ") && strstr(err, "QNN_MAX_MEMORY") && !strchr(err, '\n'),
                  "%s", err);
    setenv("QNN_MAX_MEMORY", "1G", 1);
    ck_assert_msg(reload(&p, err, sizeof err) == 0, "%s", err);
    unsetenv("QNN_MAX_MEMORY");
}
END_TEST

START_TEST(memory_cap_parsing)
{
    setenv("QNN_MAX_MEMORY", "3k", 1);
    ck_assert_uint_eq(tio_mem_cap(), 3072);
    setenv("QNN_MAX_MEMORY", "12345", 1);
    ck_assert_uint_eq(tio_mem_cap(), 12345);
    setenv("QNN_MAX_MEMORY", "2G", 1);
    ck_assert_uint_eq(tio_mem_cap(), (uint64_t)2 << 30);
    setenv("QNN_MAX_MEMORY", "lots", 1); /* a typo keeps the default */
    ck_assert_uint_eq(tio_mem_cap(), TIO_DEFAULT_MEM_CAP);
    setenv("QNN_MAX_MEMORY", "99999999999999999999G", 1);
    ck_assert_uint_eq(tio_mem_cap(), TIO_DEFAULT_MEM_CAP);
    unsetenv("QNN_MAX_MEMORY");
    ck_assert_uint_eq(tio_mem_cap(), TIO_DEFAULT_MEM_CAP);
}
END_TEST

START_TEST(positive_softmax_diff_min_is_refused)
{
    qbc_program p = empty_program();
    qbc_output o = {"y", 0, DT_U8, OUT_SOFTMAX, {2, {1, 3}}, 1.0f, 0, 1 << 30, 0, 5};
    p.noutputs = 1;
    p.outputs = &o;
    char err[512];
    ck_assert_int_ne(reload(&p, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "diff_min"), "%s", err);
    o.sm_diff_min = -5;
    ck_assert_msg(reload(&p, err, sizeof err) == 0, "%s", err);
}
END_TEST

/* Logits at both ends of int32: their difference overflows 32 bits. */
START_TEST(softmax_of_extreme_logits)
{
    qm_softmax_params sp;
    qm_softmax_prepare(1.0, 0.1, &sp);
    int32_t in[3] = {INT32_MIN, INT32_MAX, INT32_MAX - 1}, out[3];
    qm_softmax(&sp, in, out, 3, 0);
    ck_assert_int_eq(out[0], 0);
    ck_assert_int_ge(out[1], out[2]);
    ck_assert_int_le(out[1], 255);
    /* relu6's bound under a denormal scale: saturates, no float overflow */
    ck_assert_int_eq(qm_quantize_float(6.0f, 1e-40f, 5), INT32_MAX);
    ck_assert_int_eq(qm_quantize_float(-6.0f, 1e-40f, -5), INT32_MIN);
}
END_TEST

/* A WINDOW whose 2^27 taps reach the input only at the last one: the
 * validator's check that no window lies in the padding used to walk the
 * taps of every output (2^53 steps). */
START_TEST(huge_window_validates_quickly)
{
    qbc_program p = empty_program();
    uint32_t k = 1u << 27, slen[2] = {k, 1};
    p.nsregs = 2;
    p.slen = slen;
    /* WINDOW out in | H W C KH KW OH OW SH SW PT PL DH DW | tap */
    uint32_t code[] = {qbc_encode(OP_WINDOW, 16), 0, 1, 1, 1, 1, k, 1, k, 1, 1, 1, k - 1, 0, 1, 1, 0};
    p.ncode = sizeof code / sizeof code[0];
    p.code = code;
    char err[512];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_msg(reload(&p, err, sizeof err) == 0, "%s", err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_double_lt((double)(t1.tv_sec - t0.tv_sec), 20.0);
}
END_TEST

START_TEST(bmp_height_int32_min_is_refused)
{
    uint8_t b[64] = {'B', 'M'};
    b[10] = 54;                            /* pixel data offset */
    b[14] = 40;                            /* header size */
    b[18] = 1;                             /* width 1 */
    b[22] = 0, b[25] = 0x80;               /* height INT32_MIN: top-down, 2^31 rows */
    b[28] = 24;                            /* bits per pixel */
    image im;
    char err[512];
    ck_assert_int_ne(img_parse("x.bmp", b, sizeof b, 0, 0, 0, &im, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "x.bmp") && !strchr(err, '\n'), "%s", err);
}
END_TEST

START_TEST(qw_over_the_memory_cap_is_refused)
{
    size_t n = 1 << 20, len = 12 + 1 + 1 + 2 + 4 + n;
    uint8_t *b = calloc(len, 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "QNNW\1\0\0\0\1\0\0\0", 12);
    uint8_t *t = b + 12;
    t[0] = 1, t[1] = 'w', t[2] = DT_U8, t[3] = 1; /* w : u8[2^20] */
    t[4] = 0, t[5] = 0, t[6] = 0x10, t[7] = 0;
    tio_tensor *out;
    int count;
    char err[512];
    setenv("QNN_MAX_MEMORY", "4M", 1); /* 2^20 elements are 8 MB in memory */
    ck_assert_int_ne(tio_parse_qw("w.qw", b, len, &out, &count, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "w.qw: offset ") && strstr(err, "QNN_MAX_MEMORY"), "%s", err);
    setenv("QNN_MAX_MEMORY", "16M", 1);
    ck_assert_msg(tio_parse_qw("w.qw", b, len, &out, &count, err, sizeof err) == 0, "%s", err);
    tio_free(out, count);
    unsetenv("QNN_MAX_MEMORY");
    free(b);
}
END_TEST

/* Layers that failed to lower, or reached their own name, used to be
 * read as defined tensors without a quantization (a NULL scale). */
START_TEST(undefined_layers_are_errors_not_crashes)
{
    static const char *const src[] = {
        "network n\nparty p = 0\ninput x : u8[1,4] q(0.5, 128) from p\n"
        "h = quantise(x) -> i8 q(0.25, 10)\noutput h to p\noutput softmax(h) to p\n",
        "network n\nparty p = 0\ninput x : i8[1,2] q(1.0, 0) from p\n"
        "r = flatten(r)\ns = reshape(r, shape=[2])\noutput r to p\n"};
    const char *want[] = {"must be one of", "'r' is used in its own definition"};
    for (int i = 0; i < 2; i++) {
        qbc_program p;
        char msgs[4096];
        ck_assert_int_gt(th_compile(src[i], &p, msgs, sizeof msgs), 0);
        ck_assert_msg(strstr(msgs, want[i]), "%s", msgs);
    }
}
END_TEST

Suite *suite_limits(void)
{
    Suite *s = suite_create("limits");
    TCase *t = tcase_create("hostile files");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, bytecode_over_the_memory_cap_is_refused);
    tcase_add_test(t, memory_cap_parsing);
    tcase_add_test(t, positive_softmax_diff_min_is_refused);
    tcase_add_test(t, softmax_of_extreme_logits);
    tcase_add_test(t, huge_window_validates_quickly);
    tcase_add_test(t, bmp_height_int32_min_is_refused);
    tcase_add_test(t, qw_over_the_memory_cap_is_refused);
    tcase_add_test(t, undefined_layers_are_errors_not_crashes);
    suite_add_tcase(s, t);
    return s;
}
