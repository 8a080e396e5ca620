/* driver: main() for every fuzz harness (tests/fuzz/README.md).
 *
 * A harness is one file tests/fuzz/NAME.c defining
 *     int fuzz_one(const uint8_t *data, size_t len);
 * which feeds the bytes to one input surface and returns 0 whatever the
 * bytes are: a refused input is a normal outcome, only a crash, a sanitizer
 * report, an abort or a hang is a finding.
 *
 * Built by AFL++'s compiler (__AFL_FUZZ_TESTCASE_LEN defined), the driver
 * runs in persistent mode with shared-memory test cases: one process runs
 * thousands of inputs, so a harness must not keep state between calls.
 * Built by the ordinary compiler, it runs fuzz_one once per file named on
 * the command line (the regression corpora under ASan + UBSan) and exits 0
 * when all of them came back, so one crash is one failing process. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/tensorio.h"
#include "fuzz.h"

void fuzz_note(const char *surface, const char *why)
{
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz %s: %s\n", surface, why);
}

FILE *fuzz_sink(void)
{
    static FILE *f;
    if (!f && !(f = fopen("/dev/null", "w")))
        abort();
    return f;
}

/* The fuzzers run inputs by the thousand on a shared machine: a much lower
 * memory cap than a real run's keeps each one small, and exercises the
 * refusal paths with sizes a fuzzer can reach. */
static void limits(void)
{
    setenv("QNN_MAX_MEMORY", "256M", 0);
}

#ifdef __AFL_FUZZ_TESTCASE_LEN
#include <unistd.h> /* read(), in the macro above outside afl-fuzz: standard input */
__AFL_FUZZ_INIT();

int main(void)
{
    limits();
    __AFL_INIT();
    const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(10000)) {
        /* a copy of exactly len bytes: AddressSanitizer sees a read past
         * the end, which the larger shared buffer would hide */
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            abort();
        memcpy(copy, buf, len);
        fuzz_one(copy, len);
        free(copy);
    }
    return 0;
}
#else
int main(int argc, char **argv)
{
    limits();
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...   runs the harness on each file\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char err[512];
        size_t len;
        uint8_t *buf = tio_slurp(argv[i], (size_t)64 << 20, &len, err, sizeof err);
        if (!buf) {
            fprintf(stderr, "fuzz: %s\n", err);
            return 2;
        }
        /* an exact-size copy: tio_slurp's buffer has room past the end,
         * where a read beyond len would go unnoticed */
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            abort();
        memcpy(copy, buf, len);
        free(buf);
        fuzz_one(copy, len);
        free(copy);
    }
    return 0;
}
#endif
