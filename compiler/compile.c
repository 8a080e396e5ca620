/* compile: the compiler pipeline (see compile.h). */
#include "compiler/compile.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/io/tensorio.h"
#include "compiler/dsl/ast.h"
#include "compiler/diag.h"
#include "compiler/dsl/lower.h"

typedef struct yy_buffer_state *YY_BUFFER_STATE;
YY_BUFFER_STATE qnn_scan_bytes(const char *bytes, int len);
void qnn_delete_buffer(YY_BUFFER_STATE b);
int qnnlex_destroy(void);
int qnnparse(void);
void lexer_reset(void);
void parser_set_output(program_ast *p);
void parser_cleanup(void);

int compile_source(const char *name, const char *src, size_t len, unsigned flags, qbc_program *out,
                   FILE *diag_out)
{
    diag_init(name, src, len, diag_out);
    if (memchr(src, 0, len) || len > (size_t)1 << 30) {
        loc l = {1, 1};
        diag_error(l, "not a text file (contains a NUL byte or is too large)");
        return diag_count();
    }
    program_ast ast;
    memset(&ast, 0, sizeof ast);
    lexer_reset();
    parser_set_output(&ast);
    YY_BUFFER_STATE b = qnn_scan_bytes(src, (int)len);
    qnnparse();
    parser_cleanup();
    qnn_delete_buffer(b);
    qnnlex_destroy();
    if (diag_count() == 0)
        lower_program(&ast, flags, out);
    ast_free(&ast);
    return diag_count();
}

int compile_file(const char *path, unsigned flags, qbc_program *out, FILE *diag_out)
{
    char err[512];
    size_t len;
    uint8_t *src = tio_slurp(path, (size_t)64 << 20, &len, err, sizeof err);
    if (!src) {
        fprintf(diag_out ? diag_out : stderr, "qnnc: %s\n", err);
        return 1;
    }
    int n = compile_source(path, (const char *)src, len, flags, out, diag_out);
    free(src);
    return n;
}
