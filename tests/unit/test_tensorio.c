/* Tensor files: .qw round trip and validation, .npy and raw .bin inputs. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/io/tensorio.h"

static char dir[256];

static void setup(void)
{
    strcpy(dir, "/tmp/qnn-tio-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void put_file(const char *name, const void *data, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static const char *path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

START_TEST(qw_round_trip)
{
    int64_t a[6] = {0, 255, 7, 8, 9, 10}, b[3] = {INT32_MIN, -1, INT32_MAX}, c[2] = {-128, 127};
    tio_tensor t[3] = {{"alpha", DT_U8, {2, {2, 3}}, a},
                       {"beta", DT_I32, {1, {3}}, b},
                       {"gamma", DT_I8, {1, {2}}, c}};
    char err[512];
    ck_assert_int_eq(tio_write_qw(path("x.qw"), t, 3, err, sizeof err), 0);
    tio_tensor *r;
    int n;
    ck_assert_msg(tio_read_qw(path("x.qw"), &r, &n, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(r[i].name, t[i].name);
        ck_assert_int_eq(r[i].dtype, t[i].dtype);
        ck_assert_int_eq(r[i].shape.ndim, t[i].shape.ndim);
        uint64_t ne = tshape_elems(&t[i].shape, 100);
        for (uint64_t k = 0; k < ne; k++)
            ck_assert_int_eq(r[i].data[k], t[i].data[k]);
    }
    tio_free(r, n);
}
END_TEST

START_TEST(qw_truncated_prefixes_rejected)
{
    int64_t a[4] = {1, 2, 3, 4};
    tio_tensor t = {"w", DT_I32, {2, {2, 2}}, a};
    char err[512];
    ck_assert_int_eq(tio_write_qw(path("w.qw"), &t, 1, err, sizeof err), 0);
    size_t len;
    uint8_t *b = tio_slurp(path("w.qw"), 1 << 20, &len, err, sizeof err);
    for (size_t k = 0; k < len; k++) {
        put_file("p.qw", b, k);
        tio_tensor *r;
        int n;
        ck_assert_msg(tio_read_qw(path("p.qw"), &r, &n, err, sizeof err) != 0, "prefix %zu", k);
        ck_assert(strstr(err, "p.qw") != NULL);
    }
    b[12 + 1 + 1] = 7; /* dtype */
    put_file("d.qw", b, len);
    tio_tensor *r;
    int n;
    ck_assert(tio_read_qw(path("d.qw"), &r, &n, err, sizeof err) != 0);
    ck_assert(strstr(err, "bad dtype") != NULL);
    free(b);
}
END_TEST

START_TEST(raw_bin_size_checked)
{
    uint8_t d[5] = {1, 2, 3, 250, 128};
    put_file("in.bin", d, 5);
    int64_t v[5];
    char err[512];
    ck_assert_int_eq(tio_read_values(path("in.bin"), DT_U8, 5, v, err, sizeof err), 0);
    ck_assert_int_eq(v[3], 250);
    ck_assert_int_eq(tio_read_values(path("in.bin"), DT_I8, 5, v, err, sizeof err), 0);
    ck_assert_int_eq(v[4], -128);
    ck_assert(tio_read_values(path("in.bin"), DT_U8, 4, v, err, sizeof err) != 0);
    ck_assert(strstr(err, "5 bytes, the input needs 4") != NULL);
}
END_TEST

static void npy(const char *name, const char *descr, const char *shape, const void *data, size_t n)
{
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr, shape);
    uint8_t buf[512];
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    int pad = 64 - (10 + hl + 1) % 64;
    int total = hl + pad + 1;
    buf[8] = (uint8_t)total;
    buf[9] = 0;
    memcpy(buf + 10, hdr, (size_t)hl);
    memset(buf + 10 + hl, ' ', (size_t)pad);
    buf[10 + total - 1] = '\n';
    memcpy(buf + 10 + total, data, n);
    put_file(name, buf, 10 + (size_t)total + n);
}

START_TEST(npy_inputs)
{
    int32_t i4[3] = {-7, 0, 100000};
    npy("a.npy", "<i4", "(1, 3)", i4, sizeof i4);
    int64_t v[4];
    char err[512];
    ck_assert_msg(tio_read_values(path("a.npy"), DT_I32, 3, v, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(v[0], -7);
    ck_assert_int_eq(v[2], 100000);
    ck_assert(tio_read_values(path("a.npy"), DT_U8, 3, v, err, sizeof err) != 0);
    ck_assert(strstr(err, ".npy dtype is i32, the input needs u8") != NULL);
    ck_assert(tio_read_values(path("a.npy"), DT_I32, 4, v, err, sizeof err) != 0);
    ck_assert(strstr(err, "has 3 elements") != NULL);
    uint8_t u[4] = {1, 2, 3, 4};
    npy("b.npy", "|u1", "(2, 2)", u, 4);
    ck_assert_int_eq(tio_read_values(path("b.npy"), DT_U8, 4, v, err, sizeof err), 0);
    npy("c.npy", "<f4", "(1,)", u, 4);
    ck_assert(tio_read_values(path("c.npy"), DT_U8, 1, v, err, sizeof err) != 0);
    put_file("d.npy", "\x93NUMPY\x01\x00\xff\x00{", 11);
    ck_assert(tio_read_values(path("d.npy"), DT_U8, 1, v, err, sizeof err) != 0);
    ck_assert(strstr(err, "past the end") != NULL);
}
END_TEST

Suite *suite_tensorio(void)
{
    Suite *s = suite_create("tensorio");
    TCase *t = tcase_create("files");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, qw_round_trip);
    tcase_add_test(t, qw_truncated_prefixes_rejected);
    tcase_add_test(t, raw_bin_size_checked);
    tcase_add_test(t, npy_inputs);
    suite_add_tcase(s, t);
    return s;
}
