/* disasm: prints a program's header tables and code in readable form. */
#ifndef DISASM_H
#define DISASM_H

#include <stdio.h>

#include "vm/bytecode.h"

void disasm_program(FILE *out, const qbc_program *p);

#endif
