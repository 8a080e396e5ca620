/* emit: builds a bytecode program: registers, constants, the header tables
 * and the instruction list, then schedules the instructions into rounds.
 *
 * Scheduling: each instruction gets a level, the number of communicating
 * instructions on the longest dependency chain that ends in it. Code is laid
 * out as: locals of level 0, ROUND block of level 1, locals of level 1, ...
 * so every set of independent communicating instructions shares its rounds.
 * With late_inputs, inputs, and local instructions on inputs alone, then
 * sink to the latest level their readers allow (no added block: weights
 * join the comparisons' block before their first use, not the first). */
#ifndef EMIT_H
#define EMIT_H

#include "vm/bytecode.h"

typedef struct {
    uint32_t a[OP_MAX_OPERANDS];
    uint8_t op;
    uint8_t flags; /* QBC_LAZY */
} einsn;

typedef struct {
    qbc_program p;   /* header tables, registers and constants being built */
    einsn *ins;
    size_t nins, cap;
    uint32_t caps[6];
    int late_inputs; /* sink inputs to their first use (qnnc --late-inputs) */
} emitter;

void em_init(emitter *e);
uint32_t em_sreg(emitter *e, uint64_t len);
uint32_t em_const(emitter *e, const int64_t *vals, uint32_t len);
uint32_t em_const1(emitter *e, int64_t v);
void em_insn(emitter *e, int op, const uint32_t *ops, int n);
/* adds flags to instruction i (0-based, in emission order) */
void em_flag(emitter *e, size_t i, uint32_t flags);
#define EMIT(e, op, ...)                                                               \
    em_insn((e), (op), (const uint32_t[]){__VA_ARGS__},                                \
            (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))
uint32_t em_party(emitter *e, const char *name);
uint32_t em_input(emitter *e, const qbc_input *in);
uint32_t em_output(emitter *e, const qbc_output *o);
uint32_t em_layer(emitter *e, const qbc_layer *l);
/* Schedules the instructions into e->p.code and hands over the program. */
void em_finish(emitter *e, qbc_program *out);
void em_free(emitter *e);

#endif
