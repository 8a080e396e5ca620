/* compile: source text to program, the compiler's whole pipeline
 * (lex, parse, check, lower, schedule) behind one call. */
#ifndef COMPILE_H
#define COMPILE_H

#include <stdio.h>

#include "vm/bytecode.h"

/* flags: COMPILE_PROVEN_BOUNDS (qnnc --proven-bounds) ignores acc_bound=
 * and refuses, at the layer, a program needing any bound that its inputs'
 * dtype ranges do not imply (vm/bounds.h): what an actively secure
 * protocol may run. COMPILE_FIELD (qnnc --field) refuses, at the layer, a
 * program one of whose values could leave (-2^63, 2^63) for inputs in their
 * dtype ranges (vm_check_fit): what a prime-field protocol computes as the
 * ring does. COMPILE_LATE_INPUTS (qnnc --late-inputs) inputs each value
 * just before its first use instead of at the start (emit.h). */
enum { COMPILE_PROVEN_BOUNDS = 1, COMPILE_FIELD = 2, COMPILE_LATE_INPUTS = 4 };

/* Returns the number of errors (0: out holds the program). Messages go to
 * diag_out as file:line:col: error: ... with the source line and a caret. */
int compile_source(const char *name, const char *src, size_t len, unsigned flags, qbc_program *out,
                   FILE *diag_out);
/* The same for a file; errors reading it count as one. */
int compile_file(const char *path, unsigned flags, qbc_program *out, FILE *diag_out);

#endif
