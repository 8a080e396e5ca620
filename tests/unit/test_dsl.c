/* The DSL tests: every tests/dsl/NAME.qnn is one test. Its comments say
 * what must happen:
 *   # error: MESSAGE            an error with exactly MESSAGE on this line
 *   # error at L:C: MESSAGE     an error with MESSAGE at line L, column C
 *   # input NAME = v v v ...    exact values for an input (others: random)
 *   # expect: NAME = v v v ...  the values output NAME delivers, in clear
 * A file without error lines must compile and have expect lines; one with
 * them must report exactly those errors and no others. A file that asks
 * for nothing is itself an error. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/tensorio.h"
#include "vm/vm.h"
#include "helpers.h"

#define MAX_ERRORS 64 /* error lines per file */
static char **files;
static int nfiles;

static const char *dsl_dir(void)
{
    const char *d = getenv("QNN_DSL_TESTS");
    return d ? d : "tests/dsl";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(void)
{
    DIR *d = opendir(dsl_dir());
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".qnn") == 0) {
            char **f = realloc(files, (size_t)(nfiles + 1) * sizeof *files);
            if (!f || !(f[nfiles] = strdup(e->d_name)))
                abort();
            files = f;
            nfiles++;
        }
    }
    if (d)
        closedir(d);
    qsort(files, (size_t)nfiles, sizeof *files, cmp_str);
}

/* Splits "v v v" into values; returns the count. */
static int parse_values(const char *s, int64_t *v, int max)
{
    int n = 0;
    char *end;
    while (n < max) {
        long long x = strtoll(s, &end, 10);
        if (end == s)
            break;
        v[n++] = x;
        s = end;
    }
    return n;
}

static int check_expectations(const char *src, th_run *r, const char *name)
{
    char err[256];
    /* inputs given by the file replace the random ones */
    for (const char *p = strstr(src, "# input "); p; p = strstr(p + 1, "# input ")) {
        char tn[64];
        int off;
        ck_assert_msg(sscanf(p, "# input %63s =%n", tn, &off) == 1, "%s: bad '# input' line", name);
        int s = th_input(r, tn);
        ck_assert_msg(s >= 0, "%s: no input '%s'", name, tn);
        uint64_t n = shape_elems(&r->p.inputs[s].shape);
        int64_t v[4096];
        int got = parse_values(p + off, v, 4096);
        ck_assert_msg((uint64_t)got == n, "%s: input %s needs %llu values, got %d", name, tn,
                      (unsigned long long)n, got);
        memcpy(r->in[s], v, n * sizeof(int64_t));
    }
    ck_assert_msg(th_run_clear(r, err, sizeof err) == 0, "%s: %s", name, err);
    int expects = 0;
    for (const char *p = strstr(src, "# expect: "); p; p = strstr(p + 1, "# expect: ")) {
        char on[64];
        int off;
        ck_assert_msg(sscanf(p, "# expect: %63s =%n", on, &off) == 1, "%s: bad expect", name);
        uint32_t o = 0;
        while (o < r->p.noutputs && strcmp(r->p.outputs[o].name, on) != 0)
            o++;
        ck_assert_msg(o < r->p.noutputs, "%s: no output '%s'", name, on);
        const qbc_output *out = &r->p.outputs[o];
        uint64_t n = out->kind == OUT_ARGMAX ? 1 : shape_elems(&out->shape);
        int64_t want[4096], *res = calloc(n, sizeof *res);
        int got = parse_values(p + off, want, 4096);
        vm_finish_output(out, r->out[o], res, n);
        ck_assert_msg((uint64_t)got == n, "%s: output %s has %llu values, expect line %d", name,
                      on, (unsigned long long)n, got);
        for (uint64_t i = 0; i < n; i++)
            ck_assert_msg(res[i] == want[i], "%s: %s[%llu] = %lld, expected %lld", name, on,
                          (unsigned long long)i, (long long)res[i], (long long)want[i]);
        free(res);
        expects++;
    }
    return expects;
}

START_TEST(dsl_file)
{
    ck_assert_msg(_i < nfiles, "no DSL tests found in %s", dsl_dir());
    const char *name = files[_i];
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s", dsl_dir(), name);
    size_t len;
    char *src = (char *)tio_slurp(path, 1 << 20, &len, err, sizeof err);
    ck_assert_msg(src != NULL, "%s", err);
    char *text = malloc(len + 1);
    memcpy(text, src, len);
    text[len] = 0;
    free(src);

    /* the expected messages, in file order */
    char want[MAX_ERRORS][512];
    int nwant = 0, line = 1;
    for (const char *p = text; *p; line++) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        const char *e = strstr(p, "# error");
        if (e && e < p + ll) {
            ck_assert_msg(nwant < MAX_ERRORS, "%s:%d: more than %d error lines", name, line, MAX_ERRORS);
            int l, c, off = 0;
            const char *msg;
            if (sscanf(e, "# error at %d:%d: %n", &l, &c, &off) == 2 && off > 0) {
                msg = e + off;
                snprintf(want[nwant], sizeof want[nwant], "test.qnn:%d:%d: error: %.*s", l, c,
                         (int)(p + ll - msg), msg);
            } else {
                ck_assert_msg(strncmp(e, "# error: ", 9) == 0, "%s:%d: bad error line", name, line);
                msg = e + 9;
                snprintf(want[nwant], sizeof want[nwant], "test.qnn:%d:*: error: %.*s", line,
                         (int)(p + ll - msg), msg);
            }
            nwant++;
        }
        p += ll + (eol ? 1 : 0);
    }

    th_run r;
    memset(&r, 0, sizeof r);
    char msgs[16384];
    int nerr = th_compile(text, &r.p, msgs, sizeof msgs);
    /* the reported messages: lines that start with test.qnn: */
    int got = 0;
    for (char *p = msgs; *p;) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = 0;
        if (strncmp(p, "test.qnn:", 9) == 0) {
            ck_assert_msg(got < nwant, "%s: unexpected error: %s", name, p);
            const char *w = want[got];
            const char *star = strstr(w, ":*:");
            if (star) { /* any column */
                size_t pre = (size_t)(star - w) + 1;
                const char *rest = strchr(p + pre, ':');
                ck_assert_msg(strncmp(p, w, pre) == 0 && rest && strcmp(rest, star + 2) == 0,
                              "%s: got '%s', expected '%s'", name, p, w);
            } else {
                ck_assert_msg(strcmp(p, w) == 0, "%s: got '%s', expected '%s'", name, p, w);
            }
            got++;
        }
        p = eol ? eol + 1 : p + strlen(p);
    }
    ck_assert_msg(got == nwant, "%s: %d errors reported, %d expected", name, got, nwant);
    ck_assert_int_eq(nerr, nwant);
    if (nwant == 0) {
        th_random_inputs(&r, 1, 3000);
        ck_assert_msg(check_expectations(text, &r, name) > 0,
                      "%s: no '# expect:' or '# error' line: the test would assert nothing", name);
    }
    th_free(&r);
    free(text);
}
END_TEST

Suite *suite_dsl(void)
{
    collect();
    Suite *s = suite_create("dsl");
    TCase *t = tcase_create("files");
    tcase_add_loop_test(t, dsl_file, 0, nfiles > 0 ? nfiles : 1);
    suite_add_tcase(s, t);
    return s;
}
