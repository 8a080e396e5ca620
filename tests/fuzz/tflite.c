/* tflite: fuzzes `qnnc import MODEL.tflite`: the flatbuffer reader and
 * the importer, then the compilation of the program it wrote, as qnnc
 * import does. The importer leaves shape and quantization consistency to
 * the compiler, so a compile error is a normal refusal; what must not
 * happen (abort) is text the DSL cannot lex or parse: the importer has to
 * write well-formed statements whatever the model holds. The output mode
 * comes from the length so that every mode is exercised. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "compiler/tflite/tflite.h"
#include "fuzz.h"

int fuzz_one(const uint8_t *data, size_t len)
{
    tfl_result r;
    char err[512];
    if (tfl_import(data, len, "fuzz", (enum tfl_output)(len % 3), (unsigned)(len / 3 % 4), &r, err, sizeof err) != 0) {
        fuzz_note("tflite", err);
        return 0;
    }
    char *msgs = NULL;
    size_t mlen = 0;
    FILE *diag = open_memstream(&msgs, &mlen);
    if (!diag)
        abort();
    qbc_program p;
    int n = compile_source("fuzz.qnn", r.qnn, strlen(r.qnn), 0, &p, diag);
    fclose(diag);
    if (n == 0)
        qbc_free(&p);
    else if (strstr(msgs, "unexpected") || strstr(msgs, "syntax")) {
        fprintf(stderr, "fuzz tflite: the importer wrote a malformed program:\n%s%s", msgs, r.qnn);
        abort();
    } else
        fuzz_note("tflite compile", msgs);
    free(msgs);
    tfl_free(&r);
    return 0;
}
