/* tflite: fuzzes `qnnc import MODEL.tflite`: the flatbuffer reader and
 * the importer, then (the invariant checked, as qnnc import does) the
 * compilation of the program it wrote, which must succeed. The output mode
 * comes from the length so that every mode is exercised. */
#include <stdlib.h>
#include <string.h>

#include "../../compiler/compile.h"
#include "../../compiler/tflite.h"
#include "fuzz.h"

int fuzz_one(const uint8_t *data, size_t len)
{
    tfl_result r;
    char err[512];
    if (tfl_import(data, len, "fuzz", (enum tfl_output)(len % 3), &r, err, sizeof err) != 0) {
        fuzz_note("tflite", err);
        return 0;
    }
    qbc_program p;
    FILE *sink = fuzz_sink();
    if (compile_source("fuzz.qnn", r.qnn, strlen(r.qnn), &p, sink) != 0) {
        compile_source("fuzz.qnn", r.qnn, strlen(r.qnn), &p, stderr);
        fprintf(stderr, "fuzz tflite: the imported program does not compile:\n%s", r.qnn);
        abort();
    }
    qbc_free(&p);
    tfl_free(&r);
    return 0;
}
