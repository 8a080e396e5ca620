/* dsl: fuzzes the .qnn compiler as `qnnc FILE.qnn -o FILE.qbc` runs it:
 * compile, serialize, and (the invariant checked) load the result back
 * through the bytecode validator, which must accept whatever the compiler
 * produced. */
#include <stdlib.h>

#include "compiler/compile.h"
#include "fuzz.h"

int fuzz_one(const uint8_t *data, size_t len)
{
    qbc_program p;
    FILE *diag = getenv("FUZZ_VERBOSE") ? stderr : fuzz_sink();
    if (compile_source("fuzz.qnn", (const char *)data, len, 0, &p, diag) != 0)
        return 0;
    size_t n;
    uint8_t *bytes = qbc_write(&p, &n);
    qbc_free(&p);
    if (!bytes)
        return 0;
    char err[512];
    if (qbc_load(bytes, n, &p, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz dsl: the compiled program does not load: %s\n", err);
        abort();
    }
    qbc_free(&p);
    free(bytes);
    return 0;
}
