/* diag: compile errors, collected with their locations and printed as
 *   file:line:col: error: message
 *       the source line
 *       ^
 * so that one run reports every error it finds. */
#ifndef DIAG_H
#define DIAG_H

#include <stdio.h>

#include "compiler/dsl/ast.h"

/* Messages go to out (stderr when NULL). */
void diag_init(const char *file, const char *src, size_t len, FILE *out);
void diag_error(loc at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int diag_count(void);

#endif
