/* lower: checks a parsed program (names, dtypes, shapes, quantization) and
 * lowers each layer to vector instructions with TensorFlow Lite's integer
 * semantics. Errors go to diag with the location of the offending value. */
#ifndef LOWER_H
#define LOWER_H

#include "vm/bytecode.h"
#include "compiler/dsl/ast.h"

/* Returns 0 and fills out, or -1 after reporting errors. flags are
 * compile.h's: COMPILE_PROVEN_BOUNDS ignores acc_bound= and the program
 * must pass vm_check_bounds; COMPILE_FIELD, vm_check_fit at 63 bits. */
int lower_program(const program_ast *ast, unsigned flags, qbc_program *out);

#endif
