/* lower: checks a parsed program (names, dtypes, shapes, quantization) and
 * lowers each layer to vector instructions with TensorFlow Lite's integer
 * semantics. Errors go to diag with the location of the offending value. */
#ifndef LOWER_H
#define LOWER_H

#include "vm/bytecode.h"
#include "compiler/dsl/ast.h"

/* Returns 0 and fills out, or -1 after reporting errors. proven_bounds:
 * acc_bound= is ignored and the program must pass vm_check_bounds
 * (compile.h's COMPILE_PROVEN_BOUNDS). */
int lower_program(const program_ast *ast, int proven_bounds, qbc_program *out);

#endif
