/* compile: source text to program, the compiler's whole pipeline
 * (lex, parse, check, lower, schedule) behind one call. */
#ifndef COMPILE_H
#define COMPILE_H

#include <stdio.h>

#include "vm/bytecode.h"

/* Returns the number of errors (0: out holds the program). Messages go to
 * diag_out as file:line:col: error: ... with the source line and a caret. */
int compile_source(const char *name, const char *src, size_t len, qbc_program *out,
                   FILE *diag_out);
/* The same for a file; errors reading it count as one. */
int compile_file(const char *path, qbc_program *out, FILE *diag_out);

#endif
